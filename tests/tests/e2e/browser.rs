//! The dashboard in headless Chromium (Debian's package, driven by playwright-core): counts,
//! bibs, colours and errors shown, and a gateway restart the page recovers from with no gap.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use finishline_bibgen::Set;
use finishline_tests::{
    Gateway, RedisServer, Worker, unique_prefix, write_corrupt_jpeg, write_race_photos,
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
    let mut gateway = Some(Gateway::start(redis.url(), &prefix).await);
    let port = gateway.as_ref().unwrap().port;
    let _worker = Worker::start(redis.url(), &prefix, &media).await;
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("dashboard.png");
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
        ])
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
            gateway =
                Some(Gateway::start_on(port, redis.url(), &prefix, &["--auth-disabled"]).await);
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
    eprintln!("dashboard: {result}");
}
