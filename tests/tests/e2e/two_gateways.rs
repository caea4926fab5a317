//! Two gateways on one Redis, as the design runs them behind a load balancer: every gateway
//! tails the same progress stream, so a client whose gateway dies resumes on another with
//! `since` and misses nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use finishline_tests::{Rig, SocketClient, wait_until, write_photo};
use finishline_wire::EventId;
use serde_json::{Value, json};

const PHOTOS: u64 = 120;

fn seqs(client: &SocketClient) -> Vec<u64> {
    client
        .received()
        .iter()
        .map(|m| m.data["seq"].as_u64().expect("every message has a seq"))
        .collect()
}

fn photos(media: &Path, n: u64) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| {
            let name = format!("g{i:04}.png");
            write_photo(&media.join(&name), 96, 72, [200, 40, 40], [40, 40, 200]);
            json!({ "photoId": format!("g{i:04}"), "source": { "path": name } })
        })
        .collect();
    json!({ "photos": list })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_a_killed_gateway_resumes_on_another_with_since_and_sees_every_seq_once() {
    let mut rig = Rig::builder("two-gateways").gateways(2).start().await;
    let event = "two-gw";
    let event_id = EventId::parse(event).unwrap();
    let bus = rig.bus.clone();
    let b = rig.gateways.pop().expect("gateway B");
    let a = rig.gateways.pop().expect("gateway A");
    // A watcher that stays on B the whole time: B relays the live stream while A serves.
    let watcher = SocketClient::connect(&b.url(""), None).await;
    let ack = watcher
        .call("subscribe:event", json!({ "eventId": event }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");

    // Enqueue through A, then subscribe on A from the start (since 0: replay, then live).
    let response = reqwest::Client::new()
        .post(a.url(&format!("/v1/events/{event}/photos")))
        .json(&photos(&rig.media, PHOTOS))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let client = SocketClient::connect(&a.url(""), None).await;
    let ack = client
        .call("subscribe:event", json!({ "eventId": event, "since": 0 }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["recovered"], true, "{ack}");

    // One worker, two jobs at a time: the event lasts long enough to kill A in its middle.
    let _worker = rig.start_worker(&["--concurrency", "2"]).await;
    let bus_wait = bus.clone();
    let id = event_id.clone();
    wait_until("20 photos processed", Duration::from_secs(60), move || {
        let bus = bus_wait.clone();
        let id = id.clone();
        async move {
            bus.snapshot(&id)
                .await
                .is_ok_and(|s| s.counts.processed_photos >= 20)
        }
    })
    .await;
    a.kill().await;
    let killed_at = Instant::now();
    let at_kill = bus.snapshot(&event_id).await.unwrap();
    assert!(
        at_kill.counts.processed_photos < PHOTOS,
        "gateway A must die mid-event ({} of {PHOTOS} processed)",
        at_kill.counts.processed_photos
    );
    let seen_on_a = seqs(&client);
    let last_seen = *seen_on_a.last().expect("A relayed messages before it died");
    assert_eq!(
        seen_on_a,
        (1..=last_seen).collect::<Vec<_>>(),
        "A relayed every seq once, in order, until it died"
    );

    // The client resumes on B from the last seq it saw.
    let resumed = SocketClient::connect(&b.url(""), None).await;
    let ack = resumed
        .call(
            "subscribe:event",
            json!({ "eventId": event, "since": last_seen }),
        )
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["recovered"], true, "{ack}");
    wait_until(
        "the first message after the hand-over",
        Duration::from_secs(30),
        || {
            let any = !resumed.received().is_empty();
            async move { any }
        },
    )
    .await;
    let recovery = killed_at.elapsed();
    resumed
        .wait_for("event:completed", Duration::from_secs(120))
        .await;
    watcher
        .wait_for("event:completed", Duration::from_secs(30))
        .await;
    let end = bus.snapshot(&event_id).await.unwrap();
    // Both clients leave the event: once the gateway acks, everything it sent them (a late
    // duplicate included) has arrived before the ack, and nothing of the event follows it.
    for c in [&resumed, &watcher] {
        let ack = c
            .call("unsubscribe:event", json!({ "eventId": event }))
            .await;
        assert_eq!(ack["success"], true, "{ack}");
    }

    let counts = end.counts;
    assert_eq!(
        (
            counts.total_photos,
            counts.processed_photos,
            counts.succeeded,
            counts.failed,
            counts.cancelled
        ),
        (PHOTOS, PHOTOS, PHOTOS, 0, 0),
        "every photo counted once"
    );
    let last = end.last_seq;
    // Conflated progress is never stamped, so the seqs Redis handed out are 1..=last.
    let mut all = seen_on_a.clone();
    all.extend(seqs(&resumed));
    assert_eq!(
        all,
        (1..=last).collect::<Vec<_>>(),
        "across the move from A to B: every seq exactly once, in order"
    );
    assert_eq!(
        seqs(&watcher),
        (1..=last).collect::<Vec<_>>(),
        "B's own client saw every seq exactly once"
    );
    let completed = |c: &SocketClient| {
        c.received()
            .iter()
            .filter(|m| m.name == "event:completed")
            .count()
    };
    assert_eq!(
        completed(&client) + completed(&resumed),
        1,
        "one event:completed"
    );
    assert_eq!(completed(&watcher), 1, "one event:completed on B");
    let terminal = |c: &SocketClient| {
        c.received()
            .iter()
            .filter(|m| m.name == "photo:completed")
            .count() as u64
    };
    assert_eq!(
        terminal(&client) + terminal(&resumed),
        PHOTOS,
        "one photo:completed per photo"
    );
    let history = bus
        .history_range(&event_id, 0, u64::MAX, 100_000)
        .await
        .unwrap();
    assert_eq!(history.len() as u64, last, "history holds every seq");
    eprintln!(
        "two gateways: A SIGKILLed at {}/{PHOTOS} photos after seq {last_seen}; the client resumed on B with since and got its first message {:.3} s after the kill; {} + {} = {last} messages, 0 lost, 0 duplicated, 1 event:completed",
        at_kill.counts.processed_photos,
        recovery.as_secs_f64(),
        seen_on_a.len(),
        all.len() - seen_on_a.len(),
    );
    drop(b);
}
