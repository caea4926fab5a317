//! From a candidate's box to the image Tesseract reads: crop around the box, find the text
//! line in it again, keep only that line's ink, deskew it, scale it to a height Tesseract reads
//! well, and pad it.
//!
//! Feeding Tesseract the line's own blobs (black on white), rather than the photo's pixels,
//! removes the bib's edges, pins and background clutter that it would otherwise read as
//! extra characters.

use finishline_wire::BoundingBox;
use image::imageops::FilterType;
use image::{GrayImage, Luma, RgbImage};
use imageproc::geometric_transformations::{Interpolation, rotate_about_center};

use super::lines::{LineParams, Polarity, TextLine, group_lines, segment};

/// Height of the characters in the image given to Tesseract, in pixels.
const OCR_TEXT_HEIGHT: f32 = 40.0;

/// White border around the line in the image given to Tesseract, in pixels.
const OCR_BORDER: u32 = 16;

/// The deskewed line, black ink on white, ready for Tesseract.
#[derive(Debug)]
pub(crate) struct LineImage {
    pub image: GrayImage,
    /// The skew that was removed, in degrees (for logs).
    pub skew_degrees: f32,
    /// How many blobs the line has.
    pub blobs: usize,
}

/// Finds the text line inside `bbox` of `photo` and renders it for OCR; `None` when the crop
/// holds no line (a candidate from another engine, or a box that is too small).
pub(crate) fn line_image(photo: &RgbImage, bbox: &BoundingBox) -> Option<LineImage> {
    let (pw, ph) = photo.dimensions();
    if bbox.w < 2 || bbox.h < 4 || bbox.x >= pw || bbox.y >= ph {
        return None;
    }
    let pad = (bbox.h as f32 * 0.4).max(6.0) as u32;
    let cx0 = bbox.x.saturating_sub(pad);
    let cy0 = bbox.y.saturating_sub(pad);
    let cx1 = (bbox.x.saturating_add(bbox.w).saturating_add(pad)).min(pw);
    let cy1 = (bbox.y.saturating_add(bbox.h).saturating_add(pad)).min(ph);
    let crop = image::imageops::crop_imm(photo, cx0, cy0, cx1 - cx0, cy1 - cy0).to_image();
    let gray = image::imageops::grayscale(&crop);

    let box_h = bbox.h as f32;
    let params = LineParams {
        block_radius: (box_h * 0.6).max(8.0) as u32,
        contrast: 15,
        min_height: (box_h * 0.25).max(6.0) as u32,
        max_height: (box_h * 1.3) as u32 + 4,
    };
    // The candidate's box, in crop coordinates.
    let inner = (
        bbox.x - cx0,
        bbox.y - cy0,
        bbox.x - cx0 + bbox.w,
        bbox.y - cy0 + bbox.h,
    );
    let mut best: Option<(u64, TextLine, GrayImage)> = None;
    for polarity in Polarity::BOTH {
        let seg = segment(&gray, polarity, &params);
        for line in group_lines(&seg.blobs, polarity) {
            let overlap = intersection(inner, (line.x0, line.y0, line.x1 + 1, line.y1 + 1));
            if overlap == 0 || best.as_ref().is_some_and(|(o, _, _)| *o >= overlap) {
                continue;
            }
            let mut ink = GrayImage::from_pixel(gray.width(), gray.height(), Luma([255]));
            for blob in &line.blobs {
                for y in blob.y0..=blob.y1 {
                    for x in blob.x0..=blob.x1 {
                        if seg.labels.get_pixel(x, y)[0] == blob.label {
                            ink.put_pixel(x, y, Luma([0]));
                        }
                    }
                }
            }
            best = Some((overlap, line, ink));
        }
    }
    let (_, line, ink) = best?;
    let deskewed = if line.angle.abs() > 0.005 {
        rotate_about_center(&ink, -line.angle, Interpolation::Bilinear, Luma([255]))
    } else {
        ink
    };
    let (tx0, ty0, tx1, ty1) = ink_bounds(&deskewed)?;
    let tight = image::imageops::crop_imm(&deskewed, tx0, ty0, tx1 - tx0 + 1, ty1 - ty0 + 1);
    let scale = (OCR_TEXT_HEIGHT / (ty1 - ty0 + 1) as f32).clamp(0.2, 6.0);
    let sw = (((tx1 - tx0 + 1) as f32 * scale).round() as u32).max(1);
    let sh = (((ty1 - ty0 + 1) as f32 * scale).round() as u32).max(1);
    let scaled = image::imageops::resize(&tight.to_image(), sw, sh, FilterType::Triangle);
    let mut padded = GrayImage::from_pixel(sw + 2 * OCR_BORDER, sh + 2 * OCR_BORDER, Luma([255]));
    image::imageops::replace(
        &mut padded,
        &scaled,
        i64::from(OCR_BORDER),
        i64::from(OCR_BORDER),
    );
    Some(LineImage {
        image: padded,
        skew_degrees: line.angle.to_degrees(),
        blobs: line.blobs.len(),
    })
}

