//! The HTTP API, one router per resource: enqueue (`enqueue.rs`), events (`events.rs`, with
//! the settings and bib routes of `crate::settings` and `crate::bibs`), jobs (`jobs.rs`), and
//! the health and metrics routes of `finishline_service` with the gateway's readiness here.
//! Handlers return [`ApiError`] with `?`; extractors refuse malformed input before a handler
//! runs (`extract.rs`).

mod enqueue;
mod error;
mod events;
mod extract;
mod jobs;

use axum::Router;
use axum::response::Response;
use finishline_bus::ProgressBus;
use finishline_queue::Producer;
use finishline_service::{Readiness, health_routes};
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
        .merge(crate::photos::routes())
        .merge(jobs::routes())
        .merge(health_routes(state.metrics.clone(), {
            let bus = state.bus.clone();
            move || readiness(bus.clone())
        }))
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(axum::middleware::from_fn(count_requests))
        .with_state(state)
}

/// Ready when Redis answers.
async fn readiness(bus: ProgressBus) -> Readiness {
    match bus.ping().await {
        Ok(()) => Readiness {
            ready: true,
            body: json!({ "status": "ready" }),
        },
        Err(err) => {
            tracing::warn!(error = %err, "not ready: redis unreachable");
            Readiness {
                ready: false,
                body: json!({ "status": "unavailable", "reason": "redis unreachable" }),
            }
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
