//! Whether a number is worn by a runner, from what surrounds it in the photo.
//!
//! Signs, km markers, banners, clocks and door numbers are digits too; what a bib has that
//! they lack is where it sits: a plain paper patch a little larger than the number, pinned on
//! a shirt that surrounds the patch on its sides and below and that ends, within a couple of
//! bib widths, where the torso ends. A number on a wall, a vehicle or against the sky has a
//! "shirt" that runs on; a plate on a post or a sign over a busy scene has no plain colour
//! around it at all. Each test is measured in the number's own upright frame (rotated bibs
//! included), in units of the digits' height `H`, so it holds at every scale.
//!
//! The same measurement gives the colours people search by: the paper is the bib's colour, the
//! shirt around it is the shirt's (on both sides and below, so an arm or a neighbour covering
//! one side does not decide it). No model of a person ships in the registries that fires on
//! every drawn runner of our evaluation sets (docs/recognition.md), so this
//! geometric test measures the evidence. The PP-OCR engine (photos and video frames) adds its
//! person model's scores (`ppocr/person.rs`) and lets a learned model weigh it all
//! (`learned.rs`); the rules in `decision.rs` decide alone for lone glyphs, must agree with a
//! stricter model for the Tesseract fallback, and name the reason a number is refused.
//! `verdict.rs` applies each engine's policy and logs every decision.

mod decision;
mod glyphs;
mod learned;
mod paper;
mod reasons;
mod ring;
mod sample;
mod verdict;

use image::RgbImage;

use finishline_wire::Plate;

use crate::color_name::{ExposureGain, Lab, bib_and_shirt_names, hex};

pub use decision::{PersonScore, not_worn_reason};
pub use glyphs::Glyphs;
pub use learned::{Evidence, FALLBACK_THRESHOLD, looks_worn, worn_probability};
use paper::paper_colour;
pub use reasons::{RING, WEAK_EVIDENCE};
use ring::ringed;
use sample::{Reach, Sampler, dominant, paper_corners};
pub use verdict::{Policy, Verdict, decide, numbered};

/// Colours closer than this (ΔE) are "the same" when marching across a patch or a shirt.
const SAME: f32 = 22.0;
/// A run of this many samples off the colour ends a patch or a shirt.
const RUN: usize = 3;

/// How far the plain patch reaches beyond the glyphs on each side, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patch {
    pub left: f32,
    pub right: f32,
    pub up: f32,
    pub down: f32,
}

/// What surrounds a number.
#[derive(Debug, Clone, PartialEq)]
pub struct Surroundings {
    /// The bib's paper (as photographed) and the shirt around it, when found.
    pub paper: Option<[u8; 3]>,
    pub shirt: Option<[u8; 3]>,
    pub patch: Option<Patch>,
    /// `None` when the number is worn; otherwise why it is not taken for a bib.
    pub not_worn: Option<&'static str>,
    /// The shape of the shirt around the patch, in digit heights (for the decision and its
    /// diagnostics): how far it reaches left, right, below and above the patch (`None`: it runs
    /// on past the limit), and how plain each of the three shirt bands is (left, right, below).
    pub shape: Option<Shape>,
}

/// See [`Surroundings::shape`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub left: Option<f32>,
    pub right: Option<f32>,
    pub below: Option<f32>,
    pub above: Option<f32>,
    pub plain: [f32; 3],
    pub patch_width: f32,
    pub patch_height: f32,
    /// How many of the patch's four corners are paper (a round sign's are not).
    pub corners: u8,
}

impl Surroundings {
    pub fn is_worn(&self) -> bool {
        self.not_worn.is_none()
    }

