// Queue benchmark: finishline (gateway HTTP enqueue + worker in --pipeline noop mode, which
// runs the real queue, progress publishing and counting without image work) against BullMQ
// (addBulk/add + a Worker that calls updateProgress three times, then completes), on the same
// freshly started redis-server, one after the other.
//
//   node tests/bench/queue.mjs [--jobs 20000] [--concurrency 64] [--single 2000]
//                              [--bin target/release] [--smoke] [--out FILE]
//
// Prints a markdown table and writes JSON (default tests/bench/results/latest.json).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { fmt, freePort, machine as machineInfo, measureRedis as measure, sleep, start, startRedis, until as untilDeadline } from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const argv = process.argv.slice(2);
const flag = (name, fallback) => { const i = argv.indexOf("--" + name); return i >= 0 ? argv[i + 1] : fallback; };
const smoke = argv.includes("--smoke");
const N = Number(flag("jobs", smoke ? 500 : 20000));
const CONCURRENCY = Number(flag("concurrency", 64));
const SINGLE = Number(flag("single", smoke ? 100 : 2000));
const BIN = path.resolve(root, flag("bin", smoke ? "target/debug" : "target/release"));
const OUT = path.resolve(root, flag("out", "tests/bench/results/latest.json"));
const DEADLINE_MS = smoke ? 60_000 : 600_000;

const until = (what, cond) => untilDeadline(what, cond, DEADLINE_MS);
const measureRedis = (redis, fn) => measure(redis, N + SINGLE, fn);

async function finishline(redisPort, redis) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const common = ["--redis-url", `redis://127.0.0.1:${redisPort}`, "--key-prefix", "bench", "--log-filter", "warn"];
  const gateway = start(path.join(BIN, "finishline-gateway"), [...common, "--auth-disabled", "--listen", `127.0.0.1:${port}`, "--enqueue-rate", "1000000", "--max-batch", "1000"]);
  await until("gateway ready", async () => { try { return (await fetch(url + "/readyz")).ok; } catch { return false; } });
  const metricsPort = await freePort();
  const worker = start(path.join(BIN, "finishline-worker"), [...common, "--pipeline", "noop", "--concurrency", String(CONCURRENCY), "--http-listen", `127.0.0.1:${metricsPort}`, "--media-root", os.tmpdir(), "--poll-interval", "10ms"]);
  await sleep(500);
  // node:http with a keep-alive agent: Node's fetch costs ~0.7 ms of client CPU per request,
  // which capped the one-per-call figure at the client, not the gateway.
  const load = (event, jobs, batch, extra = []) => {
    const out = execFileSync(path.join(BIN, "examples", "enqueue-load"), ["--redis-url", `redis://127.0.0.1:${redisPort}`, "--key-prefix", "bench", "--event", event, "--jobs", String(jobs), "--batch", String(batch), "--in-flight", "16", ...extra]);
    return JSON.parse(out.toString()).perSec;
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const post = (event, photos) => new Promise((resolve, reject) => {
    const body = JSON.stringify({ photos });
    const req = http.request(`${url}/v1/events/${event}/photos`, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 202 ? resolve() : reject(new Error("enqueue answered " + res.statusCode))));
    });
    req.on("error", reject);
    req.end(body);
  });
  const measured = await measureRedis(redis, async () => {
    const t0 = performance.now();
    for (let i = 0; i < N; i += 1000) {
      await post("bulk", Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ photoId: `p${i + j}`, source: { path: `p${i + j}.jpg` } })));
    }
    const enqueued = performance.now();
    await until("finishline processed every job", async () => Number(await redis.hget("bench:event:bulk", "processedPhotos")) >= N);
    const done = performance.now();
    // One photo per request, 16 in flight, from a Rust client (Node's own HTTP clients
    // spend more CPU per request than the gateway and would measure themselves).
    const singlePerSec = load("single", SINGLE, 1, ["--http-url", url]);
    await until("single jobs processed", async () => Number(await redis.hget("bench:event:single", "processedPhotos")) >= SINGLE);
    agent.destroy();
    // How the worker's bus writer batched and conflated (its Prometheus metrics).
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const metric = (name) => Number((metrics.match(new RegExp(`^${name} ([0-9.e+]+)$`, "m")) || [0, NaN])[1]);
    const writer = { batches: metric("finishline_worker_bus_batch_ops_count"), operations: metric("finishline_worker_bus_batch_ops_sum"), progressConflated: metric("finishline_worker_progress_conflated_total"), progressSent: 3 * (N + SINGLE) };
    return { writer, enqueueBatchPerSec: N / ((enqueued - t0) / 1000), enqueueSinglePerSec: singlePerSec, processedPerSec: N / ((done - t0) / 1000) };
  });
  // The Rust producer API (what a processor written in Rust calls; BullMQ's add/addBulk are
  // the same kind of library call), after the measured window, with the worker still running.
  measured.producerBatchPerSec = load("lib-bulk", N, 1000);
  measured.producerSinglePerSec = load("lib-single", SINGLE, 1);
  gateway.kill("SIGTERM"); worker.kill("SIGTERM");
  // A worker that restarted or lost Redis during the run says so: show it with the figures.
  const warnings = worker.log().split("\n").filter((line) => / (WARN|ERROR) /.test(line));
  if (warnings.length) console.error(`worker warnings during the run:\n${warnings.slice(-5).join("\n")}`);
  return measured;
}

