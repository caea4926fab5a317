//! Where a photo's bib numbers are: a small convolutional network (`bib_map.onnx`, about
//! 70,000 weights, trained by `tests/recognition/train_bib_map.py` on the tuning and training
//! splits, never on held-out fonts or photographs; half of its photos with their signs turned
//! up to ±20°, as real signs stand in photos) that maps the photo, scaled to 640 pixels on its
//! long side, to the probability that each 4 × 4 cell lies on the digits of a bib.
//!
//! PP-OCR's detector reads every line of text and misses many bibs whose digits are 10–35
//! pixels tall at its scale (docs/recognition.md); a look at 1280 pixels would find two thirds
//! of them but costs about 120 ms more per photo. The map costs about 10 ms and points at the
//! bibs, so `mod.rs` looks again only there, at full resolution (`closer_look`).

use image::RgbImage;
use ort::session::Session;

use super::detect::{planes, resize_rgb, scaled_to_32};
use super::session::run_model;
use crate::MediaError;
use crate::worn::Glyphs;

/// The network, embedded: it is part of this crate's code, not a download.
pub(crate) static MODEL: &[u8] = include_bytes!("bib_map.onnx");
/// The photo is scaled to this long side (sides rounded to multiples of 32).
pub(crate) const LONG_SIDE: u32 = 640;
/// The map is this many times smaller than the network's input.
const STRIDE: u32 = 4;
/// A cell belongs to a bib's digits above this probability.
const THRESHOLD: f32 = 0.5;

/// Where the map sees one bib's digits, in photo pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BibRegion {
    /// `[x0, y0, x1, y1]` around the cells above the threshold.
    pub bounds: [f32; 4],
    /// The highest probability inside.
    pub peak: f32,
}

impl BibRegion {
    pub(crate) fn center(&self) -> [f32; 2] {
        let [x0, y0, x1, y1] = self.bounds;
        [(x0 + x1) / 2.0, (y0 + y1) / 2.0]
    }
}

/// The map of one photo: per cell, the probability that it lies on a bib's digits.
pub(crate) struct BibMap {
    probability: Vec<f32>,
    width: usize,
    height: usize,
    /// Photo pixels per cell, across and down.
    scale: [f32; 2],
}

impl BibMap {
    /// The bib regions, most probable first.
    pub(crate) fn regions(&self) -> Vec<BibRegion> {
        regions(&self.probability, self.width, self.height, self.scale)
    }

    /// How surely the map sees a bib's digits under `glyphs`: the mean probability at 7 × 5
    /// points spread over the glyphs' frame (90% of its width, 80% of its height, so a box a
    /// little larger than its digits still samples them).
    pub(crate) fn under(&self, glyphs: &Glyphs) -> f32 {
        let cell = |v: f32, scale: f32, cells: usize| {
            ((v / scale).floor().max(0.0) as usize).min(cells - 1)
        };
        let mut sum = 0.0;
        for i in 0..7 {
            for j in 0..5 {
                let s = (i as f32 / 3.0 - 1.0) * 0.9 * glyphs.half_width;
                let t = (j as f32 / 2.0 - 1.0) * 0.8 * glyphs.half_height;
                let [x, y] = glyphs.at(s, t);
                let (cx, cy) = (
                    cell(x, self.scale[0], self.width),
                    cell(y, self.scale[1], self.height),
                );
                sum += self.probability[cy * self.width + cx];
            }
        }
        sum / 35.0
    }
}

/// The bib map of a photo.
///
/// # Errors
/// `EngineUnavailable` when ONNX Runtime fails; `Corrupt` when the photo cannot be scaled.
pub(crate) fn bib_map(session: &mut Session, image: &RgbImage) -> Result<BibMap, MediaError> {
    let (width, height) = (image.width(), image.height());
    let ratio = LONG_SIDE as f32 / width.max(height) as f32;
    let (input_width, input_height) = scaled_to_32(width, height, ratio);
    let resized = resize_rgb(image, input_width, input_height)?;
    let input = planes(&resized, [0, 1, 2], 255.0, 0.5);
    let shape = vec![1, 3, input_height as usize, input_width as usize];
    run_model(session, "bib map", shape, input, |shape, logits| {
        let (map_height, map_width) = match *shape {
            [1, 1, h, w] if h > 0 && w > 0 => (h as usize, w as usize),
            _ => return Err(format!("unexpected output shape {shape:?}")),
        };
        if map_width * STRIDE as usize != input_width as usize {
            return Err(format!(
                "map {map_width} wide for an input {input_width} wide"
            ));
        }
        Ok(BibMap {
            probability: logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())).collect(),
            width: map_width,
            height: map_height,
            scale: [
                width as f32 / map_width as f32,
                height as f32 / map_height as f32,
            ],
        })
    })
}

