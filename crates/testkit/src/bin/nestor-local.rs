//! `nestor-local`: etcd and nestor-apiserver on this machine for `make run`, with state kept
//! in a folder (default `.nestor`), until Ctrl-C or SIGTERM stops both.

use std::path::PathBuf;

use anyhow::Result;

fn usage() -> ! {
    eprintln!("usage: nestor-local [--dir DIR] [--port PORT]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut dir = PathBuf::from(".nestor");
    let mut port = 6443u16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let dir = std::path::absolute(&dir)?;
    let options = nestor_testkit::Options { dir: Some(dir.clone()), port: Some(port), ..Default::default() };
    let cluster = nestor_testkit::Cluster::start_with(options).await?;
    let kubeconfig = cluster.kubeconfig();
    nestor_testkit::eventually(std::time::Duration::from_secs(30), "the API server to be ready", || async {
        let client = cluster.client().await.ok()?;
        let r = nestor_testkit::raw(&client, "GET", "/readyz", &[], bytes::Bytes::new()).await.ok()?;
        (r.status == 200).then_some(())
    })
    .await?;
    let shown =
        kubeconfig.strip_prefix(std::env::current_dir()?).map(|p| p.to_path_buf()).unwrap_or(kubeconfig.clone());
    println!("nestor-apiserver is serving on https://127.0.0.1:{port} (etcd at {})", cluster.etcd.endpoint);
    println!("logs and data: {}", dir.display());
    println!();
    println!("  kubectl --kubeconfig {} get namespaces", shown.display());
    println!();
    println!("Press Ctrl-C to stop.");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("stopping nestor-apiserver and etcd");
    drop(cluster);
    Ok(())
}
