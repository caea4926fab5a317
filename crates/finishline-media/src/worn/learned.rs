//! The learned decision: how likely a number is worn, from the evidence the rules measure.
//!
//! A small gradient-boosted tree ensemble (`worn_model.json`) weighs the shape of the shirt
//! around the patch, what the person model saw, and how the digits were read. It was fitted on
//! the tuning split only, by `tests/recognition/train-worn-model.sh` (which says how), with
//! the score rising with each person score (monotonic constraints): an engine that sees no
//! person is never laxer than one that does. Each tuning photo is in it twice, its signs
//! upright and turned up to ±20°: the generator draws signs exactly upright, and a model
//! fitted on those alone learned that a number standing exactly level is a sign's
//! (docs/recognition.md, "What the held-out figures owe to upright signs").

use std::sync::OnceLock;

use serde::Deserialize;

use super::reasons::ONE_HOT;
use super::{Glyphs, PersonScore, Surroundings};

/// A shirt that runs on past the shape test's limit, in digit heights.
const OPEN: f64 = 10.0;

/// The features, by name and in the model's order.
pub const FEATURES: [&str; 30] = [
    "person",
    "above_p",
    "has_shape",
    "s_left",
    "s_right",
    "s_below",
    "s_above",
    "s_left_open",
    "s_right_open",
    "s_below_open",
    "s_above_open",
    "plain0",
    "plain1",
    "plain2",
    "patch_w",
    "patch_h",
    "corners",
    "rel_h",
    "glyph_aspect",
    "angle",
    "confidence",
    "box_score",
    "sr0",
    "sr1",
    "sr2",
    "sr3",
    "sr4",
    "sr5",
    "sr6",
    "sr7",
];

/// The worn probability from which the Tesseract fallback, which has no person model, counts
/// a number its rules find worn as worn. Without a person model every number scores as if
/// nobody were around it, the model's strictest case, so it is lower than the main engine's.
/// A fallback may read fewer bibs, but it must not report signs more often than the main
/// engine. Measured again with the worn model refitted on the turned-sign map's traces (8
/// December 2026), its plates on fresh tuning seeds 540–547 (1,600 photos each with their
/// signs upright and turned), bibs and numbers from a sign: upright from 0.45 564 and 8, from
/// 0.5 550 and 5, from 0.55 528 and 2; turned 563 and 5, 549 and 3, 529 and 3 (the PP-OCR
/// engine on the same photos: 6 and 10 signs). Plain bibs on a shirt score 0.505–0.79
/// (`tests/classical_engine.rs`), so not 0.55. Held-out seeds 582–589 (1,600 photos each
/// form), 0.45 → 0.5: upright 554 → 539 bibs and 11 → 9 signs (PP-OCR 5), turned 554 → 540
/// and 5 → 3 (PP-OCR 11).
pub const FALLBACK_THRESHOLD: f64 = 0.5;

/// Everything known about one read number when it is judged.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub around: &'a Surroundings,
    pub person: PersonScore,
    pub glyphs: &'a Glyphs,
    pub digits: usize,
    pub confidence: f32,
    pub box_score: f32,
    pub image: (u32, u32),
    /// How surely the bib map sees a bib's digits under them (PP-OCR engine only): not one of
    /// the model's features, a second opinion on its verdict (`verdict.rs`).
    pub bib_map: Option<f32>,
}

impl Evidence<'_> {
    /// The model's input, in `FEATURES` order.
    pub fn features(&self) -> [f64; FEATURES.len()] {
        let mut out = [0.0; FEATURES.len()];
        out[0] = f64::from(self.person.around);
        out[1] = f64::from(self.person.above);
        if let Some(shape) = self.around.shape {
            out[2] = 1.0;
            for (i, reach) in [shape.left, shape.right, shape.below, shape.above]
                .into_iter()
                .enumerate()
            {
                out[3 + i] = reach.map_or(OPEN, f64::from);
                out[7 + i] = if reach.is_none() { 1.0 } else { 0.0 };
            }
            for (i, plain) in shape.plain.into_iter().enumerate() {
                out[11 + i] = f64::from(plain);
            }
            out[14] = f64::from(shape.patch_width);
            out[15] = f64::from(shape.patch_height);
            out[16] = f64::from(shape.corners);
        } else {
            for slot in &mut out[3..7] {
                *slot = OPEN;
            }
        }
        let long = f64::from(self.image.0.max(self.image.1).max(1));
        let half_height = f64::from(self.glyphs.half_height);
        let digits = self.digits.max(1) as f64;
        out[17] = half_height * 2.0 / long;
        out[18] = f64::from(self.glyphs.half_width) / half_height.max(1e-3) / digits;
        out[19] = f64::from(self.glyphs.u[1])
            .atan2(f64::from(self.glyphs.u[0]))
            .to_degrees()
            .abs();
        out[20] = f64::from(self.confidence);
        out[21] = f64::from(self.box_score);
        match self.around.not_worn {
            None => out[22] = 1.0,
            Some(reason) => {
                if let Some(i) = ONE_HOT.iter().position(|known| *known == reason) {
                    out[23 + i] = 1.0;
                }
            }
        }
        out
    }
}

