//! The finishline worker: reads photo jobs from Redis and runs them through the pipeline.

use clap::Parser;
use finishline_worker::{App, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    finishline_service::init_telemetry(&config.log)?;
    let shutdown = finishline_service::shutdown_token();
    let app = match App::build(config).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    };
    app.run(shutdown).await
}
