//! apalis-redis producers and the worker's photo queue. A plain apalis-redis 1.0
//! `RedisStorage` can push into the queue (same key layout, same namespace), and the worker
//! takes the task, but finishline does not count it: the job's state and its event's counters
//! are written by finishline's enqueue in the same Lua call as the queue entry, and an
//! apalis-redis push writes only the queue entry, so the worker finds a job finishline never
//! enqueued and skips it, as it skips an expired one. The supported way for a Rust producer is
//! finishline-queue's `Producer` (or the HTTP API): same queue, counted, reported.

use std::time::Duration;

use apalis::prelude::TaskSink;
use apalis_redis::{Config, RedisStorage};
use finishline_bus::Keys;
use finishline_queue::NewMedia;
use finishline_tests::{Rig, wait_until};
use finishline_wire::{EventId, JobId, JobKind, MediaId, MediaJob, MediaSource, RequestId};
use redis::AsyncCommands;

const EVENT: &str = "apalis-producer";

fn job(photo: &str) -> MediaJob {
    MediaJob {
        kind: JobKind::Photo,
        job_id: JobId::generate(),
        event_id: EventId::parse(EVENT).expect("event id"),
        media_id: MediaId::parse(photo).expect("photo id"),
        request_id: RequestId::generate(),
        source: MediaSource::Path(format!("{photo}.png")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apalis_redis_push_is_taken_but_not_counted_and_the_producer_api_is() {
    let rig = Rig::builder("apalis-producer")
        .workers(1)
        .worker_flags(&["--pipeline", "noop", "--queues", "photo"])
        .start()
        .await;
    let queue = Keys::new(&rig.prefix).queue(JobKind::Photo);
    let conn = apalis_redis::connect(rig.redis.url())
        .await
        .expect("apalis-redis connects");
    let mut storage: RedisStorage<MediaJob> =
        RedisStorage::new(conn).with_config(Config::default().queue(&queue));
    storage
        .push(job("pushed"))
        .await
        .expect("apalis-redis push");

    // The worker takes the task off the queue and settles it...
    let redis = rig.redis.connection().await;
    let data = format!("{queue}:data");
    let active = format!("{queue}:active");
    wait_until(
        "the worker takes and settles the apalis-redis task",
        Duration::from_secs(30),
        || {
            let mut redis = redis.clone();
            let (data, active) = (data.clone(), active.clone());
            async move {
                let waiting: u64 = redis.llen(&active).await.unwrap_or(1);
                let payloads: u64 = redis.hlen(&data).await.unwrap_or(1);
                waiting == 0 && payloads == 0
            }
        },
    )
    .await;
    // ...but finishline never enqueued that job: skipped, nothing counted, nothing reported.
    assert!(
        rig.worker().log().contains("skipping this delivery"),
        "{}",
        rig.worker().log()
    );
    let event = EventId::parse(EVENT).expect("event id");
    let counts = rig.bus.snapshot(&event).await.expect("snapshot").counts;
    assert_eq!(counts.total_photos, 0, "{counts:?}");
    assert!(rig.history(EVENT).await.is_empty());

    // The supported way: finishline-queue's Producer, into the same queue.
    let producer = rig.producer().await;
    let media = NewMedia {
        media_id: MediaId::parse("produced").expect("photo id"),
        source: MediaSource::Path("produced.png".to_owned()),
    };
    producer
        .enqueue(
            &event,
            &RequestId::generate(),
            JobKind::Photo,
            None,
            &[media],
        )
        .await
        .expect("enqueue through the producer API");
    rig.wait_completed(EVENT, Duration::from_secs(30)).await;
    let counts = rig.bus.snapshot(&event).await.expect("snapshot").counts;
    assert_eq!(
        (counts.total_photos, counts.succeeded),
        (1, 1),
        "{counts:?}"
    );
    let completed = rig.message_bodies(EVENT, "photo:completed").await;
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0]["photoId"], "produced");
}
