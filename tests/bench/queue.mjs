// Queue benchmark at equal work: finishline (worker in --pipeline noop mode: the real queue,
// progress publishing and counting, no image work; its gateway relaying to a Socket.IO
// client) against the newest BullMQ and the newest BullMQ 5 (a Worker, a QueueEvents relay
// to socket.io, node-peer.mjs), on one freshly started redis-server, in alternating rounds.
//
//   node tests/bench/queue.mjs [--jobs 20000] [--single 2000] [--concurrency 64] [--rounds 3]
//                              [--bin target/release] [--smoke] [--out FILE]
//                              [--redis standalone|cluster]
//
// Progress modes, the same work on both sides (the delivered counts are asserted):
//   full  every job publishes three stage messages and its end; every one is stored, relayed
//         and delivered (finishline --conflate off; BullMQ: three updateProgress + QueueEvents);
//   none  no stage messages on either side (finishline --noop-progress off; BullMQ never calls
//         updateProgress); the job's end is still relayed and delivered.
// finishline with conflation on (its default) is run too, and shown in its own table only.
//
// Process shape, the same on both sides: every worker, relay and producer is its own process;
// "processed" times the worker alone on jobs pre-loaded before its clock starts; "end to end"
// times a producer process (batches of 1,000, one in flight) and the worker running together;
// finished jobs kept 24 h on both sides (finishline's default retention; BullMQ
// removeOnComplete/removeOnFail { age: 24 h }); concurrency and batches in flight equal.
//
// Prints each round, the median and range of every figure and ratio, the limit redis-benchmark
// puts on the same redis-server, and writes JSON (default tests/bench/results/latest.json).
// Exits non-zero when a side delivered a different number of messages of some name, or when a
// ratio is not finite.
//
// `--redis cluster`: finishline alone, on a fresh standalone redis-server and on a fresh local
// Redis Cluster of 3 primaries (no replicas), in alternating rounds; reports jobs/s and Redis
// cost per job (commands and CPU summed over every node) side by side, checks that each
// topology delivered what its jobs produce, and writes tests/bench/results/cluster-latest.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds, eventKey, fmt, freePort, lines, machine as machineInfo, measureRedis, queueKey, quiet, runJson, sleep, spread, start, startCluster, startLoad, startRedis, until as untilDeadline } from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const argv = process.argv.slice(2);
const flag = (name, fallback) => { const i = argv.indexOf("--" + name); return i >= 0 ? argv[i + 1] : fallback; };
const smoke = argv.includes("--smoke");
const N = Number(flag("jobs", smoke ? 300 : 20000));
const SINGLE = Number(flag("single", smoke ? 50 : 2000));
const CONCURRENCY = Number(flag("concurrency", 64));
const ROUNDS = Number(flag("rounds", smoke ? 2 : 3));
const BIN = path.resolve(root, flag("bin", smoke ? "target/debug" : "target/release"));
const REDIS = flag("redis", "standalone");
if (!["standalone", "cluster"].includes(REDIS)) { console.error(`--redis must be standalone or cluster, not ${REDIS}`); process.exit(2); }
const OUT = path.resolve(root, flag("out", REDIS === "cluster" ? "tests/bench/results/cluster-latest.json" : "tests/bench/results/latest.json"));
const DEADLINE_MS = smoke ? 60_000 : 600_000;
const BATCH = 1000; // jobs per batch call, one batch in flight on both sides
const SINGLE_IN_FLIGHT = 16; // one-job calls in flight on both sides
const EVENT = "bench-0"; // every job's event; the relay client subscribes to it
const PREFIX = "bench"; // finishline's key prefix
const QUEUE = "bench"; // BullMQ's queue name
const STAGES = 3;

const until = (what, cond) => untilDeadline(what, cond, DEADLINE_MS);
const log = (...a) => console.error("[queue bench]", ...a);
const version = (pkg) => JSON.parse(readFileSync(path.join(here, "node_modules", pkg, "package.json"), "utf8")).version;

const { port: redisPort, redis } = await startRedis(DEADLINE_MS);
const readyz = (url) => async () => { try { return (await fetch(url + "/readyz")).ok; } catch { return false; } };
/// Where a side's Redis state lives: `redis` for data commands, `nodes` for INFO (one client
/// per node), `flushall` empties every node.
const standalone = { label: "standalone", url: `redis://127.0.0.1:${redisPort}`, redis, nodes: [redis], flushall: () => redis.flushall() };

