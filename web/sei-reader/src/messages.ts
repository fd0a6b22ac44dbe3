// The CatEvening payload (docs/sei-format.md sections 2 and 3): envelope constants, the version-1 message body and the
// version-2 bundle body, read with the same rules (field types, bounds, extension rule) as the C# formatters
// (CatEveningMessageFormatter, MessageBundleFormatter).
import { MalformedBodyError, MessagePackReader } from './msgpack.js';

/** The CatEvening UUID, `7f4dd11c-dfb8-4e31-82fd-6068876d036e`, as it starts every payload. */
export const CATEVENING_UUID = Uint8Array.of(0x7f, 0x4d, 0xd1, 0x1c, 0xdf, 0xb8, 0x4e, 0x31, 0x82, 0xfd, 0x60, 0x68, 0x87, 0x6d, 0x03, 0x6e);
/** The CatEvening UUID as hls.js formats it (lower-case hex with dashes). */
export const CATEVENING_UUID_STRING = '7f4dd11c-dfb8-4e31-82fd-6068876d036e';

/**
 * Envelope layout (docs/sei-format.md section 2):
 * ```
 * offset  size  field
 *      0    16  uuid            7f4dd11c-dfb8-4e31-82fd-6068876d036e
 *     16     1  format_version  1 or 2
 *     17     2  key_id          unsigned 16-bit, big-endian
 *     19     N  body            one MessagePack array; N = payloadSize - 83
 *   19+N    64  signature       ECDSA P-256 / SHA-256, IEEE P1363 r || s, over bytes [0, 19+N)
 * ```
 */
export const Envelope = {
  versionOffset: 16,
  keyIdOffset: 17,
  bodyOffset: 19,
  signatureLength: 64,
  overhead: 83,
  minPayloadLength: 84,
  /** Version 1: at most 1,536 bytes of body. */
  maxPayloadLengthV1: 83 + 1536,
  /** Version 2: at most 65,453 bytes of body. */
  maxPayloadLengthV2: 65_536,
} as const;

const MAX_ID_LENGTH = 64;
const MAX_TIME_SERVER_LENGTH = 255;
const MAX_APP_DATA_LENGTH = 1024;
const MAX_BUNDLE_ENTRIES = 256;
const MAX_SAFE = (1n << 53n) - 1n;
const MAX_PTS = (1n << 33n) - 1n;

export type CueKind = 'interaction-start' | 'interaction-end' | 'cancel' | 'custom';
export type MessageKind = CueKind | 'heartbeat';
const KIND_NAMES: Record<number, MessageKind> = { 1: 'interaction-start', 2: 'interaction-end', 3: 'cancel', 4: 'heartbeat', 5: 'custom' };

/**
 * A cue (kinds 1, 2, 3, 5). Integers are JavaScript numbers: exact for every version-2 value (all within ±(2^53 − 1));
 * a version-1 value beyond that (legal there, never written by sei-inject) is rounded here, while verification (replay
 * window, repeats) always uses the exact value.
 */
export interface CueMessage {
  readonly kind: CueKind;
  readonly streamId: string;
  /** Version 1: the message's sequence number. Version 2: the cue sequence number (the same on every repeat). */
  readonly seq: number;
  readonly issuedAtUs: number;
  /** Target presentation time minus the carrier frame's PTS, 90 kHz ticks (negative on a repeat after the target). */
  readonly targetOffset90k: number;
  readonly cueId: string;
  /** How long the interaction stays open after its target, 90 kHz ticks; 0: until an end or cancel. */
  readonly window90k: number;
  /** Peak-shaving spread, µs (see {@link peakShavingOffsetUs}). */
  readonly spreadUs: number;
  readonly appData: Uint8Array;
}

/** A heartbeat (kind 4): ties the carrier frame to the injector's wall clock. */
export interface HeartbeatMessage {
  readonly kind: 'heartbeat';
  readonly streamId: string;
  /** Version 1: the message's sequence number; version 2: the bundle's transmission sequence number. */
  readonly seq: number;
  readonly issuedAtUs: number;
  readonly injectionWallUs: number;
  /** The carrier's PTS at the injector, 90 kHz, 33-bit. */
  readonly carrierPts: number;
  readonly uncertaintyUs: number;
  readonly timeServer: string | null;
}

export type CatEveningMessage = CueMessage | HeartbeatMessage;

