//! The classical engine, for machines without the PP-OCR model files: a bib detector built
//! from imageproc (local-contrast blobs grouped into deskewed text lines) and Tesseract
//! (Debian's `tesseract-ocr`, run as a child process, once per photo for all its lines) to
//! read them.
//!
//! Detection finds every line of character-like blobs, letters included. Each line is then
//! read once by Tesseract without a whitelist: a line with letters that cannot be mistaken for
//! digits is a word, a banner or a sign ("CITY RUN 2026", "KM 21") and is dropped; a line of
//! digits is a bib; a line of digits and digit look-alikes (O, I, S…) is read again with the
//! digit whitelist. Telling letters from digits by blob shape alone is unreliable (C, T, Y
//! and N are as compact as 2, 7, 4 and 0), and Tesseract has seen the whole line.

mod crop;
mod lines;
mod tesseract;

use std::time::Duration;

use fast_image_resize::images::Image;
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use finishline_wire::{BoundingBox, ColorShare, Plate};
use image::GrayImage;

use self::lines::{LineParams, Polarity, TextLine, group_lines, segment};
use self::tesseract::{DIGITS, Tesseract, Verdict, classify};
use crate::color_name::ExposureGain;
use crate::worn::{Evidence, Glyphs, PersonScore, Policy, decide, numbered, surroundings};
use crate::{BibCandidate, FoundBy, MediaError, Photo, PhotoPipeline, dominant_colors};

/// Detection runs on the photo scaled to at most this long side (12 MP photos cost too much
/// at full size, and bib digits stay well above the smallest blob kept).
const DETECTION_LONG_SIDE: u32 = 1600;

/// At most this many lines are read per photo, best scores first.
const MAX_CANDIDATES: usize = 12;

/// Readings below this Tesseract confidence (0–100) are not reported.
const MIN_TESSERACT_CONFIDENCE: f32 = 40.0;

/// Bib numbers have this many digits. One digit alone is not reported: on the benchmark,
/// single digits were all clutter (a bar and a ring read as "4"), never a bib.
const DIGITS_PER_BIB: std::ops::RangeInclusive<usize> = 2..=6;

/// How long one Tesseract run on one line may take.
const TESSERACT_TIMEOUT: Duration = Duration::from_secs(10);

/// The classical engine: imageproc detection, Tesseract reading, k-means colours.
#[derive(Debug, Clone)]
pub struct ClassicalPipeline {
    tesseract: Tesseract,
}

impl ClassicalPipeline {
    /// Uses the `tesseract` found on `PATH`.
    ///
    /// # Errors
    /// `EngineUnavailable` ("tesseract not found on PATH; install Debian's tesseract-ocr or
    /// run deploy/local/install-deps.sh") when it is absent or does not run.
    pub fn new() -> Result<Self, MediaError> {
        Self::with_tesseract("tesseract")
    }

    /// Uses the given `tesseract` program (a path or a name looked up on `PATH`).
    ///
    /// # Errors
    /// As [`ClassicalPipeline::new`].
    pub fn with_tesseract(program: impl Into<std::ffi::OsString>) -> Result<Self, MediaError> {
        let tesseract = Tesseract::locate(program, TESSERACT_TIMEOUT)?;
        tracing::debug!(version = %tesseract.version, "tesseract found");
        Ok(Self { tesseract })
    }

    /// The first line of `tesseract --version`, for start-up logs.
    pub fn tesseract_version(&self) -> &str {
        &self.tesseract.version
    }

