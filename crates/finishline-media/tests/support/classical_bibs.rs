//! Seeded synthetic race photos for the classical engine's tests and benchmark: a cluttered
//! background, a runner with a coloured bib and a 2–5 digit number (DejaVu Sans Bold),
//! rotated a few degrees, and two distractors with digits, a "CITY RUN 2026" banner and a
//! "KM 21" sign; then blur, noise and a JPEG round trip. The same seed gives the same photo.

#![allow(dead_code)]

use ab_glyph::{FontVec, PxScale};
use image::{GrayImage, ImageFormat, Luma, RgbImage, Rgba, RgbaImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_ellipse_mut, draw_filled_rect_mut, draw_hollow_rect_mut,
    draw_line_segment_mut, draw_text_mut, text_size,
};
use imageproc::geometric_transformations::{Interpolation, rotate_about_center};
use imageproc::rect::Rect;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The font the bibs are printed in (Debian's fonts-dejavu-core).
pub const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

/// The banner and the sign every scene carries; neither may be reported as a bib.
pub const BANNER: &str = "CITY RUN 2026";
pub const SIGN: &str = "KM 21";

/// Loads the bib font, saying how to install it when it is missing.
pub fn load_font() -> FontVec {
    let bytes = std::fs::read(FONT_PATH).unwrap_or_else(|err| {
        panic!("{FONT_PATH}: {err}; install Debian's fonts-dejavu-core or run deploy/local/install-deps.sh")
    });
    FontVec::try_from_vec(bytes).expect("DejaVuSans-Bold.ttf is a valid font")
}

/// What to render; unset fields are drawn from the seed.
#[derive(Debug, Clone)]
pub struct SceneSpec {
    pub width: u32,
    pub height: u32,
    /// The bib's width as a share of the photo's width, drawn from this range.
    pub bib_width_share: (f32, f32),
    /// Rotation of the bib is drawn from ±this many degrees.
    pub max_angle_degrees: f32,
    pub number: Option<u64>,
    pub angle_degrees: Option<f32>,
    /// Light digits on a dark bib instead of dark on light.
    pub light_on_dark: Option<bool>,
    /// Without a runner: the distractors alone.
    pub with_bib: bool,
}

impl SceneSpec {
    /// A "normal" photo: the bib 15–25% of the width.
    pub fn normal(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            bib_width_share: (0.15, 0.25),
            max_angle_degrees: 10.0,
            number: None,
            angle_degrees: None,
            light_on_dark: None,
            with_bib: true,
        }
    }

    /// A "small" photo: the bib 5–10% of the width.
    pub fn small(width: u32, height: u32) -> Self {
        Self {
            bib_width_share: (0.05, 0.10),
            ..Self::normal(width, height)
        }
    }
}

/// A rendered photo and what is truly in it. Boxes are `(x0, y0, x1, y1)`, inclusive.
#[derive(Debug, Clone)]
pub struct Scene {
    pub photo: RgbImage,
    pub number: Option<u64>,
    pub digits_box: Option<(u32, u32, u32, u32)>,
    pub angle_degrees: f32,
    pub banner_box: (u32, u32, u32, u32),
    pub sign_box: (u32, u32, u32, u32),
}

const BIB_COLOURS: [[u8; 3]; 6] = [
    [250, 250, 245],
    [250, 230, 60],
    [170, 210, 250],
    [250, 180, 200],
    [180, 240, 160],
    [250, 170, 90],
];
const DARK_BIB_COLOURS: [[u8; 3]; 3] = [[20, 40, 120], [150, 20, 30], [30, 30, 30]];

