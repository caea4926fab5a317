//! Colours people can use: CIE Lab for pixels, and the name of a colour from PROTOCOL.md's
//! fixed list (white, black, grey, red, orange, yellow, green, blue, purple, pink, brown).
//!
//! Names are decided from Lab lightness and chroma and the RGB wheel's hue, which stays put
//! when a fold or a shadow darkens a shirt: low chroma is white, grey or black by lightness;
//! otherwise the hue picks the family and lightness splits the pairs that share a hue (pink /
//! red, orange / brown, yellow / brown, pink / purple). Photos are first brought to a
//! common exposure ([`ExposureGain`]), so a white bib in a dark photo is still white.

use std::sync::LazyLock;

use finishline_wire::ColorName;
use image::RgbImage;

/// A colour in CIE Lab (D65): `l` 0–100, `a` and `b` roughly −128…127.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lab {
    pub l: f32,
    pub a: f32,
    pub b: f32,
}

/// sRGB byte → linear light, once.
static LINEAR: LazyLock<[f32; 256]> = LazyLock::new(|| {
    let mut table = [0f32; 256];
    for (i, value) in table.iter_mut().enumerate() {
        let c = i as f32 / 255.0;
        *value = if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        };
    }
    table
});

fn lab_f(t: f32) -> f32 {
    if t > 0.008_856 {
        t.cbrt()
    } else {
        7.787 * t + 16.0 / 116.0
    }
}

impl Lab {
    /// The Lab value of an sRGB pixel.
    pub fn from_rgb(rgb: [u8; 3]) -> Self {
        let [r, g, b] = rgb.map(|c| LINEAR[usize::from(c)]);
        let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
        let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
        let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
        let (fx, fy, fz) = (lab_f(x), lab_f(y), lab_f(z));
        Self {
            l: 116.0 * fy - 16.0,
            a: 500.0 * (fx - fy),
            b: 200.0 * (fy - fz),
        }
    }

    /// CIE76 ΔE: about 2 is a just-visible difference, 20+ clearly another colour.
    pub fn distance(&self, other: &Lab) -> f32 {
        ((self.l - other.l).powi(2) + (self.a - other.a).powi(2) + (self.b - other.b).powi(2))
            .sqrt()
    }

    pub fn chroma(&self) -> f32 {
        (self.a * self.a + self.b * self.b).sqrt()
    }
}

/// The hue of a pixel on the RGB colour wheel (HSV), degrees 0–360: unlike Lab's hue angle
/// it keeps navy apart from purple.
fn wheel_hue(rgb: [u8; 3]) -> f32 {
    let [r, g, b] = rgb.map(f32::from);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let delta = max - min;
    if delta <= 0.0 {
        return 0.0;
    }
    let hue = if max == r {
        60.0 * ((g - b) / delta)
    } else if max == g {
        60.0 * ((b - r) / delta + 2.0)
    } else {
        60.0 * ((r - g) / delta + 4.0)
    };
    hue.rem_euclid(360.0)
}

/// The least chroma of an orange. A brown photographed bright, or lit up with the paper's
/// gain, keeps its hue and gains lightness but not saturation: a tan (`#d09051`, chroma ~44)
/// is brown, an orange shirt (`#ff9c34`) has ~70. Chosen on the tuning split (3,304 bibs
/// read): from 40 to 50, shirt colour right 3,023 → 3,049, bib colour unchanged.
const ORANGE_CHROMA: f32 = 50.0;

/// A channel this bright may have been cut off by the camera.
const CLIPPED: u8 = 240;
/// From this hue to 185° a colour is cyan, green unless its blue channel is clipped.
const CYAN_FROM: f32 = 170.0;

/// The name of a colour (see the module comment for the rule).
pub fn color_name(rgb: [u8; 3]) -> ColorName {
    let lab = Lab::from_rgb(rgb);
    let (l, c, h) = (lab.l, lab.chroma(), wheel_hue(rgb));
    // Near-neutral: a slightly tinted very light paper is still white.
    if c < 11.0 || (l > 88.0 && c < 16.0) {
        return if l >= 78.0 {
            ColorName::White
        } else if l < 26.0 {
            ColorName::Black
        } else {
            ColorName::Grey
        };
    }
    if l < 14.0 && c < 24.0 {
        return ColorName::Black;
    }
    match h {
        h if !(15.0..345.0).contains(&h) => {
            if l > 70.0 && c < 50.0 {
                ColorName::Pink
            } else {
                ColorName::Red
            }
        }
        h if h < 44.0 => {
            if l >= 50.0 && c >= ORANGE_CHROMA {
                ColorName::Orange
            } else if l > 72.0 && h < 25.0 {
                ColorName::Pink
            } else {
                ColorName::Brown
            }
        }
        h if h < 70.0 => {
            if l >= 62.0 {
                ColorName::Yellow
            } else {
                ColorName::Brown
            }
        }
        h if h < CYAN_FROM => ColorName::Green,
        // A light blue photographed too bright clips its blue channel first, and what is left
        // reads cyan (hue 180–185): the blue it was.
        h if h < 185.0 && rgb[2] < CLIPPED => ColorName::Green,
        h if h < 258.0 => ColorName::Blue,
        h if h < 290.0 => ColorName::Purple,
        _ => {
            if l >= 50.0 {
                ColorName::Pink
            } else {
                ColorName::Purple
            }
        }
    }
}

