//! The finishline gateway: HTTP API and Socket.IO relay of progress to dashboards.

use clap::Parser;
use finishline_gateway::{App, Config};

/// mimalloc, only with the `mimalloc` feature: cheaper small allocations on the relay's hot
/// path, but more resident memory per idle connection than glibc's malloc (see Cargo.toml).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let log = config.service.log.clone();
    finishline_service::serve(&log, App::build(config), App::run).await
}