/** A version-2 body: everything due on one frame under one transmission sequence number. */
export interface MessageBundle {
  readonly streamId: string;
  /** Transmission sequence number: what the replay window checks. */
  readonly seq: number;
  readonly issuedAtUs: number;
  readonly entries: readonly CatEveningMessage[];
}

/** A decoded entry with the exact values the verifier compares. */
export interface ExactMessage {
  readonly message: CatEveningMessage;
  readonly isCue: boolean;
  /** Version 1: the message's number; version 2: the cue sequence number (cues) or the bundle's number (heartbeat). */
  readonly seq: bigint;
  /** Cue: kind, stream, seq, cue id, window, spread, app data (what a carousel repeat keeps). Heartbeat (version 1
   * repeat rule): wall clock, carrier PTS, uncertainty, time server. */
  readonly contentKey: string;
  /** Every field (C# Equals), for the version-2 bundle equality. */
  readonly fullKey: string;
}

/** A decoded body of either version. */
export interface DecodedBody {
  readonly version: 1 | 2;
  readonly streamId: string;
  /** The number the replay window checks (version 1: the message's; version 2: the transmission's). */
  readonly seq: bigint;
  readonly issuedAt: bigint;
  readonly messages: readonly ExactMessage[];
  readonly bundle: MessageBundle | null;
  /** Version 2: every field of the bundle (C# MessageBundle.Equals). */
  readonly bundleKey: string;
}

export type BodyResult = { ok: true; body: DecodedBody } | { ok: false; error: string };

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const text = (v: bigint): string => v.toString();

function readId(r: MessagePackReader, maxBytes: number, allowNil: boolean): string | null {
  if (r.tryReadNil()) {
    if (allowNil) return null;
    throw new MalformedBodyError('nil where a string is required');
  }
  if (r.nextType !== 'string') throw new MalformedBodyError(`${r.nextType} where a string is required`);
  const bytes = r.readStringBytes();
  if (bytes.length === 0) throw new MalformedBodyError('empty string');
  if (bytes.length > maxBytes) throw new MalformedBodyError(`string of ${bytes.length} bytes, at most ${maxBytes}`);
  return MessagePackReader.decodeUtf8(bytes);
}

function readAppData(r: MessagePackReader): Uint8Array {
  if (r.nextType !== 'binary') throw new MalformedBodyError(`${r.nextType} where bin is required`);
  const app = r.readBinary();
  if (app.length > MAX_APP_DATA_LENGTH) throw new MalformedBodyError(`app data of ${app.length} bytes, at most ${MAX_APP_DATA_LENGTH}`);
  return app.slice();
}

function readSafe(r: MessagePackReader, nonNegative: boolean): bigint {
  if (r.nextType !== 'integer') throw new MalformedBodyError(`${r.nextType} where an integer is required`);
  const value = r.readInt64();
  if (value > MAX_SAFE || value < (nonNegative ? 0n : -MAX_SAFE)) {
    throw new MalformedBodyError(nonNegative ? `${value} is outside 0 to 2^53 - 1` : `${value} is outside ±(2^53 - 1)`);
  }
  return value;
}

function cue(kind: number, stream: string, seq: bigint, issued: bigint, offset: bigint, cueId: string, window: bigint, spread: bigint, app: Uint8Array): ExactMessage {
  const contentKey = JSON.stringify([kind, stream, text(seq), cueId, text(window), text(spread), hex(app)]);
  const message: CueMessage = {
    kind: KIND_NAMES[kind] as CueKind, streamId: stream, seq: Number(seq), issuedAtUs: Number(issued), targetOffset90k: Number(offset),
    cueId, window90k: Number(window), spreadUs: Number(spread), appData: app,
  };
  return { message, isCue: true, seq, contentKey, fullKey: JSON.stringify([contentKey, text(issued), text(offset)]) };
}

function heartbeat(stream: string, seq: bigint, issued: bigint, wall: bigint, pts: bigint, uncertainty: bigint, server: string | null): ExactMessage {
  const contentKey = JSON.stringify([text(wall), text(pts), text(uncertainty), server]);
  const message: HeartbeatMessage = {
    kind: 'heartbeat', streamId: stream, seq: Number(seq), issuedAtUs: Number(issued), injectionWallUs: Number(wall), carrierPts: Number(pts),
    uncertaintyUs: Number(uncertainty), timeServer: server,
  };
  return { message, isCue: false, seq, contentKey, fullKey: JSON.stringify([4, stream, text(seq), text(issued), contentKey]) };
}

