// Socket.IO benchmark: finishline (real gateway + worker in --pipeline noop mode with
// conflation off + the HTTP enqueue) against Node (a BullMQ worker; BullMQ QueueEvents →
// socket.io 4.8 with @socket.io/redis-adapter, see node-peer.mjs), on the same freshly started
// redis-server, in alternating rounds (A B, B A, A B …), each scenario with fresh processes:
//
//   latency  1,000 clients in 10 events, a steady job rate: publish → receipt p50/p99, overall
//            and per message name.
//   fan-out  1,000 and 10,000 clients in 10 events: server stopped (SIGSTOP) while the worker
//            turns a batch of jobs into a backlog of messages, then resumed (SIGCONT): the
//            server's deliveries/s and CPU µs per delivery (/proc/<pid>/stat) while it drains.
//            RSS per idle connection: server RSS with N clients minus RSS before, ÷ N.
//
// Equal work: both sides deliver 3 photo:progress and 1 photo:completed per job to every
// subscribed client, and the run fails unless both delivered exactly that many of each;
// finishline's job:queued, job:started, event:progress and event:completed (no Node
// counterpart) are delivered on top, their CPU counted, their deliveries not. Load comes from tests/examples/sio-load.rs (raw engine.io over
// tokio-tungstenite); one official socket.io-client (default transports: polling, then
// upgrade) joins every scenario and must receive messages too.
//
//   node tests/bench/socket.mjs [--latency-clients 1000] [--rate 100] [--seconds 10]
//                               [--fanout 1000,10000] [--events 10] [--deliveries 1000000]
//                               [--rounds 3] [--node-relay queue-events,emitter]
//                               [--bin target/release] [--smoke] [--out FILE]
//                               [--perf FILE] [--help]
//
// --node-relay none runs finishline alone (no ratios); --latency-clients 0 skips the latency
// runs; --perf FILE records `perf record --call-graph dwarf` of finishline's server during each fan-out drain
// (FILE.<clients>.<run number>), for `perf report -i`.
//
// Prints each round, the median and range of every ratio, and writes JSON (default
// tests/bench/results/socket-latest.json). Exits non-zero on unequal counts or a ratio that is
// not finite.
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { io as officialClient } from "socket.io-client";
import { cpuSeconds, eventKey, fmt, freePort, lines as linesOf, machine as machineInfo, measureRedis, quiet, sleep, spread, start, startLoad as startLoadClient, startRedis, until as untilDeadline } from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  // The usage is the comment block at the top of this file.
  const usage = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3));
  console.log(usage.slice(0, usage.findIndex((l, i) => i > 0 && l.startsWith("Prints")) + 3).join("\n"));
  process.exit(0);
}
const flag = (name, fallback) => { const i = argv.indexOf("--" + name); return i >= 0 ? argv[i + 1] : fallback; };
const smoke = argv.includes("--smoke");
const LATENCY_CLIENTS = Number(flag("latency-clients", smoke ? 20 : 1000));
const RATE = Number(flag("rate", smoke ? 20 : 100));
const SECONDS = Number(flag("seconds", smoke ? 1 : 10));
const FANOUT = flag("fanout", smoke ? "50" : "1000,10000").split(",").map(Number);
const EVENTS = Number(flag("events", smoke ? 2 : 10));
const DELIVERIES = Number(flag("deliveries", smoke ? 20_000 : 1_000_000));
const ROUNDS = Number(flag("rounds", smoke ? 2 : 3));
// How Node's messages reach socket.io: a QueueEvents relay in the server (queue-events), the
// worker emitting through the Redis adapter's channel (emitter), or both, each its own side
// (the better of the two on each row is the one finishline is compared with).
const NODE_RELAYS = flag("node-relay", "queue-events,emitter").split(",").filter((r) => r && r !== "none");
const PERF = flag("perf", null);
const BIN = path.resolve(root, flag("bin", smoke ? "target/debug" : "target/release"));
const OUT = path.resolve(root, flag("out", "tests/bench/results/socket-latest.json"));
const DEADLINE_MS = smoke ? 60_000 : 600_000;
const CONCURRENCY = 64;

