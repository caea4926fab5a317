//! Where a photo's bib numbers are: a small convolutional network (`bib_map.onnx`, about
//! 70,000 weights, trained by `tests/recognition/train_bib_map.py` on the tuning split only)
//! that maps the photo, scaled to 640 pixels on its long side, to the probability that each
//! 4 × 4 cell lies on the digits of a bib.
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

/// The network, embedded: it is part of this crate's code, not a download.
pub(crate) static MODEL: &[u8] = include_bytes!("bib_map.onnx");
/// The photo is scaled to this long side (sides rounded to multiples of 32).
const LONG_SIDE: u32 = 640;
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

/// The bib regions of a photo, most probable first.
///
/// # Errors
/// `EngineUnavailable` when ONNX Runtime fails; `Corrupt` when the photo cannot be scaled.
pub(crate) fn bib_regions(
    session: &mut Session,
    image: &RgbImage,
) -> Result<Vec<BibRegion>, MediaError> {
    let (width, height) = (image.width(), image.height());
    let ratio = LONG_SIDE as f32 / width.max(height) as f32;
    let (input_width, input_height) = scaled_to_32(width, height, ratio);
    let resized = resize_rgb(image, input_width, input_height)?;
    let input = planes(&resized, [0, 1, 2], 255.0, 0.5);
    let shape = vec![1, 3, input_height as usize, input_width as usize];
    run_model(session, "bib map", shape, input, |shape, logits| {
        let (map_height, map_width) = match *shape {
            [1, 1, h, w] => (h as usize, w as usize),
            _ => return Err(format!("unexpected output shape {shape:?}")),
        };
        if map_width * STRIDE as usize != input_width as usize {
            return Err(format!(
                "map {map_width} wide for an input {input_width} wide"
            ));
        }
        let probability: Vec<f32> = logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())).collect();
        let scale = [
            width as f32 / map_width as f32,
            height as f32 / map_height as f32,
        ];
        Ok(regions(&probability, map_width, map_height, scale))
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
    fn a_map_below_the_threshold_has_no_bib() {
        assert!(regions(&[0.1, 0.5, 0.2, 0.0], 2, 2, [4.0, 4.0]).is_empty());
    }
}
