//! Drawing one synthetic race photo: background clutter, banners, a runner, the bib.

use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage, Rgba, RgbaImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_ellipse_mut, draw_filled_rect_mut, draw_line_segment_mut,
    draw_polygon_mut, draw_text_mut, text_size,
};
use imageproc::geometric_transformations::{Interpolation, rotate_about_center};
use imageproc::point::Point;
use imageproc::rect::Rect;
use rand::Rng;
use rand::rngs::StdRng;

use crate::{BIB_COLORS, BibBox, GroundTruth, NamedColor, SHIRT_COLORS, Set};

/// Banner texts: words with digits, which a bib reader must not report.
pub const BANNERS: &[&str] = &[
    "CITY RUN 2026",
    "KM 21",
    "FINISH 2026",
    "MARATHON 42K",
    "WATER 5 KM",
    "SPRING 10K",
    "KM 35",
    "RACE DAY 2026",
];

const SKIN: &[[u8; 3]] = &[
    [241, 194, 160],
    [198, 134, 96],
    [141, 85, 54],
    [224, 172, 105],
];

pub(crate) fn draw(
    rng: &mut StdRng,
    font: &FontRef<'_>,
    set: Set,
    width: u32,
    height: u32,
) -> (RgbImage, GroundTruth) {
    let mut image = background(rng, width, height);
    let banners = draw_banners(rng, font, &mut image);

    // The runner: torso centred somewhere in the middle, below the banners.
    let bib_fraction = match set {
        Set::Normal => rng.random_range(0.13..0.20),
        Set::Small => rng.random_range(0.05..0.10),
    };
    let bib_w = (bib_fraction * width as f32).round();
    let bib_h = (bib_w * rng.random_range(0.62..0.75)).round();
    let torso_w = bib_w * rng.random_range(2.0..2.5);
    let torso_h = torso_w * 1.25;
    let cx = rng.random_range(0.3..0.7) * width as f32;
    let torso_top = height as f32 * rng.random_range(0.42..0.5);
    let shirt = SHIRT_COLORS[rng.random_range(0..SHIRT_COLORS.len())];
    let skin = Rgb(SKIN[rng.random_range(0..SKIN.len())]);
    draw_runner(
        &mut image,
        cx,
        torso_top,
        torso_w,
        torso_h,
        Rgb(shirt.rgb),
        skin,
    );

    let bib = BIB_COLORS[rng.random_range(0..BIB_COLORS.len())];
    let digits = rng.random_range(2..=5u32);
    let low = 10u64.pow(digits - 1);
    let number = rng.random_range(low..low * 10);
    let angle = rng.random_range(-10.0f32..10.0);
    let bib_cx = cx + rng.random_range(-0.08..0.08) * torso_w;
    let bib_cy = torso_top + torso_h * rng.random_range(0.38..0.5);
    let with_header = rng.random_bool(0.5);
    let bib_box = draw_bib(
        &mut image,
        font,
        BibSpec {
            center: (bib_cx, bib_cy),
            size: (bib_w, bib_h),
            angle_degrees: angle,
            color: bib,
            text: &number.to_string(),
            ink: if rng.random_bool(0.8) {
                Rgba([15, 15, 15, 255])
            } else {
                Rgba([16, 32, 106, 255])
            },
            header: with_header.then_some("CITY RUN"),
        },
    );
    let truth = GroundTruth {
        file: String::new(),
        number,
        bib_color: bib.name.to_owned(),
        bib_hex: bib.hex(),
        shirt_color: shirt.name.to_owned(),
        shirt_hex: shirt.hex(),
        bib_box,
        angle_degrees: (angle * 10.0).round() / 10.0,
        banners,
    };
    (image, truth)
}

fn random_color(rng: &mut StdRng, low: u8, high: u8) -> Rgb<u8> {
    Rgb([
        rng.random_range(low..=high),
        rng.random_range(low..=high),
        rng.random_range(low..=high),
    ])
}

