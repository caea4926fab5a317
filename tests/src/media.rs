//! Test media, generated: real JPEG and PNG photos with known colours, synthetic race
//! photos with known bib numbers (finishline-bibgen), and real videos encoded by ffmpeg.

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

/// Writes an H.264 MP4 of `seconds` × `fps` generated frames of `width`×`height` (a block
/// moving across a two-colour background), encoded by ffmpeg from PNG frames.
pub fn write_video(path: &Path, seconds: u32, fps: u32, width: u32, height: u32) {
    let frames = path.with_extension("frames");
    std::fs::create_dir_all(&frames).expect("frames dir");
    let count = seconds * fps;
    for i in 0..count {
        let block_x = (width - 40) * i / count.max(1);
        let image = RgbImage::from_fn(width, height, |x, y| {
            if (block_x..block_x + 40).contains(&x) && (height / 3..height / 3 + 40).contains(&y) {
                Rgb([250, 250, 250])
            } else if x < width * 7 / 10 {
                Rgb([200, 30, 30])
            } else {
                Rgb([20, 40, 200])
            }
        });
        image
            .save(frames.join(format!("f{i:05}.png")))
            .expect("write frame");
    }
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-framerate", &fps.to_string(), "-i"])
        .arg(frames.join("f%05d.png"))
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(path)
        .status()
        .expect("ffmpeg is installed (deploy/local/install-deps.sh)");
    assert!(status.success(), "ffmpeg encoded the test video");
    let _ = std::fs::remove_dir_all(&frames);
}

/// Writes a file that starts like an MP4 and then is garbage.
pub fn write_corrupt_video(path: &Path) {
    let mut bytes = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    bytes.extend((0..5000u32).map(|i| (i * 13 % 251) as u8));
    std::fs::write(path, bytes).expect("write corrupt video");
}

/// Writes a long MP4 of ffmpeg's test pattern (`seconds` at 10 frames per second, 320×240),
/// fast to make, for runs that must still be going when the test acts on them.
pub fn write_test_pattern_video(path: &Path, seconds: u32) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size=320x240:rate=10:duration={seconds}"))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(path)
        .status()
        .expect("ffmpeg is installed (deploy/local/install-deps.sh)");
    assert!(status.success(), "ffmpeg encoded the test pattern video");
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

/// The PROTOCOL.md colour names a generated photo's colour may be given: the generator's
/// palette has two shades outside the list, and one between two of its names.
pub fn protocol_color_names(generator_name: &str) -> Vec<&str> {
    match generator_name {
        "light-blue" => vec!["blue"],
        "light-green" => vec!["green"],
        "teal" => vec!["blue", "green"],
        other => vec![other],
    }
}

/// Writes `out` into `dir`: a video of the generated race photos `truths` (in `dir`), each on
/// screen for 2 s (the last one twice as long), 10 fps H.264, so each bib is seen for a known
/// time.
pub fn write_runners_video(dir: &Path, truths: &[finishline_bibgen::GroundTruth], out: &str) {
    let mut concat = String::new();
    for truth in truths {
        let file = dir.join(&truth.file);
        concat.push_str(&format!("file '{}'\nduration 2\n", file.display()));
    }
    let last = truths.last().expect("photos");
    concat.push_str(&format!("file '{}'\n", dir.join(&last.file).display()));
    let list = dir.join(format!("{out}.txt"));
    std::fs::write(&list, concat).expect("concat list");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "concat", "-safe", "0", "-i"])
        .arg(&list)
        .args([
            "-vf",
            "fps=10,format=yuv420p",
            "-c:v",
            "libx264",
            "-crf",
            "18",
        ])
        .arg(dir.join(out))
        .status()
        .expect("ffmpeg is installed (deploy/local/install-deps.sh)");
    assert!(status.success(), "ffmpeg encoded the video of bibs");
}
