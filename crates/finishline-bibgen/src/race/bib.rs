//! One race bib: the paper printed flat (colour, rounded corners, an optional sponsor line or
//! band, the 1–5 digit number, four safety pins), then laid onto the torso through a rotation,
//! a skew, a horizontal perspective and a cloth wave whose slope shades fold bands. The forward
//! map gives the truth boxes; the inverse map (a few fixed-point steps, lookup tables for the
//! wave and the shading, no trigonometry per pixel) draws the paper into the photo.

use ab_glyph::FontRef;
use image::{RgbImage, Rgba, RgbaImage};
use imageproc::drawing::draw_filled_circle_mut;
use rand::Rng;
use rand::rngs::StdRng;

use super::assets::text_mask;
use super::palette::{self, Shade};

/// Words printed on bibs beside the number (a year here is never the bib number).
const SPONSORS: &[&str] = &[
    "MARATHON",
    "CITY RUN 2026",
    "HALF MARATHON",
    "10K",
    "RUN CLUB",
    "SPRING RUN 2026",
    "TRAIL 42",
    "ENERGY BANK",
    "RIVER 10K",
];

/// A planned bib: the flat print and how it lies on the photo.
pub(crate) struct BibPlan {
    pub number: u64,
    pub paper: Shade,
    canvas: RgbaImage,
    /// Ink box of the number in the flat print: x0, y0, x1, y1.
    digits_flat: [f32; 4],
    cx: f32,
    cy: f32,
    cos: f32,
    sin: f32,
    pub angle_degrees: f32,
    shear: f32,
    persp: f32,
    wave: Vec<f32>,
    shade: Vec<f32>,
    /// Axis-aligned boxes in the photo: x0, y0, x1, y1.
    pub bib_box: [f32; 4],
    pub digits_box: [f32; 4],
}

fn number(rng: &mut StdRng) -> u64 {
    let digits = match rng.random_range(0..100u32) {
        0..5 => 1,
        5..20 => 2,
        20..50 => 3,
        50..85 => 4,
        _ => 5,
    };
    let low = if digits == 1 {
        1
    } else {
        10u64.pow(digits - 1)
    };
    rng.random_range(low..10u64.pow(digits))
}

/// Prints the flat bib `w`×`h` pixels; returns the print and the number's ink box.
fn print(
    rng: &mut StdRng,
    font: &FontRef<'_>,
    w: u32,
    h: u32,
    paper: Shade,
    number: u64,
) -> (RgbaImage, [f32; 4]) {
    let mut canvas =
        RgbaImage::from_pixel(w, h, Rgba([paper.rgb[0], paper.rgb[1], paper.rgb[2], 255]));
    let ink = palette::ink_on(rng, paper.rgb);
    let (wf, hf) = (w as f32, h as f32);
    // Sponsor: none, a small line of ink above or below, or a coloured band at the top.
    let sponsor = SPONSORS[rng.random_range(0..SPONSORS.len())];
    let (mut top, mut bottom) = (0.1 * hf, 0.9 * hf);
    match rng.random_range(0..4u32) {
        0 => {}
        1 | 2 => {
            let line = text_mask(font, 0.13 * hf, sponsor);
            let scale = (0.84 * wf / line.ink_w() as f32).min(1.0);
            let line = text_mask(font, 0.13 * hf * scale, sponsor);
            let above = rng.random_bool(0.5);
            let y = if above {
                0.07 * hf
            } else {
                0.93 * hf - line.ink_h() as f32
            };
            blit_rgba(
                &mut canvas,
                &line,
                ((wf - line.ink_w() as f32) / 2.0) as i32,
                y as i32,
                ink,
            );
            if above {
                top = 0.1 * hf + line.ink_h() as f32 + 0.03 * hf;
            } else {
                bottom = y - 0.04 * hf;
            }
        }
        _ => {
            let band = loop {
                let band = palette::any(rng);
                if palette::distance(band.rgb, paper.rgb) > 120.0 {
                    break band;
                }
            };
            let band_h = (0.2 * hf) as u32;
            for y in 0..band_h {
                for x in 0..w {
                    canvas.put_pixel(x, y, Rgba([band.rgb[0], band.rgb[1], band.rgb[2], 255]));
                }
            }
            let line = text_mask(font, 0.12 * hf, sponsor);
            let scale = (0.84 * wf / line.ink_w() as f32).min(1.0);
            let line = text_mask(font, 0.12 * hf * scale, sponsor);
            let text_color = palette::ink_on(rng, band.rgb);
            let y = (band_h as f32 - line.ink_h() as f32) / 2.0;
            blit_rgba(
                &mut canvas,
                &line,
                ((wf - line.ink_w() as f32) / 2.0) as i32,
                y as i32,
                text_color,
            );
            top = band_h as f32 + 0.06 * hf;
        }
    }
    let text = number.to_string();
    let probe = text_mask(font, 100.0, &text);
    let (area_w, area_h) = (0.86 * wf, bottom - top);
    let fill = rng.random_range(0.72..0.9f32);
    let scale = 100.0 * (area_h * fill / probe.ink_h() as f32).min(area_w / probe.ink_w() as f32);
    let digits = text_mask(font, scale, &text);
    let x = (wf - digits.ink_w() as f32) / 2.0;
    let y = top + (area_h - digits.ink_h() as f32) / 2.0;
    blit_rgba(
        &mut canvas,
        &digits,
        x.round() as i32,
        y.round() as i32,
        ink,
    );
    let digits_flat = [
        x.round(),
        y.round(),
        x.round() + digits.ink_w() as f32,
        y.round() + digits.ink_h() as f32,
    ];
    // Safety pins in the corners.
    if rng.random_bool(0.8) {
        let r = (0.022 * wf).max(1.0) as i32;
        let inset = (0.05 * wf).max(2.0) as i32;
        for (px, py) in [
            (inset, inset),
            (w as i32 - inset, inset),
            (inset, h as i32 - inset),
            (w as i32 - inset, h as i32 - inset),
        ] {
            draw_filled_circle_mut(&mut canvas, (px, py), r + 1, Rgba([90, 90, 96, 255]));
            draw_filled_circle_mut(&mut canvas, (px, py), r, Rgba([206, 206, 212, 255]));
        }
    }
    // Rounded corners.
    if rng.random_bool(0.6) {
        let r = 0.07 * hf;
        for y in 0..h {
            for x in 0..w {
                let dx = (r - x as f32).max(x as f32 - (wf - 1.0 - r)).max(0.0);
                let dy = (r - y as f32).max(y as f32 - (hf - 1.0 - r)).max(0.0);
                if dx > 0.0 && dy > 0.0 && dx * dx + dy * dy > r * r {
                    canvas.get_pixel_mut(x, y)[3] = 0;
                }
            }
        }
    }
    (canvas, digits_flat)
}

