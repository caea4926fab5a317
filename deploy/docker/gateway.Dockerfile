# syntax=docker/dockerfile:1.7
# finishline gateway. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t finishline-gateway .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p finishline-gateway \
 && cp target/release/finishline-gateway /usr/local/bin/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /nonexistent finishline
COPY --from=build /usr/local/bin/finishline-gateway /usr/local/bin/finishline-gateway
USER 10001
ENV FINISHLINE_LISTEN=0.0.0.0:3000 \
    FINISHLINE_LOG_FORMAT=json
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1:3000/healthz"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/finishline-gateway"]
