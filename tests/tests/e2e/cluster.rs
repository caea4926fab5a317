//! finishline on a Redis Cluster of 3 primaries and 3 replicas (`redis+cluster://`): the photo
//! flow and replay with `since`, and 500 jobs with the primary of their event's group killed
//! (SIGKILL) mid-run while its replica takes over (the killed node then comes back as a
//! replica: with `--durability replicated` a shard without one takes no write).

use std::time::{Duration, Instant};

use finishline_bus::{BusLimits, Keys, ProgressBus};
use finishline_tests::{
    Gateway, RedisCluster, SocketClient, Worker, media_dir, unique_prefix, wait_until, write_photo,
};
use finishline_wire::EventId;
use serde_json::{Value, json};

async fn post_photos(gateway: &Gateway, event: &str, photos: &[Value]) -> Value {
    let response = reqwest::Client::new()
        .post(gateway.url(&format!("/v1/events/{event}/photos")))
        .json(&json!({ "photos": photos }))
        .send()
        .await
        .expect("POST photos");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(status, 202, "POST photos: {body}");
    body
}

/// `n` photos of 32 × 32 pixels in `media`, as the body's list.
fn photos(media: &std::path::Path, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let name = format!("p{i:03}.png");
            write_photo(&media.join(&name), 32, 32, [200, 30, 30], [20, 40, 200]);
            json!({ "photoId": format!("p{i:03}"), "source": { "path": name } })
        })
        .collect()
}

fn seqs(client: &SocketClient) -> Vec<u64> {
    client
        .received()
        .iter()
        .map(|m| m.data["seq"].as_u64().expect("seq"))
        .collect()
}

