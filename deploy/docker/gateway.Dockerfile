# syntax=docker/dockerfile:1.7
# finishline gateway. Build context: the repository root, with deploy/docker/dockerignore as
# the ignore file. Two ways to build (deploy/README.md, "Images"):
#   from source (the default, last stage; needs the Rust image):
#     docker build -f deploy/docker/gateway.Dockerfile -t finishline-gateway .
#   from a binary built on this machine (target "prebuilt"; needs only BASE_IMAGE):
#     cargo build --release --locked -p finishline-gateway
#     podman build --format docker --ignorefile deploy/docker/dockerignore --target prebuilt \
#       -f deploy/docker/gateway.Dockerfile -t finishline-gateway .
# BIN_DIR (default target/release) names the binary's folder in the build context.
ARG RUST_IMAGE=rust:1.95-bookworm
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
    cargo build --release --locked -p finishline-gateway \
 && cp target/release/finishline-gateway /usr/local/bin/

# What both final stages share: Debian with tini and curl (for the health check), an
# unprivileged user, the settings, the health check and the entrypoint.
FROM ${BASE_IMAGE} AS runtime
# No manuals, docs or translations (debian:bookworm-slim already drops them; a base made by
# debootstrap does not).
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
      'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
      > /etc/dpkg/dpkg.cfg.d/01-finishline-nodoc \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates tini curl \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --home /nonexistent --shell /usr/sbin/nologin finishline
USER 10001
ENV FINISHLINE_LISTEN=0.0.0.0:3000 \
    FINISHLINE_LOG_FORMAT=json
EXPOSE 3000
# The port comes from FINISHLINE_LISTEN, so the check follows a gateway moved to another port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null http://127.0.0.1:${FINISHLINE_LISTEN##*:}/healthz || exit 1"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/finishline-gateway"]

# The gateway built elsewhere (cargo on the host, or CI's debug build), taken from the context.
FROM runtime AS prebuilt
ARG BIN_DIR=target/release
COPY ${BIN_DIR}/finishline-gateway /usr/local/bin/finishline-gateway

# The default: the gateway built from source in the build stage above.
FROM runtime AS source
COPY --from=build /usr/local/bin/finishline-gateway /usr/local/bin/finishline-gateway
