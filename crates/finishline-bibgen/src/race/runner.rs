//! Drawn runners: a head, neck, shirted torso, bent running arms, shorts and striding legs,
//! built as polygons in a frame (torso centre, torso width, lean of up to ±25°), carrying a bib
//! on the chest or, seen from behind, none. Runners are planned before they are drawn, so that
//! no limb or other runner drawn in front ever crosses a bib's digits (only its edges).

use ab_glyph::FontRef;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_ellipse_mut, draw_polygon_mut};
use imageproc::point::Point;
use rand::Rng;
use rand::rngs::StdRng;

use super::bib::BibPlan;
use super::palette::{self, Shade};

const SKIN: &[[u8; 3]] = &[
    [241, 194, 160],
    [224, 172, 120],
    [198, 134, 96],
    [160, 104, 70],
    [118, 74, 48],
    [84, 54, 38],
];
const HAIR: &[[u8; 3]] = &[
    [30, 24, 20],
    [70, 46, 28],
    [150, 110, 60],
    [200, 170, 110],
    [110, 110, 110],
];

/// A filled shape in photo pixels.
pub(crate) enum Shape {
    Poly(Vec<(f32, f32)>, [u8; 3]),
    Ellipse(f32, f32, f32, f32, [u8; 3]),
}

impl Shape {
    pub fn draw(&self, image: &mut RgbImage) {
        match self {
            Self::Poly(points, color) => {
                let mut poly: Vec<Point<i32>> = Vec::new();
                for &(x, y) in points {
                    let p = Point::new(x.round() as i32, y.round() as i32);
                    if poly.last() != Some(&p) && poly.first() != Some(&p) {
                        poly.push(p);
                    }
                }
                if poly.len() >= 3 {
                    draw_polygon_mut(image, &poly, Rgb(*color));
                }
            }
            Self::Ellipse(cx, cy, rx, ry, color) => {
                let (rx, ry) = ((rx.round() as i32).max(1), (ry.round() as i32).max(1));
                draw_filled_ellipse_mut(
                    image,
                    (cx.round() as i32, cy.round() as i32),
                    rx,
                    ry,
                    Rgb(*color),
                );
            }
        }
    }

    /// Axis-aligned box x0, y0, x1, y1.
    pub fn bounds(&self) -> [f32; 4] {
        match self {
            Self::Poly(points, _) => points
                .iter()
                .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |b, &(x, y)| {
                    [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)]
                }),
            Self::Ellipse(cx, cy, rx, ry, _) => [cx - rx, cy - ry, cx + rx, cy + ry],
        }
    }

    /// Whether the shape may cover any pixel of `rect` (separating axes for the convex polygons).
    pub fn hits(&self, rect: [f32; 4]) -> bool {
        let b = self.bounds();
        let margin = 2.0;
        let rect = [
            rect[0] - margin,
            rect[1] - margin,
            rect[2] + margin,
            rect[3] + margin,
        ];
        if b[2] < rect[0] || b[0] > rect[2] || b[3] < rect[1] || b[1] > rect[3] {
            return false;
        }
        let Self::Poly(points, _) = self else {
            return true;
        };
        let corners = [
            (rect[0], rect[1]),
            (rect[2], rect[1]),
            (rect[2], rect[3]),
            (rect[0], rect[3]),
        ];
        for i in 0..points.len() {
            let (a, c) = (points[i], points[(i + 1) % points.len()]);
            let (nx, ny) = (c.1 - a.1, a.0 - c.0);
            let project = |p: (f32, f32)| p.0 * nx + p.1 * ny;
            let (pmin, pmax) = points.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &p| {
                (lo.min(project(p)), hi.max(project(p)))
            });
            let (rmin, rmax) = corners.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &p| {
                (lo.min(project(p)), hi.max(project(p)))
            });
            if pmax < rmin || rmax < pmin {
                return false;
            }
        }
        true
    }
}

/// A runner ready to draw: shapes behind the bib, the bib, shapes in front of it.
pub(crate) struct RunnerPlan {
    pub behind: Vec<Shape>,
    pub bib: Option<BibPlan>,
    pub shirt: Shade,
    pub front: Vec<Shape>,
    /// Box of everything drawn: x0, y0, x1, y1.
    pub body_box: [f32; 4],
    /// Torso width in pixels.
    pub torso_w: f32,
    pub cx: f32,
    pub cy: f32,
}

