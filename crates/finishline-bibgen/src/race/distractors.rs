//! Digit-bearing things that are not bibs: km markers, banners and finish arches, speed signs,
//! street signs, race clocks on LED panels, wave/gate boards, vehicles with door numbers or
//! licence plates, and house numbers on walls. Each is laid out from its text height (so it can
//! match a bib's scale beside a runner), placed where it hides no runner, and drawn behind the
//! runners; its truth box is the box of its printed text.

use ab_glyph::FontRef;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_filled_rect_mut};
use imageproc::rect::Rect;
use rand::Rng;
use rand::rngs::StdRng;

use super::assets::{TextMask, text_mask};
use super::palette;
use super::{BibBox, Distractor};

pub(crate) const KINDS: &[&str] = &[
    "km-marker",
    "banner",
    "speed-sign",
    "street-sign",
    "clock",
    "gate",
    "vehicle",
    "building",
];

fn text_for(rng: &mut StdRng, kind: &str) -> String {
    let n = rng.random_range(1..43u32);
    let pick = |rng: &mut StdRng, list: &[&str]| list[rng.random_range(0..list.len())].to_owned();
    match kind {
        "km-marker" => match rng.random_range(0..4) {
            0 => format!("KM {n}"),
            1 => format!("{n}"),
            2 => format!("{n} KM"),
            _ => format!("{n}K"),
        },
        "banner" => pick(
            rng,
            &[
                "CITY MARATHON 2026",
                "FINISH 2026",
                "RUN 10K",
                "BANK 24",
                "RADIO 101",
                "SPORT 365",
                "HALF 21.1 KM",
                "ENERGY 500",
                "START 2026",
                "AQUA 7",
            ],
        ),
        "speed-sign" => pick(rng, &["30", "20", "50", "10", "40"]),
        "street-sign" => pick(
            rng,
            &[
                "Main St 12",
                "Park Ave 7",
                "Elm Rd 34",
                "Station Rd 3",
                "Oak St 118",
                "12",
                "Mill Ln 56",
            ],
        ),
        "clock" => {
            let (hh, mm, ss) = (
                rng.random_range(0..4u32),
                rng.random_range(0..60u32),
                rng.random_range(0..60u32),
            );
            if rng.random_bool(0.5) {
                format!("{hh:02}:{mm:02}:{ss:02}")
            } else {
                format!("{hh}:{mm:02}:{ss:02}")
            }
        }
        "gate" => match rng.random_range(0..4) {
            0 => format!("WAVE {}", n % 9 + 1),
            1 => format!("GATE {n}"),
            2 => format!("START {}", n % 6 + 1),
            _ => format!("{}", n % 9 + 1),
        },
        "vehicle" => {
            if rng.random_bool(0.5) {
                format!("{}", rng.random_range(1..100u32))
            } else {
                let letters = ["AB", "KR", "MN", "ZT", "HL"][rng.random_range(0..5)];
                format!("{letters} {}", rng.random_range(1000..10000u32))
            }
        }
        _ => {
            if rng.random_bool(0.7) {
                format!("{}", rng.random_range(1..250u32))
            } else {
                format!("No {}", rng.random_range(1..99u32))
            }
        }
    }
}

/// A laid-out sign: its object box (size) and where the text sits inside it.
pub(crate) struct Sign {
    pub kind: &'static str,
    text: String,
    mask: TextMask,
    /// Object size (without poles).
    pub w: f32,
    pub h: f32,
    /// Text ink offset inside the object.
    pub tx: f32,
    pub ty: f32,
    pub th: f32,
}

