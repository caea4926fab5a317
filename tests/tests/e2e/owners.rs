//! Owners and per-user delivery: a job belongs to the `sub` of the token that enqueued it (or
//! to the `userId` an admin names), and its messages reach that user's sockets whatever their
//! event rights; another user's sockets never see them.

use std::time::Duration;

use finishline_bus::{BusLimits, Keys, ProgressBus};
use finishline_tests::{Gateway, RedisServer, SocketClient, run_photo_job, unique_prefix};
use finishline_wire::JobId;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

pub const SECRET: &str = "an-hs256-owners-test-secret-of-32-bytes+";

/// A token signed with [`SECRET`], valid for ten minutes.
pub fn token(mut claims: Value) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    claims["exp"] = json!(exp);
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// Posts one photo with `token` and `extra` body fields; returns the status and the body.
pub async fn post_photo(
    gateway: &Gateway,
    token: &str,
    event: &str,
    photo: &str,
    extra: Value,
) -> (u16, Value) {
    let mut body = json!({ "photoId": photo, "source": { "path": format!("{photo}.png") } });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = reqwest::Client::new()
        .post(gateway.url(&format!("/v1/events/{event}/photos")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn job_ids(client: &SocketClient) -> Vec<String> {
    client
        .received()
        .iter()
        .filter_map(|m| m.data["jobId"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_gets_its_own_jobs_messages_and_never_another_users() {
    let redis = RedisServer::start().await;
    let prefix = unique_prefix("owners");
    let gateway = Gateway::start_with(redis.url(), &prefix, &["--jwt-secret", SECRET]).await;
    let url = gateway.url("");
    // Neither user may watch any event: what reaches them comes through their user room.
    let alice = SocketClient::connect(
        &url,
        Some(json!({ "token": token(json!({ "sub": "alice", "events": [] })) })),
    )
    .await;
    let bob = SocketClient::connect(
        &url,
        Some(json!({ "token": token(json!({ "sub": "bob", "events": [] })) })),
    )
    .await;

    let alice_enqueues = token(json!({ "sub": "alice", "scope": "enqueue" }));
    let (status, body) = post_photo(&gateway, &alice_enqueues, "race-a", "a1", json!({})).await;
    assert_eq!(status, 202, "{body}");
    let alice_job = body["jobs"][0]["jobId"].as_str().unwrap().to_owned();
    // A service enqueues on bob's behalf: only an admin token may name the owner.
    let (status, body) = post_photo(
        &gateway,
        &alice_enqueues,
        "race-b",
        "b1",
        json!({ "userId": "bob" }),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let service = token(json!({ "sub": "svc", "scope": "admin" }));
    let (status, body) = post_photo(
        &gateway,
        &service,
        "race-b",
        "b1",
        json!({ "userId": "bob" }),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let bob_job = body["jobs"][0]["jobId"].as_str().unwrap().to_owned();

    let conn = redis.connection().await;
    let bus = ProgressBus::new(conn, Keys::new(&prefix), BusLimits::default());
    for (job, photo) in [(&alice_job, "a1"), (&bob_job, "b1")] {
        assert!(run_photo_job(&bus, &JobId::parse(job.as_str()).unwrap(), photo).await);
    }
    let status = bus
        .job_status(&JobId::parse(bob_job.as_str()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.owner.as_deref(), Some("bob"));

    alice
        .wait_for("photo:completed", Duration::from_secs(10))
        .await;
    bob.wait_for("photo:completed", Duration::from_secs(10))
        .await;
    let (a, b) = (job_ids(&alice), job_ids(&bob));
    assert!(!a.is_empty() && a.iter().all(|j| *j == alice_job), "{a:?}");
    assert!(!b.is_empty() && b.iter().all(|j| *j == bob_job), "{b:?}");
    let names: Vec<String> = alice
        .received()
        .iter()
        .filter(|m| m.name.starts_with("photo:"))
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "photo:progress",
            "photo:progress",
            "photo:progress",
            "photo:completed"
        ]
    );
    assert!(
        alice
            .received()
            .iter()
            .all(|m| !m.name.starts_with("event:")),
        "event messages are not a user's: {:?}",
        alice.received()
    );
}
