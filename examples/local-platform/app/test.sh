#!/bin/sh
# The release's test step: the artifact is complete and carries the version being released.
set -eu
[ -f "$AIRLOCK_ARTIFACT_DIR/Airlock.SampleApp.dll" ] || { echo "the artifact has no Airlock.SampleApp.dll" >&2; exit 1; }
[ "$(cat "$AIRLOCK_ARTIFACT_DIR/VERSION")" = "$AIRLOCK_VERSION" ] || { echo "the artifact is not $AIRLOCK_VERSION" >&2; exit 1; }
echo "artifact ok: web $AIRLOCK_VERSION"
