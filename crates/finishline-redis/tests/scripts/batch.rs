//! `batch.lua`: run starts, progress, job ends (the worker's and the gateway's cancel),
//! settling, the bib index step; and `redrive.lua`.

use finishline_redis::scripts::batch::{
    Batch, BibStep, End, Ended, Published, Reply, Settle, Started, Step,
};
use finishline_redis::scripts::{fetch, redrive};
use finishline_wire::{EventId, JobId, JobKind, JobState, MessageName, Stage};
use redis::aio::MultiplexedConnection;
use serde_json::json;

use crate::enqueue::enqueue;
use crate::server::Server;
use crate::{cmd, keys, limits, stream};

const TS: &str = "2026-01-01T00:00:01Z";

fn job(id: &str) -> finishline_redis::JobKeys {
    keys().job_keys(&JobId::parse(id).unwrap())
}

fn event(id: &str) -> finishline_redis::EventKeys {
    keys().event_keys(&EventId::parse(id).unwrap())
}

fn step(run: u64, progress: u8) -> Step<'static> {
    Step {
        run,
        name: MessageName::PhotoProgress,
        body: r#"{"stage":"ocr"}"#,
        ts: TS,
        stage: Stage::Ocr,
        progress,
    }
}

fn end(run: u64, state: JobState) -> End<'static> {
    let name = match state {
        JobState::Succeeded => MessageName::PhotoCompleted,
        JobState::Cancelled => MessageName::PhotoCancelled,
        _ => MessageName::PhotoFailed,
    };
    End {
        run,
        state,
        name,
        body: r#"{"photoId":"x"}"#,
        ts: TS,
        result: if state == JobState::Succeeded {
            "{}"
        } else {
            ""
        },
        error: if state == JobState::Failed {
            "broken"
        } else {
            ""
        },
    }
}

async fn start(conn: &mut MultiplexedConnection, event_id: &str, job_id: &str) -> Started {
    let mut batch = Batch::new(&limits());
    batch.start(&event(event_id), &job(job_id), TS);
    match batch.run(conn).await.unwrap()[..] {
        [Reply::Start(started)] => started,
        ref other => panic!("{other:?}"),
    }
}

async fn finish(
    conn: &mut MultiplexedConnection,
    event_id: &str,
    job_id: &str,
    end: End<'_>,
) -> Ended {
    let mut batch = Batch::new(&limits());
    batch.finish(&event(event_id), &job(job_id), &end, None, None);
    match batch.run(conn).await.unwrap()[..] {
        [Reply::Finish(ended)] => ended,
        ref other => panic!("{other:?}"),
    }
}

