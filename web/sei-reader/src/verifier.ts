// The verifier (docs/sei-format.md section 6, "Verifying, in order"): the same checks, order, reasons, replay window,
// repeat handling, cache and budget as the C# MessageVerifier and SequenceWindow. Signatures are checked with
// WebCrypto (ECDSA P-256, SHA-256, IEEE P1363 r || s: what the payload carries, no DER conversion needed).
import { decodeV1Body, decodeV2Body, Envelope, hasCatEveningUuid, type CatEveningMessage, type DecodedBody, type MessageBundle } from './messages.js';
import type { KeyRing } from './keys.js';

/** Why a payload was refused; the values are those of the C# RejectionReason. */
export const RejectionReason = {
  BadSignature: 1,
  UnknownKeyId: 2,
  OtherStream: 3,
  ReplayedSequence: 4,
  SequenceTooFarBehind: 5,
  IssuedTooLongAgo: 6,
  UnknownFormatVersion: 7,
  MalformedBody: 8,
  MalformedEnvelope: 9,
  NonCanonicalSignature: 10,
  VerificationBudgetExceeded: 11,
  AccessUnitLimit: 12,
  IssuedInFuture: 13,
} as const;
export type RejectionReasonName = keyof typeof RejectionReason;

export type VerificationStatus = 'NotCatEvening' | 'Accepted' | 'Repeat' | 'Rejected';

export interface VerificationResult {
  readonly status: VerificationStatus;
  /** Why it was refused (status Rejected), else null. */
  readonly reason: RejectionReasonName | null;
  /** For refusals: what is wrong, naming the offset or field. */
  readonly detail: string | null;
  /** The key id from the envelope, or -1 when the payload is too short to hold one. */
  readonly keyId: number;
  /** True when these exact bytes were verified before and the remembered result was used. */
  readonly fromCache: boolean;
  /** Every message of the payload (version 1: one; version 2: the bundle's entries) once the body parsed, else empty. */
  readonly messages: readonly CatEveningMessage[];
  /** Version 2: the bundle. */
  readonly bundle: MessageBundle | null;
  /** What to act on when Accepted: the version-1 message, or the bundle entries not reported before (carousel repeats
   * of a cue are left out; the heartbeat is always new). Empty otherwise. */
  readonly newMessages: readonly CatEveningMessage[];
  /** The number the replay window checked (version 2: the transmission's), or -1 when the body could not be read. */
  readonly transmissionSeq: number;
}

export interface VerifierOptions {
  /** Stream ids to accept; empty accepts every stream (right for tools, wrong for a client app). */
  streamIds?: Iterable<string>;
  /** Maximum age of issued-at by the verifier's clock, µs. Default 120,000,000 (2 minutes). */
  maxAgeUs?: number;
  /** Tolerated lead of issued-at over the verifier's clock, µs. Default 120,000,000 (2 minutes). */
  maxClockSkewUs?: number;
  /** Whether issued-at is checked at all (false only for recordings the app knows to be recordings). Default true. */
  checkIssuedAt?: boolean;
  /** Replay window, in sequence numbers, rounded up to a multiple of 64. 64 to 16,777,216; default 65,536. */
  replayWindow?: number;
  /** Payloads remembered by their exact bytes. 1 to 65,536; default 256. */
  cacheSize?: number;
  /** ECDSA verifications per second (token bucket by the verifier's clock). Default 240. */
  maxVerificationsPerSecond?: number;
  /** Bucket size. Default 2,400. */
  verificationBurst?: number;
  /** CatEvening payloads looked at per access unit. Default 16. */
  maxPayloadsPerAccessUnit?: number;
}

/** The state of one access unit under the per-access-unit rules: a fresh object per access unit. */
export class AccessUnitScope {
  catEveningPayloads = 0;
  /** Payloads that reached the signature step (docs/sei-format.md 6, step 7 on): the ones the access unit holds. */
  held = 0;
  closed = false;
  signatureVerifications = 0;
  skipped = 0;
}

// Steps 2 to 6 of docs/sei-format.md 6: refused without an ECDSA verification, so such a payload neither ends the
// access unit nor counts as the one version-2 payload it may hold.
const REFUSED_BEFORE_SIGNATURE: ReadonlySet<RejectionReasonName> = new Set<RejectionReasonName>(
  ['MalformedEnvelope', 'UnknownFormatVersion', 'UnknownKeyId', 'NonCanonicalSignature']);

