//! Sampling a photo in a number's own upright frame: bands, reaches, dominant colours.

use std::collections::HashMap;

use image::RgbImage;

use super::{Glyphs, Patch, RUN, SAME};
use crate::color_name::{ExposureGain, Lab};

pub(super) struct Sampler<'a> {
    pub(super) image: &'a RgbImage,
    pub(super) gain: ExposureGain,
    pub(super) glyphs: Glyphs,
    pub(super) step: f32,
}

/// Where a colour ends along a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Reach {
    /// Another colour begins this far away.
    Ends(f32),
    /// The photo ends first, this far away.
    Border(f32),
    /// Still the same colour at the limit.
    RunsOn,
}

#[derive(Clone, Copy)]
pub(super) struct Sample {
    pub(super) raw: [u8; 3],
    pub(super) lab: Lab,
}

impl Sampler<'_> {
    pub(super) fn sample(&self, s: f32, t: f32) -> Option<Sample> {
        let [x, y] = self.glyphs.at(s, t);
        if x < 0.0 || y < 0.0 || x >= self.image.width() as f32 || y >= self.image.height() as f32 {
            return None;
        }
        let raw = self.image.get_pixel(x as u32, y as u32).0;
        Some(Sample {
            raw,
            lab: Lab::from_rgb(self.gain.apply(raw)),
        })
    }

    /// Every sample of the rectangle `s0..s1` × `t0..t1` of the glyphs' frame.
    pub(super) fn band(&self, s: (f32, f32), t: (f32, f32)) -> Vec<Sample> {
        let mut out = Vec::new();
        let mut tt = t.0;
        while tt <= t.1 {
            let mut ss = s.0;
            while ss <= s.1 {
                out.extend(self.sample(ss, tt));
                ss += self.step;
            }
            tt += self.step;
        }
        out
    }

    /// How far from `start` along `direction` (in the frame) the samples keep `colour`.
    pub(super) fn reach(
        &self,
        start: [f32; 2],
        direction: [f32; 2],
        colour: &Lab,
        limit: f32,
    ) -> Reach {
        let (mut distance, mut run) = (0.0f32, 0usize);
        while distance <= limit {
            let (s, t) = (
                start[0] + direction[0] * distance,
                start[1] + direction[1] * distance,
            );
            let Some(sample) = self.sample(s, t) else {
                return Reach::Border(distance);
            };
            run = if sample.lab.distance(colour) > SAME {
                run + 1
            } else {
                0
            };
            if run == RUN {
                return Reach::Ends((distance - (RUN - 1) as f32 * self.step).max(0.0));
            }
            distance += self.step;
        }
        Reach::RunsOn
    }

    /// The median reach over three parallel lines through `starts`.
    pub(super) fn median_reach(
        &self,
        starts: [[f32; 2]; 3],
        direction: [f32; 2],
        colour: &Lab,
        limit: f32,
    ) -> Option<f32> {
        let mut reaches: Vec<f32> = starts
            .iter()
            .map(|start| match self.reach(*start, direction, colour, limit) {
                Reach::Ends(d) | Reach::Border(d) => d,
                Reach::RunsOn => f32::INFINITY,
            })
            .collect();
        reaches.sort_by(f32::total_cmp);
        Some(reaches[1]).filter(|r| r.is_finite())
    }
}

/// The samples within [`SAME`] of `colour`: the same colour, for every measure here.
pub(super) fn alike<'a>(
    samples: &'a [Sample],
    colour: &'a Lab,
) -> impl Iterator<Item = &'a Sample> {
    samples.iter().filter(|s| s.lab.distance(colour) <= SAME)
}

/// The most common colour of some samples (a coarse Lab histogram, then the mean of the
/// samples near its fullest cell) and the share of samples within [`SAME`] of it.
pub(super) fn dominant(samples: &[Sample]) -> Option<(Lab, [u8; 3], f32)> {
    if samples.is_empty() {
        return None;
    }
    let mut cells: HashMap<(i32, i32, i32), u32> = HashMap::new();
    let cell = |lab: &Lab| {
        (
            (lab.l / 12.0).floor() as i32,
            (lab.a / 12.0).floor() as i32,
            (lab.b / 12.0).floor() as i32,
        )
    };
    for sample in samples {
        *cells.entry(cell(&sample.lab)).or_default() += 1;
    }
    let (&fullest, _) = cells.iter().max_by_key(|(key, count)| (**count, **key))?;
    let members: Vec<&Sample> = samples.iter().filter(|s| cell(&s.lab) == fullest).collect();
    let n = members.len() as f32;
    let seed = Lab {
        l: members.iter().map(|s| s.lab.l).sum::<f32>() / n,
        a: members.iter().map(|s| s.lab.a).sum::<f32>() / n,
        b: members.iter().map(|s| s.lab.b).sum::<f32>() / n,
    };
    let near: Vec<&Sample> = alike(samples, &seed).collect();
    let m = near.len().max(1) as f32;
    let lab = Lab {
        l: near.iter().map(|s| s.lab.l).sum::<f32>() / m,
        a: near.iter().map(|s| s.lab.a).sum::<f32>() / m,
        b: near.iter().map(|s| s.lab.b).sum::<f32>() / m,
    };
    let mut raw = [0f32; 3];
    for s in &near {
        for (sum, value) in raw.iter_mut().zip(s.raw) {
            *sum += f32::from(value);
        }
    }
    let raw = raw.map(|c| (c / m).round() as u8);
    Some((lab, raw, near.len() as f32 / samples.len() as f32))
}

/// How many of a patch's four corners are the paper's colour: a point 85% of the way from
/// the digits' centre to each corner, where most of a small 3×3 grid must match.
pub(super) fn paper_corners(sampler: &Sampler<'_>, paper: &Lab, patch: Patch, h: f32) -> u8 {
    let (hu, hv) = (sampler.glyphs.half_width, sampler.glyphs.half_height);
    let corners = [
        (-(hu + patch.left), -(hv + patch.up)),
        (hu + patch.right, -(hv + patch.up)),
        (hu + patch.right, hv + patch.down),
        (-(hu + patch.left), hv + patch.down),
    ];
    let d = 0.1 * h;
    corners
        .iter()
        .filter(|(s, t)| {
            let (s, t) = (0.85 * s, 0.85 * t);
            let grid: Vec<Sample> = sampler.band((s - d, s + d), (t - d, t + d));
            let same = alike(&grid, paper).count();
            !grid.is_empty() && same * 2 > grid.len()
        })
        .count() as u8
}