/// finishline on `topology`: the gateway is the relay (it tails the progress streams and emits
/// to Socket.IO rooms) and the HTTP enqueue; the worker is `finishline-worker --pipeline noop`.
const finishlineOn = (topology, key = "finishline", label = "finishline") => {
  const { redis } = topology;
  const common = ["--redis-url", topology.url, "--key-prefix", PREFIX, "--log-filter", "warn"];
  const enqueueLoad = (args) => runJson(path.join(BIN, "enqueue-load"), ["--redis-url", topology.url, "--key-prefix", PREFIX, ...args]);
  // The parked waiting list keeps the queue's hash tag: RENAME stays in one Cluster slot.
  const parked = `${queueKey(PREFIX, "photo-processing")}:parked`;
  return {
    key,
    label,
    topology,
    async startRelay() {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = start(path.join(BIN, "finishline-gateway"), [...common, "--auth-disabled", "--listen", `127.0.0.1:${port}`, "--enqueue-rate", "1000000", "--max-batch", String(BATCH)]);
      await until("gateway ready", readyz(url));
      return { url, pid: child.pid, stop: () => child.kill("SIGTERM") };
    },
    /// A gated worker starts on an empty queue: the pre-loaded jobs are parked under another key
    /// and put back by `go` (the worker polls every 10 ms).
    async startWorker({ progress, conflate, gated }) {
      if (gated) await redis.rename(`${queueKey(PREFIX, "photo-processing")}:active`, parked);
      const port = await freePort();
      const child = start(path.join(BIN, "finishline-worker"), [...common, "--pipeline", "noop", "--concurrency", String(CONCURRENCY),
        "--conflate", conflate ? "on" : "off", "--noop-progress", progress === "full" ? "on" : "off",
        "--http-listen", `127.0.0.1:${port}`, "--media-root", os.tmpdir(), "--poll-interval", "10ms"]);
      await until("worker ready", readyz(`http://127.0.0.1:${port}`));
      return {
        pid: child.pid,
        go: () => redis.rename(parked, `${queueKey(PREFIX, "photo-processing")}:active`),
        async stats() {
          const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          const metric = (name) => Number((metrics.match(new RegExp(`^${name} ([0-9.e+]+)$`, "m")) || [0, 0])[1]);
          return { luaCalls: metric("finishline_worker_bus_batch_ops_count"), busOperations: metric("finishline_worker_bus_batch_ops_sum"), progressConflated: metric("finishline_worker_progress_conflated_total") };
        },
        stop() {
          const warnings = child.log().split("\n").filter((line) => / (WARN|ERROR) /.test(line));
          if (warnings.length) log(`finishline worker warnings:\n${warnings.slice(-5).join("\n")}`);
          child.kill("SIGTERM");
        },
      };
    },
    produce: (jobs, batch, inFlight, { event = EVENT, http } = {}) =>
      enqueueLoad(["--event", event, "--jobs", String(jobs), "--batch", String(batch), "--in-flight", String(inFlight), ...(http ? ["--http-url", http] : [])]),
    processed: async () => Number(await redis.hget(eventKey(PREFIX, EVENT), "processedPhotos")),
  };
};
const finishline = finishlineOn(standalone);

/// A BullMQ version: node-peer.mjs roles, each its own process, with BULLMQ=<package>.
function bullmq(pkg) {
  const env = { BULLMQ: pkg };
  const peer = path.join(here, "node-peer.mjs");
  return {
    key: pkg,
    label: `BullMQ ${version(pkg)}`,
    async startRelay() {
      const port = await freePort();
      const child = start("node", [peer, "server", String(port), String(redisPort), QUEUE], { stdout: true, env });
      if (!(await lines(child, DEADLINE_MS)()).startsWith("listening")) throw new Error("node server did not start: " + child.log());
      return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill("SIGTERM") };
    },
    async startWorker({ progress, gated }) {
      const child = start("node", [peer, "worker", String(redisPort), QUEUE, String(CONCURRENCY), progress, gated ? "gated" : "auto"], { stdout: true, stdin: true, env });
      if ((await lines(child, DEADLINE_MS)()) !== "worker ready") throw new Error("BullMQ worker did not start: " + child.log());
      return { pid: child.pid, go: () => child.stdin.write("go\n"), stats: async () => ({}), stop: () => child.kill("SIGTERM") };
    },
    produce: (jobs, batch, inFlight, { event = EVENT } = {}) =>
      runJson("node", [peer, "producer", String(redisPort), QUEUE, event, String(jobs), String(batch), String(inFlight)], { env }),
    processed: () => redis.zcard(`bull:${QUEUE}:completed`),
    topology: standalone,
  };
}

