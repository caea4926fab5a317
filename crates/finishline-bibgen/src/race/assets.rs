//! The fonts and background photographs of each split, and drawing text with them. The tuning
//! split draws with DejaVu and Liberation on the scikit-image sample photographs; the heldout
//! split draws with FreeFont and Roboto on the nature photographs of Debian's mate-backgrounds,
//! so no font family and no background source of the heldout split is ever seen while tuning.
//! The training split (the bib reader's fine-tuning photos) adds eleven more font families to
//! the tuning split's, on the same photographs; none of them is FreeFont or Roboto.
//! Everything comes from registry packages that `deploy/local/install-eval-assets.sh` installs.

use std::path::{Path, PathBuf};

use ab_glyph::{FontRef, PxScale};
use image::{GrayImage, Luma, RgbImage};
use imageproc::drawing::{draw_text_mut, text_size};

use super::Split;
use crate::BibgenError;

/// The script that installs every asset.
pub(crate) const INSTALL_SCRIPT: &str = "deploy/local/install-eval-assets.sh";
/// The same script with the training split's fonts too.
const TRAINING_INSTALL_SCRIPT: &str = "deploy/local/install-eval-assets.sh --training";

const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu";
const LIBERATION: &str = "/usr/share/fonts/truetype/liberation";
const FREEFONT: &str = "/usr/share/fonts/truetype/freefont";
const ROBOTO: &str = "/usr/share/fonts/truetype/roboto/unhinted";
const OPENTYPE: &str = "/usr/share/fonts/opentype";
const TRUETYPE: &str = "/usr/share/fonts/truetype";
const MATE_NATURE: &str = "/usr/share/backgrounds/mate/nature";

/// (package, folder, file) of each split's fonts: bold, condensed and oblique faces.
const TUNING_FONTS: &[(&str, &str, &str)] = &[
    ("fonts-dejavu-core", DEJAVU, "DejaVuSans-Bold.ttf"),
    ("fonts-dejavu-core", DEJAVU, "DejaVuSansMono-Bold.ttf"),
    ("fonts-dejavu-core", DEJAVU, "DejaVuSerif-Bold.ttf"),
    ("fonts-dejavu-extra", DEJAVU, "DejaVuSansCondensed-Bold.ttf"),
    ("fonts-dejavu-extra", DEJAVU, "DejaVuSans-BoldOblique.ttf"),
    ("fonts-liberation", LIBERATION, "LiberationSans-Bold.ttf"),
    (
        "fonts-liberation",
        LIBERATION,
        "LiberationSansNarrow-Bold.ttf",
    ),
    (
        "fonts-liberation",
        LIBERATION,
        "LiberationSans-BoldItalic.ttf",
    ),
    ("fonts-liberation", LIBERATION, "LiberationSerif-Bold.ttf"),
    ("fonts-liberation", LIBERATION, "LiberationMono-Bold.ttf"),
];
const HELDOUT_FONTS: &[(&str, &str, &str)] = &[
    ("fonts-freefont-ttf", FREEFONT, "FreeSansBold.ttf"),
    ("fonts-freefont-ttf", FREEFONT, "FreeSansBoldOblique.ttf"),
    ("fonts-freefont-ttf", FREEFONT, "FreeSerifBold.ttf"),
    ("fonts-freefont-ttf", FREEFONT, "FreeMonoBold.ttf"),
    ("fonts-roboto-unhinted", ROBOTO, "RobotoTTF/Roboto-Bold.ttf"),
    (
        "fonts-roboto-unhinted",
        ROBOTO,
        "RobotoTTF/Roboto-Black.ttf",
    ),
    (
        "fonts-roboto-unhinted",
        ROBOTO,
        "RobotoTTF/Roboto-BlackItalic.ttf",
    ),
    ("fonts-roboto-unhinted", ROBOTO, "RobotoCondensed-Bold.ttf"),
    (
        "fonts-roboto-unhinted",
        ROBOTO,
        "RobotoTTF/Roboto-Medium.ttf",
    ),
];

