//! Command-line pieces every Nestor binary shares: logging flags, the client from
//! `--kubeconfig`, and the stop signal.

use std::path::Path;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};

/// Logging flags shared by every Nestor binary.
#[derive(Debug, Clone, ClapArgs)]
pub struct LogArgs {
    /// Log level or tracing filter (e.g. `info`, `debug`, `nestor_syncer=debug,kube=info`).
    #[arg(long, default_value = "info", env = "NESTOR_LOG")]
    pub log_level: String,

    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,
}

/// How many threads a process works on.
#[derive(Debug, Clone, ClapArgs)]
pub struct ThreadArgs {
    /// Threads that run the process's work (default: one per CPU the process may use). Tenant
    /// control planes that share a machine run lighter on one: less time goes to moving work
    /// between threads.
    #[arg(long)]
    pub worker_threads: Option<usize>,
}

impl ThreadArgs {
    /// The runtime these flags ask for.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = self.worker_threads {
            builder.worker_threads(n.max(1));
        }
        builder.enable_all().build()
    }
}

/// Leader election flags shared by the processes that run one active replica.
#[derive(Debug, Clone, ClapArgs)]
pub struct LeaderArgs {
    /// Identity in the leader Lease (default: host name and process id).
    #[arg(long)]
    pub identity: Option<String>,

    /// Namespace of the leader Lease.
    #[arg(long, default_value = "kube-system")]
    pub lease_namespace: String,

    /// How long a leader's Lease lasts without renewal.
    #[arg(long, default_value = "15s", value_parser = crate::duration::parse_flag)]
    pub lease_duration: std::time::Duration,
}

impl LeaderArgs {
    /// `--identity`, or the host name and process id as client-go's callers usually make it.
    pub fn identity(&self) -> String {
        self.identity.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            format!("{}_{}", host.trim(), std::process::id())
        })
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Plain,
    Json,
}

impl LogArgs {
    /// Installs the global tracing subscriber.
    pub fn init(&self) {
        let filter = tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // Colours only on a terminal: logs written to files stay plain text.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
        let _ = match self.log_format {
            LogFormat::Plain => builder.try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
    }
}

/// A client from `--kubeconfig`, else from $KUBECONFIG, `~/.kube/config` or the in-cluster
/// service account.
pub async fn client(kubeconfig: Option<&Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await?
        }
        None => kube::Config::infer().await.context("no kubeconfig found (use --kubeconfig or KUBECONFIG)")?,
    };
    super::client::from_config(config)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}
