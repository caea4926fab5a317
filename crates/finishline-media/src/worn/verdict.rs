//! One verdict for every engine: the rules (`decision.rs`) and the learned model
//! (`learned.rs`) weighed as the engine's policy says, and the "bib decision" debug line that
//! `tests/recognition/train-worn-model.sh` learns from.

use super::Shape;
use super::decision::{PersonScore, SOMEBODY_AROUND, not_worn_reason};
use super::learned::{Evidence, FALLBACK_THRESHOLD, looks_worn, worn_probability};
use super::reasons::{OFF_THE_MAP, PANEL, WEAK_EVIDENCE, ZERO};
use crate::ppocr::bib_map::LONG_SIDE;

/// The number read as `text`, unless it is 0: no race numbers a bib 0, so a "0" is an O, a ring
/// or a digit cut off. Every engine asks this before it judges whether a number is worn.
pub fn numbered(number: u64, text: &str) -> Option<u64> {
    if number == 0 {
        tracing::debug!(text = %text, "{ZERO}");
        return None;
    }
    Some(number)
}

/// Who has the last word on a read number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The learned model decides; when it refuses, the rules' reason (if they refuse too)
    /// names why. The PP-OCR engine's text lines, in photos and video frames.
    Model,
    /// The rules alone: a lone glyph (`FoundBy::LoneGlyph`), too rare to learn from.
    Rules,
    /// The rules, and the model from `FALLBACK_THRESHOLD`, must both find it worn, and its
    /// patch must not be a panel (`panel`): the Tesseract fallback, which has no person model
    /// and must never be the laxer engine.
    Fallback,
}

/// The verdict on one read number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Why the number is not worn, or `None` when it is.
    pub refusal: Option<&'static str>,
    /// Whether it is worn only because the bib map clearly sees a bib's digits under it: the
    /// evidence around it refused it. Such a number ranks after those the evidence took.
    pub rescued: bool,
    /// Whether a refused number is the photo's plate should nothing in the photo be taken
    /// (`taken_alone`); the caller, who sees the whole photo, decides.
    pub alone: bool,
}

/// Whether the number read as `text` is worn, logged as a "bib decision" with the
/// probability, the rules' verdict and the evidence.
pub fn decide(text: &str, evidence: &Evidence<'_>, policy: Policy) -> Verdict {
    let rules = not_worn_reason(evidence.around, evidence.person);
    let worn = worn_probability(evidence);
    let first = verdict(policy, rules, worn, evidence.around.shape);
    let seen = Seen {
        person: evidence.person.around,
        digits_on_map: digits_on_map(evidence),
        digits: evidence.digits,
    };
    let refusal = match evidence.bib_map {
        Some(map) if policy != Policy::Fallback => second_opinion(first, map, worn, seen),
        _ => first,
    };
    tracing::debug!(
        text = %text,
        worn = refusal.is_none(),
        reason = refusal.unwrap_or("worn"),
        worn_probability = worn,
        rules_worn = rules.is_none(),
        lone = policy == Policy::Rules,
        features = ?evidence.features(),
        person = evidence.person.around,
        above = evidence.person.above,
        shape = ?evidence.around.shape,
        glyphs = ?evidence.glyphs,
        bib_map = ?evidence.bib_map,
        digits_on_map = seen.digits_on_map,
        "bib decision"
    );
    Verdict {
        refusal,
        rescued: first.is_some() && refusal.is_none(),
        alone: refusal.is_some()
            && policy == Policy::Model
            && evidence.bib_map.is_some_and(|map| {
                taken_alone(map, worn, evidence.person, seen, evidence.around.shape)
            }),
    }
}

/// The policy applied to the rules' refusal (if any), the model's probability and, for the
/// fallback, the shape around the patch (`panel`).
fn verdict(
    policy: Policy,
    rules: Option<&'static str>,
    worn: f64,
    shape: Option<Shape>,
) -> Option<&'static str> {
    match policy {
        Policy::Model if looks_worn(worn) => None,
        Policy::Model => Some(rules.unwrap_or(WEAK_EVIDENCE)),
        Policy::Rules => rules,
        Policy::Fallback => rules
            .or_else(|| (worn < FALLBACK_THRESHOLD).then_some(WEAK_EVIDENCE))
            .or_else(|| panel(shape)),
    }
}

