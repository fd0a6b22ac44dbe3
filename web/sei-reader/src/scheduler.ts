// Fires cues when their frame is *presented*, like the C# InteractionScheduler: players parse SEI seconds before the
// frame is shown, so acting at parse time opens interactions early. Timestamps are ticks of one time base on the
// playback timeline (already unwrapped by the players), compared as plain numbers.
import type { CueMessage, HeartbeatMessage } from './messages.js';
import { rescale, type CueEvent, type HeartbeatEvent, type SeiReader } from './reader.js';

export type InteractionCloseReason = 'window-elapsed' | 'ended' | 'cancelled';

export interface InteractionEvent {
  readonly cue: CueMessage;
  /** The cue's target presentation time (scheduler ticks). */
  readonly targetPts: number;
  /** The presented frame's PTS when this happened. */
  readonly renderedPts: number;
  /** renderedPts − targetPts: 0 at the target frame itself, more for a late joiner. */
  readonly lateByTicks: number;
  /** On open: when the window elapses (target + window), or null for a window of 0 (open until ended or cancelled). */
  readonly closesAtPts: number | null;
  /** On open: closesAtPts − renderedPts, what is left of the window (a late joiner gets less than the whole window). */
  readonly remainingTicks: number | null;
  /** On close: why. */
  readonly closeReason: InteractionCloseReason | null;
  readonly timeBase: number;
}

export interface HeartbeatPresentedEvent {
  readonly heartbeat: HeartbeatMessage;
  readonly renderedPts: number;
  readonly timeBase: number;
}

type Listeners = {
  open: (e: InteractionEvent) => void;
  close: (e: InteractionEvent) => void;
  custom: (e: InteractionEvent) => void;
  heartbeat: (e: HeartbeatPresentedEvent) => void;
};

interface Pending { cue: CueMessage; target: number }
interface Open { cue: CueMessage; target: number; closesAt: number }

const MAX_PENDING_HEARTBEATS = 1024;
const MAX_REMEMBERED = 4096;

/**
 * Add what {@link SeiReader} reports; call {@link onFramePresented} with the PTS of each frame as it is shown.
 * - interaction-start opens at the first presented frame with PTS ≥ target and closes at target + window; a late
 *   joiner whose first frame is past the target opens it at once with the rest of the window, or not at all once the
 *   window has passed. A window of 0 stays open until an interaction-end or cancel.
 * - interaction-end closes the interaction with the same cue id at its target (a pending one never opens).
 * - cancel withdraws a pending interaction at once and closes an open one at its target.
 * - custom fires once at its target.
 */
export class InteractionScheduler {
  private pending: Pending[] = [];
  private readonly open = new Map<string, Open>();
  private pendingHeartbeats: { heartbeat: HeartbeatMessage; target: number }[] = [];
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private readonly listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = { open: new Set(), close: new Set(), custom: new Set(), heartbeat: new Set() };

  /** @param timeBase ticks per second of every PTS given and reported. */
  constructor(readonly timeBase: number) {
    if (!Number.isInteger(timeBase) || timeBase <= 0) throw new RangeError(`time base ${timeBase} must be a positive integer`);
  }

