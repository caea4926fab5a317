//! Writes a set of synthetic race photos and their ground truth to a folder.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use finishline_bibgen::{Generator, SetArgs};

/// Writes synthetic race photos (photo-0001.jpg…) and ground-truth.json to a folder; the same
/// seed always gives the same photos.
#[derive(Debug, Parser)]
#[command(name = "finishline-bibgen")]
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

fn main() -> anyhow::Result<()> {
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
