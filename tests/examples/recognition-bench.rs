//! The recognition benchmark: runs an engine over N generated race photos (finishline-bibgen)
//! on one thread and prints top-1 accuracy, recall, false positives (banners read as bibs and
//! others), bib and shirt colour accuracy, how often reads are right per confidence band, and
//! milliseconds per stage (median, p95).
//!
//! `cargo run --release -p finishline-tests --example recognition-bench -- --set normal --n 100`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use finishline_bibgen::{BIB_COLORS, Generator, NamedColor, SHIRT_COLORS, SetArgs};
use finishline_media::{
    MediaLimits, PhotoPipeline, PpOcrConfig, PpOcrPipeline, decode_photo, name_plate_colors,
};
use palette::{IntoColor, Lab, Srgb};

/// Runs a recognition engine over generated race photos and prints its accuracy and speed.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    photos: SetArgs,
    /// Engine: ppocr (PP-OCRv4 on ONNX Runtime) or classical (imageproc detector + tesseract)
    #[arg(long, default_value = "ppocr")]
    engine: String,
    /// Folder with the PP-OCR models and libonnxruntime
    #[arg(long, env = "FINISHLINE_MODELS_DIR", default_value = "models")]
    models_dir: PathBuf,
    /// Print every photo's result
    #[arg(long)]
    verbose: bool,
}

fn engine(name: &str, models_dir: PathBuf) -> anyhow::Result<Box<dyn PhotoPipeline>> {
    Ok(match name {
        "ppocr" => Box::new(PpOcrPipeline::new(&PpOcrConfig::new(models_dir))?),
        "classical" => Box::new(finishline_media::ClassicalPipeline::new()?),
        other => anyhow::bail!("unknown engine `{other}`; expected ppocr or classical"),
    })
}

fn lab(hex: &str) -> Option<Lab> {
    let value = u32::from_str_radix(hex.strip_prefix('#')?, 16).ok()?;
    let rgb = Srgb::new((value >> 16) as u8, (value >> 8) as u8, value as u8);
    Some(rgb.into_format::<f32>().into_linear().into_color())
}

/// The palette entry nearest to a colour (Lab distance).
fn nearest(hex: &str, palette: &[NamedColor]) -> Option<&'static str> {
    let target = lab(hex)?;
    palette
        .iter()
        .filter_map(|c| {
            let l = lab(&c.hex())?;
            let d = (l.l - target.l).powi(2) + (l.a - target.a).powi(2) + (l.b - target.b).powi(2);
            Some((c.name, d))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(name, _)| name)
}

#[derive(Default)]
struct Timings(Vec<f64>);

