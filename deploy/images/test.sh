#!/usr/bin/env bash
# Builds the gateway and worker images with podman and runs the stack in them: Redis, a
# gateway and two workers, the official socket.io-client photo scenario against the gateway's
# port with one worker killed (SIGKILL) mid-run, then a third worker, then teardown.
# Run from anywhere; see --help. The commands it runs are the operator's in deploy/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
  cat <<'EOF'
usage: deploy/images/test.sh [--bin-dir DIR] [--base-image NAME] [--photos N] [--keep]

Builds localhost/finishline-gateway:latest and localhost/finishline-worker:latest from the
Dockerfiles' "prebuilt" stage (binaries and models from this checkout, no Rust or Python
image), starts redis + gateway + two workers with podman on the host network, waits for
/readyz and the images' health checks, runs tests/js/scenario.mjs (official socket.io-client)
with N photos (one corrupt) and kills worker 1 with SIGKILL while it holds running jobs,
checks the counts and the single event:completed, restarts worker 1 and adds worker 3, runs
the scenario again on three workers, stops everything with SIGTERM (each must exit 0) and
removes the containers. Images stay, so the next run reuses their layers.

  --bin-dir DIR      folder with finishline-gateway and finishline-worker (default
                     target/release, built here with cargo build --release --locked; CI passes
                     target/debug, which tests/run.sh has just built). Must be target/release,
                     target/debug or a folder outside target/ (deploy/docker/dockerignore).
  --base-image NAME  base of the runtime images (default localhost/finishline-base:bookworm,
                     made here with debootstrap when absent; debian:bookworm-slim elsewhere)
  --photos N         photos per scenario run (default 24)
  --keep             leave the containers running at the end (remove them with
                     podman rm -f finishline-test-{redis,gateway,worker-1,worker-2,worker-3})
  -h, --help         this text

Needs root (rootful podman, debootstrap). Installs what is missing from Debian: podman, runc,
debootstrap. Uses deploy/images/containers.conf (runc, cgroupfs) unless CONTAINERS_CONF is
set. Logs: target/images/logs/.
EOF
}

BIN_DIR=target/release
DEFAULT_BASE=localhost/finishline-base:bookworm
BASE_IMAGE="$DEFAULT_BASE"
PHOTOS=24
KEEP=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --bin-dir) BIN_DIR="${2:?--bin-dir needs a folder}"; shift 2 ;;
    --base-image) BASE_IMAGE="${2:?--base-image needs an image name}"; shift 2 ;;
    --photos) PHOTOS="${2:?--photos needs a number}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
BIN_DIR="${BIN_DIR%/}"
case "$PHOTOS" in ''|*[!0-9]*) echo "error: --photos must be a number, got $PHOTOS" >&2; exit 2 ;; esac
if [ "$PHOTOS" -lt 8 ]; then echo "error: --photos must be at least 8" >&2; exit 2; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: deploy/images/test.sh runs rootful podman and debootstrap: run it as root" >&2
  exit 1
fi

