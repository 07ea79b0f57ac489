//! The Job controller, as kube-controller-manager v1.32's: runs a Job's pods to completion
//! and reports them in its status, so that `kubectl get jobs` (STATUS, COMPLETIONS) and
//! `kubectl wait --for=condition=complete` read as on a real cluster.
//!
//! - Pods from the template (`generateName: <job>-`), owned through a controller reference,
//!   `parallelism` at a time and no more than the `completions` left; Indexed Jobs give each
//!   pod its index (annotation and label `batch.kubernetes.io/job-completion-index`, hostname
//!   `<job>-<index>`) and report `status.completedIndexes` as intervals (`0-2,4`).
//! - Every pod carries the `batch.kubernetes.io/job-tracking` finalizer until the Job has
//!   counted it ([`sync`]), so a deleted pod is still counted; orphans lose it ([`orphans`]).
//! - `backoffLimit` (failed pods, and container restarts with restartPolicy OnFailure), with
//!   kube's delay before replacing failed pods ([`backoff`]); `activeDeadlineSeconds`;
//!   `suspend`; `ttlSecondsAfterFinished` ([`ttl`], kube's ttl-after-finished controller).
//! - Conditions in v1.32's order: `SuccessCriteriaMet` then `Complete`, `FailureTarget` then
//!   `Failed` ([`conditions`]); events `SuccessfulCreate`, `SuccessfulDelete`, `Completed`,
//!   `BackoffLimitExceeded`, `DeadlineExceeded`, `Suspended`, `Resumed`.
//!
//! Left out: `podFailurePolicy` rules, `backoffLimitPerIndex`/`maxFailedIndexes`,
//! `successPolicy` (a Job using them runs as if they were absent), and the 1 s batching of pod
//! events (every change syncs at once).

pub mod backoff;
pub mod conditions;
pub mod finalizers;
pub mod indexes;
pub mod orphans;
pub mod pods;
pub mod status;
pub mod sync;
pub mod ttl;

use std::future::Future;
use std::sync::Arc;

use chrono::Utc;
use futures::future::join_all;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use tracing::debug;

use crate::controller::{drive, Context};
use crate::expectations::Expectations;
use crate::informers::Informer;
use crate::pods as podutil;
use finalizers::FinalizerExpectations;

/// Why a Job sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create pods: {0}")]
    CreatePods(#[source] kube::Error),
    #[error("failed to delete pods: {0}")]
    DeletePods(#[source] kube::Error),
    #[error("failed to remove tracking finalizers: {0}")]
    RemoveFinalizers(#[source] kube::Error),
    #[error("failed to update status: {0}")]
    UpdateStatus(#[source] kube::Error),
    #[error("failed to delete the expired job: {0}")]
    DeleteExpired(#[source] kube::Error),
}

/// The `spec.managedBy` value of Jobs this controller syncs (also when unset).
const MANAGED_BY: &str = "kubernetes.io/job-controller";

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    pods: Arc<Informer<Pod>>,
    expectations: Expectations,
    finalizers: FinalizerExpectations,
    backoff: backoff::Store,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let jobs = ctx.informers.get::<Job>();
    let pods = ctx.informers.get::<Pod>();
    let controller =
        Controller::for_shared_stream(jobs.subscribe(), jobs.store.clone()).owns_shared_stream(pods.subscribe());
    let orphans = orphans::run(ctx.client.clone(), Arc::clone(&pods), Arc::clone(&jobs), pods.subscribe());
    let state = Arc::new(State {
        client: ctx.client,
        pods,
        expectations: Expectations::default(),
        finalizers: FinalizerExpectations::default(),
        backoff: backoff::Store::default(),
    });
    let jobs = drive("job", controller, state, ctx.metrics, ctx.concurrency, reconcile);
    async move {
        futures::future::join(jobs, orphans).await;
    }
}

/// Syncs one Job: a finished one only waits for its TTL.
pub async fn reconcile(job: Arc<Job>, st: Arc<State>) -> Result<Action, Error> {
    let managed_by = job.spec.as_ref().and_then(|s| s.managed_by.as_deref());
    if managed_by.is_some_and(|m| m != MANAGED_BY) {
        return Ok(Action::await_change());
    }
    if conditions::finished(&job).is_some() {
        let ns = job.metadata.namespace.as_deref().unwrap_or_default();
        let key = format!("{ns}/{}", job.metadata.name.as_deref().unwrap_or_default());
        st.expectations.forget(&key);
        st.finalizers.forget(&key);
        st.backoff.remove(&key);
        release_leftovers(&st, &job).await;
        let next = ttl::handle(&st.client, &job, Utc::now()).await.map_err(Error::DeleteExpired)?;
        return Ok(next.map_or_else(Action::await_change, Action::requeue));
    }
    match sync::sync(&job, &st).await? {
        Some(after) => Ok(Action::requeue(after)),
        None => Ok(Action::await_change()),
    }
}

/// A finished Job counts no more pods: any of its pods still carrying the tracking finalizer
/// (one that ended after the Job did) loses it (kube's `cleanupPodFinalizers`).
async fn release_leftovers(st: &State, job: &Job) {
    let ns = job.metadata.namespace.as_deref().unwrap_or_default();
    let uid = job.metadata.uid.as_deref();
    let leftovers: Vec<Arc<Pod>> = st
        .pods
        .in_namespace(ns)
        .into_iter()
        .filter(|p| podutil::controller_of(&p.metadata).map(|r| r.uid.as_str()) == uid)
        .filter(|p| pods::has_tracking_finalizer(p))
        .collect();
    for result in join_all(leftovers.iter().map(|p| pods::remove_finalizer(&st.client, p))).await {
        if let Err(e) = result {
            debug!(error = %e, "tracking finalizer of a finished job's pod not removed");
        }
    }
}
