//! The media folder of a test: the worker's `--media-root`, where the test writes the photos
//! and videos it enqueues by path.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use crate::unique_prefix;

/// A fresh folder under the temp dir, removed on drop unless the test failed (then it is
/// kept for a post-mortem). Derefs to its `Path`.
pub struct MediaDir {
    path: PathBuf,
}

/// A new empty media folder named after `test`.
pub fn media_dir(test: &str) -> MediaDir {
    let path = std::env::temp_dir().join(unique_prefix(test));
    std::fs::create_dir_all(&path).expect("media dir");
    MediaDir { path }
}

impl Deref for MediaDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for MediaDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for MediaDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("media folder kept: {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