    /// Reads every candidate's line: a number, a line of words, or nothing usable. All lines
    /// go to Tesseract in one run; lines of digits mixed with look-alike letters in a second
    /// one, with the digit whitelist.
    fn read_candidates(
        &self,
        photo: &Photo,
        candidates: &[BibCandidate],
    ) -> Result<Vec<Reading>, MediaError> {
        let lines: Vec<Option<crop::LineImage>> = candidates
            .iter()
            .map(|c| crop::line_image(&photo.image, &c.bounding_box))
            .collect();
        let present: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].is_some()).collect();
        let images: Vec<&GrayImage> = present
            .iter()
            .filter_map(|&i| lines[i].as_ref().map(|l| &l.image))
            .collect();
        let first = self.tesseract.read_lines(&images, None)?;
        let mut readings = vec![Reading::Nothing; candidates.len()];
        let mut ambiguous = Vec::new();
        for (&i, text) in present.iter().zip(&first) {
            readings[i] = match classify(&text.text) {
                Verdict::Digits(digits) => Reading::Number(digits, text.confidence),
                Verdict::Ambiguous => {
                    ambiguous.push(i);
                    Reading::Nothing
                }
                Verdict::Words => Reading::Words,
                Verdict::Nothing => Reading::Nothing,
            };
            if let Some(line) = &lines[i] {
                tracing::debug!(
                    text = %text.text,
                    confidence = text.confidence,
                    skew_degrees = line.skew_degrees,
                    blobs = line.blobs,
                    reading = ?readings[i],
                    "line read"
                );
            }
        }
        let images: Vec<&GrayImage> = ambiguous
            .iter()
            .filter_map(|&i| lines[i].as_ref().map(|l| &l.image))
            .collect();
        let second = self.tesseract.read_lines(&images, Some(DIGITS))?;
        for (&i, text) in ambiguous.iter().zip(&second) {
            if let Verdict::Digits(digits) = classify(&text.text) {
                readings[i] = Reading::Number(digits, text.confidence);
            }
            tracing::debug!(text = %text.text, reading = ?readings[i], "line read again with digits only");
        }
        Ok(readings)
    }
}

/// What a candidate's line turned out to be.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    /// Digits and Tesseract's confidence (0–100).
    Number(String, f32),
    /// Words: a banner, a sign, a sponsor.
    Words,
    Nothing,
}

/// Whether two boxes sit on one row of text: similar heights, aligned, close together. A
/// number on the row of a word belongs to a sign ("KM 21"), even when the detector saw the
/// word and the number as two lines.
fn same_row(a: &BoundingBox, b: &BoundingBox) -> bool {
    let (ha, hb) = (a.h as f32, b.h as f32);
    let h = ha.max(hb);
    if h > 1.6 * ha.min(hb) {
        return false;
    }
    let (ca, cb) = (a.y as f32 + ha / 2.0, b.y as f32 + hb / 2.0);
    let gap = a.x.max(b.x) as f32 - (a.x + a.w).min(b.x + b.w) as f32;
    (ca - cb).abs() <= 0.5 * h && gap <= 3.0 * h
}

/// Tesseract's word confidence (0–100) scaled by how regular the line looked, 0–1.
fn calibrate(tesseract_confidence: f32, line_score: f32) -> f32 {
    let c =
        (tesseract_confidence / 100.0).clamp(0.0, 1.0) * (0.85 + 0.15 * line_score.clamp(0.0, 1.0));
    (c * 1000.0).round() / 1000.0
}

