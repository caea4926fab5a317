//! A raw Socket.IO load client for the fan-out and latency benchmarks (tests/bench/socket.mjs):
//! thousands of connections from one process, each speaking engine.io v4 over a WebSocket by
//! hand (`0{…}` open, `40/progress,{auth}` namespace connect, `42/progress,1[…]` subscribe with
//! an ack, `2` → `3` pings), so the client side stays cheap enough to load a server on the same
//! machine. The same client drives the finishline gateway and the Node socket.io server.
//!
//! `sio-load --url http://127.0.0.1:3000 --clients 1000 --events 10 [--event-prefix bench-]
//!           [--token JWT] [--latency] [--connect-concurrency 200]`
//!
//! Client `i` subscribes to event `<prefix><i % events>`. Once every client is subscribed (or
//! has failed) it prints one JSON line `{"ready":…}`. Then it reads commands on stdin, one per
//! line: `reset` (zero the counters), `report` (print the counters as one JSON line); end of
//! input exits. With `--latency` each delivery's `ts` (the publisher's RFC 3339 stamp, in
//! milliseconds) is subtracted from the receipt time; `report` gives p50/p99 over all
//! deliveries and per message name (`latency.byName`).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

mod stats;

use stats::{Stats, now_us};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Longest a client may take to connect and subscribe before it counts as failed.
/// (then it tries again, up to `CONNECT_ATTEMPTS` times in all; retries are counted).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_ATTEMPTS: u32 = 3;

struct Args {
    url: String,
    clients: usize,
    events: usize,
    event_prefix: String,
    token: Option<String>,
    latency: bool,
    connect_concurrency: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        url: String::new(),
        clients: 100,
        events: 10,
        event_prefix: "bench-".into(),
        token: None,
        latency: false,
        connect_concurrency: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--clients" => args.clients = value()?.parse().context("--clients")?,
            "--events" => args.events = value()?.parse().context("--events")?,
            "--event-prefix" => args.event_prefix = value()?,
            "--token" => args.token = Some(value()?),
            "--latency" => args.latency = true,
            "--connect-concurrency" => {
                args.connect_concurrency = value()?.parse().context("--connect-concurrency")?;
            }
            other => {
                bail!("unknown flag {other}; see the header of bins/tools/src/bin/sio-load/main.rs")
            }
        }
    }
    if args.url.is_empty() || args.events == 0 || args.connect_concurrency == 0 {
        bail!("usage: sio-load --url http://host:port --clients N --events E [--latency]");
    }
    Ok(args)
}

/// The next text frame, answering engine.io pings on the way; `None` when the server closed.
async fn next_text(ws: &mut Ws) -> anyhow::Result<Option<String>> {
    while let Some(frame) = ws.next().await {
        match frame? {
            Message::Text(text) if text.as_str() == "2" => ws.send(Message::text("3")).await?,
            Message::Text(text) => return Ok(Some(text.as_str().to_owned())),
            Message::Close(_) => return Ok(None),
            _ => {}
        }
    }
    Ok(None)
}

/// Reads text frames until `verdict` has one on a packet (the packet awaited, or a refusal);
/// `closed` says what a server that closes first was waiting for.
async fn await_packet(
    ws: &mut Ws,
    closed: &'static str,
    verdict: impl Fn(&str) -> Option<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    loop {
        let packet = next_text(ws).await?.context(closed)?;
        if let Some(verdict) = verdict(&packet) {
            return verdict;
        }
    }
}

/// How far a connection attempt got, and when it got there: when an attempt times out, the
/// stage alone would blame the last step for time the earlier ones took (one deadline covers
/// the TCP connect, the upgrade, the open packet, the namespace and the subscribe).
struct Stage {
    name: &'static str,
    attempt_started: Instant,
    entered: Instant,
}

impl Stage {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            name: "starting",
            attempt_started: now,
            entered: now,
        }
    }

    fn enter(&mut self, name: &'static str) {
        self.name = name;
        self.entered = Instant::now();
    }

    /// `waiting for the engine.io open packet (entered 0.41s into the attempt)`.
    fn describe(&self) -> String {
        format!(
            "{} (entered {:.2?} into the attempt)",
            self.name,
            self.entered - self.attempt_started
        )
    }
}

