//! The artifact store on S3: a real S3-compatible server (moto's, from PyPI), the worker and
//! the gateway configured the way an operator would (`--artifacts s3://bucket/prefix`, the
//! standard AWS variables); the worker writes each photo's thumbnail to the bucket and the
//! gateway serves it from there with the same auth and cache headers as from a local folder.

use std::time::Duration;

use finishline_bibgen::Set;
use finishline_tests::s3_server::S3Server;
use finishline_tests::{Rig, token, unique_prefix, write_race_photos};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_go_to_s3_and_the_gateway_serves_them_only_with_a_token() {
    let s3 = S3Server::start().await;
    s3.create_bucket("finishline-e2e").await;
    let key_prefix = unique_prefix("artifacts-s3");
    let artifacts = format!("s3://finishline-e2e/{key_prefix}");
    let rig = Rig::builder("artifacts-s3")
        .jwt(&["--artifacts", &artifacts])
        .env(&s3.env())
        .workers(1)
        .worker_flags(&["--artifacts", &artifacts])
        .start()
        .await;
    let truths = write_race_photos(&rig.media, Set::Normal, 2, 33);

    let photos: Vec<Value> = truths
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "photoId": format!("p-{i}"), "source": { "path": t.file } }))
        .collect();
    let producer = token(json!({ "scope": "enqueue" }));
    rig.post_photos_as(Some(&producer), "race-s3", &json!({ "photos": photos }))
        .await;
    rig.wait_jobs_ended("race-s3", truths.len() as u64, Duration::from_secs(120))
        .await;
    let completed = rig.message_bodies("race-s3", "photo:completed").await;
    assert_eq!(completed.len(), truths.len());

    let client = reqwest::Client::new();
    let watcher = token(json!({ "events": ["race-s3"] }));
    for body in &completed {
        let job = body["jobId"].as_str().unwrap();
        assert_eq!(
            body["thumbnail"],
            json!(format!("/v1/jobs/{job}/thumbnail")),
            "{body}\nworker log:\n{}",
            rig.worker().log()
        );
        // In the bucket, under the URL's prefix, private, and not in the default local folder.
        let key = format!("{key_prefix}/thumbnails/{job}.jpg");
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
        let url = rig.gateway().url(body["thumbnail"].as_str().unwrap());
        let response = client.get(&url).bearer_auth(&watcher).send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "gateway log:\n{}",
            rig.gateway().log()
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
}