const until = (what, cond) => untilDeadline(what, cond, DEADLINE_MS);
const log = (...a) => console.error("[socket bench]", ...a);

/// Resident set size of a process, in KiB.
const rssKiB = (pid) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m)[1]);

const lines = (child) => linesOf(child, DEADLINE_MS);

/// The raw load client: N connections subscribed round-robin to `events` events.
const startLoad = (url, clients, eventPrefix, latency) => startLoadClient(BIN, url, { clients, events: EVENTS, eventPrefix, latency, deadlineMs: DEADLINE_MS });

/// One official socket.io-client with default options, subscribed to one event.
async function startOfficial(url, eventId) {
  const socket = officialClient(url + "/progress", { auth: {}, reconnection: false });
  let received = 0;
  socket.onAny(() => { received++; });
  await new Promise((resolve, reject) => { socket.once("connect", resolve); socket.once("connect_error", reject); });
  const ack = await socket.timeout(10_000).emitWithAck("subscribe:event", { eventId });
  if (!ack.success) throw new Error("official client subscribe refused: " + JSON.stringify(ack));
  await until("official client upgraded to websocket", () => socket.io.engine.transport.name === "websocket");
  return { received: () => received, transport: () => socket.io.engine.transport.name, stop: () => socket.close() };
}

const eventsOf = (prefix) => Array.from({ length: EVENTS }, (_, e) => prefix + e);
/// Jobs spread round-robin over the events: `count` jobs starting at `from`.
const jobsFor = (prefix, from, count) => Array.from({ length: count }, (_, k) => ({ eventId: prefix + ((from + k) % EVENTS), photoId: `p${from + k}` }));

/// finishline's side. With `stageMessages: false` its worker publishes no photo:progress
/// (`--noop-progress off`): the run that prices one published message in Redis.
function finishlineSide(redisPort, redis, { stageMessages = true } = {}) {
  const common = ["--redis-url", `redis://127.0.0.1:${redisPort}`, "--key-prefix", "sbench", "--log-filter", "warn"];
  return {
    name: "finishline",
    messagesPerJob: "4 (3 photo:progress, photo:completed) + job:queued, job:started, event:progress (per enqueue call and per event per bus batch), event:completed",
    async startServer() {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = start(path.join(BIN, "finishline-gateway"), [...common, "--auth-disabled", "--listen", `127.0.0.1:${port}`,
        "--enqueue-rate", "1000000", "--max-batch", "1000", "--max-connections-per-ip", "1000000"], { maxFiles: true });
      await until("gateway ready", async () => { try { return (await fetch(url + "/readyz")).ok; } catch { return false; } });
      return { url, pid: child.pid, child };
    },
    async startWorker() {
      const port = await freePort();
      const child = start(path.join(BIN, "finishline-worker"), [...common, "--pipeline", "noop", "--concurrency", String(CONCURRENCY),
        "--conflate", "off", "--noop-progress", stageMessages ? "on" : "off", "--http-listen", `127.0.0.1:${port}`, "--media-root", os.tmpdir(), "--poll-interval", "10ms"]);
      await until("worker ready", async () => { try { return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok; } catch { return false; } });
      return child;
    },
    async enqueue(server, jobs) {
      const byEvent = new Map();
      for (const job of jobs) byEvent.set(job.eventId, [...(byEvent.get(job.eventId) || []), { photoId: job.photoId, source: { path: job.photoId + ".jpg" } }]);
      await Promise.all([...byEvent].map(async ([eventId, photos]) => {
        for (let i = 0; i < photos.length; i += 1000) {
          const r = await fetch(`${server.url}/v1/events/${eventId}/photos`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ photos: photos.slice(i, i + 1000) }) });
          if (r.status !== 202) throw new Error("enqueue answered " + r.status + ": " + (await r.text()));
        }
      }));
    },
    async processed(prefix) {
      const counts = await Promise.all(eventsOf(prefix).map((e) => redis.hget(eventKey("sbench", e), "processedPhotos")));
      return counts.reduce((t, c) => t + Number(c || 0), 0);
    },
  };
}

