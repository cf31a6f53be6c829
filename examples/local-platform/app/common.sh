# Shared by the web application's commands (sourced as ". ./app/common.sh"; Airlock runs them in
# the workspace root). The application runs as samples/Airlock.SampleApp on 127.0.0.1, one process
# per colour, its pid in local/<slot>/web-<colour>.pid and its log beside it.
ROOT=.
. ./lib/platform.sh
COLOR=${AIRLOCK_COLOR:-}
[ -n "$COLOR" ] || COLOR=blue

# A number from the edge stack's outputs ($AIRLOCK_INFRA_OUTPUTS: {"edge":{"blue_port":18081,…},…}).
edge_output() {
  printf '%s' "${AIRLOCK_INFRA_OUTPUTS:-}" | sed -n "s/.*\"edge\":{[^}]*\"$1\":\([0-9][0-9]*\).*/\1/p"
}

port_of() {
  port=$(edge_output "$1_port")
  [ -n "$port" ] || fail "the edge stack has no $1_port output for $SLOT (apply edge first)"
  echo "$port"
}
