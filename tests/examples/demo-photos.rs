//! Writes N generated demo photos (`photo-01.jpg` …) into a folder, for the local run.

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "media".into()));
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(24);
    let palette = [
        [200, 30, 30],
        [20, 40, 200],
        [240, 200, 0],
        [20, 160, 60],
        [250, 250, 250],
    ];
    for i in 1..=count {
        let main = palette[(i as usize) % palette.len()];
        let other = palette[(i as usize + 2) % palette.len()];
        finishline_tests::write_photo(
            &dir.join(format!("photo-{i:02}.jpg")),
            640,
            480,
            main,
            other,
        );
    }
    // One corrupt photo, so the demo shows a permanent failure too.
    finishline_tests::write_corrupt_jpeg(&dir.join(format!("photo-{:02}.jpg", count.min(7))));
    println!("wrote {count} photos to {}", dir.display());
}
