//! The gateway's configuration, from flags and environment variables.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use finishline_service::{ServiceArgs, parse_duration};

/// Serves the HTTP API (enqueue, snapshots, health) and relays every progress message from
/// Redis to the Socket.IO rooms `event:<eventId>` of namespace /progress.
#[derive(Debug, Clone, Parser)]
#[command(name = "finishline-gateway", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// Where the workers store photo thumbnails: a local folder as file:///path
    #[arg(long, env = "FINISHLINE_ARTIFACTS", default_value = finishline_artifacts::DEFAULT_ARTIFACTS)]
    pub artifacts: String,

    /// Address to listen on (port 0 picks a free port; the chosen one is logged)
    #[arg(long, env = "FINISHLINE_LISTEN", default_value = "0.0.0.0:3000")]
    pub listen: SocketAddr,

    /// HS256 secret that signs client and producer tokens (never logged)
    #[arg(long, env = "FINISHLINE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// PEM file with the public key that verifies RS256 / ES256 tokens (instead of a secret)
    #[arg(long, env = "FINISHLINE_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<std::path::PathBuf>,

    /// Algorithm of --jwt-public-key
    #[arg(long, env = "FINISHLINE_JWT_ALGORITHM", default_value = "RS256", value_parser = ["RS256", "ES256"])]
    pub jwt_algorithm: String,

    /// Switch authentication off (local development only; the gateway warns at start-up)
    #[arg(long, env = "FINISHLINE_AUTH_DISABLED", default_value_t = false)]
    pub auth_disabled: bool,

    /// Most photos or videos accepted in one enqueue request
    #[arg(long, env = "FINISHLINE_MAX_BATCH", default_value_t = 1000)]
    pub max_batch: usize,

    /// Largest HTTP request body accepted, in bytes
    #[arg(long, env = "FINISHLINE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest Socket.IO message accepted from a client, in bytes (websocket and polling)
    #[arg(long, env = "FINISHLINE_MAX_CLIENT_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_client_message_bytes: usize,

    /// Packets buffered per client before it counts as too slow (sized for bursts)
    #[arg(long, env = "FINISHLINE_CLIENT_BUFFER", default_value_t = 4096)]
    pub client_buffer: usize,

    /// Origins allowed to call the HTTP API from a browser, comma-separated (e.g.
    /// https://dash.example.org); empty: no cross-origin access. `*` allows any origin without
    /// credentials
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub allowed_origins: Vec<String>,

    /// Socket.IO connections allowed from one IP address
    #[arg(long, env = "FINISHLINE_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,

    /// Rooms (events and jobs) one connection may be subscribed to at once
    #[arg(long, env = "FINISHLINE_MAX_SUBSCRIPTIONS", default_value_t = 100)]
    pub max_subscriptions: usize,

    /// subscribe calls per second allowed per connection (bursts of twice that)
    #[arg(long, env = "FINISHLINE_SUBSCRIBE_RATE", default_value_t = 20)]
    pub subscribe_rate: u32,

    /// Enqueue requests per second allowed per client (token subject, else IP; bursts of twice that)
    #[arg(long, env = "FINISHLINE_ENQUEUE_RATE", default_value_t = 50)]
    pub enqueue_rate: u32,

    /// Time given to open connections to close after SIGTERM
    #[arg(long, env = "FINISHLINE_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
}