fn blit_rgba(
    canvas: &mut RgbaImage,
    text: &super::assets::TextMask,
    x: i32,
    y: i32,
    color: [u8; 3],
) {
    let ox = x - text.ink[0] as i32;
    let oy = y - text.ink[1] as i32;
    for (mx, my, p) in text.mask.enumerate_pixels() {
        let (px, py) = (ox + mx as i32, oy + my as i32);
        if p[0] == 0
            || px < 0
            || py < 0
            || px >= canvas.width() as i32
            || py >= canvas.height() as i32
        {
            continue;
        }
        let a = u32::from(p[0]);
        let pixel = canvas.get_pixel_mut(px as u32, py as u32);
        for c in 0..3 {
            pixel[c] = ((u32::from(pixel[c]) * (255 - a) + u32::from(color[c]) * a) / 255) as u8;
        }
    }
}

impl BibPlan {
    /// A bib `w` pixels wide centred at (cx, cy), rotated by `angle_degrees`.
    pub fn new(
        rng: &mut StdRng,
        font: &FontRef<'_>,
        paper: Shade,
        w: f32,
        cx: f32,
        cy: f32,
        angle_degrees: f32,
    ) -> Self {
        let number = number(rng);
        let h = w * rng.random_range(0.62..0.8);
        let (wi, hi) = ((w.round() as u32).max(12), (h.round() as u32).max(8));
        let (canvas, digits_flat) = print(rng, font, wi, hi, paper, number);
        let wave_len = wi as f32 * rng.random_range(0.45..1.2);
        let amp = if rng.random_bool(0.6) {
            hi as f32 * rng.random_range(0.01..0.045)
        } else {
            0.0
        };
        let phase = rng.random_range(0.0..std::f32::consts::TAU);
        let fold = if amp > 0.0 {
            rng.random_range(0.05..0.2)
        } else {
            0.0
        };
        let k = std::f32::consts::TAU / wave_len;
        let wave = (0..=wi)
            .map(|u| amp * (k * u as f32 + phase).sin())
            .collect();
        let shade = (0..=wi)
            .map(|u| 1.0 - fold * (k * u as f32 + phase).cos())
            .collect();
        let rad = angle_degrees.to_radians();
        let mut plan = Self {
            number,
            paper,
            canvas,
            digits_flat,
            cx,
            cy,
            cos: rad.cos(),
            sin: rad.sin(),
            angle_degrees,
            shear: if rng.random_bool(0.5) {
                rng.random_range(-0.18..0.18)
            } else {
                0.0
            },
            persp: if rng.random_bool(0.5) {
                rng.random_range(-0.25..0.25)
            } else {
                0.0
            },
            wave,
            shade,
            bib_box: [0.0; 4],
            digits_box: [0.0; 4],
        };
        let (w, h) = (wi as f32, hi as f32);
        plan.bib_box = plan.outline_box([0.0, 0.0, w, h]);
        plan.digits_box = plan.outline_box(plan.digits_flat);
        plan
    }

