//! The truth of a race photo as the evaluation reads it from `ground-truth.json`: the bibs
//! (number, paper and digit boxes, colour names, angle, occlusion), the digit-bearing
//! distractors, the runner count and the conditions that make the photo hard.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::{BibBox, Category, Split};

/// One bib in a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthBib {
    /// The big printed number (never the sponsor line's digits).
    pub number: u64,
    /// Axis-aligned box of the bib paper.
    pub bib_box: BibBox,
    /// Axis-aligned box of the printed number's ink.
    pub digits_box: BibBox,
    /// One of `COLOR_NAMES`, and the exact shade.
    pub bib_color: String,
    pub bib_hex: String,
    pub shirt_color: String,
    pub shirt_hex: String,
    /// Rotation of the bib, degrees clockwise.
    pub angle_degrees: f32,
    /// Whether an arm or another runner covers part of the bib's edge (never a digit).
    pub occluded: bool,
    /// Whether a person could still read the number once the camera effects are applied: the
    /// motion streak under about 0.65 of a digit's width, the defocus blur under about 0.1 of
    /// its height (less when both apply), digits at least 10 px tall. Recall and top-1 count legible bibs; reading an
    /// illegible one is still a right read, missing it is no miss.
    #[serde(default = "legible_by_default")]
    pub legible: bool,
}

fn legible_by_default() -> bool {
    true
}

/// A digit-bearing thing that is not a bib.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Distractor {
    /// km-marker, banner, speed-sign, street-sign, clock, gate, vehicle or building.
    pub kind: String,
    pub text: String,
    /// Box of the printed text.
    pub bbox: BibBox,
}

/// What is in one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaceTruth {
    /// File name inside the set's folder (empty until written).
    pub file: String,
    pub split: Split,
    pub category: Category,
    pub width: u32,
    pub height: u32,
    /// The font file the bib numbers are printed in.
    pub font: String,
    /// Source package and file of the background photograph.
    pub background: String,
    pub bibs: Vec<TruthBib>,
    pub distractors: Vec<Distractor>,
    pub runners: u32,
    /// What makes it hard: motion-blur, blur, low-light, overexposed, underexposed, noise,
    /// shadow, rotated, occluded, small-bib, low-jpeg-quality.
    pub conditions: Vec<String>,
}

/// One generated photo.
pub struct RacePhoto {
    pub image: RgbImage,
    /// The photo as the JPEG a photographer would upload.
    pub jpeg: Vec<u8>,
    pub truth: RaceTruth,
}
