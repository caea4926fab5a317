//! Nothing lost, nothing counted twice: retries, poison jobs, cancellation, SIGTERM, and real
//! faults (SIGKILLed workers, a restarted Redis, a restarted gateway).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use finishline_bus::StreamMessage;
use finishline_tests::{PhotoServer, Rig, photo_png_bytes, wait_until, write_photo};
use finishline_wire::EventId;
use serde_json::{Value, json};

/// POSTs one photo or a `{ "photos": [...] }` batch of `event`; the 202 reply.
async fn post(rig: &Rig, event: &str, photos: Value) -> Value {
    rig.post_photos(event, &photos).await
}

fn data(message: &StreamMessage) -> Value {
    serde_json::from_str(message.data.get()).unwrap()
}

/// Asserts every photo ended exactly once and the event completed exactly once, last, with
/// the expected summary; returns the terminal message name of each photo.
fn assert_exactly_once(
    history: &[StreamMessage],
    photos: usize,
    summary: Value,
) -> HashMap<String, String> {
    let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "history has no gap"
    );
    let mut terminal: HashMap<String, String> = HashMap::new();
    for m in history
        .iter()
        .filter(|m| m.name.is_terminal() && m.name.as_str().starts_with("photo:"))
    {
        let photo = data(m)["photoId"].as_str().unwrap().to_owned();
        let previous = terminal.insert(photo.clone(), m.name.as_str().to_owned());
        assert!(previous.is_none(), "photo {photo} ended twice");
    }
    assert_eq!(terminal.len(), photos, "every photo ended");
    let completed: Vec<_> = history
        .iter()
        .filter(|m| m.name.as_str() == "event:completed")
        .collect();
    assert_eq!(completed.len(), 1, "event:completed exactly once");
    assert_eq!(history.last().unwrap().name.as_str(), "event:completed");
    assert_eq!(data(completed[0])["summary"], summary);
    terminal
}

