//! Composing a race photo: where the runners stand (back to front, bibs inside the frame, no
//! digit ever covered), which distractors stand beside or away from them, and the finishing
//! camera effects with the conditions they add to the truth.

use ab_glyph::FontRef;
use image::RgbImage;
use rand::Rng;
use rand::rngs::StdRng;

use super::assets::FontFile;
use super::runner::{self, RunnerPlan, overlaps};
use super::{Category, Distractor, TruthBib, distractors as signs, imaging, tilt};

/// The digit-bearing distractors of a photo, drawn behind the runners: beside the runner (at its
/// bib's scale and height) in the distractor category, one to three anywhere in bib-free
/// photos, sometimes one or two away from the runners otherwise.
pub(crate) fn distractors(
    rng: &mut StdRng,
    image: &mut RgbImage,
    fonts: &[FontFile],
    category: Category,
    runners: &[RunnerPlan],
    mut tilt: Option<&mut (f32, StdRng)>,
) -> Vec<Distractor> {
    let (w, h) = image.dimensions();
    // Distractors, drawn behind the runners.
    let mut distractors = Vec::new();
    let mut placed = Vec::new();
    let count = match category {
        Category::Distractor => rng.random_range(1..=2),
        Category::BibFree => rng.random_range(1..=3),
        _ => {
            if rng.random_bool(0.45) {
                rng.random_range(1..=2)
            } else {
                0
            }
        }
    };
    for i in 0..count {
        let near = (category == Category::Distractor && i == 0).then(|| &runners[0]);
        let sign_font = fonts[rng.random_range(0..fonts.len())].font();
        let mut text_h = match near.and_then(|r| r.bib.as_ref()) {
            Some(bib) => (bib.digits_box[3] - bib.digits_box[1]) * rng.random_range(0.7..1.3),
            None => w.min(h) as f32 * rng.random_range(0.025..0.1),
        };
        let must = i == 0 && matches!(category, Category::Distractor | Category::BibFree);
        for attempt in 0..8 {
            let kind = signs::KINDS[rng.random_range(0..signs::KINDS.len())];
            let sign = signs::layout(rng, &sign_font, kind, text_h.max(8.0));
            let near = if attempt < 5 { near } else { None };
            if let Some((x, y)) = place(rng, &sign, w, h, near, runners, &placed) {
                placed.push(sign.with_poles(x, y));
                distractors.push(match tilt.as_deref_mut() {
                    Some((most, stream)) => {
                        let degrees = stream.random_range(-*most..=*most);
                        tilt::draw_tilted(&sign, rng, image, x, y, degrees)
                    }
                    None => sign.draw(rng, image, x, y),
                });
                break;
            }
            if !must {
                break;
            }
            text_h *= 0.8;
        }
    }

    distractors
}

