#!/usr/bin/env node
// Seed 000 (NestJS file-processing gateway), its client as the document shows it: connect to
// /file-processing, `subscribe:file { fileId }`, then `subscribed` and
// `processing:started|progress|completed|failed`. The seed's fileId is what its upload
// returned; finishline's enqueue returns the jobId, which is what this client passes. With
// auth on, the client adds `auth: { token }` (`--token`).
import { io } from 'socket.io-client';
import { args, check, deadline, done, isNum, ready, received } from './lib.mjs';

const { gateway, file: fileId, token } = args();
deadline(60000);

// ---- the seed's client
const socket = io(`${gateway}/file-processing`, token ? { auth: { token } } : {});
socket.emit('subscribe:file', { fileId });

const events = ['subscribed', 'processing:started', 'processing:progress', 'processing:completed', 'processing:failed', 'exception'];
for (const name of events) {
  socket.on(name, (data) => {
    received.push([name, data]);
    if (name === 'subscribed') ready();
    if (name === 'processing:progress') console.error(`Progress: ${data.progress}%`);
    if (name === 'processing:completed' || name === 'processing:failed' || name === 'exception') finish();
  });
}
socket.on('connect_error', (err) => done(`connect_error: ${err.message}`));

// ---- what the seed promises
function finish() {
  socket.disconnect();
  const names = received.map(([name]) => name);
  check(names[0] === 'subscribed', `first event is subscribed: ${names.join(', ')}`);
  check(received[0]?.[1]?.fileId === fileId, `subscribed names the file: ${JSON.stringify(received[0]?.[1])}`);
  check(names[1] === 'processing:started', `processing:started comes first: ${names.join(', ')}`);
  check(names[names.length - 1] === 'processing:completed', `processing:completed comes last: ${names.join(', ')}`);
  const progress = received.filter(([name]) => name === 'processing:progress').map(([, d]) => d);
  check(progress.length >= 1, 'at least one processing:progress');
  let last = -1;
  for (const d of progress) {
    check(isNum(d.progress) && d.progress >= 0 && d.progress <= 100, `progress ${d.progress} not in 0..100`);
    check(d.progress >= last, `progress went down to ${d.progress}`);
    last = d.progress;
  }
  for (const [name, d] of received.slice(1)) {
    check(d.jobId === fileId, `${name}: jobId ${d.jobId} is not ${fileId}`);
    check(typeof d.fileId === 'string' && d.fileId.length > 0, `${name}: no fileId`);
  }
  check(!names.includes('processing:failed') && !names.includes('exception'), `nothing failed: ${names.join(', ')}`);
  done();
}
