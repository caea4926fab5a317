#!/usr/bin/env node
// End-to-end scenario for the finishline gateway, driven by the official
// socket.io-client. Run as a subprocess by the Rust integration tests; see
// README.md. Contract: PROTOCOL.md ("Socket.IO (gateway), namespace /progress"
// and "HTTP (gateway)").
//
// Output: exactly ONE line of JSON on stdout
//   { "ok": bool, "transport": "websocket"|"polling"|null, "messages": n, "violations": [..] }
// exit code 0 when ok, 1 otherwise. Diagnostics go to stderr only.

import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';

const USAGE =
  'usage: node scenario.mjs --gateway http://127.0.0.1:PORT --event EVENT_ID ' +
  '--transport default|websocket --photos a.png,b.jpg,bad.jpg --expect-failed N ' +
  '[--token JWT] [--timeout-ms 60000] [--verbose]';

const PHOTO_STAGES = ['detection', 'ocr', 'color'];
const PHOTO_EVENTS = ['photo:progress', 'photo:completed', 'photo:failed', 'photo:cancelled'];
const VIDEO_EVENTS = ['video:progress', 'video:completed', 'video:failed', 'video:cancelled'];
const EVENT_EVENTS = ['event:progress', 'event:completed'];
const JOB_EVENTS = ['job:queued', 'job:started'];
const SERVER_EVENTS = [...PHOTO_EVENTS, ...VIDEO_EVENTS, ...EVENT_EVENTS, ...JOB_EVENTS];
const TERMINALS = new Set(['photo:completed', 'photo:failed', 'photo:cancelled']);
const SNAPSHOT_NUMBER_KEYS = [
  'totalPhotos', 'processedPhotos', 'succeeded', 'failed', 'cancelled',
  'totalVideos', 'processedVideos', 'lastSeq',
];
const EVENT_PROGRESS_KEYS = [
  'processedPhotos', 'totalPhotos', 'succeeded', 'failed', 'cancelled',
  'processedVideos', 'totalVideos',
];
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const HEX_RE = /^#[0-9a-f]{6}$/;
const ACK_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------- state
const violations = [];
const received = []; // [name, payload] in arrival order
let socket = null;
let step = 'start';
let finished = false;
const verbose = process.argv.includes('--verbose');

const fail = (msg) => violations.push(msg);
const log = (...a) => { if (verbose) console.error('[scenario]', ...a); };
const show = (v) => { try { return JSON.stringify(v); } catch { return String(v); } };
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const isInt = (v) => Number.isInteger(v);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let everConnected = false;
function currentTransport() {
  if (!everConnected) return null;
  try { return socket?.io?.engine?.transport?.name ?? null; } catch { return null; }
}

