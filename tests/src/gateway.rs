//! The gateway as a real process on port 0.

use std::net::SocketAddr;
use std::time::Duration;

use crate::process::{Managed, wait_until};

/// The log line in which the gateway names the address it bound (bins/gateway `App::run`).
const LISTENING: &str = "gateway listening";

/// A running gateway, killed on drop.
pub struct Gateway {
    process: Managed,
    /// The address it bound.
    pub addr: SocketAddr,
    pub port: u16,
}

impl Gateway {
    /// Starts a gateway with auth switched off.
    pub async fn start(redis_url: &str, prefix: &str) -> Self {
        Self::start_with(redis_url, prefix, &["--auth-disabled"]).await
    }

    /// Starts a gateway with extra flags (e.g. `--jwt-secret …` instead of `--auth-disabled`).
    pub async fn start_with(redis_url: &str, prefix: &str, extra: &[&str]) -> Self {
        Self::start_on(0, redis_url, prefix, extra).await
    }

    /// Starts a gateway on a given port: 0 for any free one, or the port of a gateway that
    /// was killed, to bring it back where its clients expect it.
    pub async fn start_on(port: u16, redis_url: &str, prefix: &str, extra: &[&str]) -> Self {
        Self::start_with_env(port, redis_url, prefix, extra, &[]).await
    }

    /// Starts a gateway on `port` with `envs` set in its environment (e.g. the AWS variables
    /// of an S3 artifact store), as an operator would configure it.
    pub async fn start_with_env(
        port: u16,
        redis_url: &str,
        prefix: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let mut args = vec![
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--redis-url".into(),
            redis_url.into(),
            "--key-prefix".into(),
            prefix.into(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut process = Managed::spawn("finishline-gateway", &args, envs);
        let addr = process.wait_logged_addr(LISTENING).await;
        let gateway = Self {
            process,
            addr,
            port: addr.port(),
        };
        let url = gateway.url("/readyz");
        wait_until(
            "gateway /readyz answers 200",
            Duration::from_secs(20),
            || {
                let url = url.clone();
                async move {
                    reqwest::get(&url)
                        .await
                        .is_ok_and(|r| r.status().is_success())
                }
            },
        )
        .await;
        gateway
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn log(&self) -> String {
        self.process.log_text()
    }

    /// Kills the gateway with SIGKILL and waits until it is gone.
    pub async fn kill(mut self) {
        self.process.signal("-KILL");
        self.process.wait_exit(Duration::from_secs(10)).await;
    }
}
