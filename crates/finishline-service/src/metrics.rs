//! Prometheus metrics: one recorder per process, rendered by the `/metrics` route.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Installs the process-wide metrics recorder and returns the handle that renders it.
///
/// # Errors
/// Fails when a recorder is already installed.
pub fn init_metrics() -> anyhow::Result<PrometheusHandle> {
    let latency_buckets = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &latency_buckets)?
        .install_recorder()
        .map_err(|err| anyhow::anyhow!("installing the metrics recorder: {err}"))
}
