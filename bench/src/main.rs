//! `make bench`: measures nestor-apiserver (release build) against real etcd on this machine
//! and writes the figures to docs/benchmarks.md. Nothing here asserts a timing.

mod apiserver;
mod controllers;
mod manager;
mod measure;
mod pods;
mod syncer;

use anyhow::{Context, Result};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    if only.is_empty() || only == "controllers" {
        controllers::run(&mut report).await?;
    }
    if only.is_empty() || only == "manager" {
        manager::run(&mut report).await?;
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
    let mem_gib = measure::meminfo_mib("MemTotal:") / 1024.0;
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let machine = format!("{cores} cores ({cpu}), {mem_gib:.0} GiB memory");
    let head = format!(
        "# Benchmarks\n\nWritten by `make bench` (release builds of every binary and nestor-controllers as it ships, in the size-first profile `small`, then `nestor-bench --out docs/benchmarks.md`), real etcd 3.4 and nestor-apiserver processes started by nestor-testkit over HTTPS on loopback. `NESTOR_BENCH_ONLY=apiserver|syncer|controllers|manager` runs one part and replaces only its sections; each section says when it was measured.\n\n- machine: {machine}\n\n"
    );
    let stamped = stamp(&report, &format!("_Measured {date} on {machine}._"));
    let kept = if only.is_empty() { String::new() } else { std::fs::read_to_string(&out_path).unwrap_or_default() };
    std::fs::write(&out_path, head + &merge(&kept, &stamped))?;
    println!("wrote {out_path}");
    Ok(())
}

/// The `## ` sections of a report, in order, each with its text.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            out.push((title.to_string(), String::new()));
        }
        if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// `report` with `line` under each section title.
fn stamp(report: &str, line: &str) -> String {
    sections(report)
        .into_iter()
        .map(|(_, body)| match body.split_once('\n') {
            Some((title, rest)) => format!("{title}\n\n{line}\n{rest}"),
            None => body,
        })
        .collect()
}

/// The sections of `old` with those of `new` replacing the ones of the same title, and new
/// ones appended.
fn merge(old: &str, new: &str) -> String {
    let fresh = sections(new);
    let mut out: Vec<(String, String)> = sections(old);
    for (title, body) in fresh {
        match out.iter_mut().find(|(t, _)| *t == title) {
            Some(slot) => slot.1 = body,
            None => out.push((title, body)),
        }
    }
    out.into_iter().map(|(_, body)| body).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_replaces_only_measured_sections() {
        let old = "# Benchmarks\n\n## A\n\nold a\n## B\n\nold b\n";
        let new = stamp("## B\n\nnew b\n## C\n\nnew c\n", "_at noon_");
        assert_eq!(merge(old, &new), "## A\n\nold a\n## B\n\n_at noon_\n\nnew b\n## C\n\n_at noon_\n\nnew c\n");
    }
}