function nodeSide(redisPort, redis, relay) {
  let queue;
  const queueName = (prefix) => "sio-" + prefix.replace(/[^a-z0-9]/gi, "");
  return {
    name: relay === "emitter" ? "Node socket.io, emitter" : "Node socket.io, QueueEvents",
    messagesPerJob: "4 (3 photo:progress, photo:completed)",
    async startServer(prefix) {
      const port = await freePort();
      queue = new Queue(queueName(prefix), { connection: { host: "127.0.0.1", port: redisPort, maxRetriesPerRequest: null }, streams: { events: { maxLen: 1_000_000 } } });
      await queue.waitUntilReady();
      const child = start("node", [path.join(here, "node-peer.mjs"), "server", String(port), String(redisPort), queueName(prefix), relay], { stdout: true, maxFiles: true });
      const next = lines(child);
      if (!(await next()).startsWith("listening")) throw new Error("node server did not start: " + child.log());
      return { url: `http://127.0.0.1:${port}`, pid: child.pid, child, close: () => queue.close() };
    },
    async startWorker(prefix) {
      const child = start("node", [path.join(here, "node-peer.mjs"), "worker", String(redisPort), queueName(prefix), String(CONCURRENCY), "full", "auto", relay], { stdout: true });
      if ((await lines(child)()) !== "worker ready") throw new Error("node worker did not start: " + child.log());
      return child;
    },
    async enqueue(_server, jobs) {
      for (let i = 0; i < jobs.length; i += 1000) {
        await queue.addBulk(jobs.slice(i, i + 1000).map((j) => ({ name: "photo", data: j, opts: { jobId: `${j.eventId}-${j.photoId}` } })));
      }
    },
    processed: (prefix) => redis.zcard(`bull:${queueName(prefix)}:completed`),
  };
}

/// Waits until every client got every photo:completed (terminal messages are never dropped),
/// or neither the deliveries nor the server's CPU time move for 5 s; returns the load client's
/// last report.
async function drained(load, expectedCompleted, pid) {
  let report = await load.report(), last = "", lastMove = Date.now();
  const deadline = Date.now() + DEADLINE_MS;
  while (report.byName["photo:completed"] < expectedCompleted && Date.now() < deadline) {
    const now = `${report.deliveries} ${cpuSeconds(pid)}`;
    if (now !== last) { last = now; lastMove = Date.now(); }
    if (Date.now() - lastMove > 5000) { log(`stalled at ${report.byName["photo:completed"]} of ${expectedCompleted} photo:completed`); break; }
    await sleep(50);
    report = await load.report();
  }
  return report;
}

/// Deliveries of the names both sides send (photo:progress, photo:completed): the figures
/// count these, so both sides are credited for the same messages; finishline's server CPU
/// also paid for its other deliveries (job:queued, job:started, event:progress, event:completed).
const shared = (report) => report.byName["photo:progress"] + report.byName["photo:completed"];

