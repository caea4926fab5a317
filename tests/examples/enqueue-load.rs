//! Enqueue load through the Rust producer API (`finishline_queue::Producer`), the library a
//! processor written in Rust calls instead of the gateway's HTTP API — the counterpart of
//! BullMQ's `Queue.add` / `addBulk` in the queue benchmark (tests/bench/queue.mjs).
//!
//! `enqueue-load --redis-url redis://127.0.0.1:6379 --key-prefix bench --event single
//!               --jobs 2000 --batch 1 --in-flight 16`
//!
//! Enqueues `--jobs` photo jobs of one event, `--batch` per call with `--in-flight` calls at
//! once on one multiplexed connection, then prints one JSON line
//! `{"jobs":…,"seconds":…,"perSec":…}`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use finishline_bus::Keys;
use finishline_queue::{NewMedia, Producer, ProducerConfig};
use finishline_wire::{EventId, MediaId, MediaSource, RequestId};

#[derive(Parser)]
#[command(about = "Enqueue photo jobs through the Rust producer API and print the rate")]
struct Args {
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    #[arg(long, default_value = "finishline")]
    key_prefix: String,
    /// The event the jobs belong to
    #[arg(long, default_value = "enqueue-load")]
    event: String,
    #[arg(long, default_value_t = 2000)]
    jobs: usize,
    /// Jobs per producer call
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Producer calls in flight at once
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = redis::Client::open(args.redis_url.as_str()).context("redis url")?;
    let conn = redis::aio::ConnectionManager::new(client)
        .await
        .context("connecting to redis")?;
    let producer = Arc::new(Producer::new(
        conn,
        Keys::new(&args.key_prefix),
        ProducerConfig::default(),
    ));
    let event = EventId::parse(&args.event)?;
    let request = RequestId::parse("enqueue-load")?;
    let batch = args.batch.max(1);
    let calls = args.jobs.div_ceil(batch);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.in_flight.max(1) {
        let (producer, next, event, request) = (
            producer.clone(),
            next.clone(),
            event.clone(),
            request.clone(),
        );
        let jobs = args.jobs;
        tasks.push(tokio::spawn(async move {
            loop {
                let call = next.fetch_add(1, Ordering::Relaxed);
                if call >= calls {
                    return anyhow::Ok(());
                }
                let photos = (call * batch..((call + 1) * batch).min(jobs))
                    .map(|i| {
                        Ok(NewMedia {
                            media_id: MediaId::parse(format!("{}-{i}", event.as_str()))?,
                            source: MediaSource::Path(format!("p{i}.jpg")),
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                producer.enqueue_photos(&event, &request, &photos).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "jobs": args.jobs, "seconds": seconds, "perSec": args.jobs as f64 / seconds })
    );
    Ok(())
}
