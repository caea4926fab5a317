//! Files the worker produces for people to look at, and the store that keeps them: the
//! thumbnail of each photo (long side at most [`THUMBNAIL_LONG_SIDE`] px, JPEG), written by
//! the worker and served by the gateway, through the `object_store` crate (a local folder,
//! `file:///…`). No Redis here, and no recognition: the worker hands over decoded pixels.

mod store;
mod thumbnail;

pub use store::{ArtifactStore, DEFAULT_ARTIFACTS};
pub use thumbnail::{THUMBNAIL_LONG_SIDE, encode_thumbnail};

/// Errors of the artifact store and of thumbnail making.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The `--artifacts` URL is not one this build can open.
    #[error("artifact store {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("thumbnail: {0}")]
    Thumbnail(String),
}
