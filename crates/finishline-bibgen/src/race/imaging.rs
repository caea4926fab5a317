//! The camera side of a race photo: its size, the background photograph cropped and scaled to
//! it (plus a road), and what the camera does to the picture: exposure, low light, directional
//! motion blur on the runners, defocus blur, sensor noise, shadows and JPEG quality. The costly
//! steps use running sums, lookup tables and a fast integer noise source, so a 4000×3000 photo
//! stays well under a second.

use image::RgbImage;
use rand::Rng;
use rand::rngs::StdRng;

/// A photo size between 800×600 and 4000×3000, landscape (70%) or portrait.
pub(crate) fn pick_size(rng: &mut StdRng) -> (u32, u32) {
    let long = if rng.random_bool(0.5) {
        rng.random_range(800..=1800u32)
    } else {
        rng.random_range(1800..=4000u32)
    };
    let aspect = [4.0 / 3.0, 3.0 / 2.0, 16.0 / 9.0][rng.random_range(0..3)];
    let short = ((long as f32 / aspect).round() as u32).max(600);
    let long = long.max(800);
    if rng.random_bool(0.7) {
        (long, short)
    } else {
        (short, long)
    }
}

/// A random crop of `source` scaled (bilinear, fixed point) to `w`×`h`, maybe mirrored, with
/// a road across the bottom half of the time.
pub(crate) fn background(rng: &mut StdRng, source: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (sw, sh) = (source.width() as f32, source.height() as f32);
    let target_aspect = w as f32 / h as f32;
    let frac = rng.random_range(0.55..1.0f32);
    let (mut cw, mut ch) = (sw * frac, sw * frac / target_aspect);
    if ch > sh * frac {
        ch = sh * frac;
        cw = ch * target_aspect;
    }
    let x0 = rng.random_range(0.0..=(sw - cw).max(0.0));
    let y0 = rng.random_range(0.0..=(sh - ch).max(0.0));
    let mirror = rng.random_bool(0.5);
    let (sx, sy) = (cw / w as f32, ch / h as f32);
    let max_x = source.width() - 1;
    let max_y = source.height() - 1;
    let cols: Vec<(u32, u32, u32)> = (0..w)
        .map(|x| {
            let xx = if mirror { w - 1 - x } else { x };
            let fx = (x0 + (xx as f32 + 0.5) * sx - 0.5).clamp(0.0, max_x as f32);
            let ix = fx.floor() as u32;
            (ix, (ix + 1).min(max_x), ((fx - ix as f32) * 256.0) as u32)
        })
        .collect();
    let raw = source.as_raw();
    let stride = source.width() as usize * 3;
    let mut out = RgbImage::new(w, h);
    for (y, row) in out.rows_mut().enumerate() {
        let fy = (y0 + (y as f32 + 0.5) * sy - 0.5).clamp(0.0, max_y as f32);
        let iy = fy.floor() as u32;
        let wy = ((fy - iy as f32) * 256.0) as u32;
        let r0 = iy as usize * stride;
        let r1 = (iy + 1).min(max_y) as usize * stride;
        for (pixel, &(ax, bx, wx)) in row.zip(cols.iter()) {
            for c in 0..3 {
                let p = |r: usize, x: u32| u32::from(raw[r + x as usize * 3 + c]);
                let top = p(r0, ax) * (256 - wx) + p(r0, bx) * wx;
                let bottom = p(r1, ax) * (256 - wx) + p(r1, bx) * wx;
                pixel[c] = ((top * (256 - wy) + bottom * wy) >> 16) as u8;
            }
        }
    }
    if rng.random_bool(0.5) {
        road(rng, &mut out);
    }
    out
}

/// An asphalt road over the lower part, half transparent, with a dashed centre line.
fn road(rng: &mut StdRng, image: &mut RgbImage) {
    let (w, h) = image.dimensions();
    let top = (h as f32 * rng.random_range(0.6..0.78)) as u32;
    let grey = rng.random_range(70..120u32);
    let alpha = rng.random_range(200..245u32);
    for y in top..h {
        for x in 0..w {
            let pixel = image.get_pixel_mut(x, y);
            for c in 0..3 {
                pixel[c] = ((u32::from(pixel[c]) * (255 - alpha) + grey * alpha) / 255) as u8;
            }
        }
    }
    let line_h = ((h - top) / 14).max(2);
    let line_y = top + (h - top) / 2;
    let dash = (w / 12).max(8);
    for x in 0..w {
        if (x / dash) % 2 == 0 {
            for y in line_y..(line_y + line_h).min(h) {
                image.put_pixel(x, y, image::Rgb([214, 214, 200]));
            }
        }
    }
}

/// A rectangle x0, y0, x1, y1 (exclusive) inside the image.
pub(crate) type Region = [u32; 4];

