//! A seeded generator of synthetic race photos with their ground truth, the test set for bib
//! recognition (no real race-bib data set installs from the registries).
//!
//! Each photo has a cluttered background, two banners with words and digits ("CITY RUN 2026",
//! "KM 21", …) that a reader must not report, and one runner whose shirt carries a coloured bib
//! with a 2–5 digit number, four pins, rotated by up to ±10°; then blur, noise and JPEG
//! encoding. Two sets: `normal` (bib 13–20% of the photo's width) and `small` (5–10%). The same
//! seed and index give the same photo on every machine, so anyone can regenerate a set
//! (`finishline-bibgen --set normal --n 100 --seed 1 --out dir`).

/// `FromStr` and `Display` for an enum of a few named values (a flag's or a file name's), from
/// one table: `named_values!(Type, "what", "the expected names", { Variant => "name" | "alias" })`.
/// Parsing takes the name or an alias; display gives the name.
macro_rules! named_values {
    ($ty:ident, $what:literal, $expected:literal, {
        $($variant:ident => $name:literal $(| $alias:literal)*),+ $(,)?
    }) => {
        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($name $(| $alias)* => Ok(Self::$variant),)+
                    other => Err(format!(
                        concat!("unknown ", $what, " `{}`; expected ", $expected),
                        other
                    )),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self {
                    $(Self::$variant => $name,)+
                })
            }
        }
    };
}

pub mod race;
mod scene;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ab_glyph::FontRef;
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

pub use scene::BANNERS;

/// Where Debian's `fonts-dejavu-core` puts the font the photos are drawn with.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

/// The flags that choose a generated set (`--set`, `--n`, `--seed`), shared by the
/// `finishline-bibgen` command and the recognition benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct SetArgs {
    /// normal (bib 13–20% of the width) or small (5–10%)
    #[arg(long, default_value = "normal")]
    pub set: Set,
    /// How many photos
    #[arg(long, default_value_t = 100)]
    pub n: u32,
    /// Seed of the set: the same seed always gives the same photos
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Which set a photo belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Set {
    /// Bib 13–20% of the photo's width.
    Normal,
    /// Bib 5–10% of the photo's width.
    Small,
}

named_values!(Set, "set", "normal or small", {
    Normal => "normal",
    Small => "small",
});

/// A colour with a name, for the palettes bibs and shirts are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedColor {
    pub name: &'static str,
    pub rgb: [u8; 3],
}

impl NamedColor {
    pub fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.rgb[0], self.rgb[1], self.rgb[2])
    }
}

/// Bib paper colours.
pub const BIB_COLORS: &[NamedColor] = &[
    NamedColor {
        name: "white",
        rgb: [244, 244, 240],
    },
    NamedColor {
        name: "yellow",
        rgb: [245, 212, 0],
    },
    NamedColor {
        name: "orange",
        rgb: [242, 140, 40],
    },
    NamedColor {
        name: "light-blue",
        rgb: [143, 200, 238],
    },
    NamedColor {
        name: "pink",
        rgb: [244, 166, 200],
    },
    NamedColor {
        name: "light-green",
        rgb: [168, 224, 108],
    },
];

/// Shirt colours.
pub const SHIRT_COLORS: &[NamedColor] = &[
    NamedColor {
        name: "red",
        rgb: [200, 32, 42],
    },
    NamedColor {
        name: "blue",
        rgb: [31, 79, 180],
    },
    NamedColor {
        name: "green",
        rgb: [30, 138, 60],
    },
    NamedColor {
        name: "black",
        rgb: [32, 32, 32],
    },
    NamedColor {
        name: "purple",
        rgb: [106, 44, 145],
    },
    NamedColor {
        name: "grey",
        rgb: [138, 138, 138],
    },
    NamedColor {
        name: "teal",
        rgb: [15, 143, 143],
    },
];

/// An axis-aligned box in photo pixels: the wire's box, so truth and reads compare directly.
pub use finishline_wire::BoundingBox as BibBox;

