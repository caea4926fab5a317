//! Race-like photos for a held-out evaluation of bib recognition, written independently of the
//! recognizer. A photo is a real photograph (from a registry package) cropped to a random size
//! between 800×600 and 4000×3000, with drawn runners wearing bibs (rotated, skewed, folded,
//! shadowed, edges occluded by arms or other runners), digit-bearing distractors (km markers,
//! banners, speed and street signs, race clocks, gates, vehicles, house numbers) and camera
//! effects, plus its truth. Two splits use disjoint font families and background sources:
//! tune on `tuning`, report on `heldout`. The same (split, seed, index) gives the same bytes.

mod assets;
mod bib;
mod distractors;
mod imaging;
mod palette;
mod runner;
mod scene;
#[cfg(test)]
mod tests;
mod tilt;
mod truth;

use std::path::Path;

use image::RgbImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

pub use crate::BibBox;
use crate::BibgenError;
pub use palette::COLOR_NAMES;
pub use tilt::parse_tilt;
pub use truth::{Distractor, RacePhoto, RaceTruth, TruthBib};

/// Which half of the evaluation a photo belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// DejaVu and Liberation fonts on scikit-image photographs: tune on these.
    Tuning,
    /// FreeFont and Roboto fonts on mate-backgrounds photographs: report on these.
    Heldout,
    /// The reader's training photos: the tuning fonts and eleven more families (Open Sans,
    /// Lato, Inter, Bebas Neue, …; never FreeFont or Roboto) on scikit-image photographs.
    Training,
}

named_values!(Split, "split", "tuning, heldout or training", {
    Tuning => "tuning",
    Heldout => "heldout",
    Training => "training",
});

/// What kind of scene a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// One runner with one bib.
    Single,
    /// One runner with a bib and a digit-bearing sign beside them at a similar scale.
    Distractor,
    /// Two to four runners with bibs, edges of bibs partly occluded.
    Multi,
    /// No bib at all (nobody, or runners from behind) and one to three digit-bearing signs.
    BibFree,
}

named_values!(Category, "category", "single, distractor, multi or bibfree", {
    Single => "single",
    Distractor => "distractor",
    Multi => "multi",
    BibFree => "bibfree" | "bib-free",
});

/// The generator of one split.
pub struct RaceGenerator {
    split: Split,
    assets: assets::Assets,
    max_side: Option<u32>,
    tilt: Option<f32>,
}

/// The category of each index in a repeating block of 20: 7 single, 4 distractor, 6 multi,
/// 3 bib-free (35/20/30/15%), interleaved so every 8 consecutive photos have all four.
const MIX: [Category; 20] = {
    use Category::{BibFree as B, Distractor as D, Multi as M, Single as S};
    [S, M, D, S, B, M, S, D, M, S, S, M, D, B, S, M, D, S, M, B]
};

fn to_box(b: [f32; 4], w: u32, h: u32) -> BibBox {
    let x0 = (b[0].max(0.0) as u32).min(w.saturating_sub(1));
    let y0 = (b[1].max(0.0) as u32).min(h.saturating_sub(1));
    let x1 = (b[2].max(0.0) as u32).clamp(x0 + 1, w);
    let y1 = (b[3].max(0.0) as u32).clamp(y0 + 1, h);
    BibBox {
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
    }
}

fn crop(image: &RgbImage, b: BibBox) -> Vec<u8> {
    let mut out = Vec::with_capacity((b.w * b.h * 3) as usize);
    for y in b.y..b.y + b.h {
        for x in b.x..b.x + b.w {
            out.extend_from_slice(&image.get_pixel(x, y).0);
        }
    }
    out
}

impl RaceGenerator {
    /// Loads the split's fonts and checks its background photographs.
    ///
    /// # Errors
    /// `AssetMissing` naming the package and `deploy/local/install-eval-assets.sh`.
    pub fn new(split: Split) -> Result<Self, BibgenError> {
        Ok(Self {
            split,
            assets: assets::Assets::load(split)?,
            max_side: None,
            tilt: None,
        })
    }

    /// Turns every distractor by an angle drawn from ±`degrees` about the centre of its box,
    /// poles included (a robustness check: the signs otherwise stand exactly upright while
    /// bibs lean; see `tilt.rs`). The angles come from a stream of their own, so the photos
    /// are the same scenes as without it, their distractors turned. `None` or 0 leaves them
    /// upright (the option of the generator's and the bench's command lines, passed as given).
    #[must_use]
    pub fn with_distractor_tilt(mut self, degrees: Option<f32>) -> Self {
        self.tilt = degrees.filter(|d| *d > 0.0).map(|d| d.min(90.0));
        self
    }

    /// Caps the photos' longer side (the same scenes, smaller; for quick tests).
    #[must_use]
    pub fn with_max_side(mut self, max_side: u32) -> Self {
        self.max_side = Some(max_side.max(200));
        self
    }

    /// The category of photo `index`: a fixed interleaved mix.
    pub fn category_of(index: u32) -> Category {
        MIX[(index % 20) as usize]
    }

