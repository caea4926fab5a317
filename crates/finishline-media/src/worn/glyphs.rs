//! The digits of a read number as an upright frame: every measurement around a number is
//! made along and across its line, in units of its height, so rotated bibs are measured as
//! upright ones.

use super::Patch;

/// The digits of a text line: an upright frame around their glyphs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glyphs {
    pub center: [f32; 2],
    /// Unit vector along the line (reading direction) and across it (downwards).
    pub u: [f32; 2],
    pub v: [f32; 2],
    pub half_width: f32,
    pub half_height: f32,
}

impl Glyphs {
    /// From a quadrilateral (top-left, top-right, bottom-right, bottom-left) that bounds the
    /// glyphs tightly.
    pub fn from_corners(corners: [[f32; 2]; 4]) -> Self {
        let [tl, tr, br, bl] = corners;
        let center = [
            (tl[0] + tr[0] + br[0] + bl[0]) / 4.0,
            (tl[1] + tr[1] + br[1] + bl[1]) / 4.0,
        ];
        let along = [tr[0] - tl[0], tr[1] - tl[1]];
        let width = (along[0].powi(2) + along[1].powi(2)).sqrt().max(1.0);
        let u = [along[0] / width, along[1] / width];
        let v = [-u[1], u[0]];
        let height = ((bl[0] - tl[0]).powi(2) + (bl[1] - tl[1]).powi(2))
            .sqrt()
            .max(1.0);
        Self {
            center,
            u,
            v,
            half_width: width / 2.0,
            half_height: height / 2.0,
        }
    }

    pub fn height(&self) -> f32 {
        2.0 * self.half_height
    }

    /// The photo point at `s` along the line and `t` across it, from the centre.
    pub(crate) fn at(&self, s: f32, t: f32) -> [f32; 2] {
        [
            self.center[0] + s * self.u[0] + t * self.v[0],
            self.center[1] + s * self.u[1] + t * self.v[1],
        ]
    }

    /// Whether a photo point lies within the glyphs' own frame.
    pub(crate) fn contains(&self, point: [f32; 2]) -> bool {
        let none = Patch {
            left: 0.0,
            right: 0.0,
            up: 0.0,
            down: 0.0,
        };
        self.patch_contains(point, &none)
    }

    /// Whether a photo point lies within the patch around these glyphs.
    pub fn patch_contains(&self, point: [f32; 2], patch: &Patch) -> bool {
        let (dx, dy) = (point[0] - self.center[0], point[1] - self.center[1]);
        let s = dx * self.u[0] + dy * self.u[1];
        let t = dx * self.v[0] + dy * self.v[1];
        s >= -self.half_width - patch.left
            && s <= self.half_width + patch.right
            && t >= -self.half_height - patch.up
            && t <= self.half_height + patch.down
    }
}