fn photos(media: &std::path::Path, n: usize, size: (u32, u32)) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| {
            let name = format!("c{i:04}.png");
            write_photo(
                &media.join(&name),
                size.0,
                size.1,
                [200, 40, 40],
                [40, 40, 200],
            );
            json!({ "photoId": format!("c{i:04}"), "source": { "path": name } })
        })
        .collect();
    json!({ "photos": list })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_succeeds_on_the_second_attempt() {
    let rig = Rig::builder("retry-ok").start().await;
    let server = PhotoServer::start(photo_png_bytes(40, 30, [10, 200, 10]), vec![503, 200]).await;
    let _worker = rig
        .start_worker(&["--retry-base-delay", "200ms", "--allow-private-sources"])
        .await;
    let body = post(
        &rig,
        "retry-ok",
        json!({ "photoId": "p1", "source": { "url": server.url("p1.png") } }),
    )
    .await;
    rig.wait_completed("retry-ok", Duration::from_secs(30))
        .await;
    let history = rig.history("retry-ok").await;
    let terminal = assert_exactly_once(
        &history,
        1,
        json!({ "total": 1, "succeeded": 1, "failed": 0, "cancelled": 0 }),
    );
    assert_eq!(terminal["p1"], "photo:completed");
    assert_eq!(server.requests(), 2, "one failed fetch, one good one");
    let job = rig.job(body["jobs"][0]["jobId"].as_str().unwrap()).await;
    assert_eq!(job["attempts"], 2, "{job}");
    assert_eq!(job["state"], "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attempt_limit_is_honoured_and_an_operator_can_re_drive_the_failed_job() {
    let rig = Rig::builder("retry-limit").start().await;
    // Three 503s exhaust the three attempts; the re-driven run then gets the photo.
    let server = PhotoServer::start(
        photo_png_bytes(40, 30, [10, 200, 10]),
        vec![503, 503, 503, 200],
    )
    .await;
    let _worker = rig
        .start_worker(&[
            "--retry-base-delay",
            "100ms",
            "--max-attempts",
            "3",
            "--allow-private-sources",
        ])
        .await;
    let body = post(
        &rig,
        "retry-limit",
        json!({ "photoId": "p1", "source": { "url": server.url("p1.png") } }),
    )
    .await;
    let job_id = body["jobs"][0]["jobId"].as_str().unwrap().to_owned();
    rig.wait_completed("retry-limit", Duration::from_secs(30))
        .await;
    let history = rig.history("retry-limit").await;
    let terminal = assert_exactly_once(
        &history,
        1,
        json!({ "total": 1, "succeeded": 0, "failed": 1, "cancelled": 0 }),
    );
    assert_eq!(terminal["p1"], "photo:failed");
    let failed = history
        .iter()
        .find(|m| m.name.as_str() == "photo:failed")
        .unwrap();
    assert_eq!(data(failed)["attempts"], 3);
    assert_eq!(data(failed)["code"], "fetch_failed");
    assert_eq!(server.requests(), 3, "exactly max-attempts fetches");

    let http = reqwest::Client::new();
    let list: Value = http
        .get(
            rig.gateway()
                .url("/v1/jobs?state=failed&eventId=retry-limit"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["jobs"][0]["job"]["jobId"], job_id.as_str(), "{list}");
    assert!(
        list["jobs"][0]["job"]["error"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{list}"
    );

    let response = http
        .post(rig.gateway().url(&format!("/v1/jobs/{job_id}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let event = EventId::parse("retry-limit").unwrap();
    rig.wait_snapshot("retry-limit", "the re-driven job succeeds", |c| {
        c.succeeded == 1
    })
    .await;
    let snapshot = rig.bus.snapshot(&event).await.unwrap();
    assert_eq!(
        (snapshot.counts.processed_photos, snapshot.counts.failed),
        (1, 0),
        "counted once, as a success"
    );
    let completed = rig
        .history("retry-limit")
        .await
        .iter()
        .filter(|m| m.name.as_str() == "event:completed")
        .count();
    assert_eq!(completed, 2, "the event completed again after the re-drive");
    let response = http
        .post(rig.gateway().url(&format!("/v1/jobs/{job_id}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        422,
        "only failed jobs can be re-driven"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_payloads_fail_cleanly_and_the_worker_goes_on() {
    let rig = Rig::builder("poison").start().await;
    let body = post(&rig, "poison", photos(&rig.media, 3, (32, 32))).await;
    // Corrupt two queued jobs' payloads in Redis before any worker runs.
    let mut conn = rig.redis.connection().await;
    let queue = finishline_bus::Keys::new(&rig.prefix).queue_keys(finishline_wire::JobKind::Photo);
    let first = body["jobs"][0]["jobId"].as_str().unwrap();
    let second = body["jobs"][1]["jobId"].as_str().unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&queue.data)
        .arg(first)
        .arg(format!(r#"{{"jobId":"{first}","eventId":42}}"#))
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&queue.data)
        .arg(second)
        .arg(b"\xff\xfe not json".as_slice())
        .query_async(&mut conn)
        .await
        .unwrap();
    let worker = rig.start_worker(&[]).await;
    rig.wait_snapshot(
        "poison",
        "the good job and the recognisable poison job end",
        |c| c.processed_photos == 2,
    )
    .await;
    let history = rig.history("poison").await;
    let failed: Vec<Value> = history
        .iter()
        .filter(|m| m.name.as_str() == "photo:failed")
        .map(data)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["jobId"], first);
    assert_eq!(failed[0]["code"], "invalid_payload");
    assert!(
        worker.log().contains("not a job"),
        "the undecodable one is logged"
    );
    // The worker still serves new jobs.
    post(&rig, "poison-after", photos(&rig.media, 2, (32, 32))).await;
    rig.wait_completed("poison-after", Duration::from_secs(30))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_jobs_survive_two_worker_kills_with_exact_counts() {
    let rig = Rig::builder("chaos").start().await;
    let jobs = photos(&rig.media, 500, (96, 72));
    let first = rig.start_worker(&[]).await;
    let _second = rig.start_worker(&[]).await;
    let _third = rig.start_worker(&[]).await;
    let started = Instant::now();
    post(&rig, "chaos", jobs).await;
    rig.wait_snapshot("chaos", "100 photos processed", |c| {
        c.processed_photos >= 100
    })
    .await;
    first.kill().await;
    let killed_at = Instant::now();
    let replacement = rig.start_worker(&[]).await;
    rig.wait_snapshot("chaos", "250 photos processed", |c| {
        c.processed_photos >= 250
    })
    .await;
    replacement.kill().await;
    rig.wait_completed("chaos", Duration::from_secs(180)).await;
    let history = rig.history("chaos").await;
    assert_exactly_once(
        &history,
        500,
        json!({ "total": 500, "succeeded": 500, "failed": 0, "cancelled": 0 }),
    );
    let runs_started: u64 = {
        let mut conn = rig.redis.connection().await;
        let mut total = 0;
        for m in history
            .iter()
            .filter(|m| m.name.as_str() == "photo:completed")
        {
            let job_id = data(m)["jobId"].as_str().unwrap().to_owned();
            let runs: u64 = redis::cmd("HGET")
                .arg(
                    finishline_bus::Keys::new(&rig.prefix)
                        .job(&finishline_wire::JobId::parse(&job_id).unwrap()),
                )
                .arg("run")
                .query_async(&mut conn)
                .await
                .unwrap();
            total += runs;
        }
        total
    };
    // Each killed worker held running jobs: they ran again elsewhere, and still ended once.
    assert!(
        runs_started > 500,
        "two workers were killed mid-run, yet no job was re-run ({runs_started} runs for 500 jobs)"
    );
    eprintln!(
        "chaos: 500 jobs, 2 workers SIGKILLed, {} runs started ({} re-runs), every job ended once, done in {:?} ({:?} after the first kill)",
        runs_started,
        runs_started - 500,
        started.elapsed(),
        killed_at.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_run_loses_nothing() {
    let mut rig = Rig::builder("redis-restart")
        .persistent_redis()
        .start()
        .await;
    let _a = rig.start_worker(&[]).await;
    let _b = rig.start_worker(&[]).await;
    let client = rig.subscribed_client("redis-restart").await;
    post(&rig, "redis-restart", photos(&rig.media, 200, (96, 72))).await;
    rig.wait_snapshot("redis-restart", "50 photos processed", |c| {
        c.processed_photos >= 50
    })
    .await;
    rig.redis.stop();
    // The fault under test: Redis stays down for 2 s (a duration, not a wait for anything).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restarted = Instant::now();
    rig.redis.start_again().await;
    rig.wait_completed("redis-restart", Duration::from_secs(120))
        .await;
    eprintln!(
        "redis restart: the event completed {:?} after Redis came back",
        restarted.elapsed()
    );
    let history = rig.history("redis-restart").await;
    assert_exactly_once(
        &history,
        200,
        json!({ "total": 200, "succeeded": 200, "failed": 0, "cancelled": 0 }),
    );
    // The gateway resumed from its stream position: the client saw the end, with no duplicate.
    client
        .wait_for("event:completed", Duration::from_secs(30))
        .await;
    let seqs: Vec<u64> = client
        .received()
        .iter()
        .map(|m| m.data["seq"].as_u64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "no duplicate, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reconnecting_with_since_after_a_gateway_restart_misses_nothing() {
    let mut rig = Rig::builder("gateway-restart").start().await;
    let _worker = rig.start_worker(&[]).await;
    let port = rig.gateway().port;
    let first = rig.subscribed_client("gw").await;
    post(&rig, "gw", photos(&rig.media, 120, (96, 72))).await;
    wait_until("some messages arrive", Duration::from_secs(30), || {
        let n = first.received().len();
        async move { n >= 40 }
    })
    .await;
    rig.gateways.remove(0).kill().await;
    let seen: Vec<u64> = first
        .received()
        .iter()
        .map(|m| m.data["seq"].as_u64().unwrap())
        .collect();
    let last_seen = *seen.last().unwrap();
    // Progress goes on while no gateway serves the client: the resume must cover it.
    let event = EventId::parse("gw").unwrap();
    wait_until(
        "20 messages published while no gateway runs",
        Duration::from_secs(30),
        || {
            let snapshot = rig.bus.snapshot(&event);
            async move { snapshot.await.is_ok_and(|s| s.last_seq >= last_seen + 20) }
        },
    )
    .await;
    let restarted = rig.start_gateway_on(port).await;
    let second = finishline_tests::SocketClient::connect(&restarted.url(""), None).await;
    let ack = second
        .call(
            "subscribe:event",
            json!({ "eventId": "gw", "since": last_seen }),
        )
        .await;
    assert_eq!(ack["recovered"], true, "{ack}");
    second
        .wait_for("event:completed", Duration::from_secs(60))
        .await;
    let mut all = seen.clone();
    all.extend(
        second
            .received()
            .iter()
            .map(|m| m.data["seq"].as_u64().unwrap()),
    );
    let last = rig
        .bus
        .snapshot(&EventId::parse("gw").unwrap())
        .await
        .unwrap()
        .last_seq;
    assert_eq!(
        all,
        (1..=last).collect::<Vec<_>>(),
        "no gap and no duplicate across the restart"
    );
    eprintln!(
        "gateway restart: {} messages before, {} replayed/live after, 0 gaps, 0 duplicates",
        seen.len(),
        all.len() - seen.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_running_job_finish_and_the_worker_exits_zero() {
    let rig = Rig::builder("sigterm").start().await;
    let worker = rig.start_worker(&["--shutdown-grace", "60s"]).await;
    post(&rig, "sigterm", photos(&rig.media, 1, (3000, 2000))).await;
    rig.wait_message("sigterm", "photo:progress").await;
    let code = worker.terminate(Duration::from_secs(60)).await;
    assert_eq!(code, Some(0), "the worker exits 0 after SIGTERM");
    let history = rig.history("sigterm").await;
    assert_exactly_once(
        &history,
        1,
        json!({ "total": 1, "succeeded": 1, "failed": 0, "cancelled": 0 }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_cancelled_stops_at_its_next_stage_boundary() {
    let rig = Rig::builder("cancel-running").start().await;
    let worker = rig.start_worker(&[]).await;
    let body = post(&rig, "cancel-running", photos(&rig.media, 1, (3000, 2000))).await;
    let job_id = body["jobs"][0]["jobId"].as_str().unwrap().to_owned();
    rig.wait_message("cancel-running", "photo:progress").await;
    let response: Value = reqwest::Client::new()
        .post(rig.gateway().url(&format!("/v1/jobs/{job_id}/cancel")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["cancelled"], true, "{response}");
    wait_until(
        "the worker notices at the next stage boundary",
        Duration::from_secs(60),
        || {
            let stopped = worker.log().contains("newer run owns this job");
            async move { stopped }
        },
    )
    .await;
    let history = rig.history("cancel-running").await;
    let terminal = assert_exactly_once(
        &history,
        1,
        json!({ "total": 1, "succeeded": 0, "failed": 0, "cancelled": 1 }),
    );
    assert_eq!(terminal["c0000"], "photo:cancelled");
    assert_eq!(rig.job(&job_id).await["state"], "cancelled");
}
