//! nestor-controllers: the controllers a Kubernetes control plane needs, light enough to run
//! one per tenant.
//!
//! kube-controller-manager idles around 100 MiB; a tenant's control plane cannot afford that.
//! This crate runs the same controllers, writing the same status, conditions and events, so
//! that `kubectl rollout status|history|undo` and `kubectl get deploy` read as on a real
//! cluster:
//!
//! - [`replicaset`]: pods for a ReplicaSet (and a ReplicationController), with expectations so a
//!   lagging cache never makes it create twice, and kube's deletion ranking when scaling down;
//! - [`deployment`]: ReplicaSets per pod template (`<name>-<pod-template-hash>`), RollingUpdate
//!   and Recreate, revisions and rollback, pause, progress deadline;
//! - [`endpoints`] and [`endpointslice`]: the addresses of a Service's pods;
//! - [`statefulset`]: ordered pods with stable names and claims, rolled by revision;
//! - [`daemonset`]: one pod per eligible node;
//! - [`job`] and [`cronjob`]: pods that run to completion, on a schedule;
//! - [`serviceaccount`] (`default` in every namespace) and [`rootca`] (`kube-root-ca.crt`);
//! - [`nodelifecycle`]: NotReady conditions and taints for silent nodes, and taint eviction.
//!
//! Data flows one way. After winning the leader Lease, one watch per kind ([`informers`])
//! fills one trimmed cache per kind ([`trim`]) that every controller reads; each change is fanned
//! out to the kube-runtime `Controller`s that care, whose reconcilers read the caches and write to
//! the API server only. Namespace deletion and garbage collection live in nestor-apiserver.

pub mod args;
pub mod claim;
pub mod controller;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpoints;
pub mod endpointslice;
pub mod events;
pub mod expectations;
pub mod history;
pub mod informers;
pub mod job;
pub mod metrics;
pub mod nodelifecycle;
pub mod pods;
pub mod replicaset;
pub mod rootca;
pub mod selector;
pub mod serviceaccount;
pub mod statefulset;
pub mod trim;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::task::JoinSet;
use tracing::{info, Instrument};

pub use args::Args;
use informers::Informers;
use metrics::Metrics;

/// Name of the leader Lease.
pub const LEASE_NAME: &str = "nestor-controllers";

/// Why the controllers stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read the root CA file {0}: {1}")]
    ReadRootCa(String, #[source] std::io::Error),
    #[error("unknown controller {0:?} in --controllers")]
    UnknownController(String),
    #[error("failed to bind the metrics address {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("leader election failed: {0}")]
    Leader(#[source] anyhow::Error),
    #[error("controller {0} ended unexpectedly")]
    ControllerEnded(&'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One of the controllers this process can run, named as kube-controller-manager names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Deployment,
    ReplicaSet,
    ReplicationController,
    Endpoint,
    EndpointSlice,
    ServiceAccount,
    RootCaCertPublisher,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    NodeLifecycle,
}

impl Kind {
    /// Every controller, the default of `--controllers`.
    pub const ALL: [Kind; 12] = [
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::ReplicationController,
        Kind::Endpoint,
        Kind::EndpointSlice,
        Kind::ServiceAccount,
        Kind::RootCaCertPublisher,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Job,
        Kind::CronJob,
        Kind::NodeLifecycle,
    ];

    /// The `--controllers` name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deployment => "deployment",
            Kind::ReplicaSet => "replicaset",
            Kind::ReplicationController => "replicationcontroller",
            Kind::Endpoint => "endpoint",
            Kind::EndpointSlice => "endpointslice",
            Kind::ServiceAccount => "serviceaccount",
            Kind::RootCaCertPublisher => "root-ca-cert-publisher",
            Kind::StatefulSet => "statefulset",
            Kind::DaemonSet => "daemonset",
            Kind::Job => "job",
            Kind::CronJob => "cronjob",
            Kind::NodeLifecycle => "nodelifecycle",
        }
    }

    /// Reads `--controllers`: `*` adds all, `name` adds one, `-name` removes one.
    pub fn select(items: &[String]) -> Result<Vec<Kind>> {
        let find = |name: &str| {
            Kind::ALL.into_iter().find(|k| k.name() == name).ok_or_else(|| Error::UnknownController(name.to_string()))
        };
        let mut chosen: Vec<Kind> = Vec::new();
        let mut removed: Vec<Kind> = Vec::new();
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if item == "*" {
                chosen.extend(Kind::ALL);
            } else if let Some(name) = item.strip_prefix('-') {
                removed.push(find(name)?);
            } else {
                chosen.push(find(item)?);
            }
        }
        let mut out: Vec<Kind> = Vec::new();
        for kind in chosen {
            if !removed.contains(&kind) && !out.contains(&kind) {
                out.push(kind);
            }
        }
        Ok(out)
    }
}

