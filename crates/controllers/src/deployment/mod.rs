//! The Deployment controller: one ReplicaSet per pod template, rolled out by the Deployment's
//! strategy, with the revisions, conditions and status kubectl reads.
//!
//! A sync (kube's `syncDeployment`): a paused Deployment or a change of `replicas` only scales
//! (proportionally) and writes status; otherwise the strategy takes one step ([`rollout`]).
//! Each step writes the status with the Progressing condition ([`status`]); the progress
//! deadline is checked again when it would pass.

pub mod annotations;
pub mod fenceposts;
pub mod hash;
pub mod replicasets;
pub mod rollout;
pub mod scale;
pub mod status;

use std::future::Future;
use std::sync::Arc;

use chrono::Utc;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;

use crate::controller::{drive, Context};
use crate::events::{self, Type};
use crate::informers::Informer;
use crate::{claim, pods, selector};
use replicasets::Sets;

/// Who writes the events, and about what.
pub const ABOUT: events::About<'static> =
    events::About { component: "deployment-controller", kind: "Deployment", api_version: "apps/v1" };

/// Why a Deployment sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create replica set {0}: {1}")]
    CreateReplicaSet(String, #[source] kube::Error),
    #[error("replica set {0} exists with another template; collisionCount raised")]
    HashCollision(String),
    #[error("failed to update replica set {0}: {1}")]
    UpdateReplicaSet(String, #[source] kube::Error),
    #[error("failed to scale replica set {0}: {1}")]
    ScaleReplicaSet(String, #[source] kube::Error),
    #[error("failed to delete replica set {0}: {1}")]
    DeleteReplicaSet(String, #[source] kube::Error),
    #[error("failed to update the deployment status: {0}")]
    UpdateStatus(#[source] kube::Error),
    #[error("failed to record the deployment revision: {0}")]
    UpdateRevision(#[source] kube::Error),
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    replicasets: Arc<Informer<ReplicaSet>>,
    pods: Arc<Informer<Pod>>,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let deployments = ctx.informers.get::<Deployment>();
    let replicasets = ctx.informers.get::<ReplicaSet>();
    let pods = ctx.informers.get::<Pod>();
    // Pods matter only to Recreate, which waits until the old ones are gone.
    let (rs_store, d_store) = (replicasets.store.clone(), deployments.store.clone());
    let pod_to_deployment = move |pod: Arc<Pod>| {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let rs = pods::controller_of(&pod.metadata)
            .filter(|r| r.kind == "ReplicaSet")
            .and_then(|r| rs_store.get(&ObjectRef::new(&r.name).within(&ns)));
        let d = rs
            .as_ref()
            .and_then(|rs| pods::controller_of(&rs.metadata).filter(|r| r.kind == "Deployment").map(|r| r.name.clone()))
            .map(|name| ObjectRef::<Deployment>::new(&name).within(&ns));
        d.filter(|d| d_store.get(d).is_some_and(|d| !fenceposts::is_rolling(&d)))
    };
    let controller = Controller::for_shared_stream(deployments.subscribe(), deployments.store.clone())
        .owns_shared_stream(replicasets.subscribe())
        .watches_shared_stream(pods.subscribe(), pod_to_deployment);
    let state = Arc::new(State { client: ctx.client, replicasets, pods });
    drive("deployment", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

async fn reconcile(d: Arc<Deployment>, st: Arc<State>) -> Result<Action, Error> {
    let mut d = (*d).clone();
    let spec = d.spec.clone().unwrap_or_default();
    if selector::is_empty(&spec.selector) {
        events::record(
            &st.client,
            ABOUT,
            &d,
            Type::Warning,
            "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.",
        );
        let mut s = d.status.clone().unwrap_or_default();
        if s.observed_generation < d.metadata.generation {
            s.observed_generation = d.metadata.generation;
            write_status(&st, &mut d, s).await?;
        }
        return Ok(Action::await_change());
    }
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let candidates: Vec<Arc<ReplicaSet>> = st
        .replicasets
        .in_namespace(&ns)
        .into_iter()
        .filter(|rs| match pods::controller_of(&rs.metadata) {
            Some(c) => Some(&c.uid) == d.metadata.uid.as_ref(),
            None => true,
        })
        .collect();
    let api: Api<ReplicaSet> = Api::namespaced(st.client.clone(), &ns);
    let owner = claim::owner_ref("apps/v1", "Deployment", &d.metadata);
    let deleting = d.metadata.deletion_timestamp.is_some();
    let claimed = claim::claim(&api, &owner, deleting, candidates, |rs| {
        selector::matches(&spec.selector, rs.metadata.labels.as_ref())
    })
    .await;
    let list: Vec<ReplicaSet> = claimed.iter().map(|rs| (**rs).clone()).collect();
    if d.metadata.deletion_timestamp.is_some() {
        let sets = replicasets::get_all(&st, &mut d, list, false).await?;
        sync_status(&st, &mut d, &sets).await?;
        return Ok(Action::await_change());
    }
    check_paused_conditions(&st, &mut d).await?;
    let paused = spec.paused.unwrap_or(false);
    let sets = replicasets::get_all(&st, &mut d, list.clone(), false).await?;
    if paused || scale::is_scaling_event(&d, &sets) {
        let mut sets = sets;
        scale::scale(&st, &d, &mut sets).await?;
        if paused {
            rollout::cleanup(&st, &d, &sets.old).await?;
        }
        sync_status(&st, &mut d, &sets).await?;
    } else if fenceposts::is_rolling(&d) {
        rollout::rolling(&st, &mut d, list).await?;
    } else {
        rollout::recreate(&st, &mut d, list).await?;
    }
    let s = d.status.clone().unwrap_or_default();
    Ok(status::requeue_after(&d, &s, Utc::now()).map_or_else(Action::await_change, Action::requeue))
}

/// Marks a pause or a resume on the Progressing condition (Unknown), unless the deadline
/// already passed.
async fn check_paused_conditions(st: &State, d: &mut Deployment) -> Result<(), Error> {
    if !status::has_progress_deadline(d) {
        return Ok(());
    }
    let mut s = d.status.clone().unwrap_or_default();
    let reason = status::get(&s, status::PROGRESSING).and_then(|c| c.reason.clone());
    if reason.as_deref() == Some(status::TIMED_OUT) {
        return Ok(());
    }
    let paused_marked = reason.as_deref() == Some(status::PAUSED);
    let paused = d.spec.as_ref().and_then(|sp| sp.paused).unwrap_or(false);
    let now = Utc::now();
    let c = if paused && !paused_marked {
        status::condition(status::PROGRESSING, "Unknown", status::PAUSED, "Deployment is paused".into(), now)
    } else if !paused && paused_marked {
        status::condition(status::PROGRESSING, "Unknown", status::RESUMED, "Deployment is resumed".into(), now)
    } else {
        return Ok(());
    };
    status::set(&mut s, c);
    write_status(st, d, s).await
}

/// Writes the counts and Available (kube's `syncDeploymentStatus`).
async fn sync_status(st: &State, d: &mut Deployment, sets: &Sets) -> Result<(), Error> {
    let s = status::calculate(&sets.all(), sets.new.as_ref(), d, Utc::now());
    write_status(st, d, s).await
}

/// Writes the counts, Available, Progressing and ReplicaFailure (kube's `syncRolloutStatus`).
pub(crate) async fn sync_rollout_status(st: &State, d: &mut Deployment, sets: &Sets) -> Result<(), Error> {
    let s = status::rollout(&sets.all(), sets.new.as_ref(), d, Utc::now());
    write_status(st, d, s).await
}

/// Writes `s` when it differs from the status `d` has, and keeps it in `d`.
pub(crate) async fn write_status(st: &State, d: &mut Deployment, s: DeploymentStatus) -> Result<(), Error> {
    let s = status::normalize(s);
    let current = d.status.clone().map(status::normalize);
    if current.as_ref() == Some(&s) {
        return Ok(());
    }
    let api: Api<Deployment> = Api::namespaced(st.client.clone(), d.metadata.namespace.as_deref().unwrap_or_default());
    api.patch_status(
        d.metadata.name.as_deref().unwrap_or_default(),
        &PatchParams::default(),
        &Patch::Merge(&status::patch(&s)),
    )
    .await
    .map_err(Error::UpdateStatus)?;
    d.status = Some(s);
    Ok(())
}