impl Timings {
    fn summary(&self) -> String {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return "-".to_owned();
        }
        let median = v[v.len() / 2];
        let p95 = v[((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1];
        format!("median {median:7.1} ms   p95 {p95:7.1} ms")
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let generator = Generator::new().context("cannot start the photo generator")?;
    let engine = engine(&args.engine, args.models_dir.clone())?;
    let limits = MediaLimits::default();
    let (mut top1, mut recalled, mut banner_fp, mut other_fp) = (0u32, 0u32, 0u32, 0u32);
    let (mut bib_ok, mut shirt_ok, mut colour_n) = (0u32, 0u32, 0u32);
    let bands = [0.5f32, 0.7, 0.9, 1.01];
    let mut band_counts = [(0u32, 0u32); 3];
    let (mut decode, mut detect, mut read, mut color, mut total) = Default::default();
    let (decode, detect, read, color, total): (
        &mut Timings,
        &mut Timings,
        &mut Timings,
        &mut Timings,
        &mut Timings,
    ) = (&mut decode, &mut detect, &mut read, &mut color, &mut total);
    for index in 0..args.photos.n {
        let generated = generator.photo(args.photos.set, args.photos.seed, index)?;
        let truth = &generated.truth;
        let start = Instant::now();
        let photo = decode_photo(&generated.jpeg, &limits)?;
        decode.0.push(ms(start));
        let t = Instant::now();
        let candidates = engine.detect(&photo)?;
        detect.0.push(ms(t));
        let t = Instant::now();
        let mut plates = engine.read(&photo, &candidates)?;
        read.0.push(ms(t));
        let t = Instant::now();
        let _palette = engine.colors(&photo, &plates)?;
        name_plate_colors(&photo.image, &mut plates);
        color.0.push(ms(t));
        total.0.push(ms(start));

        let best = plates
            .iter()
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence));
        if best.is_some_and(|p| p.number == truth.number) {
            top1 += 1;
        }
        let banner_numbers: Vec<u64> = truth
            .banners
            .iter()
            .flat_map(|b| {
                b.split(|c: char| !c.is_ascii_digit())
                    .filter_map(|d| d.parse().ok())
                    .collect::<Vec<u64>>()
            })
            .collect();
        for plate in &plates {
            let right = plate.number == truth.number;
            if let Some(band) = bands
                .windows(2)
                .position(|w| plate.confidence >= w[0] && plate.confidence < w[1])
            {
                band_counts[band].0 += 1;
                band_counts[band].1 += u32::from(right);
            }
            if right {
                continue;
            }
            if banner_numbers.contains(&plate.number) {
                banner_fp += 1;
            } else {
                other_fp += 1;
            }
        }
        if let Some(found) = plates.iter().find(|p| p.number == truth.number) {
            recalled += 1;
            colour_n += 1;
            let bib = found
                .bib_color
                .as_deref()
                .and_then(|h| nearest(h, BIB_COLORS));
            let shirt = found
                .shirt_color
                .as_deref()
                .and_then(|h| nearest(h, SHIRT_COLORS));
            bib_ok += u32::from(bib == Some(truth.bib_color.as_str()));
            shirt_ok += u32::from(shirt == Some(truth.shirt_color.as_str()));
            if args.verbose
                && (bib != Some(truth.bib_color.as_str())
                    || shirt != Some(truth.shirt_color.as_str()))
            {
                println!(
                    "  colours of #{index}: bib {:?}→{bib:?} (truth {}), shirt {:?}→{shirt:?} (truth {})",
                    found.bib_color, truth.bib_color, found.shirt_color, truth.shirt_color
                );
            }
        }
        if args.verbose {
            let read: Vec<String> = plates
                .iter()
                .map(|p| format!("{} ({:.2})", p.number, p.confidence))
                .collect();
            println!(
                "#{index:03} truth {:>5}  read [{}]  {:.0} ms",
                truth.number,
                read.join(", "),
                total.0.last().unwrap_or(&0.0)
            );
        }
    }
    let n = args.photos.n.max(1) as f64;
    let pct = |x: u32, of: f64| {
        if of > 0.0 {
            100.0 * f64::from(x) / of
        } else {
            0.0
        }
    };
    println!(
        "recognition-bench: engine {}, set {}, {} photos {}×{}, seed {}, one thread",
        args.engine,
        args.photos.set,
        args.photos.n,
        generator.width,
        generator.height,
        args.photos.seed
    );
    println!(
        "  top-1 accuracy        {:6.1}%  ({top1}/{})",
        pct(top1, n),
        args.photos.n
    );
    println!(
        "  recall (all plates)   {:6.1}%  ({recalled}/{})",
        pct(recalled, n),
        args.photos.n
    );
    println!("  false positives       {banner_fp} from banners, {other_fp} other");
    println!(
        "  bib colour accuracy   {:6.1}%  ({bib_ok}/{colour_n} read bibs)",
        pct(bib_ok, f64::from(colour_n))
    );
    println!(
        "  shirt colour accuracy {:6.1}%  ({shirt_ok}/{colour_n} read bibs)",
        pct(shirt_ok, f64::from(colour_n))
    );
    for (i, (count, right)) in band_counts.iter().enumerate() {
        println!(
            "  confidence {:.1}–{:.1}      {right}/{count} right",
            bands[i],
            bands[i + 1].min(1.0)
        );
    }
    println!("  decode                {}", decode.summary());
    println!("  detection             {}", detect.summary());
    println!("  ocr                   {}", read.summary());
    println!("  color                 {}", color.summary());
    println!("  whole photo           {}", total.summary());
    Ok(())
}
