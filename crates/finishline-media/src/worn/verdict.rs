//! One verdict for every engine: the rules (`decision.rs`) and the learned model
//! (`learned.rs`) weighed as the engine's policy says, and the "bib decision" debug line that
//! `tests/recognition/train-worn-model.sh` learns from.

use super::decision::not_worn_reason;
use super::learned::{Evidence, FALLBACK_THRESHOLD, looks_worn, worn_probability};
use super::reasons::WEAK_EVIDENCE;

/// Who has the last word on a read number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The learned model decides; when it refuses, the rules' reason (if they refuse too)
    /// names why. The PP-OCR engine's text lines, in photos and video frames.
    Model,
    /// The rules alone: a lone glyph, found by its own strict search (`ppocr/lone.rs`) and too
    /// rare to learn from.
    Rules,
    /// The rules, and the model from `FALLBACK_THRESHOLD`, must both find it worn: the
    /// Tesseract fallback, which has no person model and must never be the laxer engine.
    Fallback,
}

/// Why the number read as `text` is not worn, or `None` when it is, logged as a "bib decision"
/// with the probability, the rules' verdict and the evidence.
pub fn decide(text: &str, evidence: &Evidence<'_>, policy: Policy) -> Option<&'static str> {
    let rules = not_worn_reason(evidence.around, evidence.person);
    let worn = worn_probability(evidence);
    let refusal = verdict(policy, rules, worn);
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
        "bib decision"
    );
    refusal
}

/// The policy applied to the rules' refusal (if any) and the model's probability.
fn verdict(policy: Policy, rules: Option<&'static str>, worn: f64) -> Option<&'static str> {
    match policy {
        Policy::Model if looks_worn(worn) => None,
        Policy::Model => Some(rules.unwrap_or(WEAK_EVIDENCE)),
        Policy::Rules => rules,
        Policy::Fallback => rules.or_else(|| (worn < FALLBACK_THRESHOLD).then_some(WEAK_EVIDENCE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worn::reasons::RING;

    /// A refusal by the rules.
    const SIGN: Option<&str> = Some(RING);

    #[test]
    fn the_model_decides_a_line_and_the_rules_name_its_refusal() {
        assert_eq!(verdict(Policy::Model, SIGN, 0.95), None);
        assert_eq!(verdict(Policy::Model, SIGN, 0.2), SIGN);
        assert_eq!(verdict(Policy::Model, None, 0.2), Some(WEAK_EVIDENCE));
        assert_eq!(verdict(Policy::Model, None, 0.95), None);
    }

    #[test]
    fn a_lone_glyph_is_judged_by_the_rules_alone() {
        assert_eq!(verdict(Policy::Rules, None, 0.0), None);
        assert_eq!(verdict(Policy::Rules, SIGN, 1.0), SIGN);
    }

    #[test]
    fn the_fallback_needs_the_rules_and_the_model_both() {
        assert_eq!(verdict(Policy::Fallback, SIGN, 1.0), SIGN);
        assert_eq!(
            verdict(Policy::Fallback, None, FALLBACK_THRESHOLD - 0.01),
            Some(WEAK_EVIDENCE)
        );
        assert_eq!(verdict(Policy::Fallback, None, FALLBACK_THRESHOLD), None);
        // The fallback's threshold is lower than the main engine's: without a person model,
        // every number it reads scores as if nobody were around it.
        assert!(!looks_worn(FALLBACK_THRESHOLD));
    }
}
