//! `kubectl-vc`: flags in, one command out. Errors are one line on stderr and exit 1.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = nestor_cli::args::Cli::parse();
    if let Err(e) = nestor_cli::run(cli).await {
        // `{:#}` puts the causes on the same line: "reading X: permission denied".
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
