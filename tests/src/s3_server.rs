//! A real S3-compatible server for the artifact store's S3 path: moto's server (PyPI
//! `moto[server]`, installed into a venv by deploy/local/install-deps.sh) on a free port, one
//! per test, and the worker and gateway started with the standard AWS environment variables
//! pointing at it, the way an operator configures them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::process::{binary, free_port, models_dir, unique_prefix, wait_until};

/// Where deploy/local/install-deps.sh puts moto's server, unless `$FINISHLINE_MOTO_SERVER`
/// names it.
fn moto_server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("FINISHLINE_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"),
        PathBuf::from,
    );
    cache.join("finishline/moto-venv/bin/moto_server")
}

/// A running moto S3 server on 127.0.0.1, killed on drop. It keeps its buckets in memory.
pub struct S3Server {
    child: Child,
    pub port: u16,
}

impl S3Server {
    /// Starts moto's server on a free port and waits until it answers.
    pub async fn start() -> Self {
        let path = moto_server_path();
        let port = free_port();
        let child = Command::new(&path)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "{}: {err} (deploy/local/install-deps.sh installs moto[server])",
                    path.display()
                )
            });
        let server = Self { child, port };
        let url = server.endpoint();
        wait_until("moto's S3 server answers", Duration::from_secs(30), || {
            let url = url.clone();
            async move { reqwest::get(&url).await.is_ok() }
        })
        .await;
        server
    }

    /// `http://127.0.0.1:<port>`, the value of `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The standard variables an operator sets for an S3-compatible store: endpoint,
    /// plain HTTP allowed, region and a key pair (moto accepts any).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "finishline-test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "finishline-test-secret".to_owned()),
        ]
    }

    /// Creates a bucket (moto takes an unsigned path-style request).
    pub async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .await
            .expect("PUT bucket");
        assert!(response.status().is_success(), "create bucket {bucket}");
    }

    /// The size of an object as the bucket's listing gives it; `None` when it is not listed.
    pub async fn object_size(&self, bucket: &str, key: &str) -> Option<u64> {
        let listing = self.listing(bucket).await;
        let entry = listing
            .split("<Contents>")
            .find(|c| c.contains(&format!("<Key>{key}</Key>")))?;
        let size = entry.split("<Size>").nth(1)?.split("</Size>").next()?;
        size.parse().ok()
    }

    /// The HTTP status of an unsigned GET of an object (403: the bucket is private).
    pub async fn anonymous_get_status(&self, bucket: &str, key: &str) -> u16 {
        reqwest::get(format!("{}/{bucket}/{key}", self.endpoint()))
            .await
            .expect("GET object")
            .status()
            .as_u16()
    }

    /// The bucket's listing as the server answers it (XML).
    pub async fn listing(&self, bucket: &str) -> String {
        let url = format!("{}/{bucket}?list-type=2", self.endpoint());
        match reqwest::get(url).await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(err) => err.to_string(),
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A worker or gateway started with extra environment variables (the AWS ones), killed on
/// drop, its log in a file. The plain `Worker`/`Gateway` inherit the test's environment only.
pub struct ProcessWithEnv {
    child: Child,
    log: PathBuf,
    /// The address it logged: the gateway's listener or the worker's health server.
    pub addr: SocketAddr,
}

impl ProcessWithEnv {
    /// A worker as `Worker::start_with` starts one, plus `envs`.
    pub async fn worker(
        redis_url: &str,
        prefix: &str,
        media_root: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let models = models_dir().display().to_string();
        let media = media_root.display().to_string();
        let mut args = vec![
            "--http-listen",
            "127.0.0.1:0",
            "--redis-url",
            redis_url,
            "--key-prefix",
            prefix,
            "--concurrency",
            "4",
            "--heartbeat-interval",
            "1s",
            "--models-dir",
            &models,
            "--media-root",
            &media,
        ];
        args.extend_from_slice(extra);
        Self::spawn(
            "finishline-worker",
            &args,
            envs,
            "health and metrics listening",
        )
        .await
    }

    /// A gateway as `Gateway::start_with` starts one, plus `envs`; ready when it returns.
    pub async fn gateway(
        redis_url: &str,
        prefix: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let mut args = vec![
            "--listen",
            "127.0.0.1:0",
            "--redis-url",
            redis_url,
            "--key-prefix",
            prefix,
        ];
        args.extend_from_slice(extra);
        let gateway = Self::spawn("finishline-gateway", &args, envs, "gateway listening").await;
        let ready = gateway.url("/readyz");
        wait_until(
            "gateway /readyz answers 200",
            Duration::from_secs(20),
            || {
                let ready = ready.clone();
                async move {
                    reqwest::get(&ready)
                        .await
                        .is_ok_and(|r| r.status().is_success())
                }
            },
        )
        .await;
        gateway
    }

    /// Spawns `name` and waits for the log line with `marker` and its `addr=`.
    async fn spawn(name: &str, args: &[&str], envs: &[(&str, &str)], marker: &str) -> Self {
        let log = std::env::temp_dir().join(format!("{name}-{}.log", unique_prefix("s3")));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(binary(name))
            .args(args)
            .envs(envs.iter().copied())
            .env("RUST_LOG", "info,finishline=debug")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn binary");
        let mut process = Self {
            child,
            log,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(addr) = logged_addr(&process.log(), marker) {
                process.addr = addr;
                return process;
            }
            let exited = process.child.try_wait().expect("try_wait");
            assert!(
                exited.is_none() && std::time::Instant::now() < deadline,
                "{name} exited ({exited:?}) or never logged {marker:?}:\n{}",
                process.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ProcessWithEnv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- log of {} ----\n{}", self.log.display(), self.log());
        }
    }
}

/// The `addr=` of the first log line containing `marker`, terminal colour codes removed.
fn logged_addr(log: &str, marker: &str) -> Option<SocketAddr> {
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ parameters… final letter.
            chars.by_ref().find(char::is_ascii_alphabetic);
        } else {
            plain.push(c);
        }
    }
    let line = plain.lines().find(|line| line.contains(marker))?;
    line.split_whitespace()
        .find_map(|word| word.strip_prefix("addr="))
        .and_then(|addr| addr.parse().ok())
}
