//! The `nestor-manager` binary: flags in, manager out. Exits non-zero when it loses
//! leadership, so that its supervisor restarts it as a candidate.

use clap::Parser;
use nestor_api::runtime;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = nestor_manager::Args::parse();
    args.log.init();
    let config = args.config()?;
    let client = runtime::client(args.kubeconfig.as_deref()).await?;
    nestor_manager::run(client, config, runtime::shutdown_signal()).await?;
    Ok(())
}
