// Helpers shared by the benchmark scripts (queue.mjs, socket.mjs): free ports, child processes
// that die with the script, waiting on a condition with a deadline, a fresh redis-server, and
// Redis cost from INFO (commandstats and CPU).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import os from "node:os";
import IORedis from "ioredis";

export const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); }); });
/// finishline's Redis key layout (crates/finishline-redis/src/keys.rs): an event's keys carry
/// the hash tag of its group, FNV-1a (32 bits) of the event id modulo 16; a queue's keys carry
/// the queue's tag.
export function eventGroup(id) {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(id, "utf8")) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash % 16;
}
export const eventKey = (prefix, eventId) => `{${prefix}:g${eventGroup(eventId)}}:event:${eventId}`;
export const queueKey = (prefix, queue) => `{${prefix}:${queue}}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = [];
process.on("exit", () => children.forEach((c) => { try { c.kill("SIGKILL"); } catch {} }));

/// Starts a child that is killed when the script exits; `child.log()` is the tail of its stderr.
/// With `{ stdout: true }` stdout is a pipe the caller reads; `{ maxFiles: true }` raises the
/// open-file limit to the hard limit first (thousands of sockets); `env` is added to the
/// script's environment.
export function start(cmd, args, { stdout = false, stdin = false, maxFiles = false, env = {} } = {}) {
  const [file, argv] = maxFiles ? ["sh", ["-c", 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { stdio: [stdin ? "pipe" : "ignore", stdout ? "pipe" : "ignore", "pipe"], env: { ...process.env, ...env } });
  let log = "";
  child.stderr.on("data", (d) => { log = (log + d).slice(-20000); });
  child.log = () => log;
  children.push(child);
  return child;
}

/// Waits until `cond()` is true, polling every 20 ms; throws after `deadlineMs`.
export async function until(what, cond, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(20);
  }
}

/// Starts a fresh redis-server on a free port and returns `{ port, redis }` (an ioredis client).
export async function startRedis(deadlineMs) {
  const port = await freePort();
  start("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { maxFiles: true });
  const redis = new IORedis({ host: "127.0.0.1", port, maxRetriesPerRequest: null, lazyConnect: true });
  redis.on("error", () => {});
  await until("redis", async () => { try { if (redis.status === "wait") await redis.connect(); return (await redis.ping()) === "PONG"; } catch { return false; } }, deadlineMs);
  return { port, redis };
}

/// Starts a Redis Cluster of `primaries` fresh redis-server nodes on loopback, no replicas
/// (`--cluster-enabled yes`, joined by `redis-cli --cluster create … --cluster-yes`), and waits
/// until every node says `cluster_state:ok`. Returns `{ url, cluster, nodes }`: the
/// `redis+cluster://` URL naming every node, an ioredis Cluster client for data commands, and
/// one plain client per node (INFO, RESETSTAT and FLUSHALL are per node).
export async function startCluster(primaries, deadlineMs) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "finishline-bench-cluster-"));
  const ports = [];
  for (let i = 0; i < primaries; i++) {
    const [port, busPort] = [await freePort(), await freePort()];
    start("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
      "--cluster-enabled", "yes", "--cluster-port", String(busPort), "--cluster-config-file", `nodes-${port}.conf`], { maxFiles: true });
    ports.push(port);
  }
  const nodes = [];
  for (const port of ports) {
    const node = new IORedis({ host: "127.0.0.1", port, maxRetriesPerRequest: null, lazyConnect: true });
    node.on("error", () => {});
    await until(`cluster node ${port}`, async () => { try { if (node.status === "wait") await node.connect(); return (await node.ping()) === "PONG"; } catch { return false; } }, deadlineMs);
    nodes.push(node);
  }
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  execFileSync("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"], { stdio: ["ignore", "ignore", "pipe"] });
  for (const node of nodes) await until("cluster_state:ok", async () => (await node.cluster("INFO")).includes("cluster_state:ok"), deadlineMs);
  const cluster = new IORedis.Cluster(ports.map((port) => ({ host: "127.0.0.1", port })), { redisOptions: { maxRetriesPerRequest: null } });
  cluster.on("error", () => {});
  await until("cluster client", async () => { try { return (await cluster.ping()) === "PONG"; } catch { return false; } }, deadlineMs);
  return { url: `redis+cluster://${addresses.join(",")}`, cluster, nodes };
}

