//! A speed sign's ring: a thin band of one colour all round a number's patch, with the scene
//! behind it. Looked for where no shirt was found around the patch (`surroundings`); a ringed
//! patch is refused whatever the person model says (`decision.rs`).

use super::sample::{Reach, Sampler, dominant};
use super::{GAP, Patch, SAME};
use crate::color_name::Lab;

/// How thin (digit heights, beyond the gap) a ring is on every side. The tuning split's speed
/// signs measure 0.25-0.33 beside the patch; bibs on narrow shirts as little, which is why the
/// ring must also be thin above and below. Tuning seeds 4 and 5: 5 false reports fewer, no bib
/// lost; seed 3 (not used to choose): 2 fewer, no bib lost.
const RING_WIDTH: f32 = 0.5;

/// Whether the patch is framed all round by a thin band of one colour that then ends: a speed
/// sign's ring around its disc, with the scene behind it. A bib's paper is bordered by the
/// shirt, which may be thin beside it but goes on above it (to the neck) and below it.
pub(super) fn ringed(sampler: &Sampler<'_>, paper: &Lab, patch: Patch) -> bool {
    let h = sampler.glyphs.height();
    let (hu, hv) = (sampler.glyphs.half_width, sampler.glyphs.half_height);
    let gap = GAP * h;
    let (x0, x1) = (-hu - patch.left - gap, hu + patch.right + gap);
    let (y0, y1) = (-hv - patch.up - gap, hv + patch.down + gap);
    let rim_at = |s: (f32, f32), t: (f32, f32)| {
        dominant(&sampler.band(s, t))
            .filter(|(lab, _, share)| *share >= 0.6 && lab.distance(paper) >= SAME)
    };
    let (Some(left), Some(right)) = (
        rim_at((x0 - 0.1 * h, x0), (-0.5 * hv, 0.5 * hv)),
        rim_at((x1, x1 + 0.1 * h), (-0.5 * hv, 0.5 * hv)),
    ) else {
        return false;
    };
    if left.0.distance(&right.0) >= SAME {
        return false;
    }
    let rim = left.0;
    // The band is there on each side of the patch (a strip of another colour above a bib's
    // numbers is no ring) and stops within `RING_WIDTH` digit heights going out.
    let thin = |start: [f32; 2], direction: [f32; 2]| {
        matches!(
            sampler.reach(start, direction, &rim, 2.0 * h),
            Reach::Ends(d) if d > 0.0 && d < RING_WIDTH * h
        )
    };
    thin([x0, 0.0], [-1.0, 0.0])
        && thin([x1, 0.0], [1.0, 0.0])
        && thin([0.0, y0], [0.0, -1.0])
        && thin([0.0, y1], [0.0, 1.0])
}
