//! Service support shared by the worker and the gateway: configuration pieces, telemetry,
//! metrics and the health routes, shutdown and the Redis connection, and the start-up
//! sequence both `main.rs` run ([`serve`]).

mod config;
mod health;
mod metrics;
mod redis_conn;
mod shutdown;
mod telemetry;

pub use config::{
    DurabilityMode, LogArgs, LogFormat, RedisArgs, RetentionArgs, ServiceArgs, parse_duration,
    redact_url,
};
pub use finishline_redis::{Durability, RedisConn, Topology, is_not_replicated};
pub use health::{Readiness, health_routes};
pub use metrics::init_metrics;
pub use redis_conn::connect_redis;
pub use shutdown::shutdown_token;
pub use telemetry::init_telemetry;

/// The life of a binary once its flags are parsed: telemetry as `log` says, the shutdown token
/// (SIGINT/SIGTERM), `build` — a failed start-up ends the process ([`started_or_exit`]) — then
/// `run` until shutdown.
///
/// # Errors
/// Fails when telemetry cannot start, or with what `run` fails with.
pub async fn serve<App, Run>(
    log: &LogArgs,
    build: impl Future<Output = anyhow::Result<App>>,
    run: impl FnOnce(App, tokio_util::sync::CancellationToken) -> Run,
) -> anyhow::Result<()>
where
    Run: Future<Output = anyhow::Result<()>>,
{
    init_telemetry(log)?;
    let shutdown = shutdown_token();
    let app = started_or_exit(build.await);
    run(app, shutdown).await
}

/// A binary's start-up result, or its exit: a start-up error (Redis unreachable, a bad flag
/// value, a missing tool) is logged, printed as one readable line on stderr, and ends the
/// process with status 1 — no panic, no backtrace.
pub fn started_or_exit<T>(result: anyhow::Result<T>) -> T {
    match result {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    }
}
