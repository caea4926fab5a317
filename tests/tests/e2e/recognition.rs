//! Bib recognition end to end: generated race photos go through the HTTP API, the queue and a
//! worker running the PP-OCR engine, and their bib numbers arrive in the event room; a worker
//! without models fails photos with `engine_unavailable` instead of reporting them unread.
//! Each end-to-end test runs on its own [`Rig`] (Redis, a gateway, a worker).

use std::time::Duration;

use finishline_bibgen::{BIB_COLORS, NamedColor, SHIRT_COLORS, Set};
use finishline_tests::{Rig, media_dir, protocol_color_names, write_race_photos};
use serde_json::{Value, json};

/// The colour of `palette` nearest (in RGB) to `hex` (`#rrggbb`), or `None` when `hex` is not
/// a colour.
fn nearest_color(palette: &[NamedColor], hex: &str) -> Option<&'static str> {
    let digits = hex.strip_prefix('#').filter(|d| d.len() == 6)?;
    let channel = |i: usize| {
        u8::from_str_radix(&digits[i..i + 2], 16)
            .ok()
            .map(i32::from)
    };
    let rgb = [channel(0)?, channel(2)?, channel(4)?];
    palette
        .iter()
        .min_by_key(|c| {
            c.rgb
                .iter()
                .zip(rgb)
                .map(|(a, b)| (i32::from(*a) - b).pow(2))
                .sum::<i32>()
        })
        .map(|c| c.name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_race_photos_arrive_in_the_room_with_their_bib_numbers_and_colours() {
    let rig = Rig::builder("recognition").workers(1).start().await;
    assert!(
        rig.worker().log().contains("ppocr"),
        "the worker uses the ppocr engine (models from deploy/local/install-deps.sh):\n{}",
        rig.worker().log()
    );
    let truths = write_race_photos(&rig.media, Set::Normal, 4, 21);
    let client = rig.subscribed_client("race-bibs").await;
    let photos: Vec<Value> = truths
        .iter()
        .map(|t| json!({ "photoId": t.file.replace(".jpg", ""), "source": { "path": t.file } }))
        .collect();
    rig.post_photos("race-bibs", &json!({ "photos": photos }))
        .await;
    client
        .wait_for("event:completed", Duration::from_secs(90))
        .await;

    let messages = client.received();
    for truth in &truths {
        let photo_id = truth.file.replace(".jpg", "");
        let done = messages
            .iter()
            .find(|m| m.name == "photo:completed" && m.data["photoId"] == photo_id.as_str())
            .unwrap_or_else(|| panic!("no photo:completed for {photo_id}: {messages:?}"));
        assert_eq!(
            done.data["plateNumber"],
            json!(truth.number),
            "{photo_id} shows bib {}: {}",
            truth.number,
            done.data
        );
        let confidence = done.data["confidence"].as_f64().expect("confidence");
        assert!((0.5..=1.0).contains(&confidence), "{}", done.data);
        let plate = done.data["plates"]
            .as_array()
            .expect("plates")
            .iter()
            .find(|p| p["number"] == json!(truth.number))
            .expect("the bib is among the plates");
        let bib_box = &plate["box"];
        let center_x = bib_box["x"].as_u64().unwrap() + bib_box["w"].as_u64().unwrap() / 2;
        assert!(
            (u64::from(truth.bib_box.x)..u64::from(truth.bib_box.x + truth.bib_box.w))
                .contains(&center_x),
            "the box is on the bib {:?}: {plate}",
            truth.bib_box
        );
        for (key, palette, truth_name) in [
            ("bibColor", BIB_COLORS, truth.bib_color.as_str()),
            ("shirtColor", SHIRT_COLORS, truth.shirt_color.as_str()),
        ] {
            let hex = plate[key].as_str().unwrap_or_default();
            let nearest = nearest_color(palette, hex)
                .unwrap_or_else(|| panic!("{key} is a hex colour: {plate}"));
            assert_eq!(
                nearest, truth_name,
                "{photo_id}: {key} {hex} is nearest the generator's {nearest}, it drew {truth_name}: {plate}"
            );
        }
        for (key, truth_name) in [
            ("bibColorName", truth.bib_color.as_str()),
            ("shirtColorName", truth.shirt_color.as_str()),
        ] {
            let name = plate[key].as_str().unwrap_or_default();
            assert!(
                protocol_color_names(truth_name).contains(&name),
                "{photo_id}: {key} {name:?}, the generator drew {truth_name}: {plate}"
            );
        }
        let banner_numbers: Vec<Value> = truth
            .banners
            .iter()
            .flat_map(|b| {
                b.split(|c: char| !c.is_ascii_digit())
                    .filter_map(|d| d.parse::<u64>().ok())
            })
            .filter(|n| *n != truth.number)
            .map(|n| json!(n))
            .collect();
        for plate in done.data["plates"].as_array().expect("plates") {
            assert!(
                !banner_numbers.contains(&plate["number"]),
                "a banner {:?} was read as a bib: {plate}",
                truth.banners
            );
        }
    }
    client.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_any_ocr_engine_fails_photos_as_engine_unavailable_and_says_why() {
    let empty_models = media_dir("no-models-dir");
    let models_flag = empty_models.display().to_string();
    let rig = Rig::builder("no-models")
        .workers(1)
        .worker_flags(&[
            "--models-dir",
            &models_flag,
            "--tesseract",
            "/nonexistent/tesseract",
            "--max-attempts",
            "1",
        ])
        .start()
        .await;
    assert!(
        rig.worker().log().contains("engine_unavailable"),
        "the worker warns at start-up that no OCR engine is available:\n{}",
        rig.worker().log()
    );
    let truths = write_race_photos(&rig.media, Set::Normal, 1, 22);
    let client = rig.subscribed_client("race-none").await;
    let photos = json!({ "photoId": "only", "source": { "path": truths[0].file } });
    rig.post_photos("race-none", &photos).await;
    client
        .wait_for("event:completed", Duration::from_secs(60))
        .await;
    let messages = client.received();
    let failed = messages
        .iter()
        .find(|m| m.name == "photo:failed")
        .unwrap_or_else(|| panic!("no photo:failed: {messages:?}"));
    assert_eq!(failed.data["code"], "engine_unavailable", "{}", failed.data);
    let error = failed.data["error"].as_str().expect("error");
    assert!(
        error.contains("install-deps.sh") && error.contains(&models_flag),
        "the error names the missing file and the install command: {error}"
    );
    assert!(messages.iter().all(|m| m.name != "photo:completed"));
    client.disconnect().await;
}

/// A small sample of the held-out split (fonts, background photographs and seeds the
/// recognizer was never tuned on; `recognition-bench --split heldout` runs the full one): the
/// floors catch a recognizer that starts taking signs for bibs or stops reading them. The
/// photos are the same on every run, so the figures are too.
#[test]
fn a_held_out_sample_reads_bibs_and_rarely_takes_a_sign_for_one() {
    use finishline_bibgen::race::{RaceGenerator, Split};
    use finishline_media::{PpOcrConfig, PpOcrPipeline};
    use finishline_tests::recognition::{Scores, recognise};

    let engine = PpOcrPipeline::new(&PpOcrConfig::new(finishline_tests::models_dir()))
        .expect("the ppocr engine loads (deploy/local/install-deps.sh installs its models)");
    let generator = RaceGenerator::new(Split::Heldout)
        .expect("the held-out assets (deploy/local/install-deps.sh installs them)");
    let mut scores = Scores::default();
    for index in 0..40 {
        let photo = generator.photo(HELD_OUT_TEST_SEED, index).expect("a photo");
        let (plates, cost) = recognise(&engine, &photo.jpeg).expect("recognition runs");
        scores.add(&photo.truth, &plates, cost);
    }
    let report = format!("{}\n{}", scores.table(), scores.failures.join("\n"));
    eprintln!("{report}");
    let percent = |r: finishline_tests::recognition::Ratio| r.percent().unwrap_or(0.0);
    assert!(
        percent(scores.precision) >= PRECISION_FLOOR,
        "precision: {report}"
    );
    assert!(
        percent(scores.bibfree_false) <= BIBFREE_CEILING,
        "bib-free photos: {report}"
    );
    assert!(percent(scores.recall) >= RECALL_FLOOR, "recall: {report}");
    assert!(
        percent(scores.bib_color) >= BIB_COLOUR_FLOOR,
        "bib colours: {report}"
    );
    assert!(
        percent(scores.shirt_color) >= SHIRT_COLOUR_FLOOR,
        "shirt colours: {report}"
    );
}

const HELD_OUT_TEST_SEED: u64 = 2;
/// Floors a little under what the sample gives today (7 Dec 2026, night, the bib map trained
/// on turned signs too: precision 100% (53/53), 0 of 6 bib-free photos with a reported bib,
/// recall 100% (49/49); that evening, with the map before, precision 98.2% (54/55, a
/// vehicle's "48" as the plate of the distractor photo 17, whose bib 18202 is illegible; the
/// same with the signs turned up to ±20°); on 6 Dec, with the reader fine-tuned with blur:
/// precision 100% (54/54), the same recall; on 5 Dec, with the reader before, 96.2% (50/52)
/// and 98.0% (48/49), its two numbers that are no bib a gate's "7" the bib map takes for a
/// bib's digit and "147" read from the illegible bib 4147, now read whole): five numbers that
/// are not bibs, two bib-free photos with a reported bib, or three bibs missed fail the test.
/// (With PP-OCRv4 it gave 100% (49/49) and 95.9% (47/49).)
const PRECISION_FLOOR: f64 = 93.0;
const BIBFREE_CEILING: f64 = 17.0;
const RECALL_FLOOR: f64 = 95.0;
/// Colours by name, on the bibs read: 88.9% (48/54) bib and 98.1% (53/54) shirt today (92.0%
/// (46/50) and 100% (50/50) on 5 Dec, four bibs fewer read; among the bibs read since is the
/// illegible 4147, its white bib named purple). Three more bib colours or six more shirt
/// colours wrong fail the test.
const BIB_COLOUR_FLOOR: f64 = 85.0;
const SHIRT_COLOUR_FLOOR: f64 = 90.0;