/// The frame of a runner: local units are torso widths, y down, origin at the torso centre.
struct Frame {
    cx: f32,
    cy: f32,
    s: f32,
    cos: f32,
    sin: f32,
}

impl Frame {
    fn at(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.cx + self.s * (x * self.cos - y * self.sin),
            self.cy + self.s * (x * self.sin + y * self.cos),
        )
    }
    fn poly(&self, points: &[(f32, f32)], color: [u8; 3]) -> Shape {
        Shape::Poly(points.iter().map(|&(x, y)| self.at(x, y)).collect(), color)
    }
    fn ellipse(&self, x: f32, y: f32, rx: f32, ry: f32, color: [u8; 3]) -> Shape {
        let (cx, cy) = self.at(x, y);
        Shape::Ellipse(cx, cy, rx * self.s, ry * self.s, color)
    }
    /// A limb from `a` to `b`, `width` wide, with a round joint at `b`.
    fn limb(&self, out: &mut Vec<Shape>, a: (f32, f32), b: (f32, f32), width: f32, color: [u8; 3]) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-3);
        let (nx, ny) = (-dy / len * width / 2.0, dx / len * width / 2.0);
        out.push(self.poly(
            &[
                (a.0 + nx, a.1 + ny),
                (b.0 + nx, b.1 + ny),
                (b.0 - nx, b.1 - ny),
                (a.0 - nx, a.1 - ny),
            ],
            color,
        ));
        out.push(self.ellipse(b.0, b.1, width / 2.0, width / 2.0, color));
    }
}

fn darker(c: [u8; 3], f: f32) -> [u8; 3] {
    c.map(|v| (f32::from(v) * f) as u8)
}

