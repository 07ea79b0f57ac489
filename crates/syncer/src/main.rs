//! The `nestor-syncer` binary: flags in, syncer out. Exits non-zero when it loses leadership,
//! so that its supervisor restarts it as a candidate.

use clap::Parser;
use nestor_api::runtime;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = nestor_syncer::Args::parse();
    args.log.init();
    let client = runtime::client(args.kubeconfig.as_deref()).await?;
    let syncer = nestor_syncer::Syncer::start(client, args.config(), runtime::shutdown_signal()).await?;
    syncer.wait().await
}
