//! An enqueue whose producer stopped between its two calls (`enqueue.lua` on the event's
//! group, then `push.lua` on the queue) and never came back: the job is counted and announced
//! but has no task. The worker's repair sweep (`--repair-after`) finds it and queues it; it
//! runs and is counted once.

use std::time::{Duration, Instant};

use finishline_bus::{BusLimits, Keys};
use finishline_redis::scripts::enqueue::{Enqueue, NewJob};
use finishline_tests::{Rig, wait_until};
use finishline_wire::{EventId, JobKind, MediaId, MediaJob, MediaSource, RequestId, now_rfc3339};
use redis::AsyncCommands;

const EVENT: &str = "half-enqueued";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_an_enqueue_left_without_a_task_is_queued_by_the_repair_sweep_and_counted_once() {
    let rig = Rig::builder("enqueue-repair")
        .workers(1)
        .worker_flags(&[
            "--pipeline",
            "noop",
            "--queues",
            "photo",
            "--repair-after",
            "1s",
        ])
        .start()
        .await;
    let keys = Keys::new(&rig.prefix);
    let event = EventId::parse(EVENT).expect("event id");
    let media_id = MediaId::parse("stranded").expect("photo id");
    let request_id = RequestId::generate();
    let job_id = keys.new_job_id(&event);
    let payload = serde_json::to_vec(&MediaJob {
        kind: JobKind::Photo,
        job_id: job_id.clone(),
        event_id: event.clone(),
        media_id: media_id.clone(),
        request_id: request_id.clone(),
        source: MediaSource::Path("stranded.png".to_owned()),
    })
    .expect("payload");
    let queue = keys.queue_keys(JobKind::Photo);
    let mut redis = rig.redis.connection().await;

    // Only the event side, as a producer that stopped before its push leaves it.
    let ts = now_rfc3339();
    let stopped_at = Instant::now();
    let created = Enqueue {
        keys: &keys,
        event: &keys.event_keys(&event),
        media_index: &keys.media_index(&event, JobKind::Photo),
        queue: &queue,
        kind: JobKind::Photo,
        request_id: &request_id,
        owner: None,
        ts: &ts,
        limits: &BusLimits::default(),
    }
    .event_side(
        &mut redis,
        &[NewJob {
            media_id: &media_id,
            job: keys.job_keys(&job_id),
            payload,
        }],
        0,
    )
    .await
    .expect("the event side of enqueue");
    assert_eq!(created, [(job_id.as_str().to_owned(), true)]);
    let counts = rig.bus.snapshot(&event).await.expect("snapshot").counts;
    assert_eq!((counts.total_photos, counts.processed_photos), (1, 0));
    let payloads: u64 = redis.hlen(&queue.data).await.expect("HLEN");
    assert_eq!(payloads, 0, "counted, but no task");

    rig.wait_completed(EVENT, Duration::from_secs(30)).await;
    println!(
        "enqueue repair: the stranded job ended {:.1} s after its producer stopped (--repair-after 1s)",
        stopped_at.elapsed().as_secs_f64()
    );
    // The sweep that pushed the job dropped its entry: nothing is left to push again.
    let enqueued = keys.enqueued(event_group(&event), JobKind::Photo);
    wait_until(
        "the sweep drops the checked entry",
        Duration::from_secs(10),
        || {
            let mut redis = redis.clone();
            let enqueued = enqueued.clone();
            async move {
                let left: redis::RedisResult<u64> = redis.zcard(&enqueued).await;
                left.is_ok_and(|n| n == 0)
            }
        },
    )
    .await;
    let waiting: u64 = redis.llen(&queue.active).await.expect("LLEN");
    assert_eq!(waiting, 0);
    let counts = rig.bus.snapshot(&event).await.expect("snapshot").counts;
    assert_eq!(
        (
            counts.total_photos,
            counts.processed_photos,
            counts.succeeded
        ),
        (1, 1, 1),
        "{counts:?}"
    );
    for (name, want) in [
        ("job:queued", 1),
        ("job:started", 1),
        ("photo:completed", 1),
        ("event:completed", 1),
    ] {
        let got = rig.message_bodies(EVENT, name).await.len();
        assert_eq!(got, want, "{name}");
    }
}

fn event_group(event: &EventId) -> u16 {
    finishline_redis::group_of(event.as_str())
}
