//! Helpers shared by the media crate's integration tests and examples.

pub mod classical_bibs;
