//! nestor-syncer: copies what tenants create in their own control planes down into prefixed
//! namespaces of the super cluster, and brings status, events and nodes back up.
//!
//! One process serves every tenant. Watch events from both sides only queue keys; the work is
//! level-triggered (`reconcile`): read both sides, write what differs. A periodic `patrol`
//! compares everything and repairs drift. Tenants share a fair queue (`queue`).

pub mod args;
pub mod convert;
mod echoes;
mod events;
mod lean;
mod listed_pods;
pub mod metrics;
mod nodes;
mod pacing;
mod patrol;
pub mod queue;
mod reconcile;
mod registry;
pub mod resources;
mod stash;
mod super_watch;
mod tenant;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use tracing::{info, warn, Instrument};

pub use args::Args;
use metrics::Metrics;
use queue::FairQueue;
use tenant::Tenant;

/// What a worker does next for a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Item {
    /// A synced object, by its tenant namespace (empty when cluster-scoped) and name.
    Object { resource: String, namespace: String, name: String },
    /// A super Event in a tenant's super namespace.
    Event { namespace: String, name: String },
    /// A super node that runs (or ran) pods of the tenant.
    Node { name: String },
}

/// Settings of a syncer, from flags or set by tests.
#[derive(Debug, Clone)]
pub struct Config {
    /// Who this syncer is in the leader Lease.
    pub identity: String,
    /// Namespace of the leader Lease in the super cluster.
    pub lease_namespace: String,
    pub lease_duration: Duration,
    pub patrol_interval: Duration,
    pub workers: usize,
    pub per_tenant_in_flight: usize,
    /// Pods of one tenant waiting for the super scheduler at most (0: no limit).
    pub tenant_pending_pods: usize,
    /// How often virtual nodes' Leases are renewed in tenants.
    pub node_lease_interval: Duration,
    pub metrics_addr: SocketAddr,
}

