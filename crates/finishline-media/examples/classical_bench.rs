//! Measures the classical engine on rendered race photos: top-1 accuracy, recall, false
//! positives (banner and sign included) and milliseconds per stage (median, p95).
//!
//! ```sh
//! cargo run --release -p finishline-media --example classical_bench -- [count] [normal|small] [seed] [dump-dir]
//! ```
//! Defaults: 50 photos, "normal", seed 1, 1600×1200. With a dump directory, the photos the
//! engine got wrong are written there as PNG, named by seed and truth.

#[path = "../tests/support/classical_bibs.rs"]
mod classical_bibs;

use std::time::Instant;

use classical_bibs::{SceneSpec, render};
use finishline_media::{ClassicalPipeline, Photo, PhotoPipeline};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: u64 = args.first().map_or(Ok(50), |a| a.parse())?;
    let set = args.get(1).map_or("normal", String::as_str);
    let first_seed: u64 = args.get(2).map_or(Ok(1), |a| a.parse())?;
    let dump = args.get(3).map(std::path::PathBuf::from);
    let spec = match set {
        "normal" => SceneSpec::normal(1600, 1200),
        "small" => SceneSpec::small(1600, 1200),
        other => return Err(format!("unknown set {other:?}: normal or small").into()),
    };
    let engine = ClassicalPipeline::new()?;
    println!(
        "engine: {} ({}); set {set}, {count} photos 1600x1200 from seed {first_seed}",
        engine.name(),
        engine.tesseract_version()
    );
    let font = classical_bibs::load_font();
    let (mut top1, mut recalled, mut false_positives, mut distractors) = (0, 0, 0, 0);
    let (mut detect_ms, mut read_ms, mut colors_ms, mut total_ms) =
        (vec![], vec![], vec![], vec![]);
    let mut candidates_seen = 0usize;
    let mut right_confidence = vec![];
    let mut wrong_confidence = vec![];
    for seed in first_seed..first_seed + count {
        let scene = render(&font, seed, &spec);
        let truth = scene.number.expect("scenes of the benchmark have a bib");
        let photo = Photo::new(scene.photo);
        let t0 = Instant::now();
        let candidates = engine.detect(&photo)?;
        let t1 = Instant::now();
        let plates = engine.read(&photo, &candidates)?;
        let t2 = Instant::now();
        let _colors = engine.colors(&photo, &plates)?;
        let t3 = Instant::now();
        detect_ms.push(ms(t1 - t0));
        read_ms.push(ms(t2 - t1));
        colors_ms.push(ms(t3 - t2));
        total_ms.push(ms(t3 - t0));
        candidates_seen += candidates.len();
        let best = plates.first().map(|p| p.number);
        if best == Some(truth) {
            top1 += 1;
        }
        if plates.iter().any(|p| p.number == truth) {
            recalled += 1;
        }
        for plate in &plates {
            if plate.number == truth {
                right_confidence.push(plate.confidence);
            } else {
                false_positives += 1;
                wrong_confidence.push(plate.confidence);
                if plate.number == 2026 || plate.number == 21 {
                    distractors += 1;
                }
            }
        }
        if best != Some(truth) || plates.len() > 1 {
            let read: Vec<u64> = plates.iter().map(|p| p.number).collect();
            println!(
                "  seed {seed}: truth {truth} at {:.1}°, read {read:?} from {} candidates",
                scene.angle_degrees,
                candidates.len()
            );
            if let Some(dir) = &dump {
                std::fs::create_dir_all(dir)?;
                photo
                    .image
                    .save(dir.join(format!("seed{seed}-{truth}.png")))?;
            }
        }
    }
    let n = count as f64;
    println!(
        "top-1 {top1}/{count} ({:.1}%), recall {recalled}/{count} ({:.1}%), false positives {false_positives} (banner/sign {distractors}), candidates per photo {:.1}",
        100.0 * f64::from(top1) / n,
        100.0 * f64::from(recalled) / n,
        candidates_seen as f64 / n
    );
    for (name, values) in [
        ("detection", &mut detect_ms),
        ("ocr", &mut read_ms),
        ("color", &mut colors_ms),
        ("total", &mut total_ms),
    ] {
        let (median, p95) = percentiles(values);
        println!("{name:>9}: median {median:.0} ms, p95 {p95:.0} ms");
    }
    println!(
        "confidence: right reads median {:.3} (min {:.3}), wrong reads {:?}",
        percentiles(
            &mut right_confidence
                .iter()
                .map(|c| f64::from(*c))
                .collect::<Vec<_>>()
        )
        .0,
        right_confidence.iter().copied().fold(1.0_f32, f32::min),
        wrong_confidence
    );
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median and 95th percentile (nearest rank); zeros when empty.
fn percentiles(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    let at =
        |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    (at(0.5), at(0.95))
}
