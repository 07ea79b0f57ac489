//! PATCH request support: applying JSON, merge and strategic merge patches to stored objects.
pub mod apply;
pub mod schema;
pub mod strategic;

pub use apply::{accepted, apply};
