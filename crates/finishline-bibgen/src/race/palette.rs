//! The named colours of the race photos: every bib paper and shirt is drawn from one of several
//! shades that a person would clearly call by one of eleven names (white, black, grey, red,
//! orange, yellow, green, blue, purple, pink, brown), so that a colour namer is really tested
//! against shades, not one fixed RGB value per name.

use rand::Rng;
use rand::rngs::StdRng;

/// The only colour names a truth file uses.
pub const COLOR_NAMES: &[&str] = &[
    "white", "black", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
];

/// A shade and the name a person calls it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shade {
    pub name: &'static str,
    pub rgb: [u8; 3],
}

impl Shade {
    pub fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.rgb[0], self.rgb[1], self.rgb[2])
    }

    /// Relative luminance 0..255.
    pub fn luma(&self) -> f32 {
        luma(self.rgb)
    }
}

pub(crate) fn luma(rgb: [u8; 3]) -> f32 {
    0.299 * f32::from(rgb[0]) + 0.587 * f32::from(rgb[1]) + 0.114 * f32::from(rgb[2])
}

const fn s(name: &'static str, r: u8, g: u8, b: u8) -> Shade {
    Shade {
        name,
        rgb: [r, g, b],
    }
}

/// Several clear shades of each name.
const SHADES: &[Shade] = &[
    s("white", 246, 246, 242),
    s("white", 236, 238, 234),
    s("white", 250, 249, 244),
    s("black", 22, 22, 24),
    s("black", 36, 34, 40),
    s("grey", 178, 178, 176),
    s("grey", 128, 130, 132),
    s("grey", 84, 86, 90),
    s("red", 204, 28, 36),
    s("red", 168, 18, 30),
    s("red", 230, 50, 46),
    s("orange", 246, 132, 28),
    s("orange", 236, 104, 18),
    s("orange", 255, 156, 52),
    s("yellow", 250, 216, 18),
    s("yellow", 246, 232, 64),
    s("yellow", 238, 196, 0),
    s("green", 24, 112, 48),
    s("green", 128, 206, 40),
    s("green", 40, 160, 72),
    s("blue", 24, 36, 112),
    s("blue", 36, 84, 204),
    s("blue", 108, 174, 236),
    s("purple", 108, 38, 150),
    s("purple", 142, 72, 192),
    s("purple", 78, 28, 108),
    s("pink", 246, 150, 190),
    s("pink", 236, 88, 160),
    s("pink", 250, 182, 212),
    s("brown", 118, 74, 38),
    s("brown", 92, 58, 34),
    s("brown", 152, 102, 58),
];

fn shades_of(name: &str) -> impl Iterator<Item = &'static Shade> + '_ {
    SHADES.iter().filter(move |shade| shade.name == name)
}

fn pick_shade(rng: &mut StdRng, name: &str) -> Shade {
    let shades: Vec<&Shade> = shades_of(name).collect();
    *shades[rng.random_range(0..shades.len())]
}

/// A bib paper colour: mostly white, also yellow, orange, blue, green, pink, red.
pub(crate) fn bib_paper(rng: &mut StdRng) -> Shade {
    const WEIGHTED: &[(&str, u32)] = &[
        ("white", 45),
        ("yellow", 13),
        ("orange", 9),
        ("blue", 10),
        ("green", 8),
        ("pink", 8),
        ("red", 7),
    ];
    let total: u32 = WEIGHTED.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (name, weight) in WEIGHTED {
        if roll < *weight {
            let mut shade = pick_shade(rng, name);
            // Dark navy paper is rare on real bibs: keep blue papers royal or sky.
            while shade.name == "blue" && shade.luma() < 50.0 {
                shade = pick_shade(rng, name);
            }
            return shade;
        }
        roll -= weight;
    }
    pick_shade(rng, "white")
}

/// A shirt colour of any name that differs from `bib` by name and visibly (RGB distance).
pub(crate) fn shirt_for(rng: &mut StdRng, bib: Shade) -> Shade {
    loop {
        let name = COLOR_NAMES[rng.random_range(0..COLOR_NAMES.len())];
        let shade = pick_shade(rng, name);
        if shade.name != bib.name && distance(shade.rgb, bib.rgb) > 90.0 {
            return shade;
        }
    }
}

/// Any shade (for distractor plates, shorts and props).
pub(crate) fn any(rng: &mut StdRng) -> Shade {
    SHADES[rng.random_range(0..SHADES.len())]
}

/// Ink that reads well on `paper`: near-black on light papers, white on dark ones.
pub(crate) fn ink_on(rng: &mut StdRng, paper: [u8; 3]) -> [u8; 3] {
    if luma(paper) > 140.0 {
        const DARK: &[[u8; 3]] = &[[16, 16, 18], [20, 24, 60], [96, 12, 16], [12, 52, 24]];
        if rng.random_bool(0.75) {
            DARK[0]
        } else {
            DARK[rng.random_range(0..DARK.len())]
        }
    } else {
        [248, 248, 246]
    }
}

pub(crate) fn distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    let d = |i: usize| f32::from(a[i]) - f32::from(b[i]);
    (d(0) * d(0) + d(1) * d(1) + d(2) * d(2)).sqrt()
}
