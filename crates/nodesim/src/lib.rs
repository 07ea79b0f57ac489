//! nestor-nodesim: simulated worker nodes for a super cluster that has no kubelets.
//!
//! The embedded super cluster of `kubectl-vc up` is an API server with nothing behind it: no
//! scheduler, no kubelet. nodesim plays both, faithfully enough that `kubectl get nodes`,
//! `kubectl get pods -o wide` and `kubectl describe` look as they do on a real cluster:
//!
//! - [`node`] registers N nodes (or adopts them after a restart) with capacity, conditions,
//!   addresses and node info; [`heartbeat`] renews each node's [`lease`] and posts its status.
//! - [`scheduler`] binds waiting pods through `pods/binding` to the least-loaded node they fit
//!   (requests, nodeSelector, required node affinity, taints and tolerations, cordons), and
//!   marks the others `PodScheduled=False/Unschedulable` with kube-scheduler's message.
//! - [`kubelet`] runs the pods bound to its nodes: IPs from each node's CIDR ([`ipam`]),
//!   containers that start, turn ready, and (restartPolicy Never/OnFailure) end after a
//!   simulated run shaped by the `nestor.dev/sim-*` annotations; deleted pods are stopped and
//!   removed at once.
//!
//! Data flows one way: one pod watch and one node watch ([`watch`]) feed the scheduler's small
//! cache and the kubelet's work queue; everything they write goes to the API server, which is
//! the only state. All of it is level-triggered: a restarted nodesim reads the pods' status
//! (their IPs, container start times) and carries on.

pub mod args;
pub mod config;
pub mod events;
pub mod heartbeat;
pub mod ipam;
pub mod key;
pub mod kubelet;
pub mod lease;
pub mod node;
pub mod quantity;
pub mod resources;
pub mod scheduler;
pub mod time;
pub mod watch;
pub mod workqueue;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use tokio::task::JoinSet;
use tracing::{info, warn, Instrument};

pub use config::{Config, ConfigError, NodeSpec};

/// Why nodesim stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("a nodesim task ended unexpectedly: {0}")]
    TaskEnded(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long to wait between attempts to register a node while the API server is away.
const REGISTER_RETRY: Duration = Duration::from_secs(2);

/// Runs the simulated nodes, scheduler and kubelet against `client` until `shutdown`
/// completes. Nodes and Leases stay behind when it stops, as they do when a kubelet stops; the
/// next run adopts them.
pub async fn run(client: kube::Client, config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let specs = config.node_specs()?;
    let cfg = Arc::new(config);
    tokio::pin!(shutdown);

    let nodes_api: Api<Node> = Api::all(client.clone());
    let mut registered = Vec::new();
    for spec in specs {
        let boot_id = node::new_boot_id();
        let node = loop {
            match node::register(&nodes_api, &cfg, &spec, &boot_id).await {
                Ok(n) => break n,
                Err(e) => warn!(node = %spec.name, error = %e, "node not registered; retrying"),
            }
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(REGISTER_RETRY) => {}
            }
        };
        // An adopted node keeps the pod CIDR it has: it is immutable once set.
        let pod_cidr = node
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.as_deref())
            .and_then(|c| c.parse().ok())
            .unwrap_or(spec.pod_cidr);
        info!(node = %spec.name, ip = %spec.ip, %pod_cidr, "node registered");
        registered.push((spec, node, boot_id, pod_cidr));
    }

    let addrs: Vec<kubelet::NodeAddrs> = registered
        .iter()
        .map(|(s, _, _, cidr)| kubelet::NodeAddrs { name: s.name.clone(), ip: s.ip, pod_cidr: *cidr })
        .collect();
    let defaults = kubelet::sim::Sim {
        duration: cfg.sim_duration,
        exit_code: 0,
        ready_after: Duration::ZERO,
        backoff: cfg.crash_backoff,
    };
    let kubelet = kubelet::Kubelet::new(client.clone(), &addrs, defaults, cfg.events);
    let scheduler = cfg.scheduler.then(scheduler::Handle::default);

    let mut tasks = JoinSet::new();
    for (spec, node, boot_id, _) in registered {
        let span = tracing::info_span!("heartbeat", node = %spec.name);
        tasks.spawn(heartbeat::run(client.clone(), cfg.clone(), spec, node, boot_id).instrument(span));
    }
    tasks.spawn(
        watch::pods(client.clone(), scheduler.clone(), cfg.scheduler_name.clone(), kubelet.clone())
            .instrument(tracing::info_span!("pod_watch")),
    );
    for i in 0..cfg.kubelet_workers() {
        tasks.spawn(kubelet.clone().worker().instrument(tracing::info_span!("kubelet", worker = i)));
    }
    if let Some(handle) = scheduler {
        tasks.spawn(watch::nodes(client.clone(), handle.clone()).instrument(tracing::info_span!("node_watch")));
        let s = scheduler::Scheduler::new(client.clone(), handle, &cfg.scheduler_name, cfg.scheduler_retry_interval);
        tasks.spawn(s.run().instrument(tracing::info_span!("scheduler")));
    }

    let result = tokio::select! {
        _ = &mut shutdown => {
            info!("stopping");
            Ok(())
        }
        ended = tasks.join_next() => {
            let why = match ended {
                Some(Err(e)) => e.to_string(),
                _ => "no tasks left".to_string(),
            };
            Err(Error::TaskEnded(why))
        }
    };
    tasks.shutdown().await;
    result
}