/// One node of a tree: a split on `feature` (`x <= threshold` goes `left`) or, with
/// `feature` negative, a leaf worth `value`.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Node(i32, f64, u32, u32, f64);

#[derive(Debug, Deserialize)]
struct Model {
    features: Vec<String>,
    baseline: f64,
    /// The probability from which a number counts as worn.
    threshold: f64,
    trees: Vec<Vec<Node>>,
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let model: Model = serde_json::from_str(include_str!("worn_model.json"))
            .expect("the embedded model parses (checked by the tests)");
        assert!(
            model.features.iter().eq(FEATURES.iter()),
            "the embedded model's features are FEATURES (checked by the tests)"
        );
        model
    })
}

/// How likely the number is worn (0–1).
pub fn worn_probability(evidence: &Evidence<'_>) -> f64 {
    let x = evidence.features();
    let model = model();
    let raw = model.baseline
        + model
            .trees
            .iter()
            .map(|tree| leaf_value(tree, &x))
            .sum::<f64>();
    1.0 / (1.0 + (-raw).exp())
}

/// Whether a number this likely worn counts as worn.
pub fn looks_worn(probability: f64) -> bool {
    probability >= model().threshold
}

fn leaf_value(tree: &[Node], x: &[f64]) -> f64 {
    let mut at = 0usize;
    // A tree is acyclic and its children follow their parent, so this ends within its length.
    for _ in 0..tree.len() {
        let Node(feature, threshold, left, right, value) = tree[at];
        let Ok(feature) = usize::try_from(feature) else {
            return value;
        };
        at = if x[feature] <= threshold { left } else { right } as usize;
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worn::tests::shape_with_plain_below;

    fn digits(half_height: f32) -> Glyphs {
        Glyphs {
            center: [800.0, 600.0],
            u: [1.0, 0.0],
            v: [0.0, 1.0],
            half_width: 1.6 * half_height,
            half_height,
        }
    }

    fn evidence<'a>(
        around: &'a Surroundings,
        glyphs: &'a Glyphs,
        person: PersonScore,
    ) -> Evidence<'a> {
        Evidence {
            around,
            person,
            glyphs,
            digits: 3,
            confidence: 0.99,
            box_score: 0.85,
            image: (1600, 1200),
            bib_map: None,
        }
    }

    #[test]
    fn the_embedded_model_is_whole_and_its_trees_end() {
        let model = model();
        assert!(model.features.iter().eq(FEATURES.iter()));
        assert!((0.5..0.95).contains(&model.threshold));
        assert!(!model.trees.is_empty());
        for tree in &model.trees {
            for (at, node) in tree.iter().enumerate() {
                let Node(feature, _, left, right, _) = *node;
                if feature >= 0 {
                    assert!((feature as usize) < FEATURES.len());
                    // Children follow their parent: every walk goes forward and ends.
                    for child in [left, right] {
                        assert!((at + 1..tree.len()).contains(&(child as usize)));
                    }
                }
            }
        }
    }

    #[test]
    fn a_number_on_a_plain_patch_on_a_shirt_with_a_person_around_is_worn() {
        let around = shape_with_plain_below(1.0);
        let glyphs = digits(30.0);
        let runner = PersonScore {
            around: 0.9,
            above: 0.8,
        };
        let worn = worn_probability(&evidence(&around, &glyphs, runner));
        assert!(looks_worn(worn), "{worn}");
    }

    #[test]
    fn a_number_in_a_ring_with_nobody_around_is_not_worn() {
        let mut around = shape_with_plain_below(1.0);
        around.not_worn = Some(crate::worn::reasons::RING);
        if let Some(shape) = around.shape.as_mut() {
            shape.corners = 0;
            shape.plain = [1.0, 1.0, 0.5];
        }
        let glyphs = digits(30.0);
        let worn = worn_probability(&evidence(&around, &glyphs, PersonScore::NONE));
        assert!(!looks_worn(worn), "{worn}");
    }

    #[test]
    fn more_person_around_a_number_never_makes_it_less_likely_worn() {
        // The monotonic constraints the model was fitted with, checked on the embedded trees
        // over shapes of every kind: an engine that sees no person is never laxer.
        let glyphs = digits(20.0);
        let reasons = ONE_HOT.iter().map(|reason| Some(*reason));
        for not_worn in std::iter::once(None).chain(reasons) {
            for plain_below in [0.5, 0.9, 1.0] {
                let mut around = shape_with_plain_below(1.0);
                around.not_worn = not_worn;
                if let Some(shape) = around.shape.as_mut() {
                    shape.plain[2] = plain_below;
                }
                let mut last = 0.0;
                for step in 0..=10 {
                    let score = step as f32 / 10.0;
                    let person = PersonScore {
                        around: score,
                        above: score,
                    };
                    let worn = worn_probability(&evidence(&around, &glyphs, person));
                    assert!(worn >= last, "{not_worn:?} {plain_below}: {worn} < {last}");
                    last = worn;
                }
            }
        }
    }
}