const TRACKED_CUES = 4096;
const TRACKED_HEARTBEATS = 256;
const MAX_INT64 = (1n << 63n) - 1n;
const HALF_ORDER = Uint8Array.from([
  0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8]);

/** True when the 32-byte big-endian s is at most ⌊n / 2⌋ (P-256 order n): the low-s rule, checked before verifying. */
export function isLowS(s: Uint8Array): boolean {
  if (s.length !== 32) return false;
  for (let i = 0; i < 32; i++) if (s[i] !== HALF_ORDER[i]) return s[i] < HALF_ORDER[i];
  return true;
}

/** A map that forgets its oldest entry past its capacity; adding a key already there changes nothing. */
class BoundedStore<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly capacity: number) {}
  get(key: bigint): T | undefined {
    return this.map.get(key.toString());
  }
  add(key: bigint, value: T): void {
    const k = key.toString();
    if (this.map.has(k)) return;
    if (this.map.size === this.capacity) this.map.delete(this.map.keys().next().value as string);
    this.map.set(k, value);
  }
}

type Admission = { status: 'Accepted' | 'Repeat' | 'Rejected'; reason?: RejectionReasonName; detail?: string; fresh?: CatEveningMessage[] };

/**
 * Anti-replay state of one stream (RFC 4303 §3.4.3): the highest number accepted and a bitmap of the window below it,
 * plus the content of recent cues, heartbeats and bundles to tell a repeat (same number, same content) from a replay.
 * Version 2 checks the bundle's transmission number, then each cue's identity (cue sequence number and content).
 */
class SequenceWindow {
  private readonly bits: Uint32Array;
  private readonly window: bigint;
  private readonly cues = new BoundedStore<{ contentKey: string }>(TRACKED_CUES);
  private readonly heartbeats = new BoundedStore<{ contentKey: string }>(TRACKED_HEARTBEATS);
  private readonly bundles = new BoundedStore<string>(TRACKED_HEARTBEATS);
  private highest = -1n;

  constructor(window: number) {
    const words = Math.ceil(window / 64);
    this.window = BigInt(words * 64);
    this.bits = new Uint32Array(words * 2);
  }

  admit(body: DecodedBody): Admission {
    const seq = body.seq;
    const what = body.version === 2 ? 'transmission sequence number' : 'sequence number';
    if (this.highest >= 0n && seq <= this.highest - this.window) {
      return { status: 'Rejected', reason: 'SequenceTooFarBehind', detail: `${what} ${seq} is ${this.highest - seq} behind the highest accepted (${this.highest}); the window is ${this.window}` };
    }
    if (this.highest >= 0n && seq <= this.highest && this.isSet(seq)) {
      let same = false;
      if (body.version === 2) same = this.bundles.get(seq) === body.bundleKey;
      else {
        const m = body.messages[0];
        same = (m.isCue ? this.cues : this.heartbeats).get(seq)?.contentKey === m.contentKey;
      }
      if (same) return { status: 'Repeat' };
      return { status: 'Rejected', reason: 'ReplayedSequence', detail: `${what} ${seq} was already accepted with other content` };
    }
    let fresh: CatEveningMessage[] | undefined;
    if (body.version === 2) {
      fresh = [];
      for (const m of body.messages) {
        if (m.isCue) {
          const known = this.cues.get(m.seq);
          if (known) {
            if (known.contentKey === m.contentKey) continue;
            return { status: 'Rejected', reason: 'ReplayedSequence', detail: `cue sequence number ${m.seq} was already accepted with other content` };
          }
        }
        fresh.push(m.message);
      }
    }
    if (seq > this.highest) this.advance(seq);
    this.set(seq);
    if (body.version === 2) {
      this.bundles.add(seq, body.bundleKey);
      for (const m of body.messages) if (m.isCue && fresh!.includes(m.message)) this.cues.add(m.seq, m);
    } else {
      const m = body.messages[0];
      (m.isCue ? this.cues : this.heartbeats).add(seq, m);
    }
    return { status: 'Accepted', fresh };
  }

  private advance(seq: bigint): void {
    if (this.highest < 0n || seq - this.highest >= this.window) this.bits.fill(0);
    else for (let s = this.highest + 1n; s <= seq; s++) this.clear(s);
    this.highest = seq;
  }

  private index(seq: bigint): number {
    return Number(seq % this.window);
  }
  private isSet(seq: bigint): boolean {
    const i = this.index(seq);
    return (this.bits[i >>> 5] & (1 << (i & 31))) !== 0;
  }
  private set(seq: bigint): void {
    const i = this.index(seq);
    this.bits[i >>> 5] |= 1 << (i & 31);
  }
  private clear(seq: bigint): void {
    const i = this.index(seq);
    this.bits[i >>> 5] &= ~(1 << (i & 31));
  }
}

