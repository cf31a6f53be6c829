# Shared by the database scripts (sourced as ". ./common.sh" from stacks/database).
ROOT=../..
. "$ROOT/lib/platform.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (apt-get install sqlite3)"
DB="$DIR/app.db"

# Migration ids already applied, one per line (none before the database exists).
applied() {
  if [ -f "$DB" ]; then sqlite3 "$DB" "SELECT id FROM schema_migrations ORDER BY id;"; fi
}

# Migration files in order: migrations/NNN_name.sql; the id is the file name without .sql.
migrations() {
  for file in migrations/*.sql; do
    [ -e "$file" ] || continue
    name=${file#migrations/}
    case "$name" in [0-9][0-9][0-9]_*.sql) ;; *) fail "$file: migrations are named NNN_name.sql" ;; esac
    echo "${name%.sql}"
  done
}
