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
# Name every failed test (with the first line of its message) just above the totals, so the tail of a CI log says
# which test failed even when the log is cut to its last lines.
python3 - "$dir" <<'PY' || true
import sys, glob, xml.etree.ElementTree as ET
ns = '{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}'
shown = 0
for f in sorted(glob.glob(sys.argv[1] + '/**/*.trx', recursive=True)):
    try:
        root = ET.parse(f).getroot()
    except ET.ParseError as e:
        print(f'FAILED to read {f}: {e}'); continue
    classes = {t.get('id'): (t.find(ns + 'TestMethod').get('className') or '').split('.')[-1]
               for t in root.iter(ns + 'UnitTest') if t.find(ns + 'TestMethod') is not None}
    for u in root.iter(ns + 'UnitTestResult'):
        if u.get('outcome') not in ('Failed', 'Error', 'Timeout', 'Aborted'): continue
        m = u.find(f'.//{ns}Message')
        lines = [l.strip() for l in (m.text or '').splitlines() if l.strip()] if m is not None else []
        msg = ' | '.join(lines[:3])[:400]
        cls = classes.get(u.get('testId'), '')
        print(f"FAILED {cls + '.' if cls else ''}{u.get('testName')} ({f.split('/')[-1]}): {msg}")
        shown += 1
        if shown >= 10: sys.exit(0)
for f in sorted(glob.glob(sys.argv[1] + '/**/*-junit.xml', recursive=True)):
    try:
        root = ET.parse(f).getroot()
    except ET.ParseError as e:
        print(f'FAILED to read {f}: {e}'); continue
    for case in root.iter('testcase'):
        fail = case.find('failure')
        if fail is None: fail = case.find('error')
        if fail is None: continue
        print(f"FAILED {case.get('name')} ({f.split('/')[-1]}): {(fail.get('message') or '')[:400]}")
        shown += 1
        if shown >= 10: sys.exit(0)
PY
if [ $skipped -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ $files -gt 0 ] && [ $failed -eq 0 ] && [ $passed -gt 0 ]