/// Renders one scene from `seed`.
pub fn render(font: &FontVec, seed: u64, spec: &SceneSpec) -> Scene {
    let mut rng = StdRng::seed_from_u64(seed);
    let (w, h) = (spec.width, spec.height);
    let mut canvas = RgbaImage::new(w, h);
    background(&mut canvas, &mut rng);

    // The runner first: the banner and the sign are in front of everything, never cut.
    let angle_degrees = spec
        .angle_degrees
        .unwrap_or_else(|| rng.random_range(-spec.max_angle_degrees..=spec.max_angle_degrees));
    let mut number = None;
    let mut digits_box = None;
    if spec.with_bib {
        let digits = rng.random_range(2..=5u32);
        let n = spec
            .number
            .unwrap_or_else(|| rng.random_range(10u64.pow(digits - 1)..10u64.pow(digits)));
        let light_on_dark = spec.light_on_dark.unwrap_or_else(|| rng.random_bool(0.2));
        let bib_w =
            (w as f32 * rng.random_range(spec.bib_width_share.0..spec.bib_width_share.1)) as u32;
        let bib_h = (bib_w as f32 * 0.7) as u32;
        let cx = (w as f32 * rng.random_range(0.35..0.65)) as i32;
        let cy = (h as f32 * rng.random_range(0.45..0.65)) as i32;
        runner(&mut canvas, &mut rng, cx, cy, bib_w, bib_h);
        let (bib, ink) = if light_on_dark {
            let c = DARK_BIB_COLOURS[rng.random_range(0..DARK_BIB_COLOURS.len())];
            ([c[0], c[1], c[2], 255], [250, 250, 250, 255])
        } else {
            let c = BIB_COLOURS[rng.random_range(0..BIB_COLOURS.len())];
            ([c[0], c[1], c[2], 255], [15, 15, 25, 255])
        };
        digits_box = Some(bib_patch(
            &mut canvas,
            font,
            &n.to_string(),
            (cx, cy),
            (bib_w, bib_h),
            angle_degrees,
            bib,
            ink,
        ));
        number = Some(n);
    }

    // The banner across the top, the sign in a bottom corner.
    let banner_h = (h as f32 * rng.random_range(0.03..0.05)) as u32;
    let banner_dark = rng.random_bool(0.5);
    let (banner_bg, banner_ink) = if banner_dark {
        ([30, 60, 150, 255], [250, 250, 250, 255])
    } else {
        ([245, 245, 235, 255], [180, 20, 20, 255])
    };
    let banner_y = (h as f32 * rng.random_range(0.04..0.10)) as u32;
    let banner_x = (w as f32 * rng.random_range(0.05..0.25)) as u32;
    let banner_box = plaque(
        &mut canvas,
        font,
        BANNER,
        banner_x,
        banner_y,
        banner_h,
        banner_bg,
        banner_ink,
    );
    let sign_h = (h as f32 * rng.random_range(0.035..0.055)) as u32;
    let sign_x = if rng.random_bool(0.5) {
        (w as f32 * 0.03) as u32
    } else {
        (w as f32 * 0.72) as u32
    };
    let sign_y = (h as f32 * rng.random_range(0.80..0.88)) as u32;
    let sign_box = plaque(
        &mut canvas,
        font,
        SIGN,
        sign_x,
        sign_y,
        sign_h,
        [250, 250, 250, 255],
        [20, 20, 20, 255],
    );

    let mut photo = image::DynamicImage::ImageRgba8(canvas).to_rgb8();
    let sigma = rng.random_range(0.4..0.9);
    photo = imageproc::filter::gaussian_blur_f32(&photo, sigma);
    imageproc::noise::gaussian_noise_mut(&mut photo, 0.0, 4.0, rng.random());
    let photo = jpeg_round_trip(&photo, 85);
    Scene {
        photo,
        number,
        digits_box,
        angle_degrees,
        banner_box,
        sign_box,
    }
}

fn random_colour(rng: &mut StdRng) -> Rgba<u8> {
    Rgba([rng.random(), rng.random(), rng.random(), 255])
}

/// A vertical gradient under rectangles, discs, ellipses, outlines and lines of all colours.
fn background(canvas: &mut RgbaImage, rng: &mut StdRng) {
    let (w, h) = canvas.dimensions();
    let (top, bottom) = (random_colour(rng), random_colour(rng));
    for y in 0..h {
        let t = y as f32 / h as f32;
        let mix = |a: u8, b: u8| (a as f32 * (1.0 - t) + b as f32 * t) as u8;
        let c = Rgba([
            mix(top[0], bottom[0]),
            mix(top[1], bottom[1]),
            mix(top[2], bottom[2]),
            255,
        ]);
        for x in 0..w {
            canvas.put_pixel(x, y, c);
        }
    }
    let unit = w.max(h) as f32 / 1600.0;
    for _ in 0..70 {
        let colour = random_colour(rng);
        let x = rng.random_range(0..w) as i32;
        let y = rng.random_range(0..h) as i32;
        let size = (rng.random_range(8.0..160.0) * unit) as u32 + 2;
        let other = (rng.random_range(8.0..160.0) * unit) as u32 + 2;
        match rng.random_range(0..5) {
            0 => draw_filled_rect_mut(canvas, Rect::at(x, y).of_size(size, other), colour),
            1 => draw_filled_circle_mut(canvas, (x, y), size as i32 / 2, colour),
            2 => draw_filled_ellipse_mut(
                canvas,
                (x, y),
                size as i32 / 2,
                other as i32 / 3 + 1,
                colour,
            ),
            3 => draw_hollow_rect_mut(canvas, Rect::at(x, y).of_size(size, other), colour),
            _ => draw_line_segment_mut(
                canvas,
                (x as f32, y as f32),
                (
                    x as f32 + size as f32 * 2.0,
                    y as f32 + other as f32 - 80.0 * unit,
                ),
                colour,
            ),
        }
    }
}

