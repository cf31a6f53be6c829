# Shared by the edge scripts (sourced as ". ./common.sh" from stacks/edge). The edge's resource is
# local/<slot>/routes.conf: "upstream blue|green 127.0.0.1:PORT" lines from ports.conf, managed
# here, and one "live <colour>" line owned by the application's switch (as Terraform's
# ignore_changes would), so a switch is never drift. State: local/<slot>/edge.state.
ROOT=../..
. "$ROOT/lib/platform.sh"
ROUTES="$DIR/routes.conf"
STATE="$DIR/edge.state"     # "serial=N", "sha=<sha256 of the managed lines>"

ports() { awk -v s="$SLOT" '$1 == s { print $2, $3 }' ports.conf; }

# The managed lines as they should be.
desired() {
  set -- $(ports)
  [ $# -eq 2 ] || fail "ports.conf has no 'blue green' ports for $SLOT"
  echo "upstream blue 127.0.0.1:$1"
  echo "upstream green 127.0.0.1:$2"
}

# The managed lines as they are ("-" when there is no routes file).
current_sha() {
  if [ -f "$ROUTES" ]; then grep '^upstream ' "$ROUTES" | sha256sum | cut -d' ' -f1; else echo -; fi
}

state_serial() { if [ -f "$STATE" ]; then sed -n 's/^serial=//p' "$STATE"; else echo 0; fi; }
