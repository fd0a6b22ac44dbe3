// docs/sei-vectors.json, the vectors the C# tests read too (SeiVectorsJsonTests): every payload gets the verdict and
// decoded body the file states, every sequence step its verdict and new entries, every peak-shaving case its offset.
// The two readers cannot drift without one of the two suites failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessUnitScope, peakShavingOffsetUs } from '../dist/index.js';
import { decodedJson, fromHex, vectorsFile, verifier } from './helpers.mjs';

const byName = new Map(vectorsFile.vectors.map((v) => [v.name, v]));

test('the vectors file holds both format versions and every refusal reason the doc lists', () => {
  assert.ok(vectorsFile.vectors.length >= 28, `${vectorsFile.vectors.length} vectors`);
  assert.ok(vectorsFile.vectors.filter((v) => v.format_version === 2).length >= 14, 'version-2 vectors');
  const reasons = new Set(vectorsFile.vectors.map((v) => v.expect));
  for (const r of ['Accepted', 'BadSignature', 'UnknownKeyId', 'UnknownFormatVersion', 'MalformedBody', 'MalformedEnvelope', 'OtherStream',
    'IssuedTooLongAgo', 'IssuedInFuture', 'NonCanonicalSignature']) assert.ok(reasons.has(r), r);
});

for (const v of vectorsFile.vectors) {
  test(`vector "${v.name}" (v${v.format_version}): ${v.expect}`, async () => {
    const r = await (await verifier()).verify(fromHex(v.payload_hex), v.verify_at_us);
    if (v.expect === 'Accepted') {
      assert.equal(r.status, 'Accepted', `${r.reason}: ${r.detail}`);
      assert.deepEqual(decodedJson(r), v.decoded, 'decoded body');
      assert.equal(r.newMessages.length, r.messages.length, 'alone, every entry is new');
      assert.equal(r.keyId, vectorsFile.key_id);
    } else {
      assert.deepEqual([r.status, r.reason], ['Rejected', v.expect], r.detail ?? '');
      assert.ok(r.detail && r.detail.length > 0, 'a refusal says why');
      assert.equal(r.newMessages.length, 0);
    }
  });
}

for (const s of vectorsFile.sequences) {
  test(`sequence "${s.name}": ${s.description}`, async () => {
    const v = await verifier();
    let scope = new AccessUnitScope();
    let unit;
    for (const [i, step] of s.steps.entries()) {
      // Steps with the same access_unit share one access unit (per-access-unit rules); others are alone.
      if (step.access_unit === undefined || step.access_unit === null || step.access_unit !== unit) scope = new AccessUnitScope();
      unit = step.access_unit;
      const r = await v.verify(fromHex(byName.get(step.vector).payload_hex), step.verify_at_us, scope);
      const what = `step ${i} (${step.vector})`;
      assert.equal(r.status, step.status, `${what}: ${r.reason} ${r.detail}`);
      if (step.reason !== null) assert.equal(r.reason, step.reason, what);
      assert.deepEqual(r.newMessages, step.new_entries.map((e) => r.messages[e]), `${what}: new entries`);
    }
  });
}

test('peak shaving: every case of the vectors file gets its offset', async () => {
  assert.ok(vectorsFile.peak_shaving?.length >= 5, 'peak-shaving cases in the file');
  for (const c of vectorsFile.peak_shaving) {
    assert.equal(await peakShavingOffsetUs(c.viewer_id, c.cue_id, c.spread_us), c.offset_us, JSON.stringify(c));
  }
});