/// The names of an event's history, in seq order.
async fn history_names(bus: &ProgressBus, event: &EventId) -> Vec<String> {
    bus.history_range(event, 0, u64::MAX, 100_000)
        .await
        .expect("history")
        .iter()
        .map(|m| m.name.as_str().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_flow_through_a_redis_cluster_and_replay_with_since() {
    let cluster = RedisCluster::start().await;
    let url = cluster.url();
    let prefix = unique_prefix("cluster-flow");
    let media = media_dir("cluster-flow-media");
    let photos = photos(&media, 12);
    let gateway = Gateway::start(&url, &prefix).await;
    let _worker = Worker::start_with(&url, &prefix, &media, &["--pipeline", "noop"]).await;
    let bus = ProgressBus::new(
        cluster.connection().await,
        Keys::new(&prefix),
        BusLimits::default(),
    );

    let live = SocketClient::connect(&gateway.url(""), None).await;
    let ack = live
        .call("subscribe:event", json!({ "eventId": "race-c" }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    let body = post_photos(&gateway, "race-c", &photos).await;
    assert_eq!(body["jobs"].as_array().map(Vec::len), Some(12));
    live.wait_for("event:completed", Duration::from_secs(60))
        .await;

    let event = EventId::parse("race-c").unwrap();
    let snapshot = bus.snapshot(&event).await.unwrap();
    let c = snapshot.counts;
    assert_eq!(
        (c.total_photos, c.processed_photos, c.succeeded, c.failed),
        (12, 12, 12, 0)
    );
    let last = snapshot.last_seq;
    live.flush().await;
    assert_eq!(
        seqs(&live),
        (1..=last).collect::<Vec<_>>(),
        "the relay of the group's stream: every message once, in order"
    );
    let names = history_names(&bus, &event).await;
    let count = |name: &str| names.iter().filter(|n| *n == name).count();
    assert_eq!(count("photo:completed"), 12);
    assert_eq!(count("event:completed"), 1);

    // Replay with since: exactly the messages after it, once, in order.
    let late = SocketClient::connect(&gateway.url(""), None).await;
    let ack = late
        .call(
            "subscribe:event",
            json!({ "eventId": "race-c", "since": 7 }),
        )
        .await;
    assert_eq!(ack["recovered"], true, "{ack}");
    wait_until("the replay arrived", Duration::from_secs(20), || {
        let n = seqs(&late).len() as u64;
        async move { n >= last - 7 }
    })
    .await;
    late.flush().await;
    assert_eq!(seqs(&late), (8..=last).collect::<Vec<_>>());
    // A job looked up by its id alone finds its hash in its event's group.
    let job_id = body["jobs"][0]["jobId"].as_str().unwrap();
    let status: Value = reqwest::get(gateway.url(&format!("/v1/jobs/{job_id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "succeeded", "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_killed_mid_run_loses_no_job_and_counts_none_twice() {
    const JOBS: u64 = 500;
    let mut cluster = RedisCluster::start().await;
    let url = cluster.url();
    let prefix = unique_prefix("cluster-kill");
    let media = media_dir("cluster-kill-media");
    let photos = photos(&media, JOBS as usize);
    let durable = ["--durability", "replicated", "--durability-timeout", "2s"];
    let gateway = Gateway::start_with(
        &url,
        &prefix,
        &[&["--auth-disabled"][..], &durable].concat(),
    )
    .await;
    let worker_flags = [&["--pipeline", "noop", "--concurrency", "4"][..], &durable].concat();
    let worker = Worker::start_with(&url, &prefix, &media, &worker_flags).await;
    let keys = Keys::new(&prefix);
    let bus = ProgressBus::new(
        cluster.connection().await,
        keys.clone(),
        BusLimits::default(),
    );
    let event = EventId::parse("race-k").unwrap();
    let processed = || {
        let bus = bus.clone();
        let event = event.clone();
        async move {
            bus.snapshot(&event)
                .await
                .map(|s| s.counts.processed_photos)
                .unwrap_or(0)
        }
    };

    let started = Instant::now();
    let body = post_photos(&gateway, "race-k", &photos).await;
    assert_eq!(body["jobs"].as_array().map(Vec::len), Some(JOBS as usize));
    wait_until("a tenth of the jobs ran", Duration::from_secs(60), || {
        let processed = processed();
        async move { processed.await >= JOBS / 10 }
    })
    .await;
    // The primary of the event's group: its counters, history, jobs and stream.
    let group_key = keys.event(&event);
    let at_kill = processed().await;
    let killed = cluster.kill_primary_of(&group_key).await;
    let killed_at = Instant::now();
    wait_until(
        "a replica serves the group again",
        Duration::from_secs(30),
        || {
            let primary = cluster.primary_of(&group_key);
            async move { primary.await != killed }
        },
    )
    .await;
    // With --durability replicated every write waits for a replica: the promoted node has
    // none until the killed one comes back and rejoins as its replica.
    cluster.restart(killed).await;
    wait_until("jobs end again", Duration::from_secs(30), || {
        let processed = processed();
        async move { processed.await > at_kill }
    })
    .await;
    let recovery = killed_at.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60);
    while processed().await < JOBS {
        if Instant::now() > deadline {
            let log = worker.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            panic!(
                "not every job ended: {:?}\n{}",
                bus.snapshot(&event).await.map(|s| s.counts),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();

    let counts = bus.snapshot(&event).await.unwrap().counts;
    let names = history_names(&bus, &event).await;
    let count = |name: &str| names.iter().filter(|n| *n == name).count() as u64;
    let completed = count("photo:completed");
    let lost = JOBS.saturating_sub(completed + count("photo:failed"));
    let double = counts.processed_photos.saturating_sub(JOBS);
    eprintln!(
        "cluster, primary killed at {at_kill}/{JOBS} processed: recovery {:.1} s, jobs lost {lost}, double-counted {double}, {:.0} jobs/s overall",
        recovery.as_secs_f64(),
        JOBS as f64 / elapsed.as_secs_f64()
    );
    assert!(at_kill < JOBS, "the primary died mid-run");
    assert_eq!((lost, double), (0, 0));
    assert_eq!(
        (
            counts.total_photos,
            counts.processed_photos,
            counts.succeeded
        ),
        (JOBS, JOBS, JOBS)
    );
    assert_eq!(count("event:completed"), 1);
}
