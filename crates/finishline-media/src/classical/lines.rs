//! Text lines from pixels: local-contrast threshold, connected components, text-like blobs,
//! and blobs grouped into straight lines with their skew.
//!
//! Both stages use it: detection on the whole (downscaled) photo, and ocr again on each
//! candidate's crop, so a candidate needs to carry nothing but its box. Blobs are kept when
//! they look like characters of any kind (letters too): telling digits from words is left to
//! Tesseract, which sees the whole line, so a banner "KM 21" is never cut down to "21".

use image::{GrayImage, Luma};
use imageproc::region_labelling::{Connectivity, connected_components};

/// Which pixels are ink: darker than their surroundings (dark digits on a light bib) or
/// lighter (light digits on a dark bib).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polarity {
    DarkOnLight,
    LightOnDark,
}

impl Polarity {
    pub(crate) const BOTH: [Polarity; 2] = [Polarity::DarkOnLight, Polarity::LightOnDark];
}

/// How a gray image is cut into blobs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineParams {
    /// Half the side of the square whose mean a pixel is compared with.
    pub block_radius: u32,
    /// How much darker (or lighter) than that mean a pixel must be to count as ink.
    pub contrast: i32,
    /// Character heights kept, in pixels.
    pub min_height: u32,
    pub max_height: u32,
}

/// One connected component: its label in the label image, its box (inclusive) and its area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Blob {
    pub label: u32,
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub area: u32,
}

impl Blob {
    pub(crate) fn width(&self) -> u32 {
        self.x1 - self.x0 + 1
    }
    pub(crate) fn height(&self) -> u32 {
        self.y1 - self.y0 + 1
    }
    fn center(&self) -> (f32, f32) {
        (
            (self.x0 + self.x1) as f32 / 2.0,
            (self.y0 + self.y1) as f32 / 2.0,
        )
    }
}

/// A group of blobs along one straight line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextLine {
    pub blobs: Vec<Blob>,
    pub polarity: Polarity,
    /// Skew of the line in radians; positive when it goes down to the right.
    pub angle: f32,
    /// Union of the blobs' boxes (inclusive).
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    /// How much it looks like a line of characters, 0–1.
    pub score: f32,
}

/// The binary ink mask, its label image and the text-like blobs, for one polarity.
pub(crate) struct Segmentation {
    pub labels: image::ImageBuffer<Luma<u32>, Vec<u32>>,
    pub blobs: Vec<Blob>,
}

/// Lines wider than this many blobs are not bibs (and not worth a Tesseract run).
const MAX_BLOBS_PER_LINE: usize = 16;

/// Lines skewed more than this are not read (the generator and the issue go to ±10°).
const MAX_SKEW_RADIANS: f32 = 0.35;

/// Thresholds `gray` against its local mean and labels the ink, keeping text-like blobs.
pub(crate) fn segment(gray: &GrayImage, polarity: Polarity, params: &LineParams) -> Segmentation {
    let mask = local_contrast_mask(gray, polarity, params);
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    let blobs = text_like_blobs(&labels, params);
    Segmentation { labels, blobs }
}

/// Ink where a pixel differs from the mean of its `(2r+1)²` block by more than `contrast`,
/// with an integral image so the cost does not depend on the radius.
fn local_contrast_mask(gray: &GrayImage, polarity: Polarity, params: &LineParams) -> GrayImage {
    let (w, h) = gray.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    let stride = wu + 1;
    let mut integral = vec![0u64; stride * (hu + 1)];
    let pixels = gray.as_raw();
    for y in 0..hu {
        let mut row_sum = 0u64;
        for x in 0..wu {
            row_sum += u64::from(pixels[y * wu + x]);
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row_sum;
        }
    }
    let r = params.block_radius as usize;
    let mut mask = GrayImage::new(w, h);
    let out = &mut *mask;
    for y in 0..hu {
        let (ya, yb) = (y.saturating_sub(r), (y + r + 1).min(hu));
        for x in 0..wu {
            let (xa, xb) = (x.saturating_sub(r), (x + r + 1).min(wu));
            let sum = integral[yb * stride + xb] + integral[ya * stride + xa]
                - integral[ya * stride + xb]
                - integral[yb * stride + xa];
            let count = ((yb - ya) * (xb - xa)) as u64;
            let mean = (sum / count) as i32;
            let value = i32::from(pixels[y * wu + x]);
            let ink = match polarity {
                Polarity::DarkOnLight => value + params.contrast < mean,
                Polarity::LightOnDark => value - params.contrast > mean,
            };
            if ink {
                out[y * wu + x] = 255;
            }
        }
    }
    mask
}