/// The training split's fonts besides the tuning split's; none is derived from FreeFont (URW
/// Nimbus) or Roboto. `install-eval-assets.sh --training` installs them.
const TRAINING_EXTRA_FONTS: &[(&str, &str, &str)] = &[
    ("fonts-open-sans", TRUETYPE, "open-sans/OpenSans-Bold.ttf"),
    (
        "fonts-open-sans",
        TRUETYPE,
        "open-sans/OpenSans-CondBold.ttf",
    ),
    (
        "fonts-open-sans",
        TRUETYPE,
        "open-sans/OpenSans-ExtraBoldItalic.ttf",
    ),
    ("fonts-lato", TRUETYPE, "lato/Lato-Black.ttf"),
    ("fonts-lato", TRUETYPE, "lato/Lato-Bold.ttf"),
    ("fonts-cantarell", OPENTYPE, "cantarell/Cantarell-Bold.otf"),
    ("fonts-inter", OPENTYPE, "inter/Inter-Bold.otf"),
    ("fonts-inter", OPENTYPE, "inter/Inter-ExtraBoldItalic.otf"),
    ("fonts-cabin", OPENTYPE, "cabin/Cabin-Bold.otf"),
    (
        "fonts-crosextra-carlito",
        TRUETYPE,
        "crosextra/Carlito-Bold.ttf",
    ),
    (
        "fonts-league-spartan",
        OPENTYPE,
        "league-spartan/LeagueSpartan-Bold.otf",
    ),
    (
        "fonts-bebas-neue",
        OPENTYPE,
        "bebas-neue/BebasNeue-Bold.otf",
    ),
    ("fonts-dosis", OPENTYPE, "dosis/Dosis-Bold.otf"),
    ("fonts-hack", TRUETYPE, "hack/Hack-Bold.ttf"),
    ("fonts-adf-gillius", TRUETYPE, "adf/GilliusADF-BoldCond.otf"),
];

/// Photographs in the scikit-image 0.25.2 wheel (extracted under the models folder).
const SKIMAGE_PHOTOS: &[&str] = &[
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "grass.png",
    "gravel.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "motorcycle_right.png",
];
/// Photographs in Debian's mate-backgrounds.
const MATE_PHOTOS: &[&str] = &[
    "Aqua.jpg",
    "Blinds.jpg",
    "Dune.jpg",
    "FreshFlower.jpg",
    "Garden.jpg",
    "GreenMeadow.jpg",
    "LadyBird.jpg",
    "RainDrops.jpg",
    "Storm.jpg",
    "TwoWings.jpg",
    "Wood.jpg",
    "YellowFlower.jpg",
];

/// One loaded font.
pub(crate) struct FontFile {
    /// The file name, as the truth reports it.
    pub name: String,
    bytes: Vec<u8>,
}

impl FontFile {
    pub fn font(&self) -> FontRef<'_> {
        // Checked when loaded.
        FontRef::try_from_slice(&self.bytes).expect("font checked when loaded")
    }
}

/// One background photograph: its label (`source/file`) and where it is.
pub(crate) struct Background {
    pub label: String,
    path: PathBuf,
    package: &'static str,
}

impl Background {
    /// Decodes the photograph (decoded per photo, so creating a generator stays cheap).
    pub fn load(&self) -> Result<RgbImage, BibgenError> {
        let image = image::open(&self.path).map_err(|err| BibgenError::AssetMissing {
            what: format!("{} ({err})", self.path.display()),
            package: self.package.to_owned(),
            script: INSTALL_SCRIPT,
        })?;
        Ok(image.to_rgb8())
    }
}

/// The fonts and backgrounds of one split.
pub(crate) struct Assets {
    pub fonts: Vec<FontFile>,
    pub backgrounds: Vec<Background>,
}