const sides = [finishline, bullmq("bullmq"), bullmq("bullmq5")];
const peers = sides.slice(1);

/// Waits until the relay client got every photo:completed (terminal messages are never
/// dropped) or its count has not moved for 5 s; returns its last report.
async function delivered(load) {
  let report = await load.report(), last = -1, lastMove = Date.now();
  while (report.byName["photo:completed"] < N && Date.now() - lastMove < 5000) {
    if (report.deliveries !== last) { last = report.deliveries; lastMove = Date.now(); }
    await sleep(50);
    report = await load.report();
  }
  await quiet(load);
  return (await load.report()).byName;
}

/// The enqueue figures: every producer in its own process, no worker running.
async function enqueueRun(side) {
  await side.topology.flushall();
  const out = {};
  if (side === finishline) {
    const relay = await side.startRelay();
    out.producerBatch = (await side.produce(N, BATCH, 1, { event: "lib-bulk" })).perSec;
    out.producerSingle = (await side.produce(SINGLE, 1, SINGLE_IN_FLIGHT, { event: "lib-single" })).perSec;
    out.httpBatch = (await side.produce(N, BATCH, 1, { event: "http-bulk", http: relay.url })).perSec;
    out.httpSingle = (await side.produce(SINGLE, 1, SINGLE_IN_FLIGHT, { event: "http-single", http: relay.url })).perSec;
    relay.stop();
  } else {
    out.producerBatch = out.httpBatch = (await side.produce(N, BATCH, 1, { event: "bulk" })).perSec;
    out.producerSingle = out.httpSingle = (await side.produce(SINGLE, 1, SINGLE_IN_FLIGHT, { event: "single" })).perSec;
  }
  return out;
}

/// One processing run. `preloaded`: N jobs enqueued first, the worker's clock starts when it
/// may take them. Otherwise (end to end) the worker waits idle and the clock starts with the
/// producer process's first call.
async function processRun(side, { progress, conflate = false, preloaded }) {
  await side.topology.flushall();
  const relay = await side.startRelay();
  const load = await startLoad(BIN, relay.url, { clients: 1, events: 1, eventPrefix: EVENT.slice(0, -1), deadlineMs: DEADLINE_MS });
  try {
    if (preloaded) await side.produce(N, BATCH, 1);
    const worker = await side.startWorker({ progress, conflate, gated: preloaded });
    await quiet(load);
    await load.reset();
    const measured = await measureRedis(side.topology.nodes, N, async () => {
      const cpu0 = [cpuSeconds(worker.pid), cpuSeconds(relay.pid)];
      const goAt = Date.now();
      const producer = preloaded ? worker.go() : side.produce(N, BATCH, 1);
      await until(`${side.label} processed every job`, async () => (await side.processed()) >= N);
      const doneAt = Date.now();
      const cpu1 = [cpuSeconds(worker.pid), cpuSeconds(relay.pid)];
      const t0 = preloaded ? goAt : (await producer).startedAtMs;
      return { perSec: N / ((doneAt - t0) / 1000), workerCpuUsPerJob: (1e6 * (cpu1[0] - cpu0[0])) / N, relayCpuUsPerJob: (1e6 * (cpu1[1] - cpu0[1])) / N };
    });
    const byName = await delivered(load);
    const stats = await worker.stats();
    worker.stop();
    return { ...measured, byName, ...stats };
  } finally {
    load.stop();
    relay.stop();
  }
}