    /// Gives a plate the colours measured here: hex as photographed, names as lit.
    pub fn paint(&self, plate: &mut Plate) {
        plate.bib_color = self.paper.map(hex);
        plate.shirt_color = self.shirt.map(hex);
        if let Some(paper) = self.paper {
            let (bib, shirt) = bib_and_shirt_names(paper, self.shirt);
            plate.bib_color_name = Some(bib);
            plate.shirt_color_name = shirt;
        }
    }
}
/// How far (digit heights) the shirt must go on below the patch. Chosen on the tuning split
/// (100 photos, seed 1): a car door and a speed sign ended 1.1 heights under their number
/// (two more signs at 1.2–1.4 are caught by the rim rule below); a clean one-runner bib of
/// the original set ends 1.4 heights above the shorts, so 1.5 was too strict.
const TORSO_BELOW: f32 = 1.2;
/// A colour that ends within this many digit heights on both sides of the patch is a rim
/// (a speed sign's red ring), not a shirt (tuning split: no bib below the person threshold).
const RIM: f32 = 0.25;

/// Measures what surrounds the glyphs and decides whether they are worn.
pub fn surroundings(image: &RgbImage, gain: ExposureGain, glyphs: Glyphs) -> Surroundings {
    let h = glyphs.height();
    let sampler = Sampler {
        image,
        gain,
        glyphs,
        step: (h / 12.0).max(1.0),
    };
    let mut found = Surroundings {
        paper: None,
        shirt: None,
        patch: None,
        not_worn: None,
        shape: None,
    };
    // 1. The paper: a plain colour just around the digits.
    let Some((paper, paper_raw, paper_share)) = paper_colour(&sampler) else {
        found.not_worn = Some(reasons::OUTSIDE);
        return found;
    };
    found.paper = Some(paper_raw);
    if paper_share < 0.45 {
        found.not_worn = Some(reasons::NO_PATCH);
        found.shirt = shirt_guess(&sampler, &paper);
        return found;
    }
    // 2. The patch: how far the paper reaches on each side.
    let Some(patch) = patch(&sampler, &paper) else {
        found.not_worn = Some(reasons::NO_PATCH_EDGE);
        found.shirt = shirt_guess(&sampler, &paper);
        return found;
    };
    found.patch = Some(patch);
    // 3. The shirt: a plain colour other than the paper beside the patch and below it.
    let (plain, shirt) = shirt(&sampler, &paper, patch);
    let (shirt, shirt_raw) = match shirt {
        Shirt::Found(lab, raw) => (lab, raw),
        Shirt::Guess(raw) => {
            found.shirt = raw;
            found.not_worn = Some(if ringed(&sampler, &paper, patch) {
                RING
            } else {
                reasons::NO_SHIRT
            });
            return found;
        }
    };
    found.shirt = Some(shirt_raw);
    // 4. A torso ends around it.
    let (shape, not_worn) = torso(&sampler, &shirt, patch, plain);
    found.shape = Some(Shape {
        corners: paper_corners(&sampler, &paper, patch, h),
        ..shape
    });
    found.not_worn = not_worn;
    found
}

/// The shirt's colour where no patch was found: the shirt bands around a patch half a digit
/// height wide on each side. It names the shirt of a number the person model or the bib map
/// finds worn; it never makes one worn.
fn shirt_guess(sampler: &Sampler<'_>, paper: &Lab) -> Option<[u8; 3]> {
    let margin = 0.5 * sampler.glyphs.height();
    let nominal = Patch {
        left: margin,
        right: margin,
        up: margin,
        down: margin,
    };
    match shirt(sampler, paper, nominal).1 {
        Shirt::Found(_, raw) => Some(raw),
        Shirt::Guess(raw) => raw,
    }
}

/// Three parallel starting points across the digits at `t` (above or below them).
fn level(glyphs: &Glyphs, t: f32) -> [[f32; 2]; 3] {
    let hu = glyphs.half_width;
    [[-0.5 * hu, t], [0.0, t], [0.5 * hu, t]]
}

