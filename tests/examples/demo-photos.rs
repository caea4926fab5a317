//! Writes N generated race photos (`photo-01.jpg` …, finishline-bibgen, each with a bib
//! number, banners and clutter) into a folder for the local run; one of them is corrupt.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "media".into()));
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(24);
    std::fs::create_dir_all(&dir)?;
    let generator = finishline_bibgen::Generator::new()?;
    for i in 1..=count {
        let set = if i % 3 == 0 {
            finishline_bibgen::Set::Small
        } else {
            finishline_bibgen::Set::Normal
        };
        let photo = generator.photo(set, 2026, i)?;
        std::fs::write(dir.join(format!("photo-{i:02}.jpg")), &photo.jpeg)?;
        println!("photo-{i:02}.jpg: bib {}", photo.truth.number);
    }
    // One corrupt photo, so the demo shows a permanent failure too.
    finishline_tests::write_corrupt_jpeg(&dir.join(format!("photo-{:02}.jpg", count.min(7))));
    println!("wrote {count} photos to {}", dir.display());
    Ok(())
}
