#!/usr/bin/env bash
# Builds the two ways Airlock ships, from this repository:
#   artifacts/packages/airlock.<version>.nupkg   a .NET tool: dotnet tool install -g --add-source artifacts/packages airlock
#   artifacts/linux-x64/airlock                  a self-contained single-file executable for Linux x64 (no .NET needed)
# With --smoke it then installs the tool into a temporary tool path and runs both, checking that
# `airlock --version` names this commit. .ci/run uses --smoke.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${AIRLOCK_ARTIFACTS:-artifacts}"
rm -rf "$out/packages" "$out/linux-x64"
dotnet pack src/Airlock.Cli -c Release -o "$out/packages" --nologo -v quiet
dotnet publish src/Airlock.Cli -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true \
  -p:IncludeNativeLibrariesForSelfExtract=true -o "$out/linux-x64" --nologo -v quiet
rm -f "$out/linux-x64"/*.pdb
ls -l "$out/packages"/*.nupkg "$out/linux-x64/airlock"

if [[ "${1:-}" == "--smoke" ]]; then
  commit="$(git rev-parse HEAD)"
  tools="$(mktemp -d)"
  trap 'rm -rf "$tools"' EXIT
  dotnet tool install --tool-path "$tools" --add-source "$out/packages" airlock >/dev/null
  for airlock in "$tools/airlock" "$out/linux-x64/airlock"; do
    version="$("$airlock" --version)"
    echo "$airlock --version: $version"
    if [[ "$version" != *"+$commit"* ]]; then
      echo "package smoke test: $airlock --version does not name commit $commit" >&2
      exit 1
    fi
    "$airlock" validate examples/getting-started >/dev/null
  done
  echo "package smoke test: the .NET tool and the single-file build both run and name commit ${commit:0:12}"
fi
