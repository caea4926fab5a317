//! Tracing set-up: pretty or JSON logs, filtered by `RUST_LOG` syntax, and (with the `otel`
//! feature) trace export over OTLP/HTTP.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::{LogArgs, LogFormat};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber. Call once, first thing in `main` (inside the runtime when
/// trace export is on).
///
/// # Errors
/// Fails when the filter does not parse or the exporter cannot be built.
pub fn init_telemetry(args: &LogArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&args.log_filter)
        .map_err(|err| anyhow::anyhow!("bad log filter {:?}: {err}", args.log_filter))?;
    let logs: BoxedLayer = match args.log_format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let mut layers: Vec<BoxedLayer> = vec![logs];
    if let Some(endpoint) = &args.otlp_endpoint {
        layers.push(otel_layer(endpoint)?);
    }
    tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .init();
    Ok(())
}

#[cfg(feature = "otel")]
fn otel_layer(endpoint: &str) -> anyhow::Result<BoxedLayer> {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()?;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(
                    std::env::args()
                        .next()
                        .and_then(|p| p.rsplit('/').next().map(str::to_owned))
                        .unwrap_or_else(|| "finishline".to_owned()),
                )
                .build(),
        )
        .build();
    let tracer = provider.tracer("finishline");
    opentelemetry::global::set_tracer_provider(provider);
    Ok(tracing_opentelemetry::layer().with_tracer(tracer).boxed())
}

#[cfg(not(feature = "otel"))]
fn otel_layer(endpoint: &str) -> anyhow::Result<BoxedLayer> {
    anyhow::bail!(
        "--otlp-endpoint {endpoint} needs a build with the otel feature (cargo build --features otel)"
    )
}