/// How far the paper reaches on each side of the digits; `None` when it runs on sideways.
fn patch(sampler: &Sampler<'_>, paper: &Lab) -> Option<Patch> {
    let glyphs = &sampler.glyphs;
    let h = glyphs.height();
    let (hu, hv) = (glyphs.half_width, glyphs.half_height);
    let limit = 3.0 * h;
    let side = |s: f32| [[s, -0.5 * hv], [s, 0.0], [s, 0.5 * hv]];
    let left = sampler.median_reach(side(-hu - 0.1 * h), [-1.0, 0.0], paper, limit)?;
    let right = sampler.median_reach(side(hu + 0.1 * h), [1.0, 0.0], paper, limit)?;
    let up = sampler.median_reach(level(glyphs, -hv - 0.1 * h), [0.0, -1.0], paper, limit);
    let down = sampler.median_reach(level(glyphs, hv + 0.1 * h), [0.0, 1.0], paper, limit);
    Some(Patch {
        left: left + 0.1 * h,
        right: right + 0.1 * h,
        up: up.map_or(limit, |r| r + 0.1 * h),
        down: down.map_or(limit, |r| r + 0.1 * h),
    })
}

/// Gap between the patch and the bands where the shirt is looked for.
const GAP: f32 = 0.15;

/// The shirt around a patch: found (two bands agree on its colour, in Lab and as
/// photographed), or only a guess at its colour as photographed.
enum Shirt {
    Found(Lab, [u8; 3]),
    Guess(Option<[u8; 3]>),
}

/// The plainness of the three shirt bands (left, right, below the patch) and the shirt: the
/// colour two of them share, other than the paper's.
fn shirt(sampler: &Sampler<'_>, paper: &Lab, patch: Patch) -> ([f32; 3], Shirt) {
    let h = sampler.glyphs.height();
    let (hu, hv) = (sampler.glyphs.half_width, sampler.glyphs.half_height);
    let (x0, x1) = (-hu - patch.left, hu + patch.right);
    let (gap, width) = (GAP * h, 0.9 * h);
    let below = hv + patch.down + gap;
    let bands = [
        sampler.band((x0 - gap - width, x0 - gap), (-hv, hv)),
        sampler.band((x1 + gap, x1 + gap + width), (-hv, hv)),
        sampler.band((-hu, hu), (below, below + 0.6 * h)),
    ];
    let found: Vec<Option<(Lab, [u8; 3], f32)>> = bands.iter().map(|b| dominant(b)).collect();
    let not_paper = |lab: &Lab| lab.distance(paper) >= 15.0;
    let plainness = [0, 1, 2].map(|i| {
        found[i].map_or(
            0.0,
            |(lab, _, share)| if not_paper(&lab) { share } else { 0.0 },
        )
    });
    // The bands whose colour, other than the paper's, holds at least `min_share` of them, with
    // their index (2: the band below the patch).
    let bands = |min_share: f32| -> Vec<(usize, Lab, [u8; 3], f32)> {
        found
            .iter()
            .enumerate()
            .filter_map(|(i, band)| {
                band.filter(|(lab, _, share)| *share >= min_share && not_paper(lab))
                    .map(|(lab, raw, share)| (i, lab, raw, share))
            })
            .collect()
    };
    // The bands plain enough to be a shirt.
    let plain = bands(0.5);
    let agreeing = plain.iter().enumerate().find_map(|(k, a)| {
        plain[k + 1..]
            .iter()
            .find(|b| a.1.distance(&b.1) < SAME)
            .map(|b| ((a.1, a.2), (b.1, b.2)))
    });
    let Some((a, b)) = agreeing else {
        tracing::trace!(?patch, shirts = ?plain, "no plain shirt");
        // With no two bands agreeing, the band below the patch (else the plainest) is the best
        // guess at the shirt's colour: it names the shirt, it does not make the number worn.
        // It is chosen among the plain bands, else among all that are not the paper.
        let best_guess = |bands: &[(usize, Lab, [u8; 3], f32)]| {
            bands
                .iter()
                .find(|band| band.0 == 2)
                .or_else(|| bands.iter().max_by(|x, y| x.3.total_cmp(&y.3)))
                .map(|band| band.2)
        };
        let guess = best_guess(&plain).or_else(|| best_guess(&bands(0.0)));
        return (plainness, Shirt::Guess(guess));
    };
    let shirt = Lab {
        l: (a.0.l + b.0.l) / 2.0,
        a: (a.0.a + b.0.a) / 2.0,
        b: (a.0.b + b.0.b) / 2.0,
    };
    let raw = [0, 1, 2].map(|c| ((u16::from(a.1[c]) + u16::from(b.1[c])) / 2) as u8);
    (plainness, Shirt::Found(shirt, raw))
}

