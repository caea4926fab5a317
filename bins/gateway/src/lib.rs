//! The gateway as a library: [`App::build`] connects, binds and wires the HTTP API, the
//! Socket.IO namespace and the relay; [`App::run`] serves until shutdown.

mod auth;
mod bibs;
mod compact;
mod compat;
mod config;
mod http;
mod job_ws;
mod limits;
mod native_ws;
mod owner;
mod photos;
mod relay;
mod resume;
mod settings;
mod socket;
mod thumbnails;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::serve::ListenerExt;
use finishline_bus::{Keys, ProgressBus, StreamTail};
use finishline_queue::{Producer, ProducerConfig};
use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::cors::CorsLayer;

pub use config::Config;
pub use relay::NAMESPACE;

/// Builds the verifier from the flags: a key, or auth explicitly off.
fn authenticator(config: &Config) -> anyhow::Result<auth::Authenticator> {
    let configured = config.jwt_secret.is_some() || config.jwt_public_key.is_some();
    if config.auth_disabled {
        if configured {
            anyhow::bail!(
                "--auth-disabled contradicts --jwt-secret / --jwt-public-key: choose one"
            );
        }
        tracing::warn!(
            "authentication is OFF (--auth-disabled): anyone who can reach this gateway can enqueue and watch; never do this in production"
        );
        return Ok(auth::Authenticator::Disabled);
    }
    match (&config.jwt_secret, &config.jwt_public_key) {
        (Some(_), Some(_)) => anyhow::bail!("give --jwt-secret or --jwt-public-key, not both"),
        (Some(secret), None) => {
            if secret.len() < 32 {
                anyhow::bail!("--jwt-secret must be at least 32 bytes long");
            }
            Ok(auth::Authenticator::hs256(secret.as_bytes()))
        }
        (None, Some(path)) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading the JWT public key {}", path.display()))?;
            let algorithm = if config.jwt_algorithm == "ES256" {
                jsonwebtoken::Algorithm::ES256
            } else {
                jsonwebtoken::Algorithm::RS256
            };
            auth::Authenticator::public_key(&pem, algorithm)
                .with_context(|| format!("the JWT public key {}", path.display()))
        }
        (None, None) => anyhow::bail!(
            "no authentication is configured: set --jwt-secret (FINISHLINE_JWT_SECRET) or --jwt-public-key, or pass --auth-disabled for local development"
        ),
    }
}

