#!/bin/sh
# Applies the plan artifact made by plan.sh, exactly: refuses a stale plan (the database gained
# migrations since the plan) before changing anything, then runs each planned migration in its
# own transaction together with its schema_migrations row, so the table never claims a migration
# that did not commit. Progress lines use OpenTofu's wording, which Airlock reads.
. ./common.sh
: "${AIRLOCK_PLAN_FILE:?is not set (Airlock sets it for apply)}"
read -r magic format slot planned_count < "$AIRLOCK_PLAN_FILE" || true
[ "${magic:-} ${format:-}" = "db-plan 1" ] || fail "$AIRLOCK_PLAN_FILE is not a plan of plan.sh"
[ "$slot" = "$SLOT" ] || fail "the plan was made for $slot, not $SLOT"
now=$(applied | grep -c . || true)
[ "$now" = "$planned_count" ] || { echo "Error: Saved plan is stale: $now migrations applied now, $planned_count when planned; plan again" >&2; exit 1; }

mkdir -p "$DIR"
if [ ! -f "$DB" ]; then
  echo "sqlite_database.app: Creating..."
  sql "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL);" >/dev/null
  echo "sqlite_database.app: Creation complete after 0s [id=$LOCAL/app.db]"
  added=1
else
  added=0
fi

tail -n +2 "$AIRLOCK_PLAN_FILE" | while read -r id sha data; do
  migration=$(printf '%s' "$data" | base64 -d)
  [ "$(printf '%s' "$data" | base64 -d | sha256sum | cut -d' ' -f1)" = "$sha" ] || fail "the plan artifact is corrupt ($id)"
  echo "sqlite_migration.m$id: Creating..."
  printf 'BEGIN;\n%s\nINSERT INTO schema_migrations (id, sha256, applied_at) VALUES ('"'%s'"', '"'%s'"', datetime('"'now'"'));\nCOMMIT;\n' \
    "$migration" "$id" "$sha" | sql "$DB"
  echo "sqlite_migration.m$id: Creation complete after 0s [id=$id]"
done
migrations_added=$(( $(tail -n +2 "$AIRLOCK_PLAN_FILE" | grep -c . || true) ))
echo "Apply complete! Resources: $((added + migrations_added)) added, 0 changed, 0 destroyed."
