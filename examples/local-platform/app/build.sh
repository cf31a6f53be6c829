#!/bin/sh
# Builds the application once per release: the sample app's binaries, the version and the fault
# list (see deploy.sh) go into $AIRLOCK_ARTIFACT_DIR; every environment deploys these same files.
set -eu
: "${SAMPLE_APP_DIR:?points at the built samples/Airlock.SampleApp (airlock demo sets it)}"
[ -f "$SAMPLE_APP_DIR/Airlock.SampleApp.dll" ] || { echo "no Airlock.SampleApp.dll in $SAMPLE_APP_DIR" >&2; exit 1; }
mkdir -p "$AIRLOCK_ARTIFACT_DIR"
cp "$SAMPLE_APP_DIR/Airlock.SampleApp.dll" "$SAMPLE_APP_DIR/Airlock.SampleApp.runtimeconfig.json" "$AIRLOCK_ARTIFACT_DIR"/
echo "$AIRLOCK_VERSION" > "$AIRLOCK_ARTIFACT_DIR/VERSION"
if [ -f app/inject-fault ]; then cp app/inject-fault "$AIRLOCK_ARTIFACT_DIR/inject-fault"; fi
echo "built web $AIRLOCK_VERSION"
