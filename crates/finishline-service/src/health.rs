//! The health and metrics routes both binaries serve: `/healthz` (the process answers),
//! `/readyz` (the binary's own readiness check: the gateway asks Redis, the worker also
//! whether it is consuming) and `/metrics` (the process' Prometheus recorder). The gateway
//! merges them into its API; the worker serves them alone on its small HTTP port.

use std::future::Future;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Value, json};

/// A readiness answer: whether the process can do its work now, and the JSON body that says
/// what was checked. Answered 200 when ready, 503 when not.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    pub ready: bool,
    pub body: Value,
}

impl IntoResponse for Readiness {
    fn into_response(self) -> Response {
        let status = if self.ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, Json(self.body)).into_response()
    }
}

/// `/healthz`, `/readyz` answered by `readiness`, and `/metrics` rendered by `metrics`; a
/// router of any state, to merge into a binary's own.
pub fn health_routes<S, F, Fut>(metrics: PrometheusHandle, readiness: F) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Readiness> + Send + 'static,
{
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readiness))
        .route("/metrics", get(move || async move { metrics.render() }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    /// Serves the routes on port 0 with a readiness that follows `ready`; the base URL.
    async fn serve(ready: Arc<AtomicBool>) -> (String, PrometheusHandle) {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("finishline_test_total").increment(3);
        });
        let router: Router = health_routes(handle.clone(), move || {
            let ready = ready.load(Ordering::Relaxed);
            async move {
                Readiness {
                    ready,
                    body: json!({ "redis": ready }),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (format!("http://{addr}"), handle)
    }

    async fn get(url: String) -> (u16, String) {
        let response = reqwest::get(url).await.expect("an answer");
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn healthz_readyz_and_metrics_answer_what_the_process_knows() {
        let ready = Arc::new(AtomicBool::new(true));
        let (base, _handle) = serve(ready.clone()).await;
        assert_eq!(
            get(format!("{base}/healthz")).await,
            (200, r#"{"status":"ok"}"#.to_owned())
        );
        assert_eq!(
            get(format!("{base}/readyz")).await,
            (200, r#"{"redis":true}"#.to_owned())
        );
        ready.store(false, Ordering::Relaxed);
        assert_eq!(
            get(format!("{base}/readyz")).await,
            (503, r#"{"redis":false}"#.to_owned()),
            "not ready: 503 with what was checked"
        );
        let (status, metrics) = get(format!("{base}/metrics")).await;
        assert_eq!(status, 200);
        assert!(metrics.contains("finishline_test_total 3"), "{metrics}");
    }
}
