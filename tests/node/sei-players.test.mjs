// Field case H8 (issue 10, item 3): web players read only part of an SEI NAL. mpegts.js 1.8.2 (and flv.js) parse only
// the first sei_message() of each SEI NAL; hls.js before its PR #4242 only the first user-data SEI of a frame. This
// test runs the players' own TS demuxers (compiled from the TypeScript each npm package ships) in node on streams
// injected by the real sei-inject (H.264 and H.265, two cues on one frame, heartbeats, a cancel), and checks that
// every CatEvening message `sei-inject inspect` lists reaches each demuxer intact and verifies with WebCrypto.
// Format version 2 (the default) must lose nothing; format version 1 is the control: mpegts.js loses messages there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { decodeBundle, decodeV1 } from './msgpack-lite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const cli = process.env.CATEVENING_SEI_INJECT ?? join(root, 'src/SeiInjector/bin/Release/net10.0/sei-inject.dll');
const UUID = '7f4dd11cdfb84e3182fd6068876d036e';
const work = mkdtempSync(join(tmpdir(), 'catevening-node-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function run(program, args) {
  return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, maxBuffer: 64 << 20 });
}
const seiInject = (...args) => run('dotnet', [cli, ...args]);

// The players' demuxers, bundled from their shipped sources. hls.js imports two helper packages that its own build
// bundles (ID3 parsing, URL resolution); a TS stream without ID3 never calls them, so they are stubbed.
async function loadDemuxers() {
  const out = join(work, 'bundles');
  mkdirSync(out, { recursive: true });
  const stubs = {
    name: 'stubs',
    setup(b) {
      b.onResolve({ filter: /^(@svta\/cml-id3|url-toolkit)$/ }, (a) => ({ path: a.path, namespace: 'stub' }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
        contents: 'const no = () => undefined; export const utf8ArrayToStr = () => ""; export const canParseId3 = () => false;' +
          'export const getId3Data = no; export const getId3Timestamp = no; export const getId3Frames = () => []; ' +
          'export const isId3TimestampFrame = () => false; export const buildAbsoluteURL = (a, b) => b;',
        loader: 'js',
      }));
    },
  };
  const entries = {
    mpegts: join(here, 'node_modules/mpegts.js/src/demux/ts-demuxer.ts'),
    hls: join(here, 'node_modules/hls.js/src/demux/tsdemuxer.ts'),
  };
  // hls.js's build-time switches, as its full build sets them (every feature on, not in a worker).
  const defines = {
    __USE_M2TS_ADVANCED_CODECS__: 'true', __USE_ALT_AUDIO__: 'true', __USE_IFRAMES__: 'true', __USE_VARIABLE_SUBSTITUTION__: 'true',
    __IN_WORKER__: 'false', __HLS_WORKER_BUNDLE__: 'undefined', __VERSION__: '"1.7.4"',
  };
  const loaded = {};
  for (const [name, entry] of Object.entries(entries)) {
    const file = join(out, `${name}.mjs`);
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile: file, logLevel: 'error', plugins: [stubs], define: defines });
    loaded[name] = (await import(pathToFileURL(file).href)).default;
  }
  return loaded;
}

const silentLogger = { log() {}, debug() {}, info() {}, warn() {}, error() {}, trace() {} };

// mpegts.js: TSDemuxer.onSEI gets one SEIData per SEI NAL: the first sei_message() only.
function viaMpegts(TSDemuxer, ts) {
  const buffer = ts.buffer.slice(ts.byteOffset, ts.byteOffset + ts.byteLength);
  const probe = TSDemuxer.probe(buffer);
  assert.ok(probe.match, 'mpegts.js recognises the TS');
  const demuxer = new TSDemuxer(probe, {});
  // mpegts.js logs every PAT/PMT it parses to the console.
  const saved = { ...console };
  for (const level of ['log', 'info', 'debug', 'warn']) console[level] = () => {};
  const payloads = [];
  for (const hook of ['onError', 'onMediaInfo', 'onMetaDataArrived', 'onTrackMetadata', 'onDataAvailable', 'onTimedID3Metadata',
    'onPGSSubtitleData', 'onSynchronousKLVMetadata', 'onAsynchronousKLVMetadata', 'onSMPTE2038Metadata', 'onSCTE35Metadata',
    'onPESPrivateData', 'onPESPrivateDataDescriptor']) demuxer[hook] = () => {};
  demuxer.onSEI = (sei) => {
    if (sei.type === 5 && sei.uuid) payloads.push(Buffer.concat([Buffer.from(sei.uuid), Buffer.from(sei.user_data)]));
  };
  try {
    demuxer.parseChunks(buffer, 0);
  } finally {
    Object.assign(console, saved);
  }
  return payloads;
}

// hls.js: TSDemuxer puts user_data_unregistered messages into the text track's samples (uuid, userDataBytes).
function viaHls(TSDemuxer, ts, videoCodec) {
  const observer = { on() {}, off() {}, emit() {}, trigger() {} };
  const config = { handleMpegTsVideoIntegrityErrors: 'process', enableEmsgKLVMetadata: false, progressive: false };
  const demuxer = new TSDemuxer(observer, config, { mpeg: false, mp3: false, ac3: false }, silentLogger);
  const chunkMeta = { iframe: false, level: 0, sn: 0, part: -1, id: 0, size: 0, partial: false, transmuxing: {}, buffering: {} };
  demuxer.resetInitSegment(undefined, 'mp4a.40.2', videoCodec, 10, null, chunkMeta);
  const first = demuxer.demux(new Uint8Array(ts), 0, chunkMeta, false, false);
  const last = demuxer.flush(0, chunkMeta);
  const samples = [...first.textTrack.samples, ...(first.textTrack === last.textTrack ? [] : last.textTrack.samples)];
  return samples.filter((s) => s.uuid && s.userDataBytes)
    .map((s) => Buffer.concat([Buffer.from(s.uuid.replaceAll('-', ''), 'hex'), Buffer.from(s.userDataBytes)]));
}