/// Total commands and CPU seconds from `INFO all`.
export function redisStats(info) {
  let calls = 0;
  for (const line of info.split("\n")) { const m = line.match(/^cmdstat_[^:]+:calls=(\d+)/); if (m) calls += Number(m[1]); }
  const cpu = ["used_cpu_sys", "used_cpu_user"].reduce((t, k) => t + Number((info.match(new RegExp("^" + k + ":([0-9.]+)", "m")) || [0, 0])[1]), 0);
  return { calls, cpu };
}

/// Runs `fn` and adds Redis commands and CPU milliseconds per job (over `jobs`) to its result.
/// `redis` is one client or an array of them, one per node of a cluster: the figures are
/// summed over the nodes.
export async function measureRedis(redis, jobs, fn) {
  const nodes = Array.isArray(redis) ? redis : [redis];
  const total = async () => (await Promise.all(nodes.map(async (n) => redisStats(await n.info("all")))))
    .reduce((t, s) => ({ calls: t.calls + s.calls, cpu: t.cpu + s.cpu }), { calls: 0, cpu: 0 });
  await Promise.all(nodes.map((n) => n.config("RESETSTAT")));
  const before = await total();
  const result = await fn();
  const after = await total();
  return { ...result, redisCommandsPerJob: (after.calls - before.calls) / jobs, redisCpuMsPerJob: (1000 * (after.cpu - before.cpu)) / jobs };
}

/// The machine and versions a run happened on, for the JSON and the README.
export function machine(bin) {
  const redis = execFileSync("redis-server", ["--version"]).toString().trim();
  return { cpu: os.cpus()[0].model, cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, redis, binaries: bin };
}

export const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "–");

/// Lines a child prints on stdout, awaited one at a time (rejects after `deadlineMs`).
export function lines(child, deadlineMs) {
  const queue = [], waiting = [];
  createInterface({ input: child.stdout }).on("line", (line) => (waiting.length ? waiting.shift()(line) : queue.push(line)));
  return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer from child; its stderr:\n" + child.log())), deadlineMs);
    waiting.push((line) => { clearTimeout(timer); resolve(line); });
  }));
}

/// Runs a child to its end and parses the last line it printed as JSON.
export async function runJson(cmd, args, options = {}) {
  const child = start(cmd, args, { ...options, stdout: true });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  const code = await new Promise((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`${path.basename(cmd)} ${args[0]} exited with ${code}: ${child.log()}`);
  return JSON.parse(out.trim().split("\n").pop());
}

/// The raw Socket.IO load client (bins/tools/src/bin/sio-load): `clients` connections
/// subscribed round-robin to `events` events named `<eventPrefix><i>`.
export async function startLoad(bin, url, { clients, events, eventPrefix, latency = false, deadlineMs }) {
  const args = ["--url", url, "--clients", String(clients), "--events", String(events), "--event-prefix", eventPrefix, ...(latency ? ["--latency"] : [])];
  const child = start(path.join(bin, "sio-load"), args, { stdout: true, stdin: true, maxFiles: true });
  const next = lines(child, deadlineMs);
  const ready = JSON.parse(await next());
  if (ready.connected !== clients) console.error(`only ${ready.connected} of ${clients} load clients connected: ${child.log()}`);
  if (ready.connected === 0) throw new Error("no load client connected");
  const ask = async (command) => { child.stdin.write(command + "\n"); return JSON.parse(await next()); };
  return { ready, report: () => ask("report"), reset: () => ask("reset"), stop: () => { child.stdin.end(); child.kill("SIGTERM"); } };
}

/// Waits until the load client's delivery count has not moved for 300 ms.
export async function quiet(load) {
  let before = (await load.report()).deliveries;
  for (;;) { await sleep(300); const now = (await load.report()).deliveries; if (now === before) return; before = now; }
}

/// Median and range of the finite numbers in `values`.
export function spread(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(v.length / 2);
  return { median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, min: v[0], max: v[v.length - 1] };
}

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
/// utime + stime of a process, in seconds (/proc/<pid>/stat).
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