interface CacheEntry {
  bytes: Uint8Array;
  keyKnown: boolean;
  signatureValid: boolean;
  nonCanonical: boolean;
  body: DecodedBody | null;
  parseError: string | null;
  accepted: boolean;
}

const EMPTY: readonly CatEveningMessage[] = Object.freeze([]);
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const ACCESS_UNIT_LIMIT_DETAIL = 'refused unchecked: the access unit already holds a version-2 payload, a failed signature or the maximum number of payloads';

/**
 * Checks CatEvening payloads of format version 1 and 2 in the order of docs/sei-format.md section 6, stopping at the
 * first failure. Never throws on bad bytes. Calls are serialised: each {@link verify} sees the state left by the ones
 * before it, whatever the order in which WebCrypto finishes.
 */
export class MessageVerifier {
  private readonly streams: Set<string>;
  private readonly maxAge: bigint;
  private readonly maxSkew: bigint;
  private readonly checkIssuedAt: boolean;
  private readonly replayWindow: number;
  private readonly cacheSize: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxPerAccessUnit: number;
  private readonly windows = new Map<string, SequenceWindow>();
  private readonly cache = new Map<string, CacheEntry>();
  private ringVersion: number;
  private budget = 0;
  private budgetAt: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** ECDSA verifications done (identical bytes answered by the cache are not counted). */
  signatureVerifications = 0;
  /** Payloads refused as VerificationBudgetExceeded. */
  refusedOverBudget = 0;

  constructor(private readonly keys: KeyRing, options: VerifierOptions = {}) {
    this.streams = new Set(options.streamIds ?? []);
    const maxAge = options.maxAgeUs ?? 120_000_000;
    const maxSkew = options.maxClockSkewUs ?? 120_000_000;
    this.replayWindow = options.replayWindow ?? 65_536;
    this.cacheSize = options.cacheSize ?? 256;
    this.rate = options.maxVerificationsPerSecond ?? 240;
    this.burst = options.verificationBurst ?? 2400;
    this.maxPerAccessUnit = options.maxPayloadsPerAccessUnit ?? 16;
    const check = (ok: boolean, name: string, value: number, rule: string) => {
      if (!ok) throw new RangeError(`${name} ${value}: ${rule}`);
    };
    check(Number.isSafeInteger(maxAge) && maxAge > 0, 'maxAgeUs', maxAge, 'must be a positive integer');
    check(Number.isSafeInteger(maxSkew) && maxSkew >= 0, 'maxClockSkewUs', maxSkew, 'must be an integer ≥ 0');
    check(Number.isInteger(this.replayWindow) && this.replayWindow >= 64 && this.replayWindow <= 1 << 24, 'replayWindow', this.replayWindow, 'must be 64 to 16,777,216');
    check(Number.isInteger(this.cacheSize) && this.cacheSize >= 1 && this.cacheSize <= 1 << 16, 'cacheSize', this.cacheSize, 'must be 1 to 65,536');
    check(Number.isInteger(this.rate) && this.rate >= 1 && this.rate <= 1_000_000, 'maxVerificationsPerSecond', this.rate, 'must be 1 to 1,000,000');
    check(Number.isInteger(this.burst) && this.burst >= 1 && this.burst <= 100_000_000, 'verificationBurst', this.burst, 'must be 1 to 100,000,000');
    check(Number.isInteger(this.maxPerAccessUnit) && this.maxPerAccessUnit >= 1 && this.maxPerAccessUnit <= 1024, 'maxPayloadsPerAccessUnit', this.maxPerAccessUnit, 'must be 1 to 1,024');
    this.maxAge = BigInt(maxAge);
    this.maxSkew = BigInt(maxSkew);
    this.checkIssuedAt = options.checkIssuedAt ?? true;
    this.ringVersion = keys.version;
  }

