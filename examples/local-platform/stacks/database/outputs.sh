#!/bin/sh
# Outputs as one JSON object: where the database is and its schema version (the last migration).
. ./common.sh
last=$(applied | tail -n 1)
printf '{"path":"%s","schema_version":"%s"}\n' "$LOCAL/app.db" "${last%%_*}"
