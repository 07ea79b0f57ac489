//! `make bench`: measures nestor-apiserver (release build) against real etcd on this machine
//! and writes the figures to docs/benchmarks.md. Nothing here asserts a timing.

mod apiserver;
mod measure;
mod syncer;

use anyhow::{Context, Result};

#[tokio::main]
async fn main() -> Result<()> {
    let mut out_path = "docs/benchmarks.md".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" {
            out_path = args.next().context("--out needs a path")?;
        }
    }
    if std::env::var("NESTOR_APISERVER_BIN").is_err() {
        let release = std::path::Path::new("target/release/nestor-apiserver");
        if release.exists() {
            std::env::set_var("NESTOR_APISERVER_BIN", release);
        }
    }
    let mut report = String::new();
    let only = std::env::var("NESTOR_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "apiserver" {
        apiserver::run(&mut report).await?;
    }
    if only.is_empty() || only == "syncer" {
        syncer::run(&mut report).await?;
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem_kb: f64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let head = format!(
        "# Benchmarks\n\nWritten by `make bench` (release builds of every binary, then `nestor-bench --out docs/benchmarks.md`), release builds, real etcd 3.4 and nestor-apiserver processes started by nestor-testkit over HTTPS on loopback.\n\n- date: {}\n- machine: {cores} cores ({cpu}), {:.0} GiB memory\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        mem_kb / 1024.0 / 1024.0
    );
    std::fs::write(&out_path, head + &report)?;
    println!("wrote {out_path}");
    Ok(())
}
