//! Driving the progress bus the way a worker does, without a worker process: through the
//! worker's batched writer, so the tests exercise the scripts a worker runs.

use finishline_bus::{BusWriter, Finish, Progress, ProgressBus, RunOutcome, WriterConfig};
use finishline_wire::{JobId, JobKind, JobState, MessageName};
use serde_json::json;

/// A writer on `bus`, as a worker has one.
pub fn bus_writer(bus: &ProgressBus) -> BusWriter {
    BusWriter::spawn(bus.clone(), WriterConfig::default()).0
}

/// Runs a photo job through its stages and ends it as succeeded with no bib read, each step
/// confirmed by Redis: a `photo:progress` per stage of the photo's list, at its progress step
/// (detection 0, ocr 33, color 67 %), then `photo:completed`.
/// Returns false when the job could not start (it has ended already).
pub async fn run_photo_job(bus: &ProgressBus, job_id: &JobId, photo_id: &str) -> bool {
    let writer = bus_writer(bus);
    let RunOutcome::Started { run, .. } = writer.start_run(job_id).await.unwrap() else {
        return false;
    };
    for &stage in JobKind::Photo.stages() {
        let progress = JobKind::Photo.stage_progress(stage).expect("a photo stage");
        let body =
            json!({ "photoId": photo_id, "jobId": job_id, "progress": progress, "stage": stage })
                .to_string();
        writer
            .progress_confirmed(
                job_id,
                run,
                Progress {
                    name: MessageName::PhotoProgress,
                    body,
                    stage,
                    progress,
                },
            )
            .await
            .unwrap();
    }
    let body = json!({ "photoId": photo_id, "jobId": job_id, "plateNumber": null, "confidence": 0, "plates": [], "colors": [] })
        .to_string();
    writer
        .finish(
            job_id,
            Some(run),
            Finish {
                state: JobState::Succeeded,
                name: MessageName::PhotoCompleted,
                body: &body,
                result: Some("{}"),
                error: None,
            },
            None,
        )
        .await
        .unwrap()
}
