#!/bin/sh
# Verification after apply: the routing config's upstream lines are the ones apply wrote.
. ./common.sh
[ -f "$ROUTES" ] || fail "$LOCAL/routes.conf does not exist"
[ "$(current_sha)" = "$(sed -n 's/^sha=//p' "$STATE")" ] || fail "$LOCAL/routes.conf was edited after apply"
echo "edge $LOCAL/routes.conf: upstreams as applied"