function finish(extraViolation) {
  if (finished) return;
  finished = true;
  if (extraViolation) fail(extraViolation);
  const result = {
    ok: violations.length === 0,
    transport: currentTransport(),
    messages: received.length,
    violations,
  };
  if (!result.ok) {
    // Help whoever reads the Rust test output: the full message trace on stderr.
    console.error(`[scenario] failed at step "${step}"; ${received.length} message(s) received:`);
    for (const [name, payload] of received) console.error(`[scenario]   ${name} ${show(payload)}`);
  }
  try { socket?.disconnect(); } catch { /* ignore */ }
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${show(a)}; ${USAGE}`);
    const eq = a.indexOf('=');
    if (eq > 0) { out[a.slice(2, eq)] = a.slice(eq + 1); continue; }
    const key = a.slice(2);
    if (key === 'verbose') { out.verbose = true; continue; }
    if (i + 1 >= argv.length) throw new Error(`missing value for ${a}; ${USAGE}`);
    out[key] = argv[++i];
  }
  for (const k of ['gateway', 'event', 'photos', 'expect-failed']) {
    if (out[k] === undefined || out[k] === '') throw new Error(`missing --${k}; ${USAGE}`);
  }
  const transport = out.transport ?? 'default';
  if (transport !== 'default' && transport !== 'websocket') {
    throw new Error(`--transport must be default or websocket, got ${show(transport)}`);
  }
  const photos = out.photos.split(',').map((s) => s.trim()).filter(Boolean);
  if (photos.length === 0) throw new Error('--photos lists no photo');
  const expectFailed = Number(out['expect-failed']);
  if (!isInt(expectFailed) || expectFailed < 0 || expectFailed > photos.length) {
    throw new Error(`--expect-failed must be an integer in 0..${photos.length}`);
  }
  const timeoutMs = out['timeout-ms'] === undefined ? 60000 : Number(out['timeout-ms']);
  if (!isInt(timeoutMs) || timeoutMs <= 0) throw new Error('--timeout-ms must be a positive integer');
  return {
    gateway: out.gateway.replace(/\/+$/, ''),
    eventId: out.event,
    transport,
    photos,
    expectFailed,
    token: out.token || null,
    timeoutMs,
  };
}

// ---------------------------------------------------------------- helpers
function connect(url, opts) {
  return new Promise((resolve, reject) => {
    const s = io(url, opts);
    socket = s;
    const onConnect = () => { everConnected = true; s.off('connect_error', onError); resolve(s); };
    const onError = (err) => {
      s.off('connect', onConnect);
      reject(new Error(`connect_error: ${err?.message ?? show(err)}`));
    };
    s.once('connect', onConnect);
    s.once('connect_error', onError);
  });
}

async function ack(event, payload) {
  try {
    return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  } catch (err) {
    const why = socket.connected ? `no ack within ${ACK_TIMEOUT_MS} ms` : 'no ack, the connection was dropped';
    fail(`${event} ${show(payload)}: ${why} (${err?.message ?? err})`);
    return undefined;
  }
}

function checkInvalidAck(label, a) {
  if (a === undefined) return; // already reported (timeout)
  if (!a || typeof a !== 'object') { fail(`${label}: ack is not an object: ${show(a)}`); return; }
  if (a.success !== false) fail(`${label}: expected success:false, got ${show(a)}`);
  if (!a.error || typeof a.error !== 'object') { fail(`${label}: ack has no error object: ${show(a)}`); return; }
  if (a.error.code !== 'invalid_payload') fail(`${label}: expected error.code "invalid_payload", got ${show(a.error.code)}`);
  if (typeof a.error.message !== 'string' || a.error.message.trim() === '') {
    fail(`${label}: error.message must be a non-empty string, got ${show(a.error.message)}`);
  }
}

function waitFor(predicate, deadline) {
  return new Promise((resolve) => {
    const tick = () => {
      if (predicate()) return resolve(true);
      if (Date.now() >= deadline) return resolve(false);
      setTimeout(tick, 25);
    };
    tick();
  });
}

// ---------------------------------------------------------------- assertions
function checkMessages({ eventId, requestId, photos, expectFailed, jobIds, lastSeq }) {
  const n = photos.length;
  const photoIds = new Set(jobIds.keys());
  const perPhoto = new Map([...photoIds].map((id) => [id, { stages: [], terminals: [], lastProgressIdx: -1, failedAttempts: 0 }]));
  let prevSeq = typeof lastSeq === 'number' ? lastSeq : null;
  let terminalsSoFar = 0;
  let prevProcessed = -1;
  let lastEventProgress = null;
  const completedIdx = [];
  let failedCount = 0;

  received.forEach(([name, m], idx) => {
    const at = `#${idx} ${name}`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) { fail(`${at}: payload is not an object: ${show(m)}`); return; }

    // Common fields.
    if (m.eventId !== eventId) fail(`${at}: eventId ${show(m.eventId)} != ${show(eventId)}`);
    if (m.requestId !== requestId) fail(`${at}: requestId ${show(m.requestId)} != ${show(requestId)}`);
    if (!isInt(m.seq)) {
      fail(`${at}: seq is not an integer: ${show(m.seq)}`);
    } else {
      if (prevSeq !== null && m.seq <= prevSeq) {
        fail(idx === 0
          ? `${at}: first seq ${m.seq} not greater than the subscribe snapshot's lastSeq ${prevSeq}`
          : `${at}: seq ${m.seq} not greater than previous ${prevSeq}`);
      }
      prevSeq = m.seq;
    }
    if (typeof m.ts !== 'string' || Number.isNaN(new Date(m.ts).getTime()) || !m.ts.endsWith('Z') || !TS_RE.test(m.ts)) {
      fail(`${at}: ts is not an RFC 3339 UTC timestamp ending in Z: ${show(m.ts)}`);
    }

    if (!SERVER_EVENTS.includes(name)) { fail(`${at}: event not in the contract`); return; }
    if (VIDEO_EVENTS.includes(name)) { fail(`${at}: unexpected video message (only photos were posted)`); return; }

    if (JOB_EVENTS.includes(name)) {
      // Lifecycle (issue 16): job:queued with its queue position, then job:started per run
      // with its attempt, both before the photo's progress of that run.
      const p = perPhoto.get(m.photoId);
      if (!p) { fail(`${at}: unknown photoId ${show(m.photoId)}`); return; }
      if (m.jobId !== jobIds.get(m.photoId)) fail(`${at}: jobId ${show(m.jobId)} != ${show(jobIds.get(m.photoId))} from the POST`);
      if (m.kind !== 'photo') fail(`${at}: kind ${show(m.kind)} is not photo`);
      if (name === 'job:queued') {
        if (!isInt(m.position) || m.position < 1) fail(`${at}: position must be an integer >= 1: ${show(m.position)}`);
        if (p.queued) fail(`${at}: ${m.photoId} queued twice`);
        p.queued = true;
      } else {
        if (!p.queued) fail(`${at}: ${m.photoId} started before it was queued`);
        if (!isInt(m.attempt) || m.attempt < 1) fail(`${at}: attempt must be an integer >= 1: ${show(m.attempt)}`);
        if (p.terminals.length > 0) fail(`${at}: ${m.photoId} started after its terminal message`);
        p.started = (p.started ?? 0) + 1;
      }
      return;
    }

    if (PHOTO_EVENTS.includes(name)) {
      const p = perPhoto.get(m.photoId);
      if (!p) { fail(`${at}: unknown photoId ${show(m.photoId)}`); return; }
      if (m.jobId !== jobIds.get(m.photoId)) fail(`${at}: jobId ${show(m.jobId)} != ${show(jobIds.get(m.photoId))} from the POST`);

      if (name === 'photo:progress') {
        if (p.terminals.length > 0) fail(`${at}: progress for ${m.photoId} after its terminal message`);
        if (!p.started) fail(`${at}: progress for ${m.photoId} before its job:started`);
        if (!isNum(m.progress) || m.progress < 0 || m.progress > 100) fail(`${at}: progress not a number in 0..100: ${show(m.progress)}`);
        const si = PHOTO_STAGES.indexOf(m.stage);
        if (si < 0) fail(`${at}: stage ${show(m.stage)} not one of ${PHOTO_STAGES.join('|')}`);
        else p.stages.push({ si, at });
        p.lastProgressIdx = idx;
        return;
      }

      // Terminal message.
      p.terminals.push(name);
      terminalsSoFar++;
      if (name === 'photo:completed') {
        if (!(m.plateNumber === null || isNum(m.plateNumber))) fail(`${at}: plateNumber must be a number or null: ${show(m.plateNumber)}`);
        if (!isNum(m.confidence) || m.confidence < 0 || m.confidence > 1) fail(`${at}: confidence not a number in 0..1: ${show(m.confidence)}`);
        if (!Array.isArray(m.plates)) {
          fail(`${at}: plates is not an array: ${show(m.plates)}`);
        } else {
          m.plates.forEach((pl, i) => {
            if (!pl || typeof pl !== 'object') { fail(`${at}: plates[${i}] not an object`); return; }
            if (!isNum(pl.number)) fail(`${at}: plates[${i}].number not a number: ${show(pl.number)}`);
            if (!isNum(pl.confidence) || pl.confidence < 0 || pl.confidence > 1) fail(`${at}: plates[${i}].confidence not in 0..1: ${show(pl.confidence)}`);
            const b = pl.box;
            if (!b || !['x', 'y', 'w', 'h'].every((k) => isNum(b[k]))) fail(`${at}: plates[${i}].box must be {x,y,w,h} numbers: ${show(b)}`);
          });
        }
        if (!Array.isArray(m.colors)) {
          fail(`${at}: colors is not an array: ${show(m.colors)}`);
        } else {
          m.colors.forEach((c, i) => {
            if (!c || typeof c.hex !== 'string' || !HEX_RE.test(c.hex)) fail(`${at}: colors[${i}].hex must match ${HEX_RE}: ${show(c?.hex)}`);
            if (!c || !isNum(c.share)) fail(`${at}: colors[${i}].share not a number: ${show(c?.share)}`);
          });
        }
      } else if (name === 'photo:failed') {
        failedCount++;
        if (typeof m.error !== 'string' || m.error.trim() === '') fail(`${at}: error must be a non-empty string: ${show(m.error)}`);
        if (typeof m.code !== 'string') fail(`${at}: code must be a string: ${show(m.code)}`);
        if (!isNum(m.attempts)) fail(`${at}: attempts must be a number: ${show(m.attempts)}`);
        else p.failedAttempts = m.attempts;
      } else if (name === 'photo:cancelled') {
        fail(`${at}: ${m.photoId} was cancelled; nothing was cancelled in this scenario`);
      }
      return;
    }

    if (name === 'event:progress') {
      for (const k of EVENT_PROGRESS_KEYS) if (!isNum(m[k])) fail(`${at}: ${k} not a number: ${show(m[k])}`);
      if (isNum(m.processedPhotos)) {
        if (m.processedPhotos < prevProcessed) fail(`${at}: processedPhotos went down ${prevProcessed} -> ${m.processedPhotos}`);
        if (m.processedPhotos > terminalsSoFar) {
          fail(`${at}: processedPhotos ${m.processedPhotos} counts more photos than the ${terminalsSoFar} terminal message(s) sent before it`);
        }
        prevProcessed = m.processedPhotos;
      }
      if (completedIdx.length === 0) lastEventProgress = { m, idx }; // the last one before event:completed
      return;
    }

    if (name === 'event:completed') completedIdx.push(idx);
  });

  // Per photo: stage order, exactly one terminal, terminal after its progress.
  for (const [photoId, p] of perPhoto) {
    // A retried attempt starts again at "detection"; allowed only for a photo that
    // failed after more than one attempt (at-least-once delivery, PROTOCOL "Queues").
    let restartsLeft = p.failedAttempts > 1 ? p.failedAttempts - 1 : 0;
    for (let i = 1; i < p.stages.length; i++) {
      const prev = p.stages[i - 1].si;
      const cur = p.stages[i].si;
      if (cur >= prev) continue;
      if (cur === 0 && restartsLeft > 0) { restartsLeft--; continue; }
      fail(`${p.stages[i].at}: stage ${PHOTO_STAGES[cur]} of ${photoId} after ${PHOTO_STAGES[prev]} (out of order)`);
    }
    if (p.terminals.length !== 1) {
      fail(`${photoId}: expected exactly one terminal message, got ${p.terminals.length} [${p.terminals.join(', ')}]`);
    }
  }

  if (failedCount !== expectFailed) fail(`expected ${expectFailed} photo:failed, got ${failedCount}`);

  if (completedIdx.length !== 1) {
    fail(`expected exactly one event:completed, got ${completedIdx.length}`);
  }
  if (completedIdx.length >= 1) {
    const ci = completedIdx[0];
    if (completedIdx[completedIdx.length - 1] !== received.length - 1) {
      fail(`event:completed is not the last message (last is #${received.length - 1} ${received[received.length - 1][0]})`);
    }
    const summary = received[ci][1]?.summary;
    const want = { total: n, succeeded: n - expectFailed, failed: expectFailed, cancelled: 0 };
    if (!summary || typeof summary !== 'object') {
      fail(`event:completed has no summary object: ${show(received[ci][1])}`);
    } else {
      for (const k of Object.keys(want)) {
        if (summary[k] !== want[k]) fail(`event:completed summary.${k} = ${show(summary[k])}, expected ${want[k]}`);
      }
    }
    if (!lastEventProgress) {
      fail('no event:progress before event:completed');
    } else {
      const ep = lastEventProgress.m;
      if (ep.processedPhotos !== n || ep.totalPhotos !== n) {
        fail(`last event:progress before event:completed has processedPhotos=${show(ep.processedPhotos)} totalPhotos=${show(ep.totalPhotos)}, expected both ${n}`);
      }
      if (ep.succeeded !== n - expectFailed || ep.failed !== expectFailed || ep.cancelled !== 0) {
        fail(`last event:progress counts succeeded=${show(ep.succeeded)} failed=${show(ep.failed)} cancelled=${show(ep.cancelled)}, expected ${n - expectFailed}/${expectFailed}/0`);
      }
    }
  }

  // Every terminal must come after every progress of the same photo.
  received.forEach(([name, m], idx) => {
    if (!TERMINALS.has(name) || !m) return;
    const p = perPhoto.get(m.photoId);
    if (p && p.lastProgressIdx > idx) fail(`#${idx} ${name}: terminal of ${m.photoId} before its progress #${p.lastProgressIdx}`);
  });
}

