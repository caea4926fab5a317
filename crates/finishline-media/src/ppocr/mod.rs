//! The PP-OCR engine: PP-OCRv4 text detection (ONNX model from the `rapidocr-onnxruntime`
//! wheel) and PP-OCRv6 small text recognition (from the `rapidocr` 3.10 wheel) run through ONNX
//! Runtime (`ort`, library loaded at run time).
//!
//! `detect` finds every text line (bibs, banners, clutter) as a rotated box; `read` crops each
//! line upright, reads it, and keeps the lines that are bibs (`bib.rs`). The split by concern:
//! `session.rs` (files, runtime, session pool), `detect.rs` (DB post-processing and crops),
//! `recognize.rs` (CTC decoding), `person.rs` (a person around a number), `bib.rs` (which lines
//! are worn bibs, confidence, colours), `widen.rs` (a second, wider read of doubtful digit
//! lines), `deblur.rs` (a read of motion-streaked lines with the streak undone), `bib_map.rs`
//! (a small trained network that says where bibs' digits are) and `closer.rs` (the detector
//! again, at full resolution, where the map sees a bib no line covers; the map's own box where
//! it finds none). A search for lone one-digit glyphs (`lone.rs`) was removed on 5 December
//! 2026: the map had taken over its bibs, and it cost about 15 ms of CPU per photo.

mod bib;
pub(crate) mod bib_map;
mod closer;
mod crop;
mod deblur;
mod detect;
mod person;
mod recognize;
mod session;
mod widen;

use finishline_wire::{ColorShare, Plate};

use crate::worn::Glyphs;
use crate::{BibCandidate, MediaError, Photo, PhotoPipeline, dominant_colors};
pub use bib::{MIN_CONFIDENCE, bib_number, bounding_box, confidence};
pub use detect::{DETECTION_LONG_SIDE, TextBox};
pub use person::PERSON_MODEL;
use recognize::Alphabet;
pub use recognize::ReadLine;
use session::SessionPool;
pub use session::{
    DETECTION_MODEL, DETECTION_MODEL_INT8, Detector, ONNXRUNTIME_LIBRARY, PpOcrConfig,
    RECOGNITION_MODEL,
};

/// Bib recognition with PP-OCR (v4 detection, v6 recognition) on ONNX Runtime.
pub struct PpOcrPipeline {
    detection: SessionPool,
    recognition: SessionPool,
    person: SessionPool,
    bib_map: SessionPool,
    alphabet: Alphabet,
}

impl std::fmt::Debug for PpOcrPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PpOcrPipeline").finish_non_exhaustive()
    }
}

impl PpOcrPipeline {
    /// Loads the library and both models (one session each, more as photos run in parallel).
    ///
    /// # Errors
    /// `EngineUnavailable` naming the missing or broken file and the command that installs it.
    pub fn new(config: &PpOcrConfig) -> Result<Self, MediaError> {
        config.check_files()?;
        let library = config.library();
        let detection = SessionPool::open(&config.detection_model(), &library)?;
        let recognition = SessionPool::open(&config.recognition_model(), &library)?;
        let person = SessionPool::open(&config.person_model(), &library)?;
        let bib_map = SessionPool::embedded("bib_map.onnx", bib_map::MODEL, &library)?;
        let characters = recognition.with(|session| {
            session
                .metadata()
                .ok()
                .and_then(|metadata| metadata.custom("character"))
                .ok_or_else(|| {
                    MediaError::EngineUnavailable(format!(
                        "ppocr: {} has no `character` list in its metadata",
                        config.recognition_model().display()
                    ))
                })
        })?;
        let alphabet = Alphabet::from_metadata(&characters);
        tracing::info!(
            models_dir = %config.models_dir.display(),
            library = %library.display(),
            classes = alphabet.len(),
            "ppocr engine loaded"
        );
        Ok(Self {
            detection,
            recognition,
            person,
            bib_map,
            alphabet,
        })
    }

