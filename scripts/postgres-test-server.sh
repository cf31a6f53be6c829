#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster on a loopback port for the test suite.
#   scripts/postgres-test-server.sh start   -> prints the connection string on stdout
#   scripts/postgres-test-server.sh stop
# Installs PostgreSQL from Debian packages if it is missing. State lives in $PGTEST_DIR
# (default /tmp/airlock-pgtest), never in the repository.
set -euo pipefail
PGTEST_DIR="${PGTEST_DIR:-/tmp/airlock-pgtest}"
PGTEST_PORT="${PGTEST_PORT:-55432}"

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/initdb" ]]; then echo "$dir"; return 0; fi
  done
  return 1
}

install_if_missing() {
  if ! find_bin >/dev/null; then
    echo "installing PostgreSQL from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

as_postgres() {
  if [[ "$(id -u)" == "0" ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Test projects run in parallel and may all ask for the server at once: serialise.
# (The server itself must not inherit this descriptor, or it would hold the lock forever.)
exec 9>"/tmp/airlock-pgtest.lock"
flock 9

case "${1:-start}" in
  start)
    install_if_missing
    BIN="$(find_bin)"
    if [[ -f "$PGTEST_DIR/data/postmaster.pid" ]] && as_postgres "$BIN/pg_ctl" -D "$PGTEST_DIR/data" status >/dev/null 2>&1; then
      echo "Host=127.0.0.1;Port=$PGTEST_PORT;Username=airlock;Password=airlock;Database=airlock"
      exit 0
    fi
    rm -rf "$PGTEST_DIR"
    mkdir -p "$PGTEST_DIR"
    if [[ "$(id -u)" == "0" ]]; then chown postgres:postgres "$PGTEST_DIR"; fi
    echo "airlock" > "$PGTEST_DIR/pw"
    if [[ "$(id -u)" == "0" ]]; then chown postgres:postgres "$PGTEST_DIR/pw"; fi
    as_postgres "$BIN/initdb" -D "$PGTEST_DIR/data" -U airlock --pwfile="$PGTEST_DIR/pw" -A scram-sha-256 >/dev/null
    as_postgres "$BIN/pg_ctl" -D "$PGTEST_DIR/data" -l "$PGTEST_DIR/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PGTEST_PORT -k $PGTEST_DIR -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null 9>&-
    PGPASSWORD=airlock "$BIN/psql" -h 127.0.0.1 -p "$PGTEST_PORT" -U airlock -d postgres -qc "CREATE DATABASE airlock" >/dev/null
    echo "Host=127.0.0.1;Port=$PGTEST_PORT;Username=airlock;Password=airlock;Database=airlock"
    ;;
  stop)
    if BIN="$(find_bin)" && [[ -d "$PGTEST_DIR/data" ]]; then
      as_postgres "$BIN/pg_ctl" -D "$PGTEST_DIR/data" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGTEST_DIR"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