/// Sky-to-ground gradient with a crowd of shapes and lines in muted colours.
fn background(rng: &mut StdRng, width: u32, height: u32) -> RgbImage {
    let sky = [
        rng.random_range(120..190u8),
        rng.random_range(150..200u8),
        rng.random_range(180..235u8),
    ];
    let ground = [
        rng.random_range(70..130u8),
        rng.random_range(80..140u8),
        rng.random_range(60..110u8),
    ];
    let horizon = height as f32 * rng.random_range(0.35..0.55);
    let mut image = RgbImage::from_fn(width, height, |_, y| {
        let t = ((y as f32 - horizon) / (height as f32 * 0.1)).clamp(-1.0, 1.0) * 0.5 + 0.5;
        Rgb([0, 1, 2].map(|c| (sky[c] as f32 * (1.0 - t) + ground[c] as f32 * t) as u8))
    });
    for _ in 0..rng.random_range(40..70) {
        let color = random_color(rng, 40, 200);
        let x = rng.random_range(0..width) as i32;
        let y = rng.random_range(0..height) as i32;
        match rng.random_range(0..3) {
            0 => {
                let w = rng.random_range(20..width / 6);
                let h = rng.random_range(20..height / 5);
                draw_filled_rect_mut(&mut image, Rect::at(x, y).of_size(w, h), color);
            }
            1 => {
                let rx = rng.random_range(10..(width / 12) as i32);
                let ry = rng.random_range(10..(height / 8) as i32);
                draw_filled_ellipse_mut(&mut image, (x, y), rx, ry, color);
            }
            _ => {
                let dx = rng.random_range(-200.0..200.0f32);
                let dy = rng.random_range(-200.0..200.0f32);
                for offset in 0..rng.random_range(1..4) {
                    let o = offset as f32;
                    draw_line_segment_mut(
                        &mut image,
                        (x as f32 + o, y as f32),
                        (x as f32 + dx + o, y as f32 + dy),
                        color,
                    );
                }
            }
        }
    }
    image
}

/// Two banners with words and digits in the upper part of the photo.
fn draw_banners(rng: &mut StdRng, font: &FontRef<'_>, image: &mut RgbImage) -> Vec<String> {
    let (width, height) = image.dimensions();
    let first = rng.random_range(0..BANNERS.len());
    let second = (first + rng.random_range(1..BANNERS.len())) % BANNERS.len();
    let mut texts = Vec::new();
    for (slot, index) in [first, second].into_iter().enumerate() {
        let text = BANNERS[index];
        let scale = PxScale::from(rng.random_range(0.035..0.06) * height as f32);
        let (tw, th) = text_size(scale, font, text);
        let (pad_x, pad_y) = (th, th / 2);
        let bw = tw + 2 * pad_x;
        let bh = th + 2 * pad_y;
        let half = width / 2;
        let x_room = half.saturating_sub(bw).max(1);
        let x = slot as u32 * half + rng.random_range(0..x_room);
        let y = rng.random_range((height as f32 * 0.03) as u32..(height as f32 * 0.28) as u32);
        let background = random_color(rng, 0, 255);
        let light = u32::from(background[0]) + u32::from(background[1]) + u32::from(background[2])
            > 3 * 128;
        let ink = if light {
            Rgb([20, 20, 20])
        } else {
            Rgb([245, 245, 245])
        };
        draw_filled_rect_mut(
            image,
            Rect::at(x as i32, y as i32).of_size(bw, bh),
            background,
        );
        draw_text_mut(
            image,
            ink,
            (x + pad_x) as i32,
            (y + pad_y) as i32,
            scale,
            font,
            text,
        );
        texts.push(text.to_owned());
    }
    texts
}

fn draw_runner(
    image: &mut RgbImage,
    cx: f32,
    top: f32,
    torso_w: f32,
    torso_h: f32,
    shirt: Rgb<u8>,
    skin: Rgb<u8>,
) {
    let head_r = (torso_w * 0.2) as i32;
    let neck_y = top as i32;
    draw_filled_circle_mut(image, (cx as i32, neck_y - head_r), head_r, skin);
    // Arms behind the torso, then legs, then the shirt over both.
    let shoulder = torso_w * 0.5;
    for side in [-1.0f32, 1.0] {
        let (sx, sy) = (cx + side * shoulder * 0.9, top + torso_h * 0.1);
        let (ex, ey) = (cx + side * shoulder * 1.25, top + torso_h * 0.75);
        thick_line(image, (sx, sy), (ex, ey), torso_w * 0.14, skin);
        let (hx, hy) = (cx + side * torso_w * 0.22, top + torso_h);
        thick_line(
            image,
            (hx, hy),
            (hx + side * torso_w * 0.1, hy + torso_h * 0.9),
            torso_w * 0.2,
            skin,
        );
    }
    let t = |x: f32, y: f32| Point::new(x as i32, y as i32);
    let poly = [
        t(cx - shoulder * 0.95, top),
        t(cx + shoulder * 0.95, top),
        t(cx + shoulder * 0.85, top + torso_h),
        t(cx - shoulder * 0.85, top + torso_h),
    ];
    draw_polygon_mut(image, &poly, shirt);
}