async function latencyRun(side, redis, prefix) {
  const server = await side.startServer(prefix);
  const worker = await side.startWorker(prefix);
  const official = await startOfficial(server.url, prefix + "0");
  const load = await startLoad(server.url, LATENCY_CLIENTS, prefix, true);
  const jobs = RATE * SECONDS, perTick = RATE / 10;
  const expected = jobsFor(prefix, 0, jobs).reduce((t, j) => t + load.ready.perEvent[Number(j.eventId.slice(prefix.length))], 0);
  await load.reset();
  const cpu0 = cpuSeconds(server.pid);
  const result = await measureRedis(redis, jobs, async () => {
    const t0 = performance.now();
    for (let tick = 0, sent = 0; sent < jobs; tick++) {
      const count = Math.min(Math.round(perTick * (tick + 1)) - sent, jobs - sent);
      await side.enqueue(server, jobsFor(prefix, sent, count));
      sent += count;
      await sleep(Math.max(0, t0 + (tick + 1) * 100 - performance.now()));
    }
    await until(`${side.name} processed every job`, async () => (await side.processed(prefix)) >= jobs);
    return { report: await drained(load, expected, server.pid) };
  });
  const cpu = cpuSeconds(server.pid) - cpu0;
  const r = result.report;
  const out = {
    clients: LATENCY_CLIENTS, events: EVENTS, jobs, jobsPerSec: RATE, deliveries: r.deliveries, byName: r.byName,
    completedExpected: expected, p50Ms: r.latency?.p50Ms, p99Ms: r.latency?.p99Ms, maxMs: r.latency?.maxMs, samples: r.latency?.samples, latencyByName: r.latency?.byName,
    serverCpuUsPerDelivery: (cpu * 1e6) / shared(r), redisCommandsPerJob: result.redisCommandsPerJob, redisCpuMsPerJob: result.redisCpuMsPerJob,
    official: { received: official.received(), transport: official.transport() }, handshakesRetried: load.ready.retried, handshakesRetriedByStage: load.ready.retriedByStage, connected: load.ready.connected,
  };
  load.stop(); official.stop(); worker.kill("SIGTERM"); server.child.kill("SIGTERM"); await server.close?.();
  return out;
}

async function fanoutRun(side, prefix, clients) {
  const server = await side.startServer(prefix);
  const official = await startOfficial(server.url, prefix + "0");
  await sleep(500);
  const rssBefore = rssKiB(server.pid);
  const load = await startLoad(server.url, clients, prefix, false);
  await sleep(1000); // let the connections settle before reading memory
  const rssConnected = rssKiB(server.pid);
  const jobs = Math.max(EVENTS, Math.ceil(DELIVERIES / (4 * (clients / EVENTS))));
  const expected = jobsFor(prefix, 0, jobs).reduce((t, j) => t + load.ready.perEvent[Number(j.eventId.slice(prefix.length))], 0);
  await side.enqueue(server, jobsFor(prefix, 0, jobs));
  await quiet(load);
  process.kill(server.pid, "SIGSTOP");
  let worker;
  try {
    worker = await side.startWorker(prefix);
    await until(`${side.name} processed every job`, async () => (await side.processed(prefix)) >= jobs);
    await load.reset();
  } finally {
    process.kill(server.pid, "SIGCONT");
  }
  const cpu0 = cpuSeconds(server.pid);
  const t0Us = Date.now() * 1000;
  const perf = PERF && side.name === "finishline" ? start("perf", ["record", "-q", "--call-graph", "dwarf,16384", "-F", "499", "-p", String(server.pid), "-o", `${PERF}.${clients}.${run}`]) : null;
  const report = await drained(load, expected, server.pid);
  const cpu = cpuSeconds(server.pid) - cpu0;
  if (perf) { perf.kill("SIGINT"); await new Promise((resolve) => perf.once("exit", resolve)); }
  const seconds = (report.lastUs - t0Us) / 1e6;
  const out = {
    clients, events: EVENTS, jobs, deliveries: report.deliveries, byName: report.byName, completedExpected: expected,
    connected: load.ready.connected, connectMs: load.ready.connectMs, handshakesRetried: load.ready.retried, handshakesRetriedByStage: load.ready.retriedByStage, stillOpen: report.connected - report.closed,
    deliveriesPerSec: shared(report) / seconds, serverCpuSeconds: cpu, serverCpuUsPerDelivery: (cpu * 1e6) / shared(report),
    deliveriesPerCpuSecond: shared(report) / cpu, rssBeforeKiB: rssBefore, rssConnectedKiB: rssConnected,
    rssPerConnectionKiB: (rssConnected - rssBefore) / clients, official: { received: official.received(), transport: official.transport() },
  };
  load.stop(); official.stop(); worker.kill("SIGTERM"); server.child.kill("SIGTERM"); await server.close?.();
  return out;
}