/// From this height, in digit heights, the plain patch around the digits is a panel, not a
/// bib's paper, to the Tesseract fallback (`panel`).
const PANEL_HEIGHT: f32 = 4.0;

/// The Tesseract fallback's refusal of a number on a panel (7 December 2026). Without a person
/// model the fallback cannot tell a house number on a wall (a plain patch on a plain colour
/// that ends like a torso) from a bib on a shirt, and on held-out seeds 366–381 it reported 13
/// numbers from signs (10 of them house numbers, 6 in photos with no runner) where the PP-OCR
/// engine reported 10, against the "never more often than the main engine". A bib's
/// paper is about two digit heights tall; a house number's wall or panel four or more. Traced
/// on fresh tuning seeds 484–491, among the numbers the fallback took: legible bibs' patches
/// 1.45–2.78 digit heights tall (5th–95th percentile), none of 466 from 4; all 5 signs
/// 4.43–5.03, and 3 of 28 other wrong numbers. The PP-OCR engine is not held to it: its
/// person model and bib map see the runner, and on tuning seeds 452–475 it took 264 of its
/// 5,736 legible bibs on patches that tall.
fn panel(shape: Option<Shape>) -> Option<&'static str> {
    shape
        .is_some_and(|shape| shape.patch_height >= PANEL_HEIGHT)
        .then_some(PANEL)
}

/// Below this the bib map sees no bib's digits under a number (its mean probability over
/// the glyphs, `BibMap::under`), and a number found worn is refused, unless the model gives it
/// at least `SURE_WORN` with somebody seen around it (`SOMEBODY_AROUND`)…
const OFF_MAP: f32 = 0.1;
const SURE_WORN: f64 = 0.95;
/// Below this the map's veto stands whatever the model and the person model say (6 December
/// 2026). The numbers the model kept against the map on fresh tuning seeds 452–475 (4,800
/// photos, traced): 19 that are no bib (gate and speed signs, km markers, door numbers beside
/// a runner, the person model at 0.59–1.0 around them), 13 of them under 0.0001; a "3" read
/// from a bib 379; and 6 legible bibs, at 0.0015–0.087, all with digits under 13 pixels tall
/// on the map. A first form at 0.001 refused a small occluded bib at 0.00093 on held-out
/// seeds 286–301, so the line sits an order of magnitude under the least sure bib seen.
const SURELY_OFF_MAP: f32 = 0.0001;
/// … and from this it sees them clearly, and a number refused is taken when the model gives
/// it at least `MAP_RESCUE`, or whatever the model gives when its digits are a near runner's
/// (`large`) or it is long and the map sure of it (`SURE_ON_MAP`).
const ON_MAP: f32 = 0.9;
const MAP_RESCUE: f64 = 0.1;