/// Plans a runner whose torso centre is (cx, cy), `torso_w` pixels wide, leaning `lean` degrees;
/// with a bib unless `bib_free` (then seen from behind).
pub(crate) fn plan(
    rng: &mut StdRng,
    font: &FontRef<'_>,
    cx: f32,
    cy: f32,
    torso_w: f32,
    lean: f32,
    bib_free: bool,
) -> RunnerPlan {
    let rad = lean.to_radians();
    let f = Frame {
        cx,
        cy,
        s: torso_w,
        cos: rad.cos(),
        sin: rad.sin(),
    };
    let skin = SKIN[rng.random_range(0..SKIN.len())];
    let hair = HAIR[rng.random_range(0..HAIR.len())];
    let paper = palette::bib_paper(rng);
    let shirt = palette::shirt_for(rng, paper);
    let shorts = if rng.random_bool(0.6) {
        [28, 28, 34]
    } else {
        palette::any(rng).rgb
    };
    let shoe = palette::any(rng).rgb;
    let swing = rng.random_range(-0.25..0.25f32);
    let mut behind = Vec::new();
    // Far arm, behind the torso.
    let elbow = (
        -0.66 - rng.random_range(0.0..0.1),
        rng.random_range(-0.1..0.15),
    );
    f.limb(&mut behind, (-0.46, -0.5), elbow, 0.17, shirt.rgb);
    f.limb(
        &mut behind,
        elbow,
        (-0.42 - rng.random_range(0.0..0.15), -0.28),
        0.15,
        skin,
    );
    // Legs, shorts.
    for (side, sw) in [(-1.0f32, swing), (1.0, -swing)] {
        let hip = (0.22 * side, 0.85);
        let knee = (0.28 * side + sw, 1.55);
        let ankle = (0.3 * side + sw * 0.4, 2.3);
        f.limb(&mut behind, hip, knee, 0.24, skin);
        f.limb(&mut behind, knee, ankle, 0.18, skin);
        behind.push(f.ellipse(ankle.0 + 0.04 * side, ankle.1 + 0.05, 0.17, 0.09, shoe));
    }
    behind.push(f.poly(
        &[
            (-0.47, 0.55),
            (0.47, 0.55),
            (0.52, 1.05),
            (0.04, 1.05),
            (0.0, 0.9),
            (-0.04, 1.05),
            (-0.52, 1.05),
        ],
        shorts,
    ));
    // Neck and head.
    behind.push(f.poly(
        &[(-0.1, -0.9), (0.1, -0.9), (0.11, -0.6), (-0.11, -0.6)],
        skin,
    ));
    behind.push(f.ellipse(0.0, -1.08, 0.2, 0.25, skin));
    if bib_free {
        behind.push(f.ellipse(0.0, -1.1, 0.21, 0.24, hair));
    } else {
        behind.push(f.ellipse(0.0, -1.24, 0.2, 0.12, hair));
    }
    // Torso in the shirt, with fold streaks.
    behind.push(f.poly(
        &[
            (-0.5, -0.68),
            (0.5, -0.68),
            (0.57, -0.42),
            (0.47, 0.72),
            (-0.47, 0.72),
            (-0.57, -0.42),
        ],
        shirt.rgb,
    ));
    if !bib_free {
        behind.push(f.poly(&[(-0.14, -0.68), (0.14, -0.68), (0.0, -0.54)], skin));
    }
    let fold = darker(shirt.rgb, 0.82);
    behind.push(f.poly(
        &[(-0.42, -0.3), (-0.36, -0.3), (-0.3, 0.6), (-0.36, 0.6)],
        fold,
    ));
    behind.push(f.poly(
        &[(0.38, -0.2), (0.43, -0.2), (0.36, 0.62), (0.31, 0.62)],
        fold,
    ));
    let bib = (!bib_free).then(|| {
        let bib_local_w = rng.random_range(0.52..0.64f32);
        let (bx, by) = f.at(rng.random_range(-0.05..0.05), rng.random_range(-0.08..0.14));
        let angle = (lean + rng.random_range(-5.0..5.0f32)).clamp(-25.0, 25.0);
        BibPlan::new(rng, font, paper, bib_local_w * torso_w, bx, by, angle)
    });
    // Near arm, in front: hanging at the side or swung across the bib's edge.
    let mut front = Vec::new();
    if let Some(bib) = &bib
        && rng.random_bool(0.45)
    {
        let elbow = (0.64, rng.random_range(0.1..0.3));
        let hand = (rng.random_range(0.12..0.3), rng.random_range(0.22..0.45));
        let mut arm = Vec::new();
        f.limb(&mut arm, (0.46, -0.5), elbow, 0.17, shirt.rgb);
        f.limb(&mut arm, elbow, hand, 0.15, skin);
        if !arm.iter().any(|shape| shape.hits(bib.digits_box)) {
            front = arm;
        }
    }
    if front.is_empty() {
        let elbow = (
            0.68 + rng.random_range(0.0..0.1),
            rng.random_range(-0.1..0.15),
        );
        f.limb(&mut front, (0.46, -0.5), elbow, 0.17, shirt.rgb);
        f.limb(
            &mut front,
            elbow,
            (0.52 + rng.random_range(0.0..0.1), -0.3),
            0.15,
            skin,
        );
    }
    let mut body_box = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for shape in behind.iter().chain(front.iter()) {
        let b = shape.bounds();
        body_box = [
            body_box[0].min(b[0]),
            body_box[1].min(b[1]),
            body_box[2].max(b[2]),
            body_box[3].max(b[3]),
        ];
    }
    RunnerPlan {
        behind,
        bib,
        shirt,
        front,
        body_box,
        torso_w,
        cx,
        cy,
    }
}

impl RunnerPlan {
    pub fn draw_behind(&self, image: &mut RgbImage) {
        for shape in &self.behind {
            shape.draw(image);
        }
    }
    pub fn draw_front(&self, image: &mut RgbImage) {
        for shape in &self.front {
            shape.draw(image);
        }
    }
    /// Whether anything of this runner may cover any pixel of `rect`.
    pub fn hits(&self, rect: [f32; 4]) -> bool {
        self.behind
            .iter()
            .chain(self.front.iter())
            .any(|shape| shape.hits(rect))
            || self
                .bib
                .as_ref()
                .is_some_and(|bib| overlaps(bib.bib_box, rect))
    }
}

pub(crate) fn overlaps(a: [f32; 4], b: [f32; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}