async function importKey(pem) {
  const b64 = pem.split('\n').filter((l) => l && !l.startsWith('-----') && !l.includes(':')).join('');
  return crypto.subtle.importKey('spki', Buffer.from(b64, 'base64'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
}

// Each payload: CatEvening UUID, verified with WebCrypto (P1363 signature over everything before it), then decoded.
async function readPayloads(payloads, key) {
  const messages = [];
  for (const p of payloads) {
    if (p.subarray(0, 16).toString('hex') !== UUID) continue;
    const signed = p.subarray(0, p.length - 64);
    const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, p.subarray(p.length - 64), signed);
    assert.ok(ok, `signature of a ${p.length}-byte payload verifies with WebCrypto`);
    const body = p.subarray(19, p.length - 64);
    if (p[16] === 2) {
      const bundle = decodeBundle(body);
      for (const e of bundle.entries) messages.push({ transmission: bundle.seq, kind: e.kind, id: e.cue_id ?? null, seq: e.cue_seq ?? bundle.seq });
    } else {
      const m = decodeV1(body);
      messages.push({ transmission: m.seq, kind: m.kind, id: m.cue_id ?? null, seq: m.seq });
    }
  }
  return messages;
}

function makeStream(codec, formatVersion, keyPath, pubPath) {
  const source = join(work, `src-${codec}.ts`);
  if (!existsSync(source)) {
    const encoder = codec === 'h264' ? ['-c:v', 'libx264', '-x264-params', 'keyint=25:min-keyint=25'] : ['-c:v', 'libx265', '-x265-params', 'keyint=25:min-keyint=25:log-level=error'];
    run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '5',
      ...encoder, '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mpegts', source]);
  }
  const schedule = join(work, 'show.yaml');
  writeFileSync(schedule, [
    'stream: web-1',
    'cues:',
    '  - {id: confetti, kind: custom, at: 1s, data: {color: gold}}',
    '  - {id: quiz, kind: interaction-start, at: 1s, duration: 3s, spread: 1s, data: {q: 7}}',
    '  - {id: quiz-off, kind: cancel, closes: quiz, at: 2500ms}',
    '',
  ].join('\n'));
  const out = join(work, `out-${codec}-v${formatVersion}.ts`);
  seiInject('run', '-i', source, '-o', out, '--key', keyPath, '--schedule', schedule, '--heartbeat', '500ms', '--format-version', String(formatVersion));
  const expected = seiInject('inspect', out, '--public-key', pubPath, '--json').trim().split('\n').map((l) => JSON.parse(l));
  return { ts: readFileSync(out), expected };
}

const keyPath = join(work, 'show.key');
const pubPath = join(work, 'show.pub');
seiInject('keygen', '--private', keyPath, '--public', pubPath);
const key = await importKey(readFileSync(pubPath, 'utf8'));
const demuxers = await loadDemuxers();

const toKey = (m) => `${m.transmission}/${m.kind}/${m.id}/${m.seq}`;
const fromInspect = (o) => ({ transmission: o.transmission_seq, kind: o.kind, id: o.id, seq: o.seq });

for (const [codec, hlsCodec] of [['h264', 'avc1.640015'], ['h265', 'hvc1.1.6.L63.90']]) {
  test(`${codec}, format 2: every message reaches mpegts.js 1.8.2 and hls.js 1.7.4 intact and verifies with WebCrypto`, async () => {
    const { ts, expected } = makeStream(codec, 2, keyPath, pubPath);
    assert.ok(expected.every((o) => o.verified && o.format_version === 2), 'inspect verifies every occurrence');
    const want = expected.map(fromInspect).map(toKey).sort();
    const perFrame = new Map();
    for (const o of expected) perFrame.set(o.frame, (perFrame.get(o.frame) ?? 0) + (o.kind !== 'heartbeat' ? 1 : 0));
    assert.ok([...perFrame.values()].some((n) => n >= 2), 'some frame carries two cues (confetti and quiz at 1 s)');
    assert.ok(expected.some((o) => o.kind === 'cancel'), 'the cancel is in the stream');
    assert.ok(expected.filter((o) => o.kind === 'heartbeat').length >= 9, 'heartbeats every 500 ms');
    for (const [name, read] of [['mpegts.js', () => viaMpegts(demuxers.mpegts, ts)], ['hls.js', () => viaHls(demuxers.hls, ts, hlsCodec)]]) {
      const payloads = read();
      const got = (await readPayloads(payloads, key)).map(toKey).sort();
      assert.deepEqual(got, want, `${name} sees every message inspect lists (${want.length})`);
    }
  });
}

test('h264, format 1 (control): mpegts.js misses every message after the first of a frame', async () => {
  const { ts, expected } = makeStream('h264', 1, keyPath, pubPath);
  const got = await readPayloads(viaMpegts(demuxers.mpegts, ts), key);
  const frames = new Set(expected.map((o) => o.frame));
  assert.equal(got.length, frames.size, 'one message per frame reaches mpegts.js');
  assert.ok(got.length < expected.length, `fewer than the ${expected.length} in the stream`);
  const hls = await readPayloads(viaHls(demuxers.hls, ts, 'avc1.640015'), key);
  assert.equal(hls.length, expected.length, 'hls.js 1.7.4 reads every sei_message() (PR #4242)');
});
