//! The bus against a real Redis: idempotent enqueue and exactly-once counting.

use finishline_bus::{BusLimits, Finish, Keys, Progress, ProgressBus, RunOutcome};
use finishline_queue::{NewMedia, Producer, ProducerConfig};
use finishline_tests::{RedisServer, bus_writer, unique_prefix};
use finishline_wire::{EventId, JobState, MediaId, MediaSource, MessageName, RequestId};

#[tokio::test]
async fn a_job_finished_twice_is_counted_once_and_completes_the_event_once() {
    let redis = RedisServer::start().await;
    let conn = redis.connection().await;
    let keys = Keys::new(unique_prefix("count"));
    let bus = ProgressBus::new(conn.clone(), keys.clone(), BusLimits::default());
    let producer = Producer::new(conn.clone(), keys.clone(), ProducerConfig::default());
    let event = EventId::parse("evt").unwrap();
    let request = RequestId::parse("req-1").unwrap();
    let photo = NewMedia {
        media_id: MediaId::parse("p1").unwrap(),
        source: MediaSource::Path("p1.jpg".into()),
    };
    let first = producer
        .enqueue_photos(&event, &request, std::slice::from_ref(&photo))
        .await
        .unwrap();
    let again = producer
        .enqueue_photos(&event, &request, &[photo])
        .await
        .unwrap();
    assert!(first[0].created);
    assert!(!again[0].created);
    assert_eq!(first[0].job_id, again[0].job_id);
    assert_eq!(bus.snapshot(&event).await.unwrap().counts.total_photos, 1);

    // The worker's batched writer: what a worker runs against Redis.
    let writer = bus_writer(&bus);
    let job = &first[0].job_id;
    let RunOutcome::Started { run: old_run, .. } = writer.start_run(job).await.unwrap() else {
        panic!("job should start");
    };
    // The job is presumed dead and re-delivered: a second run takes over.
    let RunOutcome::Started { run, .. } = writer.start_run(job).await.unwrap() else {
        panic!("job should start again");
    };
    assert!(run > old_run);
    let stale = writer
        .progress_confirmed(
            job,
            old_run,
            Progress {
                name: MessageName::PhotoProgress,
                body: "{}".to_owned(),
                stage: finishline_wire::Stage::Ocr,
                progress: 33,
            },
        )
        .await
        .unwrap();
    assert_eq!(stale, None, "the superseded run cannot publish");
    let finish = || Finish {
        state: JobState::Succeeded,
        name: MessageName::PhotoCompleted,
        body: r#"{"photoId":"p1"}"#,
        result: Some("{}"),
        error: None,
    };
    assert!(
        !writer
            .finish(job, Some(old_run), finish(), None)
            .await
            .unwrap(),
        "the superseded run cannot finish"
    );
    assert!(writer.finish(job, Some(run), finish(), None).await.unwrap());
    assert!(
        !writer.finish(job, Some(run), finish(), None).await.unwrap(),
        "a second finish does nothing"
    );
    assert_eq!(
        writer.start_run(job).await.unwrap(),
        RunOutcome::AlreadyEnded
    );

    let snapshot = bus.snapshot(&event).await.unwrap();
    assert_eq!(snapshot.counts.processed_photos, 1);
    assert_eq!(snapshot.counts.succeeded, 1);
    let history = bus.history_range(&event, 0, u64::MAX, 100).await.unwrap();
    let names: Vec<_> = history.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "job:queued",
            "event:progress",
            "job:started",
            "job:started",
            "photo:completed",
            "event:progress",
            "event:completed"
        ],
        "queued once, a job:started per run, counted once"
    );
    let seqs: Vec<_> = history.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7]);
    let queued: serde_json::Value = serde_json::from_str(history[0].data.get()).unwrap();
    assert_eq!(queued["position"], 1);
    assert_eq!(queued["photoId"], "p1");
    let attempts: Vec<serde_json::Value> = history[2..4]
        .iter()
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(m.data.get()).unwrap()["attempt"].clone()
        })
        .collect();
    assert_eq!(attempts, [1, 2]);
    let completed: serde_json::Value = serde_json::from_str(history[6].data.get()).unwrap();
    assert_eq!(completed["summary"]["total"], 1);
    assert_eq!(completed["requestId"], "req-1");
}
