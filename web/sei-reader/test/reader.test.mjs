// The reader (SeiReader, as the C# CueReader): each new cue and heartbeat reported once with its target on the
// carrier's timeline, refusals reported once per distinct bytes, the per-access-unit rules keyed by the carrier, key
// rotation, the verification budget; and the key ring's PEM rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyFormatError, KeyRing, SeiReader, rescale } from '../dist/index.js';
import { NOW, beatEntry, bundle, cueEntry, fromHex, keyRing, testSigner, vectorsFile } from './helpers.mjs';

const vector = (name) => fromHex(vectorsFile.vectors.find((v) => v.name === name).payload_hex);

function record(reader) {
  const seen = { cues: [], heartbeats: [], rejected: [] };
  reader.on('cue', (e) => seen.cues.push(e));
  reader.on('heartbeat', (e) => seen.heartbeats.push(e));
  reader.on('rejected', (e) => seen.rejected.push(e));
  return seen;
}

test('rescale rounds half away from zero, like TimeBase.Rescale', () => {
  assert.equal(rescale(45, 90_000, 1000), 1);
  assert.equal(rescale(-45, 90_000, 1000), -1);
  assert.equal(rescale(44, 90_000, 1000), 0);
  assert.equal(rescale(-3003, 90_000, 1000), -33);
  assert.equal(rescale(3003, 90_000, 90_000), 3003);
  assert.equal(rescale(2 ** 53 - 1, 90_000, 90_000), 2 ** 53 - 1);
});

test('a carousel repeat is reported once; the heartbeat beside it is new; the target is carrier + offset', async () => {
  const reader = new SeiReader({ keyRing: await keyRing(), streamIds: ['show-1'], nowUs: () => 1_795_888_803_000_000 });
  const seen = record(reader);
  await reader.feed(vector('v2 start, custom and heartbeat on one frame'), { pts: 900_000, timeBase: 90_000, accessUnit: 900_000 });
  await reader.feed(vector('v2 carousel repeat and heartbeat'), { pts: 1_083_003, timeBase: 90_000, accessUnit: 1_083_003 });
  assert.deepEqual(seen.cues.map((e) => [e.cue.cueId, e.targetPts]), [['poll-1', 900_000 - 3003], ['confetti', 990_000]]);
  assert.equal(seen.heartbeats.length, 2);
  assert.equal(reader.statistics.repeats, 1, 'the repeated cue');
  assert.equal(seen.rejected.length, 0);
});

test('ms carriers (mpegts.js): the 90 kHz offset is rescaled to ms', async () => {
  const reader = new SeiReader({ keyRing: await keyRing(), streamIds: ['show-1'], nowUs: () => 1_795_888_801_000_000 });
  const seen = record(reader);
  await reader.feed(vector('v2 start, custom and heartbeat on one frame'), { pts: 10_000, timeBase: 1000 });
  assert.deepEqual(seen.cues.map((e) => e.targetPts), [10_000 - 33, 11_000]);
});

test('a refused payload is reported once however often it is fed; a foreign UUID is ignored', async () => {
  const reader = new SeiReader({ keyRing: await keyRing(), streamIds: ['show-1'], nowUs: () => 1_795_888_801_000_000 });
  const seen = record(reader);
  const forged = vector('v2 bit-flipped body');
  for (let i = 0; i < 3; i++) await reader.feed(forged, { pts: i, timeBase: 90_000, accessUnit: i });
  const foreign = vector('v2 heartbeat only');
  foreign[0] ^= 1;
  const r = await reader.feed(foreign, { pts: 9, timeBase: 90_000 });
  assert.equal(r.status, 'NotCatEvening');
  assert.deepEqual(seen.rejected.map((e) => e.reason), ['BadSignature']);
  assert.equal(reader.statistics.signatureVerifications, 1, 'identical bytes are answered by the cache');
});

