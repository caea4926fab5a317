//! Where artifacts are kept: an `object_store` opened from the `--artifacts` URL. This build
//! opens local folders (`file:///…`, created when missing); other schemes are refused at
//! start-up with a clear message. Thumbnails are named after their job, so a re-run
//! overwrites its own and nothing else.

use std::sync::Arc;

use bytes::Bytes;
use finishline_wire::JobId;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use crate::ArtifactError;

/// The store both binaries use when `--artifacts` is not given: a local folder.
pub const DEFAULT_ARTIFACTS: &str = "file:///tmp/finishline-artifacts";

/// A handle on the artifact store; cheap to clone.
#[derive(Clone)]
pub struct ArtifactStore {
    store: Arc<dyn ObjectStore>,
    url: String,
}

impl std::fmt::Debug for ArtifactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactStore")
            .field("url", &self.url)
            .finish()
    }
}

impl ArtifactStore {
    /// Opens the store an `--artifacts` URL names.
    ///
    /// # Errors
    /// Fails when the URL does not parse, names a scheme this build cannot open, or its
    /// folder cannot be created.
    pub fn open(url: &str) -> Result<Self, ArtifactError> {
        let bad = |reason: String| ArtifactError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|err| bad(err.to_string()))?;
        if parsed.scheme() != "file" {
            return Err(bad(format!(
                "scheme {:?} is not supported by this build (use file:///path)",
                parsed.scheme()
            )));
        }
        let folder = parsed
            .to_file_path()
            .map_err(|()| bad("not an absolute local path".to_owned()))?;
        std::fs::create_dir_all(&folder)
            .map_err(|err| bad(format!("cannot create {}: {err}", folder.display())))?;
        let store = LocalFileSystem::new_with_prefix(&folder)?;
        Ok(Self {
            store: Arc::new(store),
            url: url.to_owned(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn thumbnail_path(job_id: &JobId) -> Path {
        Path::from(format!("thumbnails/{job_id}.jpg"))
    }

    /// Stores the thumbnail of a job's photo.
    ///
    /// # Errors
    /// Fails when the store cannot be written.
    pub async fn put_thumbnail(&self, job_id: &JobId, jpeg: Vec<u8>) -> Result<(), ArtifactError> {
        self.store
            .put(&Self::thumbnail_path(job_id), PutPayload::from(jpeg))
            .await?;
        Ok(())
    }

    /// The thumbnail of a job's photo, or `None` when there is none.
    ///
    /// # Errors
    /// Fails when the store cannot be read.
    pub async fn thumbnail(&self, job_id: &JobId) -> Result<Option<Bytes>, ArtifactError> {
        match self.store.get(&Self::thumbnail_path(job_id)).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_thumbnail_put_in_a_local_folder_is_read_back_and_others_are_absent() {
        let dir = std::env::temp_dir().join(format!("fl-artifacts-{}", std::process::id()));
        let store = ArtifactStore::open(&format!("file://{}", dir.display())).unwrap();
        let job = JobId::parse("job-1").unwrap();
        store.put_thumbnail(&job, vec![1, 2, 3]).await.unwrap();
        assert_eq!(
            store.thumbnail(&job).await.unwrap().unwrap().as_ref(),
            &[1, 2, 3]
        );
        let other = JobId::parse("job-2").unwrap();
        assert!(store.thumbnail(&other).await.unwrap().is_none());
        assert!(ArtifactStore::open("s3://bucket/x").is_err());
        assert!(ArtifactStore::open("not a url").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