    /// Every text line of the photo (bibs and anything else), as rotated boxes; then the lines
    /// found by a closer look where the bib map sees a bib that no line covers, and the map's
    /// own boxes where that look finds none (`closer.rs`). Each carries how surely the bib map
    /// sees a bib's digits under it, which the worn decision weighs.
    ///
    /// # Errors
    /// `EngineUnavailable` when ONNX Runtime fails.
    pub fn text_lines(&self, photo: &Photo) -> Result<Vec<TextBox>, MediaError> {
        let mut boxes = self
            .detection
            .with(|session| detect::detect_text(session, &photo.image))?;
        let map = self
            .bib_map
            .with(|session| bib_map::bib_map(session, &photo.image))?;
        let regions = map.regions();
        let mut looks = 0;
        let mut unseen = Vec::new();
        for region in &regions {
            if looks == closer::MAX_LOOKS {
                break;
            }
            // Lines found on an earlier look cover a bib the map splits in two.
            if closer::covered(region, &boxes) {
                continue;
            }
            looks += 1;
            let found = self
                .detection
                .with(|session| closer::closer_look(session, &photo.image, region))?;
            // A lone digit's closer look may find only the small print under it.
            if !closer::covered(region, &found) {
                unseen.extend(closer::map_line(region, photo.image.dimensions()));
            }
            tracing::trace!(
                bounds = ?region.bounds,
                peak = region.peak,
                lines = found.len(),
                "closer look at a bib the detector missed"
            );
            boxes.extend(found);
        }
        // The map's own boxes where a closer look found no line over the digits come last: in
        // `boxes` during the loop, one could count as covering a later region and stop its look.
        boxes.extend(unseen);
        for text_box in &mut boxes {
            text_box.bib_map = Some(map.under(&Glyphs::from_corners(text_box.core())));
        }
        Ok(boxes)
    }

    /// Where the bib map sees bibs' digits (`bib_map.rs`), as `[x0, y0, x1, y1]` in photo
    /// pixels, most probable first.
    ///
    /// # Errors
    /// `EngineUnavailable` when ONNX Runtime fails.
    pub fn bib_regions(&self, photo: &Photo) -> Result<Vec<[f32; 4]>, MediaError> {
        let map = self
            .bib_map
            .with(|session| bib_map::bib_map(session, &photo.image))?;
        Ok(map
            .regions()
            .into_iter()
            .map(|region| region.bounds)
            .collect())
    }

    /// Reads the given lines of the photo; lines too small to crop read as empty.
    ///
    /// # Errors
    /// `EngineUnavailable` when ONNX Runtime fails.
    pub fn read_lines(
        &self,
        photo: &Photo,
        boxes: &[TextBox],
    ) -> Result<Vec<(TextBox, ReadLine)>, MediaError> {
        let mut kept = Vec::new();
        let mut crops = Vec::new();
        for text_box in boxes {
            if let Some(crop) = crop::crop_upright(&photo.image, text_box) {
                kept.push(text_box.clone());
                crops.push(crop);
            }
        }
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let read = self
            .recognition
            .with(|session| recognize::recognise(session, &self.alphabet, &crops))?;
        Ok(kept.into_iter().zip(read).collect())
    }

    /// Reads every doubtful digit line again from a wider box and keeps the wider read where it got
    /// back a digit the first box had cut off or read a doubted digit more surely; lines on the
    /// bib map, sure or doubtful, also take a wider read that gets back a cut digit surely
    /// (`widen.rs`).
    fn second_look(
        &self,
        photo: &Photo,
        mut lines: Vec<(TextBox, ReadLine)>,
    ) -> Result<Vec<(TextBox, ReadLine)>, MediaError> {
        // Each line read again, whether it is doubtful, and whether it lies on the bib map
        // (where a digit cut off at an end is looked for, doubtful or not).
        let digit_lines: Vec<(usize, bool, bool)> = (0..lines.len())
            .filter_map(|i| {
                let (text_box, read) = &lines[i];
                let doubtful = widen::worth_a_second_look(text_box, read);
                let on_map = widen::worth_a_look_for_a_cut_digit(text_box, read);
                (doubtful || on_map).then_some((i, doubtful, on_map))
            })
            .collect();
        let wider: Vec<TextBox> = digit_lines
            .iter()
            .map(|&(i, _, _)| widen::widened(&lines[i].0))
            .collect();
        if wider.is_empty() {
            return Ok(lines);
        }
        let reread = self.read_lines(photo, &wider)?;
        if reread.len() != digit_lines.len() {
            return Ok(lines);
        }
        for (&(i, doubtful, on_map), (wide_box, wide_read)) in digit_lines.iter().zip(reread) {
            let taken = widen::replacement(&lines[i].1, &wide_read, doubtful, on_map);
            let merged = match taken {
                None if doubtful => widen::merged(&lines[i].1, &wide_read),
                _ => None,
            };
            tracing::trace!(
                first = %lines[i].1.text,
                doubtful,
                wider = %wide_read.text,
                probabilities = ?wide_read.char_probabilities,
                taken = taken.is_some(),
                merged = merged.as_ref().map(|read| read.text.as_str()),
                "digit line read again wider"
            );
            if let Some(read) = taken {
                lines[i] = (wide_box, read);
            } else if let Some(read) = merged {
                lines[i].1 = read;
            }
        }
        Ok(lines)
    }

