#!/usr/bin/env node
// Seed 002 (NestJS jobs gateway over Redis), its client as the document shows it: connect to
// /jobs with `transports: ['websocket']`, `subscribe:jobs { jobId }` (ack
// `{ success, room, message }`), then `job:update`, `job:progress`, `job:completed`,
// `job:error`. With auth on, the client adds `auth: { token }` (`--token`).
import { io } from 'socket.io-client';
import { args, check, deadline, done, fail, isNum, ready, received } from './lib.mjs';

const { gateway, job: jobId, token } = args();
deadline(60000);

// ---- the seed's client (the React example, without React)
const newSocket = io(`${gateway}/jobs`, {
  transports: ['websocket'],
  ...(token ? { auth: { token } } : {}),
});
newSocket.emit('subscribe:jobs', { jobId }, (answer) => {
  received.push(['ack', answer]);
  check(answer?.success === true, `subscribe:jobs refused: ${JSON.stringify(answer)}`);
  check(answer?.room === `job:${jobId}`, `room is job:${jobId}: ${answer?.room}`);
  check(typeof answer?.message === 'string', 'the ack has a message');
  if (answer?.success) ready();
  else done();
});
let jobStatus = null;
let progress = 0;
for (const name of ['job:update', 'job:progress', 'job:completed', 'job:error']) {
  newSocket.on(name, (data) => {
    received.push([name, data]);
    if (name === 'job:progress') progress = data.progress;
    else jobStatus = data;
    if (name === 'job:completed' || name === 'job:error') finish();
  });
}
newSocket.on('connect_error', (err) => done(`connect_error: ${err.message}`));

// ---- what the seed promises
function finish() {
  newSocket.emit('unsubscribe:jobs', { jobId });
  newSocket.disconnect();
  const events = received.filter(([name]) => name !== 'ack');
  const names = events.map(([name]) => name);
  check(names[0] === 'job:update' && events[0][1].status === 'started', `job:update started comes first: ${names.join(', ')}`);
  check(names[names.length - 1] === 'job:completed', `job:completed comes last: ${names.join(', ')}`);
  check(jobStatus?.status === 'completed', `final status: ${jobStatus?.status}`);
  check(progress > 0, `progress reached ${progress}`);
  let last = -1;
  for (const [name, d] of events) {
    check(d.jobId === jobId, `${name}: jobId ${d.jobId}`);
    check(typeof d.timestamp === 'string' && !Number.isNaN(Date.parse(d.timestamp)), `${name}: timestamp ${d.timestamp}`);
    if (name === 'job:update') check(typeof d.status === 'string' && d.data && typeof d.data === 'object', `job:update shape: ${JSON.stringify(d)}`);
    if (name === 'job:progress') {
      check(d.status === 'in_progress', `job:progress status ${d.status}`);
      check(isNum(d.progress) && d.progress >= last && d.progress <= 100, `progress ${d.progress} after ${last}`);
      check(typeof d.message === 'string', 'job:progress has a message');
      last = d.progress;
    }
    if (name === 'job:completed') check(d.status === 'completed' && d.result && typeof d.result === 'object', `job:completed shape: ${JSON.stringify(d)}`);
    if (name === 'job:error') fail(`job:error: ${JSON.stringify(d)}`);
  }
  done();
}
