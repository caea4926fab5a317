//! Photos flow from the HTTP API through the queue and the worker to a Socket.IO room.

use std::collections::HashMap;
use std::time::Duration;

use finishline_tests::{Received, Rig, write_corrupt_jpeg, write_photo};
use finishline_wire::{JobKind, Stage};
use serde_json::{Value, json};

async fn post_photos(rig: &Rig, event: &str, request_id: &str, photos: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(rig.gateway().url(&format!("/v1/events/{event}/photos")))
        .header("X-Request-Id", request_id)
        .json(&photos)
        .send()
        .await
        .expect("POST photos");
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(request_id),
        "the request id is echoed"
    );
    (status, response.json().await.expect("JSON body"))
}

fn seqs(messages: &[Received]) -> Vec<u64> {
    messages
        .iter()
        .map(|m| m.data["seq"].as_u64().expect("seq"))
        .collect()
}

/// Checks the ordering rules of PROTOCOL.md and returns the terminal message of each photo.
fn check_order(messages: &[Received], event: &str, request_id: &str) -> HashMap<String, Received> {
    let seqs = seqs(messages);
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq strictly increasing: {seqs:?}"
    );
    let mut stages: HashMap<String, Vec<Stage>> = HashMap::new();
    let mut terminal: HashMap<String, Received> = HashMap::new();
    let mut queued = std::collections::HashSet::new();
    let mut started = std::collections::HashSet::new();
    for m in messages {
        assert_eq!(m.data["eventId"], event, "{m:?}");
        assert_eq!(m.data["requestId"], request_id, "{m:?}");
        let ts = m.data["ts"].as_str().expect("ts");
        assert!(chrono_like(ts), "ts is RFC 3339 UTC: {ts}");
        match m.name.as_str() {
            // Lifecycle: queued (with a position) before a run starts (with its attempt),
            // both before the job's progress.
            "job:queued" => {
                let photo = m.data["photoId"].as_str().expect("photoId").to_owned();
                assert!(m.data["position"].as_u64().unwrap_or(0) >= 1, "{m:?}");
                assert_eq!(m.data["kind"], "photo", "{m:?}");
                assert!(queued.insert(photo), "queued twice: {m:?}");
            }
            "job:started" => {
                let photo = m.data["photoId"].as_str().expect("photoId").to_owned();
                assert!(queued.contains(&photo), "started before queued: {m:?}");
                assert!(m.data["attempt"].as_u64().unwrap_or(0) >= 1, "{m:?}");
                assert!(
                    !stages.contains_key(&photo),
                    "started after progress: {m:?}"
                );
                started.insert(photo);
            }
            "photo:progress" => {
                let photo = m.data["photoId"].as_str().expect("photoId").to_owned();
                assert!(
                    started.contains(&photo),
                    "progress before job:started: {m:?}"
                );
                assert!(
                    !terminal.contains_key(&photo),
                    "progress after terminal for {photo}"
                );
                let stage = m.data["stage"].as_str().expect("stage");
                let stage = Stage::parse(stage).unwrap_or_else(|| panic!("a stage: {m:?}"));
                // The worker reports the photo's stage list with its progress steps.
                assert_eq!(
                    m.data["progress"].as_u64(),
                    JobKind::Photo.stage_progress(stage).map(u64::from),
                    "{m:?}"
                );
                stages.entry(photo).or_default().push(stage);
            }
            "photo:completed" | "photo:failed" => {
                let photo = m.data["photoId"].as_str().expect("photoId").to_owned();
                assert!(
                    terminal.insert(photo.clone(), m.clone()).is_none(),
                    "two terminals for {photo}"
                );
            }
            "event:progress" | "event:completed" => {}
            other => panic!("unexpected message {other}"),
        }
    }
    for (photo, seen) in &stages {
        let order = JobKind::Photo.stages();
        let positions: Vec<usize> = seen
            .iter()
            .map(|s| order.iter().position(|o| o == s).expect("a photo stage"))
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "stages of {photo} in order: {seen:?}"
        );
    }
    let completed: Vec<_> = messages
        .iter()
        .filter(|m| m.name == "event:completed")
        .collect();
    assert_eq!(completed.len(), 1, "event:completed exactly once");
    assert_eq!(
        messages.last().map(|m| m.name.as_str()),
        Some("event:completed"),
        "event:completed comes last"
    );
    terminal
}

