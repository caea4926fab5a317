//! The worker's small HTTP port: liveness, readiness and Prometheus metrics, plus the sampler
//! that turns queue depth into gauges.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use finishline_bus::ProgressBus;
use finishline_queue::Housekeeper;
use finishline_service::{Readiness, health_routes};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// What the health routes look at.
#[derive(Clone)]
pub struct Health {
    pub bus: ProgressBus,
    /// True while the apalis worker is consuming.
    pub consuming: Arc<AtomicBool>,
    pub metrics: PrometheusHandle,
}

/// Serves `/healthz`, `/readyz` and `/metrics` on `listen` until `stop`.
///
/// # Errors
/// Fails when the port cannot be bound.
pub async fn serve(
    listen: SocketAddr,
    health: Health,
    stop: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} for health and metrics"))?;
    tracing::info!(addr = %listener.local_addr()?, "health and metrics listening");
    let Health {
        bus,
        consuming,
        metrics,
    } = health;
    let router: Router = health_routes(metrics, move || readiness(bus.clone(), consuming.clone()));
    Ok(tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "health server failed");
        }
    }))
}

/// Ready when Redis answers and the apalis worker is consuming.
async fn readiness(bus: ProgressBus, consuming: Arc<AtomicBool>) -> Readiness {
    let redis = bus.ping().await.is_ok();
    let consuming = consuming.load(Ordering::Relaxed);
    Readiness {
        ready: redis && consuming,
        body: json!({ "redis": redis, "consuming": consuming }),
    }
}

/// Samples the depth of a queue into gauges every `every`, until `stop`.
pub async fn sample_queue(
    housekeeper: Housekeeper,
    queue: &'static str,
    every: Duration,
    stop: CancellationToken,
) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match housekeeper.stats().await {
            Ok(stats) => {
                for (state, value) in [
                    ("waiting", stats.waiting),
                    ("scheduled", stats.scheduled),
                    ("inflight", stats.inflight),
                ] {
                    metrics::gauge!("finishline_queue_jobs", "queue" => queue, "state" => state)
                        .set(value as f64);
                }
                metrics::gauge!("finishline_queue_oldest_waiting_age_seconds", "queue" => queue)
                    .set(
                        stats
                            .oldest_waiting_age
                            .map_or(0.0, |age| age.as_secs_f64()),
                    );
            }
            Err(err) => tracing::debug!(error = %err, "queue sampling failed"),
        }
    }
}