pub(crate) fn layout(
    rng: &mut StdRng,
    font: &FontRef<'_>,
    kind: &'static str,
    text_h: f32,
) -> Sign {
    let text = text_for(rng, kind);
    let probe = text_mask(font, 100.0, &text);
    let mask = text_mask(font, 100.0 * text_h / probe.ink_h() as f32, &text);
    let (iw, ih) = (mask.ink_w() as f32, mask.ink_h() as f32);
    let pad = 0.4 * ih;
    let (w, h) = match kind {
        "speed-sign" => {
            let d = iw.max(ih) * 1.0 + 1.4 * ih;
            (d, d)
        }
        "vehicle" => ((iw * 2.6).max(6.0 * ih), 3.4 * ih),
        "building" => ((iw * 3.0).max(5.0 * ih), 5.0 * ih),
        "banner" => (iw + 3.0 * pad, ih + 2.0 * pad),
        _ => (iw + 2.0 * pad, ih + 2.0 * pad),
    };
    let (tx, ty) = match kind {
        "vehicle" => (w * 0.42 - iw / 2.0, h * 0.55 - ih / 2.0),
        "building" => (
            w * rng.random_range(0.2..0.6) - iw / 2.0,
            h * 0.45 - ih / 2.0,
        ),
        _ => ((w - iw) / 2.0, (h - ih) / 2.0),
    };
    Sign {
        kind,
        text,
        mask,
        w,
        h,
        tx,
        ty,
        th: ih,
    }
}

/// Grey posts `0.2 * th` wide, one at each left edge in `xs`, from `y + h` down to the ground
/// but at most `most * th` long.
fn posts_under(image: &mut RgbImage, xs: &[f32], y: f32, h: f32, th: f32, most: f32) {
    let ground = image.height() as f32;
    for &px in xs {
        rect(
            image,
            px,
            y + h,
            0.2 * th,
            (ground - y - h).min(most * th),
            [128, 130, 134],
        );
    }
}

fn rect(image: &mut RgbImage, x: f32, y: f32, w: f32, h: f32, color: [u8; 3]) {
    if w >= 1.0 && h >= 1.0 {
        draw_filled_rect_mut(
            image,
            Rect::at(x.round() as i32, y.round() as i32)
                .of_size(w.round() as u32, h.round() as u32),
            Rgb(color),
        );
    }
}

impl Sign {
    /// A plate behind the sign's text (object at (x, y)), in text heights: `[left margin, top
    /// margin, extra width, height]`.
    fn text_panel(&self, image: &mut RgbImage, x: f32, y: f32, size: [f32; 4], color: [u8; 3]) {
        let (iw, ih) = (self.mask.ink_w() as f32, self.mask.ink_h() as f32);
        let [left, top, wider, high] = size;
        rect(
            image,
            x + self.tx - left * ih,
            y + self.ty - top * ih,
            iw + wider * ih,
            high * ih,
            color,
        );
    }

