//! The flags of `nestor-controllers`, named as kube-controller-manager names them where it has
//! the same flag.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::{Config, Error, Kind};

/// Runs the controllers of one control plane: deployments, replicasets, statefulsets,
/// daemonsets, jobs, cronjobs, endpoints, endpointslices, service accounts, the root CA
/// publisher and node lifecycle.
#[derive(Debug, Clone, Parser)]
#[command(name = "nestor-controllers", version)]
pub struct Args {
    /// Kubeconfig of the control plane (else $KUBECONFIG, ~/.kube/config or in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// Leader election (the Lease `nestor-controllers`).
    #[command(flatten)]
    pub leader: nestor_api::runtime::LeaderArgs,

    /// Address of /metrics, /healthz and /readyz (port 0 picks a free one and logs it).
    #[arg(long, default_value = "127.0.0.1:10257")]
    pub metrics_addr: SocketAddr,

    /// Controllers to run, comma-separated: `*` for all, a name to add one, `-name` to drop one
    /// (as kube-controller-manager's `--controllers`). Names: deployment, replicaset,
    /// replicationcontroller, statefulset, daemonset, job, cronjob, endpoint, endpointslice,
    /// serviceaccount, root-ca-cert-publisher, nodelifecycle.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub controllers: Vec<String>,

    /// PEM bundle published as ConfigMap `kube-root-ca.crt` (key `ca.crt`) in every namespace;
    /// without it the root CA publisher does not run.
    #[arg(long)]
    pub root_ca_file: Option<PathBuf>,

    /// Objects of one controller reconciled at once.
    #[arg(long, default_value_t = 5)]
    pub concurrent_syncs: u16,

    /// How long a node's Lease may go unrenewed before the node is marked NotReady (Ready
    /// `Unknown`) and tainted, as kube-controller-manager's flag.
    #[arg(long, default_value = "50s", value_parser = nestor_api::duration::parse_flag)]
    pub node_monitor_grace_period: std::time::Duration,

    #[command(flatten)]
    pub threads: nestor_api::runtime::ThreadArgs,

    #[command(flatten)]
    pub log: nestor_api::runtime::LogArgs,
}

impl Args {
    /// The configuration these flags describe; reads `--root-ca-file`.
    pub fn config(&self) -> Result<Config, Error> {
        let root_ca = match &self.root_ca_file {
            Some(path) => {
                Some(std::fs::read_to_string(path).map_err(|e| Error::ReadRootCa(path.display().to_string(), e))?)
            }
            None => None,
        };
        Ok(Config {
            identity: self.leader.identity(),
            lease_namespace: self.leader.lease_namespace.clone(),
            lease_duration: self.leader.lease_duration,
            metrics_addr: self.metrics_addr,
            controllers: Kind::select(&self.controllers)?,
            root_ca,
            concurrent_syncs: self.concurrent_syncs.max(1),
            node_monitor_grace_period: self.node_monitor_grace_period,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults() {
        let args = Args::try_parse_from(["nestor-controllers"]).unwrap();
        assert_eq!(args.metrics_addr.to_string(), "127.0.0.1:10257");
        assert_eq!(args.leader.lease_namespace, "kube-system");
        assert_eq!(args.leader.lease_duration, std::time::Duration::from_secs(15));
        let config = args.config().unwrap();
        assert_eq!(config.controllers.len(), Kind::ALL.len());
    }

    #[test]
    fn controllers_flag() {
        let args = Args::try_parse_from(["nestor-controllers", "--controllers=*,-endpointslice"]).unwrap();
        let config = args.config().unwrap();
        assert!(!config.controllers.contains(&Kind::EndpointSlice));
        assert!(config.controllers.contains(&Kind::Deployment));
        let args = Args::try_parse_from(["nestor-controllers", "--controllers=replicaset"]).unwrap();
        assert_eq!(args.config().unwrap().controllers, vec![Kind::ReplicaSet]);
        let args = Args::try_parse_from(["nestor-controllers", "--controllers=nope"]).unwrap();
        assert!(args.config().is_err());
    }
}
