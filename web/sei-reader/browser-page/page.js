// Query: player=hls|flv, url=..., stream=ID, start=SECONDS (hls.js startPosition: a viewer joining mid-window).
import Hls from '/hls/hls.mjs';
import { KeyRing, SeiReader, InteractionScheduler, attachToHls, attachToMpegts, attachVideoClock, connect } from '/pkg/index.js';

const params = new URLSearchParams(location.search);
const video = document.getElementById('video');
const log = (window.__log = { events: [], frames: [], errors: [], ended: false, timeBase: null, ready: false });

try {
  const keyRing = new KeyRing();
  await keyRing.addPem(await (await fetch('/media/public.pem')).text());
  // The stream was signed minutes ago at most; a generous maximum age keeps a loaded machine from failing the test.
  const reader = new SeiReader({ keyRing, streamIds: [params.get('stream')], maxAgeUs: 3_600_000_000 });
  reader.on('cue', (e) => log.events.push({ type: 'cue', id: e.cue.cueId, kind: e.cue.kind, carrierPts: e.carrierPts, targetPts: e.targetPts }));
  reader.on('rejected', (e) => log.events.push({ type: 'rejected', reason: e.reason, detail: e.detail, carrierPts: e.carrierPts }));

  let feed;
  if (params.get('player') === 'hls') {
    const start = params.has('start') ? Number(params.get('start')) : -1;
    const hls = new Hls({ startPosition: start });
    hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) log.errors.push(`hls.js: ${data.type} ${data.details}`); });
    feed = attachToHls(hls, reader);
    hls.loadSource(params.get('url'));
    hls.attachMedia(video);
  } else {
    const player = window.mpegts.createPlayer({ type: 'flv', isLive: true, url: new URL(params.get('url'), location.href).href }, { enableWorker: false, enableStashBuffer: false });
    player.on(window.mpegts.Events.ERROR, (type, details) => log.errors.push(`mpegts.js: ${type} ${details}`));
    feed = attachToMpegts(player, reader);
    player.attachMediaElement(video);
    player.load();
  }
  log.timeBase = feed.timeBase;

  const scheduler = new InteractionScheduler(feed.timeBase);
  connect(reader, scheduler);
  for (const type of ['open', 'close', 'custom']) {
    scheduler.on(type, (e) => log.events.push({
      type, id: e.cue.cueId, targetPts: e.targetPts, renderedPts: e.renderedPts, lateByTicks: e.lateByTicks,
      remainingTicks: e.remainingTicks, closeReason: e.closeReason, frame: log.frames.length, frameMediaTime: log.frames.at(-1) ?? null,
    }));
  }
  // Every presented frame, registered before the scheduler's clock so that the frame a cue fires on is already listed.
  const onFrame = (_now, metadata) => {
    log.frames.push(metadata.mediaTime);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  attachVideoClock(video, scheduler);
  video.addEventListener('ended', () => { log.ended = true; });
  video.addEventListener('error', () => log.errors.push(`video: ${video.error?.message}`));
  await video.play().catch((e) => log.errors.push(`play: ${e.message}`));
  log.ready = true;
} catch (e) {
  log.errors.push(`page: ${e.stack ?? e}`);
}