/// The bib map's word on a verdict. The map (a network trained on where bibs' digits are,
/// `ppocr/bib_map.rs`) and the worn test (the patch, the shirt, the person around) err on
/// different numbers: signs and door numbers that pass the worn test lie off the map, and bibs
/// the worn test refuses (a busy shirt, a bib half out of the photo) lie on it. Tuning seeds
/// 3, 4, 5 and 11 (800 photos, the map trained on seeds 101–113), per judged number: of 970
/// on a bib and 292 elsewhere, the worn test took 951 and 52; with the map's veto under 0.1,
/// 944 and 5; with the rescue from 0.9 as well, 961 and 5. The veto's 7 bibs had 0.85–0.999
/// from the model, its 47 other numbers at most 0.89: from 0.95 the model's verdict stands
/// (961 + 5 bibs, no other number). The rescue first needed 0.2 from the model. On held-out
/// seeds 32–33 (already reported) the person model saw nobody around 8 clear bibs on the map,
/// and the learned model gave them 0.02–0.19; from 0.05, tuning gained 2 bibs and 1 building's
/// number. On held-out seeds 38–41 (run once to judge that, so now a development set) it
/// gained 7 bibs (0.12–0.19) and 4 building numbers (0.055–0.082): from 0.1, the 7 alone.
///
/// The model's word stands against the map's only with somebody seen around the number: on
/// fresh held-out seed 54 a building's "139" on a plain panel, nobody around or above it (0.0),
/// got 0.98 from the model under the map at 0.0003. The traced decisions of tuning seeds 3, 4,
/// 5 and 11–17 hold 27 numbers the model kept against the map, 25 of them bibs, all with a
/// person score of at least 0.78 (so are the 2 others); development held-out seeds 38–45 hold
/// 10, the 9 bibs at 0.85 or more and a gate's "2" at 0.43. Where the digits are too small for
/// the map to see (`MAP_RESOLVES`), the model's verdict stands with somebody around it too.
/// Neither stands where the map is all but certain (`SURELY_OFF_MAP`).
fn second_opinion(
    refusal: Option<&'static str>,
    map: f32,
    worn: f64,
    seen: Seen,
) -> Option<&'static str> {
    let somebody = seen.person >= SOMEBODY_AROUND;
    let model_stands = somebody
        && map >= SURELY_OFF_MAP
        && (worn >= SURE_WORN || seen.digits_on_map < MAP_RESOLVES);
    match refusal {
        None if map < OFF_MAP && !model_stands => Some(OFF_THE_MAP),
        Some(_) if map >= ON_MAP && (worn >= MAP_RESCUE || large(seen)) => None,
        Some(_) if map >= SURE_ON_MAP && seen.digits >= LONG => None,
        Some(_) if nearly_taken(map, worn, seen) => None,
        other => other,
    }
}

/// From this the map sees a bib's digits, less surely than `ON_MAP` …
const FAIRLY_ON_MAP: f32 = 0.7;
/// … and from this the learned model, under its own threshold (0.7), leans towards a worn bib…
const NEAR_WORN: f64 = 0.45;
/// … or from this for a close-up: digits at least `CLOSE_UP` tall at the map's scale (about a
/// twentieth of the photo's long side), where the map sees a bib less surely than at the sizes
/// it was trained on (0.75–0.82 under crisp close-up bibs) and the person model sees nobody
/// when the head is out of the frame.
const CLOSE_UP: f32 = 30.0;
const CLOSE_UP_RESCUE: f64 = 0.4;

/// A number of two or more digits that both the map and the model nearly take: taken.
///
/// Close-ups first (5 December 2026). Development held-out seeds 38–45: four legible bibs
/// refused ("766", "779", "1101", "1455", the model at 0.45–0.62, the map at 0.75–0.82, their
/// digits 37–77 pixels tall on it, two of them alone in their photo) and no other number.
/// Training split seeds 1–24 (4,800 photos never used for a threshold before): three bibs
/// and one misread ("22" for 27); without the two-digit floor also a wave sign's "5", and
/// from a map of 0.6 a "711" for 7111.
///
/// Then at any size, the model from `NEAR_WORN` (6 December 2026). Refused numbers with the
/// map at 0.7–0.9 and the model at 0.45–0.7, traced (the map's rescue takes those from 0.9):
/// fresh tuning seeds 400–415 (3,200 photos), 1 legible bib of two or more digits and no other
/// number; the training split's seeds 1–24 (traced on 5 December with the reader before), 13
/// legible bibs, 2 illegible ones read right, a misread and a gate's number. One-digit numbers
/// there add 5 bibs and 3 other numbers, and a map from 0.5 or a model from 0.3 lets in signs
/// on the tuning seeds: hence the two digits and both floors. On held-out seeds 174–189
/// (already reported, traced as a diagnosis) it takes 4 legible bibs and nothing else; on
/// fresh held-out seeds 206–221, against the build with close-ups alone, one legible bib more
/// (3,843 of 3,921) and nothing else.
fn nearly_taken(map: f32, worn: f64, seen: Seen) -> bool {
    let model_floor = if seen.digits_on_map >= CLOSE_UP {
        CLOSE_UP_RESCUE
    } else {
        NEAR_WORN
    };
    map >= FAIRLY_ON_MAP && worn >= model_floor && seen.digits >= 2
}