test('one access unit (same carrier key): after a version-2 payload the rest is skipped without an event', async () => {
  const reader = new SeiReader({ keyRing: await keyRing(), streamIds: ['show-1'], nowUs: () => 1_795_888_801_000_000 });
  const seen = record(reader);
  const au = { pts: 5, timeBase: 90_000, accessUnit: 5 };
  const results = await Promise.all([reader.feed(vector('v2 heartbeat only'), au), reader.feed(vector('v2 end and cancel'), au), reader.feed(vector('custom'), au)]);
  assert.deepEqual(results.map((r) => r.reason), [null, 'AccessUnitLimit', 'AccessUnitLimit']);
  assert.equal(seen.rejected.length, 0);
  assert.equal(reader.statistics.skippedByAccessUnitRules, 2);
  await reader.feed(vector('v2 end and cancel'), { pts: 6, timeBase: 90_000, accessUnit: 6 });
  assert.deepEqual(seen.cues.map((e) => e.cue.kind), ['interaction-end', 'cancel'], 'the next access unit is read');
});

test('feeds that are not awaited are verified in order (WebCrypto finishing out of order changes nothing)', async () => {
  const signer = await testSigner();
  const ring = new KeyRing();
  await ring.addPem(signer.pem);
  const reader = new SeiReader({ keyRing: ring, streamIds: ['show-1'], nowUs: () => NOW });
  const seen = record(reader);
  const payloads = [];
  for (let i = 0; i < 40; i++) payloads.push(await signer.sign(bundle(1000 + i, [cueEntry(i % 5, 0, `cue-${i % 5}`), beatEntry(i)])));
  await Promise.all(payloads.map((p, i) => reader.feed(p, { pts: i * 3600, timeBase: 90_000, accessUnit: i })));
  assert.deepEqual(seen.cues.map((e) => e.cue.cueId), ['cue-0', 'cue-1', 'cue-2', 'cue-3', 'cue-4']);
  assert.deepEqual(seen.heartbeats.map((e) => e.carrierPts), payloads.map((_, i) => i * 3600));
});

test('key rotation: a removed key id refuses what it signs; a new one verifies', async () => {
  const a = await testSigner(1);
  const b = await testSigner(2);
  const ring = new KeyRing();
  assert.equal(await ring.addPem(a.pem), 1);
  const reader = new SeiReader({ keyRing: ring, streamIds: ['show-1'], nowUs: () => NOW });
  const first = await a.sign(bundle(10, [beatEntry()]));
  assert.equal((await reader.feed(first, { pts: 0, timeBase: 90_000 })).status, 'Accepted');
  assert.equal((await reader.feed(await b.sign(bundle(11, [beatEntry()])), { pts: 1, timeBase: 90_000 })).reason, 'UnknownKeyId');
  await ring.addPem(b.pem);
  ring.remove(1);
  assert.equal((await reader.feed(await b.sign(bundle(12, [beatEntry()])), { pts: 2, timeBase: 90_000 })).status, 'Accepted');
  assert.equal((await reader.feed(await a.sign(bundle(13, [beatEntry()])), { pts: 3, timeBase: 90_000 })).reason, 'UnknownKeyId');
  assert.equal((await reader.feed(first, { pts: 4, timeBase: 90_000 })).reason, 'UnknownKeyId', 'the cache was emptied when the ring changed');
});

test('high s is refused before any verification (NonCanonicalSignature), the low-s twin is accepted', async () => {
  const signer = await testSigner();
  const ring = new KeyRing();
  await ring.addPem(signer.pem);
  const reader = new SeiReader({ keyRing: ring, nowUs: () => NOW });
  const body = bundle(7, [beatEntry()]);
  assert.equal((await reader.feed(await signer.sign(body, 2, { highS: true }), { pts: 0, timeBase: 90_000 })).reason, 'NonCanonicalSignature');
  assert.equal(reader.statistics.signatureVerifications, 0);
  assert.equal((await reader.feed(await signer.sign(body), { pts: 0, timeBase: 90_000 })).status, 'Accepted');
});

