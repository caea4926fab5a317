//! Hostile input against every entry point: each gets its documented error, the process keeps
//! serving, and nothing is enqueued. Limits refuse the greedy client, not the others.

use std::time::Duration;

use finishline_tests::{Rig, SocketClient, wait_until};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_bodies_get_their_documented_errors_and_enqueue_nothing() {
    let rig = Rig::builder("hostile-http").start().await;
    let gateway = rig.gateway();
    let http = reqwest::Client::new();
    let photo = |id: &str, source: Value| json!({ "photoId": id, "source": source });
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "path traversal",
            photo("p1", json!({ "path": "../../etc/passwd" })).to_string(),
            422,
        ),
        (
            "absolute path",
            photo("p1", json!({ "path": "/etc/shadow" })).to_string(),
            422,
        ),
        (
            "file url",
            photo("p1", json!({ "url": "file:///etc/passwd" })).to_string(),
            422,
        ),
        (
            "gopher url",
            photo("p1", json!({ "url": "gopher://127.0.0.1:6379/_FLUSHALL" })).to_string(),
            422,
        ),
        (
            "control chars",
            photo("p1", json!({ "path": "a\u{0}b.jpg" })).to_string(),
            422,
        ),
        (
            "rtl override id",
            photo("p\u{202e}gpj.exe", json!({ "path": "a.jpg" })).to_string(),
            422,
        ),
        (
            "zero-width id",
            photo("p\u{200b}1", json!({ "path": "a.jpg" })).to_string(),
            422,
        ),
        (
            "emoji id",
            photo("🏃", json!({ "path": "a.jpg" })).to_string(),
            422,
        ),
        (
            "id too long",
            photo(&"x".repeat(129), json!({ "path": "a.jpg" })).to_string(),
            422,
        ),
        (
            "number id",
            json!({ "photoId": 7, "source": { "path": "a.jpg" } }).to_string(),
            422,
        ),
        (
            "two sources",
            json!({ "photoId": "p", "source": { "path": "a.jpg", "url": "http://x/a" } })
                .to_string(),
            422,
        ),
        (
            "extra field",
            json!({ "photoId": "p", "source": { "path": "a.jpg" }, "priority": 1 }).to_string(),
            422,
        ),
        ("array body", "[]".to_owned(), 422),
        ("null body", "null".to_owned(), 422),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
            400,
        ),
        ("truncated json", r#"{"photoId":"p","sou"#.to_owned(), 400),
        (
            "invalid utf-8",
            String::from_utf8_lossy(b"{\"photoId\":\"\xff\"}").into_owned(),
            422,
        ),
    ];
    for (what, body, status) in cases {
        let response = http
            .post(gateway.url("/v1/events/hostile/photos"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let error: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: {error}"
        );
    }
    let response = http
        .post(gateway.url("/v1/events/hostile/photos"))
        .header("X-Request-Id", "bad id with spaces")
        .json(&photo("p", json!({ "path": "a.jpg" })))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        400,
        "a malformed X-Request-Id is refused, not altered"
    );
    let snapshot: Value = http
        .get(gateway.url("/v1/events/hostile"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["totalPhotos"], 0, "nothing was enqueued");
    assert_eq!(
        http.get(gateway.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200,
        "still serving"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_aimed_at_internal_addresses_fail_without_a_fetch() {
    let rig = Rig::builder("ssrf").workers(1).start().await;
    let gateway = rig.gateway();
    let client = rig.subscribed_client("ssrf").await;
    let targets = [
        "http://127.0.0.1:6379/",
        "http://localhost:22/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://10.0.0.1/x.jpg",
        "http://2130706433/",
    ];
    let photos: Vec<Value> = targets
        .iter()
        .enumerate()
        .map(|(i, url)| json!({ "photoId": format!("s{i}"), "source": { "url": url } }))
        .collect();
    let response = reqwest::Client::new()
        .post(gateway.url("/v1/events/ssrf/photos"))
        .json(&json!({ "photos": photos }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    client
        .wait_for("event:completed", Duration::from_secs(30))
        .await;
    let failed: Vec<_> = client
        .received()
        .into_iter()
        .filter(|m| m.name == "photo:failed")
        .collect();
    assert_eq!(failed.len(), targets.len());
    for m in failed {
        assert_eq!(m.data["code"], "source_refused", "{}", m.data);
        assert_eq!(m.data["attempts"], 1, "refused for good, not retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greedy_clients_are_rate_limited_and_others_are_not() {
    let rig = Rig::builder("limits")
        .gateway_flags(&[
            "--auth-disabled",
            "--enqueue-rate",
            "2",
            "--subscribe-rate",
            "2",
            "--max-subscriptions",
            "3",
            "--max-connections-per-ip",
            "3",
        ])
        .start()
        .await;
    let gateway = rig.gateway();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let response = http
            .post(gateway.url("/v1/events/limits/photos"))
            .json(&json!({ "photoId": format!("p{i}"), "source": { "path": "a.jpg" } }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        4,
        "a burst of twice the rate: {statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");

    let client = SocketClient::connect(&gateway.url(""), None).await;
    let mut codes = Vec::new();
    for i in 0..6 {
        let ack = client
            .call("subscribe:event", json!({ "eventId": format!("e{i}") }))
            .await;
        codes.push(if ack["success"] == true {
            "ok".to_owned()
        } else {
            ack["error"]["code"].as_str().unwrap_or("?").to_owned()
        });
    }
    assert_eq!(codes.iter().filter(|c| *c == "ok").count(), 3, "{codes:?}");
    assert!(
        codes.iter().skip(3).all(|c| c == "rate_limited"),
        "{codes:?}"
    );

    let _second = SocketClient::connect(&gateway.url(""), None).await;
    let _third = SocketClient::connect(&gateway.url(""), None).await;
    let refused = SocketClient::try_connect(&gateway.url(""), None)
        .await
        .err()
        .expect("a fourth connection from one IP is refused");
    assert!(refused.contains("rate_limited"), "{refused}");
    drop(_third);
    assert_eq!(
        http.get(gateway.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_socket_message_closes_only_that_connection() {
    let rig = Rig::builder("big")
        .gateway_flags(&["--auth-disabled", "--max-client-message-bytes", "4096"])
        .start()
        .await;
    let gateway = rig.gateway();
    let bystander = SocketClient::connect(&gateway.url(""), None).await;
    let greedy = SocketClient::connect(&gateway.url(""), None).await;
    greedy
        .emit("subscribe:event", json!({ "eventId": "x".repeat(100_000) }))
        .await;
    // The gateway closed the greedy connection: its gauge drops to the bystander alone, and
    // the greedy client's next call is never answered.
    let metrics = gateway.url("/metrics");
    wait_until(
        "the gateway to count one connection",
        Duration::from_secs(5),
        || {
            let metrics = metrics.clone();
            async move {
                let Ok(response) = reqwest::get(&metrics).await else {
                    return false;
                };
                let text = response.text().await.unwrap_or_default();
                text.lines()
                    .any(|line| line.trim() == "finishline_gateway_connections 1")
            }
        },
    )
    .await;
    let again = greedy
        .try_call(
            "subscribe:event",
            json!({ "eventId": "fine" }),
            Duration::from_secs(2),
        )
        .await;
    assert_eq!(again, None, "the greedy connection is closed");
    let ack = bystander
        .call("subscribe:event", json!({ "eventId": "fine" }))
        .await;
    assert_eq!(ack["success"], true, "the gateway keeps serving others");
    let url = gateway.url("/healthz");
    wait_until("health answers", Duration::from_secs(5), || {
        let url = url.clone();
        async move {
            reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_only_the_allowed_origins() {
    let rig = Rig::builder("cors")
        .gateway_flags(&[
            "--auth-disabled",
            "--allowed-origins",
            "https://dash.example.org",
        ])
        .start()
        .await;
    let gateway = rig.gateway();
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, gateway.url("/v1/events/e/photos"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://dash.example.org").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://dash.example.org")
    );
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "no CORS grant for other origins"
    );
}
