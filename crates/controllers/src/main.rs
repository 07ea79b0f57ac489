//! The `nestor-controllers` binary: flags in, controllers out. Exits non-zero when it loses
//! leadership, so that its supervisor restarts it as a candidate.

use clap::Parser;
use nestor_api::runtime;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = nestor_controllers::Args::parse();
    args.log.init();
    let config = args.config()?;
    args.threads.runtime()?.block_on(async {
        let client = runtime::client(args.kubeconfig.as_deref()).await?;
        nestor_controllers::run(client, config, runtime::shutdown_signal()).await?;
        Ok(())
    })
}
