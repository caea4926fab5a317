//! Enqueue load for the queue benchmark (tests/bench/queue.mjs): through the Rust producer API
//! (`finishline_queue::Producer`), the library a processor written in Rust calls — the
//! counterpart of BullMQ's `Queue.add` / `addBulk` — or, with `--http-url`, through the
//! gateway's HTTP API with a client cheap enough not to be the bottleneck.
//!
//! `enqueue-load --redis-url redis://127.0.0.1:6379 --key-prefix bench --event single
//!               --jobs 2000 --batch 1 --in-flight 16 [--http-url http://127.0.0.1:3000]`
//!
//! Enqueues `--jobs` photo jobs of one event, `--batch` per call with `--in-flight` calls at
//! once (one multiplexed Redis connection, or HTTP/1.1 keep-alive connections), then prints
//! one JSON line `{"jobs":…,"seconds":…,"perSec":…,"startedAtMs":…}` (`startedAtMs`: when the
//! first call was made, in Unix milliseconds, for end-to-end clocks kept by another process).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use finishline_bus::Keys;
use finishline_queue::{NewMedia, Producer, ProducerConfig};
use finishline_wire::{EventId, JobKind, MediaId, MediaSource, RequestId};

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
    /// POST to this gateway (`/v1/events/{event}/photos`) instead of calling the producer
    #[arg(long)]
    http_url: Option<String>,
}

/// Where the jobs go.
enum Target {
    Producer(Producer),
    Http {
        client: reqwest::Client,
        url: String,
    },
}

impl Target {
    async fn enqueue(
        &self,
        event: &EventId,
        request: &RequestId,
        photos: &[NewMedia],
    ) -> anyhow::Result<()> {
        match self {
            Self::Producer(producer) => {
                producer
                    .enqueue(event, request, JobKind::Photo, None, photos)
                    .await?;
            }
            Self::Http { client, url } => {
                let body = serde_json::json!({ "photos": photos.iter().map(|p| serde_json::json!({
                    "photoId": p.media_id.as_str(),
                    "source": p.source,
                })).collect::<Vec<_>>() });
                let response = client
                    .post(format!("{url}/v1/events/{}/photos", event.as_str()))
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == reqwest::StatusCode::ACCEPTED,
                    "enqueue answered {}",
                    response.status()
                );
            }
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let producer = Arc::new(match &args.http_url {
        Some(url) => Target::Http {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(args.in_flight)
                .build()?,
            url: url.trim_end_matches('/').to_owned(),
        },
        None => {
            let topology =
                finishline_redis::Topology::parse(&args.redis_url).context("redis url")?;
            let options = finishline_redis::ConnOptions::new(std::time::Duration::from_secs(10));
            let conn = finishline_redis::RedisConn::connect(&topology, options)
                .await
                .context("connecting to redis")?;
            Target::Producer(Producer::new(
                conn,
                Keys::new(&args.key_prefix),
                ProducerConfig::default(),
            ))
        }
    });
    let event = EventId::parse(&args.event)?;
    let request = RequestId::parse("enqueue-load")?;
    let batch = args.batch.max(1);
    let calls = args.jobs.div_ceil(batch);
    let next = Arc::new(AtomicUsize::new(0));
    let started_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
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
                producer.enqueue(&event, &request, &photos).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "jobs": args.jobs, "seconds": seconds, "perSec": args.jobs as f64 / seconds, "startedAtMs": started_at_ms })
    );
    Ok(())
}
