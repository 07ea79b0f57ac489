//! The node lifecycle controller (kube's `nodelifecycle`, component `node-controller`) with the
//! taint eviction controller (kube's `tainteviction`), as kube-controller-manager v1.32 runs
//! them:
//!
//! - [`health`]: a node whose kubelet neither renews its Lease in `kube-node-lease` nor posts
//!   status for `--node-monitor-grace-period` gets Ready, MemoryPressure, DiskPressure and
//!   PIDPressure `Unknown` (`NodeStatusUnknown`, "Kubelet stopped posting node status."), and a
//!   Normal `NodeNotReady` event "Node <name> status is now: NodeNotReady" when it was Ready;
//! - [`taints`]: the condition taints (`unreachable` or `not-ready` `NoSchedule` + `NoExecute`,
//!   the pressure ones) and `node.kubernetes.io/unschedulable` for a cordoned node, removed
//!   again when the node recovers;
//! - [`readiness`]: the pods of a silent node are marked not Ready (Warning `NodeNotReady`);
//! - [`eviction`]: pods that do not tolerate a node's `NoExecute` taints are deleted, at once or
//!   when their `tolerationSeconds` run out;
//! - [`labels`]: `beta.kubernetes.io/os|arch` follow `kubernetes.io/os|arch`;
//! - `RegisteredNode` / `RemovingNode` events when a node is first seen or deleted.
//!
//! Each node is reconciled when it, its Lease or (while it is unhealthy or tainted) one of its
//! pods changes, and again at the moment it would turn silent or a pod's toleration runs out:
//! there is no periodic pass over every node.
//!
//! Left out: kube's zone-based rate limiting of `NoExecute` taints (0.1 node/s per zone) and its
//! disruption modes. kube stops tainting (and removes `NoExecute` taints) when every node of
//! every zone is not Ready, assuming the control plane lost its network rather than every node
//! died; here the taints go on regardless. Pods of a node whose kubelet reports Ready `False`
//! itself are not marked not ready (kube does it only for pods bound to such a node later).

pub mod eviction;
pub mod health;
pub mod labels;
pub mod readiness;
pub mod taints;
pub mod time;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use tracing::info;

use crate::controller::{drive, Context};
use crate::events::{self, About};
use crate::informers::Informer;
use eviction::Evictions;
use health::{Health, Heartbeats};

/// Where kubelets keep their Leases.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";

/// Events about nodes, as kube's node lifecycle controller records them.
pub const ABOUT_NODE: About<'static> = About { component: "node-controller", kind: "Node", api_version: "v1" };
/// Events about pods from the node lifecycle controller.
pub const ABOUT_POD: About<'static> = About { component: "node-controller", kind: "Pod", api_version: "v1" };

/// A wake-up a little after a deadline, so the deadline has passed when the sync runs.
const MARGIN: Duration = Duration::from_millis(50);

