// CatEvening operator console: plain JavaScript, no build step. Talks to the control API of the injector that served
// it (same origin), with the bearer token kept in this tab's sessionStorage only. Live updates come as server-sent
// events (GET /v1/events, read with fetch so that the token goes in a header, never in the URL); when the stream is
// refused or breaks, it polls status, run of show and cue history every second and tries the stream again every few
// seconds. Says plainly when the injector cannot be reached or refuses the token.
'use strict';

const POLL_MS = 1000;
const EVENTS_RETRY_MS = 5000;   // back to the stream this long after it failed
const EVENTS_SILENCE_MS = 4000; // a stream quiet this long is dead (the injector sends twice a second)
const CONFIRM_MS = 8000;
const TOKEN_KEY = 'catevening.token';
const DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;
const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  cues: [],
  now: null,            // stream time of the last frame (s), as of `nowAt`
  nowAt: 0,             // performance.now() when `now` arrived
  streaming: false,     // input connected: program time advances between polls
  historyLast: 0,
  selected: null,       // id of the selected cue
  armed: null,          // { text, run } awaiting confirmation
  armedTimer: 0,
  pollTimer: 0,
  mode: 'polling',      // 'events' while a server-sent event stream is open
  events: null,         // AbortController of the open stream
  eventsRetryAt: 0,     // performance.now() after which polling tries the stream again
  silenceTimer: 0,
  fired: 0,
};

function setConn(kind, text) {
  const conn = $('conn');
  conn.dataset.state = kind;
  conn.dataset.mode = state.mode;
  conn.textContent = text;
}

function connected() {
  const how = state.mode === 'events' ? 'live (server-sent events)' : 'polling every second';
  setConn('ok', 'Connected to the injector · ' + how + ' · updated ' + new Date().toLocaleTimeString());
}

function unreachable() {
  setConn('unreachable', 'Injector unreachable – no answer from ' + location.host + ' (retrying every second). The stream may still be running; check the injector.');
}

function showDesk(on) {
  $('login').hidden = on;
  $('desk').hidden = !on;
  $('logout').hidden = !on;
}

async function api(method, path, body) {
  const headers = { Authorization: 'Bearer ' + state.token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw Object.assign(new Error('unreachable'), { unreachable: true });
  }
  let json = null;
  try { json = await response.json(); } catch (e) { json = null; }
  if (response.status === 401 || response.status === 429) {
    throw Object.assign(new Error(json && json.error ? json.error : 'token refused'), { refused: true, status: response.status });
  }
  return { status: response.status, json };
}

function refused(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  clearTimeout(state.pollTimer);
  stopEvents();
  disarm();
  showDesk(false);
  setConn('refused', 'Token refused by the injector');
  $('login-error').textContent = 'The injector refused this token (' + message + '). Check the token file and try again.';
  $('token').value = '';
  $('token').focus();
}

function onStatus(s) {
  state.streaming = s.input === 'connected';
  renderStatus(s);
}

function onCues(schedule) {
  state.cues = schedule.cues;
  state.now = schedule.now;
  state.nowAt = performance.now();
  renderSchedule();
}

async function poll() {
  clearTimeout(state.pollTimer);
  if (!state.token || state.mode === 'events') return;
  try {
    const [status, schedule, history] = await Promise.all([
      api('GET', '/v1/status'), api('GET', '/v1/cues'), api('GET', '/v1/history?after=' + state.historyLast)]);
    if (state.mode === 'events') return;
    connected();
    onStatus(status.json);
    onCues(schedule.json);
    renderHistory(history.json);
    if (performance.now() >= state.eventsRetryAt) { listen(); return; }
  } catch (e) {
    if (e.refused) { refused(e.message); return; }
    unreachable();
  }
  state.pollTimer = setTimeout(poll, POLL_MS);
}

// Server-sent events over fetch (EventSource cannot send the token in a header). Falls back to polling when the
// stream is refused (503: too many streams), breaks, or goes quiet.
async function listen() {
  clearTimeout(state.pollTimer);
  stopEvents();
  const controller = new AbortController();
  state.events = controller;
  state.mode = 'events';
  let response;
  try {
    response = await fetch('/v1/events?after=' + state.historyLast,
      { headers: { Authorization: 'Bearer ' + state.token }, cache: 'no-store', signal: controller.signal });
  } catch (e) {
    return eventsEnded(controller);
  }
  if (response.status === 401 || response.status === 429) {
    let json = null;
    try { json = await response.json(); } catch (e) { json = null; }
    refused(json && json.error ? json.error : 'token refused');
    return undefined;
  }
  if (!response.ok || !response.body) return eventsEnded(controller);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  try {
    for (;;) {
      watchSilence(controller);
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      let end;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        onEvent(pending.slice(0, end));
        pending = pending.slice(end + 2);
      }
    }
  } catch (e) {
    // Broken or aborted: fall back below.
  }
  return eventsEnded(controller);
}