const { port: redisPort, redis } = await startRedis(DEADLINE_MS);
const noStageSide = finishlineSide(redisPort, redis, { stageMessages: false });
const sides = [finishlineSide(redisPort, redis), ...NODE_RELAYS.map((relay) => nodeSide(redisPort, redis, relay))];
const nodes = sides.slice(1).map((s) => s.name);
const rounds = [];
let run = 0;
try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    const round = { latency: {}, fanout: {} };
    for (const side of LATENCY_CLIENTS > 0 ? order : []) {
      await redis.flushall();
      log(`round ${r + 1}: latency, ${side.name}`);
      round.latency[side.name] = await latencyRun(side, redis, `l${run++}-`);
    }
    if (LATENCY_CLIENTS > 0) {
      // The same latency run with no photo:progress: its Redis cost, less the full run's, is
      // the cost of 3 published messages per job.
      await redis.flushall();
      log(`round ${r + 1}: latency, finishline without photo:progress (Redis cost per message)`);
      round.noStage = await latencyRun(noStageSide, redis, `l${run++}-`);
    }
    for (const clients of FANOUT) {
      for (const side of order) {
        await redis.flushall();
        log(`round ${r + 1}: fan-out ${clients} clients, ${side.name}`);
        (round.fanout[clients] ||= {})[side.name] = await fanoutRun(side, `f${run++}-`, clients);
      }
    }
    rounds.push(round);
  }
} catch (err) {
  console.error(err.stack || err.message);
  process.exit(1);
}

