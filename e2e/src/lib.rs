//! Helpers for the end-to-end tests: the real kubectl (from nestor-testkit), run against
//! clusters started by nestor-testkit.

pub use nestor_testkit::kubectl::*;
