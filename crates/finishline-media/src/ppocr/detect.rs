//! Text detection with the PP-OCRv4 DB model: the photo scaled to a long side of 864 (sides
//! rounded to multiples of 32), the model's per-pixel text probability, then the DB
//! post-processing of PaddleOCR: threshold 0.3, a 2×2 dilation, outer contours, each region's
//! minimum-area rectangle, its mean probability as the box score (kept from 0.5), and the
//! rectangle grown by `area × 1.6 / perimeter` ("unclip") so the crop holds the whole glyphs.
//! Boxes come back as quadrilaterals in photo pixels, ordered top-left, top-right,
//! bottom-right, bottom-left, with the side nearest the horizontal as the top, so a rotated
//! bib is cropped upright and a single tall digit is not turned on its side.

use fast_image_resize::images::Image;
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use image::{GrayImage, Luma, RgbImage};
use imageproc::contours::{BorderType, find_contours};
use imageproc::geometry::convex_hull;
use imageproc::point::Point;
use ort::session::Session;

use super::session::run_model;
use crate::{FoundBy, MediaError};

/// Long side of the image the detector sees. Measured on the generated sets (100 photos each,
/// one thread): 960 read 100% normal / 100% small at ~375 ms per photo; 864 read 100% / 99% at
/// ~300 ms (the ≤ 350 ms budget); 736 misses small bibs.
pub const DETECTION_LONG_SIDE: u32 = 864;
const BINARY_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
const UNCLIP_RATIO: f32 = 1.6;
const MIN_SIDE: f32 = 3.0;
const MAX_CANDIDATES: usize = 1000;

/// A corner of a box, in photo pixels.
pub type Corner = [f32; 2];

/// A text line found by the detector.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBox {
    /// Top-left, top-right, bottom-right, bottom-left, in photo pixels.
    pub corners: [Corner; 4],
    /// Mean text probability inside the box before unclipping, 0–1.
    pub score: f32,
    /// How the line was found.
    pub found_by: FoundBy,
    /// How surely the bib map sees a bib's digits under the line's glyphs (0–1,
    /// `bib_map.rs`); `None` until measured.
    pub bib_map: Option<f32>,
}

impl TextBox {
    /// Length of the top side.
    pub fn width(&self) -> f32 {
        distance(self.corners[0], self.corners[1])
    }

    /// Length of the left side.
    pub fn height(&self) -> f32 {
        distance(self.corners[0], self.corners[3])
    }