/// State every task shares.
pub(crate) struct Shared {
    pub super_client: kube::Client,
    pub config: Config,
    pub queue: Arc<FairQueue<Item>>,
    pub metrics: Metrics,
    tenants: RwLock<HashMap<String, Arc<Tenant>>>,
    pub nodes: nodes::Tracker,
    pub namespaces: super_watch::NamespaceMap,
    pub occupancy: super_watch::Occupancy,
    pub custom: super_watch::CustomWatchers,
    pub pods: super_watch::PodIndex,
    /// The super pods of the first list, until each tenant's first comparison takes them.
    pub listed_pods: listed_pods::ListedPods,
    pub super_nodes: super_watch::SuperNodes,
    /// The latest watched version of queued objects (`None`: deleted).
    pub objects: stash::Stash<Option<kube::api::DynamicObject>>,
    /// The latest version of queued super Events.
    pub events: stash::Stash<k8s_openapi::api::core::v1::Event>,
    /// Every super Event about tenants' objects, in short, to compare with the tenants' copies.
    pub event_index: super_watch::EventIndex,
    pub pacing: pacing::Pacing,
    /// True once the super cluster's first lists are in: tenants start only then, and are
    /// made ready (kubeconfig Secret read, client built) meanwhile.
    pub super_listed: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    pub fn tenant(&self, key: &str) -> Option<Arc<Tenant>> {
        self.tenants.read().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    pub fn tenants(&self) -> Vec<Arc<Tenant>> {
        self.tenants.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    fn set_tenant(&self, key: &str, tenant: Option<Arc<Tenant>>) -> Option<Arc<Tenant>> {
        // A tenant that starts again lists everything again: nothing held for it before counts.
        self.pacing.release_held(key);
        self.objects.forget_tenant(key);
        self.events.forget_tenant(key);
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        match tenant {
            Some(t) => tenants.insert(key.to_string(), t),
            None => tenants.remove(key),
        }
    }
}

/// A running syncer.
pub struct Syncer {
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics_addr: SocketAddr,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Syncer {
    /// Serves health and metrics at once, then waits to lead and syncs until `shutdown`
    /// resolves or leadership is lost.
    pub async fn start(
        super_client: kube::Client,
        config: Config,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Syncer> {
        let metrics = Metrics::new();
        let listener = tokio::net::TcpListener::bind(config.metrics_addr)
            .await
            .with_context(|| format!("binding {}", config.metrics_addr))?;
        let metrics_addr = listener.local_addr()?;
        info!(addr = %metrics_addr, "serving metrics and health");
        let shared = Arc::new(Shared {
            super_client,
            // Copies of events wait while their tenant has objects to sync.
            queue: FairQueue::new(config.per_tenant_in_flight, |item| matches!(item, Item::Event { .. })),
            metrics,
            tenants: RwLock::new(HashMap::new()),
            nodes: nodes::Tracker::default(),
            namespaces: super_watch::NamespaceMap::default(),
            occupancy: super_watch::Occupancy::default(),
            custom: super_watch::CustomWatchers::default(),
            pods: super_watch::PodIndex::default(),
            listed_pods: listed_pods::ListedPods::default(),
            super_nodes: super_watch::SuperNodes::default(),
            objects: stash::Stash::default(),
            events: stash::Stash::default(),
            event_index: super_watch::EventIndex::default(),
            pacing: pacing::Pacing::new(config.tenant_pending_pods),
            super_listed: tokio::sync::watch::Sender::new(false),
            config,
        });
        tokio::spawn(nestor_api::runtime::health::serve(
            listener,
            Arc::clone(&shared) as Arc<dyn nestor_api::runtime::Exposition>,
        ));
        let config = &shared.config;
        let elector = nestor_api::runtime::Elector::new(
            shared.super_client.clone(),
            &config.lease_namespace,
            nestor_api::naming::SYNCER_LEASE,
            &config.identity,
            config.lease_duration,
        );
        let task = tokio::spawn(async move {
            let result = tokio::select! {
                result = run(Arc::clone(&shared), &elector) => result,
                () = shutdown => {
                    info!("shutting down");
                    elector.release().await;
                    Ok(())
                }
            };
            shared.queue.close();
            result
        });
        Ok(Syncer { metrics_addr, task })
    }

    /// Waits until the syncer stops: `Ok` after shutdown, an error when it lost leadership or
    /// could not start.
    pub async fn wait(self) -> Result<()> {
        self.task.await.context("syncer task")?
    }

    /// Stops the syncer at once.
    pub fn abort(&self) {
        self.task.abort();
    }
}

async fn run(shared: Arc<Shared>, lease: &nestor_api::runtime::Elector) -> Result<()> {
    lease.acquire().await?;
    shared.metrics.set_leader(true);
    info!(identity = %shared.config.identity, "leading; starting to sync");
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(registry::run(Arc::clone(&shared)));
    super_watch::start(&shared, &mut tasks).await;
    for _ in 0..shared.config.workers.max(1) {
        tasks.spawn(worker(Arc::clone(&shared)));
    }
    tasks.spawn(nodes::renew_leases(Arc::clone(&shared)));
    tasks.spawn(patrol::every_interval(Arc::clone(&shared)));
    tasks.spawn(sweep_stashes(Arc::clone(&shared)));
    let result = lease.keep().await;
    shared.metrics.set_leader(false);
    tasks.abort_all();
    for tenant in shared.tenants() {
        tenant.stop();
    }
    result
}

/// How often the stashes drop what no queued item needs since the sweep before.
const STASH_SWEEP: Duration = Duration::from_secs(10);

async fn sweep_stashes(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(STASH_SWEEP);
    loop {
        tick.tick().await;
        let waits = |tenant: &str, item: &Item| shared.queue.holds(tenant, item);
        shared.objects.sweep(waits);
        shared.events.sweep(waits);
    }
}

/// Takes items from the fair queue and works on them until the queue closes.
async fn worker(shared: Arc<Shared>) {
    while let Some(work) = shared.queue.next().await {
        let Some(tenant) = shared.tenant(&work.tenant) else {
            shared.queue.done(&work);
            continue;
        };
        shared.metrics.queue_wait(&work.tenant, work.waited);
        let started = std::time::Instant::now();
        let span = tenant.span.clone();
        let result = async {
            match &work.item {
                Item::Object { resource, namespace, name } => {
                    reconcile::object(&shared, &tenant, resource, namespace, name).await
                }
                Item::Event { namespace, name } => events::reconcile(&shared, &tenant, namespace, name).await,
                Item::Node { name } => nodes::reconcile(&shared, &tenant, name).await,
            }
        }
        .instrument(span)
        .await;
        shared.metrics.synced(&work.tenant, item_label(&work.item), started.elapsed());
        // The tenant now running, should it have been restarted meanwhile: its watches hold the
        // events that came during this sync.
        let tenant = shared.tenant(&work.tenant).unwrap_or(tenant);
        if tenant.echoes.settle(&work.item, || shared.queue.done(&work)) {
            shared.queue.add(&work.tenant, work.item.clone());
        }
        match result {
            Ok(()) => tenant.forget_failures(&work.item),
            Err(e) => {
                let delay = tenant.backoff(&work.item);
                let _entered = tenant.span.enter();
                warn!(item = ?work.item, error = %format!("{e:#}"), retry_in = ?delay, "sync failed");
                shared.queue.add_after(&work.tenant, work.item.clone(), delay);
            }
        }
    }
}

fn item_label(item: &Item) -> &str {
    match item {
        Item::Object { resource, .. } => resource,
        Item::Event { .. } => "events",
        Item::Node { .. } => "nodes",
    }
}
