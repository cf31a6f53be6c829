#!/bin/sh
# Plans the database: creating the SQLite file if it does not exist, then every migration in
# migrations/ not yet recorded in its schema_migrations table. Writes
#   $AIRLOCK_PLAN_JSON  Terraform-format plan JSON (what Airlock summarises and people approve);
#   $AIRLOCK_PLAN_FILE  the artifact apply.sh runs: each pending migration's exact SQL, so apply
#                       runs what was approved even if migrations/ changes afterwards.
# Changes nothing.
. ./common.sh
: "${AIRLOCK_PLAN_JSON:?is not set (Airlock sets it for plan)}"
: "${AIRLOCK_PLAN_FILE:?is not set (Airlock sets it for plan)}"

done_ids=$(applied)
count=$(printf '%s' "$done_ids" | grep -c . || true)
echo "db-plan 1 $SLOT $count" > "$AIRLOCK_PLAN_FILE.tmp"
printf '{"format_version":"1.2","resource_changes":[' > "$AIRLOCK_PLAN_JSON.tmp"

if [ -f "$DB" ]; then db_action=no-op; before='{"path":"'"$LOCAL/app.db"'"}'; else db_action=create; before=null; fi
printf '\n{"address":"sqlite_database.app","mode":"managed","type":"sqlite_database","name":"app","provider_name":"local/sqlite","change":{"actions":["%s"],"before":%s,"after":{"path":"%s"},"after_unknown":{}}}' \
  "$db_action" "$before" "$LOCAL/app.db" >> "$AIRLOCK_PLAN_JSON.tmp"
if [ "$db_action" = create ]; then echo "  # sqlite_database.app will be created ($LOCAL/app.db)"; fi

pending=0
for id in $(migrations); do
  if printf '%s\n' "$done_ids" | grep -qxF "$id"; then continue; fi
  sha=$(hash_of "migrations/$id.sql")
  printf ',\n{"address":"sqlite_migration.m%s","mode":"managed","type":"sqlite_migration","name":"m%s","provider_name":"local/sqlite","change":{"actions":["create"],"before":null,"after":{"id":"%s","sha256":"%s"},"after_unknown":{}}}' \
    "$id" "$id" "$id" "$sha" >> "$AIRLOCK_PLAN_JSON.tmp"
  echo "$id $sha $(base64 -w0 < "migrations/$id.sql")" >> "$AIRLOCK_PLAN_FILE.tmp"
  echo "  # sqlite_migration.m$id will be applied"
  pending=$((pending + 1))
done

printf '\n]}\n' >> "$AIRLOCK_PLAN_JSON.tmp"
mv "$AIRLOCK_PLAN_JSON.tmp" "$AIRLOCK_PLAN_JSON"
mv "$AIRLOCK_PLAN_FILE.tmp" "$AIRLOCK_PLAN_FILE"
echo "database $LOCAL/app.db: $pending migration(s) to apply"
