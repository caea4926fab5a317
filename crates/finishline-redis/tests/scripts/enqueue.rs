//! `enqueue.lua` and `push.lua`: jobs created, announced and queued, idempotently per media
//! id; an enqueue that stopped between its two calls is completed by enqueuing again.

use finishline_redis::group_of;
use finishline_redis::repair::{Repaired, repair_group};
use finishline_redis::scripts::enqueue::{Enqueue, NewJob};
use finishline_wire::{EventId, JobId, JobKind, MediaId, RequestId, UserId};

use crate::server::Server;
use crate::{cmd, jid, keys, limits, stream};

/// Enqueues photos `media` of `event` with fresh job ids `jid(event, "<media>-<round>")`;
/// returns the answer.
pub async fn enqueue(
    conn: &mut redis::aio::MultiplexedConnection,
    event: &str,
    media: &[&str],
    round: u32,
    owner: Option<&str>,
) -> Vec<(String, bool)> {
    let keys = keys();
    let event_name = event;
    let event = EventId::parse(event).unwrap();
    let media: Vec<MediaId> = media.iter().map(|m| MediaId::parse(*m).unwrap()).collect();
    let jobs: Vec<NewJob<'_>> = media
        .iter()
        .map(|m| {
            let id = jid(event_name, &format!("{m}-{round}"));
            NewJob {
                media_id: m,
                job: keys.job_keys(&JobId::parse(&id).unwrap()),
                payload: format!("{{\"jobId\":\"{id}\"}}").into_bytes(),
            }
        })
        .collect();
    let owner = owner.map(|o| UserId::parse(o).unwrap());
    Enqueue {
        keys: &keys,
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

on_both!(
    enqueue_creates_queues_and_announces_each_job_once_per_media,
    an_enqueue_stopped_before_its_push_is_completed_by_enqueuing_again,
    the_repair_sweep_pushes_what_an_enqueue_stopped_before_its_push_left_once,
);

async fn enqueue_creates_queues_and_announces_each_job_once_per_media(server: Server) {
    let mut conn = server.conn().await;
    let keys = keys();
    let event = EventId::parse("race").unwrap();
    let queue = keys.queue_keys(JobKind::Photo);
    let id = |name| jid("race", name);

    let first = enqueue(&mut conn, "race", &["p1", "p2"], 1, Some("ana")).await;
    assert_eq!(first, [(id("p1-1"), true), (id("p2-1"), true)]);
    // Again with p2 and a new p3: p2 keeps its job, only p3 is created.
    let second = enqueue(&mut conn, "race", &["p2", "p3"], 2, None).await;
    assert_eq!(second, [(id("p2-1"), false), (id("p3-2"), true)]);

    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(waiting, [id("p1-1"), id("p2-1"), id("p3-2")]);
    let payload: String = cmd(&mut conn, &["HGET", &queue.data, &id("p3-2")]).await;
    assert_eq!(payload, format!("{{\"jobId\":\"{}\"}}", id("p3-2")));
    let job = keys.job(&JobId::parse(id("p1-1")).unwrap());
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
        stream(&mut conn, &keys.progress_stream(&event)).await,
        history,
        "the progress stream carries the same messages"
    );
    let owner: Option<String> = redis::cmd("XRANGE")
        .arg(keys.progress_stream(&event))
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
            &keys.job_history(&JobId::parse(id("p1-1")).unwrap()),
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

async fn an_enqueue_stopped_before_its_push_is_completed_by_enqueuing_again(server: Server) {
    let mut conn = server.conn().await;
    let keys = keys();
    let queue = keys.queue_keys(JobKind::Photo);
    let (p1, p2) = (jid("race", "p1-1"), jid("race", "p2-1"));
    enqueue(&mut conn, "race", &["p1", "p2"], 1, None).await;
    // As if the producer had stopped after the event side: no task for either job.
    let _: () = cmd(&mut conn, &["DEL", &queue.active, &queue.data]).await;
    // p2 was taken meanwhile by another way (a run started): it is not pushed again.
    let p2_key = keys.job(&JobId::parse(&p2).unwrap());
    let _: () = cmd(&mut conn, &["HSET", &p2_key, "run", "1"]).await;

    let again = enqueue(&mut conn, "race", &["p1", "p2"], 2, None).await;
    assert_eq!(again, [(p1.clone(), false), (p2, false)]);
    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(
        waiting,
        std::slice::from_ref(&p1),
        "the unstarted job is pushed with its payload"
    );
    let payload: String = cmd(&mut conn, &["HGET", &queue.data, &p1]).await;
    assert_eq!(payload, format!("{{\"jobId\":\"{p1}\"}}"));
    // Once: a third enqueue finds its task waiting.
    enqueue(&mut conn, "race", &["p1"], 3, None).await;
    let waiting: u64 = cmd(&mut conn, &["LLEN", &queue.active]).await;
    assert_eq!(waiting, 1);
    let event = EventId::parse("race").unwrap();
    let total: u64 = cmd(&mut conn, &["HGET", &keys.event(&event), "totalPhotos"]).await;
    assert_eq!(total, 2, "counted once");
}

async fn the_repair_sweep_pushes_what_an_enqueue_stopped_before_its_push_left_once(server: Server) {
    let mut conn = server.conn().await;
    let keys = keys();
    let queue = keys.queue_keys(JobKind::Photo);
    let group = group_of("race");
    let enqueued = keys.enqueued(group, JobKind::Photo);
    let (p1, p2) = (jid("race", "p1-1"), jid("race", "p2-1"));
    enqueue(&mut conn, "race", &["p1", "p2"], 1, None).await;
    let noted: Vec<String> = cmd(&mut conn, &["ZRANGE", &enqueued, "0", "-1"]).await;
    assert_eq!(
        noted.len(),
        2,
        "enqueue notes each new job in its group's set"
    );
    // As if the producer had stopped after the event side: no task for either job; p2 was
    // started meanwhile another way (a run), so it is not pushed again.
    let _: () = cmd(&mut conn, &["DEL", &queue.active, &queue.data]).await;
    let p2_key = keys.job(&JobId::parse(&p2).unwrap());
    let _: () = cmd(&mut conn, &["HSET", &p2_key, "run", "1"]).await;

    // Younger than the grace: left alone.
    let early = repair_group(&mut conn, &keys, JobKind::Photo, group, 1, 100).await;
    assert_eq!(early.unwrap(), Repaired::default());
    // Older: checked in chunks of one, the unstarted job pushed with its payload.
    let far_future = 32_503_680_000_000; // year 3000, in Unix ms
    let done = repair_group(&mut conn, &keys, JobKind::Photo, group, far_future, 1).await;
    assert_eq!(
        done.unwrap(),
        Repaired {
            checked: 2,
            pushed: 1
        }
    );
    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(waiting, std::slice::from_ref(&p1));
    let payload: String = cmd(&mut conn, &["HGET", &queue.data, &p1]).await;
    assert_eq!(payload, format!("{{\"jobId\":\"{p1}\"}}"));
    let left: u64 = cmd(&mut conn, &["ZCARD", &enqueued]).await;
    assert_eq!(left, 0, "checked entries are dropped");

    // A whole enqueue: its job is checked and not pushed twice; a sweep that stopped before
    // dropping its entries (noted again by hand) pushes nothing twice either.
    enqueue(&mut conn, "race", &["p3"], 1, None).await;
    let _: () = cmd(&mut conn, &["ZADD", &enqueued, "0", &p1]).await;
    let again = repair_group(&mut conn, &keys, JobKind::Photo, group, far_future, 100).await;
    assert_eq!(
        again.unwrap(),
        Repaired {
            checked: 2,
            pushed: 0
        }
    );
    let waiting: u64 = cmd(&mut conn, &["LLEN", &queue.active]).await;
    assert_eq!(waiting, 2, "p1 and p3, once each");
    let event = EventId::parse("race").unwrap();
    let total: u64 = cmd(&mut conn, &["HGET", &keys.event(&event), "totalPhotos"]).await;
    assert_eq!(total, 3, "counted once");
}
