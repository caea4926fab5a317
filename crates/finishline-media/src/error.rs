//! Media errors, split into permanent (fail now) and transient (retry with backoff).

/// What went wrong with a photo. Messages are readable by the person who uploaded it.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("source refused: {0}")]
    SourceRefused(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("unsupported format: {0}")]
    Unsupported(String),
    #[error("corrupt image: {0}")]
    Corrupt(String),
    #[error("fetch failed: {0}")]
    Fetch(String),
    #[error("i/o error: {0}")]
    Io(String),
    #[error("engine unavailable: {0}")]
    EngineUnavailable(String),
}

impl MediaError {
    /// Permanent errors will fail the same way on every attempt.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Fetch(_) | Self::Io(_))
    }

    /// A stable code for `photo:failed.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SourceRefused(_) => "source_refused",
            Self::NotFound(_) => "not_found",
            Self::TooLarge(_) => "too_large",
            Self::Unsupported(_) => "unsupported_format",
            Self::Corrupt(_) => "corrupt_image",
            Self::Fetch(_) => "fetch_failed",
            Self::Io(_) => "io_error",
            Self::EngineUnavailable(_) => "engine_unavailable",
        }
    }
}