/// Boxes and areas of all components, filtered to the sizes and shapes of characters.
fn text_like_blobs(
    labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>,
    params: &LineParams,
) -> Vec<Blob> {
    let (w, _) = labels.dimensions();
    let mut stats: Vec<Option<Blob>> = Vec::new();
    for (i, &label) in labels.as_raw().iter().enumerate() {
        if label == 0 {
            continue;
        }
        let (x, y) = ((i as u32) % w, (i as u32) / w);
        let index = label as usize;
        if stats.len() <= index {
            stats.resize(index + 1, None);
        }
        match &mut stats[index] {
            Some(blob) => {
                blob.x0 = blob.x0.min(x);
                blob.x1 = blob.x1.max(x);
                blob.y0 = blob.y0.min(y);
                blob.y1 = blob.y1.max(y);
                blob.area += 1;
            }
            slot @ None => {
                *slot = Some(Blob {
                    label,
                    x0: x,
                    y0: y,
                    x1: x,
                    y1: y,
                    area: 1,
                });
            }
        }
    }
    stats
        .into_iter()
        .flatten()
        .filter(|b| {
            let (bw, bh) = (b.width() as f32, b.height() as f32);
            let aspect = bw / bh;
            let fill = b.area as f32 / (bw * bh);
            b.height() >= params.min_height
                && b.height() <= params.max_height
                && b.width() >= 3
                // From 0.12: thinner slivers are the edges of bibs and plaques, which Tesseract
                // reads as "(" or "|". Up to 3.5: touching letters ("TY", "KM") are one blob
                // and must stay in their line, or a banner loses its words and keeps its number.
                && (0.12..=3.5).contains(&aspect)
                && (0.12..=1.0).contains(&fill)
        })
        .collect()
}

