//! Test photos, generated: real JPEG and PNG files with known colours, and synthetic race
//! photos with known bib numbers (finishline-bibgen).

use std::path::Path;

use image::{Rgb, RgbImage};

/// Writes a photo of `width`×`height`: the left 70% in `main`, the rest in `other`. The format
/// follows the extension (jpg or png).
pub fn write_photo(path: &Path, width: u32, height: u32, main: [u8; 3], other: [u8; 3]) {
    let split = width * 7 / 10;
    let image = RgbImage::from_fn(width, height, |x, _| {
        if x < split { Rgb(main) } else { Rgb(other) }
    });
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("media dir");
    }
    image.save(path).expect("write test photo");
}

/// Writes a file that starts like a JPEG and then is garbage.
pub fn write_corrupt_jpeg(path: &Path) {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    bytes.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(path, bytes).expect("write corrupt jpeg");
}

/// The bytes of a small PNG photo.
pub fn photo_png_bytes(width: u32, height: u32, color: [u8; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    RgbImage::from_pixel(width, height, Rgb(color))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode png");
    out
}

/// Writes photos `0..n` of a generated set (photo-0001.jpg…) into `dir` and returns what is
/// in each, in order.
pub fn write_race_photos(
    dir: &Path,
    set: finishline_bibgen::Set,
    n: u32,
    seed: u64,
) -> Vec<finishline_bibgen::GroundTruth> {
    finishline_bibgen::Generator::new()
        .expect("the photo generator needs fonts-dejavu-core (deploy/local/install-deps.sh)")
        .write_set(dir, set, n, seed)
        .expect("write the race photos")
}
