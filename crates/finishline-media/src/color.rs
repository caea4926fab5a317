//! Dominant colours: downscale (fast_image_resize), then k-means in CIE Lab
//! (kmeans_colors + palette), so clusters follow perceived colour rather than raw RGB.
//! Also the colours of a bib and of the shirt around it, from the bib's box.

use fast_image_resize::images::Image;
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use finishline_wire::{BoundingBox, ColorShare, Plate};
use image::RgbImage;
use kmeans_colors::{Sort, get_kmeans_hamerly};
use palette::{FromColor, IntoColor, Lab, Srgb};

use crate::color_name::{color_name, hex as hex_of};

/// Long side of the image the colours are computed on; enough for a palette, cheap for k-means.
const SAMPLE_SIDE: u32 = 256;

/// Clusters covering less than this share are dropped.
const MIN_SHARE: f32 = 0.01;

/// The `k` dominant colours of an image, most common first, shares summing to about 1.
pub fn dominant_colors(image: &RgbImage, k: usize) -> Vec<ColorShare> {
    if image.width() == 0 || image.height() == 0 || k == 0 {
        return Vec::new();
    }
    let sample = downscale(image);
    let pixels = sample.chunks_exact(3).map(|p| [p[0], p[1], p[2]]);
    let mut colors: Vec<ColorShare> = lab_clusters(pixels, k)
        .into_iter()
        .filter(|(_, share)| *share >= MIN_SHARE)
        .map(|(lab, share)| ColorShare {
            hex: hex(lab),
            share: (share * 1000.0).round() / 1000.0,
        })
        .collect();
    colors.sort_by(|a, b| b.share.total_cmp(&a.share));
    colors
}

/// Lab clusters of some pixels, largest first: (centroid, share).
fn clusters(pixels: &[[u8; 3]], k: usize) -> Vec<(Lab, f32)> {
    let mut found = lab_clusters(pixels.iter().copied(), k);
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    found
}

/// k-means (seeded, so repeatable) of some pixels in CIE Lab: (centroid, share), in
/// the order of kmeans_colors' `sort_indexed_colors`; none for no pixels.
fn lab_clusters(pixels: impl Iterator<Item = [u8; 3]>, k: usize) -> Vec<(Lab, f32)> {
    let lab: Vec<Lab> = pixels
        .map(|p| {
            Srgb::new(p[0], p[1], p[2])
                .into_format::<f32>()
                .into_linear()
                .into_color()
        })
        .collect();
    if lab.is_empty() {
        return Vec::new();
    }
    let result = get_kmeans_hamerly(k.min(lab.len()), 20, 0.5, false, &lab, 0x5eed);
    Lab::sort_indexed_colors(&result.centroids, &result.indices)
        .into_iter()
        .map(|c| (c.centroid, c.percentage))
        .collect()
}

fn lab_distance(a: &Lab, b: &Lab) -> f32 {
    ((a.l - b.l).powi(2) + (a.a - b.a).powi(2) + (a.b - b.b).powi(2)).sqrt()
}

fn hex(lab: Lab) -> String {
    let rgb: Srgb<u8> = Srgb::from_linear(palette::LinSrgb::from_color(lab));
    hex_of([rgb.red, rgb.green, rgb.blue])
}

/// Pixels inside `outer` and outside `inner` (both clipped to the image), every `step`-th.
fn ring(image: &RgbImage, outer: [i64; 4], inner: Option<[i64; 4]>, step: usize) -> Vec<[u8; 3]> {
    let (w, h) = (i64::from(image.width()), i64::from(image.height()));
    let [x0, y0, x1, y1] = [
        outer[0].max(0),
        outer[1].max(0),
        outer[2].min(w),
        outer[3].min(h),
    ];
    let mut pixels = Vec::new();
    for y in (y0..y1).step_by(step) {
        for x in (x0..x1).step_by(step) {
            if let Some([ix0, iy0, ix1, iy1]) = inner
                && x >= ix0
                && x < ix1
                && y >= iy0
                && y < iy1
            {
                continue;
            }
            pixels.push(image.get_pixel(x as u32, y as u32).0);
        }
    }
    pixels
}

fn grown(b: &BoundingBox, by_x: f32, by_y: f32) -> [i64; 4] {
    let (x, y, w, h) = (b.x as f32, b.y as f32, b.w as f32, b.h as f32);
    [
        (x - by_x).floor() as i64,
        (y - by_y).floor() as i64,
        (x + w + by_x).ceil() as i64,
        (y + h + by_y).ceil() as i64,
    ]
}

