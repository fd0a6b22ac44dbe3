// The browser proof (issue 14): Debian's chromium, driven by playwright-core, plays streams that the real sei-inject
// made, from a page served on loopback, with @catevening/sei-reader wired to the player:
//   (a) HLS segmented by ffmpeg from `sei-inject run` output, played by hls.js 1.7.4;
//   (b) HTTP-FLV (the same stream remuxed by ffmpeg, served progressively by a tiny node server), mpegts.js 1.8.2;
// and checks that each cue fires at the presented frame whose mediaTime is the cue's target (within one frame
// period), that a tampered stream's cues are refused (BadSignature) and never fire, and that a viewer who joins in the
// middle of an interaction's window opens it with the time that remains. The fire times are printed against
// `sei-inject inspect`. Every wait is on a page condition with a generous bound; nothing sleeps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(here, '..', '..');
const cli = process.env.CATEVENING_SEI_INJECT ?? join(root, 'src/SeiInjector/bin/Release/net10.0/sei-inject.dll');
const chromiumPath = process.env.CATEVENING_CHROMIUM ?? '/usr/bin/chromium';
const FPS = 25;
const FRAME = 1 / FPS;
const STREAM = 'web-1';
const TIMEOUT = 180_000;

const work = mkdtempSync(join(tmpdir(), 'sei-reader-browser-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const run = (program, args) => execFileSync(program, args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, maxBuffer: 64 << 20 });
const seiInject = (...args) => run('dotnet', [cli, ...args]);

let server, origin, browser, inspect, firstPts;

// The show: a custom cue at 2 s and a poll at 3 s open for 6 s, on a 12 s clip at 25 fps with a keyframe every second
// (closed GOPs: the carousel repeats the poll on each keyframe while it is open).
function makeMedia() {
  seiInject('keygen', '--private', 'show.key', '--public', 'show.pub');
  chmodSync(join(work, 'show.key'), 0o600);
  run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${FPS}`, '-t', '12',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-x264-params', `keyint=${FPS}:min-keyint=${FPS}:scenecut=0:open-gop=0`, '-pix_fmt', 'yuv420p', '-f', 'mpegts', 'src.ts']);
  writeFileSync(join(work, 'show.yaml'), [`stream: ${STREAM}`, 'cues:',
    '  - {id: confetti, kind: custom, at: 2s, data: {color: gold}}',
    '  - {id: poll, kind: interaction-start, at: 3s, duration: 6s, spread: 1s, data: {q: 7}}', ''].join('\n'));
  seiInject('run', '-i', 'src.ts', '-o', 'show.ts', '--key', 'show.key', '--schedule', 'show.yaml', '--heartbeat', '1s');
  inspect = seiInject('inspect', 'show.ts', '--public-key', 'show.pub', '--json').trim().split('\n').map((l) => JSON.parse(l));
  firstPts = Number(run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time', '-read_intervals', '%+#1', '-of', 'csv=p=0', 'show.ts']).trim().split('\n')[0].replace(',', ''));

  // Tampered: every CatEvening payload's stream id "web-1" becomes "web-2" in the TS bytes, which breaks every
  // signature (inspect confirms that none verifies, so no payload escaped by straddling a TS packet boundary).
  const ts = readFileSync(join(work, 'show.ts'));
  const from = Buffer.from([0xa5, ...Buffer.from(STREAM)]);
  let n = 0;
  for (let i = ts.indexOf(from); i >= 0; i = ts.indexOf(from, i + 1), n++) ts[i + from.length - 1] ^= 0x03;
  writeFileSync(join(work, 'tampered.ts'), ts);
  // inspect exits 5 when a message does not verify: here that is the point, its JSON lines say which.
  let listed;
  try {
    listed = seiInject('inspect', 'tampered.ts', '--public-key', 'show.pub', '--json');
  } catch (e) {
    assert.equal(e.status, 5, `inspect of the tampered stream: ${e.stderr}`);
    listed = e.stdout;
  }
  const tamperedInspect = listed.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(n > 10 && tamperedInspect.length > 0 && tamperedInspect.every((o) => !o.verified), `${n} stream ids tampered; inspect verifies none`);

  for (const name of ['show', 'tampered']) {
    mkdirSync(join(work, 'media', name), { recursive: true });
    run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', `${name}.ts`, '-c', 'copy', '-f', 'hls', '-hls_time', '2', '-hls_list_size', '0',
      '-hls_playlist_type', 'vod', '-hls_segment_filename', join(work, 'media', name, 'seg%03d.ts'), join(work, 'media', name, 'index.m3u8')]);
  }
  run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', 'show.ts', '-c', 'copy', '-f', 'flv', join(work, 'media', 'show.flv')]);
  // The FLV keeps each NAL unit whole in one tag, so the same byte change reaches every payload there.
  const flv = readFileSync(join(work, 'media', 'show.flv'));
  let m = 0;
  for (let i = flv.indexOf(from); i >= 0; i = flv.indexOf(from, i + 1), m++) flv[i + from.length - 1] ^= 0x03;
  assert.equal(m, n, 'the FLV holds the same payloads');
  writeFileSync(join(work, 'media', 'tampered.flv'), flv);
  writeFileSync(join(work, 'media', 'public.pem'), readFileSync(join(work, 'show.pub')));
}

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t', '.pem': 'text/plain', '.flv': 'video/x-flv' };
const mounts = {
  '/page/': join(here, 'browser-page'),
  '/pkg/': join(here, 'dist'),
  '/hls/': join(here, 'node_modules', 'hls.js', 'dist'),
  '/mpegts/': join(here, 'node_modules', 'mpegts.js', 'dist'),
  '/media/': join(work, 'media'),
};

// FLV tags (FLV 1.0 spec: 9-byte header, PreviousTagSize0, then tag header of 11 bytes, data, PreviousTagSize).
function flvTags(file) {
  const b = readFileSync(file);
  const tags = [];
  for (let at = 13; at + 11 <= b.length;) {
    const size = b.readUIntBE(at + 1, 3);
    const end = at + 11 + size + 4;
    if (end > b.length) break;
    const type = b[at];
    const ts = b.readUIntBE(at + 4, 3) | (b[at + 7] << 24);
    const video = type === 9 ? { keyframe: b[at + 11] >> 4 === 1, sequenceHeader: b[at + 12] === 0 } : null;
    tags.push({ type, ts, video, bytes: b.subarray(at, end) });
    at = end;
  }
  return { header: b.subarray(0, 13), tags };
}

// A live HTTP-FLV server for one file: chunked, no length; the header, metadata and sequence header at once, then the
// tags paced by their timestamps against the wall clock (1 s ahead, as a CDN edge holds a GOP), starting at the first
// keyframe at or after ?from=MS (a viewer joining a show in progress). mpegts.js drops the SEI of the first chunk it
// demuxes (no timestamp base yet), so serving the whole file in one burst would lose the cues.
function serveLiveFlv(file, fromMs, res) {
  const { header, tags } = flvTags(file);
  res.write(header);
  for (const t of tags) if (t.type === 18 || t.video?.sequenceHeader) res.write(t.bytes);
  const start = tags.findIndex((t) => t.video?.keyframe && !t.video.sequenceHeader && t.ts >= fromMs);
  const media = tags.slice(start).filter((t) => !(t.type === 18 || t.video?.sequenceHeader));
  const t0 = Date.now();
  const base = media[0].ts;
  let next = 0;
  const timer = setInterval(() => {
    const due = Date.now() - t0 + 1000;
    while (next < media.length && media[next].ts - base <= due) res.write(media[next++].bytes);
    if (next === media.length) {
      clearInterval(timer);
      res.end();
    }
  }, 20);
  res.on('close', () => clearInterval(timer));
}

// Loopback only.
function serve(req, res) {
  const url = new URL(req.url, 'http://x');
  const path = decodeURIComponent(url.pathname);
  const mount = Object.keys(mounts).find((m) => path.startsWith(m));
  const file = mount && normalize(join(mounts[mount], path.slice(mount.length)));
  if (!file || !file.startsWith(mounts[mount]) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  const headers = { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
  if (extname(file) === '.flv') {
    res.writeHead(200, headers);
    serveLiveFlv(file, Number(url.searchParams.get('from') ?? 0), res);
    return;
  }
  headers['content-length'] = statSync(file).size;
  res.writeHead(200, headers);
  createReadStream(file).pipe(res);
}

before(async () => {
  if (!existsSync(cli))
    throw new Error(`sei-inject is not built at ${cli}: run \`dotnet build CatEvening.sln -c Release\` in the repository root first ` +
      '(or set CATEVENING_SEI_INJECT to a built sei-inject.dll, run with dotnet)');
  if (!existsSync(chromiumPath))
    throw new Error(`no chromium at ${chromiumPath}: run scripts/install-deps.sh (Debian's chromium) or set CATEVENING_CHROMIUM`);
  makeMedia();
  server = createServer(serve);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

/** Opens the page for one stream and waits (page condition, bounded) until `until(log)` holds. */
async function play(query, until) {
  const page = await browser.newPage();
  const console_ = [];
  page.on('console', (m) => { if (m.type() === 'error') console_.push(m.text()); });
  page.on('pageerror', (e) => console_.push(String(e)));
  await page.goto(`${origin}/page/index.html?${new URLSearchParams(query)}`);
  try {
    await page.waitForFunction(until, undefined, { timeout: TIMEOUT, polling: 100 });
  } catch (e) {
    const log = await page.evaluate(() => window.__log).catch(() => null);
    throw new Error(`${e.message}\npage log: ${JSON.stringify({ ...log, frames: log?.frames?.slice(-5) })}\nconsole: ${console_.join('\n')}`);
  }
  const log = await page.evaluate(() => window.__log);
  await page.close();
  assert.deepEqual(log.errors, [], 'no player or page error');
  return log;
}

/** inspect's first delivery of a cue: its target on the stream's clock and on the playback timeline (from the first frame). */
function inspected(id) {
  const o = inspect.find((x) => x.id === id && x.first);
  return { ...o, playback: o.target_time - firstPts };
}

function report(player, log, ids) {
  const tb = log.timeBase;
  for (const id of ids) {
    const i = inspected(id);
    for (const e of log.events.filter((x) => x.id === id && x.type !== 'cue' && x.type !== 'rejected')) {
      console.log(`[${player}] ${id} ${e.type}${e.closeReason ? ` (${e.closeReason})` : ''}: inspect target ${i.target_time.toFixed(3)} s on the stream clock ` +
        `(carrier frame ${i.frame}, pts ${i.pts}) = ${i.playback.toFixed(3)} s of playback; reader target ${(e.targetPts / tb).toFixed(6)} s; ` +
        `presented frame mediaTime ${e.frameMediaTime?.toFixed(6)} s (frame #${e.frame} of the page); late by ${(e.lateByTicks / tb).toFixed(6)} s` +
        (e.remainingTicks !== null ? `; ${(e.remainingTicks / tb).toFixed(3)} s of the window left` : ''));
    }
  }
}

/** The cue fired on the presented frame at its target: that frame's mediaTime is the target within one frame period. */
function assertFiredAtTarget(log, type, id) {
  const tb = log.timeBase;
  const e = log.events.find((x) => x.type === type && x.id === id);
  assert.ok(e, `${type} ${id} fired: ${JSON.stringify(log.events)}`);
  const i = inspected(id);
  assert.ok(Math.abs(e.targetPts / tb - i.playback) < FRAME / 2, `${id}: the reader's target ${e.targetPts / tb} s is inspect's ${i.playback} s`);
  assert.equal(e.frameMediaTime, log.frames[e.frame - 1], 'the frame it fired on is the frame just presented');
  const target = e.targetPts / tb;
  assertOnFirstPresentedFrame(log, e.frameMediaTime, target, id);
  assert.ok(Math.abs(e.lateByTicks / tb - (e.frameMediaTime - target)) < 1 / tb + 1e-9, `${id}: late by ${e.lateByTicks} ticks, the frame's distance to the target`);
  const before = log.frames.filter((t) => t < e.targetPts / tb - 1e-6);
  assert.ok(before.length > 0, 'frames before the target were presented (so the cue did not fire at parse time)');
  return e;
}

/**
 * Fired on the first frame the page presented at or after `target`, never before it. When the browser presented the
 * frames around the target (no gap wider than one and a half frame periods between the last frame before it and the
 * first at or after it), that frame is at most one frame period late. A loaded machine makes chromium drop frames
 * (seen in CI: 3.0 s → 3.2 s at 25 fps); no scheduler can fire on a frame that is never presented, so then the bound
 * is the first presented frame itself, and the gap is printed.
 */
function assertOnFirstPresentedFrame(log, firedAt, target, what) {
  const first = log.frames.find((t) => t >= target - 1e-6);
  assert.equal(firedAt, first, `${what}: fired on the first frame presented at or after its target ${target} s`);
  assert.ok(firedAt - target >= -1e-6, `${what}: never before its target (${firedAt} s < ${target} s)`);
  const previous = log.frames.filter((t) => t < target - 1e-6).at(-1);
  if (previous === undefined || first - previous <= 1.5 * FRAME + 1e-6) {
    assert.ok(firedAt - target <= FRAME + 1e-6, `${what}: fired on the frame at ${firedAt} s, target ${target} s, with every frame around it presented`);
  } else {
    console.log(`[browser] ${what}: the page presented no frame between ${previous.toFixed(3)} s and ${first.toFixed(3)} s (dropped under load); fired on the first one at or after ${target.toFixed(3)} s`);
  }
}

test('headless chromium plays H.264 through MSE (proprietary codecs)', async () => {
  const page = await browser.newPage();
  const supported = await page.evaluate(() => ['avc1.42E01E', 'avc1.640015'].map((c) => MediaSource.isTypeSupported(`video/mp4; codecs="${c}"`)));
  await page.close();
  console.log(`[chromium] ${browser.version()} at ${chromiumPath}: MSE H.264 Baseline/High ${supported.join('/')}`);
  assert.deepEqual(supported, [true, true]);
});

test('hls.js: the custom cue and the poll fire at the frames of their targets; the poll closes when its window ends', async () => {
  const log = await play({ player: 'hls', url: '/media/show/index.m3u8', stream: STREAM },
    () => window.__log.errors.length > 0 || window.__log.ended || window.__log.events.some((e) => e.type === 'close'));
  report('hls.js', log, ['confetti', 'poll']);
  assert.equal(log.timeBase, 90_000);
  assertFiredAtTarget(log, 'custom', 'confetti');
  const open = assertFiredAtTarget(log, 'open', 'poll');
  assert.equal(open.remainingTicks, 6 * 90_000 - open.lateByTicks, 'the whole window (less a dropped target frame)');
  const close = log.events.find((e) => e.type === 'close');
  assert.equal(close.closeReason, 'window-elapsed');
  const closesAt = open.targetPts / 90_000 + 6;
  assertOnFirstPresentedFrame(log, close.frameMediaTime, closesAt, 'poll close');
  assert.equal(log.events.filter((e) => e.type === 'cue').length, 2, 'each cue reported once despite its repeats');
  assert.deepEqual(log.events.filter((e) => e.type === 'rejected'), []);
});

test('mpegts.js over HTTP-FLV: the custom cue and the poll fire at the frames of their targets', async () => {
  const log = await play({ player: 'flv', url: '/media/show.flv', stream: STREAM },
    () => window.__log.errors.length > 0 || window.__log.ended || window.__log.events.some((e) => e.type === 'open'));
  report('mpegts.js', log, ['confetti', 'poll']);
  assert.equal(log.timeBase, 1000);
  assertFiredAtTarget(log, 'custom', 'confetti');
  const open = assertFiredAtTarget(log, 'open', 'poll');
  assert.equal(open.remainingTicks, 6000 - open.lateByTicks);
  assert.deepEqual(log.events.filter((e) => e.type === 'rejected'), []);
});

test('hls.js, tampered stream: every payload is refused as BadSignature and no cue fires', async () => {
  const poll = inspected('poll');
  const log = await play({ player: 'hls', url: '/media/tampered/index.m3u8', stream: STREAM },
    new Function(`return window.__log.errors.length > 0 || window.__log.ended || (window.__log.frames.at(-1) ?? 0) > ${poll.playback + 1.5}`));
  const rejected = log.events.filter((e) => e.type === 'rejected');
  console.log(`[hls.js tampered] ${rejected.length} payloads refused (${[...new Set(rejected.map((e) => e.reason))].join(', ')}); ` +
    `played to ${log.frames.at(-1).toFixed(3)} s, past the poll's target ${poll.playback.toFixed(3)} s; events: ${log.events.filter((e) => e.type !== 'rejected').length}`);
  assert.ok(rejected.length > 0);
  assert.deepEqual([...new Set(rejected.map((e) => e.reason))], ['BadSignature']);
  assert.deepEqual(log.events.filter((e) => e.type !== 'rejected'), [], 'no cue reported, nothing opened or fired');
});

test('mpegts.js over HTTP-FLV, tampered stream: payloads are refused as BadSignature and no cue fires', async () => {
  const poll = inspected('poll');
  const log = await play({ player: 'flv', url: '/media/tampered.flv', stream: STREAM },
    new Function(`return window.__log.errors.length > 0 || window.__log.ended || (window.__log.frames.at(-1) ?? 0) > ${poll.playback + 1.5}`));
  const rejected = log.events.filter((e) => e.type === 'rejected');
  console.log(`[mpegts.js tampered] ${rejected.length} payloads refused (${[...new Set(rejected.map((e) => e.reason))].join(', ')}); ` +
    `played to ${log.frames.at(-1).toFixed(3)} s, past the poll's target ${poll.playback.toFixed(3)} s; events: ${log.events.filter((e) => e.type !== 'rejected').length}`);
  assert.ok(rejected.length > 0);
  assert.deepEqual([...new Set(rejected.map((e) => e.reason))], ['BadSignature']);
  assert.deepEqual(log.events.filter((e) => e.type !== 'rejected'), [], 'no cue reported, nothing opened or fired');
});

test('hls.js, a viewer joining in the middle of the poll\'s window opens it at once with the time that remains', async () => {
  const poll = inspected('poll');
  const middle = poll.playback + 3;
  const log = await play({ player: 'hls', url: '/media/show/index.m3u8', stream: STREAM, start: String(middle) },
    () => window.__log.errors.length > 0 || window.__log.ended || window.__log.events.some((e) => e.type === 'open'));
  report('hls.js late joiner', log, ['poll']);
  const open = log.events.find((e) => e.type === 'open');
  const firstFrame = log.frames[0];
  assert.ok(firstFrame >= middle - 1, `playback started near the middle (${firstFrame} s)`);
  assert.equal(open.id, 'poll');
  const expected = 6 - (open.frameMediaTime - poll.playback);
  assert.ok(Math.abs(open.remainingTicks / 90_000 - expected) < FRAME, `${open.remainingTicks / 90_000} s left, expected ${expected} s`);
  assert.ok(open.remainingTicks / 90_000 < 6 - 1, 'less than the whole window');
  assert.ok(open.frameMediaTime - firstFrame <= 0.5, `opened on the first frames shown (at ${open.frameMediaTime} s, playback from ${firstFrame} s)`);
  assert.equal(log.events.some((e) => e.type === 'custom'), false, 'the confetti (fired before the join, no window) is not replayed');
});

test('mpegts.js over HTTP-FLV, a viewer joining the live stream in the middle of the poll\'s window opens it with the time that remains', async () => {
  const poll = inspected('poll');
  const middleMs = Math.round((poll.playback + 3) * 1000);
  const log = await play({ player: 'flv', url: `/media/show.flv?from=${middleMs}`, stream: STREAM },
    () => window.__log.errors.length > 0 || window.__log.ended || window.__log.events.some((e) => e.type === 'open'));
  report('mpegts.js late joiner', log, ['poll']);
  const open = log.events.find((e) => e.type === 'open');
  assert.equal(open?.id, 'poll', JSON.stringify(log.events));
  // The server started at a keyframe: mpegts.js puts it at 0 on the element's timeline, and the poll's target 3 s before.
  const joinedAt = poll.playback - open.targetPts / 1000;
  assert.ok(Math.abs(joinedAt - middleMs / 1000) < 1 + FRAME, `joined at ${joinedAt} s of the show`);
  const expected = 6 - (open.frameMediaTime - open.targetPts / 1000);
  assert.ok(Math.abs(open.remainingTicks / 1000 - expected) < FRAME, `${open.remainingTicks / 1000} s left, expected ${expected} s`);
  assert.ok(open.remainingTicks / 1000 < 6 - 1, 'less than the whole window');
});