/// The models folder: `$FINISHLINE_MODELS_DIR`, else `models` in the working folder or one of
/// its parents (tests run inside the crate), else the workspace's `models`.
fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FINISHLINE_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let candidate = dir.join("models");
            if candidate.join("eval-assets").is_dir() {
                return candidate;
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

impl Assets {
    pub fn load(split: Split) -> Result<Self, BibgenError> {
        let (font_list, script): (Vec<&(&str, &str, &str)>, _) = match split {
            Split::Tuning => (TUNING_FONTS.iter().collect(), INSTALL_SCRIPT),
            Split::Heldout => (HELDOUT_FONTS.iter().collect(), INSTALL_SCRIPT),
            Split::Training => (
                TUNING_FONTS.iter().chain(TRAINING_EXTRA_FONTS).collect(),
                TRAINING_INSTALL_SCRIPT,
            ),
        };
        let mut fonts = Vec::new();
        for (package, dir, file) in font_list {
            let path = Path::new(dir).join(file);
            let bytes = std::fs::read(&path).map_err(|err| BibgenError::AssetMissing {
                what: format!("the font {} ({err})", path.display()),
                package: format!("the Debian package {package}"),
                script,
            })?;
            FontRef::try_from_slice(&bytes)
                .map_err(|_| BibgenError::FontInvalid { path: path.clone() })?;
            let name = file.rsplit('/').next().unwrap_or(file).to_owned();
            fonts.push(FontFile { name, bytes });
        }
        let backgrounds: Vec<Background> = match split {
            Split::Tuning | Split::Training => {
                let dir = models_dir().join("eval-assets/skimage");
                SKIMAGE_PHOTOS
                    .iter()
                    .map(|file| Background {
                        label: format!("scikit-image/{file}"),
                        path: dir.join(file),
                        package: "the PyPI wheel scikit-image 0.25.2",
                    })
                    .collect()
            }
            Split::Heldout => MATE_PHOTOS
                .iter()
                .map(|file| Background {
                    label: format!("mate-backgrounds/{file}"),
                    path: Path::new(MATE_NATURE).join(file),
                    package: "the Debian package mate-backgrounds",
                })
                .collect(),
        };
        for background in &backgrounds {
            if !background.path.is_file() {
                return Err(BibgenError::AssetMissing {
                    what: format!("the background photograph {}", background.path.display()),
                    package: background.package.to_owned(),
                    script: INSTALL_SCRIPT,
                });
            }
        }
        Ok(Self { fonts, backgrounds })
    }
}

/// Text rendered as a coverage mask, and the box of its ink inside the mask.
pub(crate) struct TextMask {
    pub mask: GrayImage,
    /// Ink box inside `mask`: x0, y0, x1, y1 (exclusive).
    pub ink: [u32; 4],
}

/// Renders `text` at `scale` pixels into a mask with a margin.
pub(crate) fn text_mask(font: &FontRef<'_>, scale: f32, text: &str) -> TextMask {
    let scale = PxScale::from(scale.max(4.0));
    let (w, h) = text_size(scale, font, text);
    let pad = (scale.y * 0.3).ceil() as u32 + 2;
    let mut mask = GrayImage::new(w + 2 * pad, h + 2 * pad);
    draw_text_mut(
        &mut mask,
        Luma([255]),
        pad as i32,
        pad as i32,
        scale,
        font,
        text,
    );
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in mask.enumerate_pixels() {
        if p[0] > 96 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    if x0 == u32::MAX {
        (x0, y0, x1, y1) = (0, 0, 1, 1);
    }
    TextMask {
        mask,
        ink: [x0, y0, x1, y1],
    }
}

impl TextMask {
    pub fn ink_w(&self) -> u32 {
        self.ink[2] - self.ink[0]
    }
    pub fn ink_h(&self) -> u32 {
        self.ink[3] - self.ink[1]
    }

    /// Blends the text in `color` so that its ink box starts at (x, y); returns the ink box
    /// clipped to the image as (x0, y0, x1, y1).
    pub fn blit(&self, image: &mut RgbImage, x: i32, y: i32, color: [u8; 3]) -> [i32; 4] {
        let ox = x - self.ink[0] as i32;
        let oy = y - self.ink[1] as i32;
        let (iw, ih) = (image.width() as i32, image.height() as i32);
        for (mx, my, p) in self.mask.enumerate_pixels() {
            if p[0] == 0 {
                continue;
            }
            let (px, py) = (ox + mx as i32, oy + my as i32);
            if px < 0 || py < 0 || px >= iw || py >= ih {
                continue;
            }
            let a = u32::from(p[0]);
            let pixel = image.get_pixel_mut(px as u32, py as u32);
            for c in 0..3 {
                pixel[c] =
                    ((u32::from(pixel[c]) * (255 - a) + u32::from(color[c]) * a) / 255) as u8;
            }
        }
        [
            x.clamp(0, iw),
            y.clamp(0, ih),
            (x + self.ink_w() as i32).clamp(0, iw),
            (y + self.ink_h() as i32).clamp(0, ih),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The font family of a file: its name up to the first `-`, without `Bold`/`ADF` tails.
    fn family(file: &str) -> String {
        let name = file.rsplit('/').next().unwrap_or(file);
        let stem = name.split(['-', '.']).next().unwrap_or(name);
        stem.trim_end_matches("Bold")
            .trim_end_matches("ADF")
            .to_owned()
    }

    #[test]
    fn no_font_package_or_family_of_the_heldout_split_is_tuned_or_trained_on() {
        let heldout: Vec<(&str, String)> = HELDOUT_FONTS
            .iter()
            .map(|(package, _, file)| (*package, family(file)))
            .collect();
        assert!(heldout.iter().any(|(_, f)| f == "FreeSans"));
        assert!(heldout.iter().any(|(_, f)| f == "Roboto"));
        for (package, _, file) in TUNING_FONTS.iter().chain(TRAINING_EXTRA_FONTS) {
            for (heldout_package, heldout_family) in &heldout {
                assert_ne!(package, heldout_package, "{file}");
                assert_ne!(&family(file), heldout_family, "{file}");
            }
            let lower = file.to_lowercase();
            for forbidden in ["free", "roboto", "nimbus", "urw"] {
                assert!(
                    !lower.contains(forbidden),
                    "{file} looks like a held-out font"
                );
            }
        }
    }
}
