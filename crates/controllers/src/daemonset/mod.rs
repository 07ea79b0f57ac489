//! The DaemonSet controller, as kube's `pkg/controller/daemon`: one pod on every node the
//! template fits ([`placement`]: `nodeSelector`, required node affinity, taints against the
//! tolerations plus kube's daemon defaults). Pods are made per node ([`pods`]): `generateName
//! <ds>-`, a controller reference, the `controller-revision-hash` and `pod-template-generation`
//! labels, and a required node affinity on the node's name so the scheduler binds them. Per
//! node ([`nodes`]), missing pods are created, pods on nodes that may no longer run them are
//! deleted (a `NoSchedule` taint keeps a running pod, `NoExecute` evicts it), extra pods go,
//! failed pods are deleted under a back-off ([`backoff`]) and replaced. Templates are kept as
//! ControllerRevisions ([`revisions`]); `RollingUpdate` replaces old pods within `maxUnavailable`
//! or `maxSurge` ([`rolling`]), `OnDelete` waits for them to be deleted. Status as kube writes it
//! ([`status`]); node changes wake the DaemonSets they concern ([`node_changes`]).
//!
//! Left out: kube re-reads a DaemonSet from the API server before adopting; the
//! namespace-terminating special case of pod creation errors; events aggregation.

pub mod backoff;
pub mod node_changes;
pub mod nodes;
pub mod placement;
pub mod pods;
pub mod revisions;
pub mod rolling;
pub mod status;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use tracing::debug;

use crate::controller::{drive, Context};
use crate::events;
use crate::expectations::Expectations;
use crate::informers::Informer;
use crate::pods as podutil;
use crate::{claim, selector};
use nodes::{NodePods, Why};

