//! The native WebSocket route: snapshot first, ordered `{ type, data }` frames, ping/pong,
//! replay with `since`, and the same auth as Socket.IO.

use std::time::Duration;

use finishline_bus::ProgressBus;
use finishline_queue::{NewMedia, Producer};
use finishline_tests::{Rig, run_photo_job};
use finishline_wire::{EventId, JobKind, MediaId, MediaSource, RequestId};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(text.as_str()).expect("JSON frame");
        }
    }
}

async fn run_one_photo(bus: &ProgressBus, producer: &Producer, event: &EventId, photo: &str) {
    let enqueued = producer
        .enqueue(
            event,
            &RequestId::parse("req-ws").unwrap(),
            JobKind::Photo,
            None,
            &[NewMedia {
                media_id: MediaId::parse(photo).unwrap(),
                source: MediaSource::Path(format!("{photo}.jpg")),
            }],
        )
        .await
        .unwrap();
    assert!(run_photo_job(bus, &enqueued[0].job_id, photo).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_route_sends_a_snapshot_then_every_message_in_order_and_answers_ping() {
    let rig = Rig::builder("native").jwt(&[]).start().await;
    let (bus, producer) = (&rig.bus, rig.producer().await);
    let event = EventId::parse("ws-race").unwrap();
    run_one_photo(bus, &producer, &event, "a").await; // seq 1..=9

    let token = |events: Value| finishline_tests::token(json!({ "events": events }));
    let base = format!("ws://{}/ws/events/ws-race", rig.gateway().addr);

    // Refused without a token, and with a token for another event.
    assert!(
        tokio_tungstenite::connect_async(base.clone())
            .await
            .is_err()
    );
    let other = format!("{base}?token={}", token(json!(["other"])));
    assert!(tokio_tungstenite::connect_async(other).await.is_err());

    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "{base}?token={}&since=3",
        token(json!(["ws-race"]))
    ))
    .await
    .expect("connect");
    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["recovered"], true);
    assert_eq!(snapshot["data"]["processedPhotos"], 1);
    let mut seqs = Vec::new();
    for _ in 4..=9 {
        let frame = next_json(&mut ws).await;
        seqs.push(frame["data"]["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, [4, 5, 6, 7, 8, 9], "replayed after since, in order");
    run_one_photo(bus, &producer, &event, "b").await; // seq 10..=18, live
    let mut names = Vec::new();
    for expected in 10..=18u64 {
        let frame = next_json(&mut ws).await;
        assert_eq!(frame["data"]["seq"], expected);
        assert_eq!(frame["data"]["requestId"], "req-ws");
        names.push(frame["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        names,
        [
            "job:queued",
            "event:progress",
            "job:started",
            "photo:progress",
            "photo:progress",
            "photo:progress",
            "photo:completed",
            "event:progress",
            "event:completed"
        ]
    );
    ws.send(Message::Text("ping".into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await, json!({ "type": "pong" }));
}
