#!/bin/sh
# Applies the plan artifact exactly: refuses a stale plan, then writes the planned upstream lines
# to local/<slot>/routes.conf (keeping the switch's "live" line) by rename, so the edge never
# reads half a file, and advances the serial.
. ./common.sh
: "${AIRLOCK_PLAN_FILE:?is not set (Airlock sets it for apply)}"
read -r magic format slot have want < "$AIRLOCK_PLAN_FILE" || true
[ "${magic:-} ${format:-}" = "edge-plan 1" ] || fail "$AIRLOCK_PLAN_FILE is not a plan of plan.sh"
[ "$slot" = "$SLOT" ] || fail "the plan was made for $slot, not $SLOT"
[ "$(current_sha)" = "$have" ] || { echo "Error: Saved plan is stale: $LOCAL/routes.conf changed since the plan; plan again" >&2; exit 1; }
if [ "$have" = "$want" ]; then echo "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."; exit 0; fi

mkdir -p "$DIR"
if [ "$have" = - ]; then echo "edge_routes.web: Creating..."; else echo "edge_routes.web: Modifying..."; fi
{
  echo "# routing for $SLOT: upstreams managed by the edge stack; 'live' set by the web app's switch"
  tail -n +2 "$AIRLOCK_PLAN_FILE"
  if [ -f "$ROUTES" ]; then grep '^live ' "$ROUTES" || true; fi
} > "$ROUTES.new"
mv "$ROUTES.new" "$ROUTES"
printf 'serial=%s\nsha=%s\n' "$(( $(state_serial) + 1 ))" "$want" > "$STATE.new" && mv "$STATE.new" "$STATE"
if [ "$have" = - ]; then
  echo "edge_routes.web: Creation complete after 0s [id=$LOCAL/routes.conf]"
  echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
else
  echo "edge_routes.web: Modifications complete after 0s [id=$LOCAL/routes.conf]"
  echo "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
fi