/// Why a DaemonSet sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to construct revisions of DaemonSet: {0}")]
    Revisions(#[source] kube::Error),
    #[error("found a hash collision; collisionCount raised to {0}")]
    HashCollision(i32),
    #[error("found a stale collisionCount; waiting for the cache")]
    StaleCollisionCount,
    #[error("invalid rolling update parameters: {0}")]
    Strategy(#[source] crate::deployment::fenceposts::InvalidValue),
    #[error("failed to create pods: {0}")]
    CreatePods(#[source] kube::Error),
    #[error("failed to delete pods: {0}")]
    DeletePods(#[source] kube::Error),
    #[error("failed to clean up revisions of DaemonSet: {0}")]
    Cleanup(#[source] kube::Error),
    #[error("failed to update status: {0}")]
    UpdateStatus(#[source] kube::Error),
}

/// How long a pod's target node learnt at creation is kept while the cache may not show it.
const TARGET_TTL: Duration = Duration::from_secs(300);

/// The node an unbound pod is meant for. The pod cache drops affinities, so the controller
/// remembers the node of each pod it creates, and asks the API server for any other.
#[derive(Debug, Clone)]
struct Target {
    uid: String,
    node: String,
    since: Instant,
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    pods: Arc<Informer<Pod>>,
    nodes: Arc<Informer<Node>>,
    revisions: Arc<Informer<ControllerRevision>>,
    expectations: Expectations,
    backoff: Mutex<backoff::Backoff>,
    /// Target nodes of unbound pods, by `namespace/name`.
    targets: Mutex<HashMap<String, Target>>,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let daemonsets = ctx.informers.get::<DaemonSet>();
    let pods = ctx.informers.get::<Pod>();
    let nodes = ctx.informers.get::<Node>();
    let revisions = ctx.informers.get::<ControllerRevision>();
    let changes = node_changes::NodeChanges::new(daemonsets.store.clone(), nodes.store.clone());
    let controller = Controller::for_shared_stream(daemonsets.subscribe(), daemonsets.store.clone())
        .owns_shared_stream(pods.subscribe())
        .owns_shared_stream(revisions.subscribe())
        .watches_shared_stream(nodes.subscribe(), move |node| changes.affected(node));
    let state = Arc::new(State {
        client: ctx.client,
        pods,
        nodes,
        revisions,
        expectations: Expectations::default(),
        backoff: Mutex::new(backoff::Backoff::default()),
        targets: Mutex::new(HashMap::new()),
    });
    drive("daemonset", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

/// The pods `ds` controls, in any phase, after adopting matching orphans and releasing pods
/// that stopped matching.
async fn claim_pods(st: &State, ds: &DaemonSet) -> Vec<Arc<Pod>> {
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let uid = ds.metadata.uid.as_deref();
    let selector = ds.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
    let candidates: Vec<Arc<Pod>> = st
        .pods
        .in_namespace(ns)
        .into_iter()
        .filter(|p| podutil::controller_of(&p.metadata).is_none_or(|c| Some(c.uid.as_str()) == uid))
        .collect();
    let api: Api<Pod> = Api::namespaced(st.client.clone(), ns);
    let owner = claim::owner_ref(pods::ABOUT.api_version, pods::ABOUT.kind, &ds.metadata);
    claim::claim(&api, &owner, false, candidates, |p| selector::matches(&selector, p.metadata.labels.as_ref())).await
}

/// The pods `ds` controls according to the cache, without adopting.
fn owned_pods(st: &State, ds: &DaemonSet) -> Vec<Arc<Pod>> {
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let uid = ds.metadata.uid.as_deref();
    st.pods
        .in_namespace(ns)
        .into_iter()
        .filter(|p| podutil::controller_of(&p.metadata).map(|r| r.uid.as_str()) == uid)
        .collect()
}

impl State {
    /// The node `pod` is meant for (kube's `GetTargetNodeName`), if it can be told.
    async fn target_of(&self, pod: &Pod) -> Option<String> {
        if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()) {
            return Some(node);
        }
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let key = format!("{ns}/{name}");
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let known = self.targets.lock().ok().and_then(|t| t.get(&key).filter(|t| t.uid == uid).map(|t| t.node.clone()));
        if known.is_some() {
            return known;
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let full = match api.get(name).await {
            Ok(full) => full,
            Err(e) => {
                debug!(pod = %key, error = %e, "could not read the pod's target node");
                return None;
            }
        };
        let node = pods::target_node(&full)?;
        self.remember(&key, uid, &node);
        Some(node)
    }

    fn remember(&self, key: &str, uid: String, node: &str) {
        if let Ok(mut targets) = self.targets.lock() {
            targets.insert(key.to_string(), Target { uid, node: node.to_string(), since: Instant::now() });
        }
    }

    /// Forgets targets of pods now bound, replaced, or gone for long.
    fn prune_targets(&self) {
        let Ok(mut targets) = self.targets.lock() else { return };
        targets.retain(|key, t| {
            let (ns, name) = key.split_once('/').unwrap_or_default();
            match self.pods.get(Some(ns), name) {
                Some(p) => {
                    p.metadata.uid.as_deref() == Some(t.uid.as_str())
                        && p.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_none_or(str::is_empty)
                }
                None => t.since.elapsed() < TARGET_TTL,
            }
        });
    }

    /// `pods` by target node (kube's `getNodesToDaemonPods`), leaving out terminal pods already
    /// being deleted: nothing is left to do with them.
    async fn by_node(&self, pods: &[Arc<Pod>]) -> NodePods {
        let mut out = NodePods::new();
        for pod in pods {
            if podutil::is_terminal(pod) && pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match self.target_of(pod).await {
                Some(node) => out.entry(node).or_default().push(Arc::clone(pod)),
                None => debug!(pod = ?pod.metadata.name, "no target node; skipped"),
            }
        }
        out
    }
}

/// What a sync changed, and when it must look again.
#[derive(Debug, Default)]
struct Outcome {
    changed: bool,
    retry_after: Option<Duration>,
}

/// Syncs one DaemonSet (kube's `syncDaemonSet`).
pub async fn reconcile(ds: Arc<DaemonSet>, st: Arc<State>) -> Result<Action, Error> {
    // A DaemonSet being deleted: its revisions may already be gone, so its status cannot be
    // computed; the garbage collector removes its pods.
    if ds.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let selector = ds.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
    if selector::is_empty(&selector) {
        let message = "This daemon set is selecting all pods. A non-empty selector is required.";
        events::record(&st.client, pods::ABOUT, &*ds, events::Type::Warning, "SelectingAll", message);
        return Ok(Action::await_change());
    }
    st.prune_targets();
    if let Ok(mut backoff) = st.backoff.lock() {
        backoff.gc(Instant::now());
    }
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let key = ds.metadata.uid.clone().unwrap_or_default();
    let nodes = st.nodes.store.state();
    let claimed = claim_pods(&st, &ds).await;
    let history = revisions::construct(&st, &ds, &claimed).await?;
    let hash = history.hash.as_str();
    let generation = pods::template_generation(&ds);

    if !st.expectations.satisfied(&key, &ns, &st.pods) {
        // Earlier creations or deletions are not in the cache yet: counts only, and the
        // generation is not observed since nothing was done for it.
        debug!(daemonset = %ds.metadata.name.as_deref().unwrap_or_default(), "waiting for the cache");
        let by_node = st.by_node(&owned_pods(&st, &ds)).await;
        let counts = status::count(&ds, &nodes, &by_node, hash, generation, Utc::now());
        status::write(&st.client, &ds, counts, false).await.map_err(Error::UpdateStatus)?;
        return Ok(Action::requeue(Duration::from_secs(5)));
    }

    let by_node = st.by_node(&claimed).await;
    let result = update(&st, &ds, &nodes, &by_node, hash, generation, &key).await;
    let cleaned = match &result {
        Ok(_) => revisions::cleanup(&st, &ds, &history.old, &owned_pods(&st, &ds)).await,
        Err(_) => Ok(()),
    };
    let by_node = st.by_node(&owned_pods(&st, &ds)).await;
    let now = Utc::now();
    let counts = status::count(&ds, &nodes, &by_node, hash, generation, now);
    let written = status::write(&st.client, &ds, counts, true).await.map_err(Error::UpdateStatus);
    let outcome = result?;
    cleaned?;
    written?;

    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let mut after = outcome.retry_after;
    if min_ready > 0 && counts.ready != counts.available {
        // A ready pod turns available with no event to tell.
        let wait = Duration::from_secs(u64::try_from(min_ready).unwrap_or(1));
        after = Some(after.map_or(wait, |a| a.min(wait)));
    }
    Ok(after.map_or_else(Action::await_change, Action::requeue))
}

/// Pods per node, then the rolling update when nothing else was done (kube's `updateDaemonSet`).
async fn update(
    st: &State,
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    by_node: &NodePods,
    hash: &str,
    generation: Option<i64>,
    key: &str,
) -> Result<Outcome, Error> {
    let mut outcome = manage(st, ds, nodes, by_node, hash, key).await?;
    if outcome.changed || !rolling::is_rolling(ds) {
        return Ok(outcome);
    }
    let mut padded = by_node.clone();
    let mut desired = 0;
    let mut should_run: HashMap<String, bool> = HashMap::new();
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let fit = placement::fit(node, ds);
        if fit.should_run {
            desired += 1;
            padded.entry(name.clone()).or_default();
        }
        should_run.insert(name, fit.should_run);
    }
    let (max_surge, max_unavailable) = rolling::limits(ds, desired).map_err(Error::Strategy)?;
    let run = |node: &str| should_run.get(node).copied().unwrap_or(false);
    let step = rolling::step(&rolling::Inputs {
        by_node: &padded,
        should_run: &run,
        desired,
        max_surge,
        max_unavailable,
        hash,
        generation,
        min_ready_seconds: ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0),
        now: Utc::now(),
    });
    outcome.changed = sync_nodes(st, ds, key, step.delete, step.create, hash).await?;
    Ok(outcome)
}

/// Decides per node, records the events of terminal pods, and acts (kube's `manage`).
async fn manage(
    st: &State,
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    by_node: &NodePods,
    hash: &str,
    key: &str,
) -> Result<Outcome, Error> {
    let surge = rolling::allows_surge(ds);
    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let observed = ds.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
    let (now, instant) = (Utc::now(), Instant::now());
    let mut create: Vec<String> = Vec::new();
    let mut delete: Vec<Arc<Pod>> = Vec::new();
    let mut retry_after: Option<Duration> = None;
    {
        let Ok(mut backoff) = st.backoff.lock() else { return Ok(Outcome::default()) };
        for node in nodes {
            let name = node.metadata.name.clone().unwrap_or_default();
            let backoff_key = format!("{key}/{observed}/{name}");
            let plan = nodes::plan(
                placement::fit(node, ds),
                by_node.get(&name).map(Vec::as_slice),
                surge,
                hash,
                min_ready,
                now,
                || match backoff.waiting(&backoff_key, instant) {
                    Some(wait) => Some(wait),
                    None => {
                        backoff.next(&backoff_key, instant);
                        None
                    }
                },
            );
            if plan.create {
                create.push(name.clone());
            }
            if let Some(wait) = plan.retry_after {
                retry_after = Some(retry_after.map_or(wait, |r| r.min(wait)));
            }
            for (pod, why) in plan.delete {
                record_terminal(st, ds, &pod, why, &name);
                delete.push(pod);
            }
        }
    }
    delete.extend(nodes::unbound_without_node(nodes, by_node));
    let changed = sync_nodes(st, ds, key, delete, create, hash).await?;
    Ok(Outcome { changed, retry_after })
}

/// kube's events for failed and succeeded daemon pods.
fn record_terminal(st: &State, ds: &DaemonSet, pod: &Pod, why: Why, node: &str) {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let (type_, reason, message) = match why {
        Why::Failed => (
            events::Type::Warning,
            "FailedDaemonPod",
            format!("Found failed daemon pod {ns}/{name} on node {node}, will try to kill it"),
        ),
        Why::Succeeded => (
            events::Type::Normal,
            "SucceededDaemonPod",
            format!("Found succeeded daemon pod {ns}/{name} on node {node}, will try to delete it"),
        ),
        Why::NotEligible | Why::Excess => return,
    };
    events::record(&st.client, pods::ABOUT, ds, type_, reason, &message);
}

/// Deletes `delete` and creates a pod on each of `create`, at most [`pods::BURST`] of each,
/// remembering them as expectations (kube's `syncNodes`). Answers whether anything was done.
async fn sync_nodes(
    st: &State,
    ds: &DaemonSet,
    key: &str,
    mut delete: Vec<Arc<Pod>>,
    mut create: Vec<String>,
    hash: &str,
) -> Result<bool, Error> {
    create.truncate(pods::BURST);
    delete.truncate(pods::BURST);
    if create.is_empty() && delete.is_empty() {
        return Ok(false);
    }
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let (created, create_error) = pods::create(&st.client, ds, &create, hash).await;
    for c in &created {
        st.remember(&format!("{ns}/{}", c.name), c.uid.clone(), &c.node);
    }
    st.expectations.expect(key, created.into_iter().map(|c| c.name), []);
    let (deleted, delete_error) = pods::delete(&st.client, ds, &delete).await;
    st.expectations.expect(key, [], deleted);
    if let Some(e) = create_error {
        return Err(Error::CreatePods(e));
    }
    if let Some(e) = delete_error {
        return Err(Error::DeletePods(e));
    }
    Ok(true)
}
