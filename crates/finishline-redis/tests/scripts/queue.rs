//! The queue's scripts: fetch, hand-back, promote, stats, requeue, retry.

use finishline_redis::scripts::{fetch, hand_back, promote, requeue, retry, stats};
use finishline_wire::{JobId, JobKind};

use crate::server::Server;
use crate::{cmd, keys};

on_both!(
    fetch_takes_a_batch_in_order_marks_it_in_flight_and_beats,
    hand_back_returns_a_workers_tasks_unless_it_beat_after_the_cutoff,
    promote_moves_due_retries_in_bounded_chunks_in_due_order,
    stats_count_waiting_scheduled_and_in_flight_tasks,
    requeue_puts_back_only_a_task_its_worker_still_holds,
    retry_schedules_a_fresh_task_with_the_payload_unless_the_job_ended,
);

async fn push(conn: &mut redis::aio::MultiplexedConnection, ids: &[&str]) {
    let queue = keys().queue_keys(JobKind::Photo);
    for id in ids {
        let _: () = cmd(conn, &["RPUSH", &queue.active, id]).await;
        let _: () = cmd(conn, &["HSET", &queue.data, id, &format!("payload-{id}")]).await;
    }
}

async fn fetch_takes_a_batch_in_order_marks_it_in_flight_and_beats(server: Server) {
    let mut conn = server.conn().await;
    let queue = keys().queue_keys(JobKind::Photo);
    let idle = fetch::fetch(&mut conn, &queue, "w1", 4, 1_000)
        .await
        .unwrap();
    assert!(idle.is_empty());
    let beat: Option<u64> = cmd(&mut conn, &["ZSCORE", &queue.workers, "w1"]).await;
    assert_eq!(beat, Some(1_000), "an idle worker polling stays alive");

    push(&mut conn, &["a", "b", "c"]).await;
    let _: () = cmd(&mut conn, &["HDEL", &queue.data, "b"]).await;
    let got = fetch::fetch(&mut conn, &queue, "w1", 2, 2_000)
        .await
        .unwrap();
    assert_eq!(
        got,
        [
            ("a".to_owned(), Some(b"payload-a".to_vec())),
            ("b".to_owned(), None)
        ]
    );
    let mut inflight: Vec<String> = cmd(&mut conn, &["SMEMBERS", &queue.inflight("w1")]).await;
    inflight.sort();
    assert_eq!(inflight, ["a", "b"]);
    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(waiting, ["c"]);
    let beat: Option<u64> = cmd(&mut conn, &["ZSCORE", &queue.workers, "w1"]).await;
    assert_eq!(beat, Some(2_000));
}

async fn hand_back_returns_a_workers_tasks_unless_it_beat_after_the_cutoff(server: Server) {
    let mut conn = server.conn().await;
    let queue = keys().queue_keys(JobKind::Photo);
    push(&mut conn, &["a", "b", "c", "d"]).await;
    fetch::fetch(&mut conn, &queue, "dead", 2, 1_000)
        .await
        .unwrap();
    fetch::fetch(&mut conn, &queue, "alive", 2, 5_000)
        .await
        .unwrap();

    let silent = hand_back::silent_workers(&mut conn, &queue, 3_000)
        .await
        .unwrap();
    assert_eq!(silent, ["dead"]);
    // A worker listed as silent that beats before the hand-back keeps its tasks.
    let _: () = cmd(&mut conn, &["ZADD", &queue.workers, "4000", "dead"]).await;
    let moved = hand_back::hand_back(&mut conn, &queue, "dead", Some(3_000))
        .await
        .unwrap();
    assert_eq!(moved, 0);
    let _: () = cmd(&mut conn, &["ZADD", &queue.workers, "1000", "dead"]).await;
    let moved = hand_back::hand_back(&mut conn, &queue, "dead", Some(3_000))
        .await
        .unwrap();
    assert_eq!(moved, 2);
    let mut waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    waiting.sort();
    assert_eq!(waiting, ["a", "b"]);
    let exists: u8 = cmd(&mut conn, &["EXISTS", &queue.inflight("dead")]).await;
    assert_eq!(exists, 0);
    let registered: Option<u64> = cmd(&mut conn, &["ZSCORE", &queue.workers, "dead"]).await;
    assert_eq!(registered, None, "the dead worker is unregistered");

    // A stopping worker hands back whatever its heartbeat says.
    let moved = hand_back::hand_back(&mut conn, &queue, "alive", None)
        .await
        .unwrap();
    assert_eq!(moved, 2);
    let waiting: u64 = cmd(&mut conn, &["LLEN", &queue.active]).await;
    assert_eq!(waiting, 4);
}

async fn promote_moves_due_retries_in_bounded_chunks_in_due_order(server: Server) {
    let mut conn = server.conn().await;
    let queue = keys().queue_keys(JobKind::Photo);
    for (id, due) in [("r3", "30"), ("r1", "10"), ("r2", "20"), ("later", "100")] {
        let _: () = cmd(&mut conn, &["ZADD", &queue.scheduled, due, id]).await;
    }
    assert_eq!(promote::promote(&mut conn, &queue, 50, 2).await.unwrap(), 2);
    assert_eq!(promote::promote(&mut conn, &queue, 50, 2).await.unwrap(), 1);
    assert_eq!(promote::promote(&mut conn, &queue, 50, 2).await.unwrap(), 0);
    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(waiting, ["r1", "r2", "r3"]);
    let left: Vec<String> = cmd(&mut conn, &["ZRANGE", &queue.scheduled, "0", "-1"]).await;
    assert_eq!(left, ["later"]);
}

