//! Writes N generated race photos (`photo-01.jpg` …, finishline-bibgen, each with a bib
//! number, banners and clutter) into a folder for the local run; one of them is corrupt, so
//! the demo shows a permanent failure too.
//!
//! `demo-photos <folder> [count]`

use std::path::Path;

use finishline_bibgen::{Generator, Set};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "media".into()));
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(24);
    std::fs::create_dir_all(&dir)?;
    let generator = Generator::new()?;
    for i in 1..=count {
        let set = if i % 3 == 0 { Set::Small } else { Set::Normal };
        let photo = generator.photo(set, 2026, i)?;
        std::fs::write(dir.join(format!("photo-{i:02}.jpg")), &photo.jpeg)?;
        println!("photo-{i:02}.jpg: bib {}", photo.truth.number);
    }
    write_corrupt_jpeg(&dir.join(format!("photo-{:02}.jpg", count.min(7))))?;
    println!("wrote {count} photos to {}", dir.display());
    Ok(())
}

/// A file that starts like a JPEG and then is garbage.
fn write_corrupt_jpeg(path: &Path) -> std::io::Result<()> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    bytes.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(path, bytes)
}
