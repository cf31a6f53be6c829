#!/bin/sh
# Outputs: the routing config and the port of each colour (the web app's deploy reads them).
. ./common.sh
if [ ! -f "$ROUTES" ]; then echo '{}'; exit 0; fi
port() { sed -n "s/^upstream $1 127\.0\.0\.1:\([0-9]*\)$/\1/p" "$ROUTES"; }
printf '{"routes":"%s","blue_port":%s,"green_port":%s}\n' "$LOCAL/routes.conf" "$(port blue)" "$(port green)"