    /// Reads every line streaked by motion again with the streak undone (`deblur.rs`) and keeps
    /// the read whose weakest character is surest.
    fn unstreaked(
        &self,
        photo: &Photo,
        mut lines: Vec<(TextBox, ReadLine)>,
    ) -> Result<Vec<(TextBox, ReadLine)>, MediaError> {
        let mut tried = Vec::new();
        let mut sharpened = Vec::new();
        for (i, (text_box, _)) in lines.iter().enumerate() {
            let Some(crop) = crop::crop_upright(&photo.image, text_box) else {
                continue;
            };
            let line = recognize::to_line(&crop)?;
            if let Some(length) = deblur::streak(&line) {
                for noise in deblur::NOISE_RATIOS {
                    tried.push((i, length));
                    sharpened.push(deblur::deconvolve(&line, length, noise));
                }
            }
        }
        if sharpened.is_empty() {
            return Ok(lines);
        }
        let reads = self
            .recognition
            .with(|session| recognize::recognise(session, &self.alphabet, &sharpened))?;
        let sureness = |read: &ReadLine| {
            if read.text.is_empty() {
                0.0
            } else {
                bib::weakest(&read.char_probabilities)
            }
        };
        let mut best: Vec<Option<ReadLine>> = vec![None; lines.len()];
        for ((i, length), read) in tried.into_iter().zip(reads) {
            let first = &lines[i].1;
            let so_far = best[i].as_ref().map_or(sureness(first), &sureness);
            let taken = bib_number(&read.text).is_some()
                && sureness(&read) >= deblur::SURE
                && sureness(&read) > so_far;
            tracing::trace!(
                first = %first.text,
                first_sureness = sureness(first),
                unstreaked = %read.text,
                length,
                probabilities = ?read.char_probabilities,
                taken,
                "streaked line read again"
            );
            if taken {
                best[i] = Some(read);
            }
        }
        for (line, read) in lines.iter_mut().zip(best) {
            if let Some(mut read) = read {
                read.unstreaked = read.text != line.1.text;
                line.1 = read;
            }
        }
        Ok(lines)
    }
}

impl PhotoPipeline for PpOcrPipeline {
    fn name(&self) -> &'static str {
        "ppocr (PP-OCRv4 detection + PP-OCRv6 recognition on ONNX Runtime)"
    }

    fn detect(&self, photo: &Photo) -> Result<Vec<BibCandidate>, MediaError> {
        Ok(self
            .text_lines(photo)?
            .into_iter()
            .map(|text_box| BibCandidate {
                bounding_box: bib::bounding_box(&text_box),
                score: text_box.score,
                corners: Some(text_box.corners),
                found_by: text_box.found_by,
                bib_map: text_box.bib_map,
            })
            .collect())
    }

    fn read(&self, photo: &Photo, candidates: &[BibCandidate]) -> Result<Vec<Plate>, MediaError> {
        let boxes: Vec<TextBox> = candidates
            .iter()
            .map(|candidate| TextBox {
                corners: candidate.corners.unwrap_or_else(|| {
                    let b = &candidate.bounding_box;
                    let (x0, y0) = (b.x as f32, b.y as f32);
                    let (x1, y1) = (x0 + b.w as f32, y0 + b.h as f32);
                    [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
                }),
                score: candidate.score,
                found_by: candidate.found_by,
                bib_map: candidate.bib_map,
            })
            .collect();
        let lines = self.second_look(photo, self.read_lines(photo, &boxes)?)?;
        let lines = self.unstreaked(photo, lines)?;
        for (text_box, line) in &lines {
            tracing::trace!(
                text = %line.text,
                corners = ?text_box.corners,
                score = text_box.score,
                probabilities = ?line.char_probabilities,
                "text line read"
            );
        }
        let mut person_around = |glyphs: &crate::worn::Glyphs| {
            self.person
                .with(|session| person::person_around(session, &photo.image, glyphs))
        };
        bib::plates(&photo.image, &lines, !photo.video_frame, &mut person_around)
    }

    fn colors(&self, photo: &Photo, _plates: &[Plate]) -> Result<Vec<ColorShare>, MediaError> {
        Ok(dominant_colors(&photo.image, 5))
    }
}