/// The names of a bib's paper and of the shirt around it, as photographed.
///
/// Paper is printed light, so the paper's own brightness tells how much shadow or how little
/// exposure lies on this runner: both colours are brought up by the gain that makes the paper's
/// brightest channel 235 (×1 to ×6) before they are named. A white bib in a shadow is then
/// white, not grey, and the shirt in the same shadow keeps its own name (a black shirt stays
/// black: it is dark next to its paper).
///
/// The shirt's gain stops where its own brightest channel is full. A shirt lit brighter than
/// its paper (the paper in a shadow, or a dark green paper) would otherwise clip channel by
/// channel: a pink turned white and an orange yellow. Tuning split (3,303 bibs read): shirt
/// colour right 3,057 → 3,082, no shirt named right before named wrong.
pub fn bib_and_shirt_names(
    paper: [u8; 3],
    shirt: Option<[u8; 3]>,
) -> (ColorName, Option<ColorName>) {
    let gain = (235.0 / f32::from(brightest(paper))).clamp(1.0, 6.0);
    (
        color_name(ExposureGain(gain).apply(paper)),
        shirt.map(|shirt| {
            let unclipped = (255.0 / f32::from(brightest(shirt))).max(1.0);
            color_name(ExposureGain(gain.min(unclipped)).apply(shirt))
        }),
    )
}

/// A pixel's brightest channel, at least 1.
fn brightest(rgb: [u8; 3]) -> u8 {
    rgb.iter().copied().max().unwrap_or(0).max(1)
}

/// A photo-wide brightness gain that brings its brightest parts (99th percentile of each
/// pixel's brightest channel) to about 235, at most ×2.5 and never darker: naming colours of
/// an under-exposed photo as they were meant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExposureGain(pub f32);

impl ExposureGain {
    /// Measured on every 7th pixel of every 7th row.
    pub fn of(image: &RgbImage) -> Self {
        let mut histogram = [0u32; 256];
        let mut count = 0u32;
        for y in (0..image.height()).step_by(7) {
            for x in (0..image.width()).step_by(7) {
                let p = image.get_pixel(x, y).0;
                histogram[usize::from(p[0].max(p[1]).max(p[2]))] += 1;
                count += 1;
            }
        }
        let mut above = 0u32;
        let mut p99 = 255u32;
        for value in (0..256).rev() {
            above += histogram[value];
            if above * 100 >= count {
                p99 = value as u32;
                break;
            }
        }
        Self((235.0 / p99.max(1) as f32).clamp(1.0, 2.5))
    }

    /// The pixel as if the photo had been exposed right.
    pub fn apply(&self, rgb: [u8; 3]) -> [u8; 3] {
        rgb.map(|c| (f32::from(c) * self.0).min(255.0) as u8)
    }
}

