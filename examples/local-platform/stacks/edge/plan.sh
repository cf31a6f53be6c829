#!/bin/sh
# Plans the routing config: creates local/<slot>/routes.conf, or updates its upstream lines when
# ports.conf changed. Writes the plan JSON and the artifact (the exact lines to write). Changes
# nothing.
. ./common.sh
: "${AIRLOCK_PLAN_JSON:?is not set (Airlock sets it for plan)}"
: "${AIRLOCK_PLAN_FILE:?is not set (Airlock sets it for plan)}"
have=$(current_sha)
want=$(desired | sha256sum | cut -d' ' -f1)
if [ "$have" = - ]; then action=create; before=null
elif [ "$have" = "$want" ]; then action=no-op; before="{\"path\":\"$LOCAL/routes.conf\",\"sha256\":\"$have\"}"
else action=update; before="{\"path\":\"$LOCAL/routes.conf\",\"sha256\":\"$have\"}"; fi
{ echo "edge-plan 1 $SLOT $have $want"; desired; } > "$AIRLOCK_PLAN_FILE"
printf '{"format_version":"1.2","resource_changes":[{"address":"edge_routes.web","mode":"managed","type":"edge_routes","name":"web","provider_name":"local/edge","change":{"actions":["%s"],"before":%s,"after":{"path":"%s","sha256":"%s"},"after_unknown":{}}}]}\n' \
  "$action" "$before" "$LOCAL/routes.conf" "$want" > "$AIRLOCK_PLAN_JSON"
echo "edge $LOCAL/routes.conf: $action"
