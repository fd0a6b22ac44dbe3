#!/usr/bin/env bash
# Runs the node suites with node's test runner and writes each result as a .trx in DIR, so that scripts/test-totals.sh
# counts them with the .NET tests:
#   tests/node        the web players' own TS demuxers on injected streams, WebCrypto verification  -> DIR/node.trx
#   web/sei-reader    the browser reader package (@catevening/sei-reader), built first with tsc, and its
#                     browser test (chromium via playwright-core, hls.js and mpegts.js)             -> DIR/sei-reader.trx
# Needs the built solution (sei-inject), /usr/bin/chromium and `npm ci` in both folders (scripts/install-deps.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:-TestResults}
mkdir -p "$dir"
status=0
# run_suite FOLDER NAME [build command...]: a failed build counts as a failed suite (junit-to-trx turns a missing
# report into one failure).
run_suite() {
  local folder=$1 name=$2
  shift 2
  local junit
  junit="$(cd "$dir" && pwd)/$name-junit.xml"
  rm -f "$junit"
  if [ $# -eq 0 ] || (cd "$folder" && "$@"); then
    (cd "$folder" && node --test --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=junit --test-reporter-destination="$junit") || status=1
  else
    echo "[node-tests] $folder: build failed"
    status=1
  fi
  node tests/node/junit-to-trx.mjs "$junit" "$dir/$name.trx" "node --test $folder" || status=1
}
run_suite tests/node node
run_suite web/sei-reader sei-reader npm run --silent build
exit $status
