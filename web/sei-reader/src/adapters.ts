// Adapters from the web players' SEI events to the reader. Each maps the player's timestamp onto the video's
// presentation timeline in ticks of a time base the scheduler uses (`timeBase` of the returned handle).
import { CATEVENING_UUID_STRING } from './messages.js';
import type { SeiReader } from './reader.js';

/** What an adapter returns: the time base its carriers use, and how to stop. */
export interface PlayerFeed {
  /** Ticks per second of the carrier PTS it feeds (use it for the InteractionScheduler). */
  readonly timeBase: number;
  /** Payloads handed to the reader so far. */
  readonly fed: () => number;
  detach(): void;
}

/** The part of an hls.js instance the adapter uses. */
export interface HlsLike {
  on(event: string, listener: (event: string, data: HlsUserdataData) => void): void;
  off(event: string, listener: (event: string, data: HlsUserdataData) => void): void;
}

/** hls.js 1.7 `FragParsingUserdataData` (only the fields used). */
export interface HlsUserdataData {
  samples: { pts: number; uuid?: string; userDataBytes?: Uint8Array; payloadType?: number }[];
}

/** hls.js `Hls.Events.FRAG_PARSING_USERDATA`. */
export const HLS_FRAG_PARSING_USERDATA = 'hlsFragParsingUserdata';

/**
 * Feeds the reader from hls.js (1.7) `FRAG_PARSING_USERDATA`: each user_data_unregistered sample (`uuid` string and
 * `userDataBytes`, one per sei_message(), every one of a frame since hls.js PR #4242) with the CatEvening UUID.
 *
 * Timestamps: hls.js gives `sample.pts` in **seconds on the playback timeline** (the PTS minus its initPTS, already
 * unwrapped; the same value the video element reports for that frame). The carrier becomes 90 kHz ticks on that
 * timeline with `Math.round(pts × 90000)` (exact: hls.js computed it from 90 kHz ticks), so the returned time base is
 * 90,000 and a cue's target is the carrier plus its offset in ticks, with no rounding at all.
 */
export function attachToHls(hls: HlsLike, reader: SeiReader): PlayerFeed {
  let fed = 0;
  const uuidBytes = hexToBytes(CATEVENING_UUID_STRING.replaceAll('-', ''));
  const listener = (_event: string, data: HlsUserdataData) => {
    for (const sample of data.samples) {
      if (sample.uuid !== CATEVENING_UUID_STRING || !sample.userDataBytes) continue;
      const payload = new Uint8Array(16 + sample.userDataBytes.length);
      payload.set(uuidBytes, 0);
      payload.set(sample.userDataBytes, 16);
      const pts = Math.round(sample.pts * 90_000);
      fed++;
      void reader.feed(payload, { pts, timeBase: 90_000, accessUnit: pts });
    }
  };
  hls.on(HLS_FRAG_PARSING_USERDATA, listener);
  return { timeBase: 90_000, fed: () => fed, detach: () => hls.off(HLS_FRAG_PARSING_USERDATA, listener) };
}

/** The part of an mpegts.js player the adapter uses. */
export interface MpegtsPlayerLike {
  on(event: string, listener: (sei: MpegtsSeiData) => void): void;
  off(event: string, listener: (sei: MpegtsSeiData) => void): void;
}

/** mpegts.js 1.8 `SEIData`. */
export interface MpegtsSeiData {
  type: number;
  size: number;
  uuid?: Uint8Array;
  user_data?: Uint8Array;
  pts?: number;
}

/** mpegts.js `mpegts.Events.SEI_ARRIVED`. */
export const MPEGTS_SEI_ARRIVED = 'sei_arrived';

/**
 * Feeds the reader from mpegts.js (1.8) `SEI_ARRIVED`: the first sei_message() of each SEI NAL unit (all that
 * mpegts.js parses, which is why sei-inject writes format version 2: one message per access unit).
 *
 * Timestamps: mpegts.js gives `sei.pts` in **milliseconds of the stream clock minus its timestamp base** (FLV: the
 * tag's DTS + composition time; MPEG-TS: the PTS / 90, floored), which is the frame's time on the media element's
 * timeline × 1000 while mpegts.js applies no DTS correction (a continuous stream). The carrier stays in ms (time
 * base 1,000) and a cue's target is the carrier plus its 90 kHz offset rescaled to ms, rounded half away from zero,
 * as the C# CueReader does for a 1/1000 time base: FLV frames sit on whole ms, so rounding the target to ms keeps it on
 * the target frame.
 */
export function attachToMpegts(player: MpegtsPlayerLike, reader: SeiReader): PlayerFeed {
  let fed = 0;
  const listener = (sei: MpegtsSeiData) => {
    if (sei.type !== 5 || !sei.uuid || !sei.user_data) return;
    const payload = new Uint8Array(sei.uuid.length + sei.user_data.length);
    payload.set(sei.uuid, 0);
    payload.set(sei.user_data, sei.uuid.length);
    const pts = typeof sei.pts === 'number' ? Math.round(sei.pts) : null;
    fed++;
    void reader.feed(payload, { pts, timeBase: 1000, accessUnit: pts ?? undefined });
  };
  player.on(MPEGTS_SEI_ARRIVED, listener);
  return { timeBase: 1000, fed: () => fed, detach: () => player.off(MPEGTS_SEI_ARRIVED, listener) };
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