/// How the controllers run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Who this process is in the leader Lease.
    pub identity: String,
    /// Namespace of the leader Lease.
    pub lease_namespace: String,
    /// How long a leader's Lease lasts without renewal.
    pub lease_duration: Duration,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics_addr: SocketAddr,
    /// The controllers to run.
    pub controllers: Vec<Kind>,
    /// The root CA bundle to publish as `kube-root-ca.crt`, if any.
    pub root_ca: Option<String>,
    /// Objects of one controller reconciled at once.
    pub concurrent_syncs: u16,
    /// How long a node's Lease may go unrenewed before the node is marked NotReady.
    pub node_monitor_grace_period: Duration,
}

/// Serves health and metrics at once, waits to lead, then runs the controllers until
/// `shutdown` resolves (`Ok`) or leadership is lost (an error: the caller should exit).
pub async fn run(client: kube::Client, config: Config, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
    let metrics = Arc::new(Metrics::new());
    let _serving = nestor_api::runtime::health::start(
        config.metrics_addr,
        Arc::clone(&metrics) as Arc<dyn nestor_api::runtime::Exposition>,
    )
    .await
    .map_err(|e| Error::Bind(config.metrics_addr, e))?;
    lead_and_run(client, config, metrics, shutdown).await
}

async fn lead_and_run(
    client: kube::Client,
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let elector = nestor_api::runtime::Elector::new(
        client.clone(),
        &config.lease_namespace,
        LEASE_NAME,
        &config.identity,
        config.lease_duration,
    );
    let mut shutdown = std::pin::pin!(shutdown);
    if !elector.acquire_unless(&mut shutdown).await.map_err(Error::Leader)? {
        return Ok(());
    }
    info!(identity = %config.identity, "leading; starting controllers");
    metrics.set_leader(true);

    let informers = Arc::new(Informers::new(client.clone(), Arc::clone(&metrics)));
    let mut controllers: Vec<(&'static str, BoxFuture<'static, ()>)> = Vec::new();
    for kind in &config.controllers {
        let ctx = controller::Context {
            client: client.clone(),
            informers: Arc::clone(&informers),
            metrics: Arc::clone(&metrics),
            concurrency: config.concurrent_syncs,
        };
        let fut = match kind {
            Kind::Deployment => deployment::controller(ctx).boxed(),
            Kind::ReplicaSet => replicaset::controller(ctx).boxed(),
            Kind::ReplicationController => replicaset::replication::controller(ctx).boxed(),
            Kind::Endpoint => endpoints::controller(ctx).boxed(),
            Kind::EndpointSlice => endpointslice::controller(ctx).boxed(),
            Kind::ServiceAccount => serviceaccount::controller(ctx).boxed(),
            Kind::StatefulSet => statefulset::controller(ctx).boxed(),
            Kind::DaemonSet => daemonset::controller(ctx).boxed(),
            Kind::Job => job::controller(ctx).boxed(),
            Kind::CronJob => cronjob::controller(ctx).boxed(),
            Kind::NodeLifecycle => nodelifecycle::controller(ctx, config.node_monitor_grace_period).boxed(),
            Kind::RootCaCertPublisher => match &config.root_ca {
                Some(ca) => rootca::controller(ctx, ca.clone()).boxed(),
                None => {
                    info!("no --root-ca-file; the root CA publisher does not run");
                    continue;
                }
            },
        };
        controllers.push((kind.name(), fut));
    }

    let mut tasks: JoinSet<&'static str> = JoinSet::new();
    for (kind, watch) in informers.start() {
        tasks.spawn(watch.map(move |()| kind).instrument(tracing::info_span!("informer", kind)));
    }
    // Reconcilers read the caches: none starts before every cache holds a full list, or a
    // ReplicaSet would see no pods and create them all again.
    informers.wait_ready().await;
    info!(controllers = config.controllers.len(), "caches synced");
    for (name, fut) in controllers {
        tasks.spawn(fut.map(move |()| name).instrument(tracing::info_span!("controller", name)));
    }

    let result = tokio::select! {
        () = &mut shutdown => Ok(()),
        lost = elector.keep() => Err(Error::Leader(lost.err().unwrap_or_else(|| anyhow::anyhow!("lease lost")))),
        ended = tasks.join_next() => Err(Error::ControllerEnded(match ended {
            Some(Ok(name)) => name,
            _ => "unknown",
        })),
    };
    metrics.set_leader(false);
    tasks.shutdown().await;
    if result.is_ok() {
        // A clean stop hands the Lease over at once instead of after its duration.
        elector.release().await;
    }
    result
}
