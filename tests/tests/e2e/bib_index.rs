//! The bib index end to end: the worker indexes each job's bibs in the step that ends it, so a
//! re-run, a redelivery, a superseded, cancelled or failed run adds nothing; the gateway
//! answers a number and a prefix with the snapshot's auth.

use std::path::Path;
use std::time::{Duration, Instant};

use finishline_bibgen::Set;
use finishline_bus::{BibIndex, Finish, Keys, ProgressBus, RunOutcome};
use finishline_queue::NewMedia;
use finishline_tests::{Rig, bus_writer, token, wait_until, write_race_photos};
use finishline_wire::{
    BoundingBox, EventId, JobId, JobKind, JobState, MediaId, MediaSource, MessageName, Plate,
    RequestId,
};
use serde_json::{Value, json};

fn ids(list: &Value, field: &str) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|s| s[field].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

/// Encodes frames of a race photo into a 2-second video: its bib is on screen throughout.
fn write_bib_video(media: &Path, photo: &str, out: &str) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-t", "2", "-i"])
        .arg(media.join(photo))
        .args([
            "-vf",
            "fps=10,format=yuv420p",
            "-c:v",
            "libx264",
            "-crf",
            "18",
        ])
        .arg(media.join(out))
        .status()
        .expect("ffmpeg is installed (deploy/local/install-deps.sh)");
    assert!(status.success(), "ffmpeg encoded the video");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_every_photo_and_the_video_of_a_bib_with_the_snapshot_s_auth() {
    let rig = Rig::builder("bib-search")
        .jwt(&[])
        .workers(1)
        .worker_flags(&["--video-fps", "2"])
        .start()
        .await;
    let truths = write_race_photos(&rig.media, Set::Normal, 2, 21);
    let (a, b) = (&truths[0], &truths[1]);
    assert_ne!(a.number, b.number);
    write_bib_video(&rig.media, &a.file, "clip.mp4");
    let producer = token(json!({ "scope": "enqueue" }));
    let photos: Vec<Value> = ["a-1", "a-2", "a-3"]
        .iter()
        .map(|id| json!({ "photoId": id, "source": { "path": a.file } }))
        .chain([json!({ "photoId": "b-1", "source": { "path": b.file } })])
        .collect();
    rig.post_photos_as(Some(&producer), "race-s", &json!({ "photos": photos }))
        .await;
    let video = json!({ "videoId": "clip", "source": { "path": "clip.mp4" } });
    let (status, body) = rig
        .post_as("/v1/events/race-s/videos", Some(&producer), &video)
        .await;
    assert_eq!(status, 202, "{body}");
    rig.wait_jobs_ended("race-s", 5, Duration::from_secs(180))
        .await;

    // Each photo's thumbnail is in the artifact store (the worker's default local folder),
    // and photo:completed says where the gateway serves it.
    let completed = rig.message_bodies("race-s", "photo:completed").await;
    assert_eq!(completed.len(), 4);
    for body in &completed {
        let job = body["jobId"].as_str().unwrap();
        assert_eq!(
            body["thumbnail"],
            json!(format!("/v1/jobs/{job}/thumbnail")),
            "{body}"
        );
        let file =
            std::path::Path::new("/tmp/finishline-artifacts/thumbnails").join(format!("{job}.jpg"));
        let thumbnail =
            image::open(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        assert_eq!(
            thumbnail.width().max(thumbnail.height()),
            320,
            "{}",
            file.display()
        );
    }

    let watcher = token(json!({ "events": ["race-s"] }));
    // The gateway serves a thumbnail to whoever may read its job, with cache headers.
    let client = reqwest::Client::new();
    let thumbnail = rig
        .gateway()
        .url(completed[0]["thumbnail"].as_str().unwrap());
    let response = client
        .get(&thumbnail)
        .bearer_auth(&watcher)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
    let response = client.get(&thumbnail).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401, "refused without a token");
    let other = token(json!({ "events": ["race-other"] }));
    let response = client
        .get(&thumbnail)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        404,
        "hidden from another event's watcher"
    );
    let (status, page) = rig
        .get(
            &format!("/v1/events/race-s/bibs/{}", a.number),
            Some(&watcher),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["number"], json!(a.number));
    assert_eq!(
        ids(&page["photos"], "photoId"),
        ["a-1", "a-2", "a-3"],
        "{page}"
    );
    assert_eq!(ids(&page["videos"], "videoId"), ["clip"], "{page}");
    assert_eq!(
        page["counts"],
        json!({ "photos": 3, "videos": 1 }),
        "{page}"
    );
    assert_eq!(page["nextCursor"], Value::Null);
    let photo = &page["photos"][0];
    assert!(photo["jobId"].is_string() && photo["confidence"].as_f64().unwrap() > 0.0);
    assert!(photo["box"]["w"].as_u64().unwrap() > 0, "{photo}");
    let video = &page["videos"][0];
    assert!(
        video["lastSeenMs"].as_u64() >= video["firstSeenMs"].as_u64(),
        "{video}"
    );

    // Paged: one sighting per page, every one exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/events/race-s/bibs/{}?limit=1&cursor={c}", a.number),
            None => format!("/v1/events/race-s/bibs/{}?limit=1", a.number),
        };
        let (status, page) = rig.get(&path, Some(&watcher)).await;
        assert_eq!(status, 200, "{page}");
        for photo in page["photos"].as_array().unwrap() {
            seen.push(photo["photoId"].as_str().unwrap().to_owned());
        }
        for video in page["videos"].as_array().unwrap() {
            seen.push(video["videoId"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["a-1", "a-2", "a-3", "clip"]);

    // A prefix answers the numbers that start with it, with their counts.
    let a_text = a.number.to_string();
    let (status, list) = rig
        .get(
            &format!("/v1/events/race-s/bibs?prefix={}&limit=50", &a_text[..1]),
            Some(&watcher),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let numbers = list["numbers"].as_array().expect("numbers");
    assert!(
        numbers.contains(&json!({ "number": a.number, "photos": 3, "videos": 1 })),
        "{list}"
    );
    assert!(
        numbers.iter().all(|n| n["number"]
            .as_u64()
            .unwrap()
            .to_string()
            .starts_with(&a_text[..1])),
        "{list}"
    );
    let (_, all) = rig.get("/v1/events/race-s/bibs", Some(&watcher)).await;
    assert!(
        all["numbers"]
            .as_array()
            .unwrap()
            .contains(&json!({ "number": b.number, "photos": 1, "videos": 0 })),
        "{all}"
    );
    let (_, none) = rig
        .get("/v1/events/race-s/bibs/999999", Some(&watcher))
        .await;
    assert_eq!(
        none,
        json!({ "number": 999999, "photos": [], "videos": [],
            "counts": { "photos": 0, "videos": 0 }, "nextCursor": null })
    );

    // The event's photo listing (what the dashboard fills its grid from when the history
    // has moved on): every photo with its job's last message.
    let (status, listing) = rig.get("/v1/events/race-s/photos", Some(&watcher)).await;
    assert_eq!(status, 200, "{listing}");
    let mut listed: Vec<(String, String)> = listing["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["state"], "succeeded", "{p}");
            assert_eq!(p["last"]["data"]["jobId"], p["jobId"], "{p}");
            let name = p["last"]["type"].as_str().unwrap().to_owned();
            (p["photoId"].as_str().unwrap().to_owned(), name)
        })
        .collect();
    listed.sort();
    let expected: Vec<(String, String)> = ["a-1", "a-2", "a-3", "b-1"]
        .iter()
        .map(|id| (id.to_string(), "photo:completed".to_owned()))
        .collect();
    assert_eq!(listed, expected, "{listing}");
    assert_eq!(listing["nextCursor"], Value::Null, "{listing}");

    // The snapshot's auth: no token 401, another event's watcher 403, a producer reads.
    for path in [
        format!("/v1/events/race-s/bibs/{}", a.number),
        "/v1/events/race-s/bibs?prefix=1".to_owned(),
        "/v1/events/race-s/photos?limit=2".to_owned(),
    ] {
        assert_eq!(rig.get(&path, None).await.0, 401, "{path}");
        let (status, body) = rig.get(&path, Some("not-a-token")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized"))
        );
        let other = token(json!({ "events": ["race-other"] }));
        let (status, body) = rig.get(&path, Some(&other)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden"))
        );
        assert_eq!(rig.get(&path, Some(&producer)).await.0, 200, "{path}");
    }
    // Bad input is refused with a reason.
    for path in [
        "/v1/events/race-s/bibs/0042",
        "/v1/events/race-s/bibs/12x",
        "/v1/events/race-s/bibs/12?limit=0",
        "/v1/events/race-s/bibs/12?cursor=abc",
        "/v1/events/race-s/bibs?prefix=1a",
        "/v1/events/race-s/bibs?prefix=1&cursor=25",
        "/v1/events/race-s/bibs?colour=red",
        "/v1/events/race-s/photos?limit=0",
        "/v1/events/race-s/photos?cursor=abc",
    ] {
        let (status, body) = rig.get(path, Some(&watcher)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_payload", "{path}: {body}");
    }
}

/// Sightings of `number` in the index, read through the bus (every page).
async fn sightings(bus: &ProgressBus, event: &str, number: u64) -> Vec<String> {
    let event = EventId::parse(event).unwrap();
    let page = bus.bib_page(&event, number, None, 1000).await.unwrap();
    let mut ids: Vec<String> = page.photos.iter().map(|p| p.photo_id.clone()).collect();
    ids.extend(page.videos.iter().map(|v| v.video_id.clone()));
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_and_redelivered_tasks_index_each_photo_once() {
    let rig = Rig::builder("bib-rerun").start().await;
    let truths = write_race_photos(&rig.media, Set::Normal, 4, 31);
    let photos: Vec<Value> = truths
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "photoId": format!("r-{i}"), "source": { "path": t.file } }))
        .collect();
    let body = rig
        .post_photos("race-r", &json!({ "photos": photos }))
        .await;
    let job_ids: Vec<JobId> = body["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| JobId::parse(j["jobId"].as_str().expect("jobId")).unwrap())
        .collect();
    // The queued payloads, to deliver every task once more after the jobs have ended.
    let queue = Keys::new(&rig.prefix).queue(JobKind::Photo);
    let mut conn = rig.redis.connection().await;
    let payloads: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(format!("{queue}:data"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(payloads.len(), 4);

    let bus = &rig.bus;
    let event = EventId::parse("race-r").unwrap();
    let first = rig.start_worker(&[]).await;
    wait_until(
        "a run reaches its ocr stage",
        Duration::from_secs(60),
        || {
            let (bus, event) = (bus.clone(), event.clone());
            async move {
                bus.history_range(&event, 0, u64::MAX, 1000)
                    .await
                    .is_ok_and(|h| h.iter().any(|m| m.data.get().contains(r#""stage":"ocr""#)))
            }
        },
    )
    .await;
    first.kill().await;
    let replacement = rig.start_worker(&[]).await;
    rig.wait_jobs_ended("race-r", 4, Duration::from_secs(180))
        .await;
    let snapshot = bus.snapshot(&event).await.unwrap();
    assert_eq!(snapshot.counts.succeeded, 4, "{snapshot:?}");
    let mut attempts = 0;
    for job_id in &job_ids {
        attempts += bus.job_status(job_id).await.unwrap().expect("job").attempts;
    }
    assert!(
        attempts > 4,
        "the kill left a run to re-run ({attempts} runs)"
    );

    let numbers: Vec<u64> = truths.iter().map(|t| t.number).collect();
    let before = indexed(bus, &event, &numbers).await;
    for (i, ids) in &before {
        assert!(
            ids.iter().filter(|id| **id == format!("r-{i}")).count() <= 1,
            "photo r-{i} indexed once at most: {ids:?}"
        );
    }
    let found = before
        .iter()
        .filter(|(i, ids)| ids.contains(&format!("r-{i}")))
        .count();
    assert!(found >= 3, "the worker read most bibs: {before:?}");

    // Every task delivered again: each run finds its job ended and indexes nothing.
    let mut redeliver = redis::pipe();
    for (task, payload) in &payloads {
        redeliver
            .cmd("HSET")
            .arg(format!("{queue}:data"))
            .arg(task)
            .arg(payload)
            .ignore()
            .cmd("RPUSH")
            .arg(format!("{queue}:active"))
            .arg(task)
            .ignore();
    }
    redeliver.query_async::<()>(&mut conn).await.unwrap();
    wait_until(
        "the redelivered tasks are skipped",
        Duration::from_secs(30),
        || {
            let skipped = replacement
                .log()
                .matches("job already ended; skipping this delivery")
                .count();
            async move { skipped >= 4 }
        },
    )
    .await;
    replacement
        .terminate(Duration::from_secs(20))
        .await
        .expect("the worker exits");
    assert_eq!(
        indexed(bus, &event, &numbers).await,
        before,
        "nothing indexed twice"
    );
}

/// The photos indexed under each number, with the count the index keeps checked against them.
async fn indexed(bus: &ProgressBus, event: &EventId, numbers: &[u64]) -> Vec<(usize, Vec<String>)> {
    let mut all = Vec::new();
    for (i, number) in numbers.iter().enumerate() {
        let ids = sightings(bus, event.as_str(), *number).await;
        let page = bus.bib_page(event, *number, None, 10).await.unwrap();
        assert_eq!(
            page.counts.photos as usize,
            ids.len(),
            "counts match sightings"
        );
        all.push((i, ids));
    }
    all
}

fn plate(number: u64) -> Plate {
    Plate::new(
        number,
        0.9,
        BoundingBox {
            x: 10,
            y: 20,
            w: 30,
            h: 40,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superseded_cancelled_and_failed_runs_never_reach_the_index() {
    let rig = Rig::builder("bib-fence").gateways(0).start().await;
    let (bus, keys) = (&rig.bus, Keys::new(&rig.prefix));
    let producer = rig.producer().await;
    let event = EventId::parse("race-f").unwrap();
    let media: Vec<NewMedia> = ["won", "late", "cancelled", "failed"]
        .iter()
        .map(|id| NewMedia {
            media_id: MediaId::parse(*id).unwrap(),
            source: MediaSource::Path(format!("{id}.jpg")),
        })
        .collect();
    let jobs = producer
        .enqueue(
            &event,
            &RequestId::parse("req-f").unwrap(),
            JobKind::Photo,
            None,
            &media,
        )
        .await
        .unwrap();
    let job = |i: usize| jobs[i].job_id.clone();
    let writer = bus_writer(bus);
    let index = |photo: &str, job_id: &JobId, numbers: &[u64]| {
        let plates: Vec<Plate> = numbers.iter().map(|n| plate(*n)).collect();
        Some(BibIndex::photo(event.clone(), photo, job_id.as_str(), &plates).unwrap())
    };
    let finish = |state: JobState| Finish {
        state,
        name: if state == JobState::Failed {
            MessageName::PhotoFailed
        } else {
            MessageName::PhotoCompleted
        },
        body: r#"{"photoId":"x"}"#,
        result: Some("{}"),
        error: None,
    };
    let start = |job_id: JobId| {
        let writer = writer.clone();
        async move {
            match writer.start_run(&job_id).await.unwrap() {
                RunOutcome::Started { run, .. } => run,
                RunOutcome::AlreadyEnded => panic!("job {job_id} should start"),
            }
        }
    };

    // A run presumed dead finishes after the run that replaced it: only one is indexed.
    let (won, late) = (job(0), job(1));
    let old = start(won.clone()).await;
    let new = start(won.clone()).await;
    assert!(
        writer
            .finish_indexed(
                &won,
                Some(new),
                finish(JobState::Succeeded),
                None,
                index("won", &won, &[12, 1234])
            )
            .await
            .unwrap()
    );
    assert!(
        !writer
            .finish_indexed(
                &won,
                Some(old),
                finish(JobState::Succeeded),
                None,
                index("won", &won, &[12])
            )
            .await
            .unwrap(),
        "the superseded run cannot end the job"
    );
    assert!(
        !writer
            .finish_indexed(
                &won,
                Some(new),
                finish(JobState::Succeeded),
                None,
                index("won", &won, &[12])
            )
            .await
            .unwrap(),
        "a second end does nothing"
    );
    let run = start(late.clone()).await;
    let _ = start(late.clone()).await;
    assert!(
        !writer
            .finish_indexed(
                &late,
                Some(run),
                finish(JobState::Succeeded),
                None,
                index("late", &late, &[12])
            )
            .await
            .unwrap()
    );

    // Cancelled while running, then the run ends with bibs: refused.
    let cancelled = job(2);
    let run = start(cancelled.clone()).await;
    let (_, was_cancelled) = bus.cancel(&cancelled).await.unwrap().expect("job");
    assert!(was_cancelled);
    assert!(
        !writer
            .finish_indexed(
                &cancelled,
                Some(run),
                finish(JobState::Succeeded),
                None,
                index("cancelled", &cancelled, &[12])
            )
            .await
            .unwrap()
    );

    // A failed end indexes nothing, even with sightings handed over.
    let failed = job(3);
    let run = start(failed.clone()).await;
    assert!(
        writer
            .finish_indexed(
                &failed,
                Some(run),
                finish(JobState::Failed),
                None,
                index("failed", &failed, &[12, 77])
            )
            .await
            .unwrap()
    );

    assert_eq!(sightings(bus, "race-f", 12).await, ["won"]);
    assert_eq!(sightings(bus, "race-f", 1234).await, ["won"]);
    assert!(sightings(bus, "race-f", 77).await.is_empty());
    let list = bus.bib_numbers(&event, "", None, 50).await.unwrap();
    let numbers: Vec<(u64, u64)> = list.numbers.iter().map(|n| (n.number, n.photos)).collect();
    assert_eq!(numbers, [(12, 1), (1234, 1)]);
    let list = bus.bib_numbers(&event, "123", None, 50).await.unwrap();
    assert_eq!(list.numbers.len(), 1);

    // The index lives as long as the event's other keys.
    let mut conn = rig.redis.connection().await;
    let event_ttl: i64 = redis::cmd("TTL")
        .arg(keys.event(&event))
        .query_async(&mut conn)
        .await
        .unwrap();
    for key in keys.bib_index(&event) {
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            ttl > 0 && (ttl - event_ttl).abs() <= 2,
            "{key}: {ttl} vs {event_ttl}"
        );
    }
}

/// How fast a number seen in 10,000 photos of one event answers, through the gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bib_in_ten_thousand_photos_answers_a_page_in_milliseconds() {
    let rig = Rig::builder("bib-10k").start().await;
    let producer = rig.producer().await;
    let event = EventId::parse("race-big").unwrap();
    let writer = bus_writer(&rig.bus);
    let request = RequestId::parse("req-big").unwrap();
    let total = 10_000usize;
    let started = Instant::now();
    for chunk in 0..total / 500 {
        let media: Vec<NewMedia> = (0..500)
            .map(|i| NewMedia {
                media_id: MediaId::parse(format!("p{}", chunk * 500 + i)).unwrap(),
                source: MediaSource::Path("x.jpg".into()),
            })
            .collect();
        let jobs = producer
            .enqueue(&event, &request, JobKind::Photo, None, &media)
            .await
            .unwrap();
        let mut ends = Vec::new();
        for (k, (job, media)) in jobs.iter().zip(&media).enumerate() {
            let writer = writer.clone();
            let index = BibIndex::photo(
                event.clone(),
                media.media_id.as_str(),
                job.job_id.as_str(),
                // Bib 1234 in every photo, and another number per photo.
                &[plate(1234), plate((100_000 + chunk * 500 + k) as u64)],
            )
            .unwrap();
            let job_id = job.job_id.clone();
            ends.push(tokio::spawn(async move {
                let RunOutcome::Started { run, .. } = writer.start_run(&job_id).await.unwrap()
                else {
                    panic!("starts")
                };
                writer
                    .finish_indexed(
                        &job_id,
                        Some(run),
                        Finish {
                            state: JobState::Succeeded,
                            name: MessageName::PhotoCompleted,
                            body: "{}",
                            result: Some("{}"),
                            error: None,
                        },
                        None,
                        Some(index),
                    )
                    .await
                    .unwrap()
            }));
        }
        for end in ends {
            assert!(end.await.unwrap());
        }
    }
    eprintln!(
        "bib index: {total} photos ended and indexed in {:?}",
        started.elapsed()
    );

    let client = reqwest::Client::new();
    let mut times = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/events/race-big/bibs/1234?limit=1000&cursor={c}"),
            None => "/v1/events/race-big/bibs/1234?limit=1000".to_owned(),
        };
        let asked = Instant::now();
        let page: Value = client
            .get(rig.gateway().url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        times.push(asked.elapsed());
        assert_eq!(page["counts"]["photos"], json!(total));
        seen += page["photos"].as_array().unwrap().len();
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, total, "every photo once over the pages");
    let mut first_pages = Vec::new();
    for _ in 0..20 {
        let asked = Instant::now();
        let response = client
            .get(rig.gateway().url("/v1/events/race-big/bibs/1234?limit=100"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let _ = response.bytes().await.unwrap();
        first_pages.push(asked.elapsed());
    }
    first_pages.sort();
    let asked = Instant::now();
    let list: Value = client
        .get(
            rig.gateway()
                .url("/v1/events/race-big/bibs?prefix=1&limit=50"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let prefix_time = asked.elapsed();
    assert_eq!(list["numbers"].as_array().unwrap().len(), 50, "{list}");
    eprintln!(
        "bib index, bib 1234 in {total} photos (+{total} other numbers), HTTP through the \
         gateway: page of 100 median {:?} max {:?} (20 asks); pages of 1000 {:?}; prefix 1, \
         50 numbers {:?}",
        first_pages[first_pages.len() / 2],
        first_pages.last().unwrap(),
        times,
        prefix_time
    );
    assert!(
        first_pages[first_pages.len() / 2] < Duration::from_millis(100),
        "a page answers in milliseconds"
    );
}
