# Shared by the site scripts (sourced with ". ./common.sh"): where the site is deployed and how
# its state file is read. Airlock runs every script in this directory (stacks/site).
set -eu
export LC_ALL=C # the same file order on every machine, so plans are reproducible

fail() { echo "site: $*" >&2; exit 1; }

: "${AIRLOCK_ENVIRONMENT:?is not set (Airlock sets it for every command)}"
case "$AIRLOCK_ENVIRONMENT" in
  '' | *[!A-Za-z0-9_-]*) fail "environment name '$AIRLOCK_ENVIRONMENT' is not a plain name" ;;
esac

# The deployed site lives outside the stack folder, in <workspace>/target/<env>/site/.
SITE="target/$AIRLOCK_ENVIRONMENT/site" # as the user sees it, from the workspace
TARGET="../../$SITE"                    # as the scripts reach it, from stacks/site
STATE="$TARGET/.airlock-state"          # "serial=N", then one "file <name> <sha256>" per file

# Names become resource addresses and JSON strings: keep them plain, and not hidden.
valid_name() {
  case "$1" in '' | .* | *[!A-Za-z0-9._-]*) return 1 ;; esac
}

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# local_file.<name with . replaced by _>, e.g. local_file.index_html.
address_of() { printf 'local_file.%s' "$(printf '%s' "$1" | sed 's/\./_/g')"; }

# Increases with every apply that changes something; 0 before the first.
state_serial() {
  if [ -f "$STATE" ]; then sed -n 's/^serial=//p' "$STATE"; else echo 0; fi
}
