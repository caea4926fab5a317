//! `batch.lua`: run starts, progress, job ends (the worker's and the gateway's cancel),
//! settling, the bib index step; and `redrive.lua`.

use finishline_redis::group_of;
use finishline_redis::scripts::batch::{
    Batch, BibStep, End, Ended, Published, Reply, Started, Step,
};
use finishline_redis::scripts::settle::{self, Settle};
use finishline_redis::scripts::{fetch, redrive};
use finishline_wire::{EventId, JobId, JobKind, JobState, MessageName, Stage};
use redis::aio::MultiplexedConnection;
use serde_json::json;

use crate::enqueue::enqueue;
use crate::server::Server;
use crate::{cmd, jid, keys, limits, stream};

on_both!(
    a_job_starts_reports_progress_and_ends_exactly_once_and_the_event_completes_once,
    a_newer_run_fences_off_the_older_one_and_cancellation_ends_any_run,
    an_operation_naming_another_event_than_its_jobs_writes_nothing,
    a_delivery_is_settled_only_by_the_worker_that_holds_it,
    bibs_are_indexed_only_by_the_call_that_ends_the_job_as_succeeded,
    one_batch_serves_several_events_with_one_event_progress_each,
    a_failed_job_is_re_driven_once_and_counted_out_of_the_failures,
);

const TS: &str = "2026-01-01T00:00:01Z";

/// The keys of job `name` of `event` (see [`jid`]).
fn job(event: &str, name: &str) -> finishline_redis::JobKeys {
    keys().job_keys(&JobId::parse(jid(event, name)).unwrap())
}

