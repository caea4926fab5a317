// The Node stack that finishline is compared with in tests/bench/socket.mjs, in two processes
// (so the server's CPU and memory are measured apart from the worker's, as for finishline):
//
//   node node-peer.mjs server <port> <redisPort> <queue>
//     socket.io 4.8 with @socket.io/redis-adapter; namespace /progress answers
//     subscribe:event { eventId } with an ack and joins room event:<eventId>; a BullMQ
//     QueueEvents relays every `progress` and `completed` of the queue to its event's room, as
//     photo:progress and photo:completed. Prints "listening <port>" when ready.
//   node node-peer.mjs worker <redisPort> <queue> <concurrency>
//     a BullMQ Worker that calls updateProgress three times (detection 0, ocr 33, color 67),
//     then completes; every progress value and the return value carry `ts`, the publisher's
//     clock (RFC 3339, milliseconds) taken just before the Redis call, as finishline's worker
//     stamps its messages.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { QueueEvents, Worker } from "bullmq";
import IORedis from "ioredis";

const [role, ...rest] = process.argv.slice(2);
const options = (port) => ({ host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null });

if (role === "server") {
  const [port, redisPort, queue] = rest;
  const pub = new IORedis(options(redisPort));
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
  const events = new QueueEvents(queue, { connection: options(redisPort) });
  events.on("progress", ({ data }) => {
    if (data && data.eventId) progress.to("event:" + data.eventId).emit("photo:progress", data);
  });
  events.on("completed", ({ returnvalue }) => {
    if (returnvalue && returnvalue.eventId) progress.to("event:" + returnvalue.eventId).emit("photo:completed", returnvalue);
  });
  await events.waitUntilReady();
  http.listen(Number(port), "127.0.0.1", () => console.log("listening " + http.address().port));
} else if (role === "worker") {
  const [redisPort, queue, concurrency] = rest;
  const ts = () => new Date().toISOString();
  const worker = new Worker(queue, async (job) => {
    const { eventId, photoId } = job.data;
    for (const [stage, value] of [["detection", 0], ["ocr", 33], ["color", 67]]) {
      await job.updateProgress({ eventId, photoId, jobId: job.id, progress: value, stage, ts: ts() });
    }
    return { eventId, photoId, jobId: job.id, plateNumber: null, confidence: 0, plates: [], colors: [], ts: ts() };
  }, { connection: options(redisPort), concurrency: Number(concurrency) });
  await worker.waitUntilReady();
  console.log("worker ready");
  process.on("SIGTERM", async () => { await worker.close(); process.exit(0); });
} else {
  console.error("usage: node-peer.mjs server <port> <redisPort> <queue> | worker <redisPort> <queue> <concurrency>");
  process.exit(2);
}
