//! Drawing for the unit tests that build a photo out of plain rectangles.

use image::{Rgb, RgbImage};

/// Paints `rect` (`[x0, y0, x1, y1]`, ends excluded) in `colour`.
pub(crate) fn fill(image: &mut RgbImage, rect: [u32; 4], colour: [u8; 3]) {
    for y in rect[1]..rect[3] {
        for x in rect[0]..rect[2] {
            image.put_pixel(x, y, Rgb(colour));
        }
    }
}
