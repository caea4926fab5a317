//! Authentication at the gateway: JWT on the Socket.IO handshake and on the HTTP API.

use finishline_tests::{Rig, SocketClient, token};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_expired_and_forged_tokens_are_refused_at_connect() {
    let rig = Rig::builder("auth-connect").jwt(&[]).start().await;
    let gateway = rig.gateway();
    let url = gateway.url("");
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "events": ["*"], "exp": now() + 60 }),
        &EncodingKey::from_secret(b"not-the-secret"),
    )
    .unwrap();
    let cases = [
        (None, "missing token"),
        (
            Some(json!({ "token": token(json!({ "events": ["*"], "exp": now() - 600 })) })),
            "expired",
        ),
        (Some(json!({ "token": forged })), "bad signature"),
        (Some(json!({ "token": "not.a.jwt" })), "malformed"),
    ];
    for (auth, why) in cases {
        let refusal = SocketClient::try_connect(&url, auth)
            .await
            .err()
            .unwrap_or_else(|| panic!("{why}: connection accepted"));
        assert!(refusal.contains("unauthorized:"), "{why}: {refusal}");
    }
    let ok = token(json!({ "events": ["*"], "exp": now() + 60 }));
    assert!(
        SocketClient::try_connect(&url, Some(json!({ "token": ok })))
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_event_a_cannot_watch_event_b() {
    let rig = Rig::builder("auth-events").jwt(&[]).start().await;
    let gateway = rig.gateway();
    let token = token(json!({ "events": ["race-a"], "exp": now() + 60 }));
    let client = SocketClient::connect(&gateway.url(""), Some(json!({ "token": token }))).await;
    let ack = client
        .call("subscribe:event", json!({ "eventId": "race-a" }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    let ack = client
        .call("subscribe:event", json!({ "eventId": "race-b" }))
        .await;
    assert_eq!(ack["success"], false);
    assert_eq!(ack["error"]["code"], "forbidden", "{ack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_api_needs_a_bearer_token_with_the_enqueue_scope() {
    let rig = Rig::builder("auth-http").jwt(&[]).start().await;
    let gateway = rig.gateway();
    let http = reqwest::Client::new();
    let body = json!({ "photoId": "p1", "source": { "path": "p1.jpg" } });
    let url = gateway.url("/v1/events/race-a/photos");

    let response = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "unauthorized");

    let watcher = token(json!({ "events": ["race-a"], "exp": now() + 60 }));
    let response = http
        .post(&url)
        .bearer_auth(&watcher)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        403,
        "a watch-only token cannot enqueue"
    );

    let producer = token(json!({ "scope": "enqueue", "exp": now() + 60 }));
    let response = http
        .post(&url)
        .bearer_auth(&producer)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);

    let response = http
        .get(gateway.url("/v1/events/race-a"))
        .bearer_auth(&watcher)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let snapshot: Value = response.json().await.unwrap();
    assert_eq!(snapshot["totalPhotos"], 1);
    let response = http
        .get(gateway.url("/v1/events/race-b"))
        .bearer_auth(&watcher)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let health = http.get(gateway.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "health needs no token");
}

#[tokio::test]
async fn the_gateway_refuses_to_start_without_a_key_or_an_explicit_opt_out() {
    let output = tokio::process::Command::new(finishline_tests::binary("finishline-gateway"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--redis-url",
            "redis://127.0.0.1:1",
        ])
        .env_remove("FINISHLINE_JWT_SECRET")
        .env_remove("FINISHLINE_AUTH_DISABLED")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no authentication is configured"),
        "{stderr}"
    );
}