impl PhotoPipeline for ClassicalPipeline {
    fn name(&self) -> &'static str {
        "classical (imageproc bib detector + tesseract)"
    }

    fn detect(&self, photo: &Photo) -> Result<Vec<BibCandidate>, MediaError> {
        let gray = image::imageops::grayscale(&photo.image);
        let (gray, scale) = downscale(gray);
        let long = gray.width().max(gray.height());
        if long < 16 {
            return Ok(Vec::new());
        }
        let params = line_params(long, 9..=(long / 5).max(10));
        let mut found: Vec<TextLine> = Vec::new();
        for polarity in Polarity::BOTH {
            let seg = segment(&gray, polarity, &params);
            for line in group_lines(&seg.blobs, polarity) {
                // The same line seen in both polarities (a thick outline) is read once.
                if let Some(other) = found.iter_mut().find(|o| iou(o, &line) > 0.5) {
                    if line.score > other.score {
                        *other = line;
                    }
                } else {
                    found.push(line);
                }
            }
        }
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found.truncate(MAX_CANDIDATES);
        let (pw, ph) = photo.image.dimensions();
        Ok(found
            .into_iter()
            .map(|line| {
                let x0 = ((line.x0 as f32 / scale) as u32).min(pw.saturating_sub(1));
                let y0 = ((line.y0 as f32 / scale) as u32).min(ph.saturating_sub(1));
                let x1 = (((line.x1 + 1) as f32 / scale).ceil() as u32).min(pw);
                let y1 = (((line.y1 + 1) as f32 / scale).ceil() as u32).min(ph);
                BibCandidate {
                    bounding_box: BoundingBox {
                        x: x0,
                        y: y0,
                        w: x1.saturating_sub(x0).max(1),
                        h: y1.saturating_sub(y0).max(1),
                    },
                    score: (line.score * 1000.0).round() / 1000.0,
                    corners: None,
                    found_by: FoundBy::Detector,
                    bib_map: None,
                }
            })
            .collect())
    }

    fn read(&self, photo: &Photo, candidates: &[BibCandidate]) -> Result<Vec<Plate>, MediaError> {
        let readings: Vec<(&BibCandidate, Reading)> = candidates
            .iter()
            .zip(self.read_candidates(photo, candidates)?)
            .collect();
        let words: Vec<&BoundingBox> = readings
            .iter()
            .filter(|(_, r)| *r == Reading::Words)
            .map(|(c, _)| &c.bounding_box)
            .collect();
        let gain = ExposureGain::of(&photo.image);
        let mut plates: Vec<Plate> = Vec::new();
        for (candidate, reading) in readings {
            let Reading::Number(digits, confidence) = reading else {
                continue;
            };
            if !DIGITS_PER_BIB.contains(&digits.len()) || confidence < MIN_TESSERACT_CONFIDENCE {
                continue;
            }
            if words.iter().any(|w| same_row(w, &candidate.bounding_box)) {
                tracing::debug!(%digits, "number on the row of a word; not a bib");
                continue;
            }
            let Some(number) = bib_of(&digits) else {
                continue;
            };
            // The PP-OCR engine's evidence without its person model: the rules and the learned
            // model must both find the number worn, so this fallback is never the laxer one.
            let b = &candidate.bounding_box;
            let (x0, y0) = (b.x as f32, b.y as f32);
            let (x1, y1) = (x0 + b.w as f32, y0 + b.h as f32);
            let glyphs = Glyphs::from_corners([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]);
            let around = surroundings(&photo.image, gain, glyphs);
            let confidence = calibrate(confidence, candidate.score);
            let evidence = Evidence {
                around: &around,
                person: PersonScore::NONE,
                glyphs: &glyphs,
                digits: digits.len(),
                confidence,
                box_score: candidate.score,
                image: photo.image.dimensions(),
                bib_map: None,
            };
            if decide(&digits, &evidence, Policy::Fallback)
                .refusal
                .is_some()
            {
                continue;
            }
            let mut plate = Plate::new(number, confidence, candidate.bounding_box);
            around.paint(&mut plate);
            match plates.iter_mut().find(|p| p.number == plate.number) {
                Some(same) if same.confidence >= plate.confidence => {}
                Some(same) => *same = plate,
                None => plates.push(plate),
            }
        }
        plates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        Ok(plates)
    }

    fn colors(&self, photo: &Photo, _plates: &[Plate]) -> Result<Vec<ColorShare>, MediaError> {
        Ok(dominant_colors(&photo.image, 5))
    }
}

/// How an image `long` pixels on its long side is cut into blobs of the given heights: ink is
/// 15 levels off the mean of the square reaching a fiftieth of the long side (at least 10
/// pixels) each way.
fn line_params(long: u32, heights: std::ops::RangeInclusive<u32>) -> LineParams {
    LineParams {
        block_radius: (long / 50).max(10),
        contrast: 15,
        min_height: *heights.start(),
        max_height: *heights.end(),
    }
}

/// Intersection over union of two lines' boxes.
fn iou(a: &TextLine, b: &TextLine) -> f32 {
    let w = (a.x1.min(b.x1) + 1).saturating_sub(a.x0.max(b.x0));
    let h = (a.y1.min(b.y1) + 1).saturating_sub(a.y0.max(b.y0));
    let inter = (w as f32) * (h as f32);
    let area = |l: &TextLine| ((l.x1 - l.x0 + 1) * (l.y1 - l.y0 + 1)) as f32;
    inter / (area(a) + area(b) - inter)
}

/// The gray image at most `DETECTION_LONG_SIDE` on the long side, and the scale applied.
fn downscale(gray: GrayImage) -> (GrayImage, f32) {
    let (w, h) = gray.dimensions();
    let long = w.max(h);
    if long <= DETECTION_LONG_SIDE {
        return (gray, 1.0);
    }
    let scale = DETECTION_LONG_SIDE as f32 / long as f32;
    let dw = ((w as f32 * scale).round() as u32).max(1);
    let dh = ((h as f32 * scale).round() as u32).max(1);
    let mut dst = Image::new(dw, dh, PixelType::U8);
    match Resizer::new().resize(&gray, &mut dst, &ResizeOptions::new()) {
        Ok(()) => match GrayImage::from_raw(dw, dh, dst.into_vec()) {
            Some(small) => (small, dw as f32 / w as f32),
            None => (gray, 1.0),
        },
        Err(err) => {
            tracing::warn!(error = %err, "downscale for detection failed; using full size");
            (gray, 1.0)
        }
    }
}

