// Shared plumbing of the seed clients (tests/js/seeds/*.mjs), kept out of the clients
// themselves so that each reads like the document it comes from.
//
// Protocol with the Rust test that runs a client (tests/tests/e2e/seeds.rs): arguments
// `--name value`; one JSON line `{"ready":true}` on stdout once the client is connected and
// subscribed (the test then starts the work), then one JSON line
// `{"ok":bool,"received":[[name,payload],…],"violations":[…]}` and exit 0 when ok, 1 otherwise.

export function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

export const received = [];
export const violations = [];
export const fail = (message) => violations.push(message);
export const check = (condition, message) => { if (!condition) fail(message); };
export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

let finished = false;

export function ready() {
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
}

export function done(extra) {
  if (finished) return;
  finished = true;
  if (extra) fail(extra);
  const result = { ok: violations.length === 0, received, violations };
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

/// Gives up after `ms` (the test's own deadline is longer).
export function deadline(ms) {
  setTimeout(() => done(`timed out after ${ms} ms`), ms).unref();
}
