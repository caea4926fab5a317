//! Watches one event through the gateway's Socket.IO namespace `/progress` and prints every
//! message as it arrives, until `event:completed`: progress as a dashboard sees it. The local
//! run (deploy/local/run.sh) uses it.
//!
//! `watch-event <gateway-url> <eventId> [token]`

use std::time::Duration;

use futures::FutureExt;
use rust_socketio::asynchronous::ClientBuilder;
use rust_socketio::{Event, Payload, TransportType};
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(event)) = (args.next(), args.next()) else {
        eprintln!("usage: watch-event <gateway-url> <eventId> [token]");
        std::process::exit(2);
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Value)>();
    let (joined_tx, mut joined_rx) = mpsc::unbounded_channel::<()>();
    let mut builder = ClientBuilder::new(url.as_str())
        .namespace("/progress")
        .transport_type(TransportType::Websocket)
        .on(Event::Connect, move |_, _| {
            let joined_tx = joined_tx.clone();
            async move {
                let _ = joined_tx.send(());
            }
            .boxed()
        })
        .on_any(move |event, payload, _| {
            let tx = tx.clone();
            async move {
                if let Event::Custom(name) = event {
                    let _ = tx.send((name, first_value(payload)));
                }
            }
            .boxed()
        });
    if let Some(token) = args.next() {
        builder = builder.auth(json!({ "token": token }));
    }
    let client = builder
        .connect()
        .await
        .map_err(|err| anyhow::anyhow!("cannot connect to {url}/progress: {err}"))?;
    // Emitting before the namespace is joined gets the connection closed.
    tokio::time::timeout(Duration::from_secs(10), joined_rx.recv())
        .await
        .map_err(|_| anyhow::anyhow!("namespace /progress not joined within 10 s"))?;
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Value>();
    client
        .emit_with_ack(
            "subscribe:event",
            json!({ "eventId": event }),
            Duration::from_secs(10),
            move |payload, _| {
                let ack_tx = ack_tx.clone();
                async move {
                    let _ = ack_tx.send(first_value(payload));
                }
                .boxed()
            },
        )
        .await?;
    let ack = tokio::time::timeout(Duration::from_secs(10), ack_rx.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no answer to subscribe:event within 10 s"))?;
    println!("subscribed: {}", ack.unwrap_or(Value::Null));
    while let Some((name, data)) = rx.recv().await {
        println!(
            "  seq {:>4}  {name:<16} {}",
            data["seq"],
            describe(&name, &data)
        );
        if name == "event:completed" {
            break;
        }
    }
    let _ = client.disconnect().await;
    Ok(())
}

/// One line about a message, by its name.
fn describe(name: &str, d: &Value) -> String {
    match name {
        "photo:progress" => format!("{} {} {}%", d["photoId"], d["stage"], d["progress"]),
        "photo:completed" => format!(
            "{} bib={} colours={}",
            d["photoId"],
            d["plateNumber"],
            d["colors"].as_array().map_or(0, Vec::len)
        ),
        "photo:failed" => format!("{} {} ({})", d["photoId"], d["error"], d["code"]),
        "event:progress" => format!("{}/{} processed", d["processedPhotos"], d["totalPhotos"]),
        "event:completed" => format!("summary {}", d["summary"]),
        _ => d.to_string(),
    }
}

/// The first argument of a message (acks arrive as the list of the server's ack arguments).
fn first_value(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values) if !values.is_empty() => match values.remove(0) {
            Value::Array(mut args) if args.len() == 1 => args.remove(0),
            other => other,
        },
        #[allow(deprecated)]
        Payload::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        _ => Value::Null,
    }
}