/// A shirt with a head and arms, centred on where the bib goes.
fn runner(canvas: &mut RgbaImage, rng: &mut StdRng, cx: i32, cy: i32, bib_w: u32, bib_h: u32) {
    let shirt = random_colour(rng);
    let (sw, sh) = (bib_w * 2, bib_h * 3);
    let top = cy - sh as i32 / 3;
    draw_filled_rect_mut(
        canvas,
        Rect::at(cx - sw as i32 / 2, top).of_size(sw, sh),
        shirt,
    );
    let skin = Rgba([224, 172, 105, 255]);
    draw_filled_circle_mut(
        canvas,
        (cx, top - bib_h as i32 / 2),
        (bib_h / 2) as i32,
        skin,
    );
    for side in [-1, 1] {
        let x = cx + side * (sw as i32 / 2 + (bib_w / 8) as i32);
        draw_filled_rect_mut(
            canvas,
            Rect::at(x - (bib_w / 8) as i32, top).of_size(bib_w / 4 + 1, sh * 2 / 3),
            skin,
        );
    }
}

/// A plaque with one line of text; returns the text's box.
#[allow(clippy::too_many_arguments)]
fn plaque(
    canvas: &mut RgbaImage,
    font: &FontVec,
    text: &str,
    x: u32,
    y: u32,
    text_h: u32,
    bg: [u8; 4],
    ink: [u8; 4],
) -> (u32, u32, u32, u32) {
    let scale = PxScale::from(text_h as f32 / 0.73);
    let (tw, th) = text_size(scale, font, text);
    let margin = text_h / 2;
    draw_filled_rect_mut(
        canvas,
        Rect::at(x as i32, y as i32).of_size(tw + 2 * margin, th + 2 * margin),
        Rgba(bg),
    );
    draw_text_mut(
        canvas,
        Rgba(ink),
        (x + margin) as i32,
        (y + margin) as i32,
        scale,
        font,
        text,
    );
    (x + margin, y + margin, x + margin + tw, y + margin + th)
}

/// Draws the bib with its number and four pins on a patch, rotates it and lays it over the
/// canvas centred on `center`; returns the box of the number's ink in the canvas.
#[allow(clippy::too_many_arguments)]
fn bib_patch(
    canvas: &mut RgbaImage,
    font: &FontVec,
    text: &str,
    center: (i32, i32),
    (bib_w, bib_h): (u32, u32),
    angle_degrees: f32,
    bib: [u8; 4],
    ink: [u8; 4],
) -> (u32, u32, u32, u32) {
    let side = ((bib_w * bib_w + bib_h * bib_h) as f32).sqrt() as u32 + 8;
    let mut patch = RgbaImage::new(side, side);
    let mut text_mask = GrayImage::new(side, side);
    let (bx, by) = ((side - bib_w) / 2, (side - bib_h) / 2);
    draw_filled_rect_mut(
        &mut patch,
        Rect::at(bx as i32, by as i32).of_size(bib_w, bib_h),
        Rgba(bib),
    );
    let pin = Rgba([150, 150, 150, 255]);
    let r = (bib_w / 40).max(1) as i32;
    for (px, py) in [(0.07, 0.08), (0.93, 0.08), (0.07, 0.92), (0.93, 0.92)] {
        let p = (
            (bx as f32 + px * bib_w as f32) as i32,
            (by as f32 + py * bib_h as f32) as i32,
        );
        draw_filled_circle_mut(&mut patch, p, r, pin);
    }
    let mut text_h = bib_h as f32 * 0.48;
    let mut scale = PxScale::from(text_h / 0.73);
    let (mut tw, mut th) = text_size(scale, font, text);
    if tw as f32 > bib_w as f32 * 0.84 {
        text_h *= bib_w as f32 * 0.84 / tw as f32;
        scale = PxScale::from(text_h / 0.73);
        (tw, th) = text_size(scale, font, text);
    }
    let tx = (bx + (bib_w - tw) / 2) as i32;
    let ty = (by + (bib_h - th) / 2) as i32;
    draw_text_mut(&mut patch, Rgba(ink), tx, ty, scale, font, text);
    draw_text_mut(&mut text_mask, Luma([255]), tx, ty, scale, font, text);
    let theta = angle_degrees.to_radians();
    let patch = rotate_about_center(&patch, theta, Interpolation::Bilinear, Rgba([0, 0, 0, 0]));
    let text_mask = rotate_about_center(&text_mask, theta, Interpolation::Bilinear, Luma([0]));
    let ox = center.0 - side as i32 / 2;
    let oy = center.1 - side as i32 / 2;
    image::imageops::overlay(canvas, &patch, i64::from(ox), i64::from(oy));
    let mut bounds = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in text_mask.enumerate_pixels() {
        if p[0] > 127 {
            let (cx, cy) = ((ox + x as i32).max(0) as u32, (oy + y as i32).max(0) as u32);
            bounds = (
                bounds.0.min(cx),
                bounds.1.min(cy),
                bounds.2.max(cx),
                bounds.3.max(cy),
            );
        }
    }
    bounds
}

fn jpeg_round_trip(photo: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(photo)
        .expect("JPEG encoding of an in-memory image");
    image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)
        .expect("decoding the JPEG just encoded")
        .to_rgb8()
}

/// Whether two inclusive boxes overlap at all.
pub fn overlaps(a: (u32, u32, u32, u32), b: (u32, u32, u32, u32)) -> bool {
    a.0 <= b.2 && b.0 <= a.2 && a.1 <= b.3 && b.1 <= a.3
}
