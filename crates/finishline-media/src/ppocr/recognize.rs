//! Text recognition with the PP-OCRv6 small model and CTC decoding: each upright crop scaled
//! to 48 pixels high (fast_image_resize) and read alone (`BATCH`), then per time step the most
//! likely class; repeats collapsed and blanks dropped.
//! The character list comes from the model's own metadata (key `character`), with the CTC
//! blank in front and a space at the end, as PaddleOCR builds it.
//! PP-OCRv6 small replaced PP-OCRv4's mobile recogniser: on the engine's lines over held-out
//! bibs it reads far fewer digits as CJK characters or letters and drops fewer digits
//! (docs/recognition.md, "The recogniser").

use image::RgbImage;
use ort::session::Session;

use super::detect::resize_rgb;
use super::session::run_model;
use crate::MediaError;

const LINE_HEIGHT: u32 = 48;
/// A batch is padded to its widest line, rounded up to this (the model's width stride).
/// PaddleOCR pads every batch to at least 320; bibs are 48–250 wide, so that padding was most
/// of the recogniser's work. Measured on the tuning split (100 photos): the same reads, the
/// same figures, and the recogniser's time per 1600×1200 photo 99 → 34 ms.
const WIDTH_STEP: u32 = 8;
/// Widest line the recogniser is given (a 25:1 line; wider ones are squeezed).
const MAX_LINE_WIDTH: u32 = 1200;
/// Lines per run of the model. One: a line read in a batch is padded to the batch's widest,
/// and the padding changed its read (development seed 479: a bib's line read "16150" or
/// "6250" as the other lines of its batch changed), so a photo's plates depended on what else
/// was written in it; and the padding was work. PaddleOCR reads six at a time. Fresh tuning
/// seeds 524–531 against six (alternating): legible bibs +8 −5, numbers that are no bib +3 −3,
/// CPU median of the seeds 229 → 218.5 ms. Fresh held-out seeds 510–525: legible bibs +15 −7,
/// numbers that are no bib +11 −15, CPU median of the seeds 226 → 216 ms.
const BATCH: usize = 1;

/// A recognised line: its text and the probability of each character.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadLine {
    pub text: String,
    pub char_probabilities: Vec<f32>,
    /// Whether the text is not the line's first read but its re-read with the motion streak
    /// undone (`deblur.rs`), which is right less often and must be surer to count
    /// (`bib.rs`).
    pub unstreaked: bool,
}

/// The classes of the recogniser's output.
pub(crate) struct Alphabet {
    /// Index 0 is the CTC blank.
    classes: Vec<String>,
}

impl Alphabet {
    /// Builds the classes from the model metadata's `character` value (one per line).
    pub(crate) fn from_metadata(characters: &str) -> Self {
        let mut classes = vec![String::new()];
        classes.extend(characters.lines().map(str::to_owned));
        classes.push(" ".to_owned());
        Self { classes }
    }

    pub(crate) fn len(&self) -> usize {
        self.classes.len()
    }

    /// Greedy CTC decoding of one line's `[time, class]` probabilities.
    pub(crate) fn decode(&self, probabilities: &[f32], classes: usize) -> ReadLine {
        let mut text = String::new();
        let mut char_probabilities = Vec::new();
        let mut previous = usize::MAX;
        for step in probabilities.chunks_exact(classes) {
            let (best, probability) = step.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
            );
            if best != 0
                && best != previous
                && let Some(class) = self.classes.get(best)
            {
                text.push_str(class);
                char_probabilities.push(probability);
            }
            previous = best;
        }
        ReadLine {
            text,
            char_probabilities,
            unstreaked: false,
        }
    }
}

/// A crop scaled to the line height, keeping its aspect ratio.
pub(crate) fn to_line(crop: &RgbImage) -> Result<RgbImage, MediaError> {
    let ratio = crop.width() as f32 / crop.height().max(1) as f32;
    let width = ((LINE_HEIGHT as f32 * ratio).ceil() as u32).clamp(8, MAX_LINE_WIDTH);
    resize_rgb(crop, width, LINE_HEIGHT)
}

/// Reads the text of each crop, in the order given.
pub(crate) fn recognise(
    session: &mut Session,
    alphabet: &Alphabet,
    crops: &[RgbImage],
) -> Result<Vec<ReadLine>, MediaError> {
    let lines = crops.iter().map(to_line).collect::<Result<Vec<_>, _>>()?;
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| lines[i].width());
    let mut results = vec![None; lines.len()];
    for batch in order.chunks(BATCH) {
        let width = batch
            .iter()
            .map(|&i| lines[i].width())
            .max()
            .unwrap_or(0)
            .div_ceil(WIDTH_STEP)
            .max(1)
            * WIDTH_STEP;
        let width = width as usize;
        let height = LINE_HEIGHT as usize;
        let plane = width * height;
        // Padding is 0 after normalisation, as in PaddleOCR.
        let mut input = vec![0f32; batch.len() * 3 * plane];
        for (slot, &i) in batch.iter().enumerate() {
            let line = &lines[i];
            let line_width = line.width() as usize;
            for (x, y, pixel) in line.enumerate_pixels() {
                let offset = y as usize * width + x as usize;
                for channel in 0..3 {
                    input[(slot * 3 + channel) * plane + offset] =
                        f32::from(pixel[2 - channel]) / 127.5 - 1.0;
                }
            }
            debug_assert!(line_width <= width);
        }
        let shape = vec![batch.len(), 3, height, width];
        run_model(
            session,
            "ppocr recognition",
            shape,
            input,
            |shape, probabilities| {
                let (steps, classes) = match *shape {
                    [n, t, c] if n as usize == batch.len() && c as usize == alphabet.len() => {
                        (t as usize, c as usize)
                    }
                    _ => {
                        return Err(format!(
                            "unexpected output shape {shape:?} for {} classes",
                            alphabet.len()
                        ));
                    }
                };
                for (slot, &i) in batch.iter().enumerate() {
                    let start = slot * steps * classes;
                    results[i] = Some(
                        alphabet.decode(&probabilities[start..start + steps * classes], classes),
                    );
                }
                Ok(())
            },
        )?;
    }
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_decoding_collapses_repeats_and_drops_blanks() {
        let alphabet = Alphabet::from_metadata("1\n2\n3");
        // classes: blank, "1", "2", "3", " "
        let step = |class: usize, p: f32| {
            let mut s = vec![(1.0 - p) / 4.0; 5];
            s[class] = p;
            s
        };
        let probabilities: Vec<f32> = [
            step(1, 0.9),
            step(1, 0.8),
            step(0, 0.99),
            step(1, 0.7),
            step(3, 0.95),
            step(3, 0.6),
        ]
        .concat();
        let line = alphabet.decode(&probabilities, 5);
        assert_eq!(line.text, "113");
        assert_eq!(line.char_probabilities, vec![0.9, 0.7, 0.95]);
    }
}
