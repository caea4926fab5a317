//! The paper of a bib: the commonest colour of a ring just around its digits, checked against
//! what shows between the glyphs.

use super::SAME;
use super::sample::{Sample, Sampler, alike, dominant};
use crate::color_name::Lab;

/// A ring around the digits with this share of one colour needs no filtering of ink.
const PLAIN_RING: f32 = 0.5;

/// The paper's colour around the digits, with its share of the ring: the ring's colour
/// (`ring_colour`) checked against what shows between the glyphs (`between_glyphs`).
pub(super) fn paper_colour(sampler: &Sampler<'_>) -> Option<(Lab, [u8; 3], f32)> {
    let h = sampler.glyphs.height();
    let (hu, hv) = (sampler.glyphs.half_width, sampler.glyphs.half_height);
    let mut ring = sampler.band((-hu, hu), (-hv - 0.35 * h, -hv - 0.1 * h));
    ring.extend(sampler.band((-hu, hu), (hv + 0.1 * h, hv + 0.35 * h)));
    ring.extend(sampler.band((-hu - 0.35 * h, -hu - 0.1 * h), (-hv, hv)));
    ring.extend(sampler.band((hu + 0.1 * h, hu + 0.35 * h), (-hv, hv)));
    let box_samples = sampler.band((-hu, hu), (-hv, hv));
    between_glyphs(ring_colour(&ring, &box_samples), &box_samples, &ring)
}

/// The commonest colour of a ring just around the digits, where a bib's paper is, with its
/// share of the ring.
fn ring_colour(ring: &[Sample], box_samples: &[Sample]) -> Option<(Lab, [u8; 3], f32)> {
    // A ring that is mostly one colour is the paper's, whatever its lightness: light digits on
    // a coloured bib are common, and the filter below would keep only the digits' spill and a
    // white shirt beside the bib.
    let plain = dominant(ring);
    if plain.is_some_and(|(_, _, share)| share >= PLAIN_RING) {
        return plain;
    }
    // Paper is lighter than ink: where ink spills into the ring (italic or heavy digits), keep
    // the ring's samples at least as light as the median of the glyph box itself.
    let mut inside: Vec<f32> = box_samples.iter().map(|s| s.lab.l).collect();
    inside.sort_by(f32::total_cmp);
    if let Some(&median) = inside.get(inside.len() / 2) {
        let light: Vec<Sample> = ring
            .iter()
            .filter(|s| s.lab.l >= median - 5.0)
            .copied()
            .collect();
        if light.len() * 10 >= ring.len() * 3 {
            return dominant(&light);
        }
    }
    plain
}

/// The ring's colour when it shows between the glyphs too, as paper does. Else it is the
/// shirt around a small bib whose paper ends just beside its digits, and the paper is the
/// glyph box's colour the ring holds most of.
fn between_glyphs(
    found: Option<(Lab, [u8; 3], f32)>,
    box_samples: &[Sample],
    ring: &[Sample],
) -> Option<(Lab, [u8; 3], f32)> {
    match found {
        Some((lab, _, _)) if !shows_between_glyphs(&lab, box_samples) => {
            box_colour_in_ring(box_samples, ring).or(found)
        }
        _ => found,
    }
}

/// The share of the glyph box a colour must hold to be the paper: paper shows between and
/// inside the glyphs.
const BETWEEN_GLYPHS: f32 = 0.15;

/// Whether `colour` holds at least [`BETWEEN_GLYPHS`] of the glyph box's samples.
fn shows_between_glyphs(colour: &Lab, box_samples: &[Sample]) -> bool {
    alike(box_samples, colour).count() as f32 >= BETWEEN_GLYPHS * box_samples.len() as f32
}

/// Of the glyph box's two commonest colours (its paper and its ink, in some order), the one
/// the ring around it holds more of, with that share of the ring; `None` when the ring holds
/// less than a tenth of either.
fn box_colour_in_ring(box_samples: &[Sample], ring: &[Sample]) -> Option<(Lab, [u8; 3], f32)> {
    let (first, _, _) = dominant(box_samples)?;
    let rest: Vec<Sample> = box_samples
        .iter()
        .filter(|s| s.lab.distance(&first) > SAME)
        .copied()
        .collect();
    let candidates = [Some(first), dominant(&rest).map(|(lab, _, _)| lab)];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|colour| {
            let near: Vec<Sample> = alike(ring, &colour).copied().collect();
            let share = near.len() as f32 / ring.len().max(1) as f32;
            (share >= 0.1).then(|| dominant(&near).map(|(lab, raw, _)| (lab, raw, share)))?
        })
        .max_by(|a, b| a.2.total_cmp(&b.2))
}
