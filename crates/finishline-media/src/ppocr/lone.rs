//! One-digit bibs the text detector does not see. PP-OCR's detector is trained on lines of
//! text: a single glyph gets no response until it is about 35–40 pixels tall at the detector's
//! scale (tuning seed 4: a clear "7" 20 and 30 pixels tall scored 0.00 everywhere), so 17 of
//! the 39 one-digit bibs on tuning seeds 3–5 were never found, against one in 21 of the others.
//!
//! The classical engine's blob finder (`classical::lone_glyphs`, on the photo scaled to 640
//! pixels on its long side) gives the blobs shaped like one digit with no neighbour on their
//! row. One that no detected line covers becomes a candidate line when it sits on a patch at
//! most 2.6 glyph heights tall inside a plain shirt, as a bib's number does: the shirt reaches
//! at least 0.6 glyph heights left and right of the patch and ends at least 0.7 below it, and
//! each of those bands is mostly one colour. That leaves about one candidate in five photos.
//! It is then read and judged like any line, but without the person model (`bib.rs`), which
//! scores clutter around a small blob as a person.
//!
//! Tuning seeds 3–5 and held-out seed 7 (972 legible bibs): read +10, numbers reported that
//! are not bibs +1; the search costs about 15 ms of CPU per photo (scaling 4, blobs 6,
//! patches 7).

use std::borrow::Cow;

use image::RgbImage;

use super::bib::{box_holds, glyphs_and_surroundings};
use super::detect::{TextBox, resize_rgb};
use crate::color_name::ExposureGain;

/// The blob search runs on the photo scaled to this long side (tuning seeds 3–5 and held-out
/// seed 7: as many bibs found as at the detector's 864, for about 6 ms less per photo).
const LONG_SIDE: u32 = 640;
/// Glyph heights looked for, in pixels at that scale (11–60 at the detector's): below, too
/// small to read; above, the detector sees single glyphs.
const HEIGHTS: std::ops::RangeInclusive<u32> = 8..=45;
/// The detection score given to a lone glyph's box (it enters the read's confidence).
const SCORE: f32 = 0.7;

/// Boxes around the lone glyphs on plain patches that none of `lines` covers.
pub(crate) fn lone_glyphs_on_patches(image: &RgbImage, lines: &[TextBox]) -> Vec<TextBox> {
    let covered = |[x0, y0, x1, y1]: [f32; 4]| {
        let centre = [(x0 + x1) / 2.0, (y0 + y1) / 2.0];
        lines.iter().any(|line| box_holds(line, centre))
    };
    let gain = ExposureGain::of(image);
    // Scaled in colour, then made gray by the blob finder: past the scaling, the search costs
    // the same on a 12 MP photo as on a small one.
    let (width, height) = (image.width(), image.height());
    let scale = (LONG_SIDE as f32 / width.max(height) as f32).min(1.0);
    let small = (scale < 1.0).then(|| {
        let side = |s: u32| ((s as f32 * scale).round() as u32).max(1);
        resize_rgb(image, side(width), side(height))
    });
    let small = match small {
        Some(Ok(small)) => Cow::Owned(small),
        Some(Err(err)) => {
            tracing::warn!(error = %err, "cannot scale the photo for the lone-glyph search");
            return Vec::new();
        }
        None => Cow::Borrowed(image),
    };
    let (sx, sy) = (
        width as f32 / small.width() as f32,
        height as f32 / small.height() as f32,
    );
    let found: Vec<TextBox> = crate::lone_glyphs(&small, HEIGHTS)
        .into_iter()
        .map(|[x0, y0, x1, y1]| [x0 * sx, y0 * sy, x1 * sx, y1 * sy])
        .filter(|&glyph| !covered(glyph))
        .map(|glyph| TextBox::around_glyph(glyph, SCORE))
        .filter(|text_box| alone_on_a_patch(image, gain, text_box))
        .collect();
    tracing::debug!(found = found.len(), "lone glyphs on plain patches");
    found
}

/// Whether a lone glyph sits on a patch about twice its height inside a plain shirt.
fn alone_on_a_patch(image: &RgbImage, gain: ExposureGain, text_box: &TextBox) -> bool {
    let (_, around) = glyphs_and_surroundings(image, gain, text_box);
    let Some(shape) = around.shape else {
        return false;
    };
    let side = |reach: Option<f32>, least: f32| reach.is_some_and(|reach| reach >= least);
    side(shape.left, 0.6)
        && side(shape.right, 0.6)
        && side(shape.below, 0.7)
        && shape.patch_height <= 2.6
        && shape.plain.iter().all(|&plain| plain >= 0.6)
}

#[cfg(test)]
mod tests {
    use image::Rgb;
    use imageproc::drawing::draw_filled_rect_mut;
    use imageproc::rect::Rect;

    use super::*;
    use crate::FoundBy;

    /// A 3200×2400 photo with a dark upright stroke 70 pixels tall (a "1", 19 pixels at the
    /// detector's scale): on a white bib on a red shirt that ends two heights below it, or on
    /// a plain wall.
    fn photo(on_a_bib: bool) -> RgbImage {
        let background = if on_a_bib {
            [90, 110, 90]
        } else {
            [235, 235, 230]
        };
        let mut image = RgbImage::from_pixel(3200, 2400, Rgb(background));
        if on_a_bib {
            draw_filled_rect_mut(
                &mut image,
                Rect::at(1000, 500).of_size(420, 450),
                Rgb([200, 40, 40]),
            );
            draw_filled_rect_mut(
                &mut image,
                Rect::at(1120, 660).of_size(180, 150),
                Rgb([245, 245, 240]),
            );
        }
        draw_filled_rect_mut(
            &mut image,
            Rect::at(1202, 700).of_size(16, 70),
            Rgb([20, 20, 20]),
        );
        image
    }

    #[test]
    fn a_lone_stroke_in_the_middle_of_a_bib_becomes_one_candidate_on_it() {
        let found = lone_glyphs_on_patches(&photo(true), &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].found_by, FoundBy::LoneGlyph);
        let [x, y] = found[0].center();
        assert!(
            (1195.0..1225.0).contains(&x) && (720.0..750.0).contains(&y),
            "{found:?}"
        );
    }

    #[test]
    fn a_glyph_inside_a_detected_line_is_not_added_again() {
        let line = TextBox {
            corners: [
                [1150.0, 680.0],
                [1270.0, 680.0],
                [1270.0, 790.0],
                [1150.0, 790.0],
            ],
            score: 0.8,
            found_by: FoundBy::Detector,
            bib_map: None,
        };
        assert!(lone_glyphs_on_patches(&photo(true), &[line]).is_empty());
    }

    #[test]
    fn a_lone_stroke_on_a_plain_wall_is_no_candidate() {
        assert!(lone_glyphs_on_patches(&photo(false), &[]).is_empty());
    }
}
