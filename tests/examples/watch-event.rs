//! Watches one event through the gateway's Socket.IO namespace and prints every message as it
//! arrives, until `event:completed`. Used by the local run to show progress as a dashboard
//! sees it.
//!
//! `watch-event <gateway-url> <eventId> [token]`

use std::time::Duration;

use finishline_tests::SocketClient;
use serde_json::json;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(event)) = (args.next(), args.next()) else {
        eprintln!("usage: watch-event <gateway-url> <eventId> [token]");
        std::process::exit(2);
    };
    let auth = args.next().map(|token| json!({ "token": token }));
    let client = match SocketClient::try_connect(&url, auth).await {
        Ok(client) => client,
        Err(err) => {
            eprintln!("cannot connect to {url}/progress: {err}");
            std::process::exit(1);
        }
    };
    let ack = client
        .call("subscribe:event", json!({ "eventId": event }))
        .await;
    println!("subscribed: {ack}");
    let mut shown = 0;
    loop {
        let received = client.received();
        for m in &received[shown..] {
            let d = &m.data;
            let what = match m.name.as_str() {
                "photo:progress" => format!("{} {} {}%", d["photoId"], d["stage"], d["progress"]),
                "photo:completed" => format!(
                    "{} bib={} colours={}",
                    d["photoId"],
                    d["plateNumber"],
                    d["colors"].as_array().map_or(0, Vec::len)
                ),
                "photo:failed" => format!("{} {} ({})", d["photoId"], d["error"], d["code"]),
                "event:progress" => {
                    format!("{}/{} processed", d["processedPhotos"], d["totalPhotos"])
                }
                "event:completed" => format!("summary {}", d["summary"]),
                _ => d.to_string(),
            };
            println!("  seq {:>4}  {:<16} {what}", d["seq"], m.name);
        }
        shown = received.len();
        if received.iter().any(|m| m.name == "event:completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.disconnect().await;
}
