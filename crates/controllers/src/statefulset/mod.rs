//! The StatefulSet controller, as kube-controller-manager v1.32 runs it: pods with a fixed
//! identity `<set>-<ordinal>` (ordinals from `spec.ordinals.start`), each with its own
//! PersistentVolumeClaims, created in order and removed in reverse.
//!
//! A sync (kube's `sync` and `UpdateStatefulSet`):
//! - adopts orphan ControllerRevisions that match the selector and claims pods: orphans named
//!   `<set>-<n>` that match are adopted, owned pods that stop matching are released ([`claim`]);
//! - finds the update revision (the template now) and the current one, creating, or for a
//!   rollback renumbering, a ControllerRevision through [`history`] ([`revisions`]);
//! - plans and carries out at most what the pod management policy allows ([`plan`],
//!   [`writes`]): OrderedReady waits for each pod to be Running, Ready and available before the
//!   next, scales down from the highest ordinal one pod at a time, and recreates failed pods;
//!   Parallel does each phase at once. RollingUpdate (with `partition`) replaces pods from the
//!   highest ordinal, one at a time, each after the previous is available; OnDelete waits for
//!   someone to delete them;
//! - writes the status ([`status`]) and deletes revisions beyond `revisionHistoryLimit` that no
//!   pod uses.
//!
//! Claims ([`claims`]) are created before their pod, labelled with the selector's
//! `matchLabels`, and never deleted here: `persistentVolumeClaimRetentionPolicy` works through
//! owner references that the API server's garbage collector follows.
//!
//! Expectations remember the pods created and deleted until the cache has seen them, so a
//! lagging cache never creates a pod twice; a create answered 409 (the pod exists, the cache
//! has not shown it yet) is waited for, not an error.
//!
//! Left out: `maxUnavailable` (the MaxUnavailableStatefulSet gate is off in v1.32), the
//! `storageMatches` check (a cached pod has no volumes; pod volumes cannot change anyway), the
//! RecreatingFailedPod/RecreatingTerminatedPod events (v1.31 removed them), and status
//! conditions (kube writes none).

pub mod claims;
pub mod identity;
pub mod plan;
pub mod revisions;
pub mod status;
pub mod writes;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use tracing::debug;

use crate::controller::{drive, Context};
use crate::events;
use crate::expectations::Expectations;
use crate::informers::Informer;
use crate::pods::controller_of;
use crate::{claim, history, selector};

/// Who writes the events, and about what.
pub const ABOUT: events::About<'static> =
    events::About { component: "statefulset-controller", kind: "StatefulSet", api_version: "apps/v1" };

