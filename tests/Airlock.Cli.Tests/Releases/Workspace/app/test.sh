#!/bin/sh
# The release's test step: the artifact must carry the version being released.
set -eu
[ "$(cat "$AIRLOCK_ARTIFACT_DIR/VERSION")" = "$AIRLOCK_VERSION" ] || { echo "artifact is not $AIRLOCK_VERSION" >&2; exit 1; }
