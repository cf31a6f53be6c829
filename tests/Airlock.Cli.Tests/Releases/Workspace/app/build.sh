#!/bin/sh
# Builds the application once per release: copies the sample app's binaries into the artifact
# directory and stamps the version. Every environment then deploys these same bytes.
set -eu
: "${SAMPLE_APP_DIR:?the test sets SAMPLE_APP_DIR to the built sample app}"
mkdir -p "$AIRLOCK_ARTIFACT_DIR"
cp "$SAMPLE_APP_DIR/Airlock.SampleApp.dll" "$SAMPLE_APP_DIR/Airlock.SampleApp.runtimeconfig.json" "$AIRLOCK_ARTIFACT_DIR"/
echo "$AIRLOCK_VERSION" > "$AIRLOCK_ARTIFACT_DIR/VERSION"
echo "$AIRLOCK_VERSION" >> "$RELEASE_WORLD/build.log"
