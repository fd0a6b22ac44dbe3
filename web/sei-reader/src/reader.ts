// The client entry point, like the C# CueReader but fed the user_data_unregistered payloads the web players hand out
// (hls.js FRAG_PARSING_USERDATA, mpegts.js SEI_ARRIVED) instead of whole packets: it verifies them, reports each new
// cue and heartbeat once with the presentation time to act at, and each refused payload once.
import { AccessUnitScope, MessageVerifier, type RejectionReasonName, type VerificationResult, type VerifierOptions } from './verifier.js';
import type { CueMessage, HeartbeatMessage } from './messages.js';
import type { KeyRing } from './keys.js';

/** Where a payload was found: its carrier frame's presentation time in some time base, and its access unit. */
export interface Carrier {
  /** The carrier frame's PTS in ticks of `timeBase` (on the playback timeline for the adapters), or null if unknown. */
  pts: number | null;
  /** Ticks per second of `pts` (the adapters: 90,000 for hls.js, 1,000 for mpegts.js). */
  timeBase: number;
  /** Payloads with the same key, fed one after another, are one access unit (per-access-unit rules). The adapters
   * use the carrier PTS. Undefined: the payload is an access unit on its own. */
  accessUnit?: string | number;
}

export interface CueEvent {
  readonly cue: CueMessage;
  readonly carrierPts: number | null;
  /** carrierPts + the cue's offset rescaled to `timeBase` (rounded half away from zero), or null without a carrier PTS. */
  readonly targetPts: number | null;
  readonly timeBase: number;
  readonly keyId: number;
  readonly transmissionSeq: number;
}

export interface HeartbeatEvent {
  readonly heartbeat: HeartbeatMessage;
  readonly carrierPts: number | null;
  readonly timeBase: number;
  readonly keyId: number;
}

export interface RejectedEvent {
  readonly reason: RejectionReasonName;
  readonly detail: string;
  readonly keyId: number;
  readonly carrierPts: number | null;
  readonly timeBase: number;
}

/**
 * What a reader has seen since it was created. Two units: `payloads`, `rejected`, `skippedByAccessUnitRules` and
 * `refusedOverBudget` count CatEvening payloads (one user_data_unregistered SEI each; a version-2 payload carries every
 * message of its frame); `accepted` and `repeats` count messages (a cue or heartbeat inside a payload).
 */
export interface ReaderStatistics {
  /** CatEvening payloads fed (other UUIDs are not counted). */
  payloads: number;
  /** New messages reported by a `cue` or `heartbeat` event. */
  accepted: number;
  /** Messages already reported (carousel copies, keyframe repeats, identical bytes answered from the cache). */
  repeats: number;
  /** Payloads refused, each reported by a `rejected` event. */
  rejected: number;
  /** ECDSA verifications run (at most one per access unit for version 2). */
  signatureVerifications: number;
  /** Payloads refused unchecked by the per-access-unit rules (`AccessUnitLimit`); no event. */
  skippedByAccessUnitRules: number;
  /** Payloads refused because the per-second verification budget was spent (`VerificationBudgetExceeded`). */
  refusedOverBudget: number;
}

type Listeners = { cue: (e: CueEvent) => void; heartbeat: (e: HeartbeatEvent) => void; rejected: (e: RejectedEvent) => void };

export interface SeiReaderOptions extends VerifierOptions {
  /** The trusted keys. */
  keyRing: KeyRing;
  /** UTC now in µs since the Unix epoch, for the age checks; best corrected against a time server. Default Date.now() × 1000. */
  nowUs?: () => number;
}

/** Rescales `value` ticks of `from` Hz to `to` Hz, rounding half away from zero (as the C# TimeBase.Rescale). */
export function rescale(value: number, from: number, to: number): number {
  if (from === to) return value;
  const num = BigInt(value) * BigInt(to);
  const den = BigInt(from);
  const negative = num < 0n;
  const abs = negative ? -num : num;
  const q = (2n * abs + den) / (2n * den);
  return Number(negative ? -q : q);
}

/**
 * Verifies CatEvening payloads and reports what is new. Feed payloads in stream (decode) order; `feed` may be called
 * without awaiting: payloads are verified one after another in the order given. Events are raised in that order.
 */
export class SeiReader {
  readonly verifier: MessageVerifier;
  private readonly nowUs: () => number;
  private readonly listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = { cue: new Set(), heartbeat: new Set(), rejected: new Set() };
  private scope = new AccessUnitScope();
  private scopeKey: string | number | undefined;
  private readonly stats: ReaderStatistics = { payloads: 0, accepted: 0, repeats: 0, rejected: 0, signatureVerifications: 0, skippedByAccessUnitRules: 0, refusedOverBudget: 0 };

  constructor(options: SeiReaderOptions) {
    this.verifier = new MessageVerifier(options.keyRing, options);
    this.nowUs = options.nowUs ?? (() => Date.now() * 1000);
  }

  on<K extends keyof Listeners>(event: K, listener: Listeners[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  get statistics(): Readonly<ReaderStatistics> {
    return { ...this.stats, signatureVerifications: this.verifier.signatureVerifications, refusedOverBudget: this.verifier.refusedOverBudget };
  }

  /**
   * Reads one user_data_unregistered payload (UUID first; other UUIDs are ignored). Resolves to the verdict once the
   * events it raised have been raised. Never rejects on bad bytes.
   */
  feed(payload: Uint8Array, carrier: Carrier): Promise<VerificationResult> {
    if (carrier.accessUnit === undefined || carrier.accessUnit !== this.scopeKey) this.scope = new AccessUnitScope();
    this.scopeKey = carrier.accessUnit;
    const scope = this.scope;
    return this.verifier.verify(payload, this.nowUs(), scope).then((r) => {
      this.handle(r, carrier);
      return r;
    });
  }

  private handle(r: VerificationResult, carrier: Carrier): void {
    if (r.status === 'NotCatEvening') return;
    this.stats.payloads++;
    const { pts, timeBase } = carrier;
    switch (r.status) {
      case 'Accepted':
        this.stats.repeats += r.messages.length - r.newMessages.length;
        for (const m of r.newMessages) {
          this.stats.accepted++;
          if (m.kind === 'heartbeat') {
            this.emit('heartbeat', { heartbeat: m, carrierPts: pts, timeBase, keyId: r.keyId });
          } else {
            const targetPts = pts === null ? null : pts + rescale(m.targetOffset90k, 90_000, timeBase);
            this.emit('cue', { cue: m, carrierPts: pts, targetPts, timeBase, keyId: r.keyId, transmissionSeq: r.transmissionSeq });
          }
        }
        return;
      case 'Repeat':
        this.stats.repeats += Math.max(1, r.messages.length);
        return;
      default:
        if (r.reason === 'AccessUnitLimit') {
          // Counted, never raised: a flood must not become a flood of events.
          this.stats.skippedByAccessUnitRules++;
          return;
        }
        if (r.fromCache) {
          this.stats.repeats++;
          return;
        }
        this.stats.rejected++;
        this.emit('rejected', { reason: r.reason!, detail: r.detail ?? '', keyId: r.keyId, carrierPts: pts, timeBase });
    }
  }

  private emit<K extends keyof Listeners>(event: K, e: Parameters<Listeners[K]>[0]): void {
    for (const l of this.listeners[event]) {
      try {
        (l as (x: typeof e) => void)(e);
      } catch (error) {
        // A listener's bug must not stop the reader: report it where the page can see it.
        setTimeout(() => { throw error; });
      }
    }
  }
}
