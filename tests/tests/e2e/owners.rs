//! Owners and per-user delivery: a job belongs to the `sub` of the token that enqueued it (or
//! to the `userId` an admin names), and its messages reach that user's sockets whatever their
//! event rights; another user's sockets never see them.

use std::time::Duration;

use finishline_tests::{Rig, SocketClient, run_photo_job, token};
use finishline_wire::JobId;
use serde_json::{Value, json};

/// Posts one photo with `token` and `extra` body fields; returns the status and the body.
pub async fn post_photo(
    rig: &Rig,
    token: &str,
    event: &str,
    photo: &str,
    extra: Value,
) -> (u16, Value) {
    let mut body = json!({ "photoId": photo, "source": { "path": format!("{photo}.png") } });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let path = format!("/v1/events/{event}/photos");
    rig.post_as(&path, Some(token), &body).await
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
    let rig = Rig::builder("owners").jwt(&[]).start().await;
    // Neither user may watch any event: what reaches them comes through their user room.
    let alice = connect_as(&rig, "/progress", "alice").await;
    let bob = connect_as(&rig, "/progress", "bob").await;

    let alice_enqueues = token(json!({ "sub": "alice", "scope": "enqueue" }));
    let (status, body) = post_photo(&rig, &alice_enqueues, "race-a", "a1", json!({})).await;
    assert_eq!(status, 202, "{body}");
    let alice_job = body["jobs"][0]["jobId"].as_str().unwrap().to_owned();
    // A service enqueues on bob's behalf: only an admin token may name the owner.
    let (status, body) = post_photo(
        &rig,
        &alice_enqueues,
        "race-b",
        "b1",
        json!({ "userId": "bob" }),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let service = token(json!({ "sub": "svc", "scope": "admin" }));
    let (status, body) =
        post_photo(&rig, &service, "race-b", "b1", json!({ "userId": "bob" })).await;
    assert_eq!(status, 202, "{body}");
    let bob_job = body["jobs"][0]["jobId"].as_str().unwrap().to_owned();

    let bus = &rig.bus;
    for (job, photo) in [(&alice_job, "a1"), (&bob_job, "b1")] {
        assert!(run_photo_job(bus, &JobId::parse(job.as_str()).unwrap(), photo).await);
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

/// A client of `namespace` as user `sub`, who may watch no event.
async fn connect_as(rig: &Rig, namespace: &str, sub: &str) -> SocketClient {
    let token = token(json!({ "sub": sub, "events": [] }));
    rig.client_of(rig.gateway(), namespace, &token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_no_namespace_does_a_user_receive_another_users_messages() {
    let rig = Rig::builder("isolation").jwt(&[]).start().await;
    let mut jobs = Vec::new();
    for (user, photo) in [("alice", "a1"), ("bob", "b1")] {
        let producer = token(json!({ "sub": user, "scope": "enqueue" }));
        let (status, body) = post_photo(&rig, &producer, "race-iso", photo, json!({})).await;
        assert_eq!(status, 202, "{body}");
        jobs.push(body["jobs"][0]["jobId"].as_str().unwrap().to_owned());
    }
    let (alice_job, bob_job) = (jobs[0].clone(), jobs[1].clone());

    let mut clients = Vec::new();
    for user in ["alice", "bob"] {
        let own = if user == "alice" {
            &alice_job
        } else {
            &bob_job
        };
        let other = if user == "alice" {
            &bob_job
        } else {
            &alice_job
        };
        let other_user = if user == "alice" { "bob" } else { "alice" };
        let progress = connect_as(&rig, "/progress", user).await;
        let queue = connect_as(&rig, "/queue", user).await;
        let jobs_ns = connect_as(&rig, "/jobs", user).await;
        for refused in [
            json!({ "jobId": other }),
            json!({ "userId": other_user }),
            json!({}),
        ] {
            let ack = jobs_ns.call("subscribe:jobs", refused.clone()).await;
            assert_eq!(ack["success"], false, "{user} {refused}: {ack}");
        }
        let ack = jobs_ns
            .call("subscribe:jobs", json!({ "userId": user }))
            .await;
        assert_eq!(ack["room"], format!("user:{user}"), "{ack}");
        let files = connect_as(&rig, "/file-processing", user).await;
        let ack = files
            .call("subscribe:file", json!({ "fileId": other }))
            .await;
        assert_eq!(ack["error"]["code"], "not_found", "{ack}");
        let ack = files.call("subscribe:file", json!({ "fileId": own })).await;
        assert_eq!(ack["jobId"], own.as_str(), "{ack}");
        clients.push((user, own.clone(), [progress, queue, jobs_ns, files]));
    }

    let bus = &rig.bus;
    for (job, photo) in [(&alice_job, "a1"), (&bob_job, "b1")] {
        assert!(run_photo_job(bus, &JobId::parse(job.as_str()).unwrap(), photo).await);
    }
    for (user, own, sockets) in &clients {
        let [progress, queue, jobs_ns, files] = sockets;
        progress
            .wait_for("photo:completed", Duration::from_secs(10))
            .await;
        queue
            .wait_for("queue-update", Duration::from_secs(10))
            .await;
        jobs_ns
            .wait_for("job:completed", Duration::from_secs(10))
            .await;
        files
            .wait_for("processing:completed", Duration::from_secs(10))
            .await;
        // Wait for the last of them, then everything that arrived must be the user's.
        finishline_tests::wait_until(
            "queue-update job-completed",
            Duration::from_secs(10),
            || {
                let done = queue
                    .received()
                    .iter()
                    .any(|m| m.data["eventType"] == "job-completed");
                async move { done }
            },
        )
        .await;
        for (namespace, client) in [
            ("/progress", progress),
            ("/queue", queue),
            ("/jobs", jobs_ns),
            ("/file-processing", files),
        ] {
            let seen = job_ids(client);
            assert!(
                !seen.is_empty() && seen.iter().all(|j| j == own),
                "{user} on {namespace} saw {seen:?}, expected only {own}"
            );
        }
    }
}

/// `seq`s of the messages `client` got about `job` (not the acks), and their names.
fn seqs_of(client: &SocketClient, job: &str) -> Vec<(u64, String)> {
    client
        .received()
        .iter()
        .filter(|m| m.data["jobId"] == job)
        .filter_map(|m| Some((m.data["seq"].as_u64()?, m.name.clone())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_subscription_with_since_replays_what_was_missed_then_follows_live() {
    let rig = Rig::builder("follow").jwt(&[]).start().await;
    let producer = token(json!({ "sub": "alice", "scope": "enqueue" }));
    let mut jobs = Vec::new();
    for photo in ["a1", "a2"] {
        let (status, body) = post_photo(&rig, &producer, "race-f", photo, json!({})).await;
        assert_eq!(status, 202, "{body}");
        jobs.push(body["jobs"][0]["jobId"].as_str().unwrap().to_owned());
    }
    let bus = &rig.bus;
    // Event seqs: 1 job:queued a1, 2 event:progress, 3 job:queued a2, 4 event:progress; a1
    // runs: 5 job:started, 6-8 photo:progress, 9 photo:completed, 10 event:progress.
    assert!(run_photo_job(bus, &JobId::parse(jobs[0].as_str()).unwrap(), "a1").await);

    let jobs_ns = connect_as(&rig, "/jobs", "alice").await;
    let files = connect_as(&rig, "/file-processing", "alice").await;
    let ack = jobs_ns
        .call("subscribe:jobs", json!({ "jobId": jobs[0], "since": 5 }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    let ack = jobs_ns
        .call("subscribe:jobs", json!({ "jobId": jobs[1], "since": 0 }))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    let ack = files
        .call("subscribe:file", json!({ "fileId": jobs[1], "since": 0 }))
        .await;
    assert_eq!(ack["jobId"], jobs[1].as_str(), "{ack}");
    // The ended job: only what came after seq 5, from its history.
    jobs_ns
        .wait_for("job:completed", Duration::from_secs(10))
        .await;
    assert_eq!(
        seqs_of(&jobs_ns, &jobs[0]),
        [
            (6, "job:progress".to_owned()),
            (7, "job:progress".to_owned()),
            (8, "job:progress".to_owned()),
            (9, "job:completed".to_owned())
        ]
    );
    // The queued job: its job:queued from history, then the run live, once each, in order.
    assert!(run_photo_job(bus, &JobId::parse(jobs[1].as_str()).unwrap(), "a2").await);
    files
        .wait_for("processing:completed", Duration::from_secs(10))
        .await;
    finishline_tests::wait_until("a2 completed on /jobs", Duration::from_secs(10), || {
        let done = seqs_of(&jobs_ns, &jobs[1])
            .iter()
            .any(|(_, name)| name == "job:completed");
        async move { done }
    })
    .await;
    let names = |pairs: Vec<(u64, String)>| {
        let seqs: Vec<u64> = pairs.iter().map(|p| p.0).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "in order, once: {pairs:?}"
        );
        pairs.into_iter().map(|p| p.1).collect::<Vec<_>>()
    };
    assert_eq!(
        names(seqs_of(&jobs_ns, &jobs[1])),
        [
            "job:update",
            "job:update",
            "job:progress",
            "job:progress",
            "job:progress",
            "job:completed"
        ]
    );
    assert_eq!(
        names(seqs_of(&files, &jobs[1])),
        [
            "processing:started",
            "processing:progress",
            "processing:progress",
            "processing:progress",
            "processing:completed"
        ]
    );
}
