//! Where artifacts are kept: an `object_store` opened from the `--artifacts` URL, through the
//! crate's own builders: a local folder (`file:///…`, created when missing), S3 (`s3://bucket/
//! prefix`), GCS (`gs://bucket/prefix`) or Azure (`az://container/prefix`, or the `abfss://`
//! and `https://` forms the Azure builder knows). Credentials, region and endpoint come from the
//! providers' standard environment variables (`AWS_ACCESS_KEY_ID`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`,
//! …), never from the URL, so no secret reaches a log line. Other schemes are refused at
//! start-up with a clear message. Thumbnails are named after their job (a photo's
//! `thumbnails/<jobId>.jpg`, a video's one per bib `thumbnails/<jobId>/<number>.jpg`), so a
//! re-run overwrites its own and nothing else.

use std::sync::Arc;

use bytes::Bytes;
use finishline_wire::JobId;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
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
    /// Fails when the URL does not parse, names a scheme this build cannot open, its folder
    /// cannot be created, or the cloud builder refuses its settings (a missing bucket name, a
    /// malformed endpoint). Credentials are checked by the provider at the first request.
    pub fn open(url: &str) -> Result<Self, ArtifactError> {
        let bad = |reason: String| ArtifactError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|err| bad(err.to_string()))?;
        let store: Arc<dyn ObjectStore> = match parsed.scheme() {
            "file" => Arc::new(open_local_folder(&parsed).map_err(bad)?),
            "s3" | "s3a" => cloud(AmazonS3Builder::from_env().with_url(url).build(), &parsed)?,
            "gs" => cloud(
                GoogleCloudStorageBuilder::from_env().with_url(url).build(),
                &parsed,
            )?,
            "az" | "adl" | "azure" | "abfs" | "abfss" => cloud(
                MicrosoftAzureBuilder::from_env().with_url(url).build(),
                &parsed,
            )?,
            other => {
                return Err(bad(format!(
                    "scheme {other:?} is not supported (use file:///path, s3://bucket/prefix, \
                     gs://bucket/prefix or az://container/prefix)"
                )));
            }
        };
        Ok(Self {
            store,
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
        self.get(&Self::thumbnail_path(job_id)).await
    }

    /// A video's bib thumbnails are kept beside its job's name, one per reported number.
    fn bib_thumbnail_path(job_id: &JobId, number: u64) -> Path {
        Path::from(format!("thumbnails/{job_id}/{number}.jpg"))
    }

    /// Stores the thumbnail of the frame where a video job read `number` best.
    ///
    /// # Errors
    /// Fails when the store cannot be written.
    pub async fn put_bib_thumbnail(
        &self,
        job_id: &JobId,
        number: u64,
        jpeg: Vec<u8>,
    ) -> Result<(), ArtifactError> {
        self.store
            .put(
                &Self::bib_thumbnail_path(job_id, number),
                PutPayload::from(jpeg),
            )
            .await?;
        Ok(())
    }

    /// The thumbnail of a video job's best frame of `number`, or `None` when there is none.
    ///
    /// # Errors
    /// Fails when the store cannot be read.
    pub async fn bib_thumbnail(
        &self,
        job_id: &JobId,
        number: u64,
    ) -> Result<Option<Bytes>, ArtifactError> {
        self.get(&Self::bib_thumbnail_path(job_id, number)).await
    }

    async fn get(&self, path: &Path) -> Result<Option<Bytes>, ArtifactError> {
        match self.store.get(path).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// A local folder, created when missing.
fn open_local_folder(url: &url::Url) -> Result<LocalFileSystem, String> {
    let folder = url
        .to_file_path()
        .map_err(|()| "not an absolute local path".to_owned())?;
    std::fs::create_dir_all(&folder)
        .map_err(|err| format!("cannot create {}: {err}", folder.display()))?;
    LocalFileSystem::new_with_prefix(&folder).map_err(|err| err.to_string())
}

/// A cloud store from its builder, under the URL's path as a key prefix (`s3://bucket/a/b`
/// keeps its objects under `a/b/`); the builders take only the bucket from the URL.
fn cloud<S: ObjectStore>(
    built: object_store::Result<S>,
    url: &url::Url,
) -> Result<Arc<dyn ObjectStore>, ArtifactError> {
    let store = built.map_err(|err| ArtifactError::BadUrl {
        url: url.to_string(),
        reason: err.to_string(),
    })?;
    let prefix = url.path().trim_matches('/');
    if prefix.is_empty() {
        return Ok(Arc::new(store));
    }
    Ok(Arc::new(PrefixStore::new(store, Path::from(prefix))))
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
        // A video's bib thumbnails sit beside the photo thumbnail of the same name.
        store.put_bib_thumbnail(&job, 42, vec![4, 2]).await.unwrap();
        assert_eq!(
            store
                .bib_thumbnail(&job, 42)
                .await
                .unwrap()
                .unwrap()
                .as_ref(),
            &[4, 2]
        );
        assert!(store.bib_thumbnail(&job, 43).await.unwrap().is_none());
        assert!(store.bib_thumbnail(&other, 42).await.unwrap().is_none());
        assert_eq!(
            store.thumbnail(&job).await.unwrap().unwrap().as_ref(),
            &[1, 2, 3]
        );
        assert!(ArtifactStore::open("ftp://host/x").is_err());
        assert!(ArtifactStore::open("not a url").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn cloud_urls_open_through_their_builders_without_a_request() {
        // Opening makes no request: credentials are checked by the provider on first use.
        let s3 = ArtifactStore::open("s3://finishline-bucket/artifacts/prod").unwrap();
        assert_eq!(s3.url(), "s3://finishline-bucket/artifacts/prod");
        assert!(ArtifactStore::open("s3:///no-bucket").is_err());
    }
}
