//! nestor-cli: `kubectl-vc`, the command line of Nestor's embedded mode (and a kubectl plugin:
//! `kubectl vc ...`).
//!
//! `up` makes a super cluster out of local processes, all detached, with pid files in a state
//! directory ([`state`]): etcd, a nestor-apiserver with a PKI of its own, and one `serve`
//! process ([`serve`]) that runs nestor-controllers, nodesim, the manager (local provisioner)
//! and the syncer in-process. Processes are started, adopted and stopped with the manager's
//! process module, the one that also runs tenant control planes. `down` stops them all.
//!
//! The other commands ([`tenants`], [`status`]) talk to the super cluster through a kubeconfig:
//! they create VirtualClusters, follow their phases, list them, hand out their kubeconfigs and
//! delete them. Every error is one line.

pub mod args;
pub mod client;
pub mod output;
pub mod serve;
pub mod state;
pub mod status;
pub mod tenants;
pub mod up;

use anyhow::Result;

use args::{Cli, Command};
use state::StateDir;

/// Runs one command line.
pub async fn run(cli: Cli) -> Result<()> {
    let dir = StateDir::new(&cli.global.state_dir())?;
    match &cli.command {
        Command::Up(args) => up::up(&dir, args).await,
        Command::Down => up::down(&dir).await,
        Command::Serve(args) => serve::serve(&dir, args).await,
        Command::Status => status::status(&dir, cli.global.kubeconfig.as_deref()).await,
        Command::Create(args) => tenants::create(&client::connect(&cli.global).await?, args).await,
        Command::List(args) => tenants::list(&client::connect(&cli.global).await?, args).await,
        Command::Kubeconfig(args) => tenants::kubeconfig(&client::connect(&cli.global).await?, args).await,
        Command::Delete(args) => tenants::delete(&client::connect(&cli.global).await?, args).await,
    }
}