/// The area shared by two half-open boxes `(x0, y0, x1, y1)`.
fn intersection(a: (u32, u32, u32, u32), b: (u32, u32, u32, u32)) -> u64 {
    let w = a.2.min(b.2).saturating_sub(a.0.max(b.0));
    let h = a.3.min(b.3).saturating_sub(a.1.max(b.1));
    u64::from(w) * u64::from(h)
}

/// The inclusive box of the dark pixels, if any.
fn ink_bounds(image: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in image.enumerate_pixels() {
        if p[0] < 128 {
            bounds = Some(match bounds {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn a_skewed_line_comes_out_level_black_on_white_and_padded() {
        let slope = -0.15_f32;
        let mut photo = RgbImage::from_pixel(500, 300, Rgb([250, 240, 200]));
        for k in 0..4u32 {
            let x0 = 100 + k * 50;
            let y0 = (150.0 + slope * (x0 as f32 - 100.0)) as u32;
            for y in y0..y0 + 40 {
                for x in x0..x0 + 18 {
                    photo.put_pixel(x, y, Rgb([10, 10, 10]));
                }
            }
        }
        let bbox = BoundingBox {
            x: 100,
            y: 150 - 23,
            w: 168,
            h: 40 + 23,
        };
        let line = line_image(&photo, &bbox).expect("a line");
        assert_eq!(line.blobs, 4);
        assert!(
            (line.skew_degrees - slope.atan().to_degrees()).abs() < 1.0,
            "{}",
            line.skew_degrees
        );
        let (x0, y0, x1, y1) = ink_bounds(&line.image).unwrap();
        assert_eq!((x0, y0), (OCR_BORDER, OCR_BORDER));
        assert_eq!(line.image.width() - 1 - x1, OCR_BORDER);
        assert_eq!(line.image.height() - 1 - y1, OCR_BORDER);
        // Level: the skewed line's box is 168×63 (ratio 2.7); deskewed it is about 170×42.
        let ratio = (x1 - x0 + 1) as f32 / (y1 - y0 + 1) as f32;
        assert!(ratio > 3.6, "{ratio}");
        // The bars stay separate after deskewing: count dark runs along the middle row.
        let mid = (y0 + y1) / 2;
        let mut runs = 0;
        let mut inside = false;
        for x in 0..line.image.width() {
            let dark = line.image.get_pixel(x, mid)[0] < 128;
            if dark && !inside {
                runs += 1;
            }
            inside = dark;
        }
        assert_eq!(runs, 4);
    }

    #[test]
    fn a_box_outside_the_photo_or_over_a_blank_area_gives_no_line() {
        let photo = RgbImage::from_pixel(200, 100, Rgb([128, 128, 128]));
        let outside = BoundingBox {
            x: 500,
            y: 10,
            w: 50,
            h: 20,
        };
        assert!(line_image(&photo, &outside).is_none());
        let blank = BoundingBox {
            x: 10,
            y: 10,
            w: 80,
            h: 30,
        };
        assert!(line_image(&photo, &blank).is_none());
    }
}
