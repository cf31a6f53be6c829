#!/usr/bin/env bash
# Builds the two ways Airlock ships, from this repository:
#   artifacts/packages/airlock.<version>.nupkg   a .NET tool: dotnet tool install -g --add-source artifacts/packages airlock
#   artifacts/linux-x64/airlock                  a self-contained single-file executable for Linux x64 (no .NET needed)
# With --smoke it then installs the tool into a temporary tool path and runs both, checking that
# `airlock --version` names this commit, and that the tool runs `airlock demo --no-serve` (about a
# minute) while the single-file build refuses it in one line. .ci/run uses --smoke.
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
  # The README's first command from the installed tool (its sample app ships beside it), and the
  # single-file build's one-line refusal (it bundles the sample app inside the executable, where
  # dotnet cannot start it).
  "$tools/airlock" demo --no-serve >/dev/null || { echo "package smoke test: airlock demo failed from the .NET tool" >&2; exit 1; }
  refusal="$("$out/linux-x64/airlock" demo --no-serve 2>&1 >/dev/null)" && refused=0 || refused=$?
  if [[ "$refused" != 3 || "$refusal" != *"single-file build does not carry it"* ]]; then
    echo "package smoke test: the single-file airlock demo should refuse in one line (exit 3), got exit $refused: $refusal" >&2
    exit 1
  fi
  echo "package smoke test: the .NET tool and the single-file build both run and name commit ${commit:0:12}; the tool runs the demo"
fi
