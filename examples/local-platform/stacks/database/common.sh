# Shared by the database scripts (sourced as ". ./common.sh" from stacks/database).
ROOT=../..
. "$ROOT/lib/platform.sh"
# SQL on a SQLite file: sql FILE [SQL] (SQL from stdin when not given; stops at the first error, rows
# printed as a|b|c). It is the sample app's "sqlite" mode (Microsoft.Data.Sqlite), which ships beside
# airlock, so this stack needs .NET rather than the sqlite3 command.
: "${SAMPLE_APP_DIR:?points at the built samples/Airlock.SampleApp (airlock demo sets it)}"
[ -f "$SAMPLE_APP_DIR/Airlock.SampleApp.dll" ] || fail "no Airlock.SampleApp.dll in $SAMPLE_APP_DIR"
sql() { dotnet "$SAMPLE_APP_DIR/Airlock.SampleApp.dll" sqlite "$@"; }
DB="$DIR/app.db"

# Migration ids already applied, one per line (none before the database exists).
applied() {
  if [ -f "$DB" ]; then sql "$DB" "SELECT id FROM schema_migrations ORDER BY id;"; fi
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