/// An event name in the same group as `event`: one batch serves one group.
fn same_group(event: &str, base: &str) -> String {
    (0..)
        .map(|n| format!("{base}{n}"))
        .find(|e| group_of(e) == group_of(event))
        .expect("some name falls in the group")
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
    batch.start(&event(event_id), &job(event_id, job_id), TS);
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
    batch.finish(&event(event_id), &job(event_id, job_id), &end, None);
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

async fn a_job_starts_reports_progress_and_ends_exactly_once_and_the_event_completes_once(
    server: Server,
) {
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1", "p2"], 1, None).await;
    let (race, p1, p2) = (event("race"), job("race", "p1-1"), job("race", "p2-1"));

    let mut batch = Batch::new(&limits());
    batch.start(&race, &p1, TS);
    batch.start(&race, &p2, TS);
    batch.progress(&race, &p1, &step(1, 33));
    batch.finish(&race, &p1, &end(1, JobState::Succeeded), None);
    batch.finish(&race, &p1, &end(1, JobState::Succeeded), None);
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
    let relayed = stream(&mut conn, &keys().progress_stream(&race.id)).await;
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
    assert_eq!(failed, [p2.id.to_string()]);
    let state: Vec<Option<String>> = cmd(&mut conn, &["HMGET", &p2.job, "state", "error"]).await;
    assert_eq!(state, [Some("failed".into()), Some("broken".into())]);
    let job_history: Vec<String> = cmd(&mut conn, &["LRANGE", &p1.history, "0", "-1"]).await;
    assert_eq!(job_history.len(), 4, "queued, started, progress, completed");
}

async fn a_newer_run_fences_off_the_older_one_and_cancellation_ends_any_run(server: Server) {
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
    let p1 = job("race", "p1-1");
    batch.progress(&event("race"), &p1, &step(1, 33));
    batch.finish(&event("race"), &p1, &end(1, JobState::Succeeded), None);
    batch.progress(&event("race"), &p1, &step(2, 33));
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

async fn an_operation_naming_another_event_than_its_jobs_writes_nothing(server: Server) {
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1"], 1, None).await;
    // Of race's group, as a batch is: only the event named differs.
    let other = same_group("race", "other");
    let other = other.as_str();
    assert_eq!(start(&mut conn, other, "p1-1").await, Started::WrongEvent);
    assert_eq!(
        start(&mut conn, "race", "p1-1").await,
        Started::Run { run: 1, attempt: 1 }
    );
    let mut batch = Batch::new(&limits());
    batch.progress(&event(other), &job("race", "p1-1"), &step(1, 33));
    batch.finish(
        &event(other),
        &job("race", "p1-1"),
        &end(1, JobState::Succeeded),
        None,
    );
    assert_eq!(
        batch.run(&mut conn).await.unwrap(),
        [
            Reply::Progress(Published::WrongEvent),
            Reply::Finish(Ended::WrongEvent)
        ]
    );
    assert!(names(&mut conn, other).await.is_empty());
    let exists: u8 = cmd(&mut conn, &["EXISTS", &event(other).event]).await;
    assert_eq!(exists, 0);
}

async fn a_delivery_is_settled_only_by_the_worker_that_holds_it(server: Server) {
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1", "p2", "p3"], 1, None).await;
    let queue = keys().queue_keys(JobKind::Photo);
    fetch::fetch(&mut conn, &queue, "w1", 3, 1).await.unwrap();
    let [p1, p2, p3] = ["p1-1", "p2-1", "p3-1"].map(|name| jid("race", name));
    let by = |worker, task_id| Settle { worker, task_id };
    // w2 does not hold p3: only w1's two are settled.
    let settled = settle::settle(
        &mut conn,
        &queue,
        &[by("w1", &p1), by("w1", &p2), by("w2", &p3)],
    )
    .await
    .unwrap();
    assert_eq!(settled, 2);
    let held: Vec<String> = cmd(&mut conn, &["SMEMBERS", &queue.inflight("w1")]).await;
    assert_eq!(held, std::slice::from_ref(&p3));
    let payloads: Vec<String> = cmd(&mut conn, &["HKEYS", &queue.data]).await;
    assert_eq!(payloads, std::slice::from_ref(&p3));
    assert_eq!(
        settle::settle(&mut conn, &queue, &[by("w1", &p3), by("w1", &p3)])
            .await
            .unwrap(),
        1
    );
    let payloads: u64 = cmd(&mut conn, &["HLEN", &queue.data]).await;
    assert_eq!(payloads, 0);
}

async fn bibs_are_indexed_only_by_the_call_that_ends_the_job_as_succeeded(server: Server) {
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
            &job("race", "p1-1"),
            &end(1, JobState::Succeeded),
            Some(bibs),
        );
        batch.finish(
            &event("race"),
            &job("race", "p2-1"),
            &end(1, JobState::Failed),
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

async fn one_batch_serves_several_events_with_one_event_progress_each(server: Server) {
    let mut conn = server.conn().await;
    // One batch serves one event group: b is of a's.
    let b = same_group("a", "b");
    let b = b.as_str();
    enqueue(&mut conn, "a", &["a1", "a2", "a3"], 1, None).await;
    enqueue(&mut conn, b, &["b1", "b2"], 1, None).await;
    let mut batch = Batch::new(&limits());
    for (ev, id) in [("a", "a1-1"), (b, "b1-1"), ("a", "a2-1"), (b, "b2-1")] {
        batch.start(&event(ev), &job(ev, id), TS);
        batch.finish(&event(ev), &job(ev, id), &end(1, JobState::Succeeded), None);
    }
    assert_eq!(batch.group(), Some(group_of("a")));
    batch.run(&mut conn).await.unwrap();
    let a = names(&mut conn, "a").await;
    assert_eq!(
        a.iter().filter(|n| *n == "event:progress").count(),
        2,
        "{a:?}"
    );
    assert!(!a.contains(&"event:completed".to_owned()), "a3 is left");
    let b = names(&mut conn, b).await;
    assert_eq!(&b[b.len() - 2..], ["event:progress", "event:completed"]);
    assert_eq!(b.iter().filter(|n| *n == "event:progress").count(), 2);
}

async fn a_failed_job_is_re_driven_once_and_counted_out_of_the_failures(server: Server) {
    let mut conn = server.conn().await;
    enqueue(&mut conn, "race", &["p1"], 1, None).await;
    start(&mut conn, "race", "p1-1").await;
    let queue = keys().queue_keys(JobKind::Photo);
    let redrive = |conn: &mut MultiplexedConnection| {
        let (race, p1, queue) = (event("race"), job("race", "p1-1"), queue.clone());
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
    // Until it runs, re-driving again completes the same re-drive (as after a crash before
    // its push): nothing is counted or pushed twice.
    assert!(redrive(&mut conn).await);
    let _: () = cmd(&mut conn, &["LREM", &queue.active, "0", "t2"]).await;
    let _: () = cmd(&mut conn, &["HDEL", &queue.data, "t2"]).await;
    assert!(redrive(&mut conn).await, "the lost push is done again");
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
    assert_eq!(waiting, [jid("race", "p1-1"), "t2".to_owned()]);
    let history = names(&mut conn, "race").await;
    assert_eq!(
        &history[history.len() - 2..],
        ["job:queued", "event:progress"]
    );
    assert_eq!(
        start(&mut conn, "race", "p1-1").await,
        Started::Run { run: 2, attempt: 1 }
    );
    assert!(!redrive(&mut conn).await, "a running job is not re-driven");
}
