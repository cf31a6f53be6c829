#!/bin/sh
# Starts the web application ($AIRLOCK_VERSION from the release artifact) in its slot: one
# loopback port per environment, region and colour, from $RELEASE_WORLD/ports. Blue-green deploys into the
# idle colour; direct deploys replace the one slot ("blue").
# Test knob: WEB_UNHEALTHY="<version>@<region>" starts that version with a failing /health there.
set -eu
region=${AIRLOCK_REGION:-_}
[ -n "$region" ] || region=_
color=${AIRLOCK_COLOR:-blue}
[ -n "$color" ] || color=blue
dir="$RELEASE_WORLD/$AIRLOCK_ENVIRONMENT/$region"
mkdir -p "$dir"
port=$(awk -v e="$AIRLOCK_ENVIRONMENT" -v r="$region" -v c="$color" '$1==e && $2==r && $3==c {print $4}' "$RELEASE_WORLD/ports")
[ -n "$port" ] || { echo "no port for $AIRLOCK_ENVIRONMENT/$region/$color in $RELEASE_WORLD/ports" >&2; exit 1; }

if [ -f "$dir/web-$color.pid" ]; then
  old=$(cat "$dir/web-$color.pid")
  # Only while that pid is still our instance: once it has exited, any process may get its pid.
  if [ ! -d /proc ] || tr '\0' ' ' < "/proc/$old/cmdline" 2>/dev/null | grep -q "Airlock.SampleApp.dll --port $port "; then
    kill "$old" 2>/dev/null || true
    # Its port is free once it has exited: wait for that (a loaded machine can take seconds), at most 10 s.
    i=0
    while [ $i -lt 100 ] && kill -0 "$old" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
  fi
  rm -f "$dir/web-$color.pid"
fi
flag=""
if [ "${WEB_UNHEALTHY:-}" = "$AIRLOCK_VERSION@$region" ]; then flag=--unhealthy; fi
nohup dotnet "$AIRLOCK_ARTIFACT_DIR/Airlock.SampleApp.dll" --port "$port" --version "$AIRLOCK_VERSION" --color "$color" $flag < /dev/null > "$dir/web-$color.log" 2>&1 &
echo $! > "$dir/web-$color.pid"
echo "$AIRLOCK_ENVIRONMENT $region $color $AIRLOCK_VERSION $(cat "$AIRLOCK_ARTIFACT_DIR/VERSION")" >> "$RELEASE_WORLD/deploy.log"
echo "url=http://127.0.0.1:$port" >> "$AIRLOCK_OUTPUTS"
echo "web $AIRLOCK_VERSION starting on port $port ($color)"