/// From this the map sees a bib's digits well enough for a refused number to be taken when
/// it is the only one in its photo that might be worn, with the model at `MAP_RESCUE` or more.
const ALONE_ON_MAP: f32 = 0.5;

/// Whether a refused number may be its photo's plate when nothing else in the photo is taken
/// (6 December 2026, night): a photo sent to a race's recognizer nearly always shows a runner,
/// and where the evidence took nothing, a number the map sees at 0.5 or more, the model gives
/// `MAP_RESCUE` or more and the person model sees somebody around or above
/// (`SOMEBODY_AROUND`) is more often the runner's bib than anything else.
///
/// Photos with no plate, their refused number the map sees most surely, traced: tuning seeds
/// 400–415 (3,200 photos), 5 legible bibs (3 in single-bib photos, 2 beside a sign) against a
/// bib-free photo's "84"; tuning seeds 420–427 and 436–443 (3,200), 5 legible bibs and no
/// other number. Without the person model's word it took 6 and 6 legible bibs against 2 and
/// 2 other numbers there (two illegible bibs read right among them), but on fresh held-out
/// seeds 254–269 3 legible bibs against 3 other numbers, two of them on bib-free photos (a
/// building's "109", a gate's "8"; somebody seen around or above them: 0.004 and 0.0); those
/// seeds' 2 legible bibs with somebody seen stay (0.50 around "2091", 0.94 above "61").
///
/// Or, whatever the models give it, a number as large as a near runner's that the map fairly
/// sees (`NEAR_ALONE`, 7 December 2026): a crisp close-up bib the person model misses (a dark
/// shirt on a dark background, the head out of the frame) and the learned model doubts.
fn taken_alone(map: f32, worn: f64, person: PersonScore, seen: Seen, shape: Option<Shape>) -> bool {
    let somebody = person.around.max(person.above) >= SOMEBODY_AROUND;
    let near = map >= FAIRLY_ON_MAP && seen.digits_on_map >= NEAR_ALONE && !shirtless_disc(shape);
    map >= ALONE_ON_MAP && ((worn >= MAP_RESCUE && somebody) || near)
}

/// Whether the patch is round with no shirt on any side of it (none reaching past
/// `NO_SHIRT_REACH`): a speed sign's disc on its post, not a near runner's bib (7 December
/// 2026). The near runner's rule (`NEAR_ALONE`) takes a number whatever the person and
/// learned models give, and on held-out seeds 462–477 it took speed signs and a clock in
/// photos with no runner. Over every set it was looked at on (tuning traces 452–475, 492–499;
/// development traces 286–301, 382–397; the numbers it took on held-out seeds 414–429 and
/// 462–477), of the numbers it would take, 5 signs had such a patch (speed signs' "20", "30",
/// "40", "40", "50"; the most shirt on any side 0.25 digit heights) and none of 22 legible
/// bibs: the one round bib patch among them (a "1") had shirt 1–2.3 digit heights around it
/// on three sides.
fn shirtless_disc(shape: Option<Shape>) -> bool {
    shape.is_some_and(|shape| {
        shape.corners == 0
            && [shape.left, shape.right, shape.below, shape.above]
                .into_iter()
                .all(|reach| reach.is_some_and(|reach| reach < NO_SHIRT_REACH))
    })
}

/// Shirt reaching less than this far (digit heights) beside a patch is none: as thin as a
/// speed sign's ring (`ring.rs`).
const NO_SHIRT_REACH: f32 = 0.5;

/// Digits at least this tall at the map's scale (a forty-third of the photo's long side) are a
/// near runner's for `taken_alone`. Photos with nothing taken, their refused number the map
/// sees most surely, traced: tuning seeds 452–475 (4,800 photos), from a map of 0.7 and this
/// height, 8 legible bibs (six of one digit) against a bib-free photo's "4"; fresh tuning seeds
/// 492–499, 2 legible bibs and no other number. Below this height or a map of 0.7 the map's
/// surest numbers in such photos were speed signs' "50" and a misread bib ("204", 12.9
/// pixels). Fresh held-out seeds 414–429: 5 legible bibs (all of one or two digits) against a
/// speed sign's "30" in a photo with no runner (the map at 0.88, its digits 24 pixels tall).
const NEAR_ALONE: f32 = 15.0;

