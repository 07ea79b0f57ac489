//! What every Nestor process shares at run time (feature `runtime`): flags and logging, the
//! client from `--kubeconfig`, the stop signal, and leader election.

pub mod cli;
pub mod leader;

pub use cli::{client, shutdown_signal, LogArgs, LogFormat};
pub use leader::Elector;