// ---------------------------------------------------------------- scenario
async function main() {
  step = 'arguments';
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const hard = setTimeout(
    () => finish(`hard timeout after ${args.timeoutMs} ms during step "${step}"`),
    args.timeoutMs,
  );
  // Leave time at the end for the assertions and unsubscribe when waiting for event:completed.
  const completionDeadline = started + args.timeoutMs - Math.min(5000, Math.floor(args.timeoutMs / 5));

  // a. connect
  step = 'connect';
  const opts = {
    auth: args.token ? { token: args.token } : {},
    reconnection: false,
  };
  if (args.transport === 'websocket') opts.transports = ['websocket'];
  await connect(`${args.gateway}/progress`, opts);
  log('connected, transport', currentTransport());
  let disconnectedEarly = null;
  socket.on('disconnect', (reason) => { if (!disconnectedEarly) disconnectedEarly = `${reason} (during step "${step}")`; });

  // d. (registered before subscribing so that no message delivered in the same
  //     packet batch as the subscribe ack can be missed)
  const onServerEvent = (name) => (payload) => {
    received.push([name, payload]);
    log('<-', name, show(payload));
  };
  for (const name of SERVER_EVENTS) socket.on(name, onServerEvent(name));
  socket.onAny((name, payload) => {
    if (!SERVER_EVENTS.includes(name)) { received.push([name, payload]); log('<- (unknown)', name, show(payload)); }
  });

  // b. malformed payloads are answered, never dropped
  step = 'malformed subscribe';
  for (const bad of [{ eventId: 42 }, 'just a string', { eventId: 'bad id/with slash' }]) {
    if (!socket.connected) break;
    const a = await ack('subscribe:event', bad);
    log('malformed', show(bad), '->', show(a));
    checkInvalidAck(`subscribe:event ${show(bad)}`, a);
  }
  if (!socket.connected) {
    fail(`connection dropped after malformed payloads${disconnectedEarly ? `: ${disconnectedEarly}` : ''}`);
    throw new Error('cannot continue without a connection');
  }

  // c. subscribe
  step = 'subscribe';
  const sub = await ack('subscribe:event', { eventId: args.eventId });
  log('subscribe ->', show(sub));
  let lastSeq = null;
  if (sub === undefined) throw new Error('subscribe:event was not acknowledged');
  if (!sub || sub.success !== true) throw new Error(`subscribe:event refused: ${show(sub)}`);
  if (sub.room !== `event:${args.eventId}`) fail(`subscribe ack room ${show(sub.room)} != ${show(`event:${args.eventId}`)}`);
  const snap = sub.snapshot;
  if (!snap || typeof snap !== 'object') {
    fail(`subscribe ack has no snapshot object: ${show(sub)}`);
  } else {
    if (!('eventId' in snap)) fail('snapshot.eventId missing');
    else if (snap.eventId !== args.eventId) fail(`snapshot.eventId ${show(snap.eventId)} != ${show(args.eventId)}`);
    for (const k of SNAPSHOT_NUMBER_KEYS) {
      if (!(k in snap)) fail(`snapshot.${k} missing`);
      else if (!isNum(snap[k])) fail(`snapshot.${k} is not a number: ${show(snap[k])}`);
    }
    if (isNum(snap.lastSeq)) lastSeq = snap.lastSeq;
  }

  // e. enqueue
  step = 'POST photos';
  const requestId = `js-${randomBytes(8).toString('hex')}`;
  const body = { photos: args.photos.map((path, i) => ({ photoId: `js-p${i}`, source: { path } })) };
  const headers = { 'content-type': 'application/json', 'x-request-id': requestId };
  if (args.token) headers.authorization = `Bearer ${args.token}`;
  const res = await fetch(`${args.gateway}/v1/events/${encodeURIComponent(args.eventId)}/photos`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(Math.max(1000, completionDeadline - Date.now())),
  });
  const text = await res.text();
  log('POST ->', res.status, text);
  let reply;
  try { reply = JSON.parse(text); } catch { throw new Error(`POST photos: ${res.status}, body is not JSON: ${text.slice(0, 300)}`); }
  if (res.status !== 202) throw new Error(`POST photos: expected 202, got ${res.status}: ${text.slice(0, 300)}`);
  if (reply.requestId !== requestId) fail(`POST reply requestId ${show(reply.requestId)} != X-Request-Id ${show(requestId)}`);
  const jobIds = new Map();
  if (!Array.isArray(reply.jobs)) throw new Error(`POST reply has no jobs array: ${text.slice(0, 300)}`);
  if (reply.jobs.length !== args.photos.length) fail(`POST reply has ${reply.jobs.length} jobs for ${args.photos.length} photos`);
  for (const j of reply.jobs) {
    if (!j || typeof j.photoId !== 'string') { fail(`POST reply job without photoId: ${show(j)}`); continue; }
    if (typeof j.jobId !== 'string' || j.jobId === '') fail(`POST reply job ${j.photoId}: jobId must be a non-empty string: ${show(j.jobId)}`);
    if (j.created !== true) fail(`POST reply job ${j.photoId}: created must be true, got ${show(j.created)}`);
    if (jobIds.has(j.photoId)) fail(`POST reply lists ${j.photoId} twice`);
    jobIds.set(j.photoId, j.jobId);
  }
  body.photos.forEach(({ photoId }) => { if (!jobIds.has(photoId)) fail(`POST reply has no job for ${photoId}`); });

  // f. wait for event:completed, then for stragglers
  step = 'wait for event:completed';
  const done = await waitFor(() => received.some(([n]) => n === 'event:completed'), completionDeadline);
  if (!done) fail(`event:completed not received within ${completionDeadline - started} ms of the start`);
  await sleep(300);

  // g. assertions
  step = 'assertions';
  checkMessages({ eventId: args.eventId, requestId, photos: args.photos, expectFailed: args.expectFailed, jobIds, lastSeq });

  // h. unsubscribe
  step = 'unsubscribe';
  if (socket.connected) {
    const un = await ack('unsubscribe:event', { eventId: args.eventId });
    log('unsubscribe ->', show(un));
    if (un !== undefined && !(un && un.success === true)) fail(`unsubscribe:event: expected { success: true }, got ${show(un)}`);
  }
  if (disconnectedEarly) fail(`socket disconnected before the end: ${disconnectedEarly}`);

  // With default options the client starts on polling and upgrades; the upgrade
  // normally happened long ago, give it a short grace period if not.
  step = 'transport';
  if (args.transport === 'default' && currentTransport() !== 'websocket' && socket.connected) {
    await waitFor(() => currentTransport() === 'websocket', Date.now() + 2000);
  }
  clearTimeout(hard);
  finish();
}

process.on('unhandledRejection', (err) => finish(`unhandled rejection during step "${step}": ${err?.stack ?? err}`));
process.on('uncaughtException', (err) => finish(`uncaught exception during step "${step}": ${err?.stack ?? err}`));

main().catch((err) => finish(`error during step "${step}": ${err?.message ?? err}`));