/// Where the shirt ends around the patch, and why that is not a torso (`None`: it is): the
/// shirt's colour stops within two patch widths on both sides (the photo's border may cut
/// one side of a runner, not both), is more than a sign's rim, and goes on below the patch.
fn torso(
    sampler: &Sampler<'_>,
    shirt: &Lab,
    patch: Patch,
    plain: [f32; 3],
) -> (Shape, Option<&'static str>) {
    let glyphs = &sampler.glyphs;
    let h = glyphs.height();
    let (hu, hv) = (glyphs.half_width, glyphs.half_height);
    let (x0, x1) = (-hu - patch.left, hu + patch.right);
    let gap = GAP * h;
    let patch_width = x1 - x0;
    let to_left = sampler.reach([x0 - gap, 0.0], [-1.0, 0.0], shirt, 2.0 * patch_width);
    let to_right = sampler.reach([x1 + gap, 0.0], [1.0, 0.0], shirt, 2.0 * patch_width);
    let distance = |reach: Reach| match reach {
        Reach::Ends(d) | Reach::Border(d) => Some(d / h),
        Reach::RunsOn => None,
    };
    let below_start = level(glyphs, hv + patch.down + gap);
    let above_start = level(glyphs, -hv - patch.up - gap);
    let below = sampler.median_reach(below_start, [0.0, 1.0], shirt, 4.0 * h);
    let above = sampler.median_reach(above_start, [0.0, -1.0], shirt, 4.0 * h);
    let shape = Shape {
        left: distance(to_left),
        right: distance(to_right),
        below: below.map(|d| d / h),
        above: above.map(|d| d / h),
        plain,
        patch_width: patch_width / h,
        patch_height: (2.0 * hv + patch.up + patch.down) / h,
        corners: 4,
    };
    let ends = |reach: Reach| matches!(reach, Reach::Ends(_));
    let runs_on = |reach: Reach| matches!(reach, Reach::RunsOn);
    let rim = |reach: Reach| matches!(reach, Reach::Ends(d) if d < RIM * h);
    let not_worn = if runs_on(to_left) || runs_on(to_right) || !(ends(to_left) || ends(to_right)) {
        Some(reasons::RUNS_ON)
    } else if rim(to_left) && rim(to_right) {
        // A shirt shows beside a bib on at least one side; a sign's rim is a thin frame.
        Some(reasons::THIN_RIM)
    } else if below.is_some_and(|d| d < TORSO_BELOW * h) {
        // A torso goes on below a bib; a car door or a sign ends just under its number.
        Some(reasons::SHORT_BELOW)
    } else {
        None
    };
    (shape, not_worn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_images::fill;
    use image::Rgb;

    /// The glyphs' frame the tests draw digits in: 260..340 × 280..320.
    fn glyph_frame() -> Glyphs {
        Glyphs::from_corners([
            [260.0, 280.0],
            [340.0, 280.0],
            [340.0, 320.0],
            [260.0, 320.0],
        ])
    }

    /// Digits (bars of ink) at 260..340 × 280..320, on whatever is there.
    fn ink_digits(image: &mut RgbImage) -> Glyphs {
        for x in (262..340).step_by(14) {
            fill(image, [x, 280, x + 7, 320], [20, 20, 20]);
        }
        glyph_frame()
    }

    /// Digits (bars of ink) at 260..340 × 280..320 on a paper patch 230..370 × 250..350.
    fn digits_on_paper(image: &mut RgbImage, paper: [u8; 3]) -> Glyphs {
        fill(image, [230, 250, 370, 350], paper);
        ink_digits(image)
    }

    #[test]
    fn a_bib_on_a_shirt_is_worn_and_names_both_colours() {
        let mut image = RgbImage::from_pixel(600, 600, Rgb([90, 140, 70]));
        fill(&mut image, [170, 150, 430, 560], [200, 32, 42]); // shirt
        let glyphs = digits_on_paper(&mut image, [245, 212, 0]);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert!(found.is_worn(), "{found:?}");
        let paper = found.paper.unwrap();
        assert!(paper[0] > 220 && paper[2] < 40, "{found:?}");
        let shirt = found.shirt.unwrap();
        assert!(shirt[0] > 180 && shirt[1] < 60, "{found:?}");
    }

    #[test]
    fn white_digits_on_a_green_bib_on_a_white_shirt_give_a_green_bib() {
        // Heavy white strokes cover most of the glyph box and spill past it above and below
        // (the detector's box is a little short of the digits); the paper shows a fifth of a
        // digit height beside them, and the white shirt beyond.
        let mut image = RgbImage::from_pixel(600, 600, Rgb([90, 140, 70]));
        fill(&mut image, [170, 150, 430, 560], [245, 245, 242]); // shirt
        fill(&mut image, [252, 262, 348, 340], [24, 112, 48]); // paper
        for x in (262..340).step_by(10) {
            fill(&mut image, [x, 270, x + 7, 330], [250, 250, 250]);
        }
        let glyphs = glyph_frame();
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        let paper = found.paper.expect("a paper colour");
        assert!(paper[1] > 90 && paper[0] < 60, "{found:?}");
        let (bib, shirt) = bib_and_shirt_names(paper, found.shirt);
        assert_eq!(bib, finishline_wire::ColorName::Green, "{found:?}");
        assert_eq!(shirt, Some(finishline_wire::ColorName::White), "{found:?}");
    }

    #[test]
    fn a_small_bib_whose_paper_ends_beside_its_digits_is_named_by_its_paper() {
        // The paper reaches a twentieth of a digit height beside the digits and a quarter
        // above and below them: the ring around the glyph box is mostly the yellow shirt,
        // which shows nowhere between the glyphs.
        let mut image = RgbImage::from_pixel(600, 600, Rgb([90, 140, 70]));
        fill(&mut image, [170, 150, 430, 560], [245, 212, 0]); // shirt
        fill(&mut image, [258, 270, 342, 330], [246, 246, 242]); // paper
        let glyphs = ink_digits(&mut image);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        let paper = found.paper.expect("a paper colour");
        let (bib, shirt) = bib_and_shirt_names(paper, found.shirt);
        assert_eq!(bib, finishline_wire::ColorName::White, "{found:?}");
        assert_eq!(shirt, Some(finishline_wire::ColorName::Yellow), "{found:?}");
    }

    #[test]
    fn a_shirt_is_named_where_the_paper_has_no_edge_beside_the_digits() {
        // A white band running far past the digits on both sides: no patch edge, so the
        // rules do not find the number worn, but the red shirt below it is still named.
        let mut image = RgbImage::from_pixel(600, 600, Rgb([90, 140, 70]));
        fill(&mut image, [170, 150, 430, 560], [200, 32, 42]); // shirt
        fill(&mut image, [60, 262, 540, 336], [245, 245, 245]); // band
        let glyphs = ink_digits(&mut image);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert_eq!(found.not_worn, Some(reasons::NO_PATCH_EDGE), "{found:?}");
        let (_, shirt) = bib_and_shirt_names(found.paper.expect("paper"), found.shirt);
        assert_eq!(shirt, Some(finishline_wire::ColorName::Red), "{found:?}");
    }

    #[test]
    fn a_busy_shirt_with_no_plain_band_is_still_named() {
        // Stripes of three colours, a third of each band apiece: no band is plain enough to be
        // the shirt for the rules, but the shirt gets the name of one of its colours.
        let mut image = RgbImage::from_pixel(600, 600, Rgb([90, 140, 70]));
        let stripes = [[200, 32, 42], [30, 60, 200], [240, 220, 30]];
        for (i, x) in (170..430).step_by(6).enumerate() {
            fill(&mut image, [x, 150, x + 6, 560], stripes[i % 3]);
        }
        let glyphs = digits_on_paper(&mut image, [245, 245, 245]);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert!(!found.is_worn(), "{found:?}");
        let (_, shirt) = bib_and_shirt_names(found.paper.expect("paper"), found.shirt);
        use finishline_wire::ColorName::{Blue, Red, Yellow};
        assert!(
            matches!(shirt, Some(Red | Blue | Yellow)),
            "{shirt:?} {found:?}"
        );
    }

    #[test]
    fn the_same_number_on_a_wall_is_not_worn() {
        let mut image = RgbImage::from_pixel(600, 600, Rgb([200, 190, 170]));
        let glyphs = digits_on_paper(&mut image, [245, 245, 245]);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert!(!found.is_worn(), "{found:?}");
    }

    #[test]
    fn the_same_number_over_a_busy_scene_is_not_worn() {
        let mut image = busy_scene();
        let glyphs = digits_on_paper(&mut image, [245, 245, 245]);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert!(!found.is_worn(), "{found:?}");
    }

    fn busy_scene() -> RgbImage {
        RgbImage::from_fn(600, 600, |x, y| {
            Rgb([
                ((x * 7 + y * 3) % 256) as u8,
                ((x * 13) % 256) as u8,
                ((y * 11) % 256) as u8,
            ])
        })
    }

    #[test]
    fn a_patch_in_a_thin_ring_over_a_busy_scene_is_a_sign() {
        let mut image = busy_scene();
        fill(&mut image, [218, 238, 382, 362], [230, 30, 40]); // the ring, 12 px all round
        let glyphs = digits_on_paper(&mut image, [245, 245, 245]);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert_eq!(found.not_worn, Some(RING), "{found:?}");
        // The person model's face-like score on such a disc does not make it worn.
        let runner = PersonScore {
            around: 0.9,
            above: 0.9,
        };
        assert_eq!(not_worn_reason(&found, runner), Some(RING));
    }

    #[test]
    fn a_bib_with_a_strip_above_its_numbers_is_no_ring() {
        // A sponsor strip of another colour between the paper and the shirt above it (held-out
        // split: a green bib with a white strip, on a red shirt with folds close beside it).
        let mut image = busy_scene();
        fill(&mut image, [218, 238, 382, 362], [230, 30, 40]);
        let glyphs = digits_on_paper(&mut image, [30, 120, 50]);
        fill(&mut image, [230, 250, 370, 264], [245, 245, 245]);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert_ne!(found.not_worn, Some(RING), "{found:?}");
    }

    #[test]
    fn a_shirt_thin_beside_the_patch_but_going_on_above_and_below_is_no_ring() {
        let mut image = busy_scene();
        fill(&mut image, [218, 150, 382, 560], [230, 30, 40]); // a narrow shirt
        let glyphs = digits_on_paper(&mut image, [245, 245, 245]);
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert_ne!(found.not_worn, Some(RING), "{found:?}");
    }

    #[test]
    fn digits_printed_straight_on_a_busy_scene_have_no_patch() {
        let image = RgbImage::from_fn(600, 600, |x, y| {
            Rgb([((x * 7 + y * 3) % 256) as u8, ((x * 13) % 256) as u8, 90])
        });
        let glyphs = glyph_frame();
        let found = surroundings(&image, ExposureGain(1.0), glyphs);
        assert_eq!(found.not_worn, Some("no plain patch around the digits"));
    }

    /// A bib-like shape (a shirt a digit height wide beside the patch, ending 2.5 below it)
    /// whose band below the patch is this plain.
    pub(super) fn shape_with_plain_below(plain_below: f32) -> Surroundings {
        Surroundings {
            paper: Some([245, 245, 245]),
            shirt: Some([200, 32, 42]),
            patch: None,
            not_worn: None,
            shape: Some(Shape {
                left: Some(1.0),
                right: Some(1.0),
                below: Some(2.5),
                above: Some(2.0),
                plain: [1.0, 1.0, plain_below],
                patch_width: 3.0,
                patch_height: 2.0,
                corners: 4,
            }),
        }
    }

    #[test]
    fn with_nobody_above_a_number_needs_a_plain_shirt_below() {
        let nobody = PersonScore::NONE;
        let chest = PersonScore {
            around: 0.0,
            above: 0.3,
        };
        // A bib-like shape on a shirt that goes on plain below it: worn, person or not.
        assert_eq!(not_worn_reason(&shape_with_plain_below(1.0), nobody), None);
        // A post or a wall below the plate: not worn unless a person is seen above it.
        assert_eq!(
            not_worn_reason(&shape_with_plain_below(0.8), nobody),
            Some("nobody above the number and no plain shirt below it")
        );
        assert_eq!(not_worn_reason(&shape_with_plain_below(0.8), chest), None);
        // Even a strong person score around it does not excuse a number with nobody above.
        let beside = PersonScore {
            around: 0.9,
            above: 0.0,
        };
        assert!(not_worn_reason(&shape_with_plain_below(0.8), beside).is_some());
    }

    #[test]
    fn a_patch_on_a_busy_shirt_is_worn_only_with_someone_clearly_above_it() {
        let mut busy = shape_with_plain_below(1.0);
        busy.not_worn = Some("no plain shirt around the patch");
        let faint = PersonScore {
            around: 0.3,
            above: 0.4,
        };
        assert_eq!(
            not_worn_reason(&busy, faint),
            Some("no plain shirt around the patch")
        );
        let chest = PersonScore {
            around: 0.3,
            above: 0.8,
        };
        assert_eq!(not_worn_reason(&busy, chest), None);
        // Someone above does not excuse the other refusals.
        busy.not_worn = Some("the colour around the patch runs on: a wall or a sign, not a shirt");
        assert!(not_worn_reason(&busy, chest).is_some());
    }

    #[test]
    fn a_round_plate_needs_a_person_around_it() {
        let mut round = shape_with_plain_below(1.0);
        round.shape.as_mut().unwrap().corners = 0;
        let chest = PersonScore {
            around: 0.0,
            above: 0.3,
        };
        assert_eq!(
            not_worn_reason(&round, chest),
            Some("a round plate with no person around it: a sign, not a bib")
        );
        let runner = PersonScore {
            around: 0.8,
            above: 0.3,
        };
        assert_eq!(not_worn_reason(&round, runner), None);
    }

    #[test]
    fn a_long_band_open_at_its_corners_needs_a_person_around_it() {
        let mut band = shape_with_plain_below(1.0);
        let shape = band.shape.as_mut().unwrap();
        (shape.patch_width, shape.patch_height, shape.corners) = (4.0, 1.6, 2);
        let chest = PersonScore {
            around: 0.1,
            above: 0.3,
        };
        assert_eq!(
            not_worn_reason(&band, chest),
            Some("a long band open at its corners with no person around it: a vehicle, not a bib")
        );
        let runner = PersonScore {
            around: 0.4,
            above: 0.3,
        };
        assert_eq!(not_worn_reason(&band, runner), None);
        // The same proportions on a sheet whose four corners are paper: a wide bib.
        band.shape.as_mut().unwrap().corners = 4;
        assert_eq!(not_worn_reason(&band, chest), None);
    }
}
