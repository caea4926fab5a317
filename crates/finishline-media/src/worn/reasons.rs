//! Why the shape test finds a number not worn, named once: the rules match on these, the
//! learned model encodes them one-hot (in `ONE_HOT` order), and the logs print them.

/// The digits' surroundings reach outside the photo.
pub const OUTSIDE: &str = "outside the photo";
pub const NO_PATCH: &str = "no plain patch around the digits";
pub const NO_PATCH_EDGE: &str = "the plain colour runs on sideways: no patch";
pub const NO_SHIRT: &str = "no plain shirt around the patch";
pub const RUNS_ON: &str = "the colour around the patch runs on: a wall or a sign, not a shirt";
pub const THIN_RIM: &str = "the colour around the patch is a thin rim: a sign, not a shirt";
pub const SHORT_BELOW: &str = "the shirt does not go on below the patch";
/// A patch framed by a thin ring (see `ring.rs`).
pub const RING: &str = "a thin ring of one colour frames the patch: a sign, not a bib";
/// Not the shape test's: the learned model refused a number its rules let through.
pub const WEAK_EVIDENCE: &str = "the evidence around it does not add up to a worn bib";
/// Not the shape test's: the Tesseract fallback's panel test (`verdict::panel`).
pub const PANEL: &str =
    "a plain panel four or more digit heights tall: a wall or a sign, not a bib's paper";
/// Not the shape test's: no race numbers a bib 0 (`verdict::numbered`).
pub const ZERO: &str = "no bib is numbered 0: a digit cut off or an O";
/// Not the shape test's: the bib map (`ppocr/bib_map.rs`) sees no bib's digits there.
pub const OFF_THE_MAP: &str = "the bib map sees no bib's digits there";

/// The reasons the learned model knows, in the order of its features `sr1`…`sr7` (`sr0` is a
/// number the shape test finds worn; `OUTSIDE` has no feature of its own).
pub const ONE_HOT: [&str; 7] = [
    SHORT_BELOW,
    NO_SHIRT,
    THIN_RIM,
    RUNS_ON,
    NO_PATCH,
    NO_PATCH_EDGE,
    RING,
];
