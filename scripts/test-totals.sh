#!/usr/bin/env bash
# Sums the counters of every .trx file under DIR and prints "N passed, N failed[, N skipped]".
# Exits non-zero when a test failed or when no test ran at all.
set -euo pipefail
dir=${1:-TestResults}
passed=0; failed=0; skipped=0; files=0
shopt -s nullglob globstar
for f in "$dir"/**/*.trx; do
  files=$((files+1))
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # NUnit's ignored tests are counted in total but not executed, with notExecuted left at 0.
  not_run=$(( $(get total) - $(get executed) ))
  [ "$not_run" -lt "$(get notExecuted)" ] && not_run=$(get notExecuted)
  skipped=$((skipped + not_run))
done
if [ $skipped -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ $files -gt 0 ] && [ $failed -eq 0 ] && [ $passed -gt 0 ]
