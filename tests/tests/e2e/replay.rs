//! Replay with `since`, the hand-over from history to live, and job subscriptions, driven
//! through the real bus (the worker's publishing API) against a real gateway.

use std::time::Duration;

use finishline_bus::{Keys, ProgressBus, RunOutcome};
use finishline_queue::{Enqueued, NewMedia, Producer, ProducerConfig};
use finishline_tests::{Rig, SocketClient, bus_writer, run_photo_job, wait_until};
use finishline_wire::{EventId, JobKind, MediaId, MediaSource, RequestId};
use serde_json::json;

/// The rig of these tests: a gateway on Redis, no worker (the tests publish as one does).
async fn rig(test: &str) -> Rig {
    Rig::builder(test).start().await
}

async fn enqueue(rig: &Rig, event: &EventId, n: usize) -> Vec<Enqueued> {
    let photos: Vec<NewMedia> = (0..n)
        .map(|i| NewMedia {
            media_id: MediaId::parse(format!("p{i}")).unwrap(),
            source: MediaSource::Path(format!("p{i}.jpg")),
        })
        .collect();
    let producer = Producer::new(
        rig.redis.connection().await,
        Keys::new(&rig.prefix),
        ProducerConfig::default(),
    );
    producer
        .enqueue(
            event,
            &RequestId::parse("req-replay").unwrap(),
            JobKind::Photo,
            None,
            &photos,
        )
        .await
        .unwrap()
}

/// Runs one job through its stages the way a worker does.
async fn run_job(bus: &ProgressBus, job: &Enqueued) {
    run_photo_job(bus, &job.job_id, job.media_id.as_str()).await;
}