async fn names(conn: &mut MultiplexedConnection, event_id: &str) -> Vec<String> {
    let key = keys().history(&EventId::parse(event_id).unwrap());
    stream(conn, &key)
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

#[tokio::test]
async fn a_job_starts_reports_progress_and_ends_exactly_once_and_the_event_completes_once() {
    let server = Server::start();
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1", "p2"], 1, None).await;
    let (race, p1, p2) = (event("race"), job("p1-1"), job("p2-1"));

    let mut batch = Batch::new(&limits());
    batch.start(&race, &p1, TS);
    batch.start(&race, &p2, TS);
    batch.progress(&race, &p1, &step(1, 33));
    batch.finish(&race, &p1, &end(1, JobState::Succeeded), None, None);
    batch.finish(&race, &p1, &end(1, JobState::Succeeded), None, None);
    batch.progress(&race, &p1, &step(1, 66));
    assert_eq!(batch.len(), 6);
    let replies = batch.run(&mut conn).await.unwrap();
    assert_eq!(
        replies,
        [
            Reply::Start(Started::Run { run: 1, attempt: 1 }),
            Reply::Start(Started::Run { run: 1, attempt: 1 }),
            Reply::Progress(Published::Seq(6)),
            Reply::Finish(Ended::Now),
            Reply::Finish(Ended::Already),
            Reply::Progress(Published::Ended),
        ]
    );
    assert_eq!(start(&mut conn, "race", "p1-1").await, Started::Ended);
    assert_eq!(
        finish(&mut conn, "race", "p2-1", end(1, JobState::Failed)).await,
        Ended::Now
    );

    assert_eq!(
        names(&mut conn, "race").await,
        [
            "job:queued",
            "job:queued",
            "event:progress",
            "job:started",
            "job:started",
            "photo:progress",
            "photo:completed",
            "event:progress",
            "photo:failed",
            "event:progress",
            "event:completed"
        ]
    );
    let history = stream(&mut conn, &keys().history(&race.id)).await;
    let seqs: Vec<u64> = history
        .iter()
        .map(|(_, d)| d["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<_>>());
    assert_eq!(
        history[10].1["summary"],
        json!({ "total": 2, "succeeded": 1, "failed": 1, "cancelled": 0 })
    );
    assert_eq!(history[7].1["processedPhotos"], 1);
    let relayed = stream(&mut conn, &keys().progress_stream()).await;
    assert_eq!(
        relayed, history,
        "the progress stream carries the same order"
    );
    let counts: Vec<Option<u64>> = cmd(
        &mut conn,
        &[
            "HMGET",
            &race.event,
            "processedPhotos",
            "succeeded",
            "failed",
            "seq",
        ],
    )
    .await;
    assert_eq!(counts, [Some(2), Some(1), Some(1), Some(11)]);
    let failed: Vec<String> = cmd(&mut conn, &["ZRANGE", &race.failed, "0", "-1"]).await;
    assert_eq!(failed, ["p2-1"]);
    let state: Vec<Option<String>> = cmd(&mut conn, &["HMGET", &p2.job, "state", "error"]).await;
    assert_eq!(state, [Some("failed".into()), Some("broken".into())]);
    let job_history: Vec<String> = cmd(&mut conn, &["LRANGE", &p1.history, "0", "-1"]).await;
    assert_eq!(job_history.len(), 4, "queued, started, progress, completed");
}

#[tokio::test]
async fn a_newer_run_fences_off_the_older_one_and_cancellation_ends_any_run() {
    let server = Server::start();
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1", "p2"], 1, None).await;
    assert_eq!(
        start(&mut conn, "race", "p1-1").await,
        Started::Run { run: 1, attempt: 1 }
    );
    assert_eq!(
        start(&mut conn, "race", "p1-1").await,
        Started::Run { run: 2, attempt: 2 }
    );
    let mut batch = Batch::new(&limits());
    batch.progress(&event("race"), &job("p1-1"), &step(1, 33));
    batch.finish(
        &event("race"),
        &job("p1-1"),
        &end(1, JobState::Succeeded),
        None,
        None,
    );
    batch.progress(&event("race"), &job("p1-1"), &step(2, 33));
    assert_eq!(
        batch.run(&mut conn).await.unwrap(),
        [
            Reply::Progress(Published::Superseded),
            Reply::Finish(Ended::Superseded),
            Reply::Progress(Published::Seq(6)),
        ]
    );
    // The gateway's cancel: run 0 ends the job whatever runs; once.
    assert_eq!(
        finish(&mut conn, "race", "p1-1", end(0, JobState::Cancelled)).await,
        Ended::Now
    );
    assert_eq!(
        finish(&mut conn, "race", "p1-1", end(2, JobState::Succeeded)).await,
        Ended::Already
    );
    assert_eq!(
        finish(&mut conn, "race", "p2-1", end(0, JobState::Cancelled)).await,
        Ended::Now
    );
    let counts: Vec<Option<u64>> = cmd(
        &mut conn,
        &[
            "HMGET",
            &event("race").event,
            "processedPhotos",
            "cancelled",
            "succeeded",
        ],
    )
    .await;
    assert_eq!(counts, [Some(2), Some(2), None]);
    let completed = names(&mut conn, "race")
        .await
        .iter()
        .filter(|n| *n == "event:completed")
        .count();
    assert_eq!(completed, 1);
    // Unknown jobs neither start nor end.
    assert_eq!(start(&mut conn, "race", "nope").await, Started::Ended);
    assert_eq!(
        finish(&mut conn, "race", "nope", end(0, JobState::Cancelled)).await,
        Ended::Already
    );
}

#[tokio::test]
async fn an_operation_naming_another_event_than_its_jobs_writes_nothing() {
    let server = Server::start();
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1"], 1, None).await;
    assert_eq!(start(&mut conn, "other", "p1-1").await, Started::WrongEvent);
    assert_eq!(
        start(&mut conn, "race", "p1-1").await,
        Started::Run { run: 1, attempt: 1 }
    );
    let mut batch = Batch::new(&limits());
    batch.progress(&event("other"), &job("p1-1"), &step(1, 33));
    batch.finish(
        &event("other"),
        &job("p1-1"),
        &end(1, JobState::Succeeded),
        None,
        None,
    );
    assert_eq!(
        batch.run(&mut conn).await.unwrap(),
        [
            Reply::Progress(Published::WrongEvent),
            Reply::Finish(Ended::WrongEvent)
        ]
    );
    assert!(names(&mut conn, "other").await.is_empty());
    let exists: u8 = cmd(&mut conn, &["EXISTS", &event("other").event]).await;
    assert_eq!(exists, 0);
}

#[tokio::test]
async fn a_job_end_settles_its_delivery_only_for_the_worker_that_holds_it() {
    let server = Server::start();
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1", "p2", "p3"], 1, None).await;
    let queue = keys().queue_keys(JobKind::Photo);
    fetch::fetch(&mut conn, &queue, "w1", 3, 1).await.unwrap();
    for id in ["p1-1", "p2-1"] {
        start(&mut conn, "race", id).await;
    }
    let mut batch = Batch::new(&limits());
    let settle = |task_id| Settle {
        queue: &queue,
        worker: "w1",
        task_id,
    };
    batch.finish(
        &event("race"),
        &job("p1-1"),
        &end(1, JobState::Succeeded),
        Some(settle("p1-1")),
        None,
    );
    // p2's run is superseded: its delivery is settled all the same.
    batch.finish(
        &event("race"),
        &job("p2-1"),
        &end(7, JobState::Succeeded),
        Some(settle("p2-1")),
        None,
    );
    // w2 does not hold p3: nothing is settled.
    batch.settle(Settle {
        queue: &queue,
        worker: "w2",
        task_id: "p3-1",
    });
    assert_eq!(batch.len(), 3);
    assert_eq!(
        batch.run(&mut conn).await.unwrap(),
        [Reply::Finish(Ended::Now), Reply::Finish(Ended::Superseded)]
    );
    let held: Vec<String> = cmd(&mut conn, &["SMEMBERS", &queue.inflight("w1")]).await;
    assert_eq!(held, ["p3-1"]);
    let payloads: Vec<String> = cmd(&mut conn, &["HKEYS", &queue.data]).await;
    assert_eq!(payloads, ["p3-1"]);
    let mut batch = Batch::new(&limits());
    batch.settle(settle("p3-1"));
    assert!(batch.run(&mut conn).await.unwrap().is_empty());
    let payloads: u64 = cmd(&mut conn, &["HLEN", &queue.data]).await;
    assert_eq!(payloads, 0);
}

#[tokio::test]
async fn bibs_are_indexed_only_by_the_call_that_ends_the_job_as_succeeded() {
    let server = Server::start();
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1", "p2"], 1, None).await;
    let race = EventId::parse("race").unwrap();
    let index_keys = keys().bib_index(&race);
    let sightings = [(1234, "p", r#"{"photoId":"p1"}"#.to_owned())];
    for id in ["p1-1", "p2-1"] {
        start(&mut conn, "race", id).await;
    }
    for _ in 0..2 {
        let mut batch = Batch::new(&limits());
        let bibs = BibStep {
            keys: &index_keys,
            sightings: &sightings,
        };
        batch.finish(
            &event("race"),
            &job("p1-1"),
            &end(1, JobState::Succeeded),
            None,
            Some(bibs),
        );
        batch.finish(
            &event("race"),
            &job("p2-1"),
            &end(1, JobState::Failed),
            None,
            Some(bibs),
        );
        batch.run(&mut conn).await.unwrap();
    }
    let members: Vec<String> = cmd(&mut conn, &["ZRANGE", &index_keys[0], "0", "-1"]).await;
    // p1's terminal message: 2 queued + event:progress + 2 started, then photo:completed.
    assert_eq!(members, [r#"1234:000000000006:p:{"photoId":"p1"}"#]);
    let numbers: Vec<String> = cmd(&mut conn, &["ZRANGE", &index_keys[1], "0", "-1"]).await;
    assert_eq!(numbers, ["1234"]);
    let count: u64 = cmd(&mut conn, &["HGET", &index_keys[2], "p:1234"]).await;
    assert_eq!(count, 1, "indexed once, by the succeeded end only");
    for key in &index_keys {
        let ttl: i64 = cmd(&mut conn, &["TTL", key]).await;
        assert!(ttl > 0, "{key} expires");
    }
}

#[tokio::test]
async fn one_batch_serves_several_events_with_one_event_progress_each() {
    let server = Server::start();
    let mut conn = server.conn().await;
    enqueue(&mut conn, "a", &["a1", "a2", "a3"], 1, None).await;
    enqueue(&mut conn, "b", &["b1", "b2"], 1, None).await;
    let mut batch = Batch::new(&limits());
    for (ev, id) in [("a", "a1-1"), ("b", "b1-1"), ("a", "a2-1"), ("b", "b2-1")] {
        batch.start(&event(ev), &job(id), TS);
        batch.finish(
            &event(ev),
            &job(id),
            &end(1, JobState::Succeeded),
            None,
            None,
        );
    }
    batch.run(&mut conn).await.unwrap();
    let a = names(&mut conn, "a").await;
    assert_eq!(
        a.iter().filter(|n| *n == "event:progress").count(),
        2,
        "{a:?}"
    );
    assert!(!a.contains(&"event:completed".to_owned()), "a3 is left");
    let b = names(&mut conn, "b").await;
    assert_eq!(&b[b.len() - 2..], ["event:progress", "event:completed"]);
    assert_eq!(b.iter().filter(|n| *n == "event:progress").count(), 2);
}

#[tokio::test]
async fn a_failed_job_is_re_driven_once_and_counted_out_of_the_failures() {
    let server = Server::start();
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1"], 1, None).await;
    start(&mut conn, "race", "p1-1").await;
    let queue = keys().queue_keys(JobKind::Photo);
    let redrive = |conn: &mut MultiplexedConnection| {
        let (race, p1, queue) = (event("race"), job("p1-1"), queue.clone());
        let mut conn = conn.clone();
        async move {
            redrive::redrive(&mut conn, &race, &p1, &queue, "t2", TS, &limits())
                .await
                .unwrap()
        }
    };
    assert!(!redrive(&mut conn).await, "a running job is not re-driven");
    assert_eq!(
        finish(&mut conn, "race", "p1-1", end(1, JobState::Failed)).await,
        Ended::Now
    );
    assert!(redrive(&mut conn).await);
    assert!(!redrive(&mut conn).await, "once");
    let race = event("race");
    let counts: Vec<Option<i64>> = cmd(
        &mut conn,
        &[
            "HMGET",
            &race.event,
            "processedPhotos",
            "failed",
            "totalPhotos",
        ],
    )
    .await;
    assert_eq!(counts, [Some(0), Some(0), Some(1)]);
    let failed: u64 = cmd(&mut conn, &["ZCARD", &race.failed]).await;
    assert_eq!(failed, 0);
    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(waiting, ["p1-1", "t2"]);
    let history = names(&mut conn, "race").await;
    assert_eq!(
        &history[history.len() - 2..],
        ["job:queued", "event:progress"]
    );
    assert_eq!(
        start(&mut conn, "race", "p1-1").await,
        Started::Run { run: 2, attempt: 1 }
    );
}