  /**
   * Verifies one user_data_unregistered payload (UUID first). With a scope, the per-access-unit rules apply: pass
   * the same {@link AccessUnitScope} for every payload of one access unit, a new one for the next.
   * @param nowUs UTC now, µs since the Unix epoch (a server-corrected clock is best): age, skew and budget.
   */
  verify(payload: Uint8Array, nowUs: number, scope: AccessUnitScope = new AccessUnitScope()): Promise<VerificationResult> {
    const run = this.queue.then(() => this.verifyInScope(payload.slice(), nowUs, scope));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async verifyInScope(payload: Uint8Array<ArrayBuffer>, nowUs: number, scope: AccessUnitScope): Promise<VerificationResult> {
    if (!hasCatEveningUuid(payload)) return result('NotCatEvening', null, null, -1, false);
    const index = ++scope.catEveningPayloads;
    const version2 = payload.length > Envelope.versionOffset && payload[Envelope.versionOffset] >= 2;
    // docs/sei-format.md 6, "Bounded reader work": a version-2 payload is alone among the payloads the access unit
    // holds; payloads refused before step 8 (another injector's key upstream, a bad envelope) are not held.
    if (version2 && scope.held > 0) scope.closed = true;
    if (scope.closed || index > this.maxPerAccessUnit) {
      scope.skipped++;
      return result('Rejected', 'AccessUnitLimit', ACCESS_UNIT_LIMIT_DETAIL, -1, false);
    }
    const verified = { signature: false };
    const r = await this.verifyOne(payload, nowUs, verified);
    if (verified.signature) scope.signatureVerifications++;
    // The last payload allowed closes the access unit whatever became of it: unknown-key payloads cost no ECDSA but a
    // cache look-up each, so their number stays bounded too.
    if (index >= this.maxPerAccessUnit) scope.closed = true;
    if (r.reason !== null && REFUSED_BEFORE_SIGNATURE.has(r.reason)) return r;
    scope.held++;
    // A failed signature, now or known from the cache, ends the access unit's checks, as does the budget running out
    // and a held version-2 payload.
    if (r.reason === 'BadSignature' || r.reason === 'VerificationBudgetExceeded' || version2) scope.closed = true;
    return r;
  }

  private async verifyOne(payload: Uint8Array<ArrayBuffer>, nowUs: number, verified: { signature: boolean }): Promise<VerificationResult> {
    const { versionOffset, keyIdOffset, bodyOffset, signatureLength, minPayloadLength } = Envelope;
    if (payload.length <= versionOffset) {
      return result('Rejected', 'MalformedEnvelope', `payload of ${payload.length} bytes ends before the format version at offset ${versionOffset}`, -1, false);
    }
    const version = payload[versionOffset];
    if (version !== 1 && version !== 2) {
      return result('Rejected', 'UnknownFormatVersion', `format version ${version} at offset ${versionOffset}; this reader knows 1 and 2`, -1, false);
    }
    const keyId = payload.length >= bodyOffset ? (payload[keyIdOffset] << 8) | payload[keyIdOffset + 1] : -1;
    const maxLength = version === 1 ? Envelope.maxPayloadLengthV1 : Envelope.maxPayloadLengthV2;
    if (payload.length < minPayloadLength || payload.length > maxLength) {
      return result('Rejected', 'MalformedEnvelope', `payload of ${payload.length} bytes; a version-${version} envelope has ${minPayloadLength} to ${maxLength}`, keyId, false);
    }

    if (this.keys.version !== this.ringVersion) {
      this.cache.clear();
      this.ringVersion = this.keys.version;
    }
    const signedLength = payload.length - signatureLength;
    const slot = cacheSlot(payload);
    let entry = this.cache.get(slot);
    if (entry && !sameBytes(entry.bytes, payload)) entry = undefined;
    const fromCache = entry !== undefined;
    if (!entry) {
      const key = this.keys.get(keyId);
      if (!key) {
        this.remember(slot, { bytes: payload, keyKnown: false, signatureValid: false, nonCanonical: false, body: null, parseError: null, accepted: false });
        return unknownKey(keyId, false);
      }
      if (!isLowS(payload.subarray(signedLength + 32))) {
        this.remember(slot, { bytes: payload, keyKnown: true, signatureValid: false, nonCanonical: true, body: null, parseError: null, accepted: false });
        return nonCanonical(payload, keyId, false);
      }
      if (!this.takeBudget(nowUs)) {
        this.refusedOverBudget++;
        return result('Rejected', 'VerificationBudgetExceeded', `more than ${this.rate} signature verifications per second: refused unverified`, keyId, false);
      }
      verified.signature = true;
      this.signatureVerifications++;
      const valid = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, payload.subarray(signedLength), payload.subarray(0, signedLength));
      let body: DecodedBody | null = null;
      let parseError: string | null = null;
      if (valid) {
        const bytes = payload.subarray(bodyOffset, signedLength);
        const parsed = version === 1 ? decodeV1Body(bytes) : decodeV2Body(bytes);
        if (parsed.ok) body = parsed.body;
        else parseError = parsed.error;
      }
      entry = { bytes: payload, keyKnown: true, signatureValid: valid, nonCanonical: false, body, parseError, accepted: false };
      this.remember(slot, entry);
    }

    if (!entry.keyKnown) return unknownKey(keyId, fromCache);
    if (entry.nonCanonical) return nonCanonical(payload, keyId, fromCache);
    if (!entry.signatureValid) {
      return result('Rejected', 'BadSignature', `the signature at offset ${signedLength} does not verify with key id ${keyId}`, keyId, fromCache);
    }
    const body = entry.body;
    if (!body) return result('Rejected', 'MalformedBody', `${entry.parseError} (body starts at payload offset ${bodyOffset})`, keyId, fromCache);
    if (entry.accepted) return result('Repeat', null, null, keyId, true, body);

    if (this.streams.size > 0 && !this.streams.has(body.streamId)) {
      return result('Rejected', 'OtherStream', `stream id '${body.streamId}' is not one this verifier accepts`, keyId, fromCache, body);
    }
    const now = BigInt(Math.trunc(nowUs));
    if (this.checkIssuedAt && body.issuedAt < now - this.maxAge) {
      return result('Rejected', 'IssuedTooLongAgo', `issued ${Number(now - body.issuedAt) / 1000} ms ago, more than the maximum age of ${this.maxAge / 1000n} ms`, keyId, fromCache, body);
    }
    // Skipped when now + skew would overflow a signed 64-bit value, as in the C# reader.
    if (this.checkIssuedAt && now <= MAX_INT64 - this.maxSkew && body.issuedAt > now + this.maxSkew) {
      return result('Rejected', 'IssuedInFuture', `issued ${Number(body.issuedAt - now) / 1000} ms after the verifier's clock, more than the tolerated skew of ${this.maxSkew / 1000n} ms`, keyId, fromCache, body);
    }

    let window = this.windows.get(body.streamId);
    if (!window) {
      window = new SequenceWindow(this.replayWindow);
      this.windows.set(body.streamId, window);
    }
    const admission = window.admit(body);
    if (admission.status === 'Rejected') return result('Rejected', admission.reason!, admission.detail!, keyId, fromCache, body);
    entry.accepted = true;
    return result(admission.status, null, null, keyId, fromCache, body, admission.fresh);
  }