/// Groups blobs into lines: neighbours of similar height, vertically aligned, with a gap
/// smaller than about a character height (so the words of a banner stay one line).
pub(crate) fn group_lines(blobs: &[Blob], polarity: Polarity) -> Vec<TextLine> {
    let mut order: Vec<usize> = (0..blobs.len()).collect();
    order.sort_by_key(|&i| blobs[i].x0);
    let mut parent: Vec<usize> = (0..blobs.len()).collect();
    for (k, &i) in order.iter().enumerate() {
        let a = &blobs[i];
        let reach = a.x1 as f32 + 1.2 * a.height() as f32;
        for &j in &order[k + 1..] {
            let b = &blobs[j];
            if b.x0 as f32 > reach {
                break;
            }
            if are_neighbours(a, b) {
                union(&mut parent, i, j);
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<Blob>> = Default::default();
    for (i, blob) in blobs.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(*blob);
    }
    let mut lines: Vec<TextLine> = groups
        .into_values()
        .filter(|g| (2..=MAX_BLOBS_PER_LINE).contains(&g.len()))
        .filter_map(|g| fit_line(g, polarity))
        .collect();
    lines.sort_by(|a, b| b.score.total_cmp(&a.score));
    lines
}

fn are_neighbours(a: &Blob, b: &Blob) -> bool {
    let (ha, hb) = (a.height() as f32, b.height() as f32);
    let (hmin, hmax) = (ha.min(hb), ha.max(hb));
    if hmax > 1.45 * hmin {
        return false;
    }
    let (_, ya) = a.center();
    let (_, yb) = b.center();
    if (ya - yb).abs() > 0.4 * hmax {
        return false;
    }
    let gap = b.x0 as f32 - a.x1 as f32;
    gap <= 1.0 * hmax && gap >= -0.35 * a.width().min(b.width()) as f32
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// Least-squares line through the blob centres: its skew, and a score from how regular the
/// heights are and how well the centres sit on the line.
fn fit_line(mut blobs: Vec<Blob>, polarity: Polarity) -> Option<TextLine> {
    blobs.sort_by_key(|b| b.x0);
    let n = blobs.len() as f32;
    let centers: Vec<(f32, f32)> = blobs.iter().map(Blob::center).collect();
    let mx = centers.iter().map(|c| c.0).sum::<f32>() / n;
    let my = centers.iter().map(|c| c.1).sum::<f32>() / n;
    let sxx: f32 = centers.iter().map(|c| (c.0 - mx).powi(2)).sum();
    let sxy: f32 = centers.iter().map(|c| (c.0 - mx) * (c.1 - my)).sum();
    if sxx <= f32::EPSILON {
        return None;
    }
    // Two characters far apart are clutter, not a number: digits of a bib nearly touch.
    if let [a, b] = blobs.as_slice() {
        let gap = b.x0 as f32 - a.x1 as f32;
        if gap > 0.6 * a.height().max(b.height()) as f32 {
            return None;
        }
    }
    let slope = sxy / sxx;
    let angle = slope.atan();
    if angle.abs() > MAX_SKEW_RADIANS {
        return None;
    }
    let heights: Vec<f32> = blobs.iter().map(|b| b.height() as f32).collect();
    let mean_h = heights.iter().sum::<f32>() / n;
    let cv = (heights.iter().map(|h| (h - mean_h).powi(2)).sum::<f32>() / n).sqrt() / mean_h;
    let residual = (centers
        .iter()
        .map(|c| (c.1 - (my + slope * (c.0 - mx))).powi(2))
        .sum::<f32>()
        / n)
        .sqrt()
        / mean_h;
    let count = (n.min(4.0) - 1.0) / 3.0;
    let score =
        (0.45 * (1.0 - 4.0 * cv).max(0.0) + 0.35 * (1.0 - 5.0 * residual).max(0.0) + 0.2 * count)
            .clamp(0.0, 1.0);
    Some(TextLine {
        x0: blobs.iter().map(|b| b.x0).min()?,
        y0: blobs.iter().map(|b| b.y0).min()?,
        x1: blobs.iter().map(|b| b.x1).max()?,
        y1: blobs.iter().map(|b| b.y1).max()?,
        blobs,
        polarity,
        angle,
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> LineParams {
        LineParams {
            block_radius: 20,
            contrast: 15,
            min_height: 8,
            max_height: 200,
        }
    }

    /// Dark bars 30 px tall, as crude characters, along a line of the given slope.
    fn bars(slope: f32, count: u32) -> GrayImage {
        let mut image = GrayImage::from_pixel(400, 200, Luma([230]));
        for k in 0..count {
            let x0 = 40 + k * 40;
            let y0 = (60.0 + slope * (x0 as f32 - 40.0)) as u32;
            for y in y0..y0 + 30 {
                for x in x0..x0 + 14 {
                    image.put_pixel(x, y, Luma([20]));
                }
            }
        }
        image
    }

    #[test]
    fn aligned_character_sized_blobs_form_one_line_with_its_skew() {
        let slope = 0.12_f32;
        let seg = segment(&bars(slope, 5), Polarity::DarkOnLight, &params());
        let lines = group_lines(&seg.blobs, Polarity::DarkOnLight);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].blobs.len(), 5);
        assert!(
            (lines[0].angle - slope.atan()).abs() < 0.02,
            "{}",
            lines[0].angle
        );
    }

    #[test]
    fn a_flat_image_and_a_lone_blob_give_no_line() {
        let flat = GrayImage::from_pixel(300, 200, Luma([128]));
        let seg = segment(&flat, Polarity::DarkOnLight, &params());
        assert!(seg.blobs.is_empty());
        let seg = segment(&bars(0.0, 1), Polarity::DarkOnLight, &params());
        assert!(group_lines(&seg.blobs, Polarity::DarkOnLight).is_empty());
    }

    #[test]
    fn dark_ink_is_not_found_when_looking_for_light_ink() {
        let seg = segment(&bars(0.0, 4), Polarity::LightOnDark, &params());
        assert!(group_lines(&seg.blobs, Polarity::LightOnDark).is_empty());
    }
}