const FL = sides[0].name;
/// The Redis cost of finishline's lifecycle messages (job:queued, job:started; Node has none):
/// one published message is priced as (full run − run without photo:progress) ÷ 3, both
/// measured in the round; the lifecycle rows are 2 × that, per job.
function lifecycleRows() {
  const only = (get) => (side) => (r) => (side === FL && r.noStage ? get(r) : undefined);
  const perMessage = (key) => (r) => (r.latency[FL][key] - r.noStage[key]) / 3;
  return [
    ["Redis commands per job, finishline with no photo:progress (--noop-progress off)", only((r) => r.noStage.redisCommandsPerJob), 1, false, false],
    ["Redis CPU per job (ms), finishline with no photo:progress", only((r) => r.noStage.redisCpuMsPerJob), 3, false, false],
    ["Redis commands per published message ((full − none) ÷ 3)", only(perMessage("redisCommandsPerJob")), 2, false, false],
    ["Redis CPU per published message (µs)", only((r) => perMessage("redisCpuMsPerJob")(r) * 1000), 1, false, false],
    ["Redis commands per job of job:queued + job:started (2 messages)", only((r) => 2 * perMessage("redisCommandsPerJob")(r)), 1, false, false],
    ["Redis CPU per job of job:queued + job:started (µs)", only((r) => 2000 * perMessage("redisCpuMsPerJob")(r)), 1, false, false],
  ];
}
const p99Of = (name) => (side) => (r) => r.latency[side].latencyByName?.[name]?.p99Ms;
const lat = (key) => (side) => (r) => r.latency[side][key];
const others = (get) => (side) => (r) => get(r)[side].deliveries - shared(get(r)[side]);
// [name, value of a side in a round, digits, ratio kept (checked finite), higher is better]
const rows = LATENCY_CLIENTS <= 0 ? [] : [
  [`latency p50 (ms), all messages, ${LATENCY_CLIENTS} clients, ${EVENTS} events, ${RATE} jobs/s`, lat("p50Ms"), 1, true, false],
  ["latency p99 (ms), all messages", lat("p99Ms"), 1, true, false],
  ["latency p99 (ms), photo:progress", p99Of("photo:progress"), 1, true, false],
  ["latency p99 (ms), photo:completed", p99Of("photo:completed"), 1, true, false],
  ["latency p99 (ms), event:progress (finishline only)", p99Of("event:progress"), 1, false, false],
  ["latency p99 (ms), job:started (finishline only)", p99Of("job:started"), 1, false, false],
  ["deliveries of other names at that load (finishline only: job:queued, job:started, event:progress, event:completed)", others((r) => r.latency), 0, false, false],
  ["server CPU per delivery at that load (µs)", lat("serverCpuUsPerDelivery"), 2, true, false],
  ["Redis commands per job (worker + relay)", lat("redisCommandsPerJob"), 1, true, false],
  ["Redis CPU per job (ms)", lat("redisCpuMsPerJob"), 3, true, false],
  ...lifecycleRows(),
];
for (const clients of FANOUT) {
  const f = (key) => (side) => (r) => r.fanout[clients][side][key];
  rows.push(
    [`fan-out, ${fmt(clients)} clients: deliveries/s`, f("deliveriesPerSec"), 0, true, true],
    [`fan-out, ${fmt(clients)} clients: server CPU per delivery (µs)`, f("serverCpuUsPerDelivery"), 2, true, false],
    [`fan-out, ${fmt(clients)} clients: deliveries per server CPU second`, f("deliveriesPerCpuSecond"), 0, true, true],
    [`fan-out, ${fmt(clients)} clients: photo:progress + photo:completed delivered`, (side) => (r) => shared(r.fanout[clients][side]), 0, true, true],
    [`fan-out, ${fmt(clients)} clients: other names delivered (finishline only: job:started, event:progress, event:completed)`, others((r) => r.fanout[clients]), 0, false, false],
    [`RSS per idle connection at ${fmt(clients)} (KiB)`, f("rssPerConnectionKiB"), 1, true, false],
    [`connections held at ${fmt(clients)}`, f("stillOpen"), 0, true, true],
    [`handshakes stalled > 10 s and retried, of ${fmt(clients)}`, f("handshakesRetried"), 0, false, false],
  );
}
const machine = machineInfo(BIN);
console.log(`\nSocket.IO benchmark: ${ROUNDS} rounds alternating the order, ${machine.cores} cores (${machine.cpu}), ${machine.redis.split(" ").slice(0, 3).join(" ")}, node ${machine.node}, ` +
  `load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}. Ratio = finishline ÷ the better Node variant on that row (by median): below 1 is better for latency, CPU and RSS, above 1 for deliveries.\n`);
const head = ["measure", "", ...rounds.map((_, r) => `round ${r + 1}`), "median", "range"];
const line = (cells) => console.log(`| ${cells.join(" | ")} |`);
line(head);
line(head.map((_, i) => (i < 2 ? "---" : "---:")));
const problems = [];
const summary = [];
const range = (s, digits, unit = "") => (Number.isFinite(s.median) ? `${fmt(s.min, digits)}${unit}–${fmt(s.max, digits)}${unit}` : "–");
for (const [name, get, d, keep, higherIsBetter] of rows) {
  const values = Object.fromEntries(sides.map((s) => [s.name, rounds.map(get(s.name))]));
  for (const side of sides) {
    const s = spread(values[side.name]);
    line([side.name === FL ? name : "", side.name, ...values[side.name].map((v) => fmt(v, d)), fmt(s.median, d), range(s, d)]);
  }
  if (!nodes.length) { summary.push({ name, digits: d, values, anchor: null, ratios: null, ratio: null }); continue; }
  const medians = nodes.map((n) => spread(values[n]).median);
  const best = medians.reduce((b, m, i) => (Number.isFinite(m) && (!Number.isFinite(medians[b]) || (higherIsBetter ? m > medians[b] : m < medians[b])) ? i : b), 0);
  const anchor = nodes[best];
  const ratios = rounds.map((_, i) => values[FL][i] / values[anchor][i]);
  const s = spread(ratios);
  if (keep) {
    line(["", `ratio ÷ ${anchor}`, ...ratios.map((v) => (Number.isFinite(v) ? v.toFixed(2) + "×" : "–")), Number.isFinite(s.median) ? s.median.toFixed(2) + "×" : "–", range(s, 2, "×")]);
    if (!ratios.every(Number.isFinite)) problems.push(`${name}: a ratio is not finite (${ratios.join(", ")})`);
  }
  summary.push({ name, digits: d, values, anchor: keep ? anchor : null, ratios: keep ? ratios : null, ratio: keep ? s : null });
}

