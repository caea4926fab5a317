//! A closer look where the bib map (`bib_map.rs`) sees a bib and the text detector found no
//! line: the photo's own pixels around the region, cropped and scaled so the digits are about
//! `DIGITS_AT` pixels tall (where the detector reads best, docs/recognition.md), go through
//! the same detector. The lines it finds there are judged like any other; where none of them
//! covers the region (it found nothing, or only a bib's small print under a lone digit), the
//! region itself is read as a line (`map_line`).

use image::{RgbImage, imageops};
use ort::session::Session;

use super::bib::box_holds;
use super::bib_map::BibRegion;
use super::detect::{TextBox, detect_text_at, distance, scaled_to_32};
use crate::{FoundBy, MediaError};

/// At most this many closer looks per photo, at the most probable regions: each costs a
/// detector run, and a photo must not cost without bound (tuning seed 4: at most 4, in 1 of
/// 200 photos).
pub(crate) const MAX_LOOKS: usize = 8;
/// The digits' height the crop is scaled to, in the detector's pixels.
const DIGITS_AT: f32 = 40.0;
/// The digits' height per height of the map's region (the region spreads past the digits:
/// 0.55–0.72 on tuning seed 4's missed bibs).
const DIGITS_PER_REGION: f32 = 0.6;
/// A line covers a region only when its glyphs are at most this many times as tall as the
/// region's digits seem to be. A taller box has framed the digits with something else (the
/// sponsor's line under them, the bib's edge, a torso) and reads "", a letter or a part of
/// the number; the closer look inside it finds the digits' own line. Tuning seeds 3, 4, 5
/// and 11 (1,001 legible bibs), against 4: bibs read +3 ("31", "1", "6", each read "" or
/// a letter before), one more number that is no bib (a "0"; see `bib.rs`), CPU median
/// unchanged; 1.5 read the same.
const MAX_COVER: f32 = 1.8;
/// The smallest digits (pixels tall) read from the map's own box: below this a person cannot
/// read a bib either (the generator's legibility limit).
const MIN_MAP_DIGITS: f32 = 10.0;
/// Scaling limits: a crop is enlarged at most this much (upscaling does not add detail)…
const MAX_UPSCALE: f32 = 3.0;
/// … and its long side is at most this many pixels at the detector.
const MAX_SIDE: f32 = 640.0;

/// Whether one of `lines` covers the region's centre and fits its digits: a box many times
/// taller than them (the detector sometimes frames a whole torso) reads nothing.
pub(crate) fn covered(region: &BibRegion, lines: &[TextBox]) -> bool {
    let centre = region.center();
    let digits = digits_height(region);
    lines
        .iter()
        .any(|line| box_holds(line, centre) && core_height(line) <= MAX_COVER * digits)
}

/// How tall the region's digits seem to be.
fn digits_height(region: &BibRegion) -> f32 {
    DIGITS_PER_REGION * (region.bounds[3] - region.bounds[1])
}

/// The short side of a line's box before the detector's unclipping.
fn core_height(line: &TextBox) -> f32 {
    let [tl, tr, _, bl] = line.core();
    distance(tl, tr).min(distance(tl, bl))
}

/// The crop around a region, in photo pixels: `[x0, y0, x1, y1]`, inside the photo.
fn crop_around(region: &BibRegion, width: u32, height: u32) -> [u32; 4] {
    let [x0, y0, x1, y1] = region.bounds;
    let (w, h) = (x1 - x0, y1 - y0);
    // The map's region is the digits shrunk a little and rounded to its cells: grow it by a
    // digit's height and then some on the sides (the first or last digit may lie outside),
    // and by most of a digit's height above and below (a rotated bib's line is taller).
    let side = 0.8 * h + 0.25 * w;
    let clamp = |v: f32, max: u32| v.round().clamp(0.0, max as f32) as u32;
    [
        clamp(x0 - side, width),
        clamp(y0 - 0.9 * h, height),
        clamp(x1 + side, width),
        clamp(y1 + 0.9 * h, height),
    ]
}

/// The detector's input size for a crop whose digits are about `digits` pixels tall.
fn input_size(crop_width: u32, crop_height: u32, digits: f32) -> (u32, u32) {
    let long = crop_width.max(crop_height) as f32;
    let ratio = (DIGITS_AT / digits.max(1.0))
        .min(MAX_UPSCALE)
        .min(MAX_SIDE / long.max(1.0));
    scaled_to_32(crop_width, crop_height, ratio)
}

