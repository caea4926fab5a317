//! The dashboard in headless Chromium (Debian's package, driven by playwright-core): counts,
//! bibs, colours and errors shown, and a gateway restart the page recovers from with no gap.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use finishline_bibgen::{GroundTruth, Set};
use finishline_bus::{BibIndex, BusLimits, BusWriter, Finish, Keys, ProgressBus, RunOutcome};
use finishline_queue::{NewMedia, Producer, ProducerConfig};
use finishline_tests::{
    Gateway, RedisServer, Worker, bus_writer, unique_prefix, write_corrupt_jpeg, write_race_photos,
    write_runners_video,
};
use finishline_wire::{
    BoundingBox, ColorName, EventId, JobId, JobKind, JobState, MediaId, MediaSource, MessageName,
    Plate, RequestId, VideoPlate,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_event_and_recovers_from_a_gateway_restart_without_a_gap() {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "run tests/run.sh (it installs Debian's chromium and `npm ci --prefix tests/browser`)"
    );
    let redis = RedisServer::start().await;
    let prefix = unique_prefix("browser");
    let media = std::env::temp_dir().join(&prefix);
    // Nine generated race photos with known bibs, and one corrupt file.
    let truths = write_race_photos(&media, Set::Normal, 9, 7);
    let mut names = Vec::new();
    let mut bibs = Vec::new();
    for i in 0..10usize {
        if i == 6 {
            let name = format!("b{i:03}.jpg");
            write_corrupt_jpeg(&media.join(&name));
            names.push(name);
            bibs.push("-".to_owned());
        } else {
            let truth = &truths[if i < 6 { i } else { i - 1 }];
            names.push(truth.file.clone());
            bibs.push(truth.number.to_string());
        }
    }
    // Where each bib is in its photo, for the check that its box is drawn on it.
    let truth_map: serde_json::Map<String, Value> = (0..10usize)
        .filter(|i| *i != 6)
        .map(|i| {
            let truth = &truths[if i < 6 { i } else { i - 1 }];
            let (width, height) = image::image_dimensions(media.join(&truth.file)).unwrap();
            let b = &truth.bib_box;
            let value = json!({ "number": truth.number, "width": width, "height": height,
                "box": { "x": b.x, "y": b.y, "w": b.w, "h": b.h } });
            (format!("b{i:03}"), value)
        })
        .collect();
    let truths_file = media.join("truths.json");
    std::fs::write(&truths_file, Value::Object(truth_map).to_string()).unwrap();
    // A video of the first two runners, through the same worker: its bibs go on the timeline.
    write_runners_video(&media, &truths[..2], "runners.mp4");
    let video_bibs = format!("{},{}", truths[0].number, truths[1].number);
    // Thumbnails in a store of this test's own: what the page shows, this worker made.
    let artifacts = std::env::temp_dir().join(format!("{prefix}-artifacts"));
    let store = format!("file://{}", artifacts.display());
    let gateway_flags = ["--auth-disabled", "--artifacts", store.as_str()];
    let mut gateway = Some(Gateway::start_with(redis.url(), &prefix, &gateway_flags).await);
    let port = gateway.as_ref().unwrap().port;
    let _worker = Worker::start_with(
        redis.url(),
        &prefix,
        &media,
        &["--artifacts", &store, "--video-fps", "2"],
    )
    .await;
    let response = reqwest::Client::new()
        .post(
            gateway
                .as_ref()
                .unwrap()
                .url("/v1/events/browser-race/videos"),
        )
        .header("x-request-id", "browser-test")
        .json(&json!({ "videoId": "runners", "source": { "path": "runners.mp4" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let screenshot = screenshots_dir().join("dashboard-10-photos.png");
    let mut node = tokio::process::Command::new("node")
        .arg(dir.join("dashboard.mjs"))
        .args([
            "--gateway",
            &format!("http://127.0.0.1:{port}"),
            "--event",
            "browser-race",
        ])
        .args([
            "--photos",
            &names.join(","),
            "--expect-failed",
            "1",
            "--bibs",
            &bibs.join(","),
            "--restart",
            "--video",
            "runners",
            "--video-bibs",
            &video_bibs,
        ])
        .arg("--truths")
        .arg(&truths_file)
        .arg("--screenshot")
        .arg(&screenshot)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed");
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut result = None;
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(120), lines.next_line()).await
    {
        if line.starts_with("RESTART") {
            // Kill the gateway under the page, bring it back on the same port, and enqueue the
            // second half while the page is still reconnecting.
            gateway.take().unwrap().kill().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            gateway = Some(Gateway::start_on(port, redis.url(), &prefix, &gateway_flags).await);
            let photos: Vec<Value> = names[5..]
                .iter()
                .enumerate()
                .map(|(i, path)| json!({ "photoId": format!("b{:03}", 5 + i), "source": { "path": path } }))
                .collect();
            let response = reqwest::Client::new()
                .post(
                    gateway
                        .as_ref()
                        .unwrap()
                        .url("/v1/events/browser-race/photos"),
                )
                .header("x-request-id", "browser-test")
                .json(&json!({ "photos": photos }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 202);
            stdin.write_all(b"CONTINUE\n").await.unwrap();
            stdin.flush().await.unwrap();
        } else if line.starts_with('{') {
            result = Some(serde_json::from_str::<Value>(&line).unwrap());
            break;
        }
    }
    let result = result.expect("the browser scenario printed its result");
    assert_eq!(result["ok"], true, "{result}");
    assert!(screenshot.exists());
    eprintln!(
        "dashboard at 10 photos: first contentful paint {} ms, DOMContentLoaded {} ms; \
         screenshot {}",
        result["firstContentfulPaintMs"],
        result["domContentLoadedMs"],
        screenshot.display()
    );
    eprintln!("dashboard: {result}");
    // The script failed any box off its bib by more than 3 px across (or more than
    // max(3 px, a quarter of the bib's height) up or down); say by how much they were off.
    for place in ["grid", "search"] {
        let worst = &result["centred"][place];
        assert!(
            worst["cards"].as_u64().unwrap_or(0) > 0,
            "{place}: {result}"
        );
        eprintln!(
            "boxes on their bibs in the {place}: {} cards, worst offset {} px across, {} px up or down",
            worst["cards"], worst["dx"], worst["dy"]
        );
    }
    let _ = std::fs::remove_dir_all(&media);
    let _ = std::fs::remove_dir_all(&artifacts);
}

/// A thumbnail of each generated photo, as the worker makes them (long side 320 px, JPEG).
fn thumbnails_of(media: &Path, truths: &[GroundTruth]) -> Vec<(Vec<u8>, u32, u32)> {
    truths
        .iter()
        .map(|truth| {
            let photo = image::open(media.join(&truth.file)).expect("a generated photo");
            let (width, height) = (photo.width(), photo.height());
            let mut jpeg = std::io::Cursor::new(Vec::new());
            photo
                .thumbnail(320, 320)
                .to_rgb8()
                .write_to(&mut jpeg, image::ImageFormat::Jpeg)
                .unwrap();
            (jpeg.into_inner(), width, height)
        })
        .collect()
}

/// The plates a worker would report for a generated photo: its bib, box and colour names.
fn plates_of(truth: &GroundTruth) -> Vec<Plate> {
    let b = &truth.bib_box;
    let mut plate = Plate::new(
        truth.number,
        0.93,
        BoundingBox {
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
        },
    );
    plate.bib_color = Some(truth.bib_hex.clone());
    plate.shirt_color = Some(truth.shirt_hex.clone());
    plate.bib_color_name = truth.bib_color.parse::<ColorName>().ok();
    plate.shirt_color_name = truth.shirt_color.parse::<ColorName>().ok();
    vec![plate]
}

/// How photo `i` of the big event ends: every 97th fails, every 13th shows no bib, the
/// others show the bib of generated photo `i % n`.
fn big_event_outcome(i: usize) -> (JobState, bool) {
    if i % 97 == 50 {
        (JobState::Failed, false)
    } else {
        (JobState::Succeeded, i % 13 != 5)
    }
}

/// Ends `total` photo jobs of `race-big` and one video through the bus, as workers would (job
/// queued, started, completed or failed, bibs indexed in the same step), each photo with a
/// thumbnail in `artifacts`, keeping about `history_max` messages of the event's history.
/// Returns the number of photos that show `truths[0]`'s bib.
async fn publish_big_event(
    redis: &RedisServer,
    prefix: &str,
    artifacts: &Path,
    media: &Path,
    truths: &[GroundTruth],
    total: usize,
    history_max: u64,
) -> usize {
    let conn = redis.connection().await;
    let keys = Keys::new(prefix);
    let limits = BusLimits {
        history_max,
        ..BusLimits::default()
    };
    let bus = ProgressBus::new(conn.clone(), keys.clone(), limits);
    let config = ProducerConfig {
        limits,
        ..ProducerConfig::default()
    };
    let producer = Producer::new(conn, keys, config);
    let writer = bus_writer(&bus);
    let event = EventId::parse("race-big").unwrap();
    let request = RequestId::parse("req-big").unwrap();
    let thumbnails = thumbnails_of(media, truths);
    std::fs::create_dir_all(artifacts.join("thumbnails")).unwrap();
    let mut with_first_bib = 0;
    for chunk in 0..total.div_ceil(500) {
        let ids: Vec<usize> = (chunk * 500..total.min((chunk + 1) * 500)).collect();
        let media_list: Vec<NewMedia> = ids
            .iter()
            .map(|i| NewMedia {
                media_id: MediaId::parse(format!("photo-{i:05}")).unwrap(),
                source: MediaSource::Path(truths[i % truths.len()].file.clone()),
            })
            .collect();
        let jobs = producer
            .enqueue(&event, &request, JobKind::Photo, None, &media_list)
            .await
            .unwrap();
        let mut ends = Vec::new();
        for (i, job) in ids.iter().copied().zip(jobs) {
            let truth = &truths[i % truths.len()];
            let (jpeg, width, height) = &thumbnails[i % truths.len()];
            let (state, has_bib) = big_event_outcome(i);
            let plates = if has_bib {
                plates_of(truth)
            } else {
                Vec::new()
            };
            if state == JobState::Succeeded && has_bib && i % truths.len() == 0 {
                with_first_bib += 1;
            }
            std::fs::write(
                artifacts.join(format!("thumbnails/{}.jpg", job.job_id)),
                jpeg,
            )
            .unwrap();
            let photo_id = format!("photo-{i:05}");
            let body = if state == JobState::Failed {
                json!({ "photoId": photo_id, "jobId": job.job_id, "error": "corrupt image: not a JPEG",
                    "code": "corrupt_media", "attempts": 1 })
            } else {
                json!({ "photoId": photo_id, "jobId": job.job_id,
                    "plateNumber": plates.first().map(|p| p.number),
                    "confidence": plates.first().map_or(0.0, |p| p.confidence),
                    "plates": plates, "colors": [{ "hex": truth.shirt_hex, "share": 0.4 },
                        { "hex": truth.bib_hex, "share": 0.2 }],
                    "thumbnail": format!("/v1/jobs/{}/thumbnail", job.job_id),
                    "imageSize": { "width": width, "height": height } })
            };
            let index = (state == JobState::Succeeded).then(|| {
                BibIndex::photo(event.clone(), &photo_id, job.job_id.as_str(), &plates).unwrap()
            });
            let writer = writer.clone();
            ends.push(tokio::spawn(async move {
                end_job(&writer, &job.job_id, state, body.to_string(), index).await
            }));
        }
        for end in ends {
            assert!(end.await.unwrap(), "every job ends once");
        }
    }
    // One video in which the first photo's bib is seen from 4.2 s to 9.8 s.
    let video = MediaId::parse("finish-line-cam").unwrap();
    let jobs = producer
        .enqueue(
            &event,
            &request,
            JobKind::Video,
            None,
            &[NewMedia {
                media_id: video.clone(),
                source: MediaSource::Path("clip.mp4".into()),
            }],
        )
        .await
        .unwrap();
    let job_id = jobs[0].job_id.clone();
    // Its best frame's thumbnail where a worker would store it.
    let number = truths[0].number;
    std::fs::create_dir_all(artifacts.join(format!("thumbnails/{job_id}"))).unwrap();
    std::fs::write(
        artifacts.join(format!("thumbnails/{job_id}/{number}.jpg")),
        &thumbnails[0].0,
    )
    .unwrap();
    let plates = [VideoPlate {
        number,
        confidence: 0.88,
        first_seen_ms: 4_200,
        last_seen_ms: 9_800,
        thumbnail: Some(format!("/v1/jobs/{job_id}/thumbnails/{number}")),
        ..VideoPlate::default()
    }];
    let body = json!({ "videoId": video.as_str(), "jobId": job_id, "plates": plates, "durationMs": 20_000 });
    let index = BibIndex::video(event.clone(), video.as_str(), job_id.as_str(), &plates).unwrap();
    assert!(
        end_job(
            &writer,
            &job_id,
            JobState::Succeeded,
            body.to_string(),
            Some(index)
        )
        .await
    );
    with_first_bib
}

/// Starts a run of a job and ends it with `body`, indexing its bibs in the same step.
async fn end_job(
    writer: &BusWriter,
    job_id: &JobId,
    state: JobState,
    body: String,
    index: Option<BibIndex>,
) -> bool {
    let RunOutcome::Started { run, .. } = writer.start_run(job_id).await.unwrap() else {
        panic!("the job starts")
    };
    let video = body.contains("\"videoId\"");
    let name = match (state, video) {
        (JobState::Failed, _) => MessageName::PhotoFailed,
        (_, true) => MessageName::VideoCompleted,
        _ => MessageName::PhotoCompleted,
    };
    let error = (state == JobState::Failed).then_some("corrupt image: not a JPEG");
    writer
        .finish_indexed(
            job_id,
            Some(run),
            Finish {
                state,
                name,
                body: &body,
                result: (state == JobState::Succeeded).then_some("{}"),
                error,
            },
            None,
            index,
        )
        .await
        .unwrap()
}

/// Runs a script of tests/browser against a gateway and returns its JSON result.
async fn run_browser_script(script: &str, args: &[String]) -> Value {
    let output = tokio::process::Command::new("node")
        .arg(browser_dir().join(script))
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), output)
        .await
        .expect("the browser scenario ends within 3 minutes")
        .expect("node must be installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no result line; stdout:\n{stdout}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_two_thousand_photos_with_boxes_and_finds_a_bib_without_freezing() {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "run tests/run.sh (it installs Debian's chromium and `npm ci --prefix tests/browser`)"
    );
    let redis = RedisServer::start().await;
    let prefix = unique_prefix("browser-big");
    let media = std::env::temp_dir().join(&prefix);
    let truths = write_race_photos(&media, Set::Normal, 12, 17);
    let artifacts = std::env::temp_dir().join(format!("{prefix}-artifacts"));
    let store = format!("file://{}", artifacts.display());
    let gateway = Gateway::start_with(
        redis.url(),
        &prefix,
        &["--auth-disabled", "--artifacts", &store],
    )
    .await;
    let total = 2_000;
    let started = std::time::Instant::now();
    let history = BusLimits::default().history_max;
    let with_bib =
        publish_big_event(&redis, &prefix, &artifacts, &media, &truths, total, history).await;
    eprintln!(
        "dashboard: {total} photos ended through the bus in {:?}",
        started.elapsed()
    );
    let failed = (0..total)
        .filter(|i| big_event_outcome(*i).0 == JobState::Failed)
        .count();
    let no_bib = (0..total)
        .filter(|i| big_event_outcome(*i) == (JobState::Succeeded, false))
        .count();
    // Where the bib is in each photo that shows one: its box must be drawn on it.
    let sizes: Vec<(u32, u32)> = truths
        .iter()
        .map(|t| image::image_dimensions(media.join(&t.file)).unwrap())
        .collect();
    let truth_map: serde_json::Map<String, Value> = (0..total)
        .filter(|i| big_event_outcome(*i) == (JobState::Succeeded, true))
        .map(|i| {
            let truth = &truths[i % truths.len()];
            let (width, height) = sizes[i % truths.len()];
            let b = &truth.bib_box;
            let value = json!({ "number": truth.number, "width": width, "height": height,
                "box": { "x": b.x, "y": b.y, "w": b.w, "h": b.h } });
            (format!("photo-{i:05}"), value)
        })
        .collect();
    let truths_file = artifacts.join("truths.json");
    std::fs::write(&truths_file, Value::Object(truth_map).to_string()).unwrap();
    let screenshot = screenshots_dir().join("dashboard-2000-photos.png");
    let result = run_browser_script(
        "grid.mjs",
        &[
            "--truths".into(),
            truths_file.display().to_string(),
            "--gateway".into(),
            gateway.url(""),
            "--event".into(),
            "race-big".into(),
            "--photos".into(),
            total.to_string(),
            "--failed".into(),
            failed.to_string(),
            "--no-bib".into(),
            no_bib.to_string(),
            "--bib".into(),
            truths[0].number.to_string(),
            "--bib-photos".into(),
            with_bib.to_string(),
            "--bib-video".into(),
            "finish-line-cam".into(),
            "--screenshot".into(),
            screenshot.display().to_string(),
        ],
    )
    .await;
    assert_eq!(result["ok"], true, "{result}");
    for place in ["grid", "search"] {
        let worst = &result["centred"][place];
        assert!(
            worst["cards"].as_u64().unwrap_or(0) > 0,
            "{place}: {result}"
        );
        eprintln!(
            "boxes on their bibs at {total} photos, {place}: {} cards, worst offset {} px \
             across, {} px up or down (tolerance 0.75 px)",
            worst["cards"], worst["dx"], worst["dy"]
        );
    }
    eprintln!(
        "dashboard at {total} photos: first card {} ms after navigation, all {total} in the \
         grid after {} ms, longest main-thread task {} ms, {} cards in the DOM; screenshot {}",
        result["firstCardMs"],
        result["allShownMs"],
        result["longestTaskMs"],
        result["domCards"],
        screenshot.display()
    );
    let _ = std::fs::remove_dir_all(&media);
    let _ = std::fs::remove_dir_all(&artifacts);
}

/// An event opened after its history has moved on: more messages than the history keeps
/// (about 100 here; 10,000 by default). The page is told `recovered: false` and fills its grid
/// from `GET /v1/events/{eventId}/photos`, which lists every photo a page at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_opened_after_its_history_moved_on_shows_every_photo_from_the_listing() {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "run tests/run.sh (it installs Debian's chromium and `npm ci --prefix tests/browser`)"
    );
    let redis = RedisServer::start().await;
    let prefix = unique_prefix("browser-late");
    let media = std::env::temp_dir().join(&prefix);
    let truths = write_race_photos(&media, Set::Normal, 2, 29);
    let artifacts = std::env::temp_dir().join(format!("{prefix}-artifacts"));
    let store = format!("file://{}", artifacts.display());
    let history = "100";
    let gateway = Gateway::start_with(
        redis.url(),
        &prefix,
        &[
            "--auth-disabled",
            "--artifacts",
            &store,
            "--history-max",
            history,
        ],
    )
    .await;
    let total = 300;
    publish_big_event(&redis, &prefix, &artifacts, &media, &truths, total, 100).await;
    let bus = ProgressBus::new(
        redis.connection().await,
        Keys::new(&prefix),
        BusLimits::default(),
    );
    let event = EventId::parse("race-big").unwrap();
    let first = bus.history_start(&event).await.unwrap().unwrap_or(0);
    let last = bus.snapshot(&event).await.unwrap().last_seq;
    assert!(
        first > 1,
        "the history has lost the event's start: it holds seq {first} to {last}"
    );

    // Through the API: pages of 64 give every photo with its job's state and last message.
    let client = reqwest::Client::new();
    let mut listed = std::collections::BTreeMap::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/v1/events/race-big/photos?limit=64&cursor={c}"),
            None => "/v1/events/race-big/photos?limit=64".to_owned(),
        };
        let page: Value = client
            .get(gateway.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for photo in page["photos"].as_array().expect("photos") {
            listed.insert(photo["photoId"].as_str().unwrap().to_owned(), photo.clone());
        }
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the listing ends");
    assert_eq!(listed.len(), total, "every photo listed");
    for i in 0..total {
        let photo = &listed[&format!("photo-{i:05}")];
        let (state, has_bib) = big_event_outcome(i);
        let (state, name) = match state {
            JobState::Failed => ("failed", "photo:failed"),
            _ => ("succeeded", "photo:completed"),
        };
        assert_eq!(photo["state"], state, "{photo}");
        assert_eq!(photo["last"]["type"], name, "{photo}");
        let number = &photo["last"]["data"]["plates"][0]["number"];
        if has_bib {
            assert_eq!(*number, json!(truths[i % truths.len()].number), "{photo}");
        }
    }

    // The page, opened now, shows them all.
    let failed = (0..total)
        .filter(|i| big_event_outcome(*i).0 == JobState::Failed)
        .count();
    let no_bib = (0..total)
        .filter(|i| big_event_outcome(*i) == (JobState::Succeeded, false))
        .count();
    let result = run_browser_script(
        "late.mjs",
        &[
            "--gateway".into(),
            gateway.url(""),
            "--event".into(),
            "race-big".into(),
            "--photos".into(),
            total.to_string(),
            "--failed".into(),
            failed.to_string(),
            "--no-bib".into(),
            no_bib.to_string(),
        ],
    )
    .await;
    assert_eq!(result["ok"], true, "{result}");
    eprintln!(
        "dashboard opened late ({total} photos, history seq {first}..{last}): {} listing \
         pages, every photo in the grid {} ms after navigation",
        result["listingPages"], result["allShownMs"]
    );
    let _ = std::fs::remove_dir_all(&media);
    let _ = std::fs::remove_dir_all(&artifacts);
}

/// Where the dashboard tests save their screenshots: target/screenshots.
fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
