//! The worker's small HTTP port: liveness, readiness and Prometheus metrics, plus the sampler
//! that turns queue depth into gauges.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use finishline_bus::ProgressBus;
use finishline_queue::Housekeeper;
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
    let router = Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|State(h): State<Health>| async move { h.metrics.render() }),
        )
        .with_state(health);
    Ok(tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "health server failed");
        }
    }))
}

async fn readyz(State(health): State<Health>) -> Response {
    let redis = health.bus.ping().await.is_ok();
    let consuming = health.consuming.load(Ordering::Relaxed);
    let body = Json(json!({ "redis": redis, "consuming": consuming }));
    if redis && consuming {
        (StatusCode::OK, body).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
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
