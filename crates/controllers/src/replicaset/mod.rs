//! The ReplicaSet controller: keeps `spec.replicas` active pods, owned through a controller
//! reference, and reports them in the status. The ReplicationController controller is the same
//! logic ([`replication`]): kube runs one implementation for both too.

pub mod pods;
pub mod ranking;
pub mod replication;
pub mod status;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use tracing::debug;

use kube::api::Api;

use crate::controller::{drive, Context};
use crate::expectations::Expectations;
use crate::informers::Informer;
use crate::pods as podutil;
use crate::{claim, selector};

/// Why a ReplicaSet sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create pods: {0}")]
    CreatePods(#[source] kube::Error),
    #[error("failed to delete pods: {0}")]
    DeletePods(#[source] kube::Error),
    #[error("failed to update status: {0}")]
    UpdateStatus(#[source] kube::Error),
}

/// Which of the two kinds a controller manages: what goes on owner references, events and
/// status writes.
#[derive(Debug, Clone, Copy)]
pub struct Flavor {
    pub about: crate::events::About<'static>,
}

/// ReplicaSets (`apps/v1`).
pub const REPLICA_SET: Flavor = Flavor { about: pods::ABOUT };

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    pods: Arc<Informer<Pod>>,
    /// For the Deployment siblings of a ReplicaSet (none for ReplicationControllers).
    replicasets: Option<Arc<Informer<ReplicaSet>>>,
    expectations: Expectations,
    flavor: Flavor,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let replicasets = ctx.informers.get::<ReplicaSet>();
    let pods = ctx.informers.get::<Pod>();
    let controller = Controller::for_shared_stream(replicasets.subscribe(), replicasets.store.clone())
        .owns_shared_stream(pods.subscribe());
    let state = Arc::new(State {
        client: ctx.client,
        pods,
        replicasets: Some(replicasets),
        expectations: Expectations::default(),
        flavor: REPLICA_SET,
    });
    drive("replicaset", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

/// The active pods `rs` controls after adopting matching orphans and releasing pods that
/// stopped matching.
async fn claim_pods(st: &State, rs: &ReplicaSet) -> Vec<Arc<Pod>> {
    let ns = rs.metadata.namespace.as_deref().unwrap_or_default();
    let uid = rs.metadata.uid.as_deref();
    let selector = rs.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
    // A selector that selects everything adopts nothing (the API server refuses it anyway).
    if selector::is_empty(&selector) {
        return owned_pods(&st.pods, rs);
    }
    let candidates: Vec<Arc<Pod>> = st
        .pods
        .in_namespace(ns)
        .into_iter()
        .filter(|p| podutil::is_active(p))
        .filter(|p| match podutil::controller_of(&p.metadata) {
            Some(c) => Some(c.uid.as_str()) == uid,
            None => true,
        })
        .collect();
    let api: Api<Pod> = Api::namespaced(st.client.clone(), ns);
    let owner = claim::owner_ref(st.flavor.about.api_version, st.flavor.about.kind, &rs.metadata);
    let deleting = rs.metadata.deletion_timestamp.is_some();
    claim::claim(&api, &owner, deleting, candidates, |p| selector::matches(&selector, p.metadata.labels.as_ref())).await
}

/// The active pods `rs` controls.
pub fn owned_pods(pods: &Informer<Pod>, rs: &ReplicaSet) -> Vec<Arc<Pod>> {
    let ns = rs.metadata.namespace.as_deref().unwrap_or_default();
    let uid = rs.metadata.uid.as_deref();
    pods.in_namespace(ns)
        .into_iter()
        .filter(|p| podutil::controller_of(&p.metadata).map(|r| r.uid.as_str()) == uid && podutil::is_active(p))
        .collect()
}

/// Syncs one ReplicaSet (or a ReplicationController seen as one).
pub async fn reconcile(rs: Arc<ReplicaSet>, st: Arc<State>) -> Result<Action, Error> {
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    let name = rs.metadata.name.clone().unwrap_or_default();
    let key = format!("{ns}/{name}");
    let active = claim_pods(&st, &rs).await;
    let satisfied = st.expectations.satisfied(&key, &ns, &st.pods);
    let mut failure: Option<Error> = None;
    if satisfied && rs.metadata.deletion_timestamp.is_none() {
        failure = manage(&rs, &active, &st, &key).await.err();
    } else if !satisfied {
        debug!(replicaset = %key, "waiting for the cache to see earlier pod changes");
    }
    let now = Utc::now();
    let counts = status::count(&rs, &active, now);
    let reason = failure.as_ref().map(|e| match e {
        Error::DeletePods(e) => ("FailedDelete", e.to_string()),
        Error::CreatePods(e) | Error::UpdateStatus(e) => ("FailedCreate", e.to_string()),
    });
    status::write(&st.client, st.flavor, &rs, counts, reason, now).await.map_err(Error::UpdateStatus)?;
    if let Some(e) = failure {
        return Err(e);
    }
    // A pod that is ready but not yet available turns available after minReadySeconds with no
    // event to tell: look again then.
    let min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    if min_ready > 0 && counts.ready != counts.available {
        return Ok(Action::requeue(Duration::from_secs(u64::try_from(min_ready).unwrap_or(1))));
    }
    if !satisfied {
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    Ok(Action::await_change())
}

/// Creates or deletes pods towards `spec.replicas`.
async fn manage(rs: &ReplicaSet, active: &[Arc<Pod>], st: &State, key: &str) -> Result<(), Error> {
    let want = usize::try_from(rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)).unwrap_or(0);
    let have = active.len();
    if have < want {
        let count = (want - have).min(pods::BURST);
        let (created, error) = pods::create(&st.client, st.flavor, rs, count).await;
        st.expectations.expect(key, created, []);
        if let Some(e) = error {
            return Err(Error::CreatePods(e));
        }
    } else if have > want {
        let count = (have - want).min(pods::BURST);
        let related = related_pods(st, rs);
        let victims = ranking::pods_to_delete(active, &related, count, Utc::now());
        let (deleted, error) = pods::delete(&st.client, st.flavor, rs, &victims).await;
        st.expectations.expect(key, [], deleted);
        if let Some(e) = error {
            return Err(Error::DeletePods(e));
        }
    }
    Ok(())
}

/// The active pods of every ReplicaSet with the same controller as `rs` (its Deployment's),
/// or of `rs` alone.
fn related_pods(st: &State, rs: &ReplicaSet) -> Vec<Arc<Pod>> {
    let Some(owner) = podutil::controller_of(&rs.metadata) else { return owned_pods(&st.pods, rs) };
    let Some(replicasets) = st.replicasets.as_ref() else { return owned_pods(&st.pods, rs) };
    let ns = rs.metadata.namespace.as_deref().unwrap_or_default();
    let siblings: Vec<String> = replicasets
        .in_namespace(ns)
        .iter()
        .filter(|r| podutil::controller_of(&r.metadata).map(|o| &o.uid) == Some(&owner.uid))
        .filter_map(|r| r.metadata.uid.clone())
        .collect();
    st.pods
        .in_namespace(ns)
        .into_iter()
        .filter(|p| podutil::controller_of(&p.metadata).is_some_and(|r| siblings.contains(&r.uid)))
        .collect()
}
