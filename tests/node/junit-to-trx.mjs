// Turns node's JUnit report into the smallest .trx (a TestRun with its ResultSummary counters) that
// scripts/test-totals.sh sums with the .NET test results. A report that cannot be read counts as one failure.
import { readFileSync, writeFileSync } from 'node:fs';

const [junitPath, trxPath, runName = 'node --test tests/node'] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
try {
  const xml = readFileSync(junitPath, 'utf8');
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const inner = m[2] ?? '';
    if (/<(failure|error)\b/.test(inner)) failed++;
    else if (/<skipped\b/.test(inner)) skipped++;
    else passed++;
  }
  if (passed + failed + skipped === 0) failed = 1;
} catch (e) {
  console.error(`junit-to-trx: ${junitPath}: ${e.message}`);
  failed = 1;
}
const total = passed + failed + skipped;
writeFileSync(trxPath, `<?xml version="1.0" encoding="utf-8"?>
<TestRun id="00000000-0000-0000-0000-000000000000" name="${runName}" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <ResultSummary outcome="${failed ? 'Failed' : 'Completed'}">
    <Counters total="${total}" executed="${passed + failed}" passed="${passed}" failed="${failed}" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="${skipped}" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
  </ResultSummary>
</TestRun>
`);
console.log(`${runName}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} -> ${trxPath}`);
process.exit(failed ? 1 : 0);