    fn wave_at(&self, u: f32) -> f32 {
        self.wave[(u.round().max(0.0) as usize).min(self.wave.len() - 1)]
    }

    /// Flat print (u, v) → photo (x, y).
    fn forward(&self, u: f32, v: f32) -> (f32, f32) {
        let (w, h) = (self.canvas.width() as f32, self.canvas.height() as f32);
        let (up, vp) = (u - w / 2.0, v - h / 2.0);
        let x1 = up + self.shear * vp;
        let y1 = vp * (1.0 + self.persp * up / w) + self.wave_at(u);
        (
            self.cx + x1 * self.cos - y1 * self.sin,
            self.cy + x1 * self.sin + y1 * self.cos,
        )
    }

    /// The axis-aligned photo box of a flat rectangle's outline.
    fn outline_box(&self, r: [f32; 4]) -> [f32; 4] {
        let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for i in 0..=16 {
            let t = i as f32 / 16.0;
            let (u, v) = (r[0] + t * (r[2] - r[0]), r[1] + t * (r[3] - r[1]));
            for (x, y) in [
                self.forward(u, r[1]),
                self.forward(u, r[3]),
                self.forward(r[0], v),
                self.forward(r[2], v),
            ] {
                b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            }
        }
        [b[0].floor(), b[1].floor(), b[2].ceil(), b[3].ceil()]
    }

    /// Draws the bib into the photo by inverse mapping each pixel of its box.
    pub fn draw(&self, image: &mut RgbImage) {
        let (w, h) = (self.canvas.width() as f32, self.canvas.height() as f32);
        let x0 = self.bib_box[0].max(0.0) as u32;
        let y0 = self.bib_box[1].max(0.0) as u32;
        let x1 = (self.bib_box[2] as u32 + 1).min(image.width());
        let y1 = (self.bib_box[3] as u32 + 1).min(image.height());
        for y in y0..y1 {
            for x in x0..x1 {
                let (dx, dy) = (x as f32 + 0.5 - self.cx, y as f32 + 0.5 - self.cy);
                let x1r = dx * self.cos + dy * self.sin;
                let y1r = -dx * self.sin + dy * self.cos;
                let (mut up, mut vp) = (x1r, y1r);
                for _ in 0..3 {
                    up = x1r - self.shear * vp;
                    vp = (y1r - self.wave_at(up + w / 2.0)) / (1.0 + self.persp * up / w);
                }
                let (u, v) = (up + w / 2.0 - 0.5, vp + h / 2.0 - 0.5);
                if u < 0.0 || v < 0.0 || u > w - 1.0 || v > h - 1.0 {
                    continue;
                }
                let (iu, iv) = (u as u32, v as u32);
                let (fu, fv) = (u - iu as f32, v - iv as f32);
                let (iu1, iv1) = ((iu + 1).min(w as u32 - 1), (iv + 1).min(h as u32 - 1));
                let s = self.shade[iu as usize];
                let mut rgba = [0f32; 4];
                for (px, py, wgt) in [
                    (iu, iv, (1.0 - fu) * (1.0 - fv)),
                    (iu1, iv, fu * (1.0 - fv)),
                    (iu, iv1, (1.0 - fu) * fv),
                    (iu1, iv1, fu * fv),
                ] {
                    let p = self.canvas.get_pixel(px, py);
                    let a = f32::from(p[3]) / 255.0 * wgt;
                    for c in 0..3 {
                        rgba[c] += f32::from(p[c]) * a;
                    }
                    rgba[3] += a;
                }
                if rgba[3] <= 0.0 {
                    continue;
                }
                let pixel = image.get_pixel_mut(x, y);
                for c in 0..3 {
                    let color = rgba[c] / rgba[3] * s;
                    pixel[c] = (f32::from(pixel[c]) * (1.0 - rgba[3]) + color * rgba[3])
                        .clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}