/// `--redis cluster`: finishline alone on the standalone redis-server and on a fresh Redis
/// Cluster of 3 primaries, in alternating rounds; the same runs as the standalone mode's
/// finishline side (but conflation and the one-job enqueue). Returns the exit code.
async function clusterBench() {
  const { url, cluster, nodes } = await startCluster(3, DEADLINE_MS);
  const clustered = { label: "cluster", url, redis: cluster, nodes, flushall: () => Promise.all(nodes.map((n) => n.flushall())) };
  const topologies = [finishlineOn(standalone, "standalone", "standalone"), finishlineOn(clustered, "cluster", "Cluster, 3 primaries")];
  const runs = [
    ["processed-none", { progress: "none", preloaded: true }], ["processed-full", { progress: "full", preloaded: true }],
    ["e2e-none", { progress: "none", preloaded: false }], ["e2e-full", { progress: "full", preloaded: false }],
  ];
  const rounds = [], problems = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? topologies : [...topologies].reverse();
    const round = Object.fromEntries(topologies.map((t) => [t.key, {}]));
    for (const side of order) {
      log(`round ${r + 1}: enqueue, ${side.label}`);
      await side.topology.flushall();
      round[side.key].enqueue = { producerBatch: (await side.produce(N, BATCH, 1, { event: "lib-bulk" })).perSec };
    }
    for (const [name, options] of runs) {
      for (const side of order) {
        log(`round ${r + 1}: ${name}, ${side.label}`);
        const run = (round[side.key][name] = await processRun(side, options));
        const want = { "photo:progress": options.progress === "full" ? STAGES * N : 0, "photo:completed": N };
        for (const [message, count] of Object.entries(want)) {
          if (run.byName[message] !== count) problems.push(`round ${r + 1}, ${name}, ${side.label}: ${run.byName[message]} ${message} delivered, ${count} expected`);
        }
      }
    }
    rounds.push(round);
  }
  const measures = [
    ["processed, jobs pre-loaded, progress full (jobs/s)", (x) => x["processed-full"].perSec],
    ["processed, jobs pre-loaded, progress none (jobs/s)", (x) => x["processed-none"].perSec],
    ["processed end to end, progress full (jobs/s)", (x) => x["e2e-full"].perSec],
    ["processed end to end, progress none (jobs/s)", (x) => x["e2e-none"].perSec],
    ["Redis commands per job, processing, progress full (all nodes)", (x) => x["processed-full"].redisCommandsPerJob, 1],
    ["Redis commands per job, processing, progress none (all nodes)", (x) => x["processed-none"].redisCommandsPerJob, 1],
    ["Redis CPU per job (µs), processing, progress full (all nodes)", (x) => 1000 * x["processed-full"].redisCpuMsPerJob, 1],
    ["Redis CPU per job (µs), processing, progress none (all nodes)", (x) => 1000 * x["processed-none"].redisCpuMsPerJob, 1],
    ["worker CPU per job (µs), processing, progress full", (x) => x["processed-full"].workerCpuUsPerJob, 1],
    ["relay CPU per job until the last job ended (µs), progress full", (x) => x["processed-full"].relayCpuUsPerJob, 1],
    [`enqueue, Rust producer API, batch of ${fmt(BATCH)}, 1 in flight (jobs/s)`, (x) => x.enqueue.producerBatch],
  ].map(([name, get, digits = 0]) => ({ name, digits, values: Object.fromEntries(topologies.map((t) => [t.key, rounds.map((round) => get(round[t.key]))])) }));
  const machine = machineInfo(BIN);
  const row = (cells) => console.log(`| ${cells.join(" | ")} |`);
  console.log(`\nQueue benchmark, finishline on standalone Redis vs a Redis Cluster of 3 primaries (no replicas, one machine): ${fmt(N)} jobs, ` +
    `concurrency ${CONCURRENCY}, ${ROUNDS} rounds alternating the order, ${machine.cores} cores (${machine.cpu}), ` +
    `${machine.redis.split(" ").slice(0, 3).join(" ")}, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
  row(["measure", ...topologies.flatMap((t) => [`${t.label}, per round`, "median"]), "cluster ÷ standalone"]);
  row(["---", ...topologies.flatMap(() => ["---:", "---:"]), "---:"]);
  for (const m of measures) {
    const medians = topologies.map((t) => spread(m.values[t.key]).median);
    row([m.name, ...topologies.flatMap((t, i) => [m.values[t.key].map((v) => fmt(v, m.digits)).join(" / "), fmt(medians[i], m.digits)]), (medians[1] / medians[0]).toFixed(2) + "×"]);
  }
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify({
    redis: "cluster", jobs: N, concurrency: CONCURRENCY, rounds: ROUNDS, smoke, machine, topologies: topologies.map((t) => t.label), results: rounds,
    measures: measures.map((m) => ({ name: m.name, values: m.values })), problems, at: new Date().toISOString(),
  }, null, 2));
  cluster.disconnect();
  if (problems.length) console.error("problems:\n  " + problems.join("\n  "));
  return problems.length ? 1 : 0;
}

/// redis-benchmark on the same redis-server: plain commands (one per round trip and 16
/// pipelined) and an EVAL of 8 commands of the kinds finishline's scripts run, pipelined.
function redisBenchmark() {
  const run = (args) => execFileSync("redis-benchmark", ["-h", "127.0.0.1", "-p", String(redisPort), "--csv", ...args]).toString();
  const rps = (csv) => { const v = csv.trim().split("\n").slice(1).map((l) => Number(JSON.parse("[" + l + "]")[1])); return v.reduce((a, b) => a + b, 0) / v.length; };
  const n = String(smoke ? 20000 : 200000);
  const tests = "set,get,incr,lpush,lpop,sadd,hset,zadd";
  const script = "local k = KEYS[1] redis.call('HINCRBY', k .. ':h', 'n', 1) redis.call('HSET', k .. ':j', 'state', 's', 'at', 't') " +
    "redis.call('RPUSH', k .. ':l', 'v') redis.call('LPOP', k .. ':l') redis.call('XADD', k .. ':x', 'MAXLEN', '~', '1000', '*', 'n', 'v') " +
    "redis.call('EXPIRE', k .. ':h', 100) redis.call('SADD', k .. ':s', 'm') redis.call('SREM', k .. ':s', 'm') return 1";
  const out = {
    commandsPerSecUnpipelined: rps(run(["-n", n, "-c", "50", "-t", tests])),
    commandsPerSecPipelined16: rps(run(["-n", n, "-c", "50", "-P", "16", "-t", tests])),
    scriptCommandsPerSec: 9 * rps(run(["-n", n, "-c", "50", "-P", "16", "eval", script, "1", "rb:__rand_int__", "-r", "1000"])),
  };
  return out;
}

if (REDIS === "cluster") process.exit(await clusterBench());

const rounds = [];
const problems = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    const round = Object.fromEntries(sides.map((s) => [s.key, {}]));
    for (const side of order) { log(`round ${r + 1}: enqueue, ${side.label}`); round[side.key].enqueue = await enqueueRun(side); }
    for (const progress of ["none", "full"]) {
      for (const side of order) {
        log(`round ${r + 1}: processed, progress ${progress}, ${side.label}`);
        round[side.key][`processed-${progress}`] = await processRun(side, { progress, preloaded: true });
      }
    }
    log(`round ${r + 1}: processed, progress full, finishline with conflation on`);
    round.finishline["processed-conflated"] = await processRun(finishline, { progress: "full", conflate: true, preloaded: true });
    for (const progress of ["none", "full"]) {
      for (const side of order) {
        log(`round ${r + 1}: end to end, progress ${progress}, ${side.label}`);
        round[side.key][`e2e-${progress}`] = await processRun(side, { progress, preloaded: false });
      }
    }
    rounds.push(round);
  }
} catch (err) {
  console.error(err.stack || err.message);
  process.exit(1);
}
log("redis-benchmark");
await redis.flushall();
const limit = redisBenchmark();

// Equal work: every side delivered the same number of messages of each name it shares, and
// as many as the jobs produce (finishline's job:queued, job:started, event:progress and
// event:completed have no BullMQ counterpart: delivered on top, counted apart).
const expected = { none: { "photo:progress": 0, "photo:completed": N }, full: { "photo:progress": STAGES * N, "photo:completed": N } };
rounds.forEach((round, r) => {
  for (const kind of ["processed", "e2e"]) {
    for (const progress of ["none", "full"]) {
      for (const side of sides) {
        const got = round[side.key][`${kind}-${progress}`].byName;
        for (const [name, want] of Object.entries(expected[progress])) {
          if (got[name] !== want) problems.push(`round ${r + 1}, ${kind}, progress ${progress}, ${side.label}: ${got[name]} ${name} delivered, ${want} expected`);
        }
      }
    }
  }
  const conflated = round.finishline["processed-conflated"].byName;
  if (conflated["photo:completed"] !== N) problems.push(`round ${r + 1}, finishline with conflation: ${conflated["photo:completed"]} photo:completed delivered of ${N}`);
});

// Each measure: a figure per side per round; the ratio is finishline ÷ the better BullMQ
// (by median) on that measure.
const measures = [
  ["processed, jobs pre-loaded, progress full (jobs/s)", (x) => x["processed-full"].perSec, true],
  ["processed, jobs pre-loaded, progress none (jobs/s)", (x) => x["processed-none"].perSec, true],
  ["processed end to end, progress full (jobs/s)", (x) => x["e2e-full"].perSec, true],
  ["processed end to end, progress none (jobs/s)", (x) => x["e2e-none"].perSec, true],
  ["worker CPU per job (µs), processing, progress full", (x) => x["processed-full"].workerCpuUsPerJob, false, 1],
  ["worker CPU per job (µs), processing, progress none", (x) => x["processed-none"].workerCpuUsPerJob, false, 1],
  ["relay CPU per job until the last job ended (µs), progress full", (x) => x["processed-full"].relayCpuUsPerJob, false, 1],
  ["Redis commands per job, processing, progress full", (x) => x["processed-full"].redisCommandsPerJob, false, 1],
  ["Redis commands per job, processing, progress none", (x) => x["processed-none"].redisCommandsPerJob, false, 1],
  ["Redis CPU per job (ms), processing, progress full", (x) => x["processed-full"].redisCpuMsPerJob, false, 3],
  ["Redis CPU per job (ms), processing, progress none", (x) => x["processed-none"].redisCpuMsPerJob, false, 3],
  [`enqueue, Rust producer API vs addBulk, batch of ${fmt(BATCH)}, 1 in flight (jobs/s)`, (x) => x.enqueue.producerBatch, true],
  [`enqueue, HTTP vs addBulk, batch of ${fmt(BATCH)}, 1 in flight (jobs/s)`, (x) => x.enqueue.httpBatch, true],
  [`enqueue, Rust producer API vs add, one per call, ${SINGLE_IN_FLIGHT} in flight (jobs/s)`, (x) => x.enqueue.producerSingle, true],
  [`enqueue, HTTP vs add, one per request, ${SINGLE_IN_FLIGHT} in flight (jobs/s)`, (x) => x.enqueue.httpSingle, true],
].map(([name, get, higherIsBetter, digits = 0]) => {
  const values = Object.fromEntries(sides.map((s) => [s.key, rounds.map((round) => get(round[s.key]))]));
  const medians = peers.map((p) => spread(values[p.key]).median);
  const anchor = peers[higherIsBetter ? (medians[0] >= medians[1] ? 0 : 1) : (medians[0] <= medians[1] ? 0 : 1)];
  const ratios = rounds.map((_, r) => values.finishline[r] / values[anchor.key][r]);
  if (!ratios.every(Number.isFinite)) problems.push(`${name}: a ratio is not finite (${ratios.join(", ")})`);
  return { name, digits, values, anchor: anchor.key, anchorLabel: anchor.label, ratios };
});

const machine = machineInfo(BIN);
const head = ["measure", "", ...rounds.map((_, r) => `round ${r + 1}`), "median", "range"];
const row = (cells) => console.log(`| ${cells.join(" | ")} |`);
const range = (s, d, unit = "") => `${fmt(s.min, d)}${unit}–${fmt(s.max, d)}${unit}`;
console.log(`\nQueue benchmark: ${fmt(N)} jobs (${fmt(SINGLE)} one per call), concurrency ${CONCURRENCY}, ${ROUNDS} rounds alternating the order, ` +
  `${machine.cores} cores (${machine.cpu}), ${machine.redis.split(" ").slice(0, 3).join(" ")}, node ${machine.node}, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
row(head);
row(head.map((_, i) => (i < 2 ? "---" : "---:")));
for (const m of measures) {
  for (const side of sides) {
    const s = spread(m.values[side.key]);
    row([side === finishline ? m.name : "", side.label, ...m.values[side.key].map((v) => fmt(v, m.digits)), fmt(s.median, m.digits), range(s, m.digits)]);
  }
  const s = spread(m.ratios);
  row(["", `ratio ÷ ${m.anchorLabel}`, ...m.ratios.map((v) => v.toFixed(2) + "×"), s.median.toFixed(2) + "×", range(s, 2, "×")]);
}

console.log(`\nMedians of ${ROUNDS} rounds; the ratio is finishline ÷ the BullMQ named, median (range over rounds):\n`);
row(["measure", ...sides.map((s) => s.label), "ratio"]);
row(["---", ...sides.map(() => "---:"), "---:"]);
for (const m of measures) {
  const r = spread(m.ratios);
  row([m.name, ...sides.map((s) => fmt(spread(m.values[s.key]).median, m.digits)), `${r.median.toFixed(2)}× (${range(r, 2, "×")}) ÷ ${m.anchorLabel}`]);
}

console.log(`\nfinishline with conflation on (its default; a product feature, never in a ratio), progress full, jobs pre-loaded:\n`);
row(["", ...rounds.map((_, r) => `round ${r + 1}`), "median"]);
row(["---", ...rounds.map(() => "---:"), "---:"]);
const conflatedRows = [
  ["processed (jobs/s)", (c) => c.perSec],
  [`photo:progress delivered, of ${fmt(STAGES * N)}`, (c) => c.byName["photo:progress"]],
  [`photo:completed delivered, of ${fmt(N)}`, (c) => c.byName["photo:completed"]],
  ["photo:progress conflated by the worker", (c) => c.progressConflated],
];
for (const [name, get] of conflatedRows) {
  const v = rounds.map((round) => get(round.finishline["processed-conflated"]));
  row([name, ...v.map((x) => fmt(x)), fmt(spread(v).median)]);
}
// What finishline delivered on top of the shared names (no BullMQ counterpart): the job's
// start, event counters, event completion (job:queued came with the pre-load, before the clock).
const extras = ["job:started", "event:progress", "event:completed", "job:queued", "other"];
const opsPerCall = rounds.map((round) => round.finishline["processed-full"].busOperations / round.finishline["processed-full"].luaCalls);
const extraText = extras.map((name) => `${rounds.map((round) => fmt(round.finishline["processed-full"].byName[name] ?? 0)).join("/")} ${name}`).join(", ");
console.log(`\nfinishline, progress full, conflation off, per round: also delivered ${extraText} (BullMQ has no counterpart); ` +
  `${opsPerCall.map((v) => fmt(v, 1)).join(", ")} bus operations per Lua call.`);

// The limit: what this redis-server allows at finishline's measured cost per job (medians).
const cost = (progress) => ({
  commands: spread(rounds.map((round) => round.finishline[`processed-${progress}`].redisCommandsPerJob)).median,
  cpuMs: spread(rounds.map((round) => round.finishline[`processed-${progress}`].redisCpuMsPerJob)).median,
});
console.log(`\nredis-benchmark on the same redis-server, same sitting (-c 50, --csv, mean over ${"set,get,incr,lpush,lpop,sadd,hset,zadd"}):\n`);
row(["", "Redis commands/s", "jobs/s at finishline's commands per job, progress full", "progress none"]);
row(["---", "---:", "---:", "---:"]);
const full = cost("full"), none = cost("none");
const limits = [
  ["one command per round trip", limit.commandsPerSecUnpipelined],
  ["16 commands pipelined", limit.commandsPerSecPipelined16],
  ["inside an EVAL of 8 commands, 16 pipelined", limit.scriptCommandsPerSec],
];
for (const [name, perSec] of limits) row([name, fmt(perSec), fmt(perSec / full.commands), fmt(perSec / none.commands)]);
row([`one core of Redis CPU ÷ finishline's Redis CPU per job (${fmt(full.cpuMs, 3)} / ${fmt(none.cpuMs, 3)} ms)`, "–", fmt(1000 / full.cpuMs), fmt(1000 / none.cpuMs)]);

mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify({
  jobs: N, single: SINGLE, concurrency: CONCURRENCY, rounds: ROUNDS, smoke, machine, versions: Object.fromEntries(sides.map((s) => [s.key, s.label])),
  results: rounds, measures: measures.map((m) => ({ name: m.name, values: m.values, anchor: m.anchor, ratios: m.ratios, ratio: spread(m.ratios) })),
  redisBenchmark: limit, finishlineCost: { full, none }, problems, at: new Date().toISOString(),
}, null, 2));
await redis.quit();
if (problems.length) { console.error("problems:\n  " + problems.join("\n  ")); process.exit(1); }
process.exit(0);
