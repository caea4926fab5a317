#!/usr/bin/env bash
# Runs finishline end to end on this machine: a redis-server (started if none answers),
# one gateway on :3000 and one worker, then enqueues a demo event of generated photos and
# prints its progress as the gateway reports it. Ctrl-C stops everything.
#
#   deploy/local/run.sh          PORT=3000 REDIS_PORT=6379 RUN_DIR=target/local-run by default
#   deploy/local/run.sh --help
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

deploy/local/install-deps.sh

PORT="${PORT:-3000}"
REDIS_PORT="${REDIS_PORT:-6379}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT}}"
RUN_DIR="${RUN_DIR:-$PWD/target/local-run}"
mkdir -p "$RUN_DIR/media"

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo; echo "==> stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  echo "==> starting redis-server on port $REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$RUN_DIR" >"$RUN_DIR/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Release: the recognition engine in a debug build takes seconds per photo.
echo "==> building (release; the first build takes a few minutes)"
cargo build --release --quiet -p finishline-gateway -p finishline-worker -p finishline-tools
BIN=target/release

echo "==> generating demo photos in $RUN_DIR/media"
"$BIN/demo-photos" "$RUN_DIR/media" 24

echo "==> starting gateway on :$PORT and one worker (logs in $RUN_DIR)"
"$BIN/finishline-gateway" --listen "0.0.0.0:$PORT" --auth-disabled >"$RUN_DIR/gateway.log" 2>&1 &
pids+=($!)
"$BIN/finishline-worker" --media-root "$RUN_DIR/media" >"$RUN_DIR/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

EVENT="demo-$(date +%H%M%S)"
echo "==> open http://127.0.0.1:$PORT/events/$EVENT in a browser to watch the dashboard"
echo "==> a Socket.IO client joins room event:$EVENT (namespace /progress)"
sleep 2
"$BIN/watch-event" "http://127.0.0.1:$PORT" "$EVENT" &
watcher=$!
pids+=($watcher)
sleep 1

echo "==> enqueueing demo event $EVENT: 24 photos, one of them corrupt"
body=$(printf '{"photos":[%s]}' "$(for i in $(seq -w 1 24); do printf '{"photoId":"photo-%s","source":{"path":"photo-%s.jpg"}},' "$i" "$i"; done | sed 's/,$//')")
curl -fsS -X POST "http://127.0.0.1:$PORT/v1/events/$EVENT/photos" \
  -H 'content-type: application/json' -H "X-Request-Id: demo-$EVENT" -d "$body" | head -c 200; echo " …"

wait "$watcher" || true
echo "==> snapshot: $(curl -fsS "http://127.0.0.1:$PORT/v1/events/$EVENT")"
echo "==> the dashboard stays at http://127.0.0.1:$PORT/events/$EVENT (Socket.IO namespace /progress); Ctrl-C stops everything"
wait