/// The bib's colour and the shirt's around it, from the box of the bib's number.
///
/// The bib is the largest Lab cluster of the number's box grown by a quarter of its height
/// (paper outweighs ink). The shirt is the largest cluster of a ring from 1× to 2.5× the box
/// height around it that is not the bib's colour (ΔE ≥ 25).
pub fn bib_and_shirt_colors(
    image: &RgbImage,
    number_box: &BoundingBox,
) -> (Option<String>, Option<String>) {
    let h = number_box.h.max(1) as f32;
    let step = ((h / 24.0) as usize).max(1);
    let bib_pixels = ring(image, grown(number_box, 0.25 * h, 0.25 * h), None, step);
    let Some((bib, _)) = clusters(&bib_pixels, 3).into_iter().next() else {
        return (None, None);
    };
    let shirt_pixels = ring(
        image,
        grown(number_box, 2.5 * h, 2.5 * h),
        Some(grown(number_box, 1.0 * h, 1.0 * h)),
        step,
    );
    let shirt = clusters(&shirt_pixels, 4)
        .into_iter()
        .find(|(color, _)| lab_distance(color, &bib) >= 25.0)
        .map(|(color, _)| hex(color));
    (Some(hex(bib)), shirt)
}

/// Gives each plate that has no colours yet (engines that do not measure the bib's patch,
/// such as the Tesseract fallback) its bib and shirt colours and their names, from its box.
pub fn name_plate_colors(image: &RgbImage, plates: &mut [Plate]) {
    for plate in plates.iter_mut().filter(|p| p.bib_color.is_none()) {
        let (bib, shirt) = bib_and_shirt_colors(image, &plate.bounding_box);
        plate.bib_color_name = bib.as_deref().and_then(parse_hex).map(color_name);
        plate.shirt_color_name = shirt.as_deref().and_then(parse_hex).map(color_name);
        plate.bib_color = bib;
        plate.shirt_color = shirt;
    }
}

fn parse_hex(hex: &str) -> Option<[u8; 3]> {
    let value = u32::from_str_radix(hex.strip_prefix('#')?, 16).ok()?;
    Some([(value >> 16) as u8, (value >> 8) as u8, value as u8])
}

/// The image's pixels at most `SAMPLE_SIDE` on the long side, as packed RGB bytes.
fn downscale(image: &RgbImage) -> Vec<u8> {
    let (w, h) = (image.width(), image.height());
    let scale = f64::from(SAMPLE_SIDE) / f64::from(w.max(h));
    if scale >= 1.0 {
        return image.as_raw().clone();
    }
    let dw = ((f64::from(w) * scale).round() as u32).max(1);
    let dh = ((f64::from(h) * scale).round() as u32).max(1);
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    let mut resizer = Resizer::new();
    match resizer.resize(image, &mut dst, &ResizeOptions::new()) {
        Ok(()) => dst.into_vec(),
        Err(err) => {
            tracing::warn!(error = %err, "downscale failed; using every pixel");
            image.as_raw().clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn a_red_and_blue_image_yields_red_and_blue_as_dominant_colours() {
        let image = RgbImage::from_fn(1000, 600, |x, _| {
            if x < 700 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let colors = dominant_colors(&image, 5);
        assert!(colors.len() >= 2, "{colors:?}");
        assert!(
            colors[0].hex.starts_with("#f") || colors[0].hex.starts_with("#e"),
            "{colors:?}"
        );
        assert!((colors[0].share - 0.7).abs() < 0.05, "{colors:?}");
        assert!(
            colors[1].hex.ends_with("ff") || colors[1].hex.ends_with("fe"),
            "{colors:?}"
        );
        let total: f32 = colors.iter().map(|c| c.share).sum();
        assert!((total - 1.0).abs() < 0.05);
    }

    #[test]
    fn a_yellow_bib_on_a_red_shirt_is_named_yellow_on_red() {
        let mut image = RgbImage::from_pixel(600, 600, Rgb([40, 90, 40]));
        for (x, y, p) in image.enumerate_pixels_mut() {
            if (100..500).contains(&x) && (100..560).contains(&y) {
                *p = Rgb([200, 30, 40]); // shirt
            }
            if (220..380).contains(&x) && (250..360).contains(&y) {
                *p = Rgb([245, 212, 0]); // bib
            }
            if (260..340).contains(&x) && (280..330).contains(&y) && x % 12 < 4 {
                *p = Rgb([15, 15, 15]); // digit strokes
            }
        }
        let number = BoundingBox {
            x: 250,
            y: 275,
            w: 100,
            h: 60,
        };
        let (bib, shirt) = bib_and_shirt_colors(&image, &number);
        let bib = bib.unwrap();
        let shirt = shirt.unwrap();
        assert!(bib.starts_with("#f") || bib.starts_with("#e"), "{bib}");
        assert!(
            shirt.starts_with("#c") || shirt.starts_with("#b"),
            "{shirt}"
        );
    }

    #[test]
    fn an_empty_image_has_no_colours() {
        assert!(dominant_colors(&RgbImage::new(0, 0), 5).is_empty());
    }
}
