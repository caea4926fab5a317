//! What operators rely on: health, readiness and Prometheus metrics that move when jobs run.

use std::time::Duration;

use finishline_tests::{Rig, wait_until, write_photo};
use serde_json::json;

/// The value of the first sample of `name` whose labels contain every one of `labels`.
fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Waits up to `timeout` until the first sample of `name` with `labels` scraped from `url` is
/// `want`.
async fn wait_for_sample(
    http: &reqwest::Client,
    url: &str,
    (name, labels): (&str, &[&str]),
    want: f64,
    timeout: Duration,
) {
    wait_until(&format!("{name} {labels:?} = {want}"), timeout, || {
        let (http, url) = (http.clone(), url.to_owned());
        async move {
            let Ok(response) = http.get(&url).send().await else {
                return false;
            };
            let text = response.text().await.unwrap_or_default();
            sample(&text, name, labels) == Some(want)
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_report_what_happened() {
    let rig = Rig::builder("ops").workers(1).start().await;
    let (gateway, worker) = (rig.gateway(), rig.worker());
    for i in 0..6 {
        write_photo(
            &rig.media.join(format!("m{i}.png")),
            64,
            48,
            [0, 90, 200],
            [255, 255, 255],
        );
    }
    let http = reqwest::Client::new();
    for url in [
        gateway.url("/healthz"),
        gateway.url("/readyz"),
        worker.url("/healthz"),
        worker.url("/readyz"),
    ] {
        assert_eq!(
            http.get(&url).send().await.unwrap().status().as_u16(),
            200,
            "{url}"
        );
    }
    let client = rig.subscribed_client("ops").await;
    let photos: Vec<_> = (0..6)
        .map(|i| json!({ "photoId": format!("m{i}"), "source": { "path": format!("m{i}.png") } }))
        .collect();
    let response = http
        .post(gateway.url("/v1/events/ops/photos"))
        .json(&json!({ "photos": photos }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    client
        .wait_for("event:completed", Duration::from_secs(30))
        .await;

    // The worker counts a job once its finish (the script that also publishes the completion)
    // has returned, so the last count may land just after the room heard `event:completed`.
    wait_for_sample(
        &http,
        &worker.url("/metrics"),
        ("finishline_worker_jobs_total", &[r#"outcome="succeeded""#]),
        6.0,
        Duration::from_secs(5),
    )
    .await;
    let worker_metrics = http
        .get(worker.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(
            &worker_metrics,
            "finishline_worker_jobs_total",
            &[r#"outcome="succeeded""#]
        ),
        Some(6.0),
        "{worker_metrics}"
    );
    assert_eq!(
        sample(
            &worker_metrics,
            "finishline_worker_jobs_total",
            &[r#"outcome="started""#]
        ),
        Some(6.0)
    );
    assert_eq!(
        sample(
            &worker_metrics,
            "finishline_worker_stage_duration_seconds_count",
            &[r#"stage="color""#]
        ),
        Some(6.0)
    );
    // The queue sampler runs every 2 s: wait for a sample taken after the run.
    wait_for_sample(
        &http,
        &worker.url("/metrics"),
        ("finishline_queue_jobs", &[r#"state="waiting""#]),
        0.0,
        Duration::from_secs(10),
    )
    .await;
    let worker_metrics = http
        .get(worker.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(
            &worker_metrics,
            "finishline_queue_jobs",
            &[r#"state="waiting""#]
        ),
        Some(0.0),
        "{worker_metrics}"
    );
    assert!(
        sample(
            &worker_metrics,
            "finishline_queue_oldest_waiting_age_seconds",
            &[]
        )
        .is_some()
    );

    let gateway_metrics = http
        .get(gateway.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let relayed = sample(
        &gateway_metrics,
        "finishline_gateway_messages_relayed_total",
        &[],
    )
    .unwrap_or(0.0);
    assert!(
        relayed >= 6.0 * 5.0,
        "every message was relayed: {relayed}\n{gateway_metrics}"
    );
    assert_eq!(
        sample(&gateway_metrics, "finishline_gateway_connections", &[]),
        Some(1.0)
    );
    assert!(
        sample(
            &gateway_metrics,
            "finishline_gateway_relay_lag_seconds_count",
            &[]
        )
        .unwrap_or(0.0)
            >= 30.0
    );
    assert!(
        sample(
            &gateway_metrics,
            "finishline_gateway_http_requests_total",
            &[r#"status="202""#]
        )
        .is_some(),
        "{gateway_metrics}"
    );
    std::fs::create_dir_all("../target/artifacts").ok();
    std::fs::write("../target/artifacts/metrics-worker.txt", &worker_metrics).ok();
    std::fs::write("../target/artifacts/metrics-gateway.txt", &gateway_metrics).ok();
}
