//! The artifact store on S3: a real S3-compatible server (moto's, from PyPI), the worker and
//! the gateway configured the way an operator would (`--artifacts s3://bucket/prefix`, the
//! standard AWS variables); the worker writes each photo's thumbnail to the bucket and the
//! gateway serves it from there with the same auth and cache headers as from a local folder.

use std::time::Duration;

use finishline_bibgen::Set;
use finishline_bus::{BusLimits, Keys, ProgressBus};
use finishline_tests::s3_server::{ProcessWithEnv, S3Server};
use finishline_tests::{RedisServer, unique_prefix, wait_until, write_race_photos};
use finishline_wire::EventId;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const SECRET: &str = "an-hs256-test-secret-of-32-bytes-or-more";

fn token(claims: Value) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let mut claims = claims;
    claims["exp"] = json!(exp);
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// The `photo:completed` bodies of an event, once `total` photos have ended.
async fn completed_photos(bus: &ProgressBus, event: &str, total: usize) -> Vec<Value> {
    let event = EventId::parse(event).unwrap();
    wait_until(
        &format!("{total} photos of {event} end"),
        Duration::from_secs(120),
        || {
            let (bus, event) = (bus.clone(), event.clone());
            async move {
                bus.snapshot(&event)
                    .await
                    .is_ok_and(|s| s.counts.processed_photos >= total as u64)
            }
        },
    )
    .await;
    bus.history_range(&event, 0, u64::MAX, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.name.as_str() == "photo:completed")
        .map(|m| serde_json::from_str(m.data.get()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_go_to_s3_and_the_gateway_serves_them_only_with_a_token() {
    let s3 = S3Server::start().await;
    s3.create_bucket("finishline-e2e").await;
    let redis = RedisServer::start().await;
    let prefix = unique_prefix("artifacts-s3");
    let artifacts = format!("s3://finishline-e2e/{prefix}");
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let media = std::env::temp_dir().join(unique_prefix("artifacts-s3-media"));
    std::fs::create_dir_all(&media).unwrap();
    let truths = write_race_photos(&media, Set::Normal, 2, 33);
    let worker = ProcessWithEnv::worker(
        redis.url(),
        &prefix,
        &media,
        &["--artifacts", &artifacts],
        &env,
    )
    .await;
    let gateway_flags = ["--jwt-secret", SECRET, "--artifacts", &artifacts];
    let gateway = ProcessWithEnv::gateway(redis.url(), &prefix, &gateway_flags, &env).await;

    let client = reqwest::Client::new();
    let photos: Vec<Value> = truths
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "photoId": format!("p-{i}"), "source": { "path": t.file } }))
        .collect();
    let response = client
        .post(gateway.url("/v1/events/race-s3/photos"))
        .bearer_auth(token(json!({ "scope": "enqueue" })))
        .json(&json!({ "photos": photos }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let bus = ProgressBus::new(
        redis.connection().await,
        Keys::new(&prefix),
        BusLimits::default(),
    );
    let completed = completed_photos(&bus, "race-s3", truths.len()).await;
    assert_eq!(completed.len(), truths.len());

    let watcher = token(json!({ "events": ["race-s3"] }));
    for body in &completed {
        let job = body["jobId"].as_str().unwrap();
        assert_eq!(
            body["thumbnail"],
            json!(format!("/v1/jobs/{job}/thumbnail")),
            "{body}\nworker log:\n{}",
            worker.log()
        );
        // In the bucket, under the URL's prefix, private, and not in the default local folder.
        let key = format!("{prefix}/thumbnails/{job}.jpg");
        let Some(size) = s3.object_size("finishline-e2e", &key).await else {
            panic!(
                "s3://finishline-e2e/{key} is missing; the bucket holds: {}",
                s3.listing("finishline-e2e").await
            );
        };
        assert_eq!(s3.anonymous_get_status("finishline-e2e", &key).await, 403);
        let local = std::path::Path::new("/tmp/finishline-artifacts/thumbnails");
        assert!(!local.join(format!("{job}.jpg")).exists());

        // The gateway serves it from S3, privately cacheable.
        let url = gateway.url(body["thumbnail"].as_str().unwrap());
        let response = client.get(&url).bearer_auth(&watcher).send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "gateway log:\n{}",
            gateway.log()
        );
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        assert_eq!(
            response.headers()["cache-control"],
            "private, max-age=3600",
            "cache headers"
        );
        let served = response.bytes().await.unwrap();
        assert_eq!(served.len() as u64, size, "the object in the bucket");
        let image = image::load_from_memory(&served).expect("a JPEG");
        assert_eq!(image.width().max(image.height()), 320);

        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "refused without a token");
        let response = client
            .get(&url)
            .bearer_auth(token(json!({ "events": ["race-other"] })))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "hidden from other events");
    }
    let _ = std::fs::remove_dir_all(media);
}
