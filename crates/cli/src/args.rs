//! The flags and subcommands of `kubectl-vc`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Nestor's virtual clusters: an embedded super cluster on this machine (`up`, `down`) and
/// VirtualCluster tenants in it (`create`, `list`, `kubeconfig`, `delete`, `status`).
///
/// Works as a kubectl plugin: with `kubectl-vc` on PATH, `kubectl vc ...` runs it.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-vc",
    version,
    after_help = "Examples:\n  kubectl vc up\n  kubectl vc create blue --wait\n  kubectl vc kubeconfig blue > blue.kubeconfig\n  kubectl --kubeconfig blue.kubeconfig get nodes\n  kubectl vc down"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The embedded super cluster's state directory (default ~/.nestor).
    #[arg(long, global = true, env = "NESTOR_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Kubeconfig of the super cluster (default: <state-dir>/admin.kubeconfig when it exists,
    /// else $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
}

impl Global {
    /// `--state-dir`, else `~/.nestor`.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".nestor")
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the embedded super cluster: etcd, nestor-apiserver, and one process running
    /// nestor-controllers, nodesim, the manager and the syncer.
    #[command(after_help = "Examples:\n  kubectl vc up\n  kubectl vc up --state-dir .nestor --port 6443 --nodes 3")]
    Up(UpArgs),

    /// Stop the embedded super cluster and every tenant control plane (data is kept).
    #[command(after_help = "Examples:\n  kubectl vc down\n  kubectl vc down --state-dir .nestor")]
    Down,

    /// Create a VirtualCluster: a tenant with its own control plane.
    #[command(
        after_help = "Examples:\n  kubectl vc create blue --wait\n  kubectl vc create green -n tenants --sync-crd widgets.example.com"
    )]
    Create(CreateArgs),

    /// List VirtualClusters.
    #[command(after_help = "Examples:\n  kubectl vc list\n  kubectl vc list -A")]
    List(ListArgs),

    /// Print a tenant's admin kubeconfig, or merge it into a kubeconfig file.
    #[command(
        after_help = "Examples:\n  kubectl vc kubeconfig blue > blue.kubeconfig\n  kubectl vc kubeconfig blue --merge ~/.kube/config --context blue\n  kubectl --context blue get namespaces"
    )]
    Kubeconfig(KubeconfigArgs),

    /// Delete a VirtualCluster and its control plane.
    #[command(after_help = "Examples:\n  kubectl vc delete blue --wait")]
    Delete(DeleteArgs),

    /// Show the super cluster's processes and health, and every tenant's phase.
    #[command(after_help = "Examples:\n  kubectl vc status")]
    Status,

    /// Run the super cluster's controllers, nodesim, manager and syncer in this process
    /// (started by `up`).
    #[command(hide = true)]
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// The super API server's port on 127.0.0.1.
    #[arg(long, default_value_t = 6443)]
    pub port: u16,

    /// How many simulated worker nodes.
    #[arg(long, default_value_t = 3)]
    pub nodes: u32,

    /// How long to wait for everything to be ready.
    #[arg(long, default_value = "120s", value_parser = nestor_api::duration::parse_flag)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The VirtualCluster's name (a DNS-1123 label).
    pub name: String,

    /// The namespace of the VirtualCluster (created when missing).
    #[arg(short, long, default_value = "default")]
    pub namespace: String,

    /// Wait until it is Running, showing the phases as they change.
    #[arg(long)]
    pub wait: bool,

    /// Custom resources synced to the super cluster, as `<plural>.<group>` (repeatable).
    #[arg(long = "sync-crd", value_name = "PLURAL.GROUP")]
    pub sync_crd: Vec<String>,

    /// How long --wait waits.
    #[arg(long, default_value = "180s", value_parser = nestor_api::duration::parse_flag)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// List in every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// The namespace to list.
    #[arg(short, long, default_value = "default", conflicts_with = "all_namespaces")]
    pub namespace: String,
}

#[derive(Debug, Clone, Args)]
pub struct KubeconfigArgs {
    /// The VirtualCluster's name.
    pub name: String,

    /// The namespace of the VirtualCluster.
    #[arg(short, long, default_value = "default")]
    pub namespace: String,

    /// Merge into this kubeconfig file (created when missing) instead of printing.
    #[arg(long, value_name = "FILE")]
    pub merge: Option<PathBuf>,

    /// The name of the context, cluster and user (default vc-NAME).
    #[arg(long)]
    pub context: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DeleteArgs {
    /// The VirtualCluster's name.
    pub name: String,

    /// The namespace of the VirtualCluster.
    #[arg(short, long, default_value = "default")]
    pub namespace: String,

    /// Wait until its control plane is gone.
    #[arg(long)]
    pub wait: bool,

    /// How long --wait waits.
    #[arg(long, default_value = "120s", value_parser = nestor_api::duration::parse_flag)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// How many simulated worker nodes.
    #[arg(long, default_value_t = 3)]
    pub nodes: u32,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flags_parse() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["kubectl-vc", "create", "blue", "--wait", "--sync-crd", "a.b.c"]).unwrap();
        let Command::Create(create) = cli.command else { unreachable!() };
        assert_eq!((create.namespace.as_str(), create.wait, create.sync_crd.len()), ("default", true, 1));
        assert!(Cli::try_parse_from(["kubectl-vc", "list", "-A", "-n", "x"]).is_err());
        let cli = Cli::try_parse_from(["kubectl-vc", "up", "--state-dir", "s"]).unwrap();
        assert_eq!(cli.global.state_dir(), PathBuf::from("s"));
    }
}
