#!/bin/sh
# The router: $RELEASE_WORLD/<env>/<region>/live names the colour that gets traffic.
set -eu
region=${AIRLOCK_REGION:-_}
[ -n "$region" ] || region=_
dir="$RELEASE_WORLD/$AIRLOCK_ENVIRONMENT/$region"
port=$(awk -v e="$AIRLOCK_ENVIRONMENT" -v r="$region" -v c="$AIRLOCK_COLOR" '$1==e && $2==r && $3==c {print $4}' "$RELEASE_WORLD/ports")
echo "$AIRLOCK_COLOR" > "$dir/live"
echo "url=http://127.0.0.1:$port" >> "$AIRLOCK_OUTPUTS"
echo "traffic in $AIRLOCK_ENVIRONMENT/$region now goes to $AIRLOCK_COLOR"