fn thick_line(
    image: &mut RgbImage,
    from: (f32, f32),
    to: (f32, f32),
    thickness: f32,
    color: Rgb<u8>,
) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    let (nx, ny) = (
        -dy / length * thickness / 2.0,
        dx / length * thickness / 2.0,
    );
    let t = |x: f32, y: f32| Point::new(x as i32, y as i32);
    let poly = [
        t(from.0 + nx, from.1 + ny),
        t(to.0 + nx, to.1 + ny),
        t(to.0 - nx, to.1 - ny),
        t(from.0 - nx, from.1 - ny),
    ];
    draw_polygon_mut(image, &poly, color);
}

struct BibSpec<'a> {
    center: (f32, f32),
    size: (f32, f32),
    angle_degrees: f32,
    color: NamedColor,
    text: &'a str,
    ink: Rgba<u8>,
    header: Option<&'a str>,
}

/// Draws the bib (paper, optional header line, number, four pins) rotated about its centre;
/// returns its axis-aligned box in the photo.
fn draw_bib(image: &mut RgbImage, font: &FontRef<'_>, spec: BibSpec<'_>) -> BibBox {
    let (bw, bh) = (spec.size.0.round() as u32, spec.size.1.round() as u32);
    let side = ((bw * bw + bh * bh) as f32).sqrt().ceil() as u32 + 4;
    let mut layer = RgbaImage::new(side, side);
    let (ox, oy) = ((side - bw) / 2, (side - bh) / 2);
    let [r, g, b] = spec.color.rgb;
    draw_filled_rect_mut(
        &mut layer,
        Rect::at(ox as i32, oy as i32).of_size(bw, bh),
        Rgba([r, g, b, 255]),
    );
    let number_top = if let Some(header) = spec.header {
        let scale = PxScale::from(bh as f32 * 0.13);
        let (tw, _) = text_size(scale, font, header);
        let x = ox + bw.saturating_sub(tw) / 2;
        draw_text_mut(
            &mut layer,
            spec.ink,
            x as i32,
            (oy as f32 + bh as f32 * 0.06) as i32,
            scale,
            font,
            header,
        );
        oy as f32 + bh as f32 * 0.3
    } else {
        oy as f32 + bh as f32 * 0.15
    };
    let room_h = oy as f32 + bh as f32 * 0.9 - number_top;
    let mut scale = PxScale::from(room_h * 1.2);
    let (mut tw, mut th) = text_size(scale, font, spec.text);
    let max_w = bw as f32 * 0.84;
    if tw as f32 > max_w || th as f32 > room_h {
        let shrink = (max_w / tw as f32).min(room_h / th as f32);
        scale = PxScale::from(scale.x * shrink);
        (tw, th) = text_size(scale, font, spec.text);
    }
    let tx = ox as f32 + (bw as f32 - tw as f32) / 2.0;
    let ty = number_top + (room_h - th as f32) / 2.0;
    draw_text_mut(
        &mut layer, spec.ink, tx as i32, ty as i32, scale, font, spec.text,
    );
    let pin = Rgba([170, 170, 175, 255]);
    let pin_r = ((bw.min(bh) as f32) * 0.035).max(2.0) as i32;
    let inset = (pin_r * 2) as u32;
    for (px, py) in [
        (ox + inset, oy + inset),
        (ox + bw - inset, oy + inset),
        (ox + inset, oy + bh - inset),
        (ox + bw - inset, oy + bh - inset),
    ] {
        draw_filled_circle_mut(&mut layer, (px as i32, py as i32), pin_r, pin);
    }
    let rotated = rotate_about_center(
        &layer,
        spec.angle_degrees.to_radians(),
        Interpolation::Bilinear,
        Rgba([0, 0, 0, 0]),
    );
    let left = spec.center.0 - side as f32 / 2.0;
    let top = spec.center.1 - side as f32 / 2.0;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
    for (lx, ly, pixel) in rotated.enumerate_pixels() {
        let alpha = f32::from(pixel[3]) / 255.0;
        if alpha <= 0.0 {
            continue;
        }
        let (x, y) = ((left + lx as f32).round(), (top + ly as f32).round());
        if x < 0.0 || y < 0.0 || x >= image.width() as f32 || y >= image.height() as f32 {
            continue;
        }
        let (x, y) = (x as u32, y as u32);
        let under = image.get_pixel_mut(x, y);
        for c in 0..3 {
            under[c] =
                (f32::from(pixel[c]) * alpha + f32::from(under[c]) * (1.0 - alpha)).round() as u8;
        }
        if alpha > 0.5 {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    BibBox {
        x: x0,
        y: y0,
        w: x1.saturating_sub(x0) + 1,
        h: y1.saturating_sub(y0) + 1,
    }
}
