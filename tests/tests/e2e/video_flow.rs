//! Videos flow from the HTTP API through `video-processing` and the worker's ffmpeg sampling
//! to a Socket.IO room: progress in stage order, one terminal message, counted once.

use std::time::Duration;

use finishline_tests::{
    Gateway, PhotoServer, Received, Rig, SocketClient, Worker, media_dir, protocol_color_names,
    wait_until, write_corrupt_video, write_photo, write_test_pattern_video, write_video,
};
use finishline_wire::{JobKind, Stage};
use serde_json::{Value, json};

async fn post_videos(gateway: &Gateway, event: &str, request_id: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(gateway.url(&format!("/v1/events/{event}/videos")))
        .header("X-Request-Id", request_id)
        .json(&body)
        .send()
        .await
        .expect("POST videos");
    assert_eq!(response.status().as_u16(), 202);
    response.json().await.expect("JSON body")
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// A worker (started with `worker_args`) on `rig`, and a Socket.IO client subscribed to
/// `event` with its subscribe ack. The media the test needs is written before.
async fn start_worker_and_client(
    rig: &Rig,
    worker_args: &[&str],
    event: &str,
) -> (Worker, SocketClient, Value) {
    let worker = rig.start_worker(worker_args).await;
    let client = rig.client().await;
    let ack = client
        .call("subscribe:event", json!({ "eventId": event }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    (worker, client, ack)
}

fn named<'a>(messages: &'a [Received], name: &str) -> Vec<&'a Received> {
    messages.iter().filter(|m| m.name == name).collect()
}

fn position(messages: &[Received], name: &str) -> usize {
    messages
        .iter()
        .position(|m| m.name == name)
        .unwrap_or_else(|| panic!("no {name} in {messages:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_reports_rising_progress_in_stage_order_then_its_duration_and_completes_the_event()
{
    let rig = Rig::builder("video-flow").start().await;
    let media = &rig.media;
    write_video(&media.join("finish.mp4"), 4, 10, 320, 240);
    // 10 sampled frames per second: 40 frames, more than the progress messages allowed.
    let (_worker, client, ack) =
        start_worker_and_client(&rig, &["--video-fps", "10"], "race-v").await;
    let gateway = rig.gateway();
    assert_eq!(ack["snapshot"]["totalVideos"], 0);

    let first = post_videos(
        gateway,
        "race-v",
        "req-video-1",
        json!({ "videoId": "v1", "source": { "path": "finish.mp4" } }),
    )
    .await;
    assert_eq!(first["requestId"], "req-video-1");
    let job = &first["jobs"][0];
    assert_eq!(job["videoId"], "v1");
    assert_eq!(job["created"], true);
    let job_id = job["jobId"].as_str().expect("jobId").to_owned();

    // The same videoId again, as a batch: the same job, nothing added.
    let again = post_videos(
        gateway,
        "race-v",
        "req-video-2",
        json!({ "videos": [{ "videoId": "v1", "source": { "path": "finish.mp4" } }] }),
    )
    .await;
    assert_eq!(again["jobs"][0]["jobId"], job_id.as_str());
    assert_eq!(again["jobs"][0]["created"], false);

    client
        .wait_for("event:completed", Duration::from_secs(90))
        .await;
    let messages = client.received();
    for m in &messages {
        assert_eq!(m.data["eventId"], "race-v", "{m:?}");
        assert_eq!(m.data["requestId"], "req-video-1", "{m:?}");
    }
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m.data["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq rises: {seqs:?}");

    // PROTOCOL.md's video stages, in its order.
    let order = ["probe", "frames", "detection", "ocr", "color"];
    let progress = named(&messages, "video:progress");
    let steps: Vec<(usize, u64)> = progress
        .iter()
        .map(|m| {
            assert_eq!(m.data["videoId"], "v1");
            assert_eq!(m.data["jobId"], job_id.as_str());
            let stage = m.data["stage"].as_str().expect("stage");
            let index = order
                .iter()
                .position(|s| *s == stage)
                .expect("a video stage");
            (index, m.data["progress"].as_u64().expect("progress"))
        })
        .collect();
    assert!(
        steps
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1),
        "stages in order and progress rising: {steps:?}"
    );
    let stages: Vec<usize> = steps.iter().map(|s| s.0).collect();
    for (stage, name) in order.iter().enumerate() {
        assert!(stages.contains(&stage), "{name} reported: {steps:?}");
    }
    assert!(
        steps.iter().filter(|s| s.0 == 2).count() >= 2,
        "detection progress rises with the frames: {steps:?}"
    );
    // Throttled as the worker promises: within a stage, a message follows the previous one
    // only after a rise of 5 points or 250 ms (stamps are taken when the batch is written,
    // so allow 100 ms of writer delay). A count would depend on how loaded the machine is.
    let stamp = |m: &Received| {
        chrono::DateTime::parse_from_rfc3339(m.data["ts"].as_str().expect("ts"))
            .expect("RFC 3339 ts")
    };
    for (pair, (a, b)) in progress
        .windows(2)
        .zip(steps.windows(2).map(|w| (w[0], w[1])))
    {
        if a.0 != b.0 {
            continue;
        }
        let gap = (stamp(pair[1]) - stamp(pair[0])).num_milliseconds();
        assert!(
            b.1 >= a.1 + 5 || gap >= 150,
            "a message {gap} ms after the last for a rise of {} points: {steps:?}",
            b.1 - a.1
        );
    }

    let completed = named(&messages, "video:completed");
    assert_eq!(completed.len(), 1, "one video:completed");
    let done = &completed[0].data;
    assert_eq!(done["videoId"], "v1");
    assert_eq!(done["jobId"], job_id.as_str());
    let duration = done["durationMs"].as_u64().expect("durationMs");
    assert!(
        (3900..=4100).contains(&duration),
        "durationMs ≈ 4000: {duration}"
    );
    let plates = done["plates"].as_array().expect("plates");
    assert!(
        plates.is_empty(),
        "the baseline engine reads no number and invents none: {plates:?}"
    );
    assert!(named(&messages, "video:failed").is_empty());

    let completed_at = position(&messages, "video:completed");
    assert!(
        messages[..completed_at]
            .iter()
            .filter(|m| m.name == "video:progress")
            .count()
            == progress.len(),
        "no progress after the terminal message"
    );
    let counted = messages
        .iter()
        .enumerate()
        .skip(completed_at)
        .find(|(_, m)| m.name == "event:progress")
        .expect("event:progress after video:completed");
    assert_eq!(counted.1.data["processedVideos"], 1);
    assert_eq!(counted.1.data["totalVideos"], 1);
    assert_eq!(named(&messages, "event:completed").len(), 1);
    let last = messages.last().expect("messages");
    assert_eq!(last.name, "event:completed");
    assert_eq!(
        last.data["summary"],
        json!({ "total": 1, "succeeded": 1, "failed": 0, "cancelled": 0 })
    );

    let snapshot = get_json(&gateway.url("/v1/events/race-v")).await;
    assert_eq!(snapshot["totalVideos"], 1, "{snapshot}");
    assert_eq!(snapshot["processedVideos"], 1, "{snapshot}");
    assert_eq!(snapshot["totalPhotos"], 0, "{snapshot}");
    let status = get_json(&gateway.url(&format!("/v1/jobs/{job_id}"))).await;
    assert_eq!(status["kind"], "video", "{status}");
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(status["attempts"], 1, "{status}");
    assert_eq!(status["result"]["durationMs"], duration, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_video_fails_once_with_a_readable_error_and_no_retry() {
    let rig = Rig::builder("video-corrupt").start().await;
    let media = &rig.media;
    write_corrupt_video(&media.join("broken.mp4"));
    let (worker, client, _ack) = start_worker_and_client(
        &rig,
        &["--max-attempts", "3", "--retry-base-delay", "100ms"],
        "race-bad",
    )
    .await;
    let gateway = rig.gateway();
    let body = post_videos(
        gateway,
        "race-bad",
        "req-bad",
        json!({ "videoId": "broken", "source": { "path": "broken.mp4" } }),
    )
    .await;
    let job_id = body["jobs"][0]["jobId"].as_str().expect("jobId").to_owned();
    client
        .wait_for("event:completed", Duration::from_secs(60))
        .await;
    let messages = client.received();
    let failed = named(&messages, "video:failed");
    assert_eq!(failed.len(), 1, "one video:failed: {messages:?}");
    let data = &failed[0].data;
    assert_eq!(data["videoId"], "broken");
    assert_eq!(data["code"], "corrupt_video", "{data}");
    assert_eq!(data["attempts"], 1, "no retry: {data}");
    let error = data["error"].as_str().expect("error");
    assert!(error.starts_with("corrupt video: "), "{error}");
    assert!(
        !error.contains(&media.display().to_string()),
        "no server path in the error: {error}"
    );
    assert!(named(&messages, "video:completed").is_empty());
    assert_eq!(
        messages.last().map(|m| m.data["summary"].clone()),
        Some(json!({ "total": 1, "succeeded": 0, "failed": 1, "cancelled": 0 }))
    );
    let status = get_json(&gateway.url(&format!("/v1/jobs/{job_id}"))).await;
    assert_eq!(status["state"], "failed", "{status}");
    assert_eq!(status["attempts"], 1, "{status}");
    assert!(
        !worker.log().contains("retry scheduled"),
        "a permanent failure is never retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_split_workers_and_a_video_worker_without_ffmpeg_refuses_to_start() {
    let rig = Rig::builder("video-queues").start().await;
    let media = &rig.media;
    write_photo(&media.join("p.jpg"), 64, 48, [10, 200, 10], [10, 10, 200]);
    write_video(&media.join("clip.mp4"), 2, 5, 160, 120);

    let (code, log) = Worker::start_expecting_exit(
        rig.redis.url(),
        &rig.prefix,
        media,
        &["--queues", "photo,video", "--ffmpeg", "/nonexistent/ffmpeg"],
    )
    .await;
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains("video-processing needs ffmpeg and ffprobe")
            && log.contains("/nonexistent/ffmpeg"),
        "a clear start-up error: {log}"
    );

    let gateway = rig.gateway();
    let photos = Worker::start_with(
        rig.redis.url(),
        &rig.prefix,
        media,
        &["--queues", "photo", "--ffmpeg", "/nonexistent/ffmpeg"],
    )
    .await;
    assert!(photos.log().contains("consuming photo-processing"));
    reqwest::Client::new()
        .post(gateway.url("/v1/events/mixed/photos"))
        .json(&json!({ "photoId": "p", "source": { "path": "p.jpg" } }))
        .send()
        .await
        .expect("POST photo");
    post_videos(
        gateway,
        "mixed",
        "req-mixed",
        json!({ "videoId": "clip", "source": { "path": "clip.mp4" } }),
    )
    .await;
    let snapshot_url = gateway.url("/v1/events/mixed");
    wait_until(
        "the photo-only worker ends the photo",
        Duration::from_secs(30),
        || {
            let url = snapshot_url.clone();
            async move { get_json(&url).await["processedPhotos"] == 1 }
        },
    )
    .await;
    let snapshot = get_json(&snapshot_url).await;
    assert_eq!(snapshot["totalVideos"], 1, "{snapshot}");
    assert_eq!(
        snapshot["processedVideos"], 0,
        "a photo-only worker leaves videos queued: {snapshot}"
    );

    let _videos =
        Worker::start_with(rig.redis.url(), &rig.prefix, media, &["--queues", "video"]).await;
    wait_until(
        "the video-only worker ends the video",
        Duration::from_secs(60),
        || {
            let url = snapshot_url.clone();
            async move { get_json(&url).await["processedVideos"] == 1 }
        },
    )
    .await;
    let snapshot = get_json(&snapshot_url).await;
    assert_eq!(snapshot["succeeded"], 2, "{snapshot}");
}

/// Whether an ffmpeg process reading a file under `dir` is running.
fn ffmpeg_running_under(dir: &std::path::Path) -> bool {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .any(|cmdline| cmdline.starts_with("ffmpeg ") && cmdline.contains(&needle))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_video_cancelled_stops_between_frames_and_its_ffmpeg_is_killed() {
    let rig = Rig::builder("video-cancel").start().await;
    let media = &rig.media;
    write_test_pattern_video(&media.join("long.mp4"), 600);
    let (worker, client, _ack) =
        start_worker_and_client(&rig, &["--video-fps", "10"], "race-cancel").await;
    let gateway = rig.gateway();
    let body = post_videos(
        gateway,
        "race-cancel",
        "req-cancel",
        json!({ "videoId": "long", "source": { "path": "long.mp4" } }),
    )
    .await;
    let job_id = body["jobs"][0]["jobId"].as_str().expect("jobId").to_owned();
    wait_until(
        "the video's frames are being detected",
        Duration::from_secs(60),
        || {
            let detecting = client
                .received()
                .iter()
                .any(|m| m.name == "video:progress" && m.data["stage"] == "detection");
            async move { detecting }
        },
    )
    .await;
    assert!(ffmpeg_running_under(media), "ffmpeg samples the video");
    let response: Value = reqwest::Client::new()
        .post(gateway.url(&format!("/v1/jobs/{job_id}/cancel")))
        .send()
        .await
        .expect("cancel")
        .json()
        .await
        .expect("JSON");
    assert_eq!(response["cancelled"], true, "{response}");
    wait_until(
        "the worker stops the run between two frames",
        Duration::from_secs(30),
        || {
            let stopped = worker.log().contains("newer run owns this job");
            async move { stopped }
        },
    )
    .await;
    wait_until("ffmpeg is killed", Duration::from_secs(10), || {
        let running = ffmpeg_running_under(media);
        async move { !running }
    })
    .await;
    client
        .wait_for("event:completed", Duration::from_secs(10))
        .await;
    let messages = client.received();
    assert_eq!(named(&messages, "video:cancelled").len(), 1, "{messages:?}");
    assert!(named(&messages, "video:completed").is_empty());
    let ocr_start = JobKind::Video.stage_progress(Stage::Ocr).map(u64::from);
    let ocr_start = ocr_start.expect("videos have an ocr stage");
    assert!(
        named(&messages, "video:progress")
            .iter()
            .all(|m| m.data["progress"].as_u64().is_some_and(|p| p < ocr_start)),
        "cancelled long before the end"
    );
    assert_eq!(
        messages.last().map(|m| m.data["summary"].clone()),
        Some(json!({ "total": 1, "succeeded": 0, "failed": 0, "cancelled": 1 }))
    );
    let status = get_json(&gateway.url(&format!("/v1/jobs/{job_id}"))).await;
    assert_eq!(status["state"], "cancelled", "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_by_url_is_retried_after_a_transient_fetch_failure_and_its_download_removed() {
    let rig = Rig::builder("video-url").start().await;
    let media = &rig.media;
    let downloads = media_dir("video-url-downloads");
    let clip = media.join("clip.mp4");
    write_video(&clip, 2, 10, 160, 120);
    let server = PhotoServer::start(std::fs::read(&clip).expect("clip"), vec![503, 200]).await;
    let downloads_flag = downloads.display().to_string();
    let (_worker, client, _ack) = start_worker_and_client(
        &rig,
        &[
            "--allow-private-sources",
            "--retry-base-delay",
            "200ms",
            "--video-temp-dir",
            &downloads_flag,
        ],
        "race-url",
    )
    .await;
    let gateway = rig.gateway();
    let body = post_videos(
        gateway,
        "race-url",
        "req-url",
        json!({ "videos": [{ "videoId": "cam", "source": { "url": server.url("clip.mp4") } }] }),
    )
    .await;
    let job_id = body["jobs"][0]["jobId"].as_str().expect("jobId").to_owned();
    client
        .wait_for("event:completed", Duration::from_secs(60))
        .await;
    let messages = client.received();
    assert!(named(&messages, "video:failed").is_empty(), "{messages:?}");
    let completed = named(&messages, "video:completed");
    assert_eq!(completed.len(), 1);
    let duration = completed[0].data["durationMs"]
        .as_u64()
        .expect("durationMs");
    assert!((1900..=2100).contains(&duration), "{duration}");
    assert_eq!(server.requests(), 2, "one failed fetch, one retry");
    let status = get_json(&gateway.url(&format!("/v1/jobs/{job_id}"))).await;
    assert_eq!(status["attempts"], 2, "{status}");
    assert_eq!(status["state"], "succeeded", "{status}");
    let left: Vec<_> = std::fs::read_dir(&downloads)
        .expect("downloads dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "downloads are removed: {left:?}");
}

/// The HS256 secret of the gateway of the thumbnail test, and tokens signed with it.
const SECRET: &str = "an-hs256-test-secret-of-32-bytes-or-more";

fn token(mut claims: Value) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    claims["exp"] = json!(now + 600);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign a test token")
}

/// Mean absolute difference per channel between `thumbnail` and `photo` scaled to its size.
fn difference(thumbnail: &image::RgbImage, photo: &std::path::Path) -> f64 {
    let photo = image::open(photo).expect("a generated photo").to_rgb8();
    let (w, h) = thumbnail.dimensions();
    let scaled = image::imageops::resize(&photo, w, h, image::imageops::FilterType::Triangle);
    let sum: u64 = thumbnail
        .as_raw()
        .iter()
        .zip(scaled.as_raw())
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    sum as f64 / thumbnail.as_raw().len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_of_two_runners_reports_each_bib_when_seen_with_a_thumbnail_served_with_a_token() {
    let artifacts = media_dir("video-bibs-artifacts");
    let store = format!("file://{}", artifacts.display());
    let rig = Rig::builder("video-bibs")
        .gateway_flags(&["--jwt-secret", SECRET, "--artifacts", &store])
        .start()
        .await;
    let media = &rig.media;
    // Two generated race photos, each held for 2 s: the first bib is on screen 0–2 s, the
    // second 2–4 s.
    let truths = finishline_tests::write_race_photos(media, finishline_bibgen::Set::Normal, 2, 41);
    finishline_tests::write_runners_video(media, &truths, "runners.mp4");
    let _worker = rig
        .start_worker(&["--video-fps", "2", "--artifacts", &store])
        .await;
    let gateway = rig.gateway();
    let http = reqwest::Client::new();
    let uploader = token(json!({ "sub": "uploader", "scope": "enqueue" }));
    let response = http
        .post(gateway.url("/v1/events/race-vb/videos"))
        .bearer_auth(&uploader)
        .json(&json!({ "videoId": "runners", "source": { "path": "runners.mp4" } }))
        .send()
        .await
        .expect("POST videos");
    assert_eq!(response.status().as_u16(), 202);
    let job_id = response.json::<Value>().await.expect("JSON")["jobs"][0]["jobId"]
        .as_str()
        .expect("jobId")
        .to_owned();
    wait_until("the video completes", Duration::from_secs(180), || {
        let history = rig.history("race-vb");
        async move {
            history
                .await
                .iter()
                .any(|m| m.name.as_str() == "video:completed")
        }
    })
    .await;
    let history = rig.history("race-vb").await;
    let done: Value = history
        .iter()
        .find(|m| m.name.as_str() == "video:completed")
        .map(|m| serde_json::from_str(m.data.get()).expect("JSON body"))
        .expect("video:completed");
    let plates = done["plates"].as_array().expect("plates");
    let find = |number: u64| {
        plates
            .iter()
            .find(|p| p["number"] == json!(number))
            .unwrap_or_else(|| panic!("bib {number} not reported: {done}"))
    };
    let first = find(truths[0].number);
    let second = find(truths[1].number);
    assert_eq!(first["firstSeenMs"], 0, "{done}");
    assert!(
        (1000..2000).contains(&first["lastSeenMs"].as_u64().unwrap()),
        "{done}"
    );
    assert!(
        (2000..2600).contains(&second["firstSeenMs"].as_u64().unwrap()),
        "{done}"
    );
    assert!(second["lastSeenMs"].as_u64().unwrap() >= 3000, "{done}");
    assert_eq!(plates.len(), 2, "no other number is invented: {done}");
    // The `color` stage: each bib's colours by name, as the generator drew them.
    for (truth, plate) in truths.iter().zip([first, second]) {
        for (key, drawn) in [
            ("bibColorName", truth.bib_color.as_str()),
            ("shirtColorName", truth.shirt_color.as_str()),
        ] {
            let name = plate[key].as_str().unwrap_or_default();
            assert!(
                protocol_color_names(drawn).contains(&name),
                "bib {}: {key} {name:?}, the generator drew {drawn}: {plate}",
                truth.number
            );
        }
        for key in ["bibColor", "shirtColor"] {
            let hex = plate[key].as_str().unwrap_or_default();
            assert!(
                hex.len() == 7 && hex.starts_with('#'),
                "{key} is #rrggbb: {plate}"
            );
        }
    }
    eprintln!("video bibs: {}", serde_json::to_string(plates).unwrap());

    // Each bib's thumbnail: served to a watcher of the event with cache headers, a JPEG of
    // the frame size scaled to a long side of 320 px, showing that bib's runner.
    let watcher = token(json!({ "events": ["race-vb"] }));
    let (width, height) = image::image_dimensions(media.join(&truths[0].file)).expect("size");
    for (truth, plate) in truths.iter().zip([first, second]) {
        let path = format!("/v1/jobs/{job_id}/thumbnails/{}", truth.number);
        assert_eq!(plate["thumbnail"], json!(path), "{done}");
        let response = http
            .get(gateway.url(&path))
            .bearer_auth(&watcher)
            .send()
            .await
            .expect("GET thumbnail");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        assert_eq!(
            response.headers()["cache-control"],
            "private, max-age=3600",
            "{path}"
        );
        let jpeg = response.bytes().await.expect("body");
        let thumbnail = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("a JPEG")
            .to_rgb8();
        let (w, h) = thumbnail.dimensions();
        assert_eq!(w.max(h), 320, "long side of {path}: {w}×{h}");
        let expected_short = f64::from(width.min(height)) * 320.0 / f64::from(width.max(height));
        assert!(
            (f64::from(w.min(h)) - expected_short).abs() <= 1.0,
            "{w}×{h} keeps the frame's {width}×{height}"
        );
        let own = difference(&thumbnail, &media.join(&truth.file));
        let others: Vec<f64> = truths
            .iter()
            .filter(|t| t.number != truth.number)
            .map(|t| difference(&thumbnail, &media.join(&t.file)))
            .collect();
        eprintln!(
            "thumbnail of #{}: {w}×{h}, {} bytes; differs by {own:.1} from its runner's photo, \
             {others:?} from the other",
            truth.number,
            jpeg.len()
        );
        assert!(
            others.iter().all(|other| own * 2.0 < *other),
            "#{} is shown from a frame of its own runner: {own:.1} vs {others:?}",
            truth.number
        );
    }
    let path = gateway.url(&format!(
        "/v1/jobs/{job_id}/thumbnails/{}",
        truths[0].number
    ));
    let response = http.get(&path).send().await.expect("GET");
    assert_eq!(response.status().as_u16(), 401, "refused without a token");
    let stranger = token(json!({ "events": ["race-other"] }));
    let response = http
        .get(&path)
        .bearer_auth(&stranger)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 404, "hidden from another event");
    let unread = truths[0].number + truths[1].number + 1;
    for (number, status) in [(unread.to_string(), 404), ("0042".to_owned(), 400)] {
        let response = http
            .get(gateway.url(&format!("/v1/jobs/{job_id}/thumbnails/{number}")))
            .bearer_auth(&watcher)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), status, "thumbnail of {number}");
    }

    // The bib index names the same thumbnail for the video.
    for truth in &truths {
        let page: Value = http
            .get(gateway.url(&format!("/v1/events/race-vb/bibs/{}", truth.number)))
            .bearer_auth(&watcher)
            .send()
            .await
            .expect("GET bib")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            page["videos"][0]["thumbnail"],
            json!(format!("/v1/jobs/{job_id}/thumbnails/{}", truth.number)),
            "{page}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_busy_with_a_long_video_keeps_it_past_many_heartbeats() {
    let rig = Rig::builder("video-busy").start().await;
    let media = &rig.media;
    // 8 s at 10 sampled frames per second: 80 frames, seconds of work for a worker whose
    // heartbeat goes stale after 0.4 s if it only beat when asking for more work.
    write_test_pattern_video(&media.join("long.mp4"), 8);
    let beats = [
        "--queues",
        "video",
        "--concurrency",
        "1",
        "--video-fps",
        "10",
        "--heartbeat-interval",
        "200ms",
        "--missed-heartbeats",
        "2",
    ];
    let (busy, client, _ack) = start_worker_and_client(&rig, &beats, "race-busy").await;
    let gateway = rig.gateway();
    let body = post_videos(
        gateway,
        "race-busy",
        "req-busy",
        json!({ "videoId": "long", "source": { "path": "long.mp4" } }),
    )
    .await;
    let job_id = body["jobs"][0]["jobId"].as_str().expect("jobId").to_owned();
    // A second worker whose housekeeper would take the video over from a silent one.
    let other = Worker::start_with(rig.redis.url(), &rig.prefix, media, &beats).await;
    client
        .wait_for("event:completed", Duration::from_secs(120))
        .await;

    let messages = client.received();
    assert_eq!(named(&messages, "video:completed").len(), 1, "{messages:?}");
    let status = get_json(&gateway.url(&format!("/v1/jobs/{job_id}"))).await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(
        status["attempts"], 1,
        "never taken from the busy worker: {status}"
    );
    for log in [busy.log(), other.log()] {
        assert!(
            !log.contains("put back on the queue"),
            "no task was recovered from a live worker: {log}"
        );
    }
}