test('verification budget: past the burst, payloads are refused unverified and not remembered; a later copy verifies', async () => {
  const signer = await testSigner();
  const ring = new KeyRing();
  await ring.addPem(signer.pem);
  let now = NOW;
  const reader = new SeiReader({ keyRing: ring, nowUs: () => now, maxVerificationsPerSecond: 1, verificationBurst: 2 });
  const p = await Promise.all([1, 2, 3].map((s) => signer.sign(bundle(s, [beatEntry()]))));
  const verdicts = [];
  for (const [i, x] of p.entries()) verdicts.push((await reader.feed(x, { pts: i, timeBase: 90_000 })).reason);
  assert.deepEqual(verdicts, [null, null, 'VerificationBudgetExceeded']);
  now += 1_000_000;
  assert.equal((await reader.feed(p[2], { pts: 9, timeBase: 90_000 })).status, 'Accepted');
  assert.equal(reader.statistics.refusedOverBudget, 1);
});

test('issued-at: too old and too far in the future are refused at the configured bounds', async () => {
  const signer = await testSigner();
  const ring = new KeyRing();
  await ring.addPem(signer.pem);
  const reader = new SeiReader({ keyRing: ring, nowUs: () => NOW, maxAgeUs: 1_000_000, maxClockSkewUs: 500_000 });
  const at = async (seq, issued) => (await reader.feed(await signer.sign(bundle(seq, [beatEntry()], { issued })), { pts: seq, timeBase: 90_000 })).reason;
  assert.equal(await at(1, NOW - 1_000_000), null, 'exactly max age');
  assert.equal(await at(2, NOW - 1_000_001), 'IssuedTooLongAgo');
  assert.equal(await at(3, NOW + 500_000), null, 'exactly the skew');
  assert.equal(await at(4, NOW + 500_001), 'IssuedInFuture');
});

test('key ring: PEM rules', async () => {
  const signer = await testSigner(3);
  const ring = new KeyRing();
  await assert.rejects(ring.addPem(signer.pem.replace('CatEvening-Key-Id: 3\n', '')), KeyFormatError, 'no key id');
  assert.equal(await ring.addPem(signer.pem.replace('CatEvening-Key-Id: 3\n', ''), 9), 9);
  await assert.rejects(ring.addPem(signer.pem.replaceAll('PUBLIC KEY', 'PRIVATE KEY')), /PRIVATE KEY/);
  const compressed = Uint8Array.from([...signer.spki]);
  compressed[26] = 0x02;
  const pemOf = (bytes) => `-----BEGIN PUBLIC KEY-----\n${Buffer.from(bytes).toString('base64')}\n-----END PUBLIC KEY-----`;
  await assert.rejects(ring.addPem(pemOf(compressed), 4), { name: 'Error', message: /point is not uncompressed \(04\) \(byte 26 is 0x02, 0x04 expected\)/ });
  // Field case H9: one byte of the curve OID changed. The error names the field and the byte, not "91 bytes; 91 expected".
  const otherCurve = Uint8Array.from([...signer.spki]);
  otherCurve[22] = 0x06;
  await assert.rejects(ring.addPem(pemOf(otherCurve), 6), (e) => e instanceof KeyFormatError && /curve is not P-256/.test(e.message) && /byte 22 is 0x06, 0x07 expected/.test(e.message) && !/91 expected/.test(e.message));
  await assert.rejects(ring.addPem(pemOf(signer.spki.slice(0, 60)), 7), /\(60 bytes; 91 expected\)/);
  const offCurve = Uint8Array.from([...signer.spki]);
  offCurve[90] ^= 1;
  await assert.rejects(ring.addPem(`-----BEGIN PUBLIC KEY-----\n${Buffer.from(offCurve).toString('base64')}\n-----END PUBLIC KEY-----`, 5), KeyFormatError);
  assert.throws(() => ring.add(9, {}), /already in the ring/);
  assert.deepEqual(ring.keyIds, [9]);
});
