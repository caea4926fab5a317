//! The recognition engine named by `--pipeline`: PP-OCR, the classical engine, none (`noop`),
//! or the first that starts (`auto`), falling back to an engine that fails every `ocr` stage
//! with `engine_unavailable` rather than report an empty success.

use std::sync::Arc;

use anyhow::Context;
use finishline_media::{
    ClassicalPipeline, NoopPipeline, PhotoPipeline, PpOcrConfig, PpOcrPipeline, UnavailablePipeline,
};

use crate::Config;

/// The recognition engine named by `--pipeline` (see its help), logged at start-up.
///
/// # Errors
/// `ppocr` when its files do not load.
pub(crate) fn choose_pipeline(config: &Config) -> anyhow::Result<Arc<dyn PhotoPipeline>> {
    let ppocr = PpOcrConfig {
        models_dir: config.models_dir.clone(),
        onnxruntime_library: config.onnxruntime_library.clone(),
        detector: config.detector,
    };
    let pipeline: Arc<dyn PhotoPipeline> = match config.pipeline.as_str() {
        "noop" => Arc::new(NoopPipeline),
        "ppocr" => Arc::new(PpOcrPipeline::new(&ppocr).context("--pipeline ppocr cannot start")?),
        "classical" => Arc::new(
            ClassicalPipeline::with_tesseract(&config.tesseract)
                .context("--pipeline classical cannot start")?,
        ),
        _ => match PpOcrPipeline::new(&ppocr) {
            Ok(engine) => Arc::new(engine),
            Err(ppocr_err) => match ClassicalPipeline::with_tesseract(&config.tesseract) {
                Ok(engine) => {
                    tracing::warn!(
                        error = %ppocr_err,
                        "PP-OCR unavailable; using the classical engine (imageproc + tesseract)"
                    );
                    Arc::new(engine)
                }
                Err(classical_err) => {
                    tracing::warn!(
                        ppocr = %ppocr_err,
                        classical = %classical_err,
                        "no OCR engine available: every photo's ocr stage will fail with engine_unavailable"
                    );
                    Arc::new(UnavailablePipeline::new(format!(
                        "{}; {}",
                        unavailable_reason(ppocr_err),
                        unavailable_reason(classical_err)
                    )))
                }
            },
        },
    };
    tracing::info!(pipeline = pipeline.name(), requested = %config.pipeline, "recognition engine chosen");
    Ok(pipeline)
}

fn unavailable_reason(err: finishline_media::MediaError) -> String {
    match err {
        finishline_media::MediaError::EngineUnavailable(reason) => reason,
        other => other.to_string(),
    }
}
