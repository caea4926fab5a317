//! The thumbnail of each bib a video shows, at its best frame: the frame where the number was
//! read with the highest confidence. A frame is encoded (long side ≤ 320 px, JPEG, a few KB)
//! only when it raises a number's best read, and only the JPEG is kept, so a run still holds
//! one decoded frame at a time. When the reads are final (the event's settings applied), each
//! reported number's thumbnail goes to the artifact store and its path into the plate.

use std::collections::HashMap;
use std::sync::Arc;

use finishline_artifacts::ArtifactStore;
use finishline_wire::{JobId, VideoPlate};

/// The JPEG of the best frame of each number read so far, by the number as read.
pub struct BestFrames {
    store: Option<ArtifactStore>,
    by_read: HashMap<u64, Arc<Vec<u8>>>,
}

impl BestFrames {
    /// Thumbnails go to `store`; none: no thumbnails are made.
    pub fn new(store: Option<ArtifactStore>) -> Self {
        Self {
            store,
            by_read: HashMap::new(),
        }
    }

    /// Whether frames should be encoded at all.
    pub fn enabled(&self) -> bool {
        self.store.is_some()
    }

    /// `jpeg` is the best frame so far of each of `numbers` (as read).
    pub fn keep(&mut self, numbers: &[u64], jpeg: Vec<u8>) {
        let jpeg = Arc::new(jpeg);
        for number in numbers {
            self.by_read.insert(*number, jpeg.clone());
        }
    }

    /// Stores the thumbnail of each reported plate (found by the number as read, before a
    /// start-list correction) as `thumbnails/<jobId>/<number>.jpg` and sets its `thumbnail`
    /// to where the gateway serves it. A thumbnail that cannot be stored is logged and left
    /// out: the bibs still count.
    pub async fn store(self, job_id: &JobId, plates: &mut [VideoPlate]) {
        let Some(store) = self.store else {
            return;
        };
        for plate in plates {
            let read = plate.corrected_from.unwrap_or(plate.number);
            let Some(jpeg) = self.by_read.get(&read) else {
                continue;
            };
            match store
                .put_bib_thumbnail(job_id, plate.number, jpeg.as_ref().clone())
                .await
            {
                Ok(()) => {
                    plate.thumbnail =
                        Some(format!("/v1/jobs/{job_id}/thumbnails/{}", plate.number));
                }
                Err(err) => {
                    tracing::warn!(number = plate.number, error = %err, "bib thumbnail not stored; the video completes without it");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(number: u64, corrected_from: Option<u64>) -> VideoPlate {
        VideoPlate {
            number,
            confidence: 0.9,
            first_seen_ms: 0,
            last_seen_ms: 500,
            corrected_from,
            ..VideoPlate::default()
        }
    }

    #[tokio::test]
    async fn each_reported_number_gets_the_thumbnail_of_its_best_read_frame() {
        let dir = std::env::temp_dir().join(format!("fl-best-frames-{}", std::process::id()));
        let store = ArtifactStore::open(&format!("file://{}", dir.display())).unwrap();
        let job = JobId::parse("job-v").unwrap();
        let mut best = BestFrames::new(Some(store.clone()));
        assert!(best.enabled());
        best.keep(&[5], vec![1]);
        best.keep(&[5, 7], vec![2]);
        // 5 as read; 8 corrected from the 7 read; 9 never had a frame kept.
        let mut plates = vec![plate(5, None), plate(8, Some(7)), plate(9, None)];
        best.store(&job, &mut plates).await;
        let paths: Vec<Option<&str>> = plates.iter().map(|p| p.thumbnail.as_deref()).collect();
        assert_eq!(
            paths,
            [
                Some("/v1/jobs/job-v/thumbnails/5"),
                Some("/v1/jobs/job-v/thumbnails/8"),
                None
            ]
        );
        for number in [5, 8] {
            let stored = store.bib_thumbnail(&job, number).await.unwrap().unwrap();
            assert_eq!(stored.as_ref(), &[2], "the later, better frame of {number}");
        }
        assert!(store.bib_thumbnail(&job, 7).await.unwrap().is_none());

        let mut without = vec![plate(5, None)];
        let mut off = BestFrames::new(None);
        assert!(!off.enabled());
        off.keep(&[5], vec![1]);
        off.store(&job, &mut without).await;
        assert!(without[0].thumbnail.is_none(), "no store, no thumbnail");
        let _ = std::fs::remove_dir_all(dir);
    }
}