  on<K extends keyof Listeners>(event: K, listener: Listeners[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get openCueIds(): string[] {
    return [...this.open.keys()];
  }

  /** Schedules a cue the reader reported. False when ignored: already scheduled (same stream and seq) or no target.
   * @throws RangeError when the event's time base is not the scheduler's. */
  add(e: CueEvent): boolean {
    if (e.timeBase !== this.timeBase) throw new RangeError(`time base ${e.timeBase} differs from the scheduler's ${this.timeBase}`);
    return e.targetPts !== null && this.addCue(e.cue, e.targetPts);
  }

  /** Schedules `cue` at `targetPts` (scheduler ticks). False when a cue with the same stream and seq was scheduled before. */
  addCue(cue: CueMessage, targetPts: number): boolean {
    const key = `${cue.streamId}\u0000${cue.seq}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.seenOrder.push(key);
    if (this.seenOrder.length > MAX_REMEMBERED) this.seen.delete(this.seenOrder.shift()!);
    if (cue.kind === 'cancel') this.pending = this.pending.filter((p) => !(p.cue.kind === 'interaction-start' && p.cue.cueId === cue.cueId));
    this.pending.push({ cue, target: targetPts });
    return true;
  }

  /** Schedules a heartbeat so that `heartbeat` is raised when its carrier frame is presented. */
  addHeartbeat(e: HeartbeatEvent): boolean {
    if (e.timeBase !== this.timeBase) throw new RangeError(`time base ${e.timeBase} differs from the scheduler's ${this.timeBase}`);
    if (e.carrierPts === null) return false;
    if (this.pendingHeartbeats.length === MAX_PENDING_HEARTBEATS) this.pendingHeartbeats.shift();
    this.pendingHeartbeats.push({ heartbeat: e.heartbeat, target: e.carrierPts });
    return true;
  }

  /** The frame presented now; raises every event due at or before it, in target order. Returns how many. */
  onFramePresented(pts: number): number {
    let events = this.closeElapsed(pts);
    const due = this.pending.filter((p) => pts >= p.target);
    if (due.length > 0) {
      this.pending = this.pending.filter((p) => pts < p.target);
      due.sort((a, b) => a.target - b.target);
      for (const p of due) events += this.fire(p.cue, p.target, pts);
      events += this.closeElapsed(pts);
    }
    const beats = this.pendingHeartbeats.filter((h) => pts >= h.target);
    if (beats.length > 0) {
      this.pendingHeartbeats = this.pendingHeartbeats.filter((h) => pts < h.target);
      for (const h of beats) this.emit('heartbeat', { heartbeat: h.heartbeat, renderedPts: pts, timeBase: this.timeBase });
      events += beats.length;
    }
    return events;
  }

  private fire(cue: CueMessage, target: number, pts: number): number {
    const late = pts - target;
    switch (cue.kind) {
      case 'interaction-start': {
        const window = rescale(cue.window90k, 90_000, this.timeBase);
        if (late >= window && window > 0) return 0;
        if (this.open.has(cue.cueId)) return 0;
        const closesAt = target + window;
        this.open.set(cue.cueId, { cue, target, closesAt });
        this.emit('open', this.event(cue, target, pts, window > 0 ? closesAt : null, null));
        return 1;
      }
      case 'interaction-end':
      case 'cancel':
        this.pending = this.pending.filter((p) => !(p.cue.kind === 'interaction-start' && p.cue.cueId === cue.cueId));
        return this.close(cue.cueId, pts, cue.kind === 'cancel' ? 'cancelled' : 'ended') ? 1 : 0;
      case 'custom':
        this.emit('custom', this.event(cue, target, pts, null, null));
        return 1;
    }
  }

  private closeElapsed(pts: number): number {
    const due = [...this.open.values()].filter((o) => o.cue.window90k > 0 && pts >= o.closesAt);
    for (const o of due) this.close(o.cue.cueId, pts, 'window-elapsed');
    return due.length;
  }

  private close(cueId: string, pts: number, reason: InteractionCloseReason): boolean {
    const o = this.open.get(cueId);
    if (!o) return false;
    this.open.delete(cueId);
    this.emit('close', { ...this.event(o.cue, o.target, pts, null, reason), lateByTicks: reason === 'window-elapsed' ? pts - o.closesAt : 0 });
    return true;
  }

  private event(cue: CueMessage, target: number, pts: number, closesAt: number | null, closeReason: InteractionCloseReason | null): InteractionEvent {
    return {
      cue, targetPts: target, renderedPts: pts, lateByTicks: pts - target, closesAtPts: closesAt,
      remainingTicks: closesAt === null ? null : closesAt - pts, closeReason, timeBase: this.timeBase,
    };
  }

  private emit<K extends keyof Listeners>(event: K, e: Parameters<Listeners[K]>[0]): void {
    for (const l of this.listeners[event]) {
      try {
        (l as (x: typeof e) => void)(e);
      } catch (error) {
        setTimeout(() => { throw error; });
      }
    }
  }
}

/** Sends the reader's cues and heartbeats to the scheduler. Returns a function that stops it. */
export function connect(reader: SeiReader, scheduler: InteractionScheduler): () => void {
  const offCue = reader.on('cue', (e) => { scheduler.add(e); });
  const offBeat = reader.on('heartbeat', (e) => { scheduler.addHeartbeat(e); });
  return () => { offCue(); offBeat(); };
}

/** The part of HTMLVideoElement the clock uses (structural, so tests can pass a stand-in). */
export interface VideoLike {
  currentTime: number;
  requestVideoFrameCallback?: (callback: (now: number, metadata: { mediaTime: number }) => void) => number;
  cancelVideoFrameCallback?: (handle: number) => void;
  addEventListener(type: 'timeupdate', listener: () => void): void;
  removeEventListener(type: 'timeupdate', listener: () => void): void;
}

/**
 * Drives the scheduler from the video element: on each presented frame with `requestVideoFrameCallback` (its
 * `mediaTime` is the presentation time of the frame being shown), else on `timeupdate` with `currentTime` (coarser:
 * 4-66 Hz, so a cue fires up to a quarter second late). Seconds become ticks with Math.round(seconds × timeBase): the
 * players put frames on the timeline at whole ticks (hls.js: 90 kHz; mpegts.js: ms) and browsers report them to the
 * microsecond, so rounding gives the frame's exact tick. Returns a function that stops it.
 */
export function attachVideoClock(video: VideoLike, scheduler: InteractionScheduler): () => void {
  const toTicks = (seconds: number) => Math.round(seconds * scheduler.timeBase);
  let stopped = false;
  if (typeof video.requestVideoFrameCallback === 'function') {
    let handle = 0;
    const onFrame = (_now: number, metadata: { mediaTime: number }) => {
      if (stopped) return;
      scheduler.onFramePresented(toTicks(metadata.mediaTime));
      handle = video.requestVideoFrameCallback!(onFrame);
    };
    handle = video.requestVideoFrameCallback(onFrame);
    return () => {
      stopped = true;
      video.cancelVideoFrameCallback?.(handle);
    };
  }
  const onTime = () => scheduler.onFramePresented(toTicks(video.currentTime));
  video.addEventListener('timeupdate', onTime);
  return () => video.removeEventListener('timeupdate', onTime);
}
