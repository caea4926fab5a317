//! The HTTP API, one router per resource: enqueue (`enqueue.rs`), events (`events.rs`, with
//! the settings and bib routes of `crate::settings` and `crate::bibs`), jobs (`jobs.rs`), and
//! health and metrics here. Handlers return [`ApiError`] with `?`; extractors refuse malformed
//! input before a handler runs (`extract.rs`).

mod enqueue;
mod error;
mod events;
mod extract;
mod jobs;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use finishline_bus::ProgressBus;
use finishline_queue::Producer;
use serde_json::json;

use crate::auth::Authenticator;

pub use error::ApiError;
pub(crate) use extract::{ApiPath, ApiQuery, HasAuthenticator, require_reader, require_scope};

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub bus: ProgressBus,
    pub producer: Producer,
    pub max_batch: usize,
    pub auth: Authenticator,
    pub limits: std::sync::Arc<crate::limits::Limits>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl HasAuthenticator for HttpState {
    fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

/// The API's routers merged, with request metrics and a JSON 404 for any other path.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .merge(enqueue::routes())
        .merge(events::routes())
        .merge(crate::settings::routes())
        .merge(crate::bibs::routes())
        .merge(jobs::routes())
        .merge(health_routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(axum::middleware::from_fn(count_requests))
        .with_state(state)
}

/// `/healthz` (the process answers), `/readyz` (Redis answers), `/metrics` (Prometheus).
fn health_routes() -> Router<HttpState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|State(state): State<HttpState>| async move { state.metrics.render() }),
        )
}

async fn readyz(State(state): State<HttpState>) -> Response {
    match state.bus.ping().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "not ready: redis unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "redis unreachable" })),
            )
                .into_response()
        }
    }
}

/// Counts requests by route and status, and times them.
async fn count_requests(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("finishline_gateway_http_requests_total", "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!("finishline_gateway_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