/// Why a StatefulSet sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create a controller revision: {0}")]
    CreateRevision(#[source] kube::Error),
    #[error("failed to renumber a controller revision: {0}")]
    UpdateRevision(#[source] kube::Error),
    #[error("failed to delete a controller revision: {0}")]
    DeleteRevision(#[source] kube::Error),
    #[error("failed to create pod {0}: {1}")]
    CreatePod(String, #[source] kube::Error),
    #[error("failed to create PVC {0}: {1}")]
    CreateClaim(String, #[source] kube::Error),
    #[error("pvc {0} is being deleted")]
    ClaimDeleting(String),
    #[error("failed to update pod {0}: {1}")]
    UpdatePod(String, #[source] kube::Error),
    #[error("could not update claim {0} for delete policy ownerRefs: {1}")]
    UpdateClaim(String, #[source] kube::Error),
    #[error("failed to delete pod {0}: {1}")]
    DeletePod(String, #[source] kube::Error),
    #[error("failed to update status: {0}")]
    UpdateStatus(#[source] kube::Error),
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    pods: Arc<Informer<Pod>>,
    revisions: Arc<Informer<ControllerRevision>>,
    claims: Arc<Informer<PersistentVolumeClaim>>,
    expectations: Expectations,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let sets = ctx.informers.get::<StatefulSet>();
    let pods = ctx.informers.get::<Pod>();
    let revisions = ctx.informers.get::<ControllerRevision>();
    let claims = ctx.informers.get::<PersistentVolumeClaim>();
    let (for_pods, for_claims) = (sets.store.clone(), sets.store.clone());
    let controller = Controller::for_shared_stream(sets.subscribe(), sets.store.clone())
        .watches_shared_stream(pods.subscribe(), move |pod: Arc<Pod>| pod_to_sets(&for_pods, &pod))
        // A claim's deletion unblocks an ordinal waiting for its stale claim to go.
        .watches_shared_stream(claims.subscribe(), move |pvc: Arc<PersistentVolumeClaim>| {
            matching_sets(&for_claims, pvc.metadata.namespace.as_deref(), pvc.metadata.labels.as_ref())
        });
    let state = Arc::new(State { client: ctx.client, pods, revisions, claims, expectations: Expectations::default() });
    drive("statefulset", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

/// The set controlling a pod, or for an orphan every set whose selector matches it (one may
/// adopt it).
fn pod_to_sets(sets: &Store<StatefulSet>, pod: &Pod) -> Vec<ObjectRef<StatefulSet>> {
    let ns = pod.metadata.namespace.as_deref();
    match controller_of(&pod.metadata) {
        Some(r) if r.kind == "StatefulSet" => vec![ObjectRef::new(&r.name).within(ns.unwrap_or_default())],
        Some(_) => Vec::new(),
        None => matching_sets(sets, ns, pod.metadata.labels.as_ref()),
    }
}

fn matching_sets(
    sets: &Store<StatefulSet>,
    ns: Option<&str>,
    labels: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<ObjectRef<StatefulSet>> {
    sets.state()
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == ns)
        .filter(|s| {
            s.spec
                .as_ref()
                .is_some_and(|sp| !selector::is_empty(&sp.selector) && selector::matches(&sp.selector, labels))
        })
        .map(|s| ObjectRef::from_obj(&**s))
        .collect()
}

/// Syncs one StatefulSet.
async fn reconcile(set: Arc<StatefulSet>, st: Arc<State>) -> Result<Action, Error> {
    let ns = set.metadata.namespace.clone().unwrap_or_default();
    let key = format!("{ns}/{}", set.metadata.name.as_deref().unwrap_or_default());
    let spec = set.spec.clone().unwrap_or_default();
    // The API server refuses an empty selector; one that got through would claim every pod.
    if selector::is_empty(&spec.selector) {
        return Ok(Action::await_change());
    }
    let revisions = claim_revisions(&st, &set).await;
    let members = claim_pods(&st, &set).await;
    let rev_api: Api<ControllerRevision> = Api::namespaced(st.client.clone(), &ns);
    let resolved = revisions::resolve(&rev_api, &set, &revisions).await?;

    let now = Utc::now();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let mut status = status::Status {
        observed_generation: set.metadata.generation.unwrap_or(0),
        current_revision: resolved.current_name().to_string(),
        update_revision: resolved.update_name().to_string(),
        collision_count: resolved.collision_count,
        ..status::Status::default()
    };
    status::count(&mut status, members.iter().map(|(_, p)| &**p), min_ready, now);
    let satisfied = st.expectations.satisfied(&key, &ns, &st.pods);
    let mut failure = None;
    if set.metadata.deletion_timestamp.is_some() {
        // A set being deleted only reports; the garbage collector removes its pods.
    } else if !satisfied {
        debug!(statefulset = %key, "waiting for the cache to see earlier pod changes");
    } else {
        let update_template = spec.template.clone();
        let current_template = history::template_of(&resolved.current).unwrap_or_else(|| update_template.clone());
        let facts = plan::Spec {
            start: identity::start_ordinal(&set),
            replicas: identity::replicas(&set),
            monotonic: spec.pod_management_policy.as_deref() != Some("Parallel"),
            min_ready_seconds: min_ready,
            on_delete: spec.update_strategy.as_ref().and_then(|u| u.type_.as_deref()) == Some("OnDelete"),
            partition: spec
                .update_strategy
                .as_ref()
                .and_then(|u| u.rolling_update.as_ref())
                .map(|r| r.partition.unwrap_or(0)),
            status_current_replicas: set.status.as_ref().and_then(|s| s.current_replicas).unwrap_or(0),
        };
        let cached = claims::Cached {
            set: &set,
            informer: &st.claims,
            policy: claims::Policy::of(&set),
            templates: identity::claim_templates(&set),
        };
        let planned = plan::plan(&facts, resolved.update_name(), resolved.current_name(), &members, &cached, now);
        if let Some(why) = &planned.waiting {
            debug!(statefulset = %key, "{why}");
        }
        let writer = writes::Writer {
            client: &st.client,
            set: &set,
            claims: &st.claims,
            expectations: &st.expectations,
            key: &key,
            current: writes::Template { revision: resolved.current_name(), template: &current_template },
            update: writes::Template { revision: resolved.update_name(), template: &update_template },
        };
        match writer.run(planned, facts.monotonic).await {
            Ok(done) if done.deleted_for_update => status.current -= 1,
            Ok(_) => {}
            Err(e) => failure = Some(e),
        }
    }
    status::complete_rolling_update(&set, &mut status);
    // Written even when a write failed, as kube does: what the pods show is still true.
    status::write(&st.client, &set, &status).await.map_err(Error::UpdateStatus)?;

    let mut live: HashSet<&str> = HashSet::from([resolved.current_name(), resolved.update_name()]);
    live.extend(members.iter().map(|(_, p)| identity::revision_of(p)));
    revisions::truncate(&rev_api, &set, &revisions, &live).await?;
    if let Some(e) = failure {
        return Err(e);
    }
    // A pod ready but not yet available turns available after minReadySeconds with no event to
    // tell: look again then (kube's `enqueueSSAfter`).
    if min_ready > 0 && status.available != identity::replicas(&set) {
        return Ok(Action::requeue(Duration::from_secs(u64::try_from(min_ready).unwrap_or(1))));
    }
    if !satisfied {
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    Ok(Action::await_change())
}

/// The revisions of `set` (oldest first) after adopting orphans that match its selector. As in
/// kube, revisions are never released.
async fn claim_revisions(st: &State, set: &StatefulSet) -> Vec<Arc<ControllerRevision>> {
    let ns = set.metadata.namespace.as_deref().unwrap_or_default();
    let selector = set.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
    let uid = set.metadata.uid.as_deref();
    let matches = |r: &ControllerRevision| selector::matches(&selector, r.metadata.labels.as_ref());
    let candidates: Vec<Arc<ControllerRevision>> = st
        .revisions
        .in_namespace(ns)
        .into_iter()
        .filter(|r| matches(r))
        .filter(|r| controller_of(&r.metadata).is_none_or(|c| Some(c.uid.as_str()) == uid))
        .collect();
    let api: Api<ControllerRevision> = Api::namespaced(st.client.clone(), ns);
    let owner = claim::owner_ref("apps/v1", "StatefulSet", &set.metadata);
    let deleting = set.metadata.deletion_timestamp.is_some();
    let mut owned = claim::claim(&api, &owner, deleting, candidates, matches).await;
    owned.sort_by(|a, b| a.revision.cmp(&b.revision).then_with(|| a.metadata.name.cmp(&b.metadata.name)));
    owned
}

/// The pods of `set` with their ordinals, after adopting orphans named `<set>-<n>` that match
/// its selector and releasing owned pods that stopped matching (kube's `getPodsForStatefulSet`).
async fn claim_pods(st: &State, set: &StatefulSet) -> Vec<(i32, Arc<Pod>)> {
    let ns = set.metadata.namespace.as_deref().unwrap_or_default();
    let selector = set.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
    let uid = set.metadata.uid.as_deref();
    let candidates: Vec<Arc<Pod>> = st
        .pods
        .in_namespace(ns)
        .into_iter()
        .filter(|p| controller_of(&p.metadata).is_none_or(|c| Some(c.uid.as_str()) == uid))
        .collect();
    let api: Api<Pod> = Api::namespaced(st.client.clone(), ns);
    let owner = claim::owner_ref("apps/v1", "StatefulSet", &set.metadata);
    let deleting = set.metadata.deletion_timestamp.is_some();
    let claimed = claim::claim(&api, &owner, deleting, candidates, |p| {
        selector::matches(&selector, p.metadata.labels.as_ref()) && identity::ordinal_in(set, p).is_some()
    })
    .await;
    claimed.into_iter().filter_map(|p| identity::ordinal_in(set, &p).map(|o| (o, p))).collect()
}