/// The region itself as a line to read, for when the detector finds none that covers it (a
/// dark or noisy photo whose digits the map still sees; a lone digit, which the detector
/// misses, over the race's name in small print, which it finds): the region's box, grown by
/// a third of the digits' height on each end, inside the photo. Its read is judged like a
/// closer look's (`CLOSER_LOOK_CONFIDENCE`) and must be a number the worn test takes. A
/// region whose digits would be under `MIN_MAP_DIGITS` pixels tall is a sliver of the map,
/// not a line.
pub(crate) fn map_line(region: &BibRegion, (width, height): (u32, u32)) -> Option<TextBox> {
    let [x0, y0, x1, y1] = region.bounds;
    let digits = digits_height(region);
    if digits < MIN_MAP_DIGITS {
        return None;
    }
    let grow = digits / 3.0;
    let (x0, x1) = ((x0 - grow).max(0.0), (x1 + grow).min(width as f32));
    let (y0, y1) = (y0.max(0.0), y1.min(height as f32));
    (x1 - x0 > 2.0 && y1 - y0 > 2.0).then_some(TextBox {
        corners: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
        score: region.peak,
        found_by: FoundBy::CloserLook,
        bib_map: None,
    })
}

/// The lines the detector finds on a closer look at `region`, in photo pixels; only those
/// whose centre lies near the region (not a neighbour's text caught in the crop).
pub(crate) fn closer_look(
    session: &mut Session,
    image: &RgbImage,
    region: &BibRegion,
) -> Result<Vec<TextBox>, MediaError> {
    let [x0, y0, x1, y1] = crop_around(region, image.width(), image.height());
    if x1 <= x0 + 2 || y1 <= y0 + 2 {
        return Ok(Vec::new());
    }
    let crop = imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image();
    let digits = digits_height(region);
    let size = input_size(crop.width(), crop.height(), digits);
    let lines = detect_text_at(session, &crop, size)?;
    let [rx0, ry0, rx1, ry1] = region.bounds;
    let near = |[x, y]: [f32; 2]| {
        (rx0 - digits..=rx1 + digits).contains(&x) && (ry0 - digits..=ry1 + digits).contains(&y)
    };
    Ok(lines
        .into_iter()
        .map(|mut line| {
            for corner in &mut line.corners {
                corner[0] += x0 as f32;
                corner[1] += y0 as f32;
            }
            line.found_by = FoundBy::CloserLook;
            line
        })
        .filter(|line| near(line.center()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crop_grows_around_the_digits_and_stays_in_the_photo() {
        let region = BibRegion {
            bounds: [100.0, 100.0, 200.0, 140.0],
            peak: 0.9,
        };
        // 40 tall, 100 wide: 57 on each side, 36 above and below.
        assert_eq!(crop_around(&region, 1000, 1000), [43, 64, 257, 176]);
        assert_eq!(crop_around(&region, 220, 150), [43, 64, 220, 150]);
    }

    #[test]
    fn the_maps_own_box_is_the_region_grown_along_the_line_unless_a_sliver() {
        let region = BibRegion {
            bounds: [100.0, 100.0, 200.0, 150.0],
            peak: 0.95,
        };
        // Digits 30 tall: 10 more on each end, inside the photo.
        let line = map_line(&region, (205, 1000)).expect("a line");
        assert_eq!(
            line.corners,
            [[90.0, 100.0], [205.0, 100.0], [205.0, 150.0], [90.0, 150.0]]
        );
        assert_eq!(line.found_by, FoundBy::CloserLook);
        let sliver = BibRegion {
            bounds: [257.0, 617.0, 264.0, 631.0],
            peak: 0.88,
        };
        assert_eq!(map_line(&sliver, (724, 1086)), None);
    }

    #[test]
    fn a_box_much_taller_than_the_maps_digits_does_not_cover_them() {
        let region = BibRegion {
            bounds: [100.0, 100.0, 200.0, 150.0],
            peak: 0.99,
        };
        // Digits about 30 pixels tall (0.6 of the region).
        let line = |y0: f32, y1: f32| TextBox {
            corners: [[90.0, y0], [210.0, y0], [210.0, y1], [90.0, y1]],
            score: 0.8,
            found_by: FoundBy::Detector,
            bib_map: None,
        };
        assert!(covered(&region, &[line(105.0, 145.0)]));
        assert!(!covered(&region, &[line(60.0, 190.0)]), "a torso-sized box");
        assert!(!covered(&region, &[line(20.0, 60.0)]), "a line elsewhere");
    }

    #[test]
    fn small_digits_are_enlarged_to_the_detectors_best_height_within_limits() {
        // Digits 20 tall: twice as large.
        assert_eq!(input_size(200, 100, 20.0), (416, 192));
        // Digits 5 tall: at most three times.
        assert_eq!(input_size(100, 50, 5.0), (288, 160));
        // Digits 400 tall: a tenth.
        assert_eq!(input_size(1600, 800, 400.0), (160, 96));
        // Digits 40 tall in a 1600-wide crop: at most 640 on the long side.
        assert_eq!(input_size(1600, 800, 40.0), (640, 320));
    }
}