    /// The box before unclipping: the glyphs themselves, undoing `area × ratio / perimeter`
    /// (the smaller root of `(4r + 8)g² − (2r + 2)(W + H)g + rWH = 0` for the growth `g`).
    pub fn core(&self) -> [Corner; 4] {
        let (w, h) = (self.width(), self.height());
        let r = UNCLIP_RATIO;
        let (sum, product) = (w + h, w * h);
        let discriminant = ((2.0 * r + 2.0) * sum).powi(2) - 4.0 * (4.0 * r + 8.0) * r * product;
        let grow = ((2.0 * r + 2.0) * sum - discriminant.max(0.0).sqrt()) / (2.0 * (4.0 * r + 8.0));
        let grow = grow.clamp(0.0, (w.min(h) / 2.0 - 1.0).max(0.0));
        let [tl, tr, _, bl] = self.corners;
        let u = [(tr[0] - tl[0]) / w.max(1.0), (tr[1] - tl[1]) / w.max(1.0)];
        let v = [(bl[0] - tl[0]) / h.max(1.0), (bl[1] - tl[1]) / h.max(1.0)];
        let c = self.center();
        let (hw, hh) = (w / 2.0 - grow, h / 2.0 - grow);
        let at = |su: f32, sv: f32| {
            [
                c[0] + su * hw * u[0] + sv * hh * v[0],
                c[1] + su * hw * u[1] + sv * hh * v[1],
            ]
        };
        [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
    }

    /// The box the detector would give around a lone upright glyph `[x0, y0, x1, y1]`: grown
    /// by `area × ratio / perimeter` on each side, so that `core` gives the glyph back.
    pub fn around_glyph([x0, y0, x1, y1]: [f32; 4], score: f32) -> Self {
        let (w, h) = (x1 - x0, y1 - y0);
        let grow = w * h * UNCLIP_RATIO / (2.0 * (w + h)).max(1.0);
        let (a, b, c, d) = (x0 - grow, y0 - grow, x1 + grow, y1 + grow);
        Self {
            corners: [[a, b], [c, b], [c, d], [a, d]],
            score,
            found_by: FoundBy::LoneGlyph,
            bib_map: None,
        }
    }

    pub fn center(&self) -> Corner {
        let [sx, sy] = self
            .corners
            .iter()
            .fold([0.0, 0.0], |acc, c| [acc[0] + c[0], acc[1] + c[1]]);
        [sx / 4.0, sy / 4.0]
    }
}

pub(crate) fn distance(a: Corner, b: Corner) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

pub(crate) fn resize_rgb(
    image: &RgbImage,
    width: u32,
    height: u32,
) -> Result<RgbImage, MediaError> {
    let mut dst = Image::new(width, height, PixelType::U8x3);
    Resizer::new()
        .resize(image, &mut dst, &ResizeOptions::new())
        .map_err(|err| MediaError::Corrupt(format!("cannot resize the image: {err}")))?;
    RgbImage::from_raw(width, height, dst.into_vec())
        .ok_or_else(|| MediaError::Corrupt("resize produced a wrong buffer".to_owned()))
}

/// Photos smaller than the detector's size are enlarged at most this much (a thumbnail's text
/// is not made readable by blowing it up, and the detector's cost grows with the area).
const MAX_UPSCALE: f32 = 2.0;

/// Size of the detector's input for a photo: long side 864 (small photos enlarged at most
/// twice), both sides multiples of 32.
fn input_size(width: u32, height: u32) -> (u32, u32) {
    let ratio = (DETECTION_LONG_SIDE as f32 / width.max(height) as f32).min(MAX_UPSCALE);
    scaled_to_32(width, height, ratio)
}

/// `width` × `height` scaled by `ratio`, each side rounded to a multiple of 32 (at least 32):
/// the input sizes the detector and the bib map take.
pub(crate) fn scaled_to_32(width: u32, height: u32, ratio: f32) -> (u32, u32) {
    let round32 = |side: u32| (((side as f32 * ratio) / 32.0).round() as u32 * 32).max(32);
    (round32(width), round32(height))
}

/// A model's input from an image: one plane per channel, channel `c` taken from the pixels'
/// channel `order[c]`, each value `v / divisor - minus`.
pub(crate) fn planes(image: &RgbImage, order: [usize; 3], divisor: f32, minus: f32) -> Vec<f32> {
    let plane = (image.width() * image.height()) as usize;
    let mut input = vec![0f32; 3 * plane];
    for (i, pixel) in image.pixels().enumerate() {
        for (channel, &from) in order.iter().enumerate() {
            input[channel * plane + i] = f32::from(pixel[from]) / divisor - minus;
        }
    }
    input
}

/// Finds the text lines of a photo.
pub(crate) fn detect_text(
    session: &mut Session,
    image: &RgbImage,
) -> Result<Vec<TextBox>, MediaError> {
    detect_text_at(session, image, input_size(image.width(), image.height()))
}

/// Finds the text lines of an image scaled to `width` × `height` (multiples of 32) for the
/// detector; the boxes are in the image's own pixels.
pub(crate) fn detect_text_at(
    session: &mut Session,
    image: &RgbImage,
    (width, height): (u32, u32),
) -> Result<Vec<TextBox>, MediaError> {
    let resized = resize_rgb(image, width, height)?;
    // PaddleOCR models are trained on BGR, scaled to −1…1.
    let input = planes(&resized, [2, 1, 0], 127.5, 1.0);
    let shape = vec![1, 3, height as usize, width as usize];
    run_model(
        session,
        "ppocr detection",
        shape,
        input,
        |shape, probabilities| {
            let (map_height, map_width) = match *shape {
                [1, 1, h, w] => (h as u32, w as u32),
                _ => return Err(format!("unexpected output shape {shape:?}")),
            };
            let map = ProbabilityMap {
                width: map_width,
                height: map_height,
                values: probabilities,
            };
            let scale = [
                image.width() as f32 / map_width as f32,
                image.height() as f32 / map_height as f32,
            ];
            Ok(boxes_from_map(&map, scale, image.width(), image.height()))
        },
    )
}

/// The detector's output: text probability per pixel, row-major.
pub(crate) struct ProbabilityMap<'a> {
    pub width: u32,
    pub height: u32,
    pub values: &'a [f32],
}

impl ProbabilityMap<'_> {
    fn at(&self, x: u32, y: u32) -> f32 {
        self.values[(y * self.width + x) as usize]
    }
}

/// A rotated rectangle: centre, unit axis `u` (the one nearest the horizontal, pointing right),
/// `v` = `u` turned 90° (pointing down), and half extents along each.
#[derive(Debug, Clone, Copy)]
struct RotatedRect {
    center: [f32; 2],
    u: [f32; 2],
    half_u: f32,
    half_v: f32,
}

impl RotatedRect {
    fn v(&self) -> [f32; 2] {
        [-self.u[1], self.u[0]]
    }