    /// Photo `index` for `seed`: the same (split, seed, index) always gives the same bytes.
    ///
    /// # Errors
    /// `AssetMissing` if a background cannot be read, `Encode` if JPEG encoding fails.
    pub fn photo(&self, seed: u64, index: u32) -> Result<RacePhoto, BibgenError> {
        let salt: u64 = match self.split {
            Split::Tuning => 0x7475_6e69_6e67,
            Split::Heldout => 0x0068_656c_646f_7574,
            Split::Training => 0x7472_6169_6e69_6e67,
        };
        let mut rng = StdRng::seed_from_u64(
            seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ^ salt.rotate_left(17)
                ^ (u64::from(index) << 24)
                ^ u64::from(index),
        );
        let category = Self::category_of(index);
        let (mut w, mut h) = imaging::pick_size(&mut rng);
        if let Some(max) = self.max_side {
            let k = (max as f32 / w.max(h) as f32).min(1.0);
            (w, h) = (
                ((w as f32 * k) as u32).max(150),
                ((h as f32 * k) as u32).max(150),
            );
        }
        let font_file = &self.assets.fonts[rng.random_range(0..self.assets.fonts.len())];
        let font = font_file.font();
        let background =
            &self.assets.backgrounds[rng.random_range(0..self.assets.backgrounds.len())];
        let mut image = imaging::background(&mut rng, &background.load()?, w, h);
        let runners = scene::plan_runners(&mut rng, &font, category, w, h);

        let mut tilt = self.tilt.map(|degrees| {
            let stream = StdRng::seed_from_u64(seed ^ (u64::from(index) << 32) ^ 0x7469_6c74);
            (degrees, stream)
        });
        let distractors = scene::distractors(
            &mut rng,
            &mut image,
            &self.assets.fonts,
            category,
            &runners,
            tilt.as_mut(),
        );

        // Runners back to front; remember each bib as drawn to find what covered it later.
        let mut snapshots = Vec::new();
        for plan in &runners {
            plan.draw_behind(&mut image);
            if let Some(bib) = &plan.bib {
                bib.draw(&mut image);
                let b = to_box(bib.bib_box, w, h);
                let d = to_box(bib.digits_box, w, h);
                snapshots.push((b, crop(&image, b), d, crop(&image, d)));
            }
            plan.draw_front(&mut image);
        }
        let mut bibs = Vec::new();
        for (plan, (b, before, d, digits_before)) in
            runners.iter().filter(|p| p.bib.is_some()).zip(&snapshots)
        {
            let Some(bib) = &plan.bib else { continue };
            let after = crop(&image, *b);
            let changed = before
                .chunks(3)
                .zip(after.chunks(3))
                .filter(|(x, y)| x != y)
                .count();
            debug_assert!(
                crop(&image, *d) == *digits_before,
                "a digit of bib {} is covered",
                bib.number
            );
            bibs.push(TruthBib {
                number: bib.number,
                bib_box: *b,
                digits_box: *d,
                bib_color: bib.paper.name.to_owned(),
                bib_hex: bib.paper.hex(),
                shirt_color: plan.shirt.name.to_owned(),
                shirt_hex: plan.shirt.hex(),
                angle_degrees: bib.angle_degrees,
                occluded: changed as f32 > 0.004 * (b.w * b.h) as f32,
                legible: true,
            });
        }
        let (mut conditions, smear) = scene::finish(&mut rng, &mut image, &runners);
        for bib in &mut bibs {
            bib.legible = smear.leaves_legible(bib);
        }
        if bibs.iter().any(|b| b.angle_degrees.abs() > 10.0) {
            conditions.push("rotated".to_owned());
        }
        if bibs.iter().any(|b| b.occluded) {
            conditions.push("occluded".to_owned());
        }
        if bibs.iter().any(|b| (b.bib_box.w as f32) < 0.07 * w as f32) {
            conditions.push("small-bib".to_owned());
        }
        let quality = rng.random_range(35..=90u8);
        if quality < 50 {
            conditions.push("low-jpeg-quality".to_owned());
        }
        let jpeg = crate::encode_jpeg(&image, quality)?;
        let truth = RaceTruth {
            file: String::new(),
            split: self.split,
            category,
            width: w,
            height: h,
            font: font_file.name.clone(),
            background: background.label.clone(),
            bibs,
            distractors,
            runners: runners.len() as u32,
            conditions,
        };
        Ok(RacePhoto { image, jpeg, truth })
    }

    /// Writes photos `0..n` to `dir` as `photo-0001.jpg`… plus `ground-truth.json`.
    ///
    /// # Errors
    /// `Write` when the folder or a file cannot be written, or any error of [`Self::photo`].
    pub fn write_set(&self, dir: &Path, n: u32, seed: u64) -> Result<Vec<RaceTruth>, BibgenError> {
        let photo = |index, file| {
            let photo = self.photo(seed, index)?;
            Ok((
                photo.jpeg,
                RaceTruth {
                    file,
                    ..photo.truth
                },
            ))
        };
        crate::write_photos(
            dir,
            n,
            photo,
            |truths| serde_json::json!({ "split": self.split, "seed": seed, "photos": truths }),
        )
    }
}
