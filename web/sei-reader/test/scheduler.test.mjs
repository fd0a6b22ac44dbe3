// The scheduler (as the C# InteractionScheduler) and the video clock: cues fire at the presented frame, never at
// parse time; a late joiner gets the rest of the window; ends and cancels close; rVFC mediaTime drives it, with
// timeupdate as the fallback; and the adapters map hls.js / mpegts.js events onto the timeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InteractionScheduler, SeiReader, attachToHls, attachToMpegts, attachVideoClock, connect } from '../dist/index.js';
import { fromHex, keyRing, vectorsFile } from './helpers.mjs';

const cue = (kind, seq, cueId, window90k = 0) => ({ kind, streamId: 's', seq, issuedAtUs: 0, targetOffset90k: 0, cueId, window90k, spreadUs: 0, appData: new Uint8Array() });

function record(scheduler) {
  const log = [];
  for (const name of ['open', 'close', 'custom', 'heartbeat']) scheduler.on(name, (e) => log.push({ name, ...e }));
  return log;
}

test('an interaction opens at the first frame at or after its target, not before, and closes when its window elapses', () => {
  const s = new InteractionScheduler(90_000);
  const log = record(s);
  s.addCue(cue('interaction-start', 1, 'poll', 90_000), 36_000);
  for (const pts of [0, 3600, 32_400]) s.onFramePresented(pts);
  assert.equal(log.length, 0);
  s.onFramePresented(36_000);
  assert.deepEqual(log.map((e) => [e.name, e.renderedPts, e.lateByTicks, e.closesAtPts, e.remainingTicks]), [['open', 36_000, 0, 126_000, 90_000]]);
  s.onFramePresented(122_400);
  s.onFramePresented(126_000);
  assert.deepEqual(log.slice(1).map((e) => [e.name, e.closeReason, e.renderedPts]), [['close', 'window-elapsed', 126_000]]);
});

test('a late joiner opens at once with the rest of the window, or not at all once it has passed', () => {
  const s = new InteractionScheduler(90_000);
  const log = record(s);
  s.addCue(cue('interaction-start', 1, 'poll', 2_700_000), -1_350_000);
  s.addCue(cue('interaction-start', 2, 'gone', 90_000), -180_000);
  s.onFramePresented(0);
  assert.deepEqual(log.map((e) => [e.name, e.cue.cueId, e.lateByTicks, e.remainingTicks]), [['open', 'poll', 1_350_000, 1_350_000]]);
});

test('end closes at its target; cancel withdraws a pending start at once; custom fires once; a duplicate is ignored', () => {
  const s = new InteractionScheduler(1000);
  const log = record(s);
  s.addCue(cue('interaction-start', 1, 'a'), 100);
  s.addCue(cue('interaction-end', 2, 'a'), 500);
  s.addCue(cue('interaction-start', 3, 'b'), 1000);
  s.addCue(cue('cancel', 4, 'b'), 2000);
  assert.equal(s.addCue(cue('custom', 5, 'x'), 300), true);
  assert.equal(s.addCue(cue('custom', 5, 'x'), 300), false, 'same stream and seq');
  for (let pts = 0; pts <= 2000; pts += 40) s.onFramePresented(pts);
  assert.deepEqual(log.map((e) => [e.name, e.cue.cueId, e.renderedPts, e.closeReason]), [
    ['open', 'a', 120, null], ['custom', 'x', 320, null], ['close', 'a', 520, 'ended']]);
  assert.equal(s.pendingCount, 0);
});

test('the scheduler refuses events of another time base', () => {
  const s = new InteractionScheduler(90_000);
  assert.throws(() => s.add({ cue: cue('custom', 1, 'x'), targetPts: 0, timeBase: 1000 }), RangeError);
});

test('video clock: requestVideoFrameCallback mediaTime drives the scheduler, a frame reported to the µs is its exact tick', () => {
  const callbacks = [];
  const video = { currentTime: 0, requestVideoFrameCallback: (cb) => callbacks.push(cb), cancelVideoFrameCallback() {}, addEventListener() { throw new Error('not used'); }, removeEventListener() {} };
  const s = new InteractionScheduler(90_000);
  const log = record(s);
  s.addCue(cue('custom', 1, 'x'), 93_003);
  const stop = attachVideoClock(video, s);
  callbacks.shift()(0, { mediaTime: 1.0 });
  callbacks.shift()(0, { mediaTime: 1.033356 });
  assert.equal(log.length, 0, 'tick 93,002 (1.033356 s, browsers report µs): not yet');
  callbacks.shift()(0, { mediaTime: 1.033367 });
  assert.deepEqual(log.map((e) => e.renderedPts), [93_003]);
  stop();
  assert.equal(callbacks.length, 1);
});

