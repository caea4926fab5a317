//! The bus against a real Redis: idempotent enqueue and exactly-once counting.

use finishline_bus::{Finish, Progress, RunOutcome};
use finishline_queue::NewMedia;
use finishline_tests::{Rig, bus_writer};
use finishline_wire::{EventId, JobKind, JobState, MediaId, MediaSource, MessageName, RequestId};

#[tokio::test]
async fn a_job_finished_twice_is_counted_once_and_completes_the_event_once() {
    let rig = Rig::builder("count").gateways(0).start().await;
    let (bus, producer) = (&rig.bus, rig.producer().await);
    let event = EventId::parse("evt").unwrap();
    let request = RequestId::parse("req-1").unwrap();
    let photo = NewMedia {
        media_id: MediaId::parse("p1").unwrap(),
        source: MediaSource::Path("p1.jpg".into()),
    };
    let first = producer
        .enqueue(
            &event,
            &request,
            JobKind::Photo,
            None,
            std::slice::from_ref(&photo),
        )
        .await
        .unwrap();
    let again = producer
        .enqueue(&event, &request, JobKind::Photo, None, &[photo])
        .await
        .unwrap();
    assert!(first[0].created);
    assert!(!again[0].created);
    assert_eq!(first[0].job_id, again[0].job_id);
    assert_eq!(bus.snapshot(&event).await.unwrap().counts.total_photos, 1);

    // The worker's batched writer: what a worker runs against Redis.
    let writer = bus_writer(bus);
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

/// Calls per command since the last `CONFIG RESETSTAT` (commands run by scripts included).
async fn command_calls(
    conn: &mut finishline_redis::RedisConn,
) -> std::collections::HashMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

/// The Redis cost of the lifecycle messages (issue 16): each is one message like any other,
/// an XADD to the event's history, an XADD to the progress stream and an RPUSH to the job's
/// history, and nothing per job besides (the event's seq is written once per script call).
#[tokio::test]
async fn job_queued_and_job_started_cost_three_writes_per_job_each() {
    let rig = Rig::builder("lifecycle-cost").gateways(0).start().await;
    let (bus, producer) = (&rig.bus, rig.producer().await);
    let mut conn = rig.redis.connection().await;
    let event = EventId::parse("evt").unwrap();
    let photos: Vec<NewMedia> = (0..100)
        .map(|i| NewMedia {
            media_id: MediaId::parse(format!("p{i}")).unwrap(),
            source: MediaSource::Path(format!("p{i}.jpg")),
        })
        .collect();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    let jobs = producer
        .enqueue(
            &event,
            &RequestId::parse("req-cost").unwrap(),
            JobKind::Photo,
            None,
            &photos,
        )
        .await
        .unwrap();
    let enqueue = command_calls(&mut conn).await;
    // 100 job:queued + one event:progress, each in the history and the stream.
    assert_eq!(enqueue["xadd"], 2 * 100 + 2, "{enqueue:?}");
    // 100 job histories + one push of the whole chunk onto the queue.
    assert_eq!(enqueue["rpush"], 100 + 1, "{enqueue:?}");
    assert_eq!(
        enqueue.get("hincrby"),
        Some(&1),
        "the seq is written once: {enqueue:?}"
    );
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    let writer = bus_writer(bus);
    for job in &jobs {
        assert!(matches!(
            writer.start_run(&job.job_id).await.unwrap(),
            RunOutcome::Started { attempt: 1, .. }
        ));
    }
    let started = command_calls(&mut conn).await;
    assert_eq!(started["xadd"], 2 * 100, "{started:?}");
    assert_eq!(started["rpush"], 100, "{started:?}");
    let per_job = |stats: &std::collections::HashMap<String, u64>| {
        let mut names: Vec<_> = stats
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "info" | "config" | "evalsha" | "eval"))
            .map(|(name, calls)| format!("{name} {:.2}", *calls as f64 / 100.0))
            .collect();
        names.sort();
        names.join(", ")
    };
    eprintln!("enqueue, per job: {}", per_job(&enqueue));
    eprintln!("run start, per job: {}", per_job(&started));
}
