//! Dominant colours: downscale (fast_image_resize), then k-means in CIE Lab
//! (kmeans_colors + palette), so clusters follow perceived colour rather than raw RGB.

use fast_image_resize::images::Image;
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use finishline_wire::ColorShare;
use image::RgbImage;
use kmeans_colors::{Sort, get_kmeans_hamerly};
use palette::{FromColor, IntoColor, Lab, Srgb};

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
    let lab: Vec<Lab> = sample
        .chunks_exact(3)
        .map(|p| {
            Srgb::new(p[0], p[1], p[2])
                .into_format::<f32>()
                .into_linear()
                .into_color()
        })
        .collect();
    let result = get_kmeans_hamerly(k.min(lab.len()), 20, 0.5, false, &lab, 0x5eed);
    let mut colors: Vec<ColorShare> = Lab::sort_indexed_colors(&result.centroids, &result.indices)
        .into_iter()
        .filter(|c| c.percentage >= MIN_SHARE)
        .map(|c| {
            let rgb: Srgb<u8> = Srgb::from_linear(palette::LinSrgb::from_color(c.centroid));
            ColorShare {
                hex: format!("#{:02x}{:02x}{:02x}", rgb.red, rgb.green, rgb.blue),
                share: (c.percentage * 1000.0).round() / 1000.0,
            }
        })
        .collect();
    colors.sort_by(|a, b| b.share.total_cmp(&a.share));
    colors
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
    fn an_empty_image_has_no_colours() {
        assert!(dominant_colors(&RgbImage::new(0, 0), 5).is_empty());
    }
}
