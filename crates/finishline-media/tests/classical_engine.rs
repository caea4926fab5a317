//! The classical engine (imageproc detector + Tesseract) on rendered race photos: it must
//! read the exact bib numbers, rotated up to ±10°, dark on light and light on dark, and never
//! report the "CITY RUN 2026" banner, the "KM 21" sign or a house number on a wall.
//!
//! These tests need Debian's `tesseract-ocr` (deploy/local/install-deps.sh installs it). Without
//! it they fail with that message, unless `FINISHLINE_SKIP_TESSERACT_TESTS=1` says this machine
//! knowingly lacks it.

mod support;

use finishline_media::{ClassicalPipeline, FoundBy, MediaError, Photo, PhotoPipeline};
use support::classical_bibs::{self, SceneSpec, overlaps};

/// The engine, or `None` when tesseract is absent and the skip is asked for explicitly.
fn engine() -> Option<ClassicalPipeline> {
    match ClassicalPipeline::new() {
        Ok(engine) => Some(engine),
        Err(err @ MediaError::EngineUnavailable(_))
            if std::env::var("FINISHLINE_SKIP_TESSERACT_TESTS").as_deref() == Ok("1") =>
        {
            eprintln!("SKIPPED (FINISHLINE_SKIP_TESSERACT_TESTS=1): {err}");
            None
        }
        Err(err) => panic!(
            "{err}\n(set FINISHLINE_SKIP_TESSERACT_TESTS=1 to skip the tesseract tests on a machine without it)"
        ),
    }
}

fn bbox_tuple(b: &finishline_wire::BoundingBox) -> (u32, u32, u32, u32) {
    (
        b.x,
        b.y,
        b.x + b.w.saturating_sub(1),
        b.y + b.h.saturating_sub(1),
    )
}

#[test]
fn rotated_bibs_are_read_exactly_and_the_banner_and_sign_are_never_reported() {
    let Some(engine) = engine() else { return };
    let font = classical_bibs::load_font();
    let cases: [(u64, u64, f32, bool); 5] = [
        (1, 42, -10.0, false),
        (2, 317, 6.0, false),
        (3, 2048, 10.0, false),
        (4, 90125, -4.0, false),
        (5, 768, 3.0, true),
    ];
    for (seed, number, angle, light_on_dark) in cases {
        let spec = SceneSpec {
            number: Some(number),
            angle_degrees: Some(angle),
            light_on_dark: Some(light_on_dark),
            ..SceneSpec::normal(1024, 768)
        };
        let scene = classical_bibs::render(&font, seed, &spec);
        let photo = Photo::new(scene.photo);
        let candidates = engine.detect(&photo).expect("detection");
        let plates = engine.read(&photo, &candidates).expect("ocr");
        let numbers: Vec<u64> = plates.iter().map(|p| p.number).collect();
        if numbers != vec![number] {
            let saved = std::env::temp_dir().join(format!("classical-engine-seed{seed}.png"));
            let _ = photo.image.save(&saved);
            panic!(
                "seed {seed}, {angle}°, light on dark {light_on_dark}: read {plates:?} instead of {number} \
                 from {candidates:?}; the photo is saved as {}",
                saved.display()
            );
        }
        let plate = &plates[0];
        assert!(
            overlaps(bbox_tuple(&plate.bounding_box), scene.digits_box.unwrap()),
            "the plate's box {:?} is not on the bib's digits {:?}",
            plate.bounding_box,
            scene.digits_box
        );
        assert!(
            plate.confidence > 0.5 && plate.confidence <= 1.0,
            "{plate:?}"
        );
        let colors = engine.colors(&photo, &plates).expect("colours");
        assert!(!colors.is_empty());
    }
}

#[test]
fn a_photo_with_only_the_banner_and_the_sign_has_candidates_but_no_plate() {
    let Some(engine) = engine() else { return };
    let font = classical_bibs::load_font();
    for seed in [11, 12] {
        let spec = SceneSpec {
            with_bib: false,
            ..SceneSpec::normal(1024, 768)
        };
        let scene = classical_bibs::render(&font, seed, &spec);
        let photo = Photo::new(scene.photo);
        let candidates = engine.detect(&photo).expect("detection");
        // The detector does find the banner's line: the words are rejected by reading them.
        assert!(
            candidates
                .iter()
                .any(|c| overlaps(bbox_tuple(&c.bounding_box), scene.banner_box)),
            "seed {seed}: no candidate on the banner {:?}: {candidates:?}",
            scene.banner_box
        );
        let plates = engine.read(&photo, &candidates).expect("ocr");
        assert!(plates.is_empty(), "seed {seed}: reported {plates:?}");
    }
}

