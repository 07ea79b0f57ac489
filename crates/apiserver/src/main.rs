//! The `nestor-apiserver` binary: flags in, server out.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = nestor_apiserver::Args::parse();
    args.log.init();
    nestor_apiserver::run(args).await
}