    fn corners(&self) -> [Corner; 4] {
        let (c, u, v) = (self.center, self.u, self.v());
        let at = |su: f32, sv: f32| {
            [
                c[0] + su * self.half_u * u[0] + sv * self.half_v * v[0],
                c[1] + su * self.half_u * u[1] + sv * self.half_v * v[1],
            ]
        };
        [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
    }

    fn contains(&self, x: f32, y: f32) -> bool {
        let (dx, dy) = (x - self.center[0], y - self.center[1]);
        let v = self.v();
        (dx * self.u[0] + dy * self.u[1]).abs() <= self.half_u
            && (dx * v[0] + dy * v[1]).abs() <= self.half_v
    }
}

/// The smallest rectangle around a convex polygon (rotating calipers over its edges).
fn min_area_rect(hull: &[Point<i32>]) -> Option<RotatedRect> {
    if hull.is_empty() {
        return None;
    }
    let points: Vec<[f32; 2]> = hull.iter().map(|p| [p.x as f32, p.y as f32]).collect();
    let mut best: Option<(f32, RotatedRect)> = None;
    let edges = points.len().max(2);
    for i in 0..edges {
        let a = points[i % points.len()];
        let b = points[(i + 1) % points.len()];
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let length = (ex * ex + ey * ey).sqrt();
        let u = if length > 0.0 {
            [ex / length, ey / length]
        } else {
            [1.0, 0.0]
        };
        let v = [-u[1], u[0]];
        let (mut min_u, mut max_u, mut min_v, mut max_v) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &points {
            let pu = p[0] * u[0] + p[1] * u[1];
            let pv = p[0] * v[0] + p[1] * v[1];
            min_u = min_u.min(pu);
            max_u = max_u.max(pu);
            min_v = min_v.min(pv);
            max_v = max_v.max(pv);
        }
        // Pixel centres: a region one pixel wide still covers one pixel.
        let (extent_u, extent_v) = (max_u - min_u + 1.0, max_v - min_v + 1.0);
        let area = extent_u * extent_v;
        if best.as_ref().is_none_or(|(best_area, _)| area < *best_area) {
            let (cu, cv) = ((min_u + max_u) / 2.0, (min_v + max_v) / 2.0);
            let rect = RotatedRect {
                center: [cu * u[0] + cv * v[0], cu * u[1] + cv * v[1]],
                u,
                half_u: extent_u / 2.0,
                half_v: extent_v / 2.0,
            };
            best = Some((area, upright(rect)));
        }
    }
    best.map(|(_, rect)| rect)
}

/// The same rectangle with `u` the axis nearest the horizontal, pointing right.
fn upright(rect: RotatedRect) -> RotatedRect {
    let RotatedRect {
        center,
        u,
        half_u,
        half_v,
    } = rect;
    let (mut u, mut half_u, mut half_v) = (u, half_u, half_v);
    if u[0].abs() < u[1].abs() {
        // v is nearer the horizontal: swap the axes.
        u = [-u[1], u[0]];
        std::mem::swap(&mut half_u, &mut half_v);
    }
    if u[0] < 0.0 {
        u = [-u[0], -u[1]];
    }
    RotatedRect {
        center,
        u,
        half_u,
        half_v,
    }
}

/// The whole pixels the corners cover along one axis (0 = x, 1 = y), clamped to `0..size`.
fn span(corners: &[Corner; 4], axis: usize, size: u32) -> (u32, u32) {
    let clamp = |v: f32| v.clamp(0.0, (size - 1) as f32) as u32;
    let low = corners.iter().map(|c| c[axis]).fold(f32::MAX, f32::min);
    let high = corners.iter().map(|c| c[axis]).fold(f32::MIN, f32::max);
    (clamp(low.floor()), clamp(high.ceil()))
}

/// Mean probability inside the rectangle (PaddleOCR's "fast" box score).
fn box_score(map: &ProbabilityMap<'_>, rect: &RotatedRect) -> f32 {
    let corners = rect.corners();
    let (x0, x1) = span(&corners, 0, map.width);
    let (y0, y1) = span(&corners, 1, map.height);
    let (mut sum, mut count) = (0.0f32, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if rect.contains(x as f32, y as f32) {
                sum += map.at(x, y);
                count += 1;
            }
        }
    }
    if count == 0 { 0.0 } else { sum / count as f32 }
}