console.log(`\nMedians of ${ROUNDS} rounds; ratio = finishline ÷ the Node variant named, median (range over rounds):\n`);
line(["measure", ...sides.map((s) => s.name), "ratio"]);
line(["---", ...sides.map(() => "---:"), "---:"]);
for (const s of summary) {
  const r = s.ratio;
  line([s.name, ...sides.map((side) => fmt(spread(s.values[side.name]).median, s.digits)), r && Number.isFinite(r.median) ? `${r.median.toFixed(2)}× (${fmt(r.min, 2)}–${fmt(r.max, 2)}) ÷ ${s.anchor.replace("Node socket.io, ", "")}` : "–"]);
}

// Problems that make the figures meaningless fail the run (the smoke mode relies on it).
rounds.forEach((round, i) => {
  const all = [...Object.entries(round.latency).map(([s, r]) => [`round ${i + 1}, latency ${s}`, r]), ...Object.entries(round.fanout).flatMap(([c, by]) => Object.entries(by).map(([s, r]) => [`round ${i + 1}, fan-out ${c} ${s}`, r]))];
  for (const [what, r] of all) {
    // Equal work: every client got 3 photo:progress and 1 photo:completed of every job of its event.
    if (r.byName["photo:completed"] !== r.completedExpected) problems.push(`${what}: ${r.byName["photo:completed"]} of ${r.completedExpected} photo:completed delivered`);
    if (r.byName["photo:progress"] !== 3 * r.completedExpected) problems.push(`${what}: ${r.byName["photo:progress"]} of ${3 * r.completedExpected} photo:progress delivered`);
    if (!(r.official.received > 0)) problems.push(`${what}: the official socket.io-client received nothing`);
    if (r.official.transport !== "websocket") problems.push(`${what}: the official client is on ${r.official.transport}`);
    if (r.connected !== r.clients) problems.push(`${what}: ${r.connected} of ${r.clients} clients could connect`);
    if (r.stillOpen !== undefined && r.stillOpen !== r.clients) problems.push(`${what}: ${r.stillOpen} of ${r.clients} connections still open`);
  }
  for (const [s, r] of Object.entries(round.latency)) if (!(r.samples > 0)) problems.push(`round ${i + 1}, latency ${s}: no latency samples`);
  const ns = round.noStage;
  if (ns && (ns.byName["photo:progress"] !== 0 || ns.byName["photo:completed"] !== ns.completedExpected)) {
    problems.push(`round ${i + 1}, finishline without photo:progress: ${ns.byName["photo:progress"]} photo:progress and ${ns.byName["photo:completed"]} of ${ns.completedExpected} photo:completed delivered`);
  }
});
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify({ smoke, machine, settings: { nodeRelays: NODE_RELAYS, latencyClients: LATENCY_CLIENTS, rate: RATE, seconds: SECONDS, fanout: FANOUT, events: EVENTS, deliveries: DELIVERIES, concurrency: CONCURRENCY, rounds: ROUNDS },
  messagesPerJob: Object.fromEntries(sides.map((s) => [s.name, s.messagesPerJob])), rounds, summary, problems, at: new Date().toISOString() }, null, 2));
await redis.quit();
if (problems.length) { console.error("problems:\n  " + problems.join("\n  ")); process.exit(1); }
process.exit(0);
