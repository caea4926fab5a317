//! The seeds' clients, unchanged: each of the five documents finishline grew from shows a
//! client (tests/js/seeds/, and tests/js/scenario.mjs for seed 001); each runs here against a
//! real gateway, worker and redis-server, asserting the seed's event names, fields and order.
//! The client connects and subscribes first and says so; only then does the worker start, so
//! every message of the job is live.

use std::process::Stdio;
use std::time::Duration;

use finishline_tests::{JWT_SECRET, Rig, token, write_photo};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::owners::post_photo;

/// A seed client running under node.
struct SeedClient {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    script: String,
}

impl SeedClient {
    /// Starts `tests/js/seeds/<script>` and waits until it is connected and subscribed.
    async fn start(script: &str, args: &[(&str, &str)]) -> Self {
        let js = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js");
        assert!(
            js.join("node_modules/socket.io-client").exists()
                && js.join("node_modules/ws").exists(),
            "run `npm ci --prefix tests/js` first (tests/run.sh does)"
        );
        let mut command = Command::new("node");
        command
            .arg(js.join("seeds").join(script))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in args {
            command.arg(format!("--{name}")).arg(value);
        }
        let mut child = command.spawn().expect("node must be installed");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut client = Self {
            child,
            lines: BufReader::new(stdout).lines(),
            script: script.to_owned(),
        };
        let first = client.next_line(Duration::from_secs(20)).await;
        assert_eq!(
            first,
            json!({ "ready": true }),
            "{script} did not get ready"
        );
        client
    }

    async fn next_line(&mut self, timeout: Duration) -> Value {
        let line = tokio::time::timeout(timeout, self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{}: no output within {timeout:?}", self.script))
            .expect("read stdout")
            .unwrap_or_else(|| panic!("{}: exited without a result", self.script));
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("{}: not JSON: {line}", self.script))
    }

    /// Waits for the client's verdict; panics with its violations when it is not ok.
    async fn passes(mut self) -> Vec<(String, Value)> {
        let result = self.next_line(Duration::from_secs(90)).await;
        let status = self.child.wait().await.expect("wait");
        assert_eq!(
            result["ok"], true,
            "{} failed: {:#}",
            self.script, result["violations"]
        );
        assert!(status.success());
        result["received"]
            .as_array()
            .expect("received")
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap_or_default().to_owned(),
                    pair[1].clone(),
                )
            })
            .collect()
    }
}

/// A gateway with `flags` (JWT auth by default) and its Redis, the two photos the seeds
/// enqueue written in the rig's media folder.
async fn rig_with(test: &str, flags: &[&str]) -> Rig {
    let rig = Rig::builder(test).gateway_flags(flags).start().await;
    write_photo(&rig.media.join("a1.png"), 80, 60, [250, 200, 0], [0, 0, 0]);
    write_photo(
        &rig.media.join("b1.png"),
        80,
        60,
        [0, 120, 250],
        [255, 255, 255],
    );
    rig
}

async fn rig(test: &str) -> Rig {
    rig_with(test, &["--jwt-secret", JWT_SECRET]).await
}

/// Enqueues one photo of `event` as `user` through the rig's gateway; returns its job id.
async fn enqueue(rig: &Rig, user: &str, event: &str, photo: &str) -> String {
    let producer = token(json!({ "sub": user, "scope": "enqueue" }));
    let (status, body) = post_photo(rig, &producer, event, photo, json!({})).await;
    assert_eq!(status, 202, "{body}");
    body["jobs"][0]["jobId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_a_plain_websocket_follows_one_job_by_status_frames() {
    let rig = rig("seed003").await;
    let job = enqueue(&rig, "alice", "race-003", "a1").await;
    let alice = token(json!({ "sub": "alice", "events": [] }));
    let gateway = rig.gateway().url("");
    let client = SeedClient::start(
        "seed003-download-ws.mjs",
        &[("gateway", &gateway), ("job", &job), ("token", &alice)],
    )
    .await;
    let _worker = rig.start_worker(&[]).await;
    let frames = client.passes().await;
    let last = &frames.last().expect("frames").1;
    assert_eq!(last["photoId"], "a1", "{last}");
    assert!(last["result"]["plates"].is_array(), "{last}");

    // Someone else's job is not found, and neither is one without a token.
    let bob = token(json!({ "sub": "bob", "events": [] }));
    let url = format!("ws://127.0.0.1:{}/ws/jobs/{job}", rig.gateway().port);
    for refused in [format!("{url}?token={bob}"), url.clone()] {
        assert!(
            tokio_tungstenite::connect_async(refused).await.is_err(),
            "refused"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_the_file_processing_client_gets_started_progress_and_completed() {
    // Seed 000's client sends no token: run it as written, against a gateway without auth.
    let rig = rig_with("seed000", &["--auth-disabled"]).await;
    let job = enqueue(&rig, "anyone", "race-000", "a1").await;
    let gateway = rig.gateway().url("");
    let client = SeedClient::start(
        "seed000-file-processing.mjs",
        &[("gateway", &gateway), ("file", &job)],
    )
    .await;
    let _worker = rig.start_worker(&[]).await;
    let events = client.passes().await;
    let completed = &events.last().expect("events").1;
    assert_eq!(completed["fileId"], "a1", "{completed}");
    assert!(completed["plates"].is_array(), "{completed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_the_jobs_client_gets_update_progress_and_completed() {
    let rig = rig("seed002").await;
    let job = enqueue(&rig, "alice", "race-002", "a1").await;
    let alice = token(json!({ "sub": "alice", "events": [] }));
    let gateway = rig.gateway().url("");
    let client = SeedClient::start(
        "seed002-jobs.mjs",
        &[("gateway", &gateway), ("job", &job), ("token", &alice)],
    )
    .await;
    let _worker = rig.start_worker(&[]).await;
    let events = client.passes().await;
    assert_eq!(events[0].0, "ack");
    assert_eq!(
        events[0].1["status"]["jobId"],
        job.as_str(),
        "the ack holds the job's state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_the_queue_client_gets_queued_started_progress_and_completed() {
    let rig = rig("seed004").await;
    let alice = token(json!({ "sub": "alice", "events": [] }));
    let gateway = rig.gateway().url("");
    let client = SeedClient::start(
        "seed004-queue.mjs",
        &[("gateway", &gateway), ("token", &alice), ("jobs", "1")],
    )
    .await;
    // Bob's job runs too: alice's client must not hear of it.
    let bobs = enqueue(&rig, "bob", "race-004", "b1").await;
    let alices = enqueue(&rig, "alice", "race-004", "a1").await;
    let _worker = rig.start_worker(&[]).await;
    let updates = client.passes().await;
    assert!(
        updates.iter().all(|(_, u)| u["jobId"] == alices.as_str()),
        "only alice's job {alices}, never bob's {bobs}: {updates:?}"
    );
    let queued = &updates[0].1;
    assert_eq!(queued["eventType"], "job-queued");
    assert_eq!(queued["metadata"]["jobType"], "photo");
    assert_eq!(
        queued["metadata"]["position"], 2,
        "behind bob's job: {queued}"
    );
}