function onEvent(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
  }
  if (!data.length) return;
  const json = JSON.parse(data.join('\n'));
  if (name === 'status') { connected(); onStatus(json); }
  else if (name === 'cues') onCues(json);
  else if (name === 'history') renderHistory(json);
}

function watchSilence(controller) {
  clearTimeout(state.silenceTimer);
  state.silenceTimer = setTimeout(() => controller.abort(), EVENTS_SILENCE_MS);
}

function stopEvents() {
  clearTimeout(state.silenceTimer);
  if (state.events) state.events.abort();
  state.events = null;
}

function eventsEnded(controller) {
  if (state.events !== controller) return;
  clearTimeout(state.silenceTimer);
  state.events = null;
  state.mode = 'polling';
  state.eventsRetryAt = performance.now() + EVENTS_RETRY_MS;
  if (state.token) poll();
}

function text(id, value) { $(id).textContent = value; }
function seconds(s) { return s === null || s === undefined ? '–' : s.toFixed(3) + ' s'; }

function renderStatus(s) {
  for (const side of ['input', 'output']) {
    $(side).textContent = s[side];
    $(side).dataset.state = s[side];
    text(side + '-reconnects', s[side + '_reconnects'] ? ' · ' + s[side + '_reconnects'] + ' reconnect(s)' : '');
  }
  text('last-pts', s.last_pts === null ? '–' : seconds(s.last_pts_time) + ' (' + s.last_pts + ')');
  text('frames', String(s.frames));
  text('latency', s.added_latency.p50_ms.toFixed(3) + ' / ' + s.added_latency.p99_ms.toFixed(3) + ' ms' +
    (s.write_time ? ' · write ' + s.write_time.p50_ms.toFixed(3) + ' / ' + s.write_time.p99_ms.toFixed(3) + ' ms' : ''));
  const c = s.cues;
  text('cue-counts', `${c.pending} pending · ${c.active} active · ${c.delivered} delivered · ${c.ended} ended · ${c.cancelled} cancelled · ${c.expired} expired`);
  renderBus(s.bus);
}

// The cue bus (sei-inject run --cue-bus): this injector's link to it and every injector of the show, from the
// heartbeat key each one keeps in Redis ("gone" once a key expired).
function renderBus(bus) {
  $('show-bus').hidden = !bus;
  if (!bus) return;
  const line = $('bus-line');
  line.textContent = `· ${bus.url} · this injector ${bus.injector}: bus ${bus.state}` +
    ` · applied #${bus.applied_seq} of #${bus.bus_seq} (lag ${bus.lag})` +
    (bus.outages ? ` · ${bus.outages} outage(s)` : '') + (bus.last_error ? ' · last error: ' + bus.last_error : '');
  line.dataset.state = bus.state;
  const body = $('injectors').tBodies[0];
  const rows = (bus.injectors || []).slice().sort((a, b) => String(a.injector).localeCompare(String(b.injector)));
  body.replaceChildren(...rows.map((i) => {
    const tr = document.createElement('tr');
    tr.dataset.injector = i.injector;
    tr.dataset.state = i.state || i.input || '';
    const cells = i.state
      ? [i.injector, '–', '–', i.state, '–', '–', '–', '–', '–']
      : [i.injector, i.stream, i.member, i.input, i.output,
         i.last_pts_time === undefined ? '–' : seconds(i.last_pts_time), String(i.frames),
         i.lag === undefined ? '–' : String(i.lag), i.at ? new Date(i.at).toLocaleTimeString() : '–'];
    for (const [n, v] of cells.entries()) {
      const td = document.createElement('td');
      td.textContent = v;
      if (n === 3 || n === 4) { td.className = 'link'; td.dataset.state = v; }
      tr.appendChild(td);
    }
    return tr;
  }));
}

function programNow() {
  if (state.now === null) return null;
  return state.streaming ? state.now + (performance.now() - state.nowAt) / 1000 : state.now;
}

function targetText(cue) {
  if (cue.at_offset !== null) return '+' + cue.at_offset + ' s';
  if (cue.at_wall !== null) return cue.at_wall.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return 'next frame';
}