GATEWAY_IMAGE=localhost/finishline-gateway:latest
WORKER_IMAGE=localhost/finishline-worker:latest
REDIS_IMAGE=localhost/finishline-redis:bookworm
NAME=finishline-test
LOG_DIR="$PWD/target/images/logs"
MEDIA_DIR="$PWD/target/images/media"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/deploy/images/containers.conf}"
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log "$LOG_DIR"/*.json

# podman without systemd logs an error for each container with a health check (it cannot add
# the timer that would run it); the checks run through `podman healthcheck run` here instead.
podman() { command podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

started_at=$SECONDS
say() { echo "==> [$((SECONDS - started_at))s] $*"; }
# Prints an operator's command, then runs it.
run() { echo "+ $*" >&2; "$@"; }
die() { echo "error: $*" >&2; exit 1; }
# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.5 s until it succeeds.
wait_until() {
  local limit="$1" what="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what: not within ${limit}s"
    sleep 0.5
  done
}

# ---------------------------------------------------------------- tools
missing=()
type -P podman >/dev/null || missing+=(podman)  # not `command -v`: the podman() wrapper above would answer
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v node >/dev/null 2>&1 || die "node is missing (deploy/local/install-deps.sh installs it)"
if [ ! -d tests/js/node_modules/socket.io-client ]; then
  say "installing the JS test client (npm ci, pinned by tests/js/package-lock.json)"
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi

# ---------------------------------------------------------------- containers of an earlier run
cleanup_containers() {
  local c
  for c in "$NAME-worker-1" "$NAME-worker-2" "$NAME-worker-3" "$NAME-gateway" "$NAME-redis"; do
    podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
  podman volume rm -f "$NAME-redis-data" >/dev/null 2>&1 || true
}
save_logs() {
  local c
  for c in "$NAME-redis" "$NAME-gateway" "$NAME-worker-1" "$NAME-worker-2" "$NAME-worker-3"; do
    if podman container exists "$c" 2>/dev/null; then podman logs "$c" >"$LOG_DIR/$c.log" 2>&1 || true; fi
  done
}
on_exit() {
  local status=$?
  save_logs
  if [ "$status" -ne 0 ]; then
    echo "==> failed; container logs in $LOG_DIR (last lines below)" >&2
    for f in "$LOG_DIR"/"$NAME"-*.log; do
      [ -s "$f" ] || continue
      echo "--- $f" >&2; tail -n 15 "$f" >&2
    done
  fi
  if [ "$KEEP" = 1 ] && [ "$status" -eq 0 ]; then
    echo "==> --keep: containers left running"
  else
    cleanup_containers
  fi
  exit "$status"
}
cleanup_containers
trap on_exit EXIT

# ---------------------------------------------------------------- base image
if podman image exists "$BASE_IMAGE"; then
  say "base image $BASE_IMAGE is there"
elif [ "$BASE_IMAGE" = "$DEFAULT_BASE" ]; then
  say "making the base image $BASE_IMAGE with debootstrap (Debian 12, minbase)"
  rootfs="$(mktemp -d "$PWD/target/images/rootfs.XXXXXX")"
  debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    >"$LOG_DIR/debootstrap.log" 2>&1 || { tail -n 20 "$LOG_DIR/debootstrap.log" >&2; die "debootstrap failed"; }
  # What debian:bookworm-slim also leaves out: apt's caches and lists, docs, manuals, locales.
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  run sh -c "tar -C '$rootfs' -c . | podman import - $BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
else
  run podman pull "$BASE_IMAGE"
fi

# ---------------------------------------------------------------- binaries, models, photos
if [ "$BIN_DIR" = target/release ]; then
  say "building the release binaries"
  run cargo build --release --locked -p finishline-gateway -p finishline-worker
fi
for bin in finishline-gateway finishline-worker; do
  [ -x "$BIN_DIR/$bin" ] || die "$BIN_DIR/$bin is missing (cargo build --release --locked -p finishline-gateway -p finishline-worker)"
done
run deploy/local/install-models.sh
# The photos are deterministic (seeded), so those of an earlier run with the same N stay.
if [ "$(ls "$MEDIA_DIR"/photo-*.jpg 2>/dev/null | wc -l)" -ne "$PHOTOS" ]; then
  say "generating $PHOTOS photos in $MEDIA_DIR"
  # tests/run.sh has built it; a build of the one tool could pick other features and
  # rebuild shared dependencies, so it is built only when missing.
  [ -x target/debug/demo-photos ] || cargo build --quiet -p finishline-tools --bin demo-photos
  rm -rf "$MEDIA_DIR" && mkdir -p "$MEDIA_DIR"
  target/debug/demo-photos "$MEDIA_DIR" "$PHOTOS" >/dev/null
fi
# demo-photos writes photo-01.jpg … and makes photo-07.jpg corrupt.
PHOTO_LIST="$(cd "$MEDIA_DIR" && ls photo-*.jpg | paste -sd, -)"
[ "$(echo "$PHOTO_LIST" | tr ',' '\n' | wc -l)" -eq "$PHOTOS" ] || die "demo-photos wrote $(ls "$MEDIA_DIR" | wc -l) files, expected $PHOTOS"

# ---------------------------------------------------------------- images
# build_image TAG LOG ARGS...: builds, and removes the image the tag named before if it changed.
build_image() {
  local tag="$1" log="$2"; shift 2
  local old t0=$SECONDS
  old="$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  echo "+ podman build $*"
  podman build "$@" >"$LOG_DIR/$log" 2>&1 || { tail -n 30 "$LOG_DIR/$log" >&2; die "building $tag failed (log: $LOG_DIR/$log)"; }
  local new; new="$(podman image inspect --format '{{.Id}}' "$tag")"
  if [ -n "$old" ] && [ "$old" != "$new" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
  say "built $tag in $((SECONDS - t0))s: $(podman image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
}
build_image "$GATEWAY_IMAGE" build-gateway.log --format docker --network host \
  --ignorefile deploy/docker/dockerignore --target prebuilt \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BIN_DIR="$BIN_DIR" \
  -f deploy/docker/gateway.Dockerfile -t "$GATEWAY_IMAGE" .
build_image "$WORKER_IMAGE" build-worker.log --format docker --network host \
  --ignorefile deploy/docker/dockerignore --target prebuilt \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BIN_DIR="$BIN_DIR" \
  -f deploy/docker/worker.Dockerfile -t "$WORKER_IMAGE" .
if ! podman image exists "$REDIS_IMAGE"; then
  build_image "$REDIS_IMAGE" build-redis.log --network host --build-arg BASE_IMAGE="$BASE_IMAGE" \
    -f deploy/images/redis.Containerfile -t "$REDIS_IMAGE" deploy/images
fi

# ---------------------------------------------------------------- the stack
# Free loopback ports: redis, gateway, three workers' health and metrics ports.
read -r REDIS_PORT GATEWAY_PORT W1_PORT W2_PORT W3_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
worker_port() { case "$1" in 1) echo "$W1_PORT" ;; 2) echo "$W2_PORT" ;; 3) echo "$W3_PORT" ;; esac; }
FINISHLINE_JWT_SECRET="$(openssl rand -hex 32)"
export FINISHLINE_JWT_SECRET
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

say "starting redis on :$REDIS_PORT, the gateway on :$GATEWAY_PORT and two workers"
run podman volume create "$NAME-redis-data" >/dev/null
run podman run -d --name "$NAME-redis" --network host -v "$NAME-redis-data:/data" "$REDIS_IMAGE" \
  --port "$REDIS_PORT" --bind 127.0.0.1 --appendonly yes --appendfsync everysec >/dev/null
wait_until 30 "redis answering PING" podman exec "$NAME-redis" redis-cli -p "$REDIS_PORT" ping
# The gateway's settings are the compose file's; the secret comes from the environment.
run podman run -d --name "$NAME-gateway" --network host --stop-timeout 15 \
  -e REDIS_URL="$REDIS_URL" -e FINISHLINE_JWT_SECRET -e FINISHLINE_LISTEN="127.0.0.1:$GATEWAY_PORT" \
  "$GATEWAY_IMAGE" >/dev/null
start_worker() {
  local i="$1"
  run podman run -d --name "$NAME-worker-$i" --network host --stop-timeout 45 \
    -e REDIS_URL="$REDIS_URL" -e FINISHLINE_CONCURRENCY=8 -e FINISHLINE_SHUTDOWN_GRACE=30s \
    -e FINISHLINE_HTTP_LISTEN="127.0.0.1:$(worker_port "$i")" -e FINISHLINE_WORKER_NAME="worker-$i" \
    -v "$MEDIA_DIR:/media:ro" "$WORKER_IMAGE" >/dev/null
}
start_worker 1
start_worker 2

healthy() { [ "$(podman inspect --format '{{.State.Health.Status}}' "$1")" = healthy ]; }
# Runs the image's HEALTHCHECK now (podman without systemd has no timer for it) until it
# passes, then checks that podman recorded the container as healthy.
wait_healthy() {
  wait_until 60 "$1's health check" podman healthcheck run "$1"
  healthy "$1" || die "$1: health check passed, but podman says $(podman inspect --format '{{.State.Health.Status}}' "$1")"
}
wait_ready() {
  wait_until 60 "gateway /readyz" curl -fsS "http://127.0.0.1:$GATEWAY_PORT/readyz"
  wait_healthy "$NAME-gateway"
  local i
  for i in "$@"; do
    wait_until 60 "worker-$i /readyz" curl -fsS "http://127.0.0.1:$(worker_port "$i")/readyz"
    wait_healthy "$NAME-worker-$i"
  done
}
wait_ready 1 2
say "ready and healthy: gateway, worker-1, worker-2"

# What the worker image carries: the PP-OCR engine loaded (models and libonnxruntime),
# tesseract for the classical engine, ffmpeg/ffprobe for videos; and it runs unprivileged.
podman logs "$NAME-worker-1" 2>&1 | grep 'recognition engine chosen' | grep -q '"pipeline":"ppocr' \
  || die "worker-1 did not choose the ppocr engine: $(podman logs "$NAME-worker-1" 2>&1 | grep 'engine' | tail -n 1)"
podman exec "$NAME-worker-1" tesseract --version >/dev/null 2>&1 || die "tesseract does not run in the worker image"
podman exec "$NAME-worker-1" ffprobe -version >/dev/null 2>&1 || die "ffprobe does not run in the worker image"
podman exec "$NAME-worker-1" ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=duration=1:size=64x64:rate=2 \
  -f null - >/dev/null 2>&1 || die "ffmpeg cannot decode and encode in the worker image"
for c in "$NAME-gateway" "$NAME-worker-1"; do
  [ "$(podman exec "$c" id -u)" = 10001 ] || die "$c does not run as uid 10001"
done

# ---------------------------------------------------------------- the scenario
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt_header="$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)"
jwt_claims="$(printf '{"sub":"image-test","events":["*"],"scope":"admin","exp":%d}' "$(($(date +%s) + 3600))" | b64url)"
jwt_signature="$(printf '%s.%s' "$jwt_header" "$jwt_claims" | openssl dgst -sha256 -hmac "$FINISHLINE_JWT_SECRET" -binary | b64url)"
TOKEN="$jwt_header.$jwt_claims.$jwt_signature"

# worker_runs PORT: "RUNNING PAST_DETECTION" from a worker's /metrics: photo runs started and
# not ended, and photo runs that finished detection (and so published stage "ocr").
worker_runs() {
  curl -fsS "http://127.0.0.1:$1/metrics" | awk '
    /^finishline_worker_jobs_total\{/ && /kind="photo"/ {
      if ($0 ~ /outcome="started"/) n += $NF
      else if ($0 ~ /outcome="(succeeded|failed|retried|superseded)"/) n -= $NF
    }
    /^finishline_worker_stage_duration_seconds_count\{/ && /kind="photo"/ && /stage="detection"/ { d += $NF }
    END { print n + 0, d + 0 }'
}
jobs_started() {
  curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^finishline_worker_jobs_total\{/ && /outcome="started"/ { n += $NF } END { print n + 0 }'
}
# check_snapshot EVENT: the gateway's counts are exact: every photo once, one failure.
check_snapshot() {
  curl -fsS -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY_PORT/v1/events/$1" >"$LOG_DIR/snapshot-$1.json"
  python3 - "$LOG_DIR/snapshot-$1.json" "$PHOTOS" <<'EOF'
import json, sys
snap = json.load(open(sys.argv[1])); n = int(sys.argv[2])
want = {"totalPhotos": n, "processedPhotos": n, "succeeded": n - 1, "failed": 1, "cancelled": 0}
got = {k: snap.get(k) for k in want}
if got != want:
    sys.exit(f"snapshot counts {got}, expected {want}")
EOF
}
# scenario EVENT TRANSPORT: the official client, in the background; its JSON line goes to a file.
scenario() {
  echo "+ node tests/js/scenario.mjs --gateway http://127.0.0.1:$GATEWAY_PORT --event $1 --transport $2 --photos <$PHOTOS photos> --expect-failed 1 --token <JWT>"
  node tests/js/scenario.mjs --gateway "http://127.0.0.1:$GATEWAY_PORT" --event "$1" --transport "$2" \
    --photos "$PHOTO_LIST" --expect-failed 1 --token "$TOKEN" --timeout-ms 300000 \
    >"$LOG_DIR/scenario-$1.json" 2>"$LOG_DIR/scenario-$1.log" &
  SCENARIO_PID=$!
}
scenario_result() {
  local status=0
  wait "$SCENARIO_PID" || status=$?
  cat "$LOG_DIR/scenario-$1.json"
  if [ "$status" -ne 0 ]; then tail -n 40 "$LOG_DIR/scenario-$1.log" >&2; die "scenario $1 failed"; fi
  check_snapshot "$1"
}

RUN_ID="$(date +%s)"
EVENT="img-kill-$RUN_ID"
say "scenario 1 ($EVENT, $PHOTOS photos, default transport): SIGKILL worker-1 while it runs jobs"
scenario "$EVENT" default
# Killed as soon as it runs jobs, before any of them gets past detection when the poll is in
# time: tests/js/scenario.mjs lets a photo's stages start over only after a failed attempt,
# so a run cut short after it published "ocr" and then finished by worker-2 would read as
# stages out of order there, though PROTOCOL's at-least-once allows it.
deadline=$((SECONDS + 120))
running=0 past_detection=0
until read -r running past_detection < <(worker_runs "$W1_PORT" 2>/dev/null) && [ "$running" -gt 0 ]; do
  kill -0 "$SCENARIO_PID" 2>/dev/null || die "the scenario ended before worker-1 ran a job it could be killed in"
  [ "$SECONDS" -lt "$deadline" ] || die "worker-1 ran no job within 120s"
  sleep 0.05
done
run podman kill -s KILL "$NAME-worker-1" >/dev/null
say "killed worker-1 with $running photo job(s) running ($past_detection past detection); worker-2 takes them over after the missed heartbeats"
scenario_result "$EVENT"
[ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME-worker-1")" = 137 ] || die "worker-1 did not die of SIGKILL"
say "scenario 1 passed: $PHOTOS photos, $((PHOTOS - 1)) succeeded, 1 failed, one event:completed"

say "scaling to three workers: worker-1 started again, worker-3 added"
run podman start "$NAME-worker-1" >/dev/null
start_worker 3
wait_ready 1 2 3
EVENT="img-three-$RUN_ID"
before=()
for i in 1 2 3; do before+=("$(jobs_started "$(worker_port "$i")")"); done
say "scenario 2 ($EVENT, websocket transport) on three workers"
scenario "$EVENT" websocket
scenario_result "$EVENT"
shares=""
for i in 1 2 3; do shares+=" worker-$i: $(( $(jobs_started "$(worker_port "$i")") - before[i-1] ))"; done
say "scenario 2 passed; jobs started per worker:$shares"

# ---------------------------------------------------------------- teardown
if [ "$KEEP" = 1 ]; then exit 0; fi
say "stopping with SIGTERM (workers drain, each must exit 0)"
run podman stop -t 45 "$NAME-worker-1" "$NAME-worker-2" "$NAME-worker-3" >/dev/null
run podman stop -t 15 "$NAME-gateway" >/dev/null
run podman stop -t 10 "$NAME-redis" >/dev/null
for c in "$NAME-worker-1" "$NAME-worker-2" "$NAME-worker-3" "$NAME-gateway"; do
  code="$(podman inspect --format '{{.State.ExitCode}}' "$c")"
  [ "$code" = 0 ] || die "$c exited with $code after SIGTERM"
done
say "images: $(for t in "$GATEWAY_IMAGE" "$WORKER_IMAGE"; do podman image inspect --format '{{.Size}}' "$t" | awk -v t="$t" '{ printf "%s %.0f MB; ", t, $1 / 1e6 }'; done)"
say "passed"
