#!/usr/bin/env node
// Seed 003 (native WebSocket download status), its client as the document shows it: a plain
// WebSocket on /ws/download/{jobId}, `status` frames with { jobId, status, progress, … },
// and `ping` answered by {"type":"pong"}. Node 20 has no global WebSocket: the `ws` package
// gives the browser's API (onopen, onmessage with event.data, send). With auth on, the only
// change is the token in the query string (`--token`).
import WebSocket from 'ws';
import { args, check, deadline, done, isNum, ready, received } from './lib.mjs';

const { gateway, job: jobId, token } = args();
deadline(60000);
const base = gateway.replace(/^http/, 'ws');
const query = token ? `?token=${encodeURIComponent(token)}` : '';

// ---- the seed's client
const ws = new WebSocket(`${base}/ws/download/${jobId}${query}`);
let status = null;
let sawPong = false;

ws.onopen = () => {
  ws.send('ping');
};

ws.onmessage = (event) => {
  const message = JSON.parse(event.data);
  received.push([message.type, message.data ?? null]);
  if (message.type === 'pong') {
    sawPong = true;
    return;
  }
  if (message.type === 'status') {
    if (status === null) ready(); // the first frame: the job's state when we connected
    status = message.data;
    if (status.status === 'completed' || status.status === 'failed') {
      ws.close();
    }
  }
};

ws.onerror = (error) => done(`websocket error: ${error.message}`);

ws.onclose = () => {
  // ---- what the seed promises
  const frames = received.filter(([type]) => type === 'status').map(([, data]) => data);
  check(sawPong, 'ping was not answered with {"type":"pong"}');
  check(frames.length >= 2, `expected a first status frame and updates, got ${frames.length}`);
  check(frames[0]?.status === 'queued', `first frame is the queued job: ${JSON.stringify(frames[0])}`);
  const order = ['queued', 'processing', 'completed', 'failed'];
  let lastRank = 0;
  let lastProgress = -1;
  for (const data of frames) {
    check(data.jobId === jobId, `jobId ${data.jobId} is not ${jobId}`);
    check(order.includes(data.status), `status ${data.status} is not one of ${order.join('|')}`);
    check(isNum(data.progress) && data.progress >= 0 && data.progress <= 100, `progress ${data.progress} not in 0..100`);
    const rank = Math.min(order.indexOf(data.status), 2);
    check(rank >= lastRank, `status went back to ${data.status}`);
    if (data.status === 'processing') check(data.progress >= lastProgress, `progress went down to ${data.progress}`);
    lastRank = rank;
    lastProgress = data.progress;
  }
  check(frames.some((d) => d.status === 'processing'), 'no processing frame');
  const last = frames[frames.length - 1];
  check(last?.status === 'completed' && last.progress === 100, `last frame is completed at 100: ${JSON.stringify(last)}`);
  done();
};