test('video clock: without requestVideoFrameCallback, timeupdate and currentTime', () => {
  const listeners = [];
  const video = { currentTime: 0, addEventListener: (t, l) => listeners.push([t, l]), removeEventListener: (t, l) => listeners.splice(listeners.findIndex((x) => x[1] === l), 1) };
  const s = new InteractionScheduler(1000);
  const log = record(s);
  s.addCue(cue('custom', 1, 'x'), 1500);
  const stop = attachVideoClock(video, s);
  assert.equal(listeners[0][0], 'timeupdate');
  video.currentTime = 1.25; listeners[0][1]();
  video.currentTime = 1.5; listeners[0][1]();
  assert.deepEqual(log.map((e) => e.renderedPts), [1500]);
  stop();
  assert.equal(listeners.length, 0);
});

function fakePlayer() {
  const handlers = new Map();
  return {
    on: (name, fn) => handlers.set(name, fn),
    off: (name, fn) => { if (handlers.get(name) === fn) handlers.delete(name); },
    emit: (name, ...args) => handlers.get(name)?.(...args),
    handlers,
  };
}

const payload = fromHex(vectorsFile.vectors.find((v) => v.name === 'v2 start, custom and heartbeat on one frame').payload_hex);
const uuidString = (b) => Buffer.from(b.subarray(0, 16)).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

test('attachToHls: FRAG_PARSING_USERDATA samples (seconds on the playback timeline) become 90 kHz carriers; the cue fires at its frame', async () => {
  const hls = fakePlayer();
  const reader = new SeiReader({ keyRing: await keyRing(), streamIds: ['show-1'], nowUs: () => 1_795_888_801_000_000 });
  const feed = attachToHls(hls, reader);
  const scheduler = new InteractionScheduler(feed.timeBase);
  connect(reader, scheduler);
  const log = record(scheduler);
  const cues = [];
  reader.on('cue', (e) => cues.push(e));
  hls.emit('hlsFragParsingUserdata', 'hlsFragParsingUserdata', { samples: [
    { pts: 10.01, payloadType: 5, uuid: '11111111-2222-3333-4444-555555555555', userDataBytes: new Uint8Array(100) },
    { pts: 10.0333333333, payloadType: 5, uuid: uuidString(payload), userDataBytes: payload.subarray(16) },
  ] });
  assert.equal(feed.fed(), 1, 'only the CatEvening sample');
  await reader.feed(new Uint8Array(0), { pts: null, timeBase: 90_000 });
  assert.deepEqual(cues.map((e) => [e.carrierPts, e.targetPts]), [[903_000, 899_997], [903_000, 993_000]]);
  scheduler.onFramePresented(Math.round(9.9999666 * 90_000));
  assert.deepEqual(log.map((e) => [e.name, e.cue.cueId, e.renderedPts]), [['open', 'poll-1', 899_997]]);
  feed.detach();
  assert.equal(hls.handlers.size, 0);
});

test('attachToMpegts: SEI_ARRIVED (ms of stream clock) carriers stay in ms; the offset is rescaled', async () => {
  const player = fakePlayer();
  const reader = new SeiReader({ keyRing: await keyRing(), streamIds: ['show-1'], nowUs: () => 1_795_888_801_000_000 });
  const feed = attachToMpegts(player, reader);
  assert.equal(feed.timeBase, 1000);
  const cues = [];
  reader.on('cue', (e) => cues.push(e));
  player.emit('sei_arrived', { type: 4, size: 10, pts: 1 });
  player.emit('sei_arrived', { type: 5, size: payload.length, uuid: payload.subarray(0, 16), user_data: payload.subarray(16), pts: 10_040 });
  await reader.feed(new Uint8Array(0), { pts: null, timeBase: 1000 });
  assert.deepEqual(cues.map((e) => [e.carrierPts, e.targetPts, e.timeBase]), [[10_040, 10_007, 1000], [10_040, 11_040, 1000]]);
  feed.detach();
  assert.equal(player.handlers.size, 0);
});
