//! A photo's thumbnail: the whole photo scaled so its long side is at most
//! [`THUMBNAIL_LONG_SIDE`] px (never enlarged), as a JPEG small enough for a grid of cards.

use fast_image_resize::images::Image;
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;

use crate::ArtifactError;

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_LONG_SIDE: u32 = 320;

/// JPEG quality of thumbnails: ~10–20 KB at 320 px for a race photo.
const QUALITY: u8 = 75;

/// The thumbnail of `image` as JPEG bytes, with its width and height.
///
/// # Errors
/// Fails when the image is empty or cannot be resized or encoded.
pub fn encode_thumbnail(image: &RgbImage) -> Result<(Vec<u8>, u32, u32), ArtifactError> {
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        return Err(ArtifactError::Thumbnail("empty image".to_owned()));
    }
    let long = width.max(height);
    let (w, h) = if long <= THUMBNAIL_LONG_SIDE {
        (width, height)
    } else {
        let scale = |side: u32| {
            ((u64::from(side) * u64::from(THUMBNAIL_LONG_SIDE)) / u64::from(long)).max(1) as u32
        };
        (scale(width), scale(height))
    };
    let small = if (w, h) == (width, height) {
        image.clone()
    } else {
        let mut dst = Image::new(w, h, PixelType::U8x3);
        Resizer::new()
            .resize(image, &mut dst, &ResizeOptions::new())
            .map_err(|err| ArtifactError::Thumbnail(format!("resize: {err}")))?;
        RgbImage::from_raw(w, h, dst.into_vec())
            .ok_or_else(|| ArtifactError::Thumbnail("resize produced a wrong buffer".to_owned()))?
    };
    let mut out = Vec::with_capacity(16 * 1024);
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&small)
        .map_err(|err| ArtifactError::Thumbnail(format!("jpeg: {err}")))?;
    Ok((out, w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_photo_shrinks_to_the_long_side_and_a_small_one_keeps_its_size() {
        let photo = RgbImage::from_fn(1600, 900, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let (jpeg, w, h) = encode_thumbnail(&photo).unwrap();
        assert_eq!((w, h), (320, 180));
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
        let decoded = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (320, 180));
        assert!(jpeg.len() < 40 * 1024, "{} bytes", jpeg.len());

        let small = RgbImage::new(200, 300);
        let (_, w, h) = encode_thumbnail(&small).unwrap();
        assert_eq!((w, h), (200, 300));
        assert!(encode_thumbnail(&RgbImage::new(0, 0)).is_err());
    }
}