/// `#rrggbb` of a pixel.
pub fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(rgb: [u8; 3]) -> ColorName {
        color_name(rgb)
    }

    #[test]
    fn common_bib_and_shirt_colours_get_the_names_people_give_them() {
        use ColorName::*;
        let cases: &[([u8; 3], ColorName)] = &[
            ([244, 244, 240], White),
            ([255, 255, 255], White),
            ([250, 248, 228], White),
            ([20, 20, 22], Black),
            ([45, 45, 45], Black),
            ([128, 128, 128], Grey),
            ([190, 190, 190], Grey),
            ([200, 32, 42], Red),
            ([255, 0, 0], Red),
            ([140, 20, 30], Red),
            ([242, 140, 40], Orange),
            ([255, 120, 0], Orange),
            ([245, 212, 0], Yellow),
            ([255, 240, 60], Yellow),
            ([30, 138, 60], Green),
            ([168, 224, 108], Green),
            ([20, 90, 40], Green),
            ([31, 79, 180], Blue),
            ([143, 200, 238], Blue),
            ([20, 30, 90], Blue),
            ([0, 120, 200], Blue),
            ([106, 44, 145], Purple),
            ([150, 80, 200], Purple),
            ([244, 166, 200], Pink),
            ([180, 150, 220], Purple),
            ([128, 0, 128], Purple),
            ([65, 105, 225], Blue),
            ([0, 0, 255], Blue),
            ([230, 60, 150], Pink),
            ([255, 190, 210], Pink),
            ([120, 70, 30], Brown),
            ([150, 95, 55], Brown),
            ([90, 55, 30], Brown),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(rgb, want)| name(*rgb) != *want)
            .map(|(rgb, want)| {
                let lab = Lab::from_rgb(*rgb);
                format!(
                    "{rgb:?}: {} (want {want}; L {:.0} C {:.0} h {:.0})",
                    name(*rgb),
                    lab.l,
                    lab.chroma(),
                    wheel_hue(*rgb)
                )
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn an_overexposed_light_blue_is_blue_and_a_cyan_green_stays_green() {
        // What the bench measured on light blue (#6caeec) bibs in over-exposed photos.
        for clipped in [
            [167, 251, 253],
            [163, 248, 251],
            [153, 240, 246],
            [169, 251, 251],
        ] {
            assert_eq!(name(clipped), ColorName::Blue, "{clipped:?}");
        }
        // The same hue with its blue channel intact, and a clipped green, stay green.
        assert_eq!(name([40, 200, 205]), ColorName::Green);
        assert_eq!(name([150, 255, 170]), ColorName::Green);
    }

    #[test]
    fn a_brown_photographed_bright_is_brown_and_an_orange_stays_orange() {
        // Brown (#98663a) shirts as the bench measured them on over-exposed photos.
        for tan in [
            [208, 144, 81],
            [213, 146, 83],
            [202, 137, 78],
            [182, 124, 68],
        ] {
            assert_eq!(name(tan), ColorName::Brown, "{tan:?}");
        }
        for orange in [[255, 156, 52], [236, 104, 18], [242, 149, 48]] {
            assert_eq!(name(orange), ColorName::Orange, "{orange:?}");
        }
    }

    #[test]
    fn a_shadow_on_a_coloured_shirt_keeps_its_name() {
        for (lit, shaded) in [
            ([200, 32, 42], [120, 19, 25]),
            ([31, 79, 180], [18, 47, 108]),
        ] {
            assert_eq!(name(lit), name(shaded), "{lit:?} vs {shaded:?}");
        }
    }

    #[test]
    fn a_bib_and_shirt_in_a_shadow_are_named_as_if_lit() {
        use ColorName::*;
        let cases = [
            ([0x92, 0x93, 0x8f], [0x3f, 0x15, 0x5a], White, Purple),
            ([0x99, 0x5c, 0x20], [0x0f, 0x10, 0x11], Orange, Black),
            ([0x94, 0x95, 0x93], [0x95, 0x8c, 0x28], White, Yellow),
            ([0x3d, 0x1b, 0x04], [0x17, 0x2d, 0x06], Orange, Green),
        ];
        assert_bib_and_shirt_names(&cases);
    }

    /// Each case: the paper and the shirt as photographed, and the names they must get.
    fn assert_bib_and_shirt_names(cases: &[([u8; 3], [u8; 3], ColorName, ColorName)]) {
        for &(paper, shirt, bib_name, shirt_name) in cases {
            assert_eq!(
                bib_and_shirt_names(paper, Some(shirt)),
                (bib_name, Some(shirt_name)),
                "{paper:?} on {shirt:?}"
            );
        }
    }

    #[test]
    fn a_shirt_lit_brighter_than_its_paper_keeps_its_hue() {
        use ColorName::*;
        // As the bench measured them: a pink shirt beside a dark green bib, and beside a
        // yellow bib in a shadow; an orange shirt beside a red bib in a shadow.
        let cases = [
            ([0x18, 0x6a, 0x30], [0xe4, 0xa7, 0xc1], Green, Pink),
            ([0x8d, 0x7a, 0x0b], [0xfb, 0xb8, 0xd4], Yellow, Pink),
            ([0x90, 0x10, 0x18], [0xf4, 0x96, 0x2c], Red, Orange),
        ];
        assert_bib_and_shirt_names(&cases);
    }

    #[test]
    fn a_dark_photo_is_brought_up_and_a_bright_one_left_alone() {
        let dark = RgbImage::from_pixel(70, 70, image::Rgb([100, 100, 96]));
        let gain = ExposureGain::of(&dark);
        assert!((gain.0 - 2.35).abs() < 0.01, "{gain:?}");
        assert_eq!(name(gain.apply([100, 100, 96])), ColorName::White);
        let bright = RgbImage::from_pixel(70, 70, image::Rgb([250, 250, 250]));
        assert_eq!(ExposureGain::of(&bright).0, 1.0);
    }
}
