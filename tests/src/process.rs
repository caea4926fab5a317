//! The worker and the gateway as real processes, each on port 0: the test reads the address
//! the process bound from its start-up log line, so no two tests can race for a port.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Path of a workspace binary built by `cargo build` (the test command builds them first).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` before the tests (tests/run.sh does)",
        path.display()
    );
    path
}

/// The recognition models folder the workers of the tests use: `FINISHLINE_MODELS_DIR`, or
/// `models/` at the repository root (deploy/local/install-deps.sh fills it).
pub fn models_dir() -> PathBuf {
    std::env::var_os("FINISHLINE_MODELS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"),
        PathBuf::from,
    )
}

/// A port that was free a moment ago. Another process can take it before the caller binds
/// it: start servers on port 0 and read the bound address instead (the gateway and the
/// worker log it; `Rig` does this). Only `RedisServer`, which cannot bind port 0, uses this,
/// and it checks that the server answering is its own.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A number no other call in this test process gets.
pub(crate) fn next_serial() -> u64 {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// A key prefix no other test uses, in this run or an earlier one on a shared `REDIS_URL`.
pub fn unique_prefix(test: &str) -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() % 1_000_000_000);
    format!(
        "fltest-{test}-{}-{micros}-{}",
        std::process::id(),
        next_serial()
    )
}

/// Waits for `condition` with a deadline; panics naming `what` when it never holds.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `text` without the terminal colour codes of the pretty log format.
fn without_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequence: ESC [ parameters… final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `addr=` field of the first log line that contains `marker`.
fn logged_addr(log: &str, marker: &str) -> Option<SocketAddr> {
    let log = without_ansi(log);
    let line = log.lines().find(|line| line.contains(marker))?;
    line.split_whitespace()
        .find_map(|word| word.strip_prefix("addr="))
        .and_then(|addr| addr.parse().ok())
}

/// A child process killed on drop, its log kept in a file for post-mortems.
pub(crate) struct Managed {
    child: Child,
    log: PathBuf,
}

impl Managed {
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the process to exit and returns its exit code.
    pub(crate) async fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the log line containing `marker` and returns the address it names; panics
    /// with the log when the process exits first or the line never comes.
    pub(crate) async fn wait_logged_addr(&mut self, marker: &str) -> SocketAddr {
        let timeout = Duration::from_secs(20);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(addr) = logged_addr(&self.log_text(), marker) {
                return addr;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "process exited ({status}) before logging {marker:?}:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {marker:?} log line with addr= within {timeout:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn spawn(name: &str, args: &[String], envs: &[(&str, &str)]) -> Self {
        let log = std::env::temp_dir().join(format!(
            "{name}-{}-{}.log",
            std::process::id(),
            next_serial()
        ));
        let file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(binary(name));
        command
            .args(args)
            .env("RUST_LOG", "info,finishline=debug")
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in envs {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn binary");
        Self { child, log }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Managed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- log of {} ----\n{}",
                self.log.display(),
                self.log_text()
            );
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_a_coloured_log_line() {
        let log = "\u{1b}[2m2026-12-02T05:19:28Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m gateway \
                   listening; Socket.IO namespaces /progress \u{1b}[3maddr\u{1b}[0m\u{1b}[2m=\
                   \u{1b}[0m127.0.0.1:41234 \u{1b}[3mredis\u{1b}[0m\u{1b}[2m=\u{1b}[0mredis://x\n";
        assert_eq!(
            logged_addr(log, "gateway listening"),
            Some("127.0.0.1:41234".parse().unwrap())
        );
        assert_eq!(logged_addr(log, "health and metrics listening"), None);
    }
}