    /// Draws the sign with its object's top-left at (x, y).
    pub fn draw(&self, rng: &mut StdRng, image: &mut RgbImage, x: f32, y: f32) -> Distractor {
        let (w, h, th) = (self.w, self.h, self.th);
        let plate_colors: &[[u8; 3]] = &[
            [24, 84, 190],
            [236, 110, 20],
            [246, 214, 20],
            [244, 244, 240],
            [30, 120, 60],
            [200, 30, 36],
        ];
        let mut text_color = [20, 20, 20];
        match self.kind {
            "km-marker" | "street-sign" | "gate" | "banner" => {
                let plate = if self.kind == "street-sign" {
                    [[24, 100, 50], [24, 70, 170]][rng.random_range(0..2)]
                } else {
                    plate_colors[rng.random_range(0..plate_colors.len())]
                };
                text_color = palette::ink_on(rng, plate);
                let posts = if matches!(self.kind, "km-marker" | "street-sign") {
                    vec![x + w / 2.0 - 0.1 * th]
                } else {
                    vec![x + 0.1 * w, x + 0.9 * w - 0.2 * th]
                };
                posts_under(image, &posts, y, h, th, 4.0);
                if self.kind == "street-sign" {
                    rect(
                        image,
                        x - 0.06 * th,
                        y - 0.06 * th,
                        w + 0.12 * th,
                        h + 0.12 * th,
                        [240, 240, 240],
                    );
                }
                rect(image, x, y, w, h, plate);
            }
            "speed-sign" => {
                posts_under(image, &[x + w / 2.0 - 0.1 * th], y, h / 2.0, th, 4.0);
                let (cx, cy, r) = ((x + w / 2.0) as i32, (y + h / 2.0) as i32, (w / 2.0) as i32);
                draw_filled_circle_mut(image, (cx, cy), r, Rgb([206, 24, 30]));
                draw_filled_circle_mut(
                    image,
                    (cx, cy),
                    (r as f32 * 0.8) as i32,
                    Rgb([246, 246, 244]),
                );
            }
            "clock" => {
                let posts = [x + 0.1 * w, x + 0.9 * w - 0.2 * th];
                posts_under(image, &posts, y, h, th, 3.0);
                rect(
                    image,
                    x - 0.1 * th,
                    y - 0.1 * th,
                    w + 0.2 * th,
                    h + 0.2 * th,
                    [90, 90, 96],
                );
                rect(image, x, y, w, h, [16, 16, 18]);
                text_color = [[255, 60, 40], [255, 176, 30], [80, 255, 90]][rng.random_range(0..3)];
            }
            "vehicle" => {
                let body = palette::any(rng).rgb;
                let top = y + 0.25 * h;
                rect(image, x + 0.2 * w, y - 0.35 * h, 0.55 * w, 0.62 * h, body);
                rect(
                    image,
                    x + 0.25 * w,
                    y - 0.28 * h,
                    0.22 * w,
                    0.45 * h,
                    [60, 80, 100],
                );
                rect(
                    image,
                    x + 0.5 * w,
                    y - 0.28 * h,
                    0.2 * w,
                    0.45 * h,
                    [60, 80, 100],
                );
                rect(image, x, top, w, 0.6 * h, body);
                for wx in [x + 0.2 * w, x + 0.8 * w] {
                    draw_filled_circle_mut(
                        image,
                        (wx as i32, (y + 0.85 * h) as i32),
                        (0.17 * h) as i32,
                        Rgb([20, 20, 20]),
                    );
                    draw_filled_circle_mut(
                        image,
                        (wx as i32, (y + 0.85 * h) as i32),
                        (0.08 * h) as i32,
                        Rgb([150, 150, 150]),
                    );
                }
                let panel = if self.text.contains(' ') {
                    [244, 214, 40]
                } else {
                    [246, 246, 244]
                };
                self.text_panel(image, x, y, [0.25, 0.2, 0.5, 1.4], panel);
            }
            _ => {
                let wall = [
                    [178, 88, 60],
                    [214, 196, 160],
                    [170, 170, 164],
                    [230, 226, 214],
                ][rng.random_range(0..4)];
                rect(image, x, y, w, h, wall);
                let win = [70, 90, 110];
                for (fx, fy) in [(0.08, 0.08), (0.7, 0.08), (0.08, 0.6), (0.7, 0.6)] {
                    rect(image, x + fx * w, y + fy * h, 0.2 * w, 0.3 * h, win);
                }
                if rng.random_bool(0.6) {
                    self.text_panel(image, x, y, [0.3, 0.25, 0.6, 1.5], [24, 60, 150]);
                    text_color = [246, 246, 244];
                }
            }
        }
        let b = self.mask.blit(
            image,
            (x + self.tx).round() as i32,
            (y + self.ty).round() as i32,
            text_color,
        );
        Distractor {
            kind: self.kind.to_owned(),
            text: self.text.clone(),
            bbox: BibBox {
                x: b[0] as u32,
                y: b[1] as u32,
                w: (b[2] - b[0]) as u32,
                h: (b[3] - b[1]) as u32,
            },
        }
    }

    /// Box of the sign at (x, y), with the vehicle's roof.
    pub fn extent(&self, x: f32, y: f32) -> [f32; 4] {
        let roof = if self.kind == "vehicle" {
            0.35 * self.h
        } else {
            0.0
        };
        [x, y - roof, x + self.w, y + self.h]
    }

    /// Box of the sign at (x, y) down to the foot of its poles.
    pub fn with_poles(&self, x: f32, y: f32) -> [f32; 4] {
        let e = self.extent(x, y);
        let pole = match self.kind {
            "vehicle" | "building" => 0.0,
            "clock" => 3.0 * self.th,
            _ => 4.0 * self.th,
        };
        [e[0], e[1], e[2], e[3] + pole]
    }
}