/// What is in a generated photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundTruth {
    /// File name inside the set's folder (empty until written).
    pub file: String,
    /// The bib number.
    pub number: u64,
    /// Name of the bib's colour in [`BIB_COLORS`], and its hex.
    pub bib_color: String,
    pub bib_hex: String,
    /// Name of the shirt's colour in [`SHIRT_COLORS`], and its hex.
    pub shirt_color: String,
    pub shirt_hex: String,
    /// The whole bib (paper), axis-aligned.
    pub bib_box: BibBox,
    /// Rotation of the bib, degrees clockwise.
    pub angle_degrees: f32,
    /// The banner texts (words with digits: never bibs).
    pub banners: Vec<String>,
}

/// What can go wrong generating photos.
#[derive(Debug, thiserror::Error)]
pub enum BibgenError {
    #[error(
        "cannot read the font {path}: {source}; install Debian's fonts-dejavu-core (deploy/local/install-deps.sh)"
    )]
    FontMissing {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {what}: it comes from {package}; install it with {script}")]
    AssetMissing {
        what: String,
        package: String,
        script: &'static str,
    },
    #[error("{path} is not a usable font")]
    FontInvalid { path: PathBuf },
    #[error("cannot encode a JPEG: {0}")]
    Encode(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The generator: a font and the photo size.
pub struct Generator {
    font_bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// One generated photo.
pub struct GeneratedPhoto {
    pub image: RgbImage,
    /// The photo as the JPEG a photographer would upload.
    pub jpeg: Vec<u8>,
    pub truth: GroundTruth,
}

impl Generator {
    /// A generator drawing with the font at `path`, 1600×1200 photos.
    ///
    /// # Errors
    /// `FontMissing` / `FontInvalid` when the font cannot be used.
    pub fn with_font(path: &Path) -> Result<Self, BibgenError> {
        let font_bytes = std::fs::read(path).map_err(|source| BibgenError::FontMissing {
            path: path.to_path_buf(),
            source,
        })?;
        FontRef::try_from_slice(&font_bytes).map_err(|_| BibgenError::FontInvalid {
            path: path.to_path_buf(),
        })?;
        Ok(Self {
            font_bytes,
            width: 1600,
            height: 1200,
        })
    }

    /// A generator with DejaVu Sans Bold from `fonts-dejavu-core`.
    ///
    /// # Errors
    /// `FontMissing` when the package is not installed.
    pub fn new() -> Result<Self, BibgenError> {
        Self::with_font(Path::new(DEFAULT_FONT))
    }

    /// Photo `index` of `set` for `seed`: the same inputs always give the same photo.
    ///
    /// # Errors
    /// `Encode` if JPEG encoding fails.
    pub fn photo(&self, set: Set, seed: u64, index: u32) -> Result<GeneratedPhoto, BibgenError> {
        let set_salt = match set {
            Set::Normal => 0x6e6f726d,
            Set::Small => 0x736d616c,
        };
        let mut rng = StdRng::seed_from_u64(
            seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ set_salt ^ (u64::from(index) << 20),
        );
        let font = FontRef::try_from_slice(&self.font_bytes)
            .map_err(|_| BibgenError::Encode("font".to_owned()))?;
        let (mut image, truth) = scene::draw(&mut rng, &font, set, self.width, self.height);
        image = degrade(&mut rng, image);
        let quality = rng.random_range(75..=92u8);
        let jpeg = encode_jpeg(&image, quality)?;
        Ok(GeneratedPhoto { image, jpeg, truth })
    }

    /// Writes photos `0..n` of a set to `dir` as `photo-0001.jpg`… plus `ground-truth.json`.
    ///
    /// # Errors
    /// `Write` when the folder or a file cannot be written.
    pub fn write_set(
        &self,
        dir: &Path,
        set: Set,
        n: u32,
        seed: u64,
    ) -> Result<Vec<GroundTruth>, BibgenError> {
        let photo = |index, file| {
            let photo = self.photo(set, seed, index)?;
            Ok((
                photo.jpeg,
                GroundTruth {
                    file,
                    ..photo.truth
                },
            ))
        };
        write_photos(
            dir,
            n,
            photo,
            |truths| serde_json::json!({ "set": set, "seed": seed, "width": self.width, "height": self.height, "photos": truths }),
        )
    }
}

/// The JPEG bytes of `image` at `quality` (1–100).
pub(crate) fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, BibgenError> {
    let mut jpeg = Vec::new();
    image
        .write_with_encoder(JpegEncoder::new_with_quality(
            Cursor::new(&mut jpeg),
            quality,
        ))
        .map_err(|err| BibgenError::Encode(err.to_string()))?;
    Ok(jpeg)
}

/// Writes photos `0..n` to `dir` as `photo-0001.jpg`…, each from `photo(index, file name)`:
/// its JPEG bytes and its truth (which names the file); then `ground-truth.json`, the JSON
/// `manifest` makes of all the truths. Returns the truths.
pub(crate) fn write_photos<T>(
    dir: &Path,
    n: u32,
    mut photo: impl FnMut(u32, String) -> Result<(Vec<u8>, T), BibgenError>,
    manifest: impl FnOnce(&[T]) -> serde_json::Value,
) -> Result<Vec<T>, BibgenError> {
    std::fs::create_dir_all(dir).map_err(|source| BibgenError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut truths = Vec::new();
    for index in 0..n {
        let file = format!("photo-{:04}.jpg", index + 1);
        let path = dir.join(&file);
        let (jpeg, truth) = photo(index, file)?;
        std::fs::write(&path, &jpeg).map_err(|source| BibgenError::Write { path, source })?;
        truths.push(truth);
    }
    let path = dir.join("ground-truth.json");
    let json = manifest(&truths);
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap_or_default())
        .map_err(|source| BibgenError::Write { path, source })?;
    Ok(truths)
}

/// Lighting, blur and sensor noise.
fn degrade(rng: &mut StdRng, image: RgbImage) -> RgbImage {
    let gain = rng.random_range(0.85..1.08f32);
    let mut image = image;
    for pixel in image.pixels_mut() {
        for c in 0..3 {
            pixel[c] = (f32::from(pixel[c]) * gain).min(255.0) as u8;
        }
    }
    let sigma = rng.random_range(0.4..1.4f32);
    let mut image = imageproc::filter::gaussian_blur_f32(&image, sigma);
    let noise = rng.random_range(2.0..7.0);
    imageproc::noise::gaussian_noise_mut(&mut image, 0.0, noise, rng.random());
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_photo_and_another_seed_another() {
        let generator = Generator::new().expect("fonts-dejavu-core (deploy/local/install-deps.sh)");
        let a = generator.photo(Set::Normal, 7, 3).unwrap();
        let b = generator.photo(Set::Normal, 7, 3).unwrap();
        let c = generator.photo(Set::Normal, 8, 3).unwrap();
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.jpeg, b.jpeg);
        assert_ne!(a.jpeg, c.jpeg);
        assert!((10..100_000).contains(&a.truth.number), "{:?}", a.truth);
        assert_eq!(a.truth.banners.len(), 2);
        assert!(
            a.truth
                .banners
                .iter()
                .all(|b| b.chars().any(char::is_alphabetic))
        );
    }

    #[test]
    fn small_bibs_are_five_to_ten_percent_of_the_width() {
        let generator = Generator::new().expect("fonts-dejavu-core (deploy/local/install-deps.sh)");
        for index in 0..5 {
            let truth = generator.photo(Set::Small, 1, index).unwrap().truth;
            // Rotation widens the axis-aligned box a little.
            let share = truth.bib_box.w as f32 / 1600.0;
            assert!((0.045..0.13).contains(&share), "{share}: {truth:?}");
        }
    }
}