async function bullmq(redisPort, redis) {
  const connection = { host: "127.0.0.1", port: redisPort, maxRetriesPerRequest: null };
  const queue = new Queue("bench", { connection });
  let processed = 0;
  const worker = new Worker("bench", async (job) => { await job.updateProgress(33); await job.updateProgress(67); await job.updateProgress(100); processed++; return null; }, { connection, concurrency: CONCURRENCY });
  await worker.waitUntilReady();
  return measureRedis(redis, async () => {
    const t0 = performance.now();
    for (let i = 0; i < N; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ name: "photo", data: { photoId: `p${i + j}`, source: { path: `p${i + j}.jpg` } }, opts: { jobId: `bulk-p${i + j}` } })));
    }
    const enqueued = performance.now();
    await until("BullMQ processed every job", async () => processed >= N);
    const done = performance.now();
    const s0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => { while (next < SINGLE) { const i = next++; await queue.add("photo", { photoId: `s${i}` }, { jobId: `single-s${i}` }); } }));
    const singleMs = performance.now() - s0;
    await until("single jobs processed", async () => processed >= N + SINGLE);
    await worker.close(); await queue.close();
    return { enqueueBatchPerSec: N / ((enqueued - t0) / 1000), enqueueSinglePerSec: SINGLE / (singleMs / 1000), processedPerSec: N / ((done - t0) / 1000) };
  });
}

const { port: redisPort, redis } = await startRedis(DEADLINE_MS);
let fl, bq;
try {
  fl = await finishline(redisPort, redis);
  await redis.flushall();
  bq = await bullmq(redisPort, redis);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
const rows = [
  ["enqueue over HTTP, batch of 1,000 (jobs/s)", fl.enqueueBatchPerSec, bq.enqueueBatchPerSec, 0],
  ["enqueue over HTTP, one per request, 16 in flight (jobs/s)", fl.enqueueSinglePerSec, bq.enqueueSinglePerSec, 0],
  ["enqueue, Rust producer API, batch of 1,000 (jobs/s)", fl.producerBatchPerSec, bq.enqueueBatchPerSec, 0],
  ["enqueue, Rust producer API, one per call, 16 in flight (jobs/s)", fl.producerSinglePerSec, bq.enqueueSinglePerSec, 0],
  [`processed end to end, concurrency ${CONCURRENCY} (jobs/s)`, fl.processedPerSec, bq.processedPerSec, 0],
  ["Redis commands per job", fl.redisCommandsPerJob, bq.redisCommandsPerJob, 1],
  ["Redis CPU per job (ms)", fl.redisCpuMsPerJob, bq.redisCpuMsPerJob, 3],
];
const machine = machineInfo(BIN);
const redisVersion = machine.redis;
console.log(`\nQueue benchmark: ${fmt(N)} jobs (${SINGLE} single), ${machine.cores} cores (${machine.cpu}), ${redisVersion.split(" ").slice(0, 3).join(" ")}\n`);
console.log("| measure | finishline | BullMQ 6.7.0 | ratio |\n| --- | ---: | ---: | ---: |");
for (const [name, a, b, d] of rows) console.log(`| ${name} | ${fmt(a, d)} | ${fmt(b, d)} | ${(a / b).toFixed(2)}× |`);
const w = fl.writer;
console.log(`\nfinishline worker: ${fmt(w.operations)} bus operations in ${fmt(w.batches)} Lua calls (${fmt(w.operations / w.batches, 1)} per call); ${fmt(w.progressConflated)} of ${fmt(w.progressSent)} photo:progress conflated under load (terminal messages and counts are never dropped)`);
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify({ jobs: N, single: SINGLE, concurrency: CONCURRENCY, smoke, machine, finishline: fl, bullmq: bq, at: new Date().toISOString() }, null, 2));
await redis.quit();
process.exit(0);
