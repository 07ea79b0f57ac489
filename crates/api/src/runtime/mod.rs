//! What every Nestor process shares at run time (feature `runtime`): flags and logging, the
//! client from `--kubeconfig`, the stop signal, leader election, the health and metrics server,
//! and the event recorder.

pub mod cli;
pub mod client;
pub mod errors;
pub mod events;
pub mod health;
pub mod leader;

pub use cli::{client, shutdown_signal, LeaderArgs, LogArgs, LogFormat, ThreadArgs};
pub use health::Exposition;
pub use leader::Elector;
