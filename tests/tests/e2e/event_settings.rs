//! Event settings end to end: an admin stores a start list through the HTTP API, and the
//! worker (PP-OCR) never reports a bib that is not on it.

use std::time::Duration;

use finishline_bibgen::Set;
use finishline_tests::{Rig, token, wait_until, write_race_photos};
use serde_json::{Value, json};

async fn put_settings(rig: &Rig, event: &str, token: &str, body: &str) -> (u16, Value) {
    let path = format!("/v1/events/{event}/settings");
    rig.put_as(&path, Some(token).filter(|t| !t.is_empty()), body)
        .await
}

async fn get_settings(rig: &Rig, event: &str, token: &str) -> (u16, Value) {
    rig.get(&format!("/v1/events/{event}/settings"), Some(token))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_list_keeps_unlisted_bibs_out_of_completed_photos() {
    let rig = Rig::builder("settings").jwt(&[]).start().await;
    let truth = write_race_photos(&rig.media, Set::Normal, 1, 21).remove(0);
    let admin = token(json!({ "scope": "admin", "events": ["*"] }));
    let producer = token(json!({ "scope": "enqueue" }));
    let watcher = token(json!({ "events": ["race-listed"] }));

    // Only admins write settings; bad settings are refused with a reason.
    let (status, body) = put_settings(&rig, "race-listed", &producer, "{}").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    let (status, body) = put_settings(&rig, "race-listed", "", "{}").await;
    assert_eq!(status, 401, "{body}");
    for (bad, says) in [
        (r#"{"bibRange":[900,100]}"#, "bibRange"),
        (r#"{"bibDigits":[1,9]}"#, "bibDigits"),
        (r#"{"startList":[1],"colour":"red"}"#, "unknown field"),
        ("{not json", "JSON"),
    ] {
        let (status, body) = put_settings(&rig, "race-listed", &admin, bad).await;
        assert!((400..500).contains(&status), "{bad}: {status} {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_payload", "{body}");
    }

    // One event lists the photo's bib, the other does not.
    let far = [999_901, 999_902, 999_903];
    let unlisted = json!({ "startList": far });
    let listed = json!({ "startList": [far[0], truth.number], "bibRange": [1, 999_999] });
    let (status, body) = put_settings(&rig, "race-unlisted", &admin, &unlisted.to_string()).await;
    assert_eq!((status, &body), (200, &unlisted));
    let (status, body) = put_settings(&rig, "race-listed", &admin, &listed.to_string()).await;
    assert_eq!((status, &body), (200, &listed));
    assert_eq!(
        get_settings(&rig, "race-listed", &watcher).await,
        (200, listed.clone()),
        "a watcher of the event reads what was PUT"
    );
    assert_eq!(
        get_settings(&rig, "race-unlisted", &producer).await,
        (200, unlisted.clone())
    );
    assert_eq!(
        get_settings(&rig, "race-unlisted", &watcher).await.0,
        403,
        "a watcher of another event cannot read them"
    );
    assert_eq!(
        get_settings(&rig, "race-none", &admin).await,
        (200, json!({}))
    );

    // The worker starts once the settings are stored.
    let worker = rig.start_worker(&[]).await;
    let client = rig.client_as(&token(json!({ "events": ["*"] }))).await;
    for event in ["race-unlisted", "race-listed"] {
        let ack = client
            .call("subscribe:event", json!({ "eventId": event }))
            .await;
        assert_eq!(ack["success"], true, "{ack}");
        let photo = json!({ "photoId": "finish-1", "source": { "path": truth.file } });
        rig.post_photos_as(Some(&producer), event, &photo).await;
    }
    wait_until("both photos completed", Duration::from_secs(90), || {
        let done = client
            .received()
            .iter()
            .filter(|m| m.name == "photo:completed" || m.name == "photo:failed")
            .count();
        async move { done >= 2 }
    })
    .await;
    let messages = client.received();
    let completed = |event: &str| {
        messages
            .iter()
            .find(|m| m.name == "photo:completed" && m.data["eventId"] == event)
            .unwrap_or_else(|| {
                panic!(
                    "no photo:completed for {event}: {messages:?}\n{}",
                    worker.log()
                )
            })
            .data
            .clone()
    };

    let without = completed("race-unlisted");
    let numbers: Vec<u64> = without["plates"]
        .as_array()
        .expect("plates")
        .iter()
        .map(|p| p["number"].as_u64().expect("number"))
        .collect();
    assert!(
        numbers.iter().all(|n| far.contains(n)),
        "only listed numbers are reported (bib {} is not listed): {without}",
        truth.number
    );
    assert!(
        without["plateNumber"].is_null()
            || far.contains(&without["plateNumber"].as_u64().unwrap_or(0)),
        "{without}"
    );

    let with = completed("race-listed");
    assert_eq!(with["plateNumber"], json!(truth.number), "{with}");
    assert!(
        with["plates"]
            .as_array()
            .expect("plates")
            .iter()
            .all(|p| p["number"] == json!(truth.number) || p["number"] == json!(far[0])),
        "{with}"
    );
    client.disconnect().await;
}
