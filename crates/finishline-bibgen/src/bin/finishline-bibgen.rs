//! Writes a set of synthetic race photos and their ground truth to a folder; with the first
//! word `race`, writes a set of the held-out evaluation's race photos instead.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use finishline_bibgen::race::{Category, RaceGenerator, Split};
use finishline_bibgen::{Generator, SetArgs};

/// Writes synthetic race photos (photo-0001.jpg…) and ground-truth.json to a folder; the same
/// seed always gives the same photos.
#[derive(Debug, Parser)]
#[command(
    name = "finishline-bibgen",
    after_help = "Subcommand:\n  finishline-bibgen race --split tuning|heldout|training --n N --seed S --out DIR\n      \
                  writes the held-out evaluation's race photos (runners with bibs, distractor signs,\n      \
                  real background photographs; assets from deploy/local/install-eval-assets.sh).\n      \
                  See `finishline-bibgen race --help`."
)]
struct Args {
    #[command(flatten)]
    photos: SetArgs,
    /// Output folder
    #[arg(long)]
    out: PathBuf,
    /// Photo width and height in pixels
    #[arg(long, default_value_t = 1600)]
    width: u32,
    #[arg(long, default_value_t = 1200)]
    height: u32,
    /// Also write a half-size PNG preview of each photo (preview-0001.png…)
    #[arg(long)]
    preview: bool,
    /// The font to draw with
    #[arg(long, default_value = finishline_bibgen::DEFAULT_FONT)]
    font: PathBuf,
}

/// Writes race photos for the held-out evaluation (photo-0001.jpg… and ground-truth.json):
/// 35% single runners, 20% a runner beside a digit-bearing sign, 30% two to four runners, 15%
/// no bib at all; 800×600 to 4000×3000. The tuning split (DejaVu/Liberation fonts,
/// scikit-image photographs) is for tuning; the heldout split (FreeFont/Roboto fonts,
/// mate-backgrounds photographs) only for reporting; the training split (the tuning fonts
/// and eleven more families, never FreeFont or Roboto, on scikit-image photographs) is what the
/// bib reader was fine-tuned on. Same split, seed and n: same bytes.
#[derive(Debug, Parser)]
#[command(name = "finishline-bibgen race", bin_name = "finishline-bibgen race")]
struct RaceArgs {
    /// tuning, heldout or training
    #[arg(long)]
    split: Split,
    /// How many photos
    #[arg(long, default_value_t = 100)]
    n: u32,
    /// Seed of the set: the same seed always gives the same photos
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder
    #[arg(long)]
    out: PathBuf,
    /// Turn every distractor by up to this many degrees either way (0–90; a robustness
    /// check: the signs otherwise stand exactly upright while bibs lean). Same scenes.
    #[arg(long, value_parser = finishline_bibgen::race::parse_tilt)]
    tilt_distractors: Option<f32>,
}

fn race(args: RaceArgs) -> anyhow::Result<()> {
    let generator = RaceGenerator::new(args.split)
        .context("cannot load the evaluation assets")?
        .with_distractor_tilt(args.tilt_distractors);
    let started = Instant::now();
    let truths = generator
        .write_set(&args.out, args.n, args.seed)
        .context("cannot write the set")?;
    let seconds = started.elapsed().as_secs_f64();
    let count = |category| truths.iter().filter(|t| t.category == category).count();
    println!(
        "wrote {} {} photos to {} (ground-truth.json): {} single, {} distractor, {} multi, {} bibfree; {} bibs, {} distractors; {:.2} s/photo",
        truths.len(),
        args.split,
        args.out.display(),
        count(Category::Single),
        count(Category::Distractor),
        count(Category::Multi),
        count(Category::BibFree),
        truths.iter().map(|t| t.bibs.len()).sum::<usize>(),
        truths.iter().map(|t| t.distractors.len()).sum::<usize>(),
        seconds / f64::from(args.n.max(1)),
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("race") {
        return race(RaceArgs::parse_from(std::env::args().skip(1)));
    }
    let args = Args::parse();
    anyhow::ensure!(
        args.width >= 320 && args.height >= 240,
        "photos must be at least 320×240"
    );
    let mut generator = Generator::with_font(&args.font).context("cannot load the font")?;
    generator.width = args.width;
    generator.height = args.height;
    let truths = generator
        .write_set(&args.out, args.photos.set, args.photos.n, args.photos.seed)
        .context("cannot write the set")?;
    if args.preview {
        for (index, truth) in truths.iter().enumerate() {
            let photo =
                image::open(args.out.join(&truth.file)).context("cannot read a written photo")?;
            let preview = photo.resize(
                args.width / 2,
                args.height / 2,
                image::imageops::FilterType::Triangle,
            );
            preview
                .save(args.out.join(format!("preview-{:04}.png", index + 1)))
                .context("cannot write a preview")?;
        }
    }
    println!(
        "wrote {} {} photos to {} (ground-truth.json)",
        truths.len(),
        args.photos.set,
        args.out.display()
    );
    Ok(())
}