const V1_FIELDS = ['kind', 'stream_id', 'seq', 'issued_at_us', 'target_offset_90k|injection_wall_us', 'cue_id|carrier_pts', 'window_90k|uncertainty_us', 'spread_us|time_server', 'app_data'];

/** Version 1 body (section 3.1): `[kind, stream_id, seq, issued_at_us, ...]`, 9 fields for a cue, 8 for a heartbeat. */
export function decodeV1Body(body: Uint8Array): BodyResult {
  const r = new MessagePackReader(body);
  let field = -1;
  try {
    if (r.tryReadNil()) return fail('body is nil', r.consumed, '');
    const count = r.readArrayHeader();
    if (count < 1) throw new MalformedBodyError('empty array');
    field = 0;
    const kind = r.readByte();
    const isHeartbeat = kind === 4;
    if (!isHeartbeat && !(kind >= 1 && kind <= 5)) throw new MalformedBodyError(`unknown kind ${kind}`);
    const needed = isHeartbeat ? 8 : 9;
    if (count < needed) throw new MalformedBodyError(`${isHeartbeat ? 'heartbeat' : 'cue'} array has ${count} fields, needs ${needed}`);
    field = 1;
    const stream = readId(r, MAX_ID_LENGTH, false)!;
    field = 2;
    const seq = r.readInt64();
    if (seq < 0n) throw new MalformedBodyError(`sequence number ${seq} is negative`);
    field = 3;
    const issued = r.readInt64();
    let m: ExactMessage;
    if (isHeartbeat) {
      field = 4;
      const wall = r.readInt64();
      field = 5;
      const pts = r.readInt64();
      if (pts < 0n || pts > MAX_PTS) throw new MalformedBodyError(`carrier PTS ${pts} is not a 33-bit value`);
      field = 6;
      const uncertainty = r.readInt64();
      if (uncertainty < 0n) throw new MalformedBodyError(`uncertainty ${uncertainty} is negative`);
      field = 7;
      const server = readId(r, MAX_TIME_SERVER_LENGTH, true);
      m = heartbeat(stream, seq, issued, wall, pts, uncertainty, server);
    } else {
      field = 4;
      const offset = r.readInt64();
      field = 5;
      const cueId = readId(r, MAX_ID_LENGTH, false)!;
      field = 6;
      const window = r.readInt64();
      if (window < 0n) throw new MalformedBodyError(`window ${window} is negative`);
      field = 7;
      const spread = r.readInt64();
      if (spread < 0n) throw new MalformedBodyError(`spread ${spread} is negative`);
      field = 8;
      const app = readAppData(r);
      m = cue(kind, stream, seq, issued, offset, cueId, window, spread, app);
    }
    for (field = needed; field < count; field++) r.skip();
    if (!r.end) return fail(`${body.length - r.consumed} bytes after the array`, r.consumed, '');
    return { ok: true, body: { version: 1, streamId: stream, seq, issuedAt: issued, messages: [m], bundle: null, bundleKey: '' } };
  } catch (e) {
    if (!(e instanceof MalformedBodyError)) throw e;
    const name = field >= 0 ? ` field ${field}${field < V1_FIELDS.length ? ` (${V1_FIELDS[field]})` : ''}` : '';
    return fail(e.message, r.consumed, name);
  }
}

const V2_FIELDS = ['stream_id', 'seq', 'issued_at_us', 'entries'];
const V2_CUE_FIELDS = ['kind', 'cue_seq', 'target_offset_90k', 'cue_id', 'window_90k', 'spread_us', 'app_data'];
const V2_HEARTBEAT_FIELDS = ['kind', 'injection_wall_us', 'carrier_pts', 'uncertainty_us', 'time_server'];

