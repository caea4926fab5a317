//! A tiny HTTP server on loopback that serves photos as `{ url }` sources, with scripted
//! failures: each request gets the next scripted status (the last one repeats).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A scripted photo server. Dropping it stops nothing (the test process ends it).
pub struct PhotoServer {
    pub port: u16,
    requests: Arc<AtomicUsize>,
}

impl PhotoServer {
    /// Serves `body` (an image) with the statuses of `script` in turn, e.g. `[503, 200]`.
    pub async fn start(body: Vec<u8>, script: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let body = Arc::new(body);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let status = script.get(n).or(script.last()).copied().unwrap_or(200);
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let payload: &[u8] = if status == 200 { &body } else { b"" };
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n",
                        payload.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(payload).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { port, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}
