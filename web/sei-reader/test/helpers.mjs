// Shared by the tests: the vectors file both readers run (docs/sei-vectors.json), and a verifier set up as it says.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyRing, MessageVerifier } from '../dist/index.js';

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const vectorsFile = JSON.parse(readFileSync(join(repositoryRoot, 'docs', 'sei-vectors.json'), 'utf8'));
export const fromHex = (hex) => Uint8Array.from(Buffer.from(hex, 'hex'));
export const toHex = (bytes) => Buffer.from(bytes).toString('hex');

export async function keyRing() {
  const ring = new KeyRing();
  await ring.addPem(vectorsFile.public_key_pem);
  return ring;
}

export function verifierOptions() {
  const v = vectorsFile.verifier;
  return { streamIds: v.stream_ids, maxAgeUs: v.max_age_us, maxClockSkewUs: v.max_clock_skew_us, replayWindow: v.replay_window };
}

export async function verifier() {
  return new MessageVerifier(await keyRing(), verifierOptions());
}

const SORTED = (o) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));

/** A message as the vectors' `decoded` JSON writes it (snake_case, app data as hex, keys sorted). */
export function entryJson(m, withHeader) {
  const d = { kind: m.kind };
  if (withHeader) Object.assign(d, { stream_id: m.streamId, seq: m.seq, issued_at_us: m.issuedAtUs });
  if (m.kind === 'heartbeat') {
    Object.assign(d, { injection_wall_us: m.injectionWallUs, carrier_pts: m.carrierPts, uncertainty_us: m.uncertaintyUs, time_server: m.timeServer });
  } else {
    if (!withHeader) d.cue_seq = m.seq;
    Object.assign(d, { target_offset_90k: m.targetOffset90k, cue_id: m.cueId, window_90k: m.window90k, spread_us: m.spreadUs, app_data_hex: toHex(m.appData) });
  }
  return SORTED(d);
}

export function decodedJson(result) {
  if (result.bundle) {
    const b = result.bundle;
    return SORTED({ stream_id: b.streamId, seq: b.seq, issued_at_us: b.issuedAtUs, entries: b.entries.map((e) => entryJson(e, false)) });
  }
  return entryJson(result.messages[0], true);
}

// A test signer: MessagePack writer (shortest encodings, as sei-inject writes) and a fresh P-256 key whose signatures
// are normalised to low s, so that tests can make payloads the vectors do not hold.
export const bin = (bytes) => ({ bin: Uint8Array.from(bytes) });
export const u64 = (value) => ({ u64: BigInt(value) });
export function pack(value) {
  const out = [];
  const be = (n, width) => { for (let i = width - 1; i >= 0; i--) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn)); };
  const write = (v) => {
    if (v === null) out.push(0xc0);
    else if (Array.isArray(v)) {
      if (v.length < 16) out.push(0x90 | v.length); else { out.push(0xdc); be(v.length, 2); }
      v.forEach(write);
    } else if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      if (b.length < 32) out.push(0xa0 | b.length); else { out.push(0xd9, b.length); }
      out.push(...b);
    } else if (v && v.bin) { out.push(0xc4, v.bin.length, ...v.bin); }
    else if (v && v.u64 !== undefined) { out.push(0xcf); be(v.u64, 8); }
    else if (v && v.map) { out.push(0x80 | v.map.length); for (const [k, x] of v.map) { write(k); write(x); } }
    else if (typeof v === 'number' && !Number.isInteger(v)) { const b = Buffer.alloc(8); b.writeDoubleBE(v); out.push(0xcb, ...b); }
    else if (typeof v === 'boolean') out.push(v ? 0xc3 : 0xc2);
    else {
      const n = BigInt(v);
      if (n >= 0n && n < 128n) out.push(Number(n));
      else if (n < 0n && n >= -32n) out.push(Number(n + 256n));
      else if (n >= 0n && n < 256n) { out.push(0xcc); be(n, 1); }
      else if (n >= 0n && n < 65536n) { out.push(0xcd); be(n, 2); }
      else if (n >= 0n && n < 4294967296n) { out.push(0xce); be(n, 4); }
      else if (n >= 0n) { out.push(0xcf); be(n, 8); }
      else if (n >= -128n) { out.push(0xd0); be(n & 0xffn, 1); }
      else if (n >= -32768n) { out.push(0xd1); be(n & 0xffffn, 2); }
      else if (n >= -2147483648n) { out.push(0xd2); be(n & 0xffffffffn, 4); }
      else { out.push(0xd3); be(n & 0xffffffffffffffffn, 8); }
    }
  };
  write(value);
  return Uint8Array.from(out);
}

const ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

export async function testSigner(keyId = 1) {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const pem = `CatEvening-Key-Id: ${keyId}\n-----BEGIN PUBLIC KEY-----\n${Buffer.from(spki).toString('base64')}\n-----END PUBLIC KEY-----\n`;
  async function sign(body, version = 2, { highS = false } = {}) {
    const signed = new Uint8Array(19 + body.length);
    signed.set(fromHex('7f4dd11cdfb84e3182fd6068876d036e'), 0);
    signed[16] = version;
    signed[17] = keyId >> 8;
    signed[18] = keyId & 0xff;
    signed.set(body, 19);
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, signed));
    let s = BigInt('0x' + toHex(sig.subarray(32)));
    const low = s <= ORDER / 2n ? s : ORDER - s;
    s = highS ? ORDER - low : low;
    sig.set(fromHex(s.toString(16).padStart(64, '0')), 32);
    const payload = new Uint8Array(signed.length + 64);
    payload.set(signed, 0);
    payload.set(sig, signed.length);
    return payload;
  }
  return { pem, spki, sign, keyId };
}

export const NOW = 1_795_888_800_000_000;
/** A version-2 bundle body: cues [kind, cue_seq, offset, cue_id, window, spread, app], heartbeat [4, wall, pts, unc, server]. */
export const bundle = (seq, entries, { stream = 'show-1', issued = NOW } = {}) => pack([stream, seq, issued, entries]);
export const cueEntry = (cueSeq, offset, cueId, window = 0, kind = 1, spread = 0) => [kind, cueSeq, offset, cueId, window, spread, bin([])];
export const beatEntry = (pts = 0) => [4, NOW, pts, 0, null];