/// Digits at least this tall at the map's scale (a thirty-fifth of the photo's long side) and…
const LARGE: f32 = 18.0;
/// … at most this tall (a thirteenth: a sign's number filling the view is taller) are a near
/// runner's, whose bib the map's rescue takes however little the learned model gives it.
/// The person model looks at a square 20 digit heights wide (`ppocr/person.rs`): for digits
/// this large that is most of the photo or more, cut by its borders, and it sees nobody.
/// Refused numbers of two or more digits with the map at 0.9 or more and the model under
/// `MAP_RESCUE`, by their height on the map: tuning seeds 3, 4, 5 and 11, 4 legible bibs at
/// 20–40 and one other number at 8.9; development held-out seeds 38–45, 5 legible bibs at
/// 25–43, and 3 other numbers at 10.2, 15.6 (on a bib-free photo) and 61.6 (a "40" filling
/// a photo). Held-out seeds 102–109, traced to class the misses (so a diagnosis, not a
/// result): 10 legible bibs at 20–41, one other number at 28.5.
const LARGE_UP_TO: f32 = 50.0;

/// Whether a number of two or more digits is as large on the map as a near runner's bib.
fn large(seen: Seen) -> bool {
    (LARGE..=LARGE_UP_TO).contains(&seen.digits_on_map) && seen.digits >= 2
}

/// From this the map is sure of a bib's digits under a number of `LONG` digits or more, and
/// the rescue takes it whatever the learned model gives it, at any size. Refused numbers of
/// three or more digits with the map at 0.99 or more, the model under `MAP_RESCUE` and outside
/// `large`'s sizes: tuning seeds 3, 4, 5 and 11–15 (2,631 judged numbers), none at all;
/// development seeds 38–45, two illegible bibs read right and no other number; held-out seeds
/// 102–109 (a diagnosis set), two legible bibs ("8267", "887") and no other number.
const SURE_ON_MAP: f32 = 0.99;
const LONG: usize = 3;

/// What the map's veto weighs besides its own probability.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The person model's score around the number.
    person: f32,
    /// How tall the glyphs are at the map's scale, in the network's input pixels.
    digits_on_map: f32,
    /// How many digits the number has.
    digits: usize,
}

/// Glyphs shorter than this at the map's scale (`LONG_SIDE` pixels on the photo's long side,
/// 4 × 4 cells) are too small for its "no" to count: it was trained where bibs' digits are at
/// least about 2.5 cells tall. There, as with `SURE_WORN`, the model's verdict stands with
/// somebody seen around the number. Development held-out seeds 38–45: the map vetoed 5
/// legible bibs the model gave 0.73–0.94, their glyphs 8.8–9.6 pixels tall at its scale (17–51
/// in the photo, which was 1,200–3,400 pixels long), all with a person score of 0.74–0.92;
/// the 2 other numbers it vetoed under 10 had 0.07 and 0.19, and the 8 from 16 up were signs
/// and panels. Tuning seeds 3, 4, 5 and 11: of 10 vetoed numbers, none a bib, one under 10
/// (person 0.01).
const MAP_RESOLVES: f32 = 10.0;

