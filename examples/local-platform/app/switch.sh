#!/bin/sh
# Moves traffic: sets "live $AIRLOCK_COLOR" in the edge's local/<slot>/routes.conf (by rename, so
# the edge never reads half a file). Writes url=… of the now-live colour for the health checks.
. ./app/common.sh
routes="$DIR/routes.conf"
[ -f "$routes" ] || fail "$LOCAL/routes.conf does not exist (apply the edge stack first)"
{ grep -v '^live ' "$routes"; echo "live $COLOR"; } > "$routes.new"
mv "$routes.new" "$routes"
echo "url=http://127.0.0.1:$(port_of "$COLOR")" >> "$AIRLOCK_OUTPUTS"
echo "traffic in $SLOT now goes to $COLOR"
