//! The recognition benchmark: runs an engine over generated race photos
//! (`finishline_bibgen::race`: 1–4 runners, several font families, real photographs behind,
//! signs, clocks, banners and door numbers with digits, photos with no bib at all) on one
//! thread and prints, per category, top-1, recall and precision, bib-free photos with a false
//! read, colour accuracy by name, and milliseconds per photo (median, p95: the thread's CPU time,
//! which a busy machine does not inflate, and the wall clock).
//!
//! Report the `heldout` split: its seeds, fonts and background photographs were never used
//! while the recognizer was tuned (on `tuning`).
//!
//! `cargo run --release -p finishline-tests --example recognition-bench -- --split heldout --n 200 --seed 20,21,22,23`

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use finishline_bibgen::race::{RaceGenerator, Split};
use finishline_media::{Detector, PhotoPipeline, PpOcrConfig, PpOcrPipeline};
use finishline_tests::recognition::{Scores, cost_cell, recognise, table_by_seed};
use image::imageops::FilterType;

/// Runs a recognition engine over generated race photos and prints its accuracy and speed.
#[derive(Debug, Parser)]
struct Args {
    /// heldout (report this) or tuning (what the thresholds were chosen on)
    #[arg(long, default_value = "heldout")]
    split: Split,
    /// How many photos per seed (categories interleave: 35% single, 20% distractor, 30% multi, 15% bib-free)
    #[arg(long, default_value_t = 200)]
    n: u32,
    /// Seed of the photos: the same seed always gives the same photos. Several seeds
    /// (`20,21,22,23`) print a column per seed, all photos pooled, and the seeds' range
    #[arg(long, value_delimiter = ',', default_value = "1", num_args = 1..)]
    seed: Vec<u64>,
    /// Engine: ppocr (PP-OCR v4 detection, v6 recognition, on ONNX Runtime) or classical
    /// (imageproc detector + tesseract)
    #[arg(long, default_value = "ppocr")]
    engine: String,
    /// PP-OCR's text detector: int8 (the worker's default) or fp32
    #[arg(long, default_value = "int8")]
    detector: Detector,
    /// Folder with the PP-OCR models and libonnxruntime
    #[arg(long, env = "FINISHLINE_MODELS_DIR", default_value = "models")]
    models_dir: PathBuf,
    /// How many failure examples to print
    #[arg(long, default_value_t = 10)]
    failures: usize,
    /// Print every photo's result
    #[arg(long)]
    verbose: bool,
    /// Print the engine's decisions about every number (debug logs of finishline_media)
    #[arg(long)]
    trace: bool,
    /// Read these photo files instead of generated ones, and print what was read
    #[arg(long, num_args = 1..)]
    files: Vec<PathBuf>,
    /// Crop every generated photo to this aspect and scale it to this size (e.g. 1600x1200)
    /// before it is timed: the CPU cost of one photo size. Accuracy is then of scaled photos.
    #[arg(long, value_parser = parse_size)]
    fit: Option<(u32, u32)>,
    /// Turn every distractor by up to this many degrees either way (a robustness check: the
    /// generator's signs otherwise stand exactly upright while its bibs lean). Same scenes.
    #[arg(long, value_parser = finishline_bibgen::race::parse_tilt)]
    tilt_distractors: Option<f32>,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once('x')
        .ok_or_else(|| format!("`{text}` is not WIDTHxHEIGHT, e.g. 1600x1200"))?;
    let side = |s: &str| match s.parse::<u32>() {
        Ok(v @ 64..=8000) => Ok(v),
        _ => Err(format!("`{s}` in `{text}` is not a side of 64–8000 pixels")),
    };
    Ok((side(w)?, side(h)?))
}

/// The photo cropped to the aspect of `width`×`height` around its centre (turned upright
/// first when the two disagree), scaled to that size, encoded as a JPEG of quality 90.
fn fit_photo(jpeg: &[u8], (width, height): (u32, u32)) -> anyhow::Result<Vec<u8>> {
    let mut photo = image::load_from_memory(jpeg)?;
    if (photo.width() > photo.height()) != (width > height) {
        photo = photo.rotate90();
    }
    let (w, h) = (photo.width() as f64, photo.height() as f64);
    let target = f64::from(width) / f64::from(height);
    let (crop_w, crop_h) = if w / h > target {
        (h * target, h)
    } else {
        (w, w / target)
    };
    let (x, y) = (((w - crop_w) / 2.0) as u32, ((h - crop_h) / 2.0) as u32);
    let fitted = photo
        .crop_imm(x, y, crop_w as u32, crop_h as u32)
        .resize_exact(width, height, FilterType::Lanczos3)
        .to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&fitted)?;
    Ok(out)
}

