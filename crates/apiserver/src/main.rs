//! The `nestor-apiserver` binary: flags in, server out.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = nestor_apiserver::Args::parse();
    args.log.init();
    args.threads.runtime()?.block_on(nestor_apiserver::run(args))
}
