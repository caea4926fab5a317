//! A real Socket.IO client (rust_socketio) that records every message it receives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::wait_until;

/// One message as received: event name and payload.
#[derive(Debug, Clone)]
pub struct Received {
    pub name: String,
    pub data: Value,
}

/// A connected client of namespace `/progress` (or another namespace of the gateway).
pub struct SocketClient {
    client: Client,
    received: Arc<Mutex<Vec<Received>>>,
}

fn first_value(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values) if !values.is_empty() => values.remove(0),
        Payload::Text(_) => Value::Null,
        Payload::Binary(_) => Value::String("<binary>".into()),
        #[allow(deprecated)]
        Payload::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
    }
}

impl SocketClient {
    /// Connects and waits until the namespace is joined (emitting earlier gets the
    /// connection closed by the server).
    pub async fn connect(base_url: &str, auth: Option<Value>) -> Self {
        Self::try_connect(base_url, auth)
            .await
            .unwrap_or_else(|err| panic!("connect to /progress: {err}"))
    }

    /// Connects, or returns the server's refusal (the `connect_error` message).
    pub async fn try_connect(base_url: &str, auth: Option<Value>) -> Result<Self, String> {
        Self::try_connect_to(base_url, "/progress", auth).await
    }

    /// Connects to another namespace (the compatibility namespaces), or returns the refusal.
    pub async fn try_connect_to(
        base_url: &str,
        namespace: &str,
        auth: Option<Value>,
    ) -> Result<Self, String> {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (connected_tx, mut connected_rx) = mpsc::unbounded_channel::<Result<(), String>>();
        let error_tx = connected_tx.clone();
        let sink = received.clone();
        // Websocket only: rust_socketio can lose an emit made while it upgrades from polling.
        // Polling and the upgrade are covered by the official JS client's scenario.
        let mut builder = ClientBuilder::new(base_url)
            .namespace(namespace)
            .transport_type(rust_socketio::TransportType::Websocket)
            .reconnect(false)
            .on(Event::Connect, move |_, _| {
                let tx = connected_tx.clone();
                async move {
                    let _ = tx.send(Ok(()));
                }
                .boxed()
            })
            .on(Event::Error, move |payload, _| {
                let tx = error_tx.clone();
                async move {
                    let _ = tx.send(Err(first_value(payload).to_string()));
                }
                .boxed()
            })
            .on_any(move |event, payload, _| {
                let sink = sink.clone();
                async move {
                    if let Event::Custom(name) = event {
                        sink.lock().expect("lock").push(Received {
                            name,
                            data: first_value(payload),
                        });
                    }
                }
                .boxed()
            });
        if let Some(auth) = auth {
            builder = builder.auth(auth);
        }
        let client = builder.connect().await.map_err(|err| err.to_string())?;
        match tokio::time::timeout(Duration::from_secs(10), connected_rx.recv()).await {
            Ok(Some(Ok(()))) => Ok(Self { client, received }),
            Ok(Some(Err(refusal))) => Err(refusal),
            Ok(None) | Err(_) => Err(format!("namespace {namespace} not joined within 10 s")),
        }
    }

    /// Emits `event` with `payload` and returns the ack's first value.
    pub async fn call(&self, event: &str, payload: Value) -> Value {
        self.try_call(event, payload, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no ack for {event} within 10 s"))
    }

    /// Emits `event` with `payload` and returns the ack's first value, or `None` when the emit
    /// fails or no ack arrives within `timeout` (a closed connection).
    pub async fn try_call(&self, event: &str, payload: Value, timeout: Duration) -> Option<Value> {
        let (tx, rx) = oneshot::channel::<Value>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        self.client
            .emit_with_ack(event, payload, timeout, move |payload, _| {
                let tx = tx.clone();
                async move {
                    if let Some(tx) = tx.lock().expect("lock").take() {
                        // Acks arrive as the list of the server's ack arguments.
                        let value = match first_value(payload) {
                            Value::Array(mut args) if args.len() == 1 => args.remove(0),
                            other => other,
                        };
                        let _ = tx.send(value);
                    }
                }
                .boxed()
            })
            .await
            .ok()?;
        tokio::time::timeout(timeout, rx).await.ok()?.ok()
    }

    /// Emits without waiting for an ack.
    pub async fn emit(&self, event: &str, payload: Value) {
        let _ = self.client.emit(event, payload).await;
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until a message named `name` has arrived.
    pub async fn wait_for(&self, name: &str, timeout: Duration) {
        let received = self.received.clone();
        wait_until(&format!("a {name} message"), timeout, || {
            let found = received
                .lock()
                .expect("lock")
                .iter()
                .any(|m| m.name == name);
            async move { found }
        })
        .await;
    }

    /// Waits until everything the server sent before this call has arrived: one acknowledged
    /// round trip (a connection delivers its packets in order), so a test can assert that
    /// nothing more came without sleeping. For namespace `/progress`.
    pub async fn flush(&self) {
        // Leaving a job room never joined changes nothing; only the ack matters.
        self.call("unsubscribe:job", serde_json::json!({ "jobId": "flush" }))
            .await;
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}
