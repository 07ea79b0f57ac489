//! `nestor-nodesim`: the thin binary around [`nestor_nodesim::run`]. Stops cleanly on SIGINT
//! or SIGTERM.

use anyhow::Result;
use clap::Parser;
use nestor_api::runtime;
use nestor_nodesim::args::Args;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    args.log.init();
    let config = args.config();
    let client = runtime::client(args.client.kubeconfig.as_deref()).await?;
    nestor_nodesim::run(client, config, runtime::shutdown_signal()).await?;
    Ok(())
}
