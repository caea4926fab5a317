//! Tracing set-up: pretty or JSON logs, filtered by `RUST_LOG` syntax.

use tracing_subscriber::EnvFilter;

use crate::{LogArgs, LogFormat};

/// Installs the global subscriber. Call once, first thing in `main`.
///
/// # Errors
/// Fails when the filter does not parse.
pub fn init_telemetry(args: &LogArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&args.log_filter)
        .map_err(|err| anyhow::anyhow!("bad log filter {:?}: {err}", args.log_filter))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Pretty => builder.with_target(false).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
    Ok(())
}