/// CORS from the allowed origins: exact origins with credentials, or `*` without them.
fn cors(origins: &[String]) -> anyhow::Result<CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")]);
    if origins.is_empty() {
        return Ok(CorsLayer::new());
    }
    if origins.contains(&"*") {
        if origins.len() > 1 {
            anyhow::bail!("ALLOWED_ORIGINS: '*' cannot be combined with other origins");
        }
        return Ok(base.allow_origin(tower_http::cors::Any));
    }
    let list = origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o).with_context(|| format!("ALLOWED_ORIGINS: bad origin {o:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(base.allow_origin(list).allow_credentials(true))
}

/// A built gateway, bound to its port.
pub struct App {
    config: Config,
    listener: TcpListener,
    router: axum::Router,
    io: SocketIo,
    tail: StreamTail,
    gate: Arc<relay::Gate>,
}

impl App {
    /// Connects to Redis and binds the listening socket.
    ///
    /// # Errors
    /// Fails with a readable message when Redis is unreachable, the port is taken, or auth is
    /// neither configured nor explicitly switched off.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let authenticator = authenticator(&config)?;
        let metrics_handle = finishline_service::init_metrics()?;
        let conn =
            finishline_service::connect_redis(&config.service.redis, Duration::from_secs(10))
                .await?;
        let tail_conn =
            finishline_service::connect_redis(&config.service.redis, Duration::from_secs(30))
                .await?;
        let keys = Keys::new(&config.service.redis.key_prefix);
        let limits = config.service.retention.bus_limits();
        let bus = ProgressBus::new(conn.clone(), keys.clone(), limits);
        // --durability replicated: the 202 waits for a replica (WAIT 1) or becomes a 503.
        let producer = Producer::new(
            conn.with_durability(config.service.redis.durability()),
            keys.clone(),
            ProducerConfig {
                limits,
                ..ProducerConfig::default()
            },
        );
        let tail = StreamTail::from_now(tail_conn, &keys)
            .await
            .context("opening the progress stream")?;
        let gate = Arc::new(relay::Gate::default());
        let limits = Arc::new(limits::Limits::new(
            config.max_subscriptions,
            config.max_connections_per_ip,
            config.subscribe_rate,
            config.enqueue_rate,
        ));
        let (io_layer, io) = SocketIo::builder()
            .max_buffer_size(config.client_buffer)
            .max_payload(config.max_client_message_bytes as u64)
            .ws_max_message_size(config.max_client_message_bytes)
            .ws_read_buffer_size(compact::WS_READ_BUFFER)
            .with_state(socket::SocketState {
                bus: bus.clone(),
                gate: gate.clone(),
                auth: authenticator.clone(),
                limits: limits.clone(),
            })
            .build_layer();
        io.ns(
            NAMESPACE,
            socketioxide::handler::ConnectHandler::with(socket::on_connect, socket::authenticate),
        );
        compat::register(&io);
        let native_bus = bus.clone();
        let native_auth = authenticator.clone();
        let thumbnail_state = thumbnails::ThumbnailState {
            bus: bus.clone(),
            auth: authenticator.clone(),
            artifacts: finishline_artifacts::ArtifactStore::open(&config.artifacts)
                .context("--artifacts")?,
        };
        let router = http::router(http::HttpState {
            bus,
            producer,
            max_batch: config.max_batch,
            auth: authenticator,
            limits,
            metrics: metrics_handle,
        })
        .merge(
            axum::Router::new()
                .route(
                    "/ws/events/{event_id}",
                    axum::routing::get(native_ws::upgrade),
                )
                .route("/ws/jobs/{job_id}", axum::routing::get(job_ws::upgrade))
                .route("/ws/download/{job_id}", axum::routing::get(job_ws::upgrade))
                .with_state(native_ws::NativeState {
                    bus: native_bus,
                    gate: gate.clone(),
                    auth: native_auth,
                    buffer: config.client_buffer,
                }),
        )
        .merge(thumbnails::routes(thumbnail_state))
        .merge(ui::router())
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(io_layer)
        // Outside the Socket.IO layer, so that engineioxide keeps compact request parts.
        .layer(tower::util::MapRequestLayer::new(
            compact::compact_socketio_request::<axum::body::Body>,
        ))
        .layer(cors(&config.allowed_origins)?);
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Ok(Self {
            config,
            listener,
            router,
            io,
            tail,
            gate,
        })
    }

    /// The address actually bound (useful with port 0).
    ///
    /// # Errors
    /// Fails if the OS cannot tell.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` fires, then closes Socket.IO connections and drains HTTP
    /// within the grace period.
    ///
    /// # Errors
    /// Fails when the server cannot run.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        tracing::info!(
            %addr,
            redis = %self.config.service.redis.redacted_url(),
            prefix = %self.config.service.redis.key_prefix,
            "gateway listening; Socket.IO namespaces /progress, /file-processing, /jobs, /queue"
        );
        let relay = tokio::spawn(relay::run_relay(
            self.tail,
            self.io.clone(),
            self.gate.clone(),
            shutdown.clone(),
        ));
        let io = self.io.clone();
        let drain = shutdown.clone();
        let grace = self.config.shutdown_grace;
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        // TCP_NODELAY: progress frames and API answers are small and latency matters more
        // than packing them (Nagle would hold a second small write for the peer's ACK).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(error = %err, "TCP_NODELAY not set");
            }
        });
        let serve = axum::serve(listener, service).with_graceful_shutdown(async move {
            drain.cancelled().await;
            tracing::info!("closing client connections");
            io.close().await;
        });
        let hard_stop = async {
            shutdown.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = serve => result.context("serving HTTP")?,
            () = hard_stop => tracing::warn!(?grace, "connections did not drain within the grace period"),
        }
        let _ = relay.await;
        tracing::info!("gateway stopped");
        Ok(())
    }
}
