// The Node stack that finishline is compared with in tests/bench/queue.mjs and socket.mjs, one
// role per process (so each is measured, started and stopped apart, as finishline's are). The
// BullMQ package is `bullmq` (6.x) unless BULLMQ names another installed alias (`bullmq5`).
//
//   node node-peer.mjs server <port> <redisPort> <queue> [queue-events|emitter]
//     socket.io 4.8 with @socket.io/redis-adapter; namespace /progress answers
//     subscribe:event { eventId } with an ack and joins room event:<eventId>. `queue-events`
//     (default): a BullMQ QueueEvents relays every `progress` and `completed` of the queue to
//     its event's room, as photo:progress and photo:completed. `emitter`: no relay; the worker
//     emits through the adapter's Redis channel. Prints "listening <port>" when ready.
//   node node-peer.mjs worker <redisPort> <queue> <concurrency> [full|none] [gated|auto] [emitter]
//     a BullMQ Worker that calls updateProgress three times (detection 0, ocr 33, color 67;
//     `none`: never), then completes; every progress value and the return value carry `ts`,
//     the publisher's clock (RFC 3339, milliseconds) taken just before the Redis call, as
//     finishline's worker stamps its messages. Prints "worker ready"; `gated`: it starts
//     taking jobs only when a line "go" arrives on stdin (jobs pre-loaded before the clock).
//     `emitter`: after each updateProgress and once the job is completed it also emits the
//     message to the event's room with @socket.io/redis-emitter (the other way Node apps feed
//     socket.io).
//   node node-peer.mjs producer <redisPort> <queue> <eventId> <jobs> <batch> <inFlight>
//     adds <jobs> jobs of one event, `addBulk` of <batch> (or `add` when 1), <inFlight> calls
//     at once; prints {"jobs","seconds","perSec","startedAtMs"}.
//
// Every queue is opened with `queueOptions`: the events stream kept as long as finishline's
// progress stream (100,000) and finished jobs kept as long as finishline keeps job state
// (24 h), with three attempts and exponential backoff from 1 s (finishline's defaults).
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import IORedis from "ioredis";

const { Queue, QueueEvents, Worker } = await import(process.env.BULLMQ || "bullmq");

export const RETENTION_SECONDS = 24 * 3600;
const connection = (port) => ({ host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null });
const queueOptions = (port) => ({
  connection: connection(port),
  streams: { events: { maxLen: 100_000 } },
  defaultJobOptions: {
    removeOnComplete: { age: RETENTION_SECONDS },
    removeOnFail: { age: RETENTION_SECONDS },
    attempts: 3,
    backoff: { type: "exponential", delay: 1000 },
  },
});

const [role, ...rest] = process.argv.slice(2);

if (role === "server") {
  const [port, redisPort, queue, relay = "queue-events"] = rest;
  const pub = new IORedis(connection(redisPort));
  const sub = pub.duplicate();
  const http = createServer();
  const io = new Server(http, { adapter: createAdapter(pub, sub), cors: { origin: "*" } });
  const progress = io.of("/progress");
  progress.on("connection", (socket) => {
    socket.on("subscribe:event", (payload, ack) => {
      if (typeof ack !== "function") return;
      if (!payload || typeof payload.eventId !== "string") {
        ack({ success: false, error: { code: "invalid_payload", message: "expected { eventId }" } });
        return;
      }
      const room = "event:" + payload.eventId;
      socket.join(room);
      ack({ success: true, room });
    });
  });
  if (relay === "queue-events") {
    const events = new QueueEvents(queue, { connection: connection(redisPort) });
    events.on("progress", ({ data }) => {
      if (data && data.eventId) progress.to("event:" + data.eventId).emit("photo:progress", data);
    });
    events.on("completed", ({ returnvalue }) => {
      if (returnvalue && returnvalue.eventId) progress.to("event:" + returnvalue.eventId).emit("photo:completed", returnvalue);
    });
    await events.waitUntilReady();
  }
  http.listen(Number(port), "127.0.0.1", () => console.log("listening " + http.address().port));
} else if (role === "worker") {
  const [redisPort, queue, concurrency, progress = "full", gated, emit] = rest;
  const stages = progress === "none" ? [] : [["detection", 0], ["ocr", 33], ["color", 67]];
  const ts = () => new Date().toISOString();
  const emitter = emit === "emitter" ? new Emitter(new IORedis(connection(redisPort))).of("/progress") : null;
  const worker = new Worker(queue, async (job) => {
    const { eventId, photoId } = job.data;
    for (const [stage, value] of stages) {
      const data = { eventId, photoId, jobId: job.id, progress: value, stage, ts: ts() };
      await job.updateProgress(data);
      emitter?.to("event:" + eventId).emit("photo:progress", data);
    }
    return { eventId, photoId, jobId: job.id, plateNumber: null, confidence: 0, plates: [], colors: [], ts: ts() };
  }, { connection: connection(redisPort), concurrency: Number(concurrency), autorun: gated !== "gated" });
  // Once the job is completed in Redis, as QueueEvents would see it.
  if (emitter) worker.on("completed", (_job, result) => emitter.to("event:" + result.eventId).emit("photo:completed", result));
  await worker.waitUntilReady();
  console.log("worker ready");
  if (gated === "gated") {
    createInterface({ input: process.stdin }).on("line", (line) => { if (line.trim() === "go") worker.run(); });
  }
  process.on("SIGTERM", async () => { await worker.close(); process.exit(0); });
} else if (role === "producer") {
  const [redisPort, name, eventId, jobs, batch, inFlight] = rest.map((v, i) => (i >= 3 ? Number(v) : v));
  const queue = new Queue(name, queueOptions(redisPort));
  await queue.waitUntilReady();
  const calls = Math.ceil(jobs / batch);
  let next = 0;
  const startedAtMs = Date.now();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (let call = next++; call < calls; call = next++) {
      const items = Array.from({ length: Math.min(batch, jobs - call * batch) }, (_, k) => {
        const photoId = `p${call * batch + k}`;
        return { name: "photo", data: { eventId, photoId, source: { path: photoId + ".jpg" } }, opts: { jobId: `${eventId}-${photoId}` } };
      });
      if (batch === 1) await queue.add(items[0].name, items[0].data, items[0].opts);
      else await queue.addBulk(items);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ jobs, seconds, perSec: jobs / seconds, startedAtMs }));
  await queue.close();
  process.exit(0);
} else {
  console.error("usage: node-peer.mjs server <port> <redisPort> <queue> | worker <redisPort> <queue> <concurrency> [full|none] [gated] | producer <redisPort> <queue> <eventId> <jobs> <batch> <inFlight>");
  process.exit(2);
}
