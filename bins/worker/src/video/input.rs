//! The file ffmpeg reads for a video job.

use std::path::{Path, PathBuf};

/// A video file for ffmpeg; a downloaded one is removed on drop.
pub struct VideoInput {
    pub path: PathBuf,
    /// Downloaded for this run: removed on drop.
    pub temporary: bool,
}

impl VideoInput {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for VideoInput {
    fn drop(&mut self) {
        if self.temporary
            && let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %err, "cannot remove a downloaded video");
        }
    }
}
