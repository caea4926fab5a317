//! The finishline worker: reads photo and video jobs from Redis and runs them through the
//! pipeline.

use clap::Parser;
use finishline_worker::{App, Config};

/// mimalloc: glibc's malloc spent ~12% of the worker's CPU on a queue of no-op jobs
/// (small allocations freed on other threads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One thread drives every job's I/O; CPU work runs on the bounded blocking pool
/// (`--cpu-threads`). One runtime thread saves the cross-thread wake-ups that cost a
/// multi-threaded runtime a fifth of its CPU when jobs are short.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let log = config.service.log.clone();
    finishline_service::serve(&log, App::build(config), App::run).await
}
