//! The artifact store on S3: a real S3-compatible server (moto's, from PyPI), the worker and
//! the gateway configured the way an operator would (`--artifacts s3://bucket/prefix`, the
//! standard AWS variables); the worker writes each photo's thumbnail, and each bib's
//! thumbnail of a video at its best frame, to the bucket, and the gateway serves them from
//! there with the same auth and cache headers as from a local folder.

use std::time::Duration;

use finishline_bibgen::Set;
use finishline_tests::s3_server::S3Server;
use finishline_tests::{Rig, token, unique_prefix, write_race_photos, write_runners_video};
use serde_json::{Value, json};

const BUCKET: &str = "finishline-e2e";

/// The object `key` is in the bucket, private, and the gateway serves it at `path` from
/// there, privately cacheable, to `watcher` only: no token 401, another event's watcher 404.
/// Returns the image served.
async fn assert_served_from_s3(
    s3: &S3Server,
    rig: &Rig,
    key: &str,
    path: &str,
    watcher: &str,
) -> image::DynamicImage {
    let Some(size) = s3.object_size(BUCKET, key).await else {
        panic!(
            "s3://{BUCKET}/{key} is missing; the bucket holds: {}\nworker log:\n{}",
            s3.listing(BUCKET).await,
            rig.worker().log()
        );
    };
    assert_eq!(s3.anonymous_get_status(BUCKET, key).await, 403, "{key}");
    let client = reqwest::Client::new();
    let url = rig.gateway().url(path);
    let response = client.get(&url).bearer_auth(watcher).send().await.unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{path}; gateway log:\n{}",
        rig.gateway().log()
    );
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(
        response.headers()["cache-control"],
        "private, max-age=3600",
        "cache headers of {path}"
    );
    let served = response.bytes().await.unwrap();
    assert_eq!(
        served.len() as u64,
        size,
        "{path} is the object in the bucket"
    );

    let response = client.get(&url).send().await.unwrap();
    assert_eq!(
        response.status().as_u16(),
        401,
        "{path} refused without a token"
    );
    let response = client
        .get(&url)
        .bearer_auth(token(json!({ "events": ["race-other"] })))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        404,
        "{path} hidden from other events"
    );
    image::load_from_memory(&served).expect("a JPEG")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_go_to_s3_and_the_gateway_serves_them_only_with_a_token() {
    let s3 = S3Server::start().await;
    s3.create_bucket(BUCKET).await;
    let key_prefix = unique_prefix("artifacts-s3");
    let artifacts = format!("s3://{BUCKET}/{key_prefix}");
    let rig = Rig::builder("artifacts-s3")
        .jwt(&["--artifacts", &artifacts])
        .env(&s3.env())
        .workers(1)
        .worker_flags(&["--artifacts", &artifacts, "--video-fps", "2"])
        .start()
        .await;
    let truths = write_race_photos(&rig.media, Set::Normal, 2, 33);
    // The same two runners in a video: the first bib on screen 0–2 s, the second 2–4 s.
    write_runners_video(&rig.media, &truths, "runners.mp4");

    let photos: Vec<Value> = truths
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "photoId": format!("p-{i}"), "source": { "path": t.file } }))
        .collect();
    let producer = token(json!({ "scope": "enqueue" }));
    rig.post_photos_as(Some(&producer), "race-s3", &json!({ "photos": photos }))
        .await;
    let video = json!({ "videoId": "runners", "source": { "path": "runners.mp4" } });
    let (status, body) = rig
        .post_as("/v1/events/race-s3/videos", Some(&producer), &video)
        .await;
    assert_eq!(status, 202, "{body}");
    rig.wait_jobs_ended("race-s3", truths.len() as u64 + 1, Duration::from_secs(180))
        .await;
    let completed = rig.message_bodies("race-s3", "photo:completed").await;
    assert_eq!(completed.len(), truths.len());

    let watcher = token(json!({ "events": ["race-s3"] }));
    for body in &completed {
        let job = body["jobId"].as_str().unwrap();
        assert_eq!(
            body["thumbnail"],
            json!(format!("/v1/jobs/{job}/thumbnail")),
            "{body}\nworker log:\n{}",
            rig.worker().log()
        );
        // In the bucket under the URL's prefix, and not in the default local folder.
        let key = format!("{key_prefix}/thumbnails/{job}.jpg");
        let path = body["thumbnail"].as_str().unwrap();
        let image = assert_served_from_s3(&s3, &rig, &key, path, &watcher).await;
        assert_eq!(image.width().max(image.height()), 320);
        let local = std::path::Path::new("/tmp/finishline-artifacts/thumbnails");
        assert!(!local.join(format!("{job}.jpg")).exists());
    }

    // The video: one thumbnail per bib it reports, at `thumbnails/<jobId>/<number>.jpg`.
    let videos = rig.message_bodies("race-s3", "video:completed").await;
    let [done] = videos.as_slice() else {
        panic!(
            "one video:completed: {videos:?}\nworker log:\n{}",
            rig.worker().log()
        )
    };
    let job = done["jobId"].as_str().unwrap();
    for truth in &truths {
        let plate = done["plates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["number"] == json!(truth.number))
            .unwrap_or_else(|| panic!("bib {} not reported: {done}", truth.number));
        let path = format!("/v1/jobs/{job}/thumbnails/{}", truth.number);
        assert_eq!(plate["thumbnail"], json!(path), "{done}");
        let key = format!("{key_prefix}/thumbnails/{job}/{}.jpg", truth.number);
        let image = assert_served_from_s3(&s3, &rig, &key, &path, &watcher).await;
        assert_eq!(image.width().max(image.height()), 320, "{path}");
        let local = std::path::Path::new("/tmp/finishline-artifacts/thumbnails").join(job);
        assert!(!local.exists(), "{} is not written", local.display());
    }
}
