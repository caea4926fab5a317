#!/usr/bin/env node
// Seed 004 (JWT queue gateway), its client as the document shows it: connect to /queue with
// `auth: { token }`, no subscription, and follow `queue-update` { jobId, eventType, progress,
// stage, message, error, result, metadata }. Unchanged: the seed already sends the JWT.
import io from 'socket.io-client';
import { args, check, deadline, done, isNum, ready, received } from './lib.mjs';

const { gateway, token, jobs: expectedJobs = '1' } = args();
deadline(60000);

// ---- the seed's client ("Basic Setup")
const socket = io(`${gateway}/queue`, {
  auth: { token },
});
const ended = new Set();
socket.on('queue-update', (update) => {
  received.push(['queue-update', update]);
  console.error(`Job ${update.jobId}: ${update.message} (${update.progress}%, ${update.stage})`);
  switch (update.eventType) {
    case 'job-completed':
    case 'job-failed':
    case 'job-cancelled':
      ended.add(update.jobId);
      if (ended.size >= Number(expectedJobs)) finish();
      break;
    default:
      break;
  }
});
socket.on('connect', () => ready());
socket.on('connect_error', (err) => done(`connect_error: ${err.message}`));

// ---- what the seed promises, per job
function finish() {
  socket.disconnect();
  const byJob = new Map();
  for (const [, u] of received) {
    if (!byJob.has(u.jobId)) byJob.set(u.jobId, []);
    byJob.get(u.jobId).push(u);
  }
  const types = ['job-queued', 'job-started', 'job-progress', 'job-completed', 'job-failed', 'job-cancelled'];
  for (const [jobId, updates] of byJob) {
    const seen = updates.map((u) => u.eventType);
    check(seen[0] === 'job-queued', `${jobId}: job-queued first: ${seen.join(', ')}`);
    check(seen[1] === 'job-started', `${jobId}: job-started second: ${seen.join(', ')}`);
    check(seen[seen.length - 1] === 'job-completed', `${jobId}: job-completed last: ${seen.join(', ')}`);
    check(seen.includes('job-progress'), `${jobId}: some job-progress: ${seen.join(', ')}`);
    let last = -1;
    for (const u of updates) {
      check(types.includes(u.eventType), `${jobId}: eventType ${u.eventType}`);
      check(typeof u.message === 'string', `${jobId}: ${u.eventType} has a message`);
      check(u.metadata && typeof u.metadata.jobType === 'string', `${jobId}: ${u.eventType} metadata.jobType`);
      if (u.progress !== undefined) {
        check(isNum(u.progress) && u.progress >= last, `${jobId}: progress ${u.progress} after ${last}`);
        last = u.progress;
      }
      if (u.eventType === 'job-progress') check(typeof u.stage === 'string', `${jobId}: job-progress stage`);
      if (u.eventType === 'job-queued') check(/position \d+/.test(u.message), `${jobId}: ${u.message}`);
      if (u.eventType === 'job-completed') check(u.progress === 100 && u.result && typeof u.result === 'object', `${jobId}: result`);
    }
  }
  check(byJob.size === Number(expectedJobs), `expected ${expectedJobs} job(s), got ${byJob.size}`);
  done();
}