  // Token bucket refilled at `rate` per second of the caller's clock, holding at most `burst`; a clock that steps back
  // restarts the refill from the new time.
  private takeBudget(nowUs: number): boolean {
    if (this.budgetAt === null) this.budget = this.burst;
    else if (nowUs > this.budgetAt) this.budget = Math.min(this.burst, this.budget + ((nowUs - this.budgetAt) * this.rate) / 1_000_000);
    this.budgetAt = nowUs;
    if (this.budget < 1) return false;
    this.budget -= 1;
    return true;
  }

  // Bounded, oldest first out (the C# cache is two-way set-associative by a keyed hash of the signature; either way a payload
  // is found only by its exact bytes, and forgetting one costs a verification, never a wrong verdict).
  private remember(slot: string, entry: CacheEntry): void {
    this.cache.delete(slot);
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(slot, entry);
  }
}

function cacheSlot(payload: Uint8Array): string {
  let s = '';
  for (let i = payload.length - 64; i < payload.length; i++) s += String.fromCharCode(payload[i]);
  return s;
}

function result(status: VerificationStatus, reason: RejectionReasonName | null, detail: string | null, keyId: number, fromCache: boolean,
  body: DecodedBody | null = null, fresh?: readonly CatEveningMessage[]): VerificationResult {
  const messages = body ? body.messages.map((m) => m.message) : EMPTY;
  return {
    status, reason, detail, keyId, fromCache, messages, bundle: body?.bundle ?? null,
    newMessages: status !== 'Accepted' ? EMPTY : fresh ?? messages,
    transmissionSeq: body ? Number(body.seq) : -1,
  };
}

const unknownKey = (keyId: number, fromCache: boolean) =>
  result('Rejected', 'UnknownKeyId', `key id ${keyId} at offset ${Envelope.keyIdOffset} is not in the key ring`, keyId, fromCache);
const nonCanonical = (payload: Uint8Array, keyId: number, fromCache: boolean) =>
  result('Rejected', 'NonCanonicalSignature', `the signature's s at offset ${payload.length - 32} is above n/2 (high s): CatEvening signers write s <= n/2`, keyId, fromCache);
