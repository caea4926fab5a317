//! `enqueue.lua`: jobs created, queued and announced, idempotently per media id.

use finishline_redis::scripts::enqueue::{Enqueue, NewJob};
use finishline_wire::{EventId, JobId, JobKind, MediaId, RequestId, UserId};

use crate::server::Server;
use crate::{cmd, keys, limits, stream};

/// Enqueues photos `media` of `event` with fresh job ids `<media>-<round>`; returns the
/// script's answer.
pub async fn enqueue(
    conn: &mut redis::aio::MultiplexedConnection,
    event: &str,
    media: &[&str],
    round: u32,
    owner: Option<&str>,
) -> Vec<(String, bool)> {
    let keys = keys();
    let event = EventId::parse(event).unwrap();
    let media: Vec<MediaId> = media.iter().map(|m| MediaId::parse(*m).unwrap()).collect();
    let jobs: Vec<NewJob<'_>> = media
        .iter()
        .map(|m| NewJob {
            media_id: m,
            job: keys.job_keys(&JobId::parse(format!("{m}-{round}")).unwrap()),
            payload: format!("{{\"jobId\":\"{m}-{round}\"}}").into_bytes(),
        })
        .collect();
    let owner = owner.map(|o| UserId::parse(o).unwrap());
    Enqueue {
        event: &keys.event_keys(&event),
        media_index: &keys.media_index(&event, JobKind::Photo),
        queue: &keys.queue_keys(JobKind::Photo),
        kind: JobKind::Photo,
        request_id: &RequestId::parse("req-1").unwrap(),
        owner: owner.as_ref(),
        ts: "2026-01-01T00:00:00Z",
        limits: &limits(),
    }
    .run(conn, &jobs)
    .await
    .unwrap()
}

#[tokio::test]
async fn enqueue_creates_queues_and_announces_each_job_once_per_media() {
    let server = Server::start();
    let mut conn = server.conn().await;
    let keys = keys();
    let event = EventId::parse("race").unwrap();
    let queue = keys.queue_keys(JobKind::Photo);

    let first = enqueue(&mut conn, "race", &["p1", "p2"], 1, Some("ana")).await;
    assert_eq!(
        first,
        [("p1-1".to_owned(), true), ("p2-1".to_owned(), true)]
    );
    // Again with p2 and a new p3: p2 keeps its job, only p3 is created.
    let second = enqueue(&mut conn, "race", &["p2", "p3"], 2, None).await;
    assert_eq!(
        second,
        [("p2-1".to_owned(), false), ("p3-2".to_owned(), true)]
    );

    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(waiting, ["p1-1", "p2-1", "p3-2"]);
    let payload: String = cmd(&mut conn, &["HGET", &queue.data, "p3-2"]).await;
    assert_eq!(payload, "{\"jobId\":\"p3-2\"}");
    let job = keys.job(&JobId::parse("p1-1").unwrap());
    let fields: Vec<Option<String>> = cmd(
        &mut conn,
        &[
            "HMGET", &job, "state", "eventId", "mediaId", "kind", "owner",
        ],
    )
    .await;
    assert_eq!(
        fields,
        ["queued", "race", "p1", "photo", "ana"].map(|f| Some(f.to_owned()))
    );
    let counts: Vec<Option<u64>> = cmd(
        &mut conn,
        &["HMGET", &keys.event(&event), "totalPhotos", "seq"],
    )
    .await;
    assert_eq!(counts, [Some(3), Some(5)]);

    let history = stream(&mut conn, &keys.history(&event)).await;
    let names: Vec<&str> = history.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "job:queued",
            "job:queued",
            "event:progress",
            "job:queued",
            "event:progress"
        ]
    );
    let seqs: Vec<u64> = history
        .iter()
        .map(|(_, d)| d["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(history[3].1["position"], 3, "p3 is third in the queue");
    assert_eq!(history[4].1["totalPhotos"], 3);
    assert_eq!(
        stream(&mut conn, &keys.progress_stream()).await,
        history,
        "the progress stream carries the same messages"
    );
    let owner: Option<String> = redis::cmd("XRANGE")
        .arg(keys.progress_stream())
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(1)
        .query_async::<redis::streams::StreamRangeReply>(&mut conn)
        .await
        .unwrap()
        .ids[0]
        .get("o");
    assert_eq!(owner.as_deref(), Some("ana"));
    let job_history: Vec<String> = cmd(
        &mut conn,
        &[
            "LRANGE",
            &keys.job_history(&JobId::parse("p1-1").unwrap()),
            "0",
            "-1",
        ],
    )
    .await;
    assert_eq!(job_history.len(), 1);
    for key in [
        keys.event(&event),
        keys.history(&event),
        keys.media_index(&event, JobKind::Photo),
        job,
    ] {
        let ttl: i64 = cmd(&mut conn, &["TTL", &key]).await;
        assert!(ttl > 0, "{key} expires ({ttl})");
    }
}