fn seqs(client: &SocketClient) -> Vec<u64> {
    client
        .received()
        .iter()
        .map(|m| m.data["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resubscribing_with_since_gets_every_missed_message_once_while_jobs_keep_running()
{
    let f = rig("replay").await;
    let event = EventId::parse("race-r").unwrap();
    let jobs = enqueue(&f, &event, 40).await;
    for job in &jobs[..10] {
        run_job(&f.bus, job).await;
    }
    // 40 job:queued + 1 enqueue event:progress
    // + 10 × (job:started + 3 progress + completed + event:progress) = 101
    assert_eq!(f.bus.snapshot(&event).await.unwrap().last_seq, 101);

    // Publishing goes on while the client subscribes: the hand-over must be gapless.
    let bus = f.bus.clone();
    let rest = jobs[10..].to_vec();
    let publisher = tokio::spawn(async move {
        for job in &rest {
            run_job(&bus, job).await;
        }
    });
    let client = SocketClient::connect(&f.gateway().url(""), None).await;
    let ack = client
        .call(
            "subscribe:event",
            json!({ "eventId": "race-r", "since": 20 }),
        )
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["recovered"], true, "{ack}");
    publisher.await.unwrap();
    let last = f.bus.snapshot(&event).await.unwrap().last_seq;
    assert_eq!(
        last,
        41 + 40 * 6 + 1,
        "every job ran once and the event completed"
    );
    wait_until(
        "every message after seq 20 arrived",
        Duration::from_secs(20),
        || {
            let n = seqs(&client).len() as u64;
            async move { n >= last - 20 }
        },
    )
    .await;
    client.flush().await;
    let got = seqs(&client);
    let expected: Vec<u64> = (21..=last).collect();
    assert_eq!(got, expected, "no gap, no duplicate, in order");
    assert_eq!(client.received().last().unwrap().name, "event:completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_since_the_history_cannot_serve_is_answered_with_recovered_false_and_the_snapshot() {
    let f = rig("replay-lost").await;
    let event = EventId::parse("race-l").unwrap();
    let jobs = enqueue(&f, &event, 2).await;
    run_job(&f.bus, &jobs[0]).await;
    let client = SocketClient::connect(&f.gateway().url(""), None).await;
    // A seq from the future (e.g. Redis lost its data): the snapshot is the truth.
    let ack = client
        .call(
            "subscribe:event",
            json!({ "eventId": "race-l", "since": 999 }),
        )
        .await;
    assert_eq!(ack["recovered"], false, "{ack}");
    assert_eq!(ack["snapshot"]["processedPhotos"], 1);
    assert_eq!(ack["snapshot"]["totalPhotos"], 2);
    // History dropped (expired) while the counters remain: not recoverable either.
    let mut conn = f.bus.connection();
    let _: () = redis::cmd("DEL")
        .arg(f.bus.keys().history(&event))
        .query_async(&mut conn)
        .await
        .unwrap();
    let other = SocketClient::connect(&f.gateway().url(""), None).await;
    let ack = other
        .call(
            "subscribe:event",
            json!({ "eventId": "race-l", "since": 2 }),
        )
        .await;
    assert_eq!(ack["recovered"], false, "{ack}");
    // Live messages still flow to both, once each.
    run_job(&f.bus, &jobs[1]).await;
    other
        .wait_for("event:completed", Duration::from_secs(10))
        .await;
    client
        .wait_for("event:completed", Duration::from_secs(10))
        .await;
    assert_eq!(
        other.received().len(),
        7,
        "job:started, 3 × photo:progress, photo:completed, event:progress, event:completed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_can_be_watched_read_and_cancelled() {
    let f = rig("jobs").await;
    let event = EventId::parse("race-j").unwrap();
    let jobs = enqueue(&f, &event, 2).await;
    let client = SocketClient::connect(&f.gateway().url(""), None).await;
    let ack = client
        .call("subscribe:job", json!({ "jobId": jobs[0].job_id }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["room"], format!("job:{}", jobs[0].job_id));
    assert_eq!(ack["status"]["state"], "queued");
    let ack = client
        .call("subscribe:job", json!({ "jobId": "01UNKNOWN" }))
        .await;
    assert_eq!(ack["error"]["code"], "not_found");

    run_job(&f.bus, &jobs[0]).await;
    client
        .wait_for("photo:completed", Duration::from_secs(10))
        .await;
    let names: Vec<String> = client.received().iter().map(|m| m.name.clone()).collect();
    assert_eq!(
        names,
        [
            "job:started",
            "photo:progress",
            "photo:progress",
            "photo:progress",
            "photo:completed"
        ],
        "the job room gets only that job's messages"
    );

    let http = reqwest::Client::new();
    let status: serde_json::Value = http
        .get(f.gateway().url(&format!("/v1/jobs/{}", jobs[0].job_id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "succeeded");
    assert_eq!(status["progress"], 100);
    assert_eq!(status["kind"], "photo");
    let history: Vec<&str> = status["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "job:queued",
            "job:started",
            "photo:progress",
            "photo:progress",
            "photo:progress",
            "photo:completed"
        ]
    );

    // Cancel the queued one: it never runs, and the event completes with it cancelled.
    let response = http
        .post(
            f.gateway()
                .url(&format!("/v1/jobs/{}/cancel", jobs[1].job_id)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["cancelled"], true);
    assert_eq!(
        bus_writer(&f.bus).start_run(&jobs[1].job_id).await.unwrap(),
        RunOutcome::AlreadyEnded
    );
    let again: serde_json::Value = http
        .post(
            f.gateway()
                .url(&format!("/v1/jobs/{}/cancel", jobs[1].job_id)),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["cancelled"], false,
        "cancelling twice changes nothing"
    );
    let snapshot = f.bus.snapshot(&event).await.unwrap();
    assert_eq!(
        (
            snapshot.counts.succeeded,
            snapshot.counts.cancelled,
            snapshot.counts.processed_photos
        ),
        (1, 1, 2)
    );
    let missing = http
        .get(f.gateway().url("/v1/jobs/01NOPE"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