function countdownText(cue, now) {
  if (!['pending', 'in_flight'].includes(cue.state)) return '';
  if (cue.target_time === null || now === null) return cue.at_offset !== null ? 'waits for the first frame' : 'next frame';
  const left = cue.target_time - now;
  if (left <= 0) return 'due';
  const m = Math.floor(left / 60);
  const s = (left - m * 60).toFixed(1).padStart(4, '0');
  return (m > 0 ? m + ':' + s : s + ' s');
}

const open = (cue) => ['pending', 'in_flight', 'active'].includes(cue.state);

function renderSchedule() {
  const body = $('schedule').tBodies[0];
  const now = programNow();
  const rows = new Map([...body.rows].map((r) => [r.dataset.id, r]));
  if (state.selected === null || !state.cues.some((c) => c.id === state.selected)) {
    const next = state.cues.find(open);
    state.selected = next ? next.id : null;
  }
  state.cues.forEach((cue, i) => {
    let row = rows.get(cue.id);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.id = cue.id;
      for (const cls of ['id', 'kind', 'state', 'target', 'countdown', 'sent', 'actions']) row.insertCell().className = cls;
      row.cells[0].textContent = cue.id;
      row.cells[1].textContent = cue.kind;
      const end = document.createElement('button');
      end.type = 'button'; end.className = 'end'; end.textContent = 'End';
      end.addEventListener('click', (e) => { e.stopPropagation(); armEnd(cue.id); });
      const cancel = document.createElement('button');
      cancel.type = 'button'; cancel.className = 'cancel'; cancel.textContent = 'Cancel';
      cancel.addEventListener('click', (e) => { e.stopPropagation(); armCancel(cue.id); });
      row.cells[6].append(end, cancel);
      row.addEventListener('click', () => { state.selected = cue.id; renderSchedule(); });
    }
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null);
    rows.delete(cue.id);
    row.cells[2].textContent = cue.state.replace('_', ' ');
    row.cells[2].dataset.state = cue.state;
    row.cells[3].textContent = targetText(cue);
    row.cells[4].textContent = countdownText(cue, now);
    row.cells[5].textContent = cue.transmissions ? cue.transmissions + '×' : '';
    row.setAttribute('aria-selected', String(cue.id === state.selected));
    row.querySelector('.end').hidden = !(cue.state === 'active' && cue.kind === 'interaction-start');
    row.querySelector('.cancel').hidden = !open(cue);
  });
  for (const stale of rows.values()) stale.remove();
}

function renderHistory(page) {
  const fresh = page.events.filter((e) => e.n > state.historyLast);
  if (!fresh.length) return;
  state.historyLast = fresh[fresh.length - 1].n;
  const body = $('history').tBodies[0];
  for (const e of fresh) {
    const row = body.insertRow(0);
    row.dataset.event = e.event;
    row.dataset.id = e.id;
    const cells = [e.n, e.time.slice(11, 23), e.event.replace('_', ' '), e.id, e.seq,
      e.frame === null ? '' : e.frame, e.pts_time === null ? '' : e.pts_time.toFixed(3), e.detail || ''];
    for (const v of cells) row.insertCell().textContent = String(v);
  }
  while (body.rows.length > 500) body.deleteRow(-1);
}

// Confirm step: every action is armed first and runs only on a second, deliberate click or Enter.
function arm(textContent, run) {
  disarm();
  state.armed = { run };
  text('confirm-text', textContent);
  $('confirm').hidden = false;
  $('confirm-yes').focus();
  state.armedTimer = setTimeout(disarm, CONFIRM_MS);
}

function disarm() {
  clearTimeout(state.armedTimer);
  state.armed = null;
  $('confirm').hidden = true;
}

async function confirmArmed() {
  const armed = state.armed;
  if (!armed) return;
  disarm();
  await armed.run();
}

function say(textContent, isError) {
  const m = $('message');
  m.textContent = textContent;
  m.className = isError ? 'error' : '';
}

async function act(label, method, path, body) {
  try {
    const r = await api(method, path, body);
    if (r.status >= 200 && r.status < 300) say(label + ': ' + (r.json.message || 'done'));
    else say(label + ' refused (' + r.status + '): ' + (r.json && r.json.error), true);
    if (state.mode !== 'events') poll();
    return r.status >= 200 && r.status < 300;
  } catch (e) {
    if (e.refused) refused(e.message);
    else say(label + ' not sent: the injector is unreachable', true);
    return false;
  }
}