async fn stats_count_waiting_scheduled_and_in_flight_tasks(server: Server) {
    let mut conn = server.conn().await;
    let queue = keys().queue_keys(JobKind::Photo);
    assert_eq!(
        stats::stats(&mut conn, &queue).await.unwrap(),
        stats::Depth::default()
    );
    push(&mut conn, &["a", "b", "c", "d", "e"]).await;
    fetch::fetch(&mut conn, &queue, "w1", 2, 1).await.unwrap();
    fetch::fetch(&mut conn, &queue, "w2", 1, 1).await.unwrap();
    let _: () = cmd(&mut conn, &["ZADD", &queue.scheduled, "99", "r"]).await;
    assert_eq!(
        stats::stats(&mut conn, &queue).await.unwrap(),
        stats::Depth {
            waiting: 2,
            scheduled: 1,
            inflight: 3,
            oldest: Some("d".to_owned()),
        }
    );
}

async fn requeue_puts_back_only_a_task_its_worker_still_holds(server: Server) {
    let mut conn = server.conn().await;
    let queue = keys().queue_keys(JobKind::Photo);
    push(&mut conn, &["a"]).await;
    fetch::fetch(&mut conn, &queue, "w1", 1, 1).await.unwrap();
    assert!(
        !requeue::requeue(&mut conn, &queue, "w2", "a")
            .await
            .unwrap()
    );
    assert!(
        requeue::requeue(&mut conn, &queue, "w1", "a")
            .await
            .unwrap()
    );
    assert!(
        !requeue::requeue(&mut conn, &queue, "w1", "a")
            .await
            .unwrap()
    );
    let waiting: Vec<String> = cmd(&mut conn, &["LRANGE", &queue.active, "0", "-1"]).await;
    assert_eq!(waiting, ["a"]);
}

async fn retry_schedules_a_fresh_task_with_the_payload_unless_the_job_ended(server: Server) {
    let mut conn = server.conn().await;
    let keys = keys();
    let queue = keys.queue_keys(JobKind::Photo);
    let job = keys.job_keys(&JobId::parse("j1").unwrap());
    let _: () = cmd(
        &mut conn,
        &["HSET", &job.job, "state", "running", "payload", "{\"p\":1}"],
    )
    .await;
    let retry = retry::Retry {
        task_id: "t2",
        due_secs: 1234,
        error: "fetch failed: 503",
        ts: "2026-01-01T00:00:00Z",
    };
    assert!(
        retry::schedule(&mut conn, &job, &queue, &retry)
            .await
            .unwrap()
    );
    let state: Vec<Option<String>> =
        cmd(&mut conn, &["HMGET", &job.job, "state", "error", "retryAt"]).await;
    assert_eq!(
        state,
        [
            Some("queued".to_owned()),
            Some("fetch failed: 503".to_owned()),
            Some("1234".to_owned())
        ]
    );
    let payload: String = cmd(&mut conn, &["HGET", &queue.data, "t2"]).await;
    assert_eq!(payload, "{\"p\":1}");
    let due: u64 = cmd(&mut conn, &["ZSCORE", &queue.scheduled, "t2"]).await;
    assert_eq!(due, 1234);

    let _: () = cmd(&mut conn, &["HSET", &job.job, "state", "cancelled"]).await;
    let again = retry::Retry {
        task_id: "t3",
        ..retry
    };
    assert!(
        !retry::schedule(&mut conn, &job, &queue, &again)
            .await
            .unwrap()
    );
    let unknown = keys.job_keys(&JobId::parse("nope").unwrap());
    assert!(
        !retry::schedule(&mut conn, &unknown, &queue, &again)
            .await
            .unwrap()
    );
    let scheduled: u64 = cmd(&mut conn, &["ZCARD", &queue.scheduled]).await;
    assert_eq!(scheduled, 1);
}

/// The one-node cluster mode proves something only if it refuses a call across slots.
#[tokio::test]
async fn the_one_node_cluster_refuses_a_script_whose_keys_span_slots() {
    let server = Server::start_cluster();
    let mut conn = server.conn().await;
    let keys = keys();
    let photo = keys.queue_keys(JobKind::Photo);
    let video = keys.queue_keys(JobKind::Video);
    let across: Result<i64, _> = redis::cmd("EVAL")
        .arg("return 1")
        .arg(2)
        .arg(&photo.active)
        .arg(&video.active)
        .query_async(&mut conn)
        .await;
    let err = across.expect_err("CROSSSLOT");
    assert_eq!(err.code(), Some("CROSSSLOT"), "{err}");
    let within: i64 = redis::cmd("EVAL")
        .arg("return 1")
        .arg(2)
        .arg(&photo.active)
        .arg(&photo.data)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(within, 1);
}
