#!/bin/sh
# Verification after apply: SQLite's integrity check passes and every migration file is applied
# with the content it has now (an edited, already-applied migration is reported).
. ./common.sh
[ -f "$DB" ] || fail "$LOCAL/app.db does not exist"
[ "$(sql "$DB" 'PRAGMA integrity_check;')" = ok ] || fail "$LOCAL/app.db fails PRAGMA integrity_check"
for id in $(migrations); do
  recorded=$(sql "$DB" "SELECT sha256 FROM schema_migrations WHERE id = '$id';")
  [ -n "$recorded" ] || fail "migration $id is not applied"
  [ "$recorded" = "$(hash_of "migrations/$id.sql")" ] || fail "migration $id was edited after it was applied"
done
echo "database $LOCAL/app.db: integrity ok, $(applied | grep -c .) migrations applied"
