//! Loading a photo's bytes from its source: a path under the media root, or an http(s) URL.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use finishline_wire::MediaSource;

use crate::MediaError;

/// Limits applied to every photo before and while it is decoded.
#[derive(Debug, Clone)]
pub struct MediaLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Largest image accepted, in pixels (decompression-bomb guard, checked from the header).
    pub max_pixels: u64,
    /// Largest width or height accepted.
    pub max_dimension: u32,
    /// Time limit of a URL fetch, connect to last byte.
    pub fetch_timeout: Duration,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Whether `{ url }` sources may reach private, loopback and link-local addresses (off by
    /// default: that would let uploaders probe the internal network).
    pub allow_private_urls: bool,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            max_bytes: 50 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_dimension: 20_000,
            fetch_timeout: Duration::from_secs(30),
            max_redirects: 5,
            allow_private_urls: false,
        }
    }
}

/// Loads sources within the limits.
pub struct SourceLoader {
    root: PathBuf,
    limits: MediaLimits,
    http: reqwest::Client,
}

impl SourceLoader {
    /// A loader for `media_root`, which must exist.
    ///
    /// # Errors
    /// Fails when the root does not exist or the HTTP client cannot be built.
    pub fn new(media_root: impl Into<PathBuf>, limits: MediaLimits) -> Result<Self, MediaError> {
        let root = media_root.into();
        let root = root.canonicalize().map_err(|err| {
            MediaError::Io(format!(
                "media root {} is not usable: {err}",
                root.display()
            ))
        })?;
        let allow_private = limits.allow_private_urls;
        let max_redirects = limits.max_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let allowed_scheme = matches!(attempt.url().scheme(), "http" | "https");
            let allowed_host = attempt
                .url()
                .host_str()
                .is_some_and(|host| crate::ssrf::literal_allowed(host, allow_private));
            if attempt.previous().len() >= max_redirects {
                attempt.error("too many redirects")
            } else if !(allowed_scheme && allowed_host) {
                attempt.error("redirect to a refused target")
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .timeout(limits.fetch_timeout)
            .connect_timeout(limits.fetch_timeout.min(Duration::from_secs(10)))
            .redirect(redirects)
            .dns_resolver(std::sync::Arc::new(crate::ssrf::GuardedResolver {
                allow_private,
            }))
            .build()
            .map_err(|err| MediaError::Io(format!("http client: {err}")))?;
        Ok(Self { root, limits, http })
    }

    pub fn media_root(&self) -> &Path {
        &self.root
    }

    /// The bytes of a source.
    ///
    /// # Errors
    /// Refuses paths that leave the media root, non-http(s) URLs and anything over the size
    /// limit; reports missing files and failed fetches.
    pub async fn load(&self, source: &MediaSource) -> Result<Vec<u8>, MediaError> {
        match source {
            MediaSource::Path(path) => self.load_path(path).await,
            MediaSource::Url(url) => self.load_url(url).await,
        }
    }

    /// Resolves a relative path under the root, refusing `..`, absolute paths and symlinks
    /// that lead outside.
    fn resolve(&self, relative: &str) -> Result<PathBuf, MediaError> {
        let path = Path::new(relative);
        if relative.is_empty()
            || path
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(MediaError::SourceRefused(format!(
                "path {relative:?} must be relative to the media root, without '..'"
            )));
        }
        let joined = self.root.join(path);
        let real = joined.canonicalize().map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => {
                MediaError::NotFound(format!("no file {relative:?} under the media root"))
            }
            _ => MediaError::Io(format!("{relative:?}: {err}")),
        })?;
        if !real.starts_with(&self.root) {
            return Err(MediaError::SourceRefused(format!(
                "path {relative:?} leads outside the media root"
            )));
        }
        Ok(real)
    }

    async fn load_path(&self, relative: &str) -> Result<Vec<u8>, MediaError> {
        let path = self.resolve(relative)?;
        let metadata = tokio::fs::metadata(&path)
            .await
            .map_err(|err| MediaError::Io(format!("{relative:?}: {err}")))?;
        if !metadata.is_file() {
            return Err(MediaError::SourceRefused(format!(
                "{relative:?} is not a file"
            )));
        }
        if metadata.len() > self.limits.max_bytes {
            return Err(MediaError::TooLarge(format!(
                "{relative:?} has {} bytes; the limit is {}",
                metadata.len(),
                self.limits.max_bytes
            )));
        }
        tokio::fs::read(&path)
            .await
            .map_err(|err| MediaError::Io(format!("{relative:?}: {err}")))
    }

    async fn load_url(&self, url: &str) -> Result<Vec<u8>, MediaError> {
        let limit = self.limits.max_bytes;
        let (mut response, host) = self.open_url(url, limit).await?;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| MediaError::Fetch(format!("{host}: {}", without_url(&err))))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(MediaError::TooLarge(format!(
                    "{host} sends more than {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The file of a `{ path }` source, confined to the media root and at most `max_bytes`
    /// long, for tools that read files themselves (ffmpeg).
    ///
    /// # Errors
    /// As [`SourceLoader::load`] for paths.
    pub async fn local_file(&self, relative: &str, max_bytes: u64) -> Result<PathBuf, MediaError> {
        let path = self.resolve(relative)?;
        let metadata = tokio::fs::metadata(&path)
            .await
            .map_err(|err| MediaError::Io(format!("{relative:?}: {err}")))?;
        if !metadata.is_file() {
            return Err(MediaError::SourceRefused(format!(
                "{relative:?} is not a file"
            )));
        }
        if metadata.len() > max_bytes {
            return Err(MediaError::TooLarge(format!(
                "{relative:?} has {} bytes; the limit is {max_bytes}",
                metadata.len()
            )));
        }
        Ok(path)
    }

    /// Downloads a `{ url }` source into `dest` (created or truncated) with the same guards as
    /// [`SourceLoader::load`] but a limit of its own (videos are larger than photos). Returns
    /// the bytes written; on error the file may hold a partial body.
    ///
    /// # Errors
    /// As [`SourceLoader::load`] for URLs; `Io` when the file cannot be written.
    pub async fn download(
        &self,
        url: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<u64, MediaError> {
        use tokio::io::AsyncWriteExt;
        let (mut response, host) = self.open_url(url, max_bytes).await?;
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|err| MediaError::Io(format!("temporary file: {err}")))?;
        let mut written = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| MediaError::Fetch(format!("{host}: {}", without_url(&err))))?
        {
            written += chunk.len() as u64;
            if written > max_bytes {
                return Err(MediaError::TooLarge(format!(
                    "{host} sends more than {max_bytes} bytes"
                )));
            }
            file.write_all(&chunk)
                .await
                .map_err(|err| MediaError::Io(format!("temporary file: {err}")))?;
        }
        file.flush()
            .await
            .map_err(|err| MediaError::Io(format!("temporary file: {err}")))?;
        Ok(written)
    }

    /// Checks a URL, sends the request and checks the answer's status and announced length.
    async fn open_url(
        &self,
        url: &str,
        limit: u64,
    ) -> Result<(reqwest::Response, String), MediaError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|err| MediaError::SourceRefused(format!("bad URL: {err}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(MediaError::SourceRefused(format!(
                "scheme {:?} is not allowed; use http or https",
                parsed.scheme()
            )));
        }
        let host = parsed.host_str().unwrap_or("?").to_owned();
        if !crate::ssrf::literal_allowed(&host, self.limits.allow_private_urls) {
            return Err(MediaError::SourceRefused(format!(
                "{host} is an internal address; only public hosts can be fetched"
            )));
        }
        let response = self.http.get(parsed).send().await.map_err(|err| {
            if is_refused_target(&err) {
                MediaError::SourceRefused(format!(
                    "{host} leads to an internal address; only public hosts can be fetched"
                ))
            } else {
                MediaError::Fetch(format!("{host}: {}", without_url(&err)))
            }
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(MediaError::NotFound(format!("{host} answered {status}")));
        }
        if status.is_client_error() {
            return Err(MediaError::SourceRefused(format!(
                "{host} answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(MediaError::Fetch(format!("{host} answered {status}")));
        }
        if let Some(length) = response.content_length()
            && length > limit
        {
            return Err(MediaError::TooLarge(format!(
                "{host} sends {length} bytes; the limit is {limit}"
            )));
        }
        Ok((response, host))
    }
}

/// Whether a request failed because the guard refused its target (by name or by redirect).
fn is_refused_target(err: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if text.contains("internal addresses") || text.contains("refused target") {
            return true;
        }
        source = e.source();
    }
    false
}

/// A reqwest error's description without its URL, which may carry credentials or signed
/// tokens.
fn without_url(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else if err.is_redirect() {
        "too many redirects"
    } else if err.is_body() || err.is_decode() {
        "the response broke off"
    } else {
        "the request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fl-media-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn a_path_that_leaves_the_media_root_is_refused() {
        let root = temp_root("escape");
        let outside = temp_root("escape-outside");
        std::fs::write(outside.join("secret.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.jpg"), root.join("link.jpg")).unwrap();
        let loader = SourceLoader::new(&root, MediaLimits::default()).unwrap();
        for bad in ["../x.jpg", "/etc/passwd", "a/../../x", "link.jpg", ""] {
            let err = loader
                .load(&MediaSource::Path(bad.into()))
                .await
                .unwrap_err();
            assert!(matches!(err, MediaError::SourceRefused(_)), "{bad}: {err}");
            assert!(err.is_permanent());
        }
    }

    #[tokio::test]
    async fn a_missing_file_is_not_found_and_a_big_one_too_large() {
        let root = temp_root("missing");
        std::fs::write(root.join("big.jpg"), vec![0u8; 2048]).unwrap();
        let limits = MediaLimits {
            max_bytes: 1024,
            ..MediaLimits::default()
        };
        let loader = SourceLoader::new(&root, limits).unwrap();
        let err = loader
            .load(&MediaSource::Path("nope.jpg".into()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "not_found");
        let err = loader
            .load(&MediaSource::Path("big.jpg".into()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "too_large");
    }

    #[tokio::test]
    async fn internal_targets_are_refused_unless_allowed() {
        let loader = SourceLoader::new(temp_root("ssrf"), MediaLimits::default()).unwrap();
        let ok =
            serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                .await;
        for url in [
            ok.as_str(),
            "http://localhost:9/x.jpg",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:9/x",
        ] {
            let err = loader
                .load(&MediaSource::Url(url.into()))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "source_refused", "{url}: {err}");
        }
    }

    #[tokio::test]
    async fn only_http_and_https_urls_are_fetched() {
        let loader = SourceLoader::new(temp_root("ftp"), MediaLimits::default()).unwrap();
        for bad in ["ftp://example.org/x.jpg", "file:///etc/passwd", "not a url"] {
            let err = loader
                .load(&MediaSource::Url(bad.into()))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "source_refused", "{bad}");
        }
    }

    async fn serve_once(response: &'static [u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            if let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(response).await;
            }
        });
        format!("http://{addr}/photo.jpg")
    }

    #[tokio::test]
    async fn a_download_goes_to_a_file_within_its_own_limit() {
        let root = temp_root("download");
        let limits = MediaLimits {
            max_bytes: 3,
            allow_private_urls: true,
            ..MediaLimits::default()
        };
        let loader = SourceLoader::new(&root, limits).unwrap();
        let dest = root.join("video.part");
        let ok =
            serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                .await;
        assert_eq!(loader.download(&ok, &dest, 100).await.unwrap(), 5);
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        let big =
            serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                .await;
        let err = loader.download(&big, &dest, 4).await.unwrap_err();
        assert_eq!(err.code(), "too_large");
        std::fs::write(root.join("clip.mp4"), b"12345").unwrap();
        assert!(loader.local_file("clip.mp4", 5).await.is_ok());
        assert_eq!(
            loader.local_file("clip.mp4", 4).await.unwrap_err().code(),
            "too_large"
        );
        assert_eq!(
            loader
                .local_file("../clip.mp4", 5)
                .await
                .unwrap_err()
                .code(),
            "source_refused"
        );
    }

    #[tokio::test]
    async fn urls_are_fetched_within_the_size_limit_and_server_errors_are_transient() {
        let limits = MediaLimits {
            max_bytes: 100,
            allow_private_urls: true,
            ..MediaLimits::default()
        };
        let loader = SourceLoader::new(temp_root("url"), limits).unwrap();
        let ok =
            serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                .await;
        assert_eq!(loader.load(&MediaSource::Url(ok)).await.unwrap(), b"hello");
        let big = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\nhello",
        )
        .await;
        assert_eq!(
            loader
                .load(&MediaSource::Url(big))
                .await
                .unwrap_err()
                .code(),
            "too_large"
        );
        let down = serve_once(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        let err = loader.load(&MediaSource::Url(down)).await.unwrap_err();
        assert_eq!(err.code(), "fetch_failed");
        assert!(!err.is_permanent());
        let gone =
            serve_once(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        assert_eq!(
            loader
                .load(&MediaSource::Url(gone))
                .await
                .unwrap_err()
                .code(),
            "not_found"
        );
    }
}
