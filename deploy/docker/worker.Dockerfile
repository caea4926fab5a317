# syntax=docker/dockerfile:1.7
# finishline worker. Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t finishline-worker .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p finishline-worker \
 && cp target/release/finishline-worker /usr/local/bin/

FROM debian:bookworm-slim
# ca-certificates for https sources; tini forwards SIGTERM so the worker drains; ffmpeg
# (ffmpeg + ffprobe) for video jobs (a worker run with --queues photo does without it).
# Recognition (next release) adds: tesseract-ocr, and the onnxruntime library + models
# copied from the PyPI wheels by the setup step (see deploy/README.md).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini curl ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /nonexistent finishline \
 && mkdir -p /media && chown finishline /media
COPY --from=build /usr/local/bin/finishline-worker /usr/local/bin/finishline-worker
USER 10001
ENV FINISHLINE_MEDIA_ROOT=/media \
    FINISHLINE_HTTP_LISTEN=0.0.0.0:9100 \
    FINISHLINE_LOG_FORMAT=json
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1:9100/healthz"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/finishline-worker"]
