//! The JSON of every message body the wire crate builds, pinned byte for byte: these strings
//! are PROTOCOL.md's contract (field names, order, absent fields), so a refactor of the body
//! types that changes one byte of what a client receives fails here.

use finishline_wire::{
    BoundingBox, ColorName, ColorShare, FailedBody, ImageSize, JobKind, MediaRef, MessageName,
    PhotoCompletedBody, Plate, ProgressBody, Stage, VideoCompletedBody, VideoPlate,
};

fn plate() -> Plate {
    Plate {
        bib_color: Some("#ffffff".into()),
        bib_color_name: Some(ColorName::White),
        corrected_from: Some(1243),
        ..Plate::new(
            1234,
            0.875,
            BoundingBox {
                x: 1,
                y: 2,
                w: 30,
                h: 40,
            },
        )
    }
}

fn media(kind: JobKind, media_id: &'static str, job_id: &'static str) -> MediaRef<'static> {
    MediaRef {
        kind,
        media_id,
        job_id,
    }
}

fn video_plate(thumbnail: Option<&str>) -> VideoPlate {
    VideoPlate {
        number: 77,
        confidence: 0.5,
        first_seen_ms: 500,
        last_seen_ms: 1500,
        thumbnail: thumbnail.map(str::to_owned),
        ..VideoPlate::default()
    }
}

/// `(message name, body as the worker sends it, the JSON PROTOCOL.md gives that message)`.
fn pinned() -> Vec<(MessageName, String, &'static str)> {
    let plates = [plate()];
    let colors = [ColorShare {
        hex: "#102030".into(),
        share: 0.25,
    }];
    let video_plates = [
        VideoPlate {
            bib_color: Some("#f0f0f0".to_owned()),
            shirt_color: Some("#b01020".to_owned()),
            bib_color_name: Some(ColorName::White),
            shirt_color_name: Some(ColorName::Red),
            ..video_plate(Some("/v1/jobs/j2/thumbnails/77"))
        },
        video_plate(None),
    ];
    let json = |body: serde_json::Result<String>| body.expect("a body encodes");
    vec![
        (
            MessageName::PhotoProgress,
            json(serde_json::to_string(&ProgressBody {
                media: media(JobKind::Photo, "p1", "j1"),
                progress: 33,
                stage: Stage::Ocr,
            })),
            r#"{"photoId":"p1","jobId":"j1","progress":33,"stage":"ocr"}"#,
        ),
        (
            MessageName::PhotoCompleted,
            json(serde_json::to_string(&PhotoCompletedBody {
                photo_id: "p1",
                job_id: "j1",
                plate_number: Some(1234),
                confidence: 0.875,
                plates: &plates,
                colors: &colors,
                thumbnail: Some("/v1/jobs/j1/thumbnail"),
                image_size: Some(ImageSize {
                    width: 640,
                    height: 480,
                }),
            })),
            concat!(
                r#"{"photoId":"p1","jobId":"j1","plateNumber":1234,"confidence":0.875,"#,
                r#""plates":[{"number":1234,"confidence":0.875,"box":{"x":1,"y":2,"w":30,"h":40},"#,
                r##""bibColor":"#ffffff","bibColorName":"white","correctedFrom":1243}],"##,
                r##""colors":[{"hex":"#102030","share":0.25}],"##,
                r#""thumbnail":"/v1/jobs/j1/thumbnail","imageSize":{"width":640,"height":480}}"#
            ),
        ),
        (
            MessageName::PhotoCompleted,
            json(serde_json::to_string(&PhotoCompletedBody {
                photo_id: "p1",
                job_id: "j1",
                plate_number: None,
                confidence: 0.0,
                plates: &[],
                colors: &[],
                thumbnail: None,
                image_size: None,
            })),
            r#"{"photoId":"p1","jobId":"j1","plateNumber":null,"confidence":0.0,"plates":[],"colors":[]}"#,
        ),
        (
            MessageName::PhotoFailed,
            json(serde_json::to_string(&FailedBody {
                media: media(JobKind::Photo, "p1", "j1"),
                error: "the image is corrupt",
                code: "corrupt_image",
                attempts: 1,
            })),
            r#"{"photoId":"p1","jobId":"j1","error":"the image is corrupt","code":"corrupt_image","attempts":1}"#,
        ),
        (
            MessageName::VideoProgress,
            json(serde_json::to_string(&ProgressBody {
                media: media(JobKind::Video, "v1", "j2"),
                progress: 50,
                stage: Stage::Frames,
            })),
            r#"{"videoId":"v1","jobId":"j2","progress":50,"stage":"frames"}"#,
        ),
        (
            MessageName::VideoCompleted,
            json(serde_json::to_string(&VideoCompletedBody {
                video_id: "v1",
                job_id: "j2",
                plates: &video_plates,
                duration_ms: 4000,
            })),
            concat!(
                r#"{"videoId":"v1","jobId":"j2","plates":["#,
                r#"{"number":77,"confidence":0.5,"firstSeenMs":500,"lastSeenMs":1500,"#,
                r##""thumbnail":"/v1/jobs/j2/thumbnails/77","bibColor":"#f0f0f0","##,
                r##""shirtColor":"#b01020","bibColorName":"white","shirtColorName":"red"},"##,
                r#"{"number":77,"confidence":0.5,"firstSeenMs":500,"lastSeenMs":1500}],"#,
                r#""durationMs":4000}"#
            ),
        ),
        (
            MessageName::VideoFailed,
            json(serde_json::to_string(&FailedBody {
                media: media(JobKind::Video, "v1", "j2"),
                error: "ffprobe found no video stream",
                code: "unsupported_format",
                attempts: 3,
            })),
            r#"{"videoId":"v1","jobId":"j2","error":"ffprobe found no video stream","code":"unsupported_format","attempts":3}"#,
        ),
    ]
}

#[test]
fn every_message_body_serializes_to_the_json_of_the_protocol() {
    for (name, body, expected) in pinned() {
        assert_eq!(body, expected, "{}", name.as_str());
    }
}

#[test]
fn every_job_message_the_worker_builds_is_pinned() {
    let pinned: Vec<MessageName> = pinned().into_iter().map(|(name, ..)| name).collect();
    for name in [
        MessageName::PhotoProgress,
        MessageName::PhotoCompleted,
        MessageName::PhotoFailed,
        MessageName::VideoProgress,
        MessageName::VideoCompleted,
        MessageName::VideoFailed,
    ] {
        assert!(pinned.contains(&name), "{} is not pinned", name.as_str());
    }
}

#[test]
fn a_shared_body_names_its_message_by_the_media_s_kind() {
    for kind in JobKind::ALL {
        let media = media(kind, "m1", "j1");
        let progress = ProgressBody {
            media,
            progress: 0,
            stage: Stage::Detection,
        };
        let failed = FailedBody {
            media,
            error: "e",
            code: "c",
            attempts: 1,
        };
        let prefix = kind.as_str();
        assert_eq!(progress.name().as_str(), format!("{prefix}:progress"));
        assert_eq!(failed.name().as_str(), format!("{prefix}:failed"));
        assert_eq!(
            MessageName::completed(kind).as_str(),
            format!("{prefix}:completed")
        );
    }
}
