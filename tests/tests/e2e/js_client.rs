//! The official JS `socket.io-client` v4 against the gateway, with default transports
//! (polling, then upgrade) and with websocket only.

use std::path::PathBuf;
use std::process::Command;

use finishline_tests::{Rig, write_corrupt_jpeg, write_photo};
use serde_json::Value;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

async fn run_scenario(transport: &str) {
    let js = js_dir();
    assert!(
        js.join("node_modules/socket.io-client").exists(),
        "run `npm ci --prefix tests/js` first (tests/run.sh does)"
    );
    let rig = Rig::builder(&format!("js-{transport}"))
        .workers(1)
        .start()
        .await;
    let media = &rig.media;
    write_photo(&media.join("a.png"), 80, 60, [250, 200, 0], [0, 0, 0]);
    write_photo(&media.join("b.jpg"), 80, 60, [0, 120, 250], [255, 255, 255]);
    write_corrupt_jpeg(&media.join("bad.jpg"));
    let gateway_url = rig.gateway().url("");
    let event = format!("js-{transport}");
    let transport = transport.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(js.join("scenario.mjs"))
            .args(["--gateway", &gateway_url, "--event", &event])
            .args([
                "--transport",
                &transport,
                "--photos",
                "a.png,b.jpg,bad.jpg",
                "--expect-failed",
                "1",
            ])
            .args(["--timeout-ms", "60000"])
            .output()
            .expect("node must be installed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let result: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("scenario output: {stdout}\n{stderr}"));
    assert_eq!(result["ok"], true, "scenario failed: {result}\n{stderr}");
    assert_eq!(
        result["transport"], "websocket",
        "ends on websocket: {result}"
    );
    assert!(output.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_js_client_works_with_default_transports() {
    run_scenario("default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_js_client_works_with_websocket_only() {
    run_scenario("websocket").await;
}
