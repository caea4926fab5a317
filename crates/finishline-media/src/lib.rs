//! The media pipeline: load a photo from its source, decode it safely, and run the stages
//! detection → ocr → color; videos are probed and sampled into frames with ffmpeg.
//!
//! This crate knows nothing of Redis, apalis or Socket.IO: the worker calls it, inside its
//! job span, with CPU work on a blocking pool. Errors say whether retrying can help.

mod classical;
mod color;
mod color_name;
mod decode;
mod error;
mod pipeline;
pub mod ppocr;
mod settings;
mod source;
mod ssrf;
#[cfg(test)]
mod test_images;
mod video;
mod video_plates;
pub mod worn;

pub use classical::ClassicalPipeline;
pub use color::{bib_and_shirt_colors, dominant_colors, name_plate_colors};
pub use color_name::{ExposureGain, Lab, bib_and_shirt_names, color_name, hex};
pub use decode::{Photo, decode_photo};
pub use error::MediaError;
pub use pipeline::{BibCandidate, FoundBy, NoopPipeline, PhotoPipeline, UnavailablePipeline};
pub use ppocr::{Detector, PpOcrConfig, PpOcrPipeline};
pub use settings::{BibRead, CORRECTION_FACTOR, apply_event_settings};
pub use source::{MediaLimits, SourceLoader};
pub use video::{Frame, FrameStream, VideoError, VideoInfo, VideoTools};
pub use video_plates::{BestReads, PlateMerger};