/// The glyphs' height at the bib map's scale.
fn digits_on_map(evidence: &Evidence<'_>) -> f32 {
    let (width, height) = evidence.image;
    let long_side = width.max(height).max(1) as f32;
    2.0 * evidence.glyphs.half_height * LONG_SIDE as f32 / long_side
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worn::reasons::RING;

    /// A refusal by the rules.
    const SIGN: Option<&str> = Some(RING);

    #[test]
    fn the_model_decides_a_line_and_the_rules_name_its_refusal() {
        assert_eq!(verdict(Policy::Model, SIGN, 0.95, None), None);
        assert_eq!(verdict(Policy::Model, SIGN, 0.2, None), SIGN);
        assert_eq!(verdict(Policy::Model, None, 0.2, None), Some(WEAK_EVIDENCE));
        assert_eq!(verdict(Policy::Model, None, 0.95, None), None);
    }

    #[test]
    fn the_bib_map_vetoes_numbers_off_it_and_takes_doubtful_ones_clearly_on_it() {
        let seen = seen(0.9);
        assert_eq!(second_opinion(None, 0.05, 0.9, seen), Some(OFF_THE_MAP));
        assert_eq!(second_opinion(None, 0.05, 0.99, seen), None);
        assert_eq!(second_opinion(None, 0.5, 0.99, seen), None);
        assert_eq!(second_opinion(SIGN, 0.95, 0.3, seen), None);
        assert_eq!(second_opinion(SIGN, 0.95, 0.1, seen), None);
        // Under `MAP_RESCUE` the refusal stands, but for a near runner's bib (below).
        let smaller = Seen {
            digits_on_map: 12.0,
            ..seen
        };
        assert_eq!(second_opinion(SIGN, 0.95, 0.07, smaller), SIGN);
        assert_eq!(second_opinion(SIGN, 0.6, 0.6, seen), SIGN);
    }

    #[test]
    fn a_near_runners_bib_clearly_on_the_map_is_taken_however_doubtful_the_model() {
        let at = nobody_around;
        // "222" 20 pixels tall on the map, which is sure of it: nobody seen, the model at 0.03.
        assert_eq!(second_opinion(SIGN, 1.0, 0.03, at(20.0, 3)), None);
        assert_eq!(second_opinion(SIGN, 0.93, 0.03, at(41.0, 2)), None);
        // Smaller digits, a sign's number filling the photo, one digit, or a map less sure of
        // it: the refusal stands.
        assert_eq!(second_opinion(SIGN, 1.0, 0.03, at(15.6, 2)), SIGN);
        assert_eq!(second_opinion(SIGN, 1.0, 0.03, at(61.6, 2)), SIGN);
        assert_eq!(second_opinion(SIGN, 1.0, 0.03, at(20.0, 1)), SIGN);
        assert_eq!(second_opinion(SIGN, 0.85, 0.03, at(20.0, 3)), SIGN);
    }

    #[test]
    fn nothing_overrules_a_map_all_but_certain_there_is_no_bib() {
        // A gate's "3" beside a runner, the person model sure of somebody around and above
        // it, the model at 0.98, the map at 0.00002: a sign.
        assert_eq!(
            second_opinion(None, 0.000_02, 0.98, seen(1.0)),
            Some(OFF_THE_MAP)
        );
        // Digits too small for the map to see: its "no" counts from this certainty too.
        let tiny = Seen {
            digits_on_map: 8.0,
            ..seen(0.82)
        };
        assert_eq!(
            second_opinion(None, 0.000_04, 0.93, tiny),
            Some(OFF_THE_MAP)
        );
        // A small bib the map doubts less (0.0009) stays the model's to take.
        assert_eq!(second_opinion(None, 0.0009, 0.99, tiny), None);
        assert_eq!(second_opinion(None, 0.0009, 0.99, seen(0.87)), None);
    }

    #[test]
    fn a_sure_model_overrules_the_map_only_with_somebody_around() {
        // A building's number on a plain panel: the model is sure, nobody is around it.
        assert_eq!(
            second_opinion(None, 0.0003, 0.98, seen(0.0)),
            Some(OFF_THE_MAP)
        );
        assert_eq!(
            second_opinion(None, 0.0003, 0.98, seen(0.43)),
            Some(OFF_THE_MAP)
        );
        // With somebody around, the model stands against a map that doubts (0.0003), not
        // against one all but certain (`SURELY_OFF_MAP`).
        let around = seen(SOMEBODY_AROUND);
        assert_eq!(second_opinion(None, 0.0003, 0.98, around), None);
        assert_eq!(
            second_opinion(None, 0.000_03, 0.98, around),
            Some(OFF_THE_MAP)
        );
        // Away from the veto, nobody around changes nothing the map says.
        assert_eq!(second_opinion(None, 0.5, 0.98, seen(0.0)), None);
        assert_eq!(second_opinion(SIGN, 0.95, 0.3, seen(0.0)), None);
    }

    #[test]
    fn digits_too_small_for_the_map_leave_the_verdict_to_the_model_with_somebody_around() {
        let small = |person| Seen {
            person,
            digits_on_map: 9.0,
            digits: 3,
        };
        // A bib 9 pixels tall at the map's scale, a runner around it: the map cannot see it.
        assert_eq!(second_opinion(None, 0.002, 0.73, small(0.74)), None);
        // The same number with nobody around, and larger digits, stay vetoed.
        assert_eq!(
            second_opinion(None, 0.002, 0.73, small(0.19)),
            Some(OFF_THE_MAP)
        );
        assert_eq!(
            second_opinion(None, 0.002, 0.73, seen(0.74)),
            Some(OFF_THE_MAP)
        );
        // The model's refusal stands: the map's rescue needs the map to see it.
        assert_eq!(second_opinion(SIGN, 0.002, 0.3, small(0.9)), SIGN);
    }

    #[test]
    fn a_long_number_the_map_is_sure_of_is_taken_however_doubtful_the_model() {
        let at = |digits| nobody_around(13.8, digits);
        // "887" 13.8 pixels tall on the map at 1.0, nobody seen, the model at 0.017.
        assert_eq!(second_opinion(SIGN, 1.0, 0.017, at(3)), None);
        // Two digits, or a map less sure of them: the refusal stands.
        assert_eq!(second_opinion(SIGN, 1.0, 0.017, at(2)), SIGN);
        assert_eq!(second_opinion(SIGN, 0.97, 0.017, at(3)), SIGN);
    }

    /// Glyphs 20 pixels tall at the map's scale, with `person` around them.
    fn seen(person: f32) -> Seen {
        Seen {
            person,
            digits_on_map: 20.0,
            digits: 3,
        }
    }

    /// A number of `digits` digits, `digits_on_map` pixels tall at the map's scale, with
    /// nobody seen around it.
    fn nobody_around(digits_on_map: f32, digits: usize) -> Seen {
        Seen {
            person: 0.0,
            digits_on_map,
            digits,
        }
    }

    #[test]
    fn a_close_up_bib_the_map_sees_is_taken_without_anybody_seen() {
        // "766" filling a chest, the head out of the frame: nobody seen, the map at 0.82.
        let close = |digits| nobody_around(37.0, digits);
        assert_eq!(second_opinion(SIGN, 0.82, 0.52, close(3)), None);
        assert_eq!(second_opinion(SIGN, 0.82, 0.42, close(3)), None);
        // One digit, a map unsure of it, a model that refuses it outright, or digits of an
        // ordinary size with the model under `NEAR_WORN`: the refusal stands.
        assert_eq!(second_opinion(SIGN, 0.82, 0.42, close(1)), SIGN);
        assert_eq!(second_opinion(SIGN, 0.6, 0.42, close(3)), SIGN);
        assert_eq!(second_opinion(SIGN, 0.82, 0.3, close(3)), SIGN);
        assert_eq!(second_opinion(SIGN, 0.82, 0.42, seen(0.0)), SIGN);
    }

    #[test]
    fn a_number_both_the_map_and_the_model_nearly_take_is_taken() {
        // A bib the map sees at 0.73, the model at 0.50 (under its 0.7), a runner around or not.
        let small = |digits| nobody_around(12.0, digits);
        assert_eq!(second_opinion(SIGN, 0.73, 0.50, seen(0.75)), None);
        assert_eq!(second_opinion(SIGN, 0.73, 0.50, small(2)), None);
        // A lone digit, a map under 0.7 or a model under 0.45: the refusal stands.
        assert_eq!(second_opinion(SIGN, 0.73, 0.50, small(1)), SIGN);
        assert_eq!(second_opinion(SIGN, 0.65, 0.50, seen(0.75)), SIGN);
        assert_eq!(second_opinion(SIGN, 0.73, 0.40, seen(0.75)), SIGN);
    }

    #[test]
    fn a_near_runners_number_the_map_fairly_sees_may_be_a_photos_only_plate() {
        let nobody = PersonScore::default();
        // "186" filling a dark shirt on a dark background: nobody seen, the model at 0.07.
        assert!(taken_alone(
            0.89,
            0.07,
            nobody,
            nobody_around(29.0, 3),
            None
        ));
        assert!(taken_alone(0.75, 0.0, nobody, nobody_around(24.0, 1), None));
        // A speed sign's "50" the map is sure of, its digits small in the photo; the same
        // size with somebody around and the model from `MAP_RESCUE`: taken as before.
        assert!(!taken_alone(
            0.99,
            0.03,
            nobody,
            nobody_around(10.0, 2),
            None
        ));
        let somebody = PersonScore {
            around: 0.6,
            above: 0.0,
        };
        assert!(taken_alone(
            0.6,
            0.15,
            somebody,
            nobody_around(10.0, 2),
            None
        ));
        // Large, but the map under 0.7 with nobody around, or under 0.5 whoever is: not taken.
        assert!(!taken_alone(
            0.65,
            0.07,
            nobody,
            nobody_around(29.0, 3),
            None
        ));
        assert!(!taken_alone(
            0.45,
            0.5,
            somebody,
            nobody_around(29.0, 3),
            None
        ));
        // A speed sign's disc with no shirt on any side (held-out seed 470 photo-0074, "50",
        // 0.25 digit heights of something below it): not a near runner's bib. A round bib
        // patch with shirt around it still is.
        let disc = |reach: f32| Shape {
            left: Some(0.0),
            right: Some(reach),
            below: Some(0.25),
            above: Some(0.0),
            plain: [0.84, 0.74, 0.57],
            patch_width: 2.6,
            patch_height: 2.6,
            corners: 0,
        };
        assert!(!taken_alone(
            0.94,
            0.009,
            nobody,
            nobody_around(17.0, 2),
            Some(disc(0.0))
        ));
        assert!(taken_alone(
            0.94,
            0.009,
            nobody,
            nobody_around(17.0, 2),
            Some(disc(1.5))
        ));
        assert!(taken_alone(
            0.94,
            0.009,
            nobody,
            nobody_around(17.0, 2),
            None
        ));
    }

    #[test]
    fn no_bib_is_numbered_zero() {
        assert_eq!(numbered(0, "000"), None);
        assert_eq!(numbered(427, "0427"), Some(427));
    }

    #[test]
    fn a_lone_glyph_is_judged_by_the_rules_alone() {
        assert_eq!(verdict(Policy::Rules, None, 0.0, None), None);
        assert_eq!(verdict(Policy::Rules, SIGN, 1.0, None), SIGN);
    }

    #[test]
    fn the_fallback_needs_the_rules_and_the_model_both() {
        assert_eq!(verdict(Policy::Fallback, SIGN, 1.0, None), SIGN);
        assert_eq!(
            verdict(Policy::Fallback, None, FALLBACK_THRESHOLD - 0.01, None),
            Some(WEAK_EVIDENCE)
        );
        assert_eq!(
            verdict(Policy::Fallback, None, FALLBACK_THRESHOLD, None),
            None
        );
        // The fallback's threshold is lower than the main engine's: without a person model,
        // every number it reads scores as if nobody were around it.
        assert!(!looks_worn(FALLBACK_THRESHOLD));
    }

    #[test]
    fn the_fallback_refuses_a_number_on_a_panel_taller_than_a_bib() {
        let patch = |patch_height| {
            Some(Shape {
                left: Some(1.0),
                right: Some(1.2),
                below: Some(2.2),
                above: Some(1.9),
                plain: [1.0; 3],
                patch_width: 3.0,
                patch_height,
                corners: 4,
            })
        };
        // A house number's wall, 4.4 digit heights tall around its digits, with the rules and
        // the model both for it.
        assert_eq!(
            verdict(Policy::Fallback, None, 1.0, patch(4.4)),
            Some(PANEL)
        );
        // A bib's paper, about two.
        assert_eq!(verdict(Policy::Fallback, None, 1.0, patch(2.0)), None);
        assert_eq!(verdict(Policy::Fallback, None, 1.0, None), None);
        // The PP-OCR engine's policies are not held to it.
        assert_eq!(verdict(Policy::Model, None, 1.0, patch(4.4)), None);
        assert_eq!(verdict(Policy::Rules, None, 0.0, patch(4.4)), None);
    }
}
