# Shared by every script (sourced after setting ROOT to the workspace root, relative to where
# the script runs): which slot (environment, or environment-region in waved environments) we
# act on, and where its resources live: $ROOT/local/<slot>/. Nothing is written elsewhere.
set -eu
export LC_ALL=C

fail() { echo "$(basename "$0"): $*" >&2; exit 1; }

: "${AIRLOCK_ENVIRONMENT:?is not set (Airlock sets it for every command)}"
case "$AIRLOCK_ENVIRONMENT${AIRLOCK_REGION:-}" in
  *[!A-Za-z0-9_-]*) fail "environment/region names must be plain words" ;;
esac
SLOT=$AIRLOCK_ENVIRONMENT
if [ -n "${AIRLOCK_REGION:-}" ]; then SLOT="$AIRLOCK_ENVIRONMENT-$AIRLOCK_REGION"; fi
LOCAL="local/$SLOT"           # as people see it, from the workspace root
DIR="$ROOT/$LOCAL"            # as this script reaches it

hash_of() { sha256sum "$1" | cut -d' ' -f1; }