/// Box blur of radius `r` over the whole photo, run twice (close to a Gaussian of sigma ≈
/// 0.8·r): running sums along rows, then running sums of whole rows down the columns.
pub(crate) fn box_blur(image: &mut RgbImage, r: u32) {
    if r == 0 {
        return;
    }
    let (w, h) = (image.width() as usize, image.height() as usize);
    let r = r as usize;
    let div = (2 * r + 1) as u32;
    let stride = w * 3;
    let mut tmp = vec![0u8; stride * h];
    for _ in 0..2 {
        let buf: &mut [u8] = image;
        // Rows: buf -> tmp.
        for (src, dst) in buf.chunks_exact(stride).zip(tmp.chunks_exact_mut(stride)) {
            for c in 0..3 {
                let at = |x: isize| u32::from(src[x.clamp(0, w as isize - 1) as usize * 3 + c]);
                let mut sum: u32 = (-(r as isize)..=r as isize).map(at).sum();
                for x in 0..w {
                    dst[x * 3 + c] = (sum / div) as u8;
                    sum = sum + at((x + r + 1) as isize) - at(x as isize - r as isize);
                }
            }
        }
        // Columns: tmp -> buf, one row of sums at a time.
        let row = |y: isize| &tmp[y.clamp(0, h as isize - 1) as usize * stride..][..stride];
        let mut sums = vec![0u32; stride];
        for k in -(r as isize)..=r as isize {
            for (sum, &v) in sums.iter_mut().zip(row(k)) {
                *sum += u32::from(v);
            }
        }
        for y in 0..h {
            let out = &mut buf[y * stride..][..stride];
            for (o, &sum) in out.iter_mut().zip(&sums) {
                *o = (sum / div) as u8;
            }
            let (add, sub) = (row((y + r + 1) as isize), row(y as isize - r as isize));
            for ((sum, &a), &s) in sums.iter_mut().zip(add).zip(sub) {
                *sum = *sum + u32::from(a) - u32::from(s);
            }
        }
    }
}

/// Directional motion blur over `region`: nine samples along a streak of `length` pixels.
pub(crate) fn motion_blur(image: &mut RgbImage, region: Region, length: f32, angle: f32) {
    let taps = 9usize;
    let (dx, dy) = (angle.cos() * length, angle.sin() * length);
    let offsets: Vec<(isize, isize)> = (0..taps)
        .map(|k| {
            let t = k as f32 / (taps - 1) as f32 - 0.5;
            ((dx * t).round() as isize, (dy * t).round() as isize)
        })
        .collect();
    let source = image.as_raw().clone();
    let (w, h) = (image.width() as isize, image.height() as isize);
    let [x0, y0, x1, y1] = region;
    let buf: &mut [u8] = image;
    for y in y0 as isize..y1 as isize {
        let rows: Vec<usize> = offsets
            .iter()
            .map(|&(_, oy)| (y + oy).clamp(0, h - 1) as usize * w as usize)
            .collect();
        for x in x0 as isize..x1 as isize {
            let mut sum = [0u32; 3];
            for (&(ox, _), &row) in offsets.iter().zip(&rows) {
                let i = (row + (x + ox).clamp(0, w - 1) as usize) * 3;
                sum[0] += u32::from(source[i]);
                sum[1] += u32::from(source[i + 1]);
                sum[2] += u32::from(source[i + 2]);
            }
            let i = (y * w + x) as usize * 3;
            for c in 0..3 {
                buf[i + c] = (sum[c] / taps as u32) as u8;
            }
        }
    }
}

/// Exposure through a lookup table: `gain`, then a gamma.
pub(crate) fn exposure(image: &mut RgbImage, gain: f32, gamma: f32) {
    let lut: Vec<u8> = (0..256)
        .map(|v| {
            let x = (v as f32 / 255.0 * gain).clamp(0.0, 1.0);
            (x.powf(gamma) * 255.0).round() as u8
        })
        .collect();
    for value in image.iter_mut() {
        *value = lut[*value as usize];
    }
}

/// Zero-mean sensor noise of about `sigma` levels from a fast xorshift source.
pub(crate) fn noise(image: &mut RgbImage, sigma: f32, seed: u64) {
    let mut state = seed | 1;
    // The sum of four bytes has a standard deviation of about 147.8.
    let k = (sigma / 147.8 * 65536.0) as i64;
    for value in image.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bytes = state.to_le_bytes();
        let sum: i64 = bytes[..4].iter().map(|&b| i64::from(b)).sum::<i64>() - 510;
        let v = i64::from(*value) + ((sum * k) >> 16);
        *value = v.clamp(0, 255) as u8;
    }
}

/// Darkens the band between two parallel lines near `center` (a post's shadow across a runner).
pub(crate) fn shadow_band(
    image: &mut RgbImage,
    center: (f32, f32),
    angle: f32,
    offset: f32,
    width: f32,
    factor: f32,
) {
    let (nx, ny) = (angle.cos(), angle.sin());
    let scale = (factor * 256.0) as u32;
    let (cx, cy) = center;
    let (w, h) = image.dimensions();
    for y in 0..h {
        let base = (y as f32 - cy) * ny - offset;
        for x in 0..w {
            let d = (x as f32 - cx) * nx + base;
            if d.abs() < width / 2.0 {
                let pixel = image.get_pixel_mut(x, y);
                for c in 0..3 {
                    pixel[c] = ((u32::from(pixel[c]) * scale) >> 8) as u8;
                }
            }
        }
    }
}