fn engine(args: &Args) -> anyhow::Result<Box<dyn PhotoPipeline>> {
    Ok(match args.engine.as_str() {
        "ppocr" => Box::new(PpOcrPipeline::new(&PpOcrConfig {
            detector: args.detector,
            ..PpOcrConfig::new(args.models_dir.clone())
        })?),
        "classical" => Box::new(finishline_media::ClassicalPipeline::new()?),
        other => anyhow::bail!("unknown engine `{other}`; expected ppocr or classical"),
    })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.trace {
        tracing_subscriber::fmt()
            .with_env_filter("finishline_media=trace")
            .with_writer(std::io::stderr)
            .init();
    }
    if !args.files.is_empty() {
        let engine = engine(&args)?;
        let mut costs = Vec::new();
        for file in &args.files {
            let jpeg =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let (plates, cost) = recognise(engine.as_ref(), &jpeg)?;
            println!("{}: {}", file.display(), cost_cell(&[cost]));
            for plate in plates {
                println!("  {}", serde_json::to_string(&plate)?);
            }
            costs.push(cost);
        }
        println!("{} photos: {}", costs.len(), cost_cell(&costs));
        return Ok(());
    }
    let generator = RaceGenerator::new(args.split)
        .context("cannot start the photo generator")?
        .with_distractor_tilt(args.tilt_distractors);
    let engine = engine(&args)?;
    let several = args.seed.len() > 1;
    let mut pooled = Scores::default();
    let mut by_seed = Vec::new();
    for &seed in &args.seed {
        let mut scores = Scores::default();
        for index in 0..args.n {
            let mut generated = generator.photo(seed, index)?;
            generated.truth.file = if several {
                format!("seed {seed} photo-{:04}.jpg", index + 1)
            } else {
                format!("photo-{:04}.jpg", index + 1)
            };
            if let Some(size) = args.fit {
                generated.jpeg = fit_photo(&generated.jpeg, size)?;
            }
            let (plates, cost) = recognise(engine.as_ref(), &generated.jpeg)?;
            if args.verbose {
                let read: Vec<String> = plates
                    .iter()
                    .map(|p| format!("{} ({:.2})", p.number, p.confidence))
                    .collect();
                let truth: Vec<u64> = generated.truth.bibs.iter().map(|b| b.number).collect();
                println!(
                    "{} {:<10} truth {truth:?} read [{}] {}",
                    generated.truth.file,
                    generated.truth.category.to_string(),
                    read.join(", "),
                    cost_cell(&[cost])
                );
            }
            scores.add(&generated.truth, &plates, cost);
            if several {
                pooled.add(&generated.truth, &plates, cost);
            }
        }
        by_seed.push((seed, scores));
    }
    let fitted = args
        .fit
        .map_or(String::new(), |(w, h)| format!(", scaled to {w}×{h}"));
    let seeds: Vec<String> = args.seed.iter().map(u64::to_string).collect();
    println!(
        "recognition-bench: engine {} ({:?} detector), split {}, {} photos per seed{fitted}, seed {}, one thread",
        args.engine,
        args.detector,
        args.split,
        args.n,
        seeds.join(", ")
    );
    let scores = if several {
        println!("{}", table_by_seed(&by_seed, &pooled));
        pooled
    } else {
        let (_, scores) = by_seed.pop().context("no seed given")?;
        println!("| measure | {} |\n| --- | --- |", args.split);
        println!("{}", scores.table());
        scores
    };
    if args.failures > 0 && !scores.failures.is_empty() {
        println!(
            "\nfailure examples ({} of {} photos with anything wrong):",
            args.failures.min(scores.failures.len()),
            scores.failures.len()
        );
        for line in scores.failures.iter().take(args.failures) {
            println!("  {line}");
        }
    }
    Ok(())
}