/** Version 2 body (section 3.2): `[stream_id, seq, issued_at_us, [entry, ...]]`, 1-256 entries, at most one heartbeat. */
export function decodeV2Body(body: Uint8Array): BodyResult {
  const r = new MessagePackReader(body);
  const at = { field: -1, entry: -1, entryField: -1, heartbeat: false };
  const where = (): string => {
    if (at.field < 0) return '';
    const name = ` field ${at.field}${at.field < V2_FIELDS.length ? ` (${V2_FIELDS[at.field]})` : ''}`;
    if (at.entry < 0 || at.entryField < 0) return name;
    const names = at.heartbeat ? V2_HEARTBEAT_FIELDS : V2_CUE_FIELDS;
    return `${name} entry ${at.entry} field ${at.entryField}${at.entryField < names.length ? ` (${names[at.entryField]})` : ''}`;
  };
  try {
    if (r.tryReadNil()) return fail('body is nil', r.consumed, '');
    const count = r.readArrayHeader();
    if (count < 4) throw new MalformedBodyError(`bundle array has ${count} fields, needs 4`);
    at.field = 0;
    const stream = readId(r, MAX_ID_LENGTH, false)!;
    at.field = 1;
    const seq = readSafe(r, true);
    at.field = 2;
    const issued = readSafe(r, false);
    at.field = 3;
    const entries = r.readArrayHeader();
    if (entries === 0 || entries > MAX_BUNDLE_ENTRIES) throw new MalformedBodyError(`${entries} entries, 1 to ${MAX_BUNDLE_ENTRIES} allowed`);
    const messages: ExactMessage[] = [];
    const cueSeqs = new Set<bigint>();
    let heartbeats = 0;
    for (at.entry = 0; at.entry < entries; at.entry++) {
      at.entryField = -1;
      const fields = r.readArrayHeader();
      if (fields < 1) throw new MalformedBodyError('empty entry array');
      at.entryField = 0;
      const kind = r.readByte();
      at.heartbeat = kind === 4;
      let known: number;
      if (kind === 4) {
        if (++heartbeats > 1) throw new MalformedBodyError('a second heartbeat entry');
        if (fields < 5) throw new MalformedBodyError(`heartbeat entry has ${fields} fields, needs 5`);
        at.entryField = 1;
        const wall = readSafe(r, false);
        at.entryField = 2;
        const pts = r.readInt64();
        if (pts < 0n || pts > MAX_PTS) throw new MalformedBodyError(`carrier PTS ${pts} is not a 33-bit value`);
        at.entryField = 3;
        const uncertainty = readSafe(r, true);
        at.entryField = 4;
        const server = readId(r, MAX_TIME_SERVER_LENGTH, true);
        messages.push(heartbeat(stream, seq, issued, wall, pts, uncertainty, server));
        known = 5;
      } else if (kind >= 1 && kind <= 5) {
        if (fields < 7) throw new MalformedBodyError(`cue entry has ${fields} fields, needs 7`);
        at.entryField = 1;
        const cueSeq = readSafe(r, true);
        at.entryField = 2;
        const offset = readSafe(r, false);
        at.entryField = 3;
        const cueId = readId(r, MAX_ID_LENGTH, false)!;
        at.entryField = 4;
        const window = readSafe(r, true);
        at.entryField = 5;
        const spread = readSafe(r, true);
        at.entryField = 6;
        const app = readAppData(r);
        if (cueSeqs.has(cueSeq)) throw new MalformedBodyError(`cue sequence number ${cueSeq} appears twice`);
        cueSeqs.add(cueSeq);
        messages.push(cue(kind, stream, cueSeq, issued, offset, cueId, window, spread, app));
        known = 7;
      } else {
        throw new MalformedBodyError(`unknown kind ${kind}`);
      }
      for (at.entryField = known; at.entryField < fields; at.entryField++) r.skip();
    }
    at.entry = -1;
    for (at.field = 4; at.field < count; at.field++) r.skip();
    if (!r.end) return fail(`${body.length - r.consumed} bytes after the array`, r.consumed, '');
    const bundle: MessageBundle = { streamId: stream, seq: Number(seq), issuedAtUs: Number(issued), entries: messages.map((m) => m.message) };
    const bundleKey = JSON.stringify([stream, text(seq), text(issued), messages.map((m) => m.fullKey)]);
    return { ok: true, body: { version: 2, streamId: stream, seq, issuedAt: issued, messages, bundle, bundleKey } };
  } catch (e) {
    if (!(e instanceof MalformedBodyError)) throw e;
    return fail(e.message, r.consumed, where());
  }
}

function fail(what: string, offset: number, field: string): BodyResult {
  return { ok: false, error: `malformed body at body offset ${offset}${field}: ${what}` };
}

/** True when the payload starts with the CatEvening UUID (it may still be malformed: the verifier says). */
export function hasCatEveningUuid(payload: Uint8Array): boolean {
  if (payload.length < 16) return false;
  for (let i = 0; i < 16; i++) if (payload[i] !== CATEVENING_UUID[i]) return false;
  return true;
}
