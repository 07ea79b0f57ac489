//! What a nodesim run simulates: how many nodes, their size and addresses, and its timings.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::ipam::Cidr;

/// Why a configuration cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("pod CIDR {cidr} has room for {room} /24 node networks, not {nodes}")]
    PodCidrTooSmall { cidr: Cidr, room: u64, nodes: u32 },
    #[error("invalid quantity for {resource}: {value:?}")]
    Quantity { resource: &'static str, value: String },
    #[error("the node IP range from {base} overflows with {nodes} nodes")]
    NodeIps { base: Ipv4Addr, nodes: u32 },
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
}

/// The simulated nodes and the timings of their kubelet and scheduler stand-ins.
#[derive(Debug, Clone)]
pub struct Config {
    /// How many nodes to register.
    pub nodes: u32,
    /// Node names are `<prefix>-<index>`.
    pub node_prefix: String,
    /// Capacity (and allocatable) cpu of each node.
    pub cpu: String,
    /// Capacity memory of each node.
    pub memory: String,
    /// How many pods each node takes.
    pub pods: String,
    /// Capacity ephemeral storage of each node.
    pub ephemeral_storage: String,
    /// Node `i` gets the `i`-th /24 of this network as its `spec.podCIDR`.
    pub pod_cidr: Cidr,
    /// Node `i` gets this address plus `i` as its InternalIP.
    pub node_ip_base: Ipv4Addr,
    /// Extra labels on every node.
    pub node_labels: BTreeMap<String, String>,
    /// How often each node's Lease is renewed (kubelet: 10 s).
    pub lease_renew_interval: Duration,
    /// The Lease's `leaseDurationSeconds` (kubelet: 40).
    pub lease_duration_seconds: i32,
    /// How often node status is posted even when nothing changed (kubelet: 5 min; less here).
    pub node_status_interval: Duration,
    /// How long a simulated container of a Never/OnFailure pod runs when the pod does not say.
    pub sim_duration: Duration,
    /// The first crash-loop back-off of a failing OnFailure container; it doubles on each
    /// further failure up to five minutes (kubelet: 10 s).
    pub crash_backoff: Duration,
    /// Whether to run the scheduler (off when another scheduler serves the cluster).
    pub scheduler: bool,
    /// The `spec.schedulerName` this scheduler serves (an empty name is served too).
    pub scheduler_name: String,
    /// How often unschedulable pods are tried again when nothing else woke the scheduler.
    pub scheduler_retry_interval: Duration,
    /// How many pods the kubelet stand-in syncs at once; `None`: one per node, as every real
    /// node runs its own kubelet (a few shared workers made pods on idle nodes wait behind a
    /// flood bound to the others).
    pub workers: Option<usize>,
    /// Whether to record pod events (Scheduled, Started, ...), as kubectl describe shows them.
    pub events: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nodes: 3,
            node_prefix: "nestor-node".into(),
            cpu: "8".into(),
            memory: "32Gi".into(),
            pods: "110".into(),
            ephemeral_storage: "100Gi".into(),
            pod_cidr: Cidr::new(Ipv4Addr::new(10, 244, 0, 0), 16),
            node_ip_base: Ipv4Addr::new(172, 18, 0, 2),
            node_labels: BTreeMap::new(),
            lease_renew_interval: Duration::from_secs(10),
            lease_duration_seconds: 40,
            node_status_interval: Duration::from_secs(60),
            sim_duration: Duration::from_secs(1),
            crash_backoff: Duration::from_secs(10),
            scheduler: true,
            scheduler_name: "default-scheduler".into(),
            scheduler_retry_interval: Duration::from_secs(10),
            workers: None,
            events: true,
        }
    }
}

/// One simulated node: its name, addresses and pod network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub index: u32,
    pub name: String,
    pub ip: Ipv4Addr,
    pub pod_cidr: Cidr,
}

impl Config {
    /// How many pods the kubelet stand-in syncs at once.
    pub fn kubelet_workers(&self) -> usize {
        self.workers.unwrap_or(self.nodes as usize).max(1)
    }

    /// Checks the configuration and answers the nodes it describes.
    pub fn node_specs(&self) -> Result<Vec<NodeSpec>, ConfigError> {
        if self.workers == Some(0) {
            return Err(ConfigError::Zero("workers"));
        }
        if self.lease_renew_interval.is_zero() {
            return Err(ConfigError::Zero("lease renew interval"));
        }
        if self.node_status_interval.is_zero() {
            return Err(ConfigError::Zero("node status interval"));
        }
        for (resource, value) in [
            ("cpu", &self.cpu),
            ("memory", &self.memory),
            ("pods", &self.pods),
            ("ephemeral-storage", &self.ephemeral_storage),
        ] {
            if crate::quantity::parse_milli(value).is_err() {
                return Err(ConfigError::Quantity { resource, value: value.clone() });
            }
        }
        let room = if self.pod_cidr.prefix() > 24 { 0 } else { 1u64 << (24 - self.pod_cidr.prefix()) };
        if u64::from(self.nodes) > room {
            return Err(ConfigError::PodCidrTooSmall { cidr: self.pod_cidr, room, nodes: self.nodes });
        }
        (0..self.nodes)
            .map(|i| {
                let ip = u32::from(self.node_ip_base)
                    .checked_add(i)
                    .map(Ipv4Addr::from)
                    .ok_or(ConfigError::NodeIps { base: self.node_ip_base, nodes: self.nodes })?;
                let pod_cidr = self.pod_cidr.subnet(i, 24).ok_or(ConfigError::PodCidrTooSmall {
                    cidr: self.pod_cidr,
                    room,
                    nodes: self.nodes,
                })?;
                Ok(NodeSpec { index: i, name: format!("{}-{i}", self.node_prefix), ip, pod_cidr })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_describe_three_nodes() {
        let specs = Config::default().node_specs().unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[2].name, "nestor-node-2");
        assert_eq!(specs[2].pod_cidr.to_string(), "10.244.2.0/24");
        assert_eq!(specs[2].ip, Ipv4Addr::new(172, 18, 0, 4));
    }

    #[test]
    fn a_kubelet_worker_per_node_unless_set() {
        assert_eq!(Config { nodes: 96, ..Default::default() }.kubelet_workers(), 96);
        assert_eq!(Config { nodes: 96, workers: Some(8), ..Default::default() }.kubelet_workers(), 8);
        assert!(matches!(Config { workers: Some(0), ..Default::default() }.node_specs(), Err(ConfigError::Zero(_))));
    }

    #[test]
    fn refuses_too_many_nodes_for_the_cidr() {
        let cfg = Config { nodes: 3, pod_cidr: "10.0.0.0/23".parse().unwrap(), ..Default::default() };
        assert!(matches!(cfg.node_specs(), Err(ConfigError::PodCidrTooSmall { room: 2, .. })));
        let cfg = Config { cpu: "lots".into(), ..Default::default() };
        assert!(matches!(cfg.node_specs(), Err(ConfigError::Quantity { resource: "cpu", .. })));
    }
}
