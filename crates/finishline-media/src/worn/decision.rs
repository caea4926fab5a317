//! The decision: the shape around a number and what the person model saw, weighed.

use super::Surroundings;
use super::reasons::{NO_SHIRT, RING, SHORT_BELOW};

/// What the person model saw around a number (0–1 each, see `ppocr/person.rs`): its mean
/// probability on a ring around the digits, and above them (chest, neck and head).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PersonScore {
    pub around: f32,
    pub above: f32,
}

impl PersonScore {
    /// An engine without the person model (the Tesseract fallback) sees no person: it is then
    /// held to the strictest form of every test, never laxer than the main engine.
    pub const NONE: Self = Self {
        around: 0.0,
        above: 0.0,
    };
}

/// Below this mean probability above the digits, the person model sees nothing of a person
/// there (tuning split, seeds 4 and 5: 60% of signs, 8% of bibs).
const NOBODY_ABOVE: f32 = 0.005;
/// With nobody above it, a number is worn only on a shirt this plain below the patch (share
/// of the band's samples in its colour): a bib's shirt goes on plain below it, a sign's post,
/// wall or vehicle rarely does. Tuning split, seeds 4 and 5: with the rule above, signs kept
/// fell from 46% to 22% and bibs kept from 96% to 94%; seed 3 (not used to choose): signs
/// 56% → 27%, bibs 97% → 97%.
const PLAIN_BELOW: f32 = 0.97;

/// A plate none of whose four corners is paper is round (a speed sign's disc): it is a bib
/// only with this much person around it. Tuning split, seeds 4 and 5: of the numbers that
/// passed every other test, 8 speed signs and 15 bibs had round patches; below this score, 7
/// signs and 1 bib.
const ROUND_NEEDS_PERSON: f32 = 0.5;

/// A patch this many times wider than tall (both in digit heights) whose paper reaches at most
/// two of its corners is a band, not a sheet pinned to a shirt: a vehicle's door stripe or a
/// panel on a wall. It is a bib only with this much person around it. Tuning split, seeds 4
/// and 5: of the numbers that passed every other test, 8 of 12 vehicle numbers and no bib (of
/// 628) had such a patch and less person around it than this.
const BAND_RATIO: f32 = 2.2;
const BAND_NEEDS_PERSON: f32 = 0.3;

/// A patch whose surroundings are not one plain shirt (folds, an arm across it, a runner
/// behind) is still worn when the person model sees a chest and head this clearly above the
/// digits. Tuning split, seeds 4 and 5: of the numbers refused for "no plain shirt around the
/// patch", 3 of 9 bibs and none of 5 other numbers scored this much above (the highest other
/// number 0.44).
const SOMEONE_ABOVE: f32 = 0.5;

/// The person model's score around a number from which somebody is there: it excuses a shirt
/// too short below the patch here, and lets a sure learned model overrule the bib map's veto
/// (`verdict.rs`).
pub(super) const SOMEBODY_AROUND: f32 = 0.5;

/// The decision, from the shape around a number and the person model's scores around it:
/// a number is worn when its shape says so, except that a shirt too short below it needs
/// some person around it (≥ 0.5), and a person clearly around it (≥ 0.6) is enough alone (a
/// bib on a crowded or folded shirt whose shape the test cannot follow). In every case, a
/// number with nobody above it must sit on a plain shirt below, and a round plate or a long
/// band open at its corners needs a person around it. A patch framed all round by a thin ring
/// is never worn, whatever the person model says. A patch on a busy shirt is worn when
/// someone is clearly above it.
/// Thresholds chosen on the tuning split (docs/recognition.md).
///
/// Returns why the number is not worn, or `None` when it is.
pub fn not_worn_reason(around: &Surroundings, person: PersonScore) -> Option<&'static str> {
    let plain_below = around.shape.map_or(0.0, |shape| shape.plain[2]);
    if person.above <= NOBODY_ABOVE && plain_below <= PLAIN_BELOW {
        return Some("nobody above the number and no plain shirt below it");
    }
    let round = around.shape.is_some_and(|shape| shape.corners == 0);
    if round && person.around < ROUND_NEEDS_PERSON {
        return Some("a round plate with no person around it: a sign, not a bib");
    }
    let band = around.shape.is_some_and(|shape| {
        shape.corners <= 2 && shape.patch_width > BAND_RATIO * shape.patch_height
    });
    if band && person.around < BAND_NEEDS_PERSON {
        return Some(
            "a long band open at its corners with no person around it: a vehicle, not a bib",
        );
    }
    if around.not_worn == Some(RING) {
        // The person model can score a ringed disc like a face: 0.76-0.82 on the tuning
        // split's speed signs, which the `person.around` override below would let through.
        return around.not_worn;
    }
    if person.around >= 0.6 {
        return None;
    }
    match around.not_worn {
        Some(SHORT_BELOW) if person.around >= SOMEBODY_AROUND => None,
        Some(NO_SHIRT) if person.above >= SOMEONE_ABOVE => None,
        reason => reason,
    }
}
