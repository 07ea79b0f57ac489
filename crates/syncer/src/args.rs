//! The flags of `nestor-syncer`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use nestor_api::duration;

use crate::Config;

/// Syncs every Running VirtualCluster's objects between its control plane and the super cluster.
#[derive(Debug, Clone, Parser)]
#[command(name = "nestor-syncer", version)]
pub struct Args {
    /// Kubeconfig of the super cluster (else $KUBECONFIG, ~/.kube/config or in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// Leader election (the Lease `nestor-syncer`).
    #[command(flatten)]
    pub leader: nestor_api::runtime::LeaderArgs,

    /// How often every tenant is compared in full with the super cluster.
    #[arg(long, default_value = "60s", value_parser = duration::parse_flag)]
    pub patrol_interval: Duration,

    /// Concurrent syncs over all tenants.
    #[arg(long, default_value_t = 32)]
    pub workers: usize,

    /// Concurrent syncs of one tenant: one tenant's flood leaves workers for the others.
    #[arg(long, default_value_t = 8)]
    pub tenant_in_flight: usize,

    /// Pods of one tenant waiting for the super cluster's scheduler at most; its other new pods
    /// wait in the syncer, so one tenant's flood never queues ahead of another tenant's pods in
    /// the scheduler (0: no limit).
    #[arg(long, default_value_t = 16)]
    pub tenant_pending_pods: usize,

    /// How often virtual nodes' Leases are renewed in the tenants; a Lease lasts four times
    /// this. Slower than a kubelet's 10 s: a virtual node's health is the super cluster's
    /// (its conditions and taints are copied up), and one renewal per tenant and node is most
    /// of what a tenant API server handles once pods run.
    #[arg(long, default_value = "40s", value_parser = duration::parse_flag)]
    pub node_lease_interval: Duration,

    /// Address of /metrics, /healthz and /readyz (port 0 picks a free one and logs it).
    #[arg(long, default_value = "127.0.0.1:8091")]
    pub metrics_addr: SocketAddr,

    #[command(flatten)]
    pub log: nestor_api::runtime::LogArgs,
}

impl Args {
    pub fn config(&self) -> Config {
        Config {
            identity: self.leader.identity(),
            lease_namespace: self.leader.lease_namespace.clone(),
            lease_duration: self.leader.lease_duration,
            patrol_interval: self.patrol_interval,
            workers: self.workers,
            per_tenant_in_flight: self.tenant_in_flight,
            tenant_pending_pods: self.tenant_pending_pods,
            node_lease_interval: self.node_lease_interval,
            metrics_addr: self.metrics_addr,
        }
    }
}