#[test]
fn candidates_from_elsewhere_that_hold_no_line_are_read_as_nothing() {
    let Some(engine) = engine() else { return };
    let photo = Photo::new(image::RgbImage::from_pixel(
        300,
        200,
        image::Rgb([200, 200, 200]),
    ));
    let candidate = finishline_media::BibCandidate {
        bounding_box: finishline_wire::BoundingBox {
            x: 20,
            y: 20,
            w: 100,
            h: 40,
        },
        score: 0.9,
        corners: None,
        found_by: FoundBy::Detector,
        bib_map: None,
    };
    assert!(engine.read(&photo, &[candidate]).expect("ocr").is_empty());
}

/// A house number on a wall in front of a hedge: the wall is a plain patch around the digits,
/// and the hedge a plain colour that ends on both sides and goes on below it, as a shirt does
/// around a bib's paper. Both numbers pass the shape test and the learned model (0.59 and
/// 0.72, the fallback's threshold 0.45); without a person model the fallback tells them apart
/// by the patch: the wall is five digit heights tall around the digits, a bib's paper about
/// two (`verdict::panel`; without it, "87" is reported as a brown bib on a green shirt).
#[test]
fn a_house_number_on_a_wall_is_found_but_not_reported() {
    use imageproc::drawing::{draw_filled_rect_mut, draw_text_mut};
    use imageproc::rect::Rect;
    let Some(engine) = engine() else { return };
    let font = classical_bibs::load_font();
    for (case, number, wall) in [(1, "87", [214, 196, 160]), (2, "42", [230, 226, 214])] {
        let mut image = image::RgbImage::from_pixel(1024, 768, image::Rgb([120, 150, 190]));
        let digit_height = 60.0f32;
        let scale = ab_glyph::PxScale::from(digit_height / 0.73);
        let (text_w, _) = imageproc::drawing::text_size(scale, &font, number);
        let (w, h) = ((3 * text_w).max(300), 300u32);
        let (x, y) = (300i32, 250i32);
        // A hedge in front of which the house stands: plain, it ends on both sides, and it
        // goes on below the wall, as a shirt does around a bib's paper.
        let hedge = Rect::at(x - 60, y + (h * 3 / 10) as i32).of_size(w + 120, h * 7 / 10 + 130);
        draw_filled_rect_mut(&mut image, hedge, image::Rgb([52, 96, 44]));
        draw_filled_rect_mut(&mut image, Rect::at(x, y).of_size(w, h), image::Rgb(wall));
        for (fx, fy) in [(0.08, 0.08), (0.7, 0.08), (0.08, 0.6), (0.7, 0.6)] {
            let window = Rect::at(x + (fx * w as f32) as i32, y + (fy * h as f32) as i32)
                .of_size(w / 5, h * 3 / 10);
            draw_filled_rect_mut(&mut image, window, image::Rgb([70, 90, 110]));
        }
        let (tx, ty) = (
            x + (w / 2 - text_w / 2) as i32,
            y + (0.45 * h as f32) as i32 - 40,
        );
        draw_text_mut(
            &mut image,
            image::Rgb([20, 20, 24]),
            tx,
            ty,
            scale,
            &font,
            number,
        );
        let photo = Photo::new(image);
        let candidates = engine.detect(&photo).expect("detection");
        let number_box = (
            tx as u32,
            ty as u32,
            tx as u32 + text_w,
            ty as u32 + scale.y as u32,
        );
        assert!(
            candidates
                .iter()
                .any(|c| overlaps(bbox_tuple(&c.bounding_box), number_box)),
            "case {case}: no candidate on the house number {number_box:?}: {candidates:?}"
        );
        let plates = engine.read(&photo, &candidates).expect("ocr");
        assert!(plates.is_empty(), "case {case}: reported {plates:?}");
    }
}
