#!/bin/sh
# Starts web $AIRLOCK_VERSION (from $AIRLOCK_ARTIFACT_DIR) in colour $AIRLOCK_COLOR of this slot,
# on the loopback port the edge gives that colour, replacing whatever ran in that colour. Traffic
# does not move: switch.sh does that. Writes url=… for the health checks.
#
# Demo fault injection, stated plainly: a line "<version> <region>" in the artifact's
# inject-fault file (from app/inject-fault at build time) starts that version in that region with
# --unhealthy-after 1: /health passes once (the check before the switch), then fails, as a
# defect that shows only under live traffic would.
. ./app/common.sh
port=$(port_of "$COLOR")
mkdir -p "$DIR"
pidfile="$DIR/web-$COLOR.pid"
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile")
  # Only while that pid is still our instance: once it has exited, any process may get its pid.
  if [ ! -d /proc ] || tr '\0' ' ' < "/proc/$old/cmdline" 2>/dev/null | grep -q "Airlock.SampleApp.dll --port $port "; then
    kill "$old" 2>/dev/null || true
    # Its port is free once it has exited: wait for that (a loaded machine can take seconds), at most 10 s.
    i=0
    while [ $i -lt 100 ] && kill -0 "$old" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
  fi
  rm -f "$pidfile"
fi
fault=""
if [ -f "$AIRLOCK_ARTIFACT_DIR/inject-fault" ] && grep -qx "$AIRLOCK_VERSION ${AIRLOCK_REGION:-}" "$AIRLOCK_ARTIFACT_DIR/inject-fault"; then
  fault="--unhealthy-after 1"
  echo "injected fault: web $AIRLOCK_VERSION in ${AIRLOCK_REGION:-} fails /health after its first check"
fi
nohup dotnet "$AIRLOCK_ARTIFACT_DIR/Airlock.SampleApp.dll" --port "$port" --version "$AIRLOCK_VERSION" --color "$COLOR" $fault \
  < /dev/null > "$DIR/web-$COLOR.log" 2>&1 &
echo $! > "$pidfile"
echo "url=http://127.0.0.1:$port" >> "$AIRLOCK_OUTPUTS"
echo "web $AIRLOCK_VERSION starting in $SLOT on 127.0.0.1:$port ($COLOR)"