/// DB post-processing: probability map → text boxes in photo pixels (`scale` = photo ÷ map).
pub(crate) fn boxes_from_map(
    map: &ProbabilityMap<'_>,
    scale: [f32; 2],
    photo_width: u32,
    photo_height: u32,
) -> Vec<TextBox> {
    let (w, h) = (map.width, map.height);
    // Threshold, then a 2×2 dilation (joins glyphs split by a one-pixel gap).
    let mut bitmap = GrayImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let on = [(0, 0), (1, 0), (0, 1), (1, 1)]
                .iter()
                .any(|&(dx, dy)| x >= dx && y >= dy && map.at(x - dx, y - dy) > BINARY_THRESHOLD);
            if on {
                bitmap.put_pixel(x, y, Luma([255]));
            }
        }
    }
    let mut boxes = Vec::new();
    for contour in find_contours::<i32>(&bitmap)
        .into_iter()
        .filter(|c| c.border_type == BorderType::Outer)
        .take(MAX_CANDIDATES)
    {
        let hull = convex_hull(contour.points);
        let Some(rect) = min_area_rect(&hull) else {
            continue;
        };
        if 2.0 * rect.half_u.min(rect.half_v) < MIN_SIDE {
            continue;
        }
        let score = box_score(map, &rect);
        if score < BOX_THRESHOLD {
            continue;
        }
        let (full_u, full_v) = (2.0 * rect.half_u, 2.0 * rect.half_v);
        let grow = full_u * full_v * UNCLIP_RATIO / (2.0 * (full_u + full_v));
        let grown = RotatedRect {
            half_u: rect.half_u + grow,
            half_v: rect.half_v + grow,
            ..rect
        };
        if 2.0 * grown.half_u.min(grown.half_v) < MIN_SIDE + 2.0 {
            continue;
        }
        let max_x = photo_width as f32;
        let max_y = photo_height as f32;
        let corners = grown.corners().map(|[x, y]| {
            [
                ((x + 0.5) * scale[0]).clamp(0.0, max_x),
                ((y + 0.5) * scale[1]).clamp(0.0, max_y),
            ]
        });
        let text_box = TextBox {
            corners,
            score,
            found_by: FoundBy::Detector,
            bib_map: None,
        };
        if text_box.width() > 3.0 && text_box.height() > 3.0 {
            boxes.push(text_box);
        }
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_block_of_probability_becomes_one_upright_box_around_it() {
        // A 40×10 block of text probability, rotated by about 8°, in a 100×60 map.
        let (w, h) = (100u32, 60u32);
        let angle = 8f32.to_radians();
        let mut values = vec![0f32; (w * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let (dx, dy) = (x as f32 - 50.0, y as f32 - 30.0);
                let u = dx * angle.cos() + dy * angle.sin();
                let v = -dx * angle.sin() + dy * angle.cos();
                if u.abs() <= 20.0 && v.abs() <= 5.0 {
                    values[(y * w + x) as usize] = 0.9;
                }
            }
        }
        let map = ProbabilityMap {
            width: w,
            height: h,
            values: &values,
        };
        let boxes = boxes_from_map(&map, [2.0, 2.0], 200, 120);
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let found = &boxes[0];
        // The block is 0.9 inside; the rectangle also covers the dilation ring and the stair
        // steps of a rotated edge, about a fifth of its area, so the mean is lower.
        assert!(found.score > 0.65, "{found:?}");
        let [tl, tr, _, bl] = found.corners;
        let tilt = (tr[1] - tl[1]).atan2(tr[0] - tl[0]).to_degrees();
        assert!((tilt - 8.0).abs() < 3.0, "tilt {tilt}: {found:?}");
        assert!(
            tl[0] < tr[0] && tl[1] < bl[1],
            "corners in order: {found:?}"
        );
        // 40×10 grown by area×1.6/perimeter = 6.4 per side, times 2 for the photo.
        assert!(
            (found.width() - 2.0 * (41.0 + 12.8)).abs() < 8.0,
            "{found:?}"
        );
        assert!(
            (found.height() - 2.0 * (11.0 + 12.8)).abs() < 8.0,
            "{found:?}"
        );
    }

    #[test]
    fn the_core_of_an_unclipped_box_is_the_box_before_growing() {
        // 40×10 grown by 40×10×1.6 / (2×50) = 6.4 on every side.
        let grown = TextBox {
            corners: [[-6.4, -6.4], [46.4, -6.4], [46.4, 16.4], [-6.4, 16.4]],
            score: 0.9,
            found_by: FoundBy::Detector,
            bib_map: None,
        };
        let around = TextBox::around_glyph([0.0, 0.0, 40.0, 10.0], 0.9);
        for (a, b) in around
            .corners
            .iter()
            .flatten()
            .zip(grown.corners.iter().flatten())
        {
            assert!((a - b).abs() < 1e-3, "{around:?} against {grown:?}");
        }
        let core = grown.core();
        for (got, want) in core
            .iter()
            .zip([[0.0, 0.0], [40.0, 0.0], [40.0, 10.0], [0.0, 10.0]])
        {
            assert!(
                (got[0] - want[0]).abs() < 0.01 && (got[1] - want[1]).abs() < 0.01,
                "{core:?}"
            );
        }
    }

    #[test]
    fn a_faint_region_is_not_a_box() {
        let values = vec![0.35f32; 50 * 50];
        let map = ProbabilityMap {
            width: 50,
            height: 50,
            values: &values,
        };
        assert!(boxes_from_map(&map, [1.0, 1.0], 50, 50).is_empty());
    }
}
