//! Distractors turned about their centre, for a robustness check (`RaceGenerator::
//! with_distractor_tilt`): the generator's signs, plates and vehicles otherwise stand exactly
//! upright while its bibs lean, so an engine may learn "upright" as "not a bib". Real signs
//! tilt in a photo and real bibs are often upright; tilting the distractors measures how much
//! an engine's refusals owe to the generator's habit.
//!
//! A sign is drawn as usual, the pixels it changed are lifted off the photo, and they are
//! laid back turned by the angle (bilinear, their coverage as alpha). The truth's text box
//! becomes the box around the turned text.

use image::{RgbImage, imageops};
use rand::rngs::StdRng;

use super::distractors::Sign;
use super::{BibBox, Distractor};

/// Reads a tilt option's value: an angle of 0–90 degrees (the generator's and the
/// benchmark's `--tilt-distractors`).
///
/// # Errors
/// A message naming the text when it is no number in that range.
pub fn parse_tilt(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(v) if (0.0..=90.0).contains(&v) => Ok(v),
        _ => Err(format!("`{text}` is not an angle of 0–90 degrees")),
    }
}

/// Draws `sign` with its top-left at (x, y), turned by `degrees` (clockwise on screen) about
/// the centre of its box with poles.
pub(crate) fn draw_tilted(
    sign: &Sign,
    rng: &mut StdRng,
    image: &mut RgbImage,
    x: f32,
    y: f32,
    degrees: f32,
) -> Distractor {
    let (width, height) = image.dimensions();
    let [x0, y0, x1, y1] = sign.with_poles(x, y);
    let clamp = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let (rx0, ry0) = (clamp(x0.floor(), width), clamp(y0.floor(), height));
    let (rx1, ry1) = (clamp(x1.ceil(), width), clamp(y1.ceil(), height));
    let (region_w, region_h) = (rx1 - rx0, ry1 - ry0);
    let before = imageops::crop_imm(image, rx0, ry0, region_w, region_h).to_image();
    let mut distractor = sign.draw(rng, image, x, y);
    let drawn = imageops::crop_imm(image, rx0, ry0, region_w, region_h).to_image();
    // Put the photo back as it was, then lay the turned sign onto it.
    imageops::replace(image, &before, i64::from(rx0), i64::from(ry0));
    let center = [(x0 + x1) / 2.0, (y0 + y1) / 2.0];
    let (sin, cos) = degrees.to_radians().sin_cos();
    let turn = |[px, py]: [f32; 2]| {
        let (dx, dy) = (px - center[0], py - center[1]);
        [
            center[0] + cos * dx - sin * dy,
            center[1] + sin * dx + cos * dy,
        ]
    };
    let corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(turn);
    let (bx0, by0, bx1, by1) = bounds(&corners);
    // What the sign changed, and its colour there, at a point of the untilted region.
    let sample = |sx: f32, sy: f32| -> Option<(f32, [f32; 3])> {
        let (fx, fy) = (sx - rx0 as f32 - 0.5, sy - ry0 as f32 - 0.5);
        if fx < -0.5 || fy < -0.5 || fx > region_w as f32 - 0.5 || fy > region_h as f32 - 0.5 {
            return None;
        }
        let (ix, iy) = (fx.floor(), fy.floor());
        let (ax, ay) = (fx - ix, fy - iy);
        let mut coverage = 0.0;
        let mut colour = [0.0f32; 3];
        for (oy, wy) in [(0, 1.0 - ay), (1, ay)] {
            for (ox, wx) in [(0, 1.0 - ax), (1, ax)] {
                let (cx, cy) = (ix as i64 + ox, iy as i64 + oy);
                if cx < 0 || cy < 0 || cx >= i64::from(region_w) || cy >= i64::from(region_h) {
                    continue;
                }
                let pixel = drawn.get_pixel(cx as u32, cy as u32).0;
                if pixel != before.get_pixel(cx as u32, cy as u32).0 {
                    let weight = wx * wy;
                    coverage += weight;
                    for c in 0..3 {
                        colour[c] += weight * f32::from(pixel[c]);
                    }
                }
            }
        }
        (coverage > 0.0).then(|| (coverage, colour.map(|v| v / coverage)))
    };
    let (px0, py0) = (clamp(bx0.floor(), width), clamp(by0.floor(), height));
    let (px1, py1) = (clamp(bx1.ceil(), width), clamp(by1.ceil(), height));
    for py in py0..py1 {
        for px in px0..px1 {
            // The point of the untilted sign that lands here: turned back by the angle.
            let (dx, dy) = (px as f32 + 0.5 - center[0], py as f32 + 0.5 - center[1]);
            let (sx, sy) = (
                center[0] + cos * dx + sin * dy,
                center[1] - sin * dx + cos * dy,
            );
            if let Some((alpha, colour)) = sample(sx, sy) {
                let old = image.get_pixel(px, py).0;
                let mixed = std::array::from_fn(|c| {
                    (alpha * colour[c] + (1.0 - alpha) * f32::from(old[c])).round() as u8
                });
                image.put_pixel(px, py, image::Rgb(mixed));
            }
        }
    }
    let b = distractor.bbox;
    let text = [
        [b.x as f32, b.y as f32],
        [(b.x + b.w) as f32, b.y as f32],
        [(b.x + b.w) as f32, (b.y + b.h) as f32],
        [b.x as f32, (b.y + b.h) as f32],
    ]
    .map(turn);
    let (tx0, ty0, tx1, ty1) = bounds(&text);
    let (tx0, ty0) = (clamp(tx0, width), clamp(ty0, height));
    let (tx1, ty1) = (clamp(tx1, width), clamp(ty1, height));
    distractor.bbox = BibBox {
        x: tx0,
        y: ty0,
        w: tx1.saturating_sub(tx0),
        h: ty1.saturating_sub(ty0),
    };
    distractor
}

fn bounds(points: &[[f32; 2]; 4]) -> (f32, f32, f32, f32) {
    points.iter().fold(
        (
            f32::INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ),
        |(x0, y0, x1, y1), p| (x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1])),
    )
}
