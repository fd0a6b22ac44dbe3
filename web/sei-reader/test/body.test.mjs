// The body readers on their own (no signature): the same acceptance rules as the C# formatters for what the vectors
// do not spell out: every integer encoding of an in-bound value, appended fields skipped, bounds, and hostile bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeV1Body, decodeV2Body, isLowS } from '../dist/index.js';
import { bin, bundle, beatEntry, cueEntry, pack, u64 } from './helpers.mjs';

test('v2: a number written in a longer encoding than needed (uint64 of 5) reads as 5', () => {
  const r = decodeV2Body(pack(['show-1', u64(5), u64(7), [[u64(1), u64(9), u64(0), 'c', u64(0), u64(0), bin([])]]]));
  assert.ok(r.ok, r.error);
  assert.equal(r.body.bundle.seq, 5);
  assert.equal(r.body.bundle.entries[0].seq, 9);
});

test('v2: fields appended to the bundle and to each entry are skipped (extension rule)', () => {
  const r = decodeV2Body(pack(['show-1', 1, 2, [[...cueEntry(3, 0, 'c'), 'extra', [1, [2]], null], [...beatEntry(), 1.5, true]], { map: [['k', [1, 2]]] }, bin([1, 2])]));
  assert.ok(r.ok, r.error);
  assert.deepEqual(r.body.bundle.entries.map((e) => e.kind), ['interaction-start', 'heartbeat']);
});

test('v2: integer bounds, entry counts, duplicate cue numbers and trailing bytes are malformed, naming the field', () => {
  const cases = [
    [pack(['show-1', 2n ** 53n, 0, [beatEntry()]]), /field 1 \(seq\)/],
    [pack(['show-1', 1, -(2n ** 53n), [beatEntry()]]), /field 2 \(issued_at_us\)/],
    [pack(['show-1', 1, 0, [cueEntry(1, 0, 'a'), cueEntry(1, 0, 'b')]]), /appears twice/],
    [pack(['show-1', 1, 0, [[1, 2, 3, 'a', 0, 0, 'not bin']]]), /entry 0 field 6 \(app_data\)/],
    [pack(['show-1', 1, 0, [[4, 0, 2n ** 33n, 0, null]]]), /33-bit/],
    [pack(['', 1, 0, [beatEntry()]]), /empty string/],
    [pack(['show-1', 1, 0, Array.from({ length: 257 }, (_, i) => cueEntry(i, 0, 'c'))]), /257 entries/],
    [Uint8Array.from([...bundle(1, [beatEntry()]), 0x00]), /1 bytes after the array/],
    [pack(['show-1', 1, 0]), /needs 4/],
  ];
  for (const [body, error] of cases) {
    const r = decodeV2Body(body);
    assert.equal(r.ok, false, String(error));
    assert.match(r.error, error);
  }
});

test('v2: invalid UTF-8 in a string is malformed', () => {
  const body = pack(['show-1', 1, 0, [beatEntry()]]);
  body[2] = 0xff;
  const r = decodeV2Body(body);
  assert.equal(r.ok, false);
  assert.match(r.error, /UTF-8/);
});

test('v1: a uint64 above 2^63 - 1 does not fit and is malformed; one below it reads exactly', () => {
  const cue = (seq) => pack([1, 'show-1', seq, 0, 0, 'c', 0, 0, bin([])]);
  assert.match(decodeV1Body(cue(u64(2n ** 63n))).error, /field 2 \(seq\).*signed 64-bit/);
  const r = decodeV1Body(cue(u64(2n ** 63n - 1n)));
  assert.ok(r.ok, r.error);
  assert.equal(r.body.seq, 2n ** 63n - 1n, 'the verifier sees the exact number');
});

test('v1: unknown kinds and short arrays are malformed', () => {
  assert.match(decodeV1Body(pack([6, 'show-1', 1, 0, 0, 'c', 0, 0, bin([])])).error, /unknown kind 6/);
  assert.match(decodeV1Body(pack([1, 'show-1', 1, 0, 0, 'c', 0, 0])).error, /needs 9/);
  assert.match(decodeV1Body(pack([4, 'show-1', 1, 0, 0, 0, 0])).error, /needs 8/);
  assert.match(decodeV1Body(pack(null)).error, /body is nil/);
});

test('hostile bytes: 20,000 random and truncated bodies never throw', () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const good = bundle(1795888800000, [cueEntry(42, -3003, 'poll-1', 2700000, 1, 5000000), beatEntry(8589930000)]);
  for (let i = 0; i < 20_000; i++) {
    let body;
    if (i % 2 === 0) body = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
    else {
      body = good.slice(0, Math.floor(random() * (good.length + 1)));
      if (body.length) body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
    }
    for (const decode of [decodeV1Body, decodeV2Body]) {
      const r = decode(body);
      assert.equal(typeof r.ok, 'boolean');
      if (!r.ok) assert.match(r.error, /^malformed body at body offset \d+/);
    }
  }
});

test('low s: s = floor(n/2) is low, one more is high', () => {
  const half = Buffer.from('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8', 'hex');
  const above = Buffer.from('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a9', 'hex');
  assert.equal(isLowS(half), true);
  assert.equal(isLowS(above), false);
  assert.equal(isLowS(new Uint8Array(32)), true);
  assert.equal(isLowS(new Uint8Array(31)), false);
});
