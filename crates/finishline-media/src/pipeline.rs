//! The stages of a photo, the engine used when no OCR engine can run, and the benchmark engine.

use finishline_wire::{BoundingBox, ColorShare, Plate};

use crate::{MediaError, Photo, dominant_colors};

/// A region that may hold a bib.
#[derive(Debug, Clone, PartialEq)]
pub struct BibCandidate {
    pub bounding_box: BoundingBox,
    pub score: f32,
    /// The region as a rotated quadrilateral (top-left, top-right, bottom-right, bottom-left,
    /// in photo pixels) when the engine finds one; `None` means the bounding box itself.
    pub corners: Option<[[f32; 2]; 4]>,
    /// How the engine found it; the PP-OCR engine judges each kind its own way.
    pub found_by: FoundBy,
    /// How surely the PP-OCR engine's bib map sees a bib's digits here (0–1); `None` for an
    /// engine without one.
    pub bib_map: Option<f32>,
}

/// How a candidate line was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// The engine's text detector, over the whole photo.
    Detector,
    /// The text detector on a closer look where the bib map sees a bib that no line covers
    /// (PP-OCR, `ppocr/closer.rs`): its read must be surer.
    CloserLook,
    /// One glyph alone on a plain patch rather than a line of text, found by a caller's own
    /// search (the PP-OCR engine's, `ppocr/lone.rs`, was removed on 5 December 2026): judged
    /// without the person model, which fires on clutter at that scale.
    LoneGlyph,
}

/// The stages of a photo: detection → ocr → color. Implementations are CPU-bound and
/// synchronous; the worker runs them on a blocking pool.
pub trait PhotoPipeline: Send + Sync + 'static {
    /// A short name logged at start-up.
    fn name(&self) -> &'static str;

    /// Whether the engine needs no photo at all (benchmark mode): the worker then neither
    /// loads nor decodes the source.
    fn skips_media(&self) -> bool {
        false
    }

    /// Finds regions that may hold bibs.
    ///
    /// # Errors
    /// A [`MediaError`]; `EngineUnavailable` when the engine cannot run.
    fn detect(&self, photo: &Photo) -> Result<Vec<BibCandidate>, MediaError>;

    /// Reads the numbers of the candidates.
    ///
    /// # Errors
    /// A [`MediaError`]; `EngineUnavailable` when no OCR engine is available.
    fn read(&self, photo: &Photo, candidates: &[BibCandidate]) -> Result<Vec<Plate>, MediaError>;

    /// Dominant colours of the photo (and of the bibs, when an engine finds them).
    ///
    /// # Errors
    /// A [`MediaError`].
    fn colors(&self, photo: &Photo, plates: &[Plate]) -> Result<Vec<ColorShare>, MediaError>;
}

/// The engine used when no OCR engine can run on this machine: photos are decoded and their
/// colours computed, and the `ocr` stage fails with `EngineUnavailable` saying why, so a photo
/// is never reported as read with no bib when nothing could read it.
#[derive(Debug, Clone)]
pub struct UnavailablePipeline {
    reason: String,
}

impl UnavailablePipeline {
    /// `reason` says what is missing and how to install it.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl PhotoPipeline for UnavailablePipeline {
    fn name(&self) -> &'static str {
        "unavailable (no OCR engine on this machine: every ocr stage fails)"
    }

    fn detect(&self, _photo: &Photo) -> Result<Vec<BibCandidate>, MediaError> {
        Ok(Vec::new())
    }

    fn read(&self, _photo: &Photo, _candidates: &[BibCandidate]) -> Result<Vec<Plate>, MediaError> {
        Err(MediaError::EngineUnavailable(self.reason.clone()))
    }

    fn colors(&self, photo: &Photo, _plates: &[Plate]) -> Result<Vec<ColorShare>, MediaError> {
        Ok(dominant_colors(&photo.image, 5))
    }
}

/// The benchmark engine: no image work at all (no decode, no colours), so a benchmark
/// measures the queue, progress publishing and counting alone. Never for production.
#[derive(Debug, Default)]
pub struct NoopPipeline;

impl PhotoPipeline for NoopPipeline {
    fn name(&self) -> &'static str {
        "noop (benchmark mode: no image work)"
    }

    fn skips_media(&self) -> bool {
        true
    }

    fn detect(&self, _photo: &Photo) -> Result<Vec<BibCandidate>, MediaError> {
        Ok(Vec::new())
    }

    fn read(&self, _photo: &Photo, _candidates: &[BibCandidate]) -> Result<Vec<Plate>, MediaError> {
        Ok(Vec::new())
    }

    fn colors(&self, _photo: &Photo, _plates: &[Plate]) -> Result<Vec<ColorShare>, MediaError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn the_unavailable_engine_fails_the_ocr_stage_with_its_reason() {
        let photo = Photo::new(RgbImage::from_pixel(64, 48, Rgb([0, 200, 0])));
        let pipeline = UnavailablePipeline::new("ppocr: models/x.onnx is missing; run install");
        let candidates = pipeline.detect(&photo).unwrap();
        let err = pipeline.read(&photo, &candidates).unwrap_err();
        assert_eq!(err.code(), "engine_unavailable");
        assert!(err.is_permanent());
        assert_eq!(
            err.to_string(),
            "engine unavailable: ppocr: models/x.onnx is missing; run install"
        );
        let colors = pipeline.colors(&photo, &[]).unwrap();
        assert_eq!(colors.len(), 1);
        assert_eq!(colors[0].share, 1.0);
    }
}
