//! The `nestor-apiserver` binary: flags in, server out.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = nestor_apiserver::Args::parse();
    args.log.init();
    nestor_apiserver::run(args).await
}
