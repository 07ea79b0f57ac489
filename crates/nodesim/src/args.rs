//! The flags of the `nestor-nodesim` binary.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Parser};

use crate::config::Config;
use crate::ipam::Cidr;

/// Simulated worker nodes, scheduler and kubelet for a cluster without kubelets.
#[derive(Debug, Parser)]
#[command(name = "nestor-nodesim", version)]
pub struct Args {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub log: nestor_api::runtime::LogArgs,
    /// How many nodes to simulate.
    #[arg(long, default_value_t = 3)]
    pub nodes: u32,
    /// Node names are `<prefix>-<index>`.
    #[arg(long, default_value = "nestor-node")]
    pub node_prefix: String,
    /// CPU capacity of each node.
    #[arg(long, default_value = "8")]
    pub cpu: String,
    /// Memory capacity of each node.
    #[arg(long, default_value = "32Gi")]
    pub memory: String,
    /// Pods each node takes.
    #[arg(long, default_value = "110")]
    pub max_pods: String,
    /// Ephemeral storage capacity of each node.
    #[arg(long, default_value = "100Gi")]
    pub ephemeral_storage: String,
    /// Node i gets the i-th /24 of this network as its pod CIDR.
    #[arg(long, default_value = "10.244.0.0/16")]
    pub pod_cidr: Cidr,
    /// Node i gets this address plus i as its InternalIP.
    #[arg(long, default_value = "172.18.0.2")]
    pub node_ip_base: std::net::Ipv4Addr,
    /// Extra node label (key=value), repeatable.
    #[arg(long = "node-label", value_parser = parse_label)]
    pub node_labels: Vec<(String, String)>,
    /// How often node Leases are renewed (a Go duration).
    #[arg(long, default_value = "10s", value_parser = nestor_api::duration::parse_flag)]
    pub lease_renew_interval: Duration,
    /// How often node status is posted (a Go duration).
    #[arg(long, default_value = "1m", value_parser = nestor_api::duration::parse_flag)]
    pub node_status_interval: Duration,
    /// How long simulated containers of Never/OnFailure pods run by default (a Go duration).
    #[arg(long, default_value = "1s", value_parser = nestor_api::duration::parse_flag)]
    pub sim_duration: Duration,
    /// The first crash-loop back-off of failing OnFailure containers (a Go duration).
    #[arg(long, default_value = "10s", value_parser = nestor_api::duration::parse_flag)]
    pub crash_backoff: Duration,
    /// Do not run the scheduler (another one serves the cluster).
    #[arg(long)]
    pub no_scheduler: bool,
    /// The schedulerName the scheduler serves.
    #[arg(long, default_value = "default-scheduler")]
    pub scheduler_name: String,
    /// How many pods the kubelet stand-in syncs at once (default: one per node).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Do not record pod events.
    #[arg(long)]
    pub no_events: bool,
}

/// How to reach the API server.
#[derive(Debug, Clone, ClapArgs)]
pub struct ClientArgs {
    /// The kubeconfig to use; else KUBECONFIG, ~/.kube/config or the in-cluster account.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("{s:?} is not key=value"))
}

impl Args {
    /// The library configuration these flags describe.
    pub fn config(&self) -> Config {
        Config {
            nodes: self.nodes,
            node_prefix: self.node_prefix.clone(),
            cpu: self.cpu.clone(),
            memory: self.memory.clone(),
            pods: self.max_pods.clone(),
            ephemeral_storage: self.ephemeral_storage.clone(),
            pod_cidr: self.pod_cidr,
            node_ip_base: self.node_ip_base,
            node_labels: self.node_labels.iter().cloned().collect(),
            lease_renew_interval: self.lease_renew_interval,
            node_status_interval: self.node_status_interval,
            sim_duration: self.sim_duration,
            crash_backoff: self.crash_backoff,
            scheduler: !self.no_scheduler,
            scheduler_name: self.scheduler_name.clone(),
            workers: self.workers,
            events: !self.no_events,
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_config() {
        let args = Args::parse_from([
            "nestor-nodesim",
            "--nodes=5",
            "--node-prefix=sim",
            "--lease-renew-interval=500ms",
            "--node-label=disk=ssd",
            "--no-scheduler",
        ]);
        let cfg = args.config();
        assert_eq!(cfg.nodes, 5);
        assert_eq!(cfg.node_prefix, "sim");
        assert_eq!(cfg.lease_renew_interval, Duration::from_millis(500));
        assert_eq!(cfg.node_labels["disk"], "ssd");
        assert!(!cfg.scheduler);
        assert!(Args::try_parse_from(["nestor-nodesim", "--sim-duration=soon"]).is_err());
    }
}
