//! A person around a number: MediaPipe's selfie-segmentation model (from the `mediapipe`
//! 0.10.14 wheel, converted to ONNX at install time by `deploy/local/tflite_to_onnx.py`) run on
//! a square around the digits, 20 digit-heights wide, scaled to its 256×256 input. The score is
//! the mean person probability on a ring 0.5–1.5 digit-heights around the digits: the torso a
//! bib is pinned to. Signs, vehicles and walls score near 0; a runner the model does not
//! segment (crowds, heavy blur) does too, which is why this is one piece of evidence beside the
//! patch-and-shirt test (`crate::worn`), not the decision alone.
//!
//! Measured on the tuning split (crops 6–20 heights, ring and box means): wider crops separate
//! better; at 20 heights and ring ≥ 0.3, ~88% of bibs and ~13% of digit-only distractors pass.
//!
//! The same run also scores the region above the digits (2–5 digit heights up, as wide as the
//! digits): the chest, neck and head of whoever wears a bib. Signs on posts, walls and vehicles
//! have nothing of a person there (tuning split, seeds 4 and 5: the model's mean there is
//! ≤ 0.005 for 60% of signs and 8% of bibs).

use image::RgbImage;
use ort::session::Session;

use super::session::run_model;
use crate::MediaError;
use crate::worn::{Glyphs, PersonScore};

/// File name of the converted model in the models folder.
pub const PERSON_MODEL: &str = "selfie_segmentation.onnx";
const INPUT: usize = 256;
const CROP_HEIGHTS: f32 = 20.0;

/// Mean person probability on the ring around the glyphs and above them, 0–1.
pub(crate) fn person_around(
    session: &mut Session,
    image: &RgbImage,
    glyphs: &Glyphs,
) -> Result<PersonScore, MediaError> {
    let h = glyphs.height();
    let side = CROP_HEIGHTS * h;
    let origin = [glyphs.center[0] - side / 2.0, glyphs.center[1] - side / 2.0];
    let scale = side / INPUT as f32;
    let (width, height) = (image.width() as f32, image.height() as f32);
    let mut input = vec![0.5f32; INPUT * INPUT * 3];
    let mut ring = Vec::new();
    let mut above = Vec::new();
    let inner = [glyphs.half_width + 0.5 * h, glyphs.half_height + 0.5 * h];
    let outer = [glyphs.half_width + 1.5 * h, glyphs.half_height + 1.5 * h];
    for row in 0..INPUT {
        for col in 0..INPUT {
            let x = origin[0] + (col as f32 + 0.5) * scale;
            let y = origin[1] + (row as f32 + 0.5) * scale;
            if x >= 0.0 && y >= 0.0 && x < width && y < height {
                let pixel = image.get_pixel(x as u32, y as u32).0;
                let at = (row * INPUT + col) * 3;
                for c in 0..3 {
                    input[at + c] = f32::from(pixel[c]) / 255.0;
                }
            }
            let (dx, dy) = (x - glyphs.center[0], y - glyphs.center[1]);
            let s = (dx * glyphs.u[0] + dy * glyphs.u[1]).abs();
            let t = (dx * glyphs.v[0] + dy * glyphs.v[1]).abs();
            let in_outer = s <= outer[0] && t <= outer[1];
            let in_inner = s <= inner[0] && t <= inner[1];
            if in_outer && !in_inner {
                ring.push(row * INPUT + col);
            }
            let up = -(dx * glyphs.v[0] + dy * glyphs.v[1]) - glyphs.half_height;
            if s <= glyphs.half_width && (2.0 * h..5.0 * h).contains(&up) {
                above.push(row * INPUT + col);
            }
        }
    }
    let shape = vec![1, INPUT, INPUT, 3];
    run_model(
        session,
        "person model",
        shape,
        input,
        |shape, probabilities| {
            if probabilities.len() != INPUT * INPUT {
                return Err(format!("unexpected output shape {shape:?}"));
            }
            let mean = |pixels: &[usize]| {
                if pixels.is_empty() {
                    return 0.0;
                }
                pixels.iter().map(|&i| probabilities[i]).sum::<f32>() / pixels.len() as f32
            };
            Ok(PersonScore {
                around: mean(&ring),
                above: mean(&above),
            })
        },
    )
}