/// Places the runners of a photo, back (small) to front (large): every bib inside the photo,
/// and nothing drawn later crossing an earlier bib's digits.
pub(crate) fn plan_runners(
    rng: &mut StdRng,
    font: &FontRef<'_>,
    category: Category,
    w: u32,
    h: u32,
) -> Vec<RunnerPlan> {
    let (wf, hf) = (w as f32, h as f32);
    let count = match category {
        Category::Single | Category::Distractor => 1,
        Category::Multi => rng.random_range(2..=4),
        Category::BibFree => {
            if rng.random_bool(0.4) {
                0
            } else {
                rng.random_range(1..=3)
            }
        }
    };
    let top = if matches!(category, Category::Single) {
        0.25f32
    } else {
        0.16
    };
    let mut fracs: Vec<f32> = (0..count)
        .map(|_| 0.04 * (top / 0.04).powf(rng.random::<f32>()))
        .collect();
    fracs.sort_by(f32::total_cmp);
    let bib_free = category == Category::BibFree;
    let mut runners: Vec<RunnerPlan> = Vec::new();
    for mut frac in fracs {
        for attempt in 0..80 {
            if attempt > 0 && attempt % 12 == 0 {
                frac = (frac * 0.8).max(0.04);
            }
            let torso_w = frac * wf / 0.58;
            let lean = if rng.random_bool(0.25) {
                rng.random_range(-25.0..25.0)
            } else {
                rng.random_range(-8.0..8.0)
            };
            let cx = match (category, runners.last()) {
                (Category::Multi, Some(prev)) if rng.random_bool(0.6) => {
                    let side = if rng.random_bool(0.5) { -1.0 } else { 1.0 };
                    prev.cx + side * (prev.torso_w + torso_w) * rng.random_range(0.45..0.75)
                }
                (Category::Distractor, _) => {
                    wf * if rng.random_bool(0.5) {
                        rng.random_range(0.2..0.4)
                    } else {
                        rng.random_range(0.6..0.8)
                    }
                }
                _ => wf * rng.random_range(0.15..0.85),
            };
            // In a group, nearer (bigger) runners stand lower in the frame.
            let cy = if category == Category::Multi {
                let depth = ((frac - 0.04) / 0.12).clamp(0.0, 1.0);
                hf * (0.34 + 0.3 * depth + rng.random_range(-0.06..0.06))
            } else {
                hf * rng.random_range(0.32..0.68)
            };
            let plan = runner::plan(rng, font, cx, cy, torso_w, lean, bib_free);
            let apart = runners
                .iter()
                .all(|r| (r.cx - cx).abs() > 0.3 * (r.torso_w + torso_w));
            let inside = apart
                && match &plan.bib {
                    Some(bib) => {
                        bib.bib_box[0] >= 1.0
                            && bib.bib_box[1] >= 1.0
                            && bib.bib_box[2] < wf - 1.0
                            && bib.bib_box[3] < hf - 1.0
                    }
                    None => cx > 0.0 && cx < wf && cy > 0.0 && cy < hf,
                };
            let clear = runners.iter().all(|earlier| {
                earlier
                    .bib
                    .as_ref()
                    .is_none_or(|bib| !plan.hits(bib.digits_box))
            });
            if inside && clear {
                runners.push(plan);
                break;
            }
        }
    }
    runners
}

/// How far the camera effects smear the runners: the motion blur's streak in pixels and the
/// defocus box blur's radius (run twice).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Smear {
    pub motion: f32,
    pub defocus: u32,
}

impl Smear {
    /// Whether `bib` can still be read by a person (see [`TruthBib::legible`]). The digit box
    /// is axis-aligned around rotated ink, so the unrotated digit size is recovered first.
    pub(crate) fn leaves_legible(self, bib: &TruthBib) -> bool {
        let (sin, cos) = bib.angle_degrees.to_radians().abs().sin_cos();
        let (w, h) = (bib.digits_box.w as f32, bib.digits_box.h as f32);
        let det = cos * cos - sin * sin;
        let width = ((w * cos - h * sin) / det).max(1.0);
        let height = ((h * cos - w * sin) / det).max(1.0);
        let advance = width / bib.number.to_string().len() as f32;
        // Motion streak per digit width and defocus per digit height, chosen by looking at
        // contact sheets of generated bibs: each alone stops a reader at about 0.65 and 0.1,
        // and together they add up.
        let motion = self.motion / advance / 0.65;
        let defocus = 0.8 * self.defocus as f32 / height / 0.1;
        height >= 10.0 && motion * motion + defocus * defocus <= 1.0
    }
}

