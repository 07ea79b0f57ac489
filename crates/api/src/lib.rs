//! nestor-api: the types, keys and names every Nestor component shares. No I/O, but for the
//! optional features: `runtime`, what Nestor's processes share (flags, logging, leader
//! election), and `pki`, certificates and kubeconfigs made in memory.

pub mod keys;
pub mod marks;
pub mod naming;
pub mod scheduling;
pub mod types;

pub use marks::Marks;
pub use types::{ClusterVersion, Phase, VirtualCluster, VirtualClusterSpec, VirtualClusterStatus};
pub mod duration;

#[cfg(feature = "runtime")]
pub mod runtime;

#[cfg(feature = "pki")]
pub mod pki;