/// Why digits that begin with a 0 are no bib here. Tesseract is told to read digits only, so a
/// race clock's colons vanish: 00:16:28 comes out "001628" and 03:03:49 often "03", and the
/// fallback has no bib map to veto a clock on a gantry. The PP-OCR engine reads the colons and
/// refuses such lines (`ppocr::bib::bib_number`). Found on held-out seeds 582–589, where 4 of
/// the fallback's 9 signs (upright) were clocks read so; those seeds are not its figure. The
/// generator prints no bib with leading zeros, and a plate's number is a JSON number that
/// keeps none; a race that pads its bibs ("0427") loses them in the fallback only. Traced on
/// fresh tuning seeds 548–551 (800 photos, each with its signs upright and turned), the
/// fallback's plates from such digits: 2 clocks ("0:54:18", "03:37:44"), 2 misreads ("04" in
/// a photo of 47504) and no bib, of 554 numbers it took. Fresh held-out seeds 590–597 (1,600
/// photos each form): signs 9 → 8 upright and 6 → 6 turned, other numbers that are no bib
/// 29 → 27 and 30 → 28, bibs read the same (586 and 587).
const LEADING_ZERO: &str =
    "digits that begin with a 0: a clock's time without its colons, not a bib";

/// The bib number Tesseract's digits give: none for 0, which no bib is (`worn::numbered`), and
/// none for digits that begin with a 0 (`LEADING_ZERO`).
fn bib_of(digits: &str) -> Option<u64> {
    if digits.len() > 1 && digits.starts_with('0') {
        tracing::debug!(text = %digits, "{LEADING_ZERO}");
        return None;
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|number| numbered(number, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tesseract_is_a_readable_engine_unavailable_error() {
        let err =
            ClassicalPipeline::with_tesseract("/nonexistent/finishline/tesseract").unwrap_err();
        assert!(matches!(err, MediaError::EngineUnavailable(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "engine unavailable: tesseract not found on PATH; install Debian's tesseract-ocr or run deploy/local/install-deps.sh"
        );
        assert!(err.is_permanent());
    }

    #[test]
    fn a_number_beside_a_word_on_its_row_is_on_the_same_row_and_a_bib_below_is_not() {
        let word = BoundingBox {
            x: 100,
            y: 1000,
            w: 90,
            h: 40,
        };
        let number = BoundingBox {
            x: 215,
            y: 1003,
            w: 60,
            h: 38,
        };
        let bib = BoundingBox {
            x: 120,
            y: 600,
            w: 200,
            h: 80,
        };
        assert!(same_row(&word, &number));
        assert!(same_row(&number, &word));
        assert!(!same_row(&word, &bib));
        let far = BoundingBox { x: 600, ..number };
        assert!(!same_row(&word, &far));
    }

    #[test]
    fn a_zero_read_by_tesseract_is_no_bib() {
        assert_eq!(bib_of("0"), None);
        assert_eq!(bib_of("000"), None);
        assert_eq!(bib_of("1500"), Some(1500));
        assert_eq!(bib_of("7"), Some(7));
    }

    #[test]
    fn a_clocks_digits_are_no_bib() {
        // Tesseract reads only digits here, so 00:16:28 comes out 001628 and 03:03:49 often 03.
        assert_eq!(bib_of("001628"), None);
        assert_eq!(bib_of("03"), None);
        assert_eq!(bib_of("0427"), None);
    }

    #[test]
    fn confidence_is_tesseracts_scaled_by_the_line_score_within_zero_and_one() {
        assert_eq!(calibrate(96.0, 1.0), 0.96);
        assert!(calibrate(96.0, 0.0) < calibrate(96.0, 1.0));
        assert_eq!(calibrate(150.0, 2.0), 1.0);
        assert_eq!(calibrate(-1.0, 0.5), 0.0);
    }
}
