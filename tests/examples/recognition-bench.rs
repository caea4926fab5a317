//! The recognition benchmark: runs an engine over generated race photos
//! (`finishline_bibgen::race`: 1–4 runners, several font families, real photographs behind,
//! signs, clocks, banners and door numbers with digits, photos with no bib at all) on one
//! thread and prints, per category, top-1, recall and precision, bib-free photos with a false
//! read, colour accuracy by name, and milliseconds per photo (median, p95).
//!
//! Report the `heldout` split: its seeds, fonts and background photographs were never used
//! while the recognizer was tuned (on `tuning`).
//!
//! `cargo run --release -p finishline-tests --example recognition-bench -- --split heldout --n 400`

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use finishline_bibgen::race::{RaceGenerator, Split};
use finishline_media::{PhotoPipeline, PpOcrConfig, PpOcrPipeline};
use finishline_tests::recognition::{Scores, recognise};

/// Runs a recognition engine over generated race photos and prints its accuracy and speed.
#[derive(Debug, Parser)]
struct Args {
    /// heldout (report this) or tuning (what the thresholds were chosen on)
    #[arg(long, default_value = "heldout")]
    split: Split,
    /// How many photos (categories interleave: 35% single, 20% distractor, 30% multi, 15% bib-free)
    #[arg(long, default_value_t = 200)]
    n: u32,
    /// Seed of the photos: the same seed always gives the same photos
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Engine: ppocr (PP-OCRv4 on ONNX Runtime) or classical (imageproc detector + tesseract)
    #[arg(long, default_value = "ppocr")]
    engine: String,
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
}

fn engine(name: &str, models_dir: PathBuf) -> anyhow::Result<Box<dyn PhotoPipeline>> {
    Ok(match name {
        "ppocr" => Box::new(PpOcrPipeline::new(&PpOcrConfig::new(models_dir))?),
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
        let engine = engine(&args.engine, args.models_dir.clone())?;
        for file in &args.files {
            let jpeg =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let (plates, millis) = recognise(engine.as_ref(), &jpeg)?;
            println!("{}: {millis:.0} ms", file.display());
            for plate in plates {
                println!("  {}", serde_json::to_string(&plate)?);
            }
        }
        return Ok(());
    }
    let generator = RaceGenerator::new(args.split).context("cannot start the photo generator")?;
    let engine = engine(&args.engine, args.models_dir.clone())?;
    let mut scores = Scores::default();
    for index in 0..args.n {
        let mut generated = generator.photo(args.seed, index)?;
        generated.truth.file = format!("photo-{:04}.jpg", index + 1);
        let (plates, millis) = recognise(engine.as_ref(), &generated.jpeg)?;
        if args.verbose {
            let read: Vec<String> = plates
                .iter()
                .map(|p| format!("{} ({:.2})", p.number, p.confidence))
                .collect();
            let truth: Vec<u64> = generated.truth.bibs.iter().map(|b| b.number).collect();
            println!(
                "#{index:04} {:<10} truth {truth:?} read [{}] {millis:.0} ms",
                generated.truth.category.to_string(),
                read.join(", ")
            );
        }
        scores.add(&generated.truth, &plates, millis);
    }
    println!(
        "recognition-bench: engine {}, split {}, {} photos, seed {}, one thread",
        args.engine, args.split, args.n, args.seed
    );
    println!("| measure | {} |\n| --- | --- |", args.split);
    println!("{}", scores.table());
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