/// Shadows, motion blur, defocus, exposure and noise; returns the conditions applied and how
/// far the runners were smeared.
pub(crate) fn finish(
    rng: &mut StdRng,
    image: &mut RgbImage,
    runners: &[RunnerPlan],
) -> (Vec<String>, Smear) {
    let mut smear = Smear::default();
    let (w, h) = image.dimensions();
    let clip = |b: [f32; 4]| -> imaging::Region {
        [
            b[0].max(0.0) as u32,
            b[1].max(0.0) as u32,
            (b[2].max(0.0) as u32).min(w),
            (b[3].max(0.0) as u32).min(h),
        ]
    };
    let mut conditions = Vec::new();
    if let Some(runner) = runners.last()
        && rng.random_bool(0.3)
    {
        let angle = rng.random_range(0.3..1.3f32);
        let width = runner.torso_w * rng.random_range(0.3..0.9);
        let offset = runner.torso_w * rng.random_range(-0.5..0.5);
        imaging::shadow_band(
            image,
            (runner.cx, runner.cy),
            angle,
            offset,
            width,
            rng.random_range(0.55..0.75),
        );
        conditions.push("shadow".to_owned());
    }
    if !runners.is_empty() && rng.random_bool(0.3) {
        let union = runners
            .iter()
            .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |b, r| {
                [
                    b[0].min(r.body_box[0]),
                    b[1].min(r.body_box[1]),
                    b[2].max(r.body_box[2]),
                    b[3].max(r.body_box[3]),
                ]
            });
        let length = w as f32 * rng.random_range(0.005..0.02);
        imaging::motion_blur(image, clip(union), length, rng.random_range(-0.35..0.35));
        smear.motion = length;
        conditions.push("motion-blur".to_owned());
    }
    if rng.random_bool(0.3) {
        let r = rng.random_range(1..=(w.max(h) / 900).max(1) + 1);
        imaging::box_blur(image, r);
        smear.defocus = r;
        conditions.push("blur".to_owned());
    }
    let mut sigma = rng.random_range(1.5..5.0f32);
    match rng.random_range(0..100u32) {
        0..12 => {
            imaging::exposure(
                image,
                rng.random_range(1.25..1.6),
                rng.random_range(0.8..1.0),
            );
            conditions.push("overexposed".to_owned());
        }
        12..24 => {
            imaging::exposure(
                image,
                rng.random_range(0.6..0.8),
                rng.random_range(1.1..1.4),
            );
            conditions.push("underexposed".to_owned());
        }
        24..36 => {
            imaging::exposure(
                image,
                rng.random_range(0.3..0.5),
                rng.random_range(1.2..1.5),
            );
            sigma = rng.random_range(6.0..12.0);
            conditions.push("low-light".to_owned());
        }
        _ => imaging::exposure(
            image,
            rng.random_range(0.92..1.08),
            rng.random_range(0.95..1.05),
        ),
    }
    if sigma > 5.0 {
        conditions.push("noise".to_owned());
    }
    imaging::noise(image, sigma, rng.random());
    (conditions, smear)
}

/// A place for `sign` beside `near` (at its bib's height) or anywhere clear of every runner
/// and already placed sign; `None` when there is no room.
fn place(
    rng: &mut StdRng,
    sign: &signs::Sign,
    w: u32,
    h: u32,
    near: Option<&RunnerPlan>,
    runners: &[RunnerPlan],
    placed: &[[f32; 4]],
) -> Option<(f32, f32)> {
    let (wf, hf) = (w as f32, h as f32);
    for attempt in 0..40 {
        let (x, y) = match near {
            Some(runner) if attempt < 30 => {
                let bib_y = runner.bib.as_ref().map_or(runner.cy, |bib| {
                    (bib.digits_box[1] + bib.digits_box[3]) / 2.0
                });
                let gap = runner.torso_w * rng.random_range(0.05..0.5);
                let x = if rng.random_bool(0.5) {
                    runner.body_box[0] - gap - sign.w
                } else {
                    runner.body_box[2] + gap
                };
                (
                    x,
                    bib_y - sign.ty - sign.th / 2.0 + rng.random_range(-0.3..0.3) * sign.th,
                )
            }
            _ => (
                rng.random_range(0.0..(wf - sign.w).max(1.0)),
                if matches!(sign.kind, "vehicle" | "building") {
                    low_in_frame(rng, hf, sign.h)
                } else {
                    rng.random_range(0.0..(hf - sign.h).max(1.0))
                },
            ),
        };
        let e = sign.extent(x, y);
        if e[0] < 0.0 || e[1] < 0.0 || e[2] > wf || e[3] > hf {
            continue;
        }
        let margin = 4.0;
        let grown = [e[0] - margin, e[1] - margin, e[2] + margin, e[3] + margin];
        let p = sign.with_poles(x, y);
        let poles = [p[0] - margin, p[1] - margin, p[2] + margin, p[3] + margin];
        if runners.iter().any(|r| overlaps(r.body_box, grown))
            || placed.iter().any(|p| overlaps(*p, poles))
        {
            continue;
        }
        return Some((x, y));
    }
    None
}

/// A top for something `height` tall standing on the ground: in the lower 60% of a frame `hf`
/// tall when it fits there, else as high as it must be (within a pixel of the top when it is
/// taller than the frame; the caller's bounds check then refuses it).
pub(crate) fn low_in_frame(rng: &mut StdRng, hf: f32, height: f32) -> f32 {
    let lowest = (hf - height).max(0.0);
    let highest = (0.4 * hf).min(lowest);
    if highest < lowest.max(1.0) {
        rng.random_range(highest..lowest.max(1.0))
    } else {
        // A vehicle or a building taller than 60% of the frame fits only at `lowest` (here
        // `highest == lowest`: the range above would be empty).
        lowest
    }
}
