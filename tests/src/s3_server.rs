//! A real S3-compatible server for the artifact store's S3 path: moto's server (PyPI
//! `moto[server]`, installed into a venv by deploy/local/install-deps.sh) on a free port, one
//! per test, and the standard AWS environment variables pointing at it, which the
//! [`crate::Rig`] gives its worker and gateway (`RigBuilder::env`) the way an operator would.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::process::{free_port, wait_until};

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
