#!/usr/bin/env bash
# Builds the two ways Airlock ships, from this repository:
#   artifacts/packages/airlock.<version>.nupkg   a .NET tool: dotnet tool install -g --add-source artifacts/packages airlock
#   artifacts/linux-x64/airlock                  a self-contained single-file executable for Linux x64 (no .NET needed)
# With --smoke it then installs the tool into a temporary tool path and runs both, checking that
# `airlock --version` names this commit, that the tool carries the sample app the demo runs (and it
# runs SQL), and that the single-file build refuses the demo in one line. .ci/run uses --smoke.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${AIRLOCK_ARTIFACTS:-artifacts}"
rm -rf "$out/packages" "$out/linux-x64"
# Both reuse the Release build of the libraries (after `dotnet test Airlock.slnx -c Release`, as .ci/run does, the
# pack compiles nothing): the single-file settings live in Airlock.Cli.csproj, so they do not reach the libraries.
dotnet pack src/Airlock.Cli -c Release -o "$out/packages" --nologo -v quiet
dotnet publish src/Airlock.Cli -c Release -r linux-x64 --self-contained -o "$out/linux-x64" --nologo -v quiet
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
  # The demo needs the sample app beside airlock (its database stack runs SQL through it): the tool
  # must carry it with its SQLite native library. (The whole demo runs in DemoCommandTests from the
  # build output; running it here again cost CI two minutes.) The single-file build refuses the demo
  # in one line: it bundles the sample app inside the executable, where dotnet cannot start it.
  sample="$(find "$tools/.store" -name Airlock.SampleApp.dll -path '*/tools/*' | head -n 1)"
  [[ -n "$sample" ]] || { echo "package smoke test: the .NET tool does not carry Airlock.SampleApp.dll (airlock demo needs it)" >&2; exit 1; }
  answer="$(dotnet "$sample" sqlite "$tools/smoke.db" "CREATE TABLE t(x); INSERT INTO t VALUES (42); SELECT x FROM t;")"
  [[ "$answer" == "42" ]] || { echo "package smoke test: the tool's sample app could not run SQL (got: $answer)" >&2; exit 1; }
  refusal="$("$out/linux-x64/airlock" demo --no-serve 2>&1 >/dev/null)" && refused=0 || refused=$?
  if [[ "$refused" != 3 || "$refusal" != *"single-file build does not carry it"* ]]; then
    echo "package smoke test: the single-file airlock demo should refuse in one line (exit 3), got exit $refused: $refusal" >&2
    exit 1
  fi
  echo "package smoke test: the .NET tool and the single-file build both run and name commit ${commit:0:12}; the tool carries the demo's sample app"
fi