fn chrono_like(ts: &str) -> bool {
    ts.len() >= 20 && ts.ends_with('Z') && ts.as_bytes()[4] == b'-' && ts.as_bytes()[10] == b'T'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_photos_flow_from_http_to_the_event_room_in_order() {
    let rig = Rig::builder("flow").workers(1).start().await;
    let media = &rig.media;
    let mut photos = Vec::new();
    for i in 0..20 {
        let ext = if i % 2 == 0 { "jpg" } else { "png" };
        let name = format!("p{i:02}.{ext}");
        write_photo(&media.join(&name), 320, 240, [200, 30, 30], [20, 40, 200]);
        photos.push(json!({ "photoId": format!("p{i:02}"), "source": { "path": name } }));
    }

    let client = rig.client().await;
    let ack = client
        .call("subscribe:event", json!({ "eventId": "race-1" }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["room"], "event:race-1");
    assert_eq!(ack["snapshot"]["totalPhotos"], 0);
    assert_eq!(ack["snapshot"]["lastSeq"], 0);

    let (status, body) =
        post_photos(&rig, "race-1", "req-flow-1", json!({ "photos": photos })).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["requestId"], "req-flow-1");
    let jobs = body["jobs"].as_array().expect("jobs").clone();
    assert_eq!(jobs.len(), 20);
    assert!(jobs.iter().all(|j| j["created"] == true));

    // Posting the same photos again adds nothing and returns the same jobs.
    let (status, again) =
        post_photos(&rig, "race-1", "req-flow-2", json!({ "photos": photos })).await;
    assert_eq!(status, 202);
    for (a, b) in jobs.iter().zip(again["jobs"].as_array().expect("jobs")) {
        assert_eq!(a["jobId"], b["jobId"]);
        assert_eq!(b["created"], false);
    }

    client
        .wait_for("event:completed", Duration::from_secs(60))
        .await;
    client.flush().await;
    let messages = client.received();
    let terminal = check_order(&messages, "race-1", "req-flow-1");
    assert_eq!(terminal.len(), 20);
    let job_ids: HashMap<&str, &str> = jobs
        .iter()
        .map(|j| (j["photoId"].as_str().unwrap(), j["jobId"].as_str().unwrap()))
        .collect();
    for (photo, m) in &terminal {
        assert_eq!(m.name, "photo:completed", "{m:?}");
        assert_eq!(m.data["jobId"], job_ids[photo.as_str()]);
        assert_eq!(m.data["plateNumber"], Value::Null, "no number is invented");
        assert_eq!(m.data["confidence"], 0.0);
        let colors = m.data["colors"].as_array().expect("colors");
        let top = colors[0]["hex"].as_str().expect("hex");
        assert!(
            top.starts_with("#c") || top.starts_with("#d") || top.starts_with("#b"),
            "the dominant colour is the red that covers 70%: {top}"
        );
        let share = colors[0]["share"].as_f64().expect("share");
        assert!((share - 0.7).abs() < 0.08, "share of red ≈ 0.7: {share}");
    }
    let summary = &messages.last().expect("last").data["summary"];
    assert_eq!(
        summary,
        &json!({ "total": 20, "succeeded": 20, "failed": 0, "cancelled": 0 })
    );
    let last_progress = messages
        .iter()
        .rev()
        .find(|m| m.name == "event:progress")
        .expect("event:progress");
    assert_eq!(last_progress.data["processedPhotos"], 20);
    assert_eq!(last_progress.data["totalPhotos"], 20);

    let snapshot: Value = reqwest::get(rig.gateway().url("/v1/events/race-1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["processedPhotos"], 20);
    assert_eq!(snapshot["succeeded"], 20);
    assert_eq!(snapshot["lastSeq"], messages.last().unwrap().data["seq"]);

    let ack = client
        .call("unsubscribe:event", json!({ "eventId": "race-1" }))
        .await;
    assert_eq!(ack, json!({ "success": true }));
    client.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_image_fails_permanently_and_the_event_still_completes() {
    let rig = Rig::builder("corrupt").workers(1).start().await;
    let (media, worker) = (&rig.media, rig.worker());
    write_photo(&media.join("ok1.png"), 64, 64, [10, 200, 10], [0, 0, 0]);
    write_photo(&media.join("ok2.jpg"), 64, 64, [10, 200, 10], [0, 0, 0]);
    write_corrupt_jpeg(&media.join("bad.jpg"));
    let client = rig.client().await;
    let ack = client
        .call("subscribe:event", json!({ "eventId": "race-2" }))
        .await;
    assert_eq!(ack["success"], true);

    let photos = json!({ "photos": [
        { "photoId": "ok1", "source": { "path": "ok1.png" } },
        { "photoId": "bad", "source": { "path": "bad.jpg" } },
        { "photoId": "ok2", "source": { "path": "ok2.jpg" } },
    ]});
    let (status, _) = post_photos(&rig, "race-2", "req-corrupt", photos).await;
    assert_eq!(status, 202);
    client
        .wait_for("event:completed", Duration::from_secs(60))
        .await;
    let messages = client.received();
    let terminal = check_order(&messages, "race-2", "req-corrupt");
    let failed = &terminal["bad"];
    assert_eq!(failed.name, "photo:failed");
    assert_eq!(
        failed.data["attempts"], 1,
        "a permanent failure is not retried"
    );
    assert_eq!(failed.data["code"], "corrupt_image");
    let error = failed.data["error"].as_str().expect("error");
    assert!(error.contains("corrupt"), "readable error: {error}");
    assert_eq!(terminal["ok1"].name, "photo:completed");
    assert_eq!(
        messages.last().unwrap().data["summary"],
        json!({ "total": 3, "succeeded": 2, "failed": 1, "cancelled": 0 })
    );
    let runs = worker.log().matches("job started").count();
    assert_eq!(runs, 3, "each job ran exactly once:\n{}", worker.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_payloads_get_an_invalid_payload_ack_and_keep_the_connection() {
    let rig = Rig::builder("malformed").start().await;
    let client = rig.client().await;
    for bad in [
        json!({ "eventId": 42 }),
        json!("just a string"),
        json!({ "eventId": "a/b" }),
        json!({}),
    ] {
        let ack = client.call("subscribe:event", bad.clone()).await;
        assert_eq!(ack["success"], false, "{bad} → {ack}");
        assert_eq!(ack["error"]["code"], "invalid_payload", "{bad} → {ack}");
        assert!(!ack["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    let ack = client
        .call("unsubscribe:event", json!({ "eventId": [] }))
        .await;
    assert_eq!(ack["error"]["code"], "invalid_payload");
    // Still connected and serving.
    let ack = client
        .call("subscribe:event", json!({ "eventId": "fine" }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_http_requests_get_json_errors_and_enqueue_nothing() {
    let rig = Rig::builder("badhttp").start().await;
    let gateway = rig.gateway();
    let http = reqwest::Client::new();
    let cases = [
        (
            "/v1/events/bad%20id/photos",
            r#"{"photoId":"p","source":{"path":"x.jpg"}}"#,
            400,
        ),
        ("/v1/events/e1/photos", "not json", 400),
        ("/v1/events/e1/photos", r#"{"photoId":"p"}"#, 422),
        (
            "/v1/events/e1/photos",
            r#"{"photoId":"p/../x","source":{"path":"x.jpg"}}"#,
            422,
        ),
        ("/v1/events/e1/photos", r#"{"photos":[]}"#, 422),
        (
            "/v1/events/e1/photos",
            r#"{"photoId":"p","source":{"ftp":"x"}}"#,
            422,
        ),
    ];
    for (path, body, status) in cases {
        let response = http
            .post(gateway.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path} {body}");
        let json: Value = response.json().await.unwrap();
        assert!(json["error"]["code"].is_string(), "{json}");
        assert!(json["error"]["message"].is_string(), "{json}");
    }
    let huge = format!(
        r#"{{"photos":[{}]}}"#,
        vec![r#"{"photoId":"p","source":{"path":"x.jpg"}}"#; 40_000].join(",")
    );
    let response = http
        .post(gateway.url("/v1/events/e1/photos"))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let snapshot: Value = reqwest::get(gateway.url("/v1/events/e1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["totalPhotos"], 0, "nothing was enqueued");
    let response = http
        .get(gateway.url("/v1/events/no%2Fslash"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}
