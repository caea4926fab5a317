//! The stages of a photo and the honest baseline engine.

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

/// The engine used until recognition lands: it decodes for real and computes real colours,
/// but reads no number — it never invents one.
#[derive(Debug, Default)]
pub struct BaselinePipeline;

impl BaselinePipeline {
    pub fn new() -> Self {
        Self
    }
}

impl PhotoPipeline for BaselinePipeline {
    fn name(&self) -> &'static str {
        "baseline (no bib recognition; real colours)"
    }

    fn detect(&self, _photo: &Photo) -> Result<Vec<BibCandidate>, MediaError> {
        Ok(Vec::new())
    }

    fn read(&self, _photo: &Photo, _candidates: &[BibCandidate]) -> Result<Vec<Plate>, MediaError> {
        Ok(Vec::new())
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
    fn the_baseline_pipeline_reads_no_number_but_real_colours() {
        let photo = Photo {
            image: RgbImage::from_pixel(64, 48, Rgb([0, 200, 0])),
        };
        let pipeline = BaselinePipeline::new();
        let candidates = pipeline.detect(&photo).unwrap();
        assert!(candidates.is_empty());
        assert!(pipeline.read(&photo, &candidates).unwrap().is_empty());
        let colors = pipeline.colors(&photo, &[]).unwrap();
        assert_eq!(colors.len(), 1);
        assert_eq!(colors[0].share, 1.0);
    }
}