/// The 4-connected groups of cells above the threshold, as boxes scaled by `scale`.
fn regions(probability: &[f32], width: usize, height: usize, scale: [f32; 2]) -> Vec<BibRegion> {
    let mut seen = vec![false; probability.len()];
    let mut found = Vec::new();
    let mut stack = Vec::new();
    for start in 0..probability.len() {
        if seen[start] || probability[start] <= THRESHOLD {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let mut peak = 0f32;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            peak = peak.max(probability[i]);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < width).then(|| i + 1),
                (y > 0).then(|| i - width),
                (y + 1 < height).then(|| i + width),
            ];
            for j in neighbours.into_iter().flatten() {
                if !seen[j] && probability[j] > THRESHOLD {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        found.push(BibRegion {
            bounds: [
                x0 as f32 * scale[0],
                y0 as f32 * scale[1],
                (x1 + 1) as f32 * scale[0],
                (y1 + 1) as f32 * scale[1],
            ],
            peak,
        });
    }
    found.sort_by(|a, b| b.peak.total_cmp(&a.peak));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_above_the_threshold_group_into_one_box_per_bib() {
        // 6 × 4 map, two groups: a 2 × 2 block (peak 0.9) and one cell at the right edge (0.6).
        #[rustfmt::skip]
        let map = [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.7, 0.9, 0.0, 0.0, 0.6,
            0.0, 0.6, 0.8, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.4, 0.0,
        ];
        let found = regions(&map, 6, 4, [10.0, 5.0]);
        assert_eq!(
            found,
            vec![
                BibRegion {
                    bounds: [10.0, 5.0, 30.0, 15.0],
                    peak: 0.9
                },
                BibRegion {
                    bounds: [50.0, 5.0, 60.0, 10.0],
                    peak: 0.6
                },
            ]
        );
        assert_eq!(found[0].center(), [20.0, 10.0]);
    }

    #[test]
    fn a_number_is_scored_by_the_map_under_its_glyphs_only() {
        // 8 × 4 cells of 10 × 10 pixels; the left half of rows 1–2 is a bib's digits.
        let mut probability = vec![0.0; 32];
        for y in 1..3 {
            for x in 0..4 {
                probability[y * 8 + x] = 1.0;
            }
        }
        let map = BibMap {
            probability,
            width: 8,
            height: 4,
            scale: [10.0, 10.0],
        };
        let glyphs = |corners| Glyphs::from_corners(corners);
        let on = glyphs([[2.0, 11.0], [38.0, 11.0], [38.0, 29.0], [2.0, 29.0]]);
        let off = glyphs([[42.0, 11.0], [78.0, 11.0], [78.0, 29.0], [42.0, 29.0]]);
        let half = glyphs([[22.0, 11.0], [58.0, 11.0], [58.0, 29.0], [22.0, 29.0]]);
        assert_eq!(map.under(&on), 1.0);
        assert_eq!(map.under(&off), 0.0);
        assert!(
            (0.3..0.7).contains(&map.under(&half)),
            "{}",
            map.under(&half)
        );
        // A box reaching past the photo samples its edge cells, never outside the map.
        let outside = glyphs([[-50.0, -50.0], [150.0, -50.0], [150.0, 90.0], [-50.0, 90.0]]);
        assert!((0.0..=1.0).contains(&map.under(&outside)));
    }

    #[test]
    fn a_map_below_the_threshold_has_no_bib() {
        assert!(regions(&[0.1, 0.5, 0.2, 0.0], 2, 2, [4.0, 4.0]).is_empty());
    }
}
