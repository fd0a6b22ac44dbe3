#!/usr/bin/env bash
# Runs the node tests (tests/node: the web players' own TS demuxers on injected streams, WebCrypto verification) with
# node's test runner, and writes the result as DIR/node.trx so that scripts/test-totals.sh counts it with the .NET
# tests. Needs the built solution (sei-inject) and `npm ci` in tests/node (scripts/install-deps.sh does both checks).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:-TestResults}
mkdir -p "$dir"
junit="$(cd "$dir" && pwd)/node-junit.xml"
(cd tests/node && node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination="$junit")
status=$?
node tests/node/junit-to-trx.mjs "$junit" "$dir/node.trx" || status=1
exit $status
