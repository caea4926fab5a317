//! The PP-OCR engine on generated race photos: it reads the bibs exactly and never a banner.
//!
//! These tests need the models of deploy/local/install-models.sh. Without them they fail and
//! say so, unless `FINISHLINE_SKIP_MODEL_TESTS=1` asks to skip them (then they say that too).

mod support;

use std::path::PathBuf;

use finishline_bibgen::{Generator, Set};
use finishline_media::ppocr::{
    DETECTION_MODEL, DETECTION_MODEL_INT8, ONNXRUNTIME_LIBRARY, RECOGNITION_MODEL, TextBox,
};
use finishline_media::{
    BibCandidate, FoundBy, MediaLimits, PhotoPipeline, PpOcrConfig, PpOcrPipeline, decode_photo,
};
use finishline_wire::ColorName;

fn models_dir() -> PathBuf {
    std::env::var_os("FINISHLINE_MODELS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    )
}

/// The engine, or `None` when the models are absent and the caller asked to skip.
fn engine() -> Option<PpOcrPipeline> {
    let dir = models_dir();
    let present = [
        DETECTION_MODEL_INT8,
        DETECTION_MODEL,
        RECOGNITION_MODEL,
        ONNXRUNTIME_LIBRARY,
    ]
    .iter()
    .all(|file| dir.join(file).is_file());
    if !present {
        if std::env::var("FINISHLINE_SKIP_MODEL_TESTS").as_deref() == Ok("1") {
            eprintln!(
                "SKIPPED: the recognition models are not in {} (FINISHLINE_SKIP_MODEL_TESTS=1)",
                dir.display()
            );
            return None;
        }
        panic!(
            "the recognition models are not in {}: run deploy/local/install-deps.sh \
             (or set FINISHLINE_SKIP_MODEL_TESTS=1 to skip these tests)",
            dir.display()
        );
    }
    Some(PpOcrPipeline::new(&PpOcrConfig::new(dir)).expect("the ppocr engine loads"))
}

/// Runs the engine on photos `0..n` of a set and checks every best read and every banner.
fn reads_every_bib_exactly(set: Set, seed: u64, n: u32) {
    let Some(engine) = engine() else { return };
    let generator = Generator::new().expect("fonts-dejavu-core (deploy/local/install-deps.sh)");
    let mut wrong = Vec::new();
    for index in 0..n {
        let generated = generator.photo(set, seed, index).unwrap();
        let truth = &generated.truth;
        let photo = decode_photo(&generated.jpeg, &MediaLimits::default()).unwrap();
        let candidates = engine.detect(&photo).unwrap();
        let plates = engine.read(&photo, &candidates).unwrap();
        let best = plates
            .iter()
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence));
        if best.map(|p| p.number) != Some(truth.number) {
            wrong.push(format!(
                "photo {index}: bib {} read as {plates:?}",
                truth.number
            ));
        }
        for plate in &plates {
            let banner_digits = truth.banners.iter().any(|banner| {
                banner
                    .split(|c: char| !c.is_ascii_digit())
                    .any(|digits| digits.parse::<u64>().ok() == Some(plate.number))
            });
            if banner_digits && plate.number != truth.number {
                wrong.push(format!(
                    "photo {index}: banner {:?} read as bib {}",
                    truth.banners, plate.number
                ));
            }
        }
        if let Some(best) = best {
            let b = &best.bounding_box;
            let t = &truth.bib_box;
            let inside = b.x + b.w / 2 >= t.x
                && b.x + b.w / 2 <= t.x + t.w
                && b.y + b.h / 2 >= t.y
                && b.y + b.h / 2 <= t.y + t.h;
            if !inside {
                wrong.push(format!("photo {index}: box {b:?} is not on the bib {t:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {n} {set} photos wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_engine_reads_normal_generated_bibs_exactly_and_no_banner() {
    reads_every_bib_exactly(Set::Normal, 11, 6);
}

#[test]
fn the_engine_reads_small_generated_bibs_exactly_and_no_banner() {
    reads_every_bib_exactly(Set::Small, 12, 6);
}

#[test]
fn missing_models_make_the_engine_unavailable_with_the_path_and_the_install_command() {
    let empty = std::env::temp_dir().join(format!("finishline-no-models-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let err = PpOcrPipeline::new(&PpOcrConfig::new(&empty)).unwrap_err();
    assert_eq!(err.code(), "engine_unavailable", "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&empty.join(DETECTION_MODEL_INT8).display().to_string()),
        "{message}"
    );
    assert!(
        message.contains("deploy/local/install-deps.sh"),
        "{message}"
    );
    std::fs::remove_dir_all(&empty).ok();
}

/// A 3200×2400 photo: a red shirt on green, a white bib on it, and `number` (one digit in
/// most tests) 70 pixels tall in the bib's middle. Returns the photo and the digits' box.
fn bib_photo(number: &str) -> (finishline_media::Photo, [f32; 4]) {
    use imageproc::drawing::{draw_filled_rect_mut, draw_text_mut, text_size};
    use imageproc::rect::Rect;
    let font = support::classical_bibs::load_font();
    let mut image = image::RgbImage::from_pixel(3200, 2400, image::Rgb([90, 110, 90]));
    draw_filled_rect_mut(
        &mut image,
        Rect::at(1000, 500).of_size(420, 450),
        image::Rgb([200, 40, 40]),
    );
    let scale = ab_glyph::PxScale::from(70.0 / 0.73);
    let (w, h) = text_size(scale, &font, number);
    let patch = 180.max(w + 60);
    draw_filled_rect_mut(
        &mut image,
        Rect::at(1210 - patch as i32 / 2, 660).of_size(patch, 150),
        image::Rgb([245, 245, 240]),
    );
    let (x, y) = (1210 - w as i32 / 2, 735 - h as i32 / 2);
    draw_text_mut(
        &mut image,
        image::Rgb([20, 20, 20]),
        x,
        y,
        scale,
        &font,
        number,
    );
    let glyph = [
        x as f32,
        y as f32,
        (x + w as i32) as f32,
        (y + h as i32) as f32,
    ];
    (finishline_media::Photo::new(image), glyph)
}

/// A lone glyph passed in as a candidate (`FoundBy::LoneGlyph`) is read and judged without the
/// person model: on a bib on a shirt it is a bib, with both colours.
#[test]
fn a_lone_glyph_on_a_bib_is_read_as_a_one_digit_bib_with_its_colours() {
    let Some(engine) = engine() else { return };
    let (photo, glyph) = bib_photo("7");
    let text_box = TextBox::around_glyph(glyph, 0.7);
    let candidate = BibCandidate {
        bounding_box: finishline_media::ppocr::bounding_box(&text_box),
        score: text_box.score,
        corners: Some(text_box.corners),
        found_by: FoundBy::LoneGlyph,
        bib_map: None,
    };
    let plates = engine.read(&photo, &[candidate]).unwrap();
    assert_eq!(
        plates.iter().map(|p| p.number).collect::<Vec<_>>(),
        vec![7],
        "{plates:?}"
    );
    assert_eq!(
        plates[0].bib_color_name,
        Some(ColorName::White),
        "{plates:?}"
    );
    assert_eq!(
        plates[0].shirt_color_name,
        Some(ColorName::Red),
        "{plates:?}"
    );
}

/// The bib map (`bib_map.rs`, trained on generated photos) sees bibs drawn by other code: a
/// number on a white patch on a shirt, lit over at least part of its digits (the map trained on
/// more fonts lights the "16" of 4816, the first map lit "48" and "6" apart) and nowhere off the
/// shirt; the engine reads each. The same photo without the patch and its digits has no bib.
#[test]
fn the_bib_map_sees_a_bib_on_a_shirt_and_nothing_on_the_bare_shirt() {
    use finishline_media::PhotoPipeline;
    let Some(engine) = engine() else { return };
    for number in ["4816", "253", "71"] {
        let (photo, glyph) = bib_photo(number);
        let regions = engine.bib_regions(&photo).unwrap();
        assert!(
            regions
                .iter()
                .any(|r| r[0] < glyph[2] && r[2] > glyph[0] && r[1] < glyph[3] && r[3] > glyph[1]),
            "{number}: no region over the digits at {glyph:?}: {regions:?}"
        );
        // Nothing off the bib: every region lies on the shirt (1000–1420 × 500–950).
        assert!(
            regions
                .iter()
                .all(|r| r[0] >= 1000.0 && r[2] <= 1420.0 && r[1] >= 500.0 && r[3] <= 950.0),
            "{number}: {regions:?}"
        );
        let candidates = engine.detect(&photo).unwrap();
        let plates = engine.read(&photo, &candidates).unwrap();
        let numbers: Vec<String> = plates.iter().map(|p| p.number.to_string()).collect();
        assert_eq!(numbers, vec![number.to_string()], "{number}");
    }
    let (mut bare, _) = bib_photo("");
    imageproc::drawing::draw_filled_rect_mut(
        &mut bare.image,
        imageproc::rect::Rect::at(1120, 660).of_size(180, 150),
        image::Rgb([200, 40, 40]),
    );
    assert_eq!(engine.bib_regions(&bare).unwrap(), Vec::<[f32; 4]>::new());
}

/// A one-digit bib with its race's name in small print under the digit (tuning seed 4's photo
/// 92, from `finishline-bibgen race --split tuning`; three runners, 5, 90 and 6433): the text
/// detector misses the lone "5", and the closer look where the bib map sees it finds only the
/// small print's line, under the digit. The map's own box is then read, and the 5 is a bib.
#[test]
fn a_one_digit_bib_whose_closer_look_finds_only_its_small_print_is_read() {
    use finishline_bibgen::race::{RaceGenerator, Split};
    let Some(engine) = engine() else { return };
    let generator = RaceGenerator::new(Split::Tuning)
        .expect("the tuning split's assets (deploy/local/install-eval-assets.sh)");
    let generated = generator.photo(4, 91).unwrap();
    let mut truth: Vec<u64> = generated.truth.bibs.iter().map(|b| b.number).collect();
    truth.sort_unstable();
    assert_eq!(truth, vec![5, 90, 6433], "the generator's photo changed");
    let photo = decode_photo(&generated.jpeg, &MediaLimits::default()).unwrap();
    let candidates = engine.detect(&photo).unwrap();
    let mut read: Vec<u64> = engine
        .read(&photo, &candidates)
        .unwrap()
        .iter()
        .map(|p| p.number)
        .collect();
    read.sort_unstable();
    assert_eq!(read, truth);
}