function armCancel(id) {
  arm(`Cancel cue '${id}'?`, () => act(`Cancel '${id}'`, 'DELETE', '/v1/cues/' + encodeURIComponent(id)));
}

function armEnd(id) {
  const endId = (id + '-end').slice(0, 56) + '-' + Date.now().toString(36).slice(-6);
  arm(`End cue '${id}' now (interaction-end '${endId}')?`,
    () => act(`End '${id}'`, 'POST', '/v1/cues', { id: endId, kind: 'interaction-end', closes: id }));
}

// Checks the ad hoc form; returns the request body or throws an Error naming the field.
function readForm() {
  const v = (id) => $(id).value.trim();
  const order = { id: v('cue-id'), kind: v('cue-kind') };
  if (!order.id) throw new Error('Id: required');
  if (new TextEncoder().encode(order.id).length > 64) throw new Error('Id: at most 64 bytes');
  const at = v('cue-at');
  if (at && at !== 'now') {
    if (!DURATION.test(at) && Number.isNaN(Date.parse(at))) throw new Error("At: expected a stream time such as 90s or a date such as 2026-11-30T20:15:00Z");
    order.at = at;
  }
  for (const [field, key] of [['cue-window', 'duration'], ['cue-spread', 'spread']]) {
    const value = v(field);
    if (value && !DURATION.test(value)) throw new Error((key === 'duration' ? 'Window' : 'Spread') + ': expected a duration such as 500ms, 30s, 2m');
    if (value) order[key] = value;
  }
  const closes = v('cue-closes');
  if (closes) {
    if (!['interaction-end', 'cancel'].includes(order.kind)) throw new Error('Closes: only interaction-end and cancel close another cue');
    order.closes = closes;
  }
  const data = $('cue-data').value.trim();
  if (data) {
    try { order.data = JSON.parse(data); } catch (e) { throw new Error('Data: not valid JSON (' + e.message + ')'); }
  }
  return order;
}

function armFire() {
  let order;
  try {
    order = readForm();
  } catch (e) {
    text('adhoc-error', e.message);
    return;
  }
  text('adhoc-error', '');
  arm(`Fire ${order.kind} '${order.id}' ${order.at ? 'at ' + order.at : 'now'}?`, async () => {
    if (await act(`Fire '${order.id}'`, 'POST', '/v1/cues', order)) {
      state.fired++;
      $('cue-id').value = 'cue-' + (Date.now() % 100000).toString().padStart(5, '0');
    }
  });
}

function moveSelection(step) {
  if (!state.cues.length) return;
  let i = state.cues.findIndex((c) => c.id === state.selected);
  i = Math.min(state.cues.length - 1, Math.max(0, (i < 0 ? 0 : i + step)));
  state.selected = state.cues[i].id;
  renderSchedule();
}

function onKey(e) {
  if ($('desk').hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape') { disarm(); return; }
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (e.key === 'Enter' && state.armed && !typing) { e.preventDefault(); confirmArmed(); return; }
  if (typing) return;
  const selected = state.cues.find((c) => c.id === state.selected);
  switch (e.key.toLowerCase()) {
    case 'f': e.preventDefault(); armFire(); break;
    case 'e': if (selected && selected.state === 'active') { e.preventDefault(); armEnd(selected.id); } break;
    case 'c': if (selected && open(selected)) { e.preventDefault(); armCancel(selected.id); } break;
    case 'arrowdown': case 'j': e.preventDefault(); moveSelection(1); break;
    case 'arrowup': case 'k': e.preventDefault(); moveSelection(-1); break;
    default: break;
  }
}

async function login(e) {
  e.preventDefault();
  state.token = $('token').value.trim();
  text('login-error', '');
  try {
    await api('GET', '/v1/status');
  } catch (err) {
    if (err.refused) { refused(err.message); return; }
    unreachable();
    text('login-error', 'The injector does not answer; the token was not checked.');
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  start();
}

function start() {
  showDesk(true);
  $('cue-id').value = $('cue-id').value || 'cue-' + (Date.now() % 100000).toString().padStart(5, '0');
  listen();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', login);
  $('adhoc').addEventListener('submit', (e) => { e.preventDefault(); armFire(); });
  $('confirm-yes').addEventListener('click', confirmArmed);
  $('confirm-no').addEventListener('click', disarm);
  $('logout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); location.reload(); });
  document.addEventListener('keydown', onKey);
  setInterval(renderSchedule, 100);
  if (state.token) start();
  else $('token').focus();
});
