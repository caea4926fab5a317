//! A text box's content as an upright image: what the recogniser reads.

use image::RgbImage;

use super::detect::TextBox;

/// The box's content as an upright image, sampled bilinearly between its four corners.
pub(crate) fn crop_upright(image: &RgbImage, text_box: &TextBox) -> Option<RgbImage> {
    let width = text_box.width().round() as u32;
    let height = text_box.height().round() as u32;
    if width < 2 || height < 2 || width > 8192 || height > 8192 {
        return None;
    }
    let [tl, tr, br, bl] = text_box.corners;
    let mut crop = RgbImage::new(width, height);
    let max_x = (image.width() - 1) as f32;
    let max_y = (image.height() - 1) as f32;
    for (cx, cy, pixel) in crop.enumerate_pixels_mut() {
        let u = (cx as f32 + 0.5) / width as f32;
        let v = (cy as f32 + 0.5) / height as f32;
        let top = [tl[0] + u * (tr[0] - tl[0]), tl[1] + u * (tr[1] - tl[1])];
        let bottom = [bl[0] + u * (br[0] - bl[0]), bl[1] + u * (br[1] - bl[1])];
        let x = (top[0] + v * (bottom[0] - top[0]) - 0.5).clamp(0.0, max_x);
        let y = (top[1] + v * (bottom[1] - top[1]) - 0.5).clamp(0.0, max_y);
        *pixel = sample_bilinear(image, x, y);
    }
    Some(crop)
}

fn sample_bilinear(image: &RgbImage, x: f32, y: f32) -> image::Rgb<u8> {
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let x1 = (x0 + 1).min(image.width() - 1);
    let y1 = (y0 + 1).min(image.height() - 1);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (a, b) = (image.get_pixel(x0, y0), image.get_pixel(x1, y0));
    let (c, d) = (image.get_pixel(x0, y1), image.get_pixel(x1, y1));
    let mut out = [0u8; 3];
    for (channel, value) in out.iter_mut().enumerate() {
        let top = f32::from(a[channel]) * (1.0 - fx) + f32::from(b[channel]) * fx;
        let bottom = f32::from(c[channel]) * (1.0 - fx) + f32::from(d[channel]) * fx;
        *value = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    image::Rgb(out)
}