/// Why a node sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to mark the node status unknown: {0}")]
    UpdateStatus(#[source] kube::Error),
    #[error("failed to update the node taints: {0}")]
    UpdateTaints(#[source] kube::Error),
    #[error("failed to update the node labels: {0}")]
    UpdateLabels(#[source] kube::Error),
    #[error("failed to mark pod {0} not ready: {1}")]
    MarkPodNotReady(String, #[source] kube::Error),
    #[error(transparent)]
    Eviction(#[from] eviction::Error),
}

/// What the reconciler reads and remembers.
pub struct State {
    client: kube::Client,
    nodes: Arc<Informer<Node>>,
    leases: Arc<Informer<Lease>>,
    pods: Arc<Informer<Pod>>,
    grace: Duration,
    /// What was last seen of each node's heartbeats, and when they last moved.
    health: Mutex<HashMap<String, Health>>,
    evictions: Arc<Evictions>,
}

impl State {
    /// Remembers `seen` for node `name`; answers its health and whether the node is new to
    /// this controller.
    fn observe(&self, name: &str, seen: Heartbeats, now: DateTime<Utc>) -> (Health, bool) {
        let Ok(mut all) = self.health.lock() else { return (health::observe(None, seen, now), false) };
        let prev = all.get(name);
        let new = prev.is_none();
        let health = health::observe(prev, seen, now);
        all.insert(name.to_string(), health.clone());
        (health, new)
    }

    /// Forgets a deleted node; answers whether it was known.
    fn forget(&self, name: &str) -> bool {
        self.evictions.forget(name);
        self.health.lock().is_ok_and(|mut all| all.remove(name).is_some())
    }
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context, grace: Duration) -> impl Future<Output = ()> {
    let nodes = ctx.informers.get::<Node>();
    // The API server supports metadata.namespace on watches: only kubelets' Leases are cached.
    let leases = ctx
        .informers
        .get_with::<Lease>(watcher::Config::default().fields(&format!("metadata.namespace={LEASE_NAMESPACE}")));
    let pods = ctx.informers.get::<Pod>();
    let evictions = Arc::new(Evictions::default());
    let lease_to_node = |lease: Arc<Lease>| {
        let name = lease.metadata.name.as_deref()?;
        (lease.metadata.namespace.as_deref() == Some(LEASE_NAMESPACE)).then(|| ObjectRef::<Node>::new(name))
    };
    let node_store = nodes.store.clone();
    let pending = Arc::clone(&evictions);
    // Pods matter only on nodes that are unhealthy, tainted NoExecute, or with deletions
    // scheduled: every other pod change is left alone.
    let pod_to_node = move |pod: Arc<Pod>| {
        let node = pod.spec.as_ref()?.node_name.clone().filter(|n| !n.is_empty())?;
        if !watches_pods(&node_store, &pending, &node) {
            return None;
        }
        pending.pod_changed(&node);
        Some(ObjectRef::<Node>::new(&node))
    };
    let controller = Controller::for_shared_stream(nodes.subscribe(), nodes.store.clone())
        .watches_shared_stream(leases.subscribe(), lease_to_node)
        .watches_shared_stream(pods.subscribe(), pod_to_node);
    let deletions = nodes.subscribe();
    let state = Arc::new(State {
        client: ctx.client,
        nodes,
        leases,
        pods,
        grace,
        health: Mutex::new(HashMap::new()),
        evictions,
    });
    let run = drive("nodelifecycle", controller, Arc::clone(&state), ctx.metrics, ctx.concurrency, reconcile);
    async move {
        // Either ending is the controller ending.
        tokio::select! {
            () = run => {}
            () = forget_deleted(deletions, state) => {}
        }
    }
}

/// Whether changes of the pods on `node` need a sync of the node.
fn watches_pods(nodes: &Store<Node>, evictions: &Evictions, node: &str) -> bool {
    if evictions.pending_on(node) {
        return true;
    }
    let Some(node) = nodes.get(&ObjectRef::new(node)) else { return false };
    let ready = health::ready_condition(&node).is_none_or(|c| c.status == "True");
    let tainted = node.spec.as_ref().and_then(|s| s.taints.as_ref()).is_some_and(|t| !taints::no_execute(t).is_empty());
    !ready || tainted
}

/// Forgets nodes that are gone (the reconciler only hears of nodes that exist), with kube's
/// `RemovingNode` event.
async fn forget_deleted(mut changes: UnboundedReceiver<Arc<Node>>, st: Arc<State>) {
    while let Some(node) = changes.next().await {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        if st.nodes.get(None, name).is_none() && st.forget(name) {
            info!(node = name, "node deleted");
            let message = format!("Node {name} event: Removing Node {name} from Controller");
            events::record(&st.client, ABOUT_NODE, node.as_ref(), events::Type::Normal, "RemovingNode", &message);
        }
    }
}

/// Syncs one node: its health, conditions, taints, labels, its pods' readiness and evictions.
pub async fn reconcile(node: Arc<Node>, st: Arc<State>) -> Result<Action, Error> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let now = Utc::now();
    let lease = st.leases.get(Some(LEASE_NAMESPACE), &name);
    let (health, new) = st.observe(&name, Heartbeats::of(&node, lease.as_deref()), now);
    if new {
        let message = format!("Node {name} event: Registered Node {name} in Controller");
        events::record(&st.client, ABOUT_NODE, node.as_ref(), events::Type::Normal, "RegisteredNode", &message);
    }
    let api: Api<Node> = Api::all(st.client.clone());
    // Each write answers the node as stored; later steps work on that, not on the cache.
    let mut node = node;

    let silent = health.silent(st.grace, now);
    if silent {
        let changed = health::silenced(health::conditions(&node), node.metadata.creation_timestamp.as_ref(), now);
        if !changed.is_empty() {
            let was_ready = health::ready_condition(&node).is_some_and(|c| c.status == "True");
            node = Arc::new(health::write(&api, &node, &changed).await.map_err(Error::UpdateStatus)?);
            info!(node = %name, "kubelet stopped posting node status; node status unknown");
            if was_ready {
                let message = format!("Node {name} status is now: NodeNotReady");
                events::record(&st.client, ABOUT_NODE, node.as_ref(), events::Type::Normal, "NodeNotReady", &message);
            }
        }
    }

    let unschedulable = node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
    let desired = taints::desired(health::conditions(&node), unschedulable);
    let current = node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or_default();
    if let Some(updated) = taints::reconcile(current, &desired, now) {
        node = Arc::new(taints::write(&api, &node, &updated).await.map_err(Error::UpdateTaints)?);
        let keys: Vec<String> = updated.iter().map(|t| format!("{}:{}", t.key, t.effect)).collect();
        info!(node = %name, taints = ?keys, "node taints updated");
    }

    labels::reconcile(&api, &node).await.map_err(Error::UpdateLabels)?;

    if health::ready_condition(&node).is_some_and(|c| c.status == "Unknown") {
        readiness::mark_not_ready(&st.client, &st.pods, &name, now)
            .await
            .map_err(|(pod, e)| Error::MarkPodNotReady(pod, e))?;
    }

    let next_eviction = st.evictions.sync(&st.client, &node, now).await?;

    // Look again when the node would turn silent, or a toleration runs out.
    let silent_at = (!silent).then(|| health.silent_at(st.grace));
    let wake = [silent_at, next_eviction].into_iter().flatten().min();
    Ok(wake.map_or_else(Action::await_change, |at| Action::requeue(time::until(now, at) + MARGIN)))
}