/// Connects one client and subscribes it to `event_id`; returns the open socket. `stage` says
/// how far it got, for the error when it takes too long.
async fn connect(args: &Args, event_id: &str, stage: &mut Stage) -> anyhow::Result<Ws> {
    let base = args
        .url
        .replacen("http://", "ws://", 1)
        .replacen("https://", "wss://", 1);
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        base.trim_end_matches('/')
    );
    stage.enter("opening the websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    stage.enter("waiting for the engine.io open packet");
    let open = next_text(&mut ws)
        .await?
        .context("closed before the open packet")?;
    if !open.starts_with('0') {
        bail!("expected an engine.io open packet, got {open:?}");
    }
    let auth = match &args.token {
        Some(token) => json!({ "token": token }),
        None => json!({}),
    };
    stage.enter("waiting for the namespace connect");
    ws.send(Message::text(format!("40/progress,{auth}")))
        .await?;
    await_packet(&mut ws, "closed during the namespace connect", |packet| {
        if packet.starts_with("40/progress,") {
            Some(Ok(()))
        } else if packet.starts_with("44/progress,") {
            Some(Err(anyhow!("namespace connect refused: {packet}")))
        } else {
            None
        }
    })
    .await?;
    stage.enter("waiting for the subscribe ack");
    let subscribe = json!(["subscribe:event", { "eventId": event_id }]);
    ws.send(Message::text(format!("42/progress,1{subscribe}")))
        .await?;
    await_packet(&mut ws, "closed before the subscribe ack", |packet| {
        let ack = packet.strip_prefix("43/progress,1")?;
        Some(if ack.contains("\"success\":true") {
            Ok(())
        } else {
            Err(anyhow!("subscribe refused: {ack}"))
        })
    })
    .await?;
    Ok(ws)
}

/// Reads deliveries until the server closes the connection.
async fn receive(mut ws: Ws, stats: &Stats, latency: bool) -> anyhow::Result<()> {
    while let Some(frame) = ws.next().await {
        match frame? {
            Message::Text(text) => {
                let text = text.as_str();
                if text == "2" {
                    ws.send(Message::text("3")).await?;
                } else if let Some(packet) = text.strip_prefix("42/progress,") {
                    stats.record(packet, now_us(), latency);
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(())
}

fn print_line(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(parse_args()?);
    let stats = Arc::new(Stats::new(args.events));
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let started = std::time::Instant::now();
    let (settled_tx, mut settled_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for i in 0..args.clients {
        let (args, stats, gate, settled) = (
            args.clone(),
            stats.clone(),
            gate.clone(),
            settled_tx.clone(),
        );
        tokio::spawn(async move {
            let event_id = format!("{}{}", args.event_prefix, i % args.events);
            let permit = gate.acquire_owned().await;
            let mut ws = Err(anyhow::anyhow!("never tried"));
            for attempt in 1..=CONNECT_ATTEMPTS {
                let mut stage = Stage::new();
                ws = tokio::time::timeout(CONNECT_TIMEOUT, connect(&args, &event_id, &mut stage))
                    .await
                    .unwrap_or_else(|_| {
                        bail!("timed out after {CONNECT_TIMEOUT:?} {}", stage.describe())
                    });
                match &ws {
                    Err(err) if attempt < CONNECT_ATTEMPTS => {
                        stats.retry_at(stage.name);
                        if stats.retried.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("sio-load: client {i} retries (attempt {attempt}): {err:#}");
                        }
                    }
                    _ => break,
                }
            }
            drop(permit);
            let ws = match ws {
                Ok(ws) => ws,
                Err(err) => {
                    if stats.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("sio-load: client {i} failed: {err:#}");
                    }
                    let _ = settled.send(());
                    return;
                }
            };
            stats.connected.fetch_add(1, Ordering::Relaxed);
            stats.per_event[i % args.events].fetch_add(1, Ordering::Relaxed);
            let _ = settled.send(());
            if let Err(err) = receive(ws, &stats, args.latency).await {
                warn_first_error(&stats, i, &err);
            }
            stats.closed.fetch_add(1, Ordering::Relaxed);
        });
    }
    drop(settled_tx);
    let mut settled = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while settled < args.clients {
        match tokio::time::timeout_at(deadline, settled_rx.recv()).await {
            Ok(Some(())) => settled += 1,
            Ok(None) | Err(_) => break,
        }
    }
    print_line(&json!({
        "ready": true,
        "connected": stats.connected.load(Ordering::Relaxed),
        "failed": stats.failed.load(Ordering::Relaxed),
        "retried": stats.retried.load(Ordering::Relaxed),
        "retriedByStage": *stats.retried_by_stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        "perEvent": stats.per_event.iter().map(|c| c.load(Ordering::Relaxed)).collect::<Vec<_>>(),
        "connectMs": started.elapsed().as_millis() as u64,
    }));
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        match line.trim() {
            "reset" => {
                stats.reset();
                print_line(&json!({ "reset": true }));
            }
            "report" => print_line(&stats.report()),
            "" => {}
            other => eprintln!("sio-load: unknown command {other:?} (reset, report)"),
        }
    }
    Ok(())
}

/// Reports the first connection that ended with an error (later ones only count as closed).
fn warn_first_error(stats: &Stats, client: usize, err: &anyhow::Error) {
    if stats.closed.load(Ordering::Relaxed) == 0 {
        eprintln!("sio-load: client {client} ended with an error: {err:#}");
    }
}
