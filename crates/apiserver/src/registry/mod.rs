//! The generic registry: resources served, the store over etcd, selectors, watches,
//! subresources, and the controllers that live inside the server (garbage collection,
//! namespace deletion, CRD cleanup) and the objects every cluster starts with.

pub mod admission;
pub mod bootstrap;
pub mod controllers;
pub mod meta;
pub mod quota;
mod raw;
pub mod resources;
pub mod selector;
pub mod services;
pub mod store;
pub mod subresources;
pub mod watch;
