//! The VirtualCluster reconciler: validate, keep the PKI, provision, write the kubeconfig,
//! report status; and on delete, tear the control plane down before the finalizer goes.
//!
//! Level-triggered: every step reads what is there and writes only a difference, so the
//! reconciler's own status writes (which come back as watch events) end in a no-op. The
//! finalizer is added before anything is provisioned and removed once the control plane is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt;
use nestor_api::runtime::errors::is_conflict;
use nestor_api::{naming, ClusterVersion, Phase, VirtualCluster};
use tracing::{debug, info, instrument, warn};

use crate::events::{self, Type};
use crate::metrics::Metrics;
use crate::provision::{self, Provisioner, Tenant};
use crate::status::{self, reason, Observed};
use crate::{finalizer, pki, secrets, validate};

/// Why a reconcile failed; the error policy retries it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to write the status: {0}")]
    WriteStatus(#[source] kube::Error),
    #[error("failed to look up the ClusterVersion: {0}")]
    ReadClusterVersion(#[source] kube::Error),
    #[error(transparent)]
    Secrets(#[from] secrets::Error),
    #[error(transparent)]
    Provision(#[from] provision::Error),
    #[error(transparent)]
    Pki(#[from] pki::Error),
    #[error(transparent)]
    Finalizer(#[from] finalizer::Error),
}

/// How often a Running tenant is looked at again: certificates may come due, an API server
/// may stop answering.
const RESYNC: Duration = Duration::from_secs(60);
/// How soon a tenant whose API server is not ready yet is looked at again.
const NOT_READY_RETRY: Duration = Duration::from_secs(1);
/// Back-off of failed provisioning: from 5 s, doubling, at most 5 minutes.
const FAILURE_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What every reconcile shares.
pub struct Context {
    pub client: kube::Client,
    pub provisioner: Arc<dyn Provisioner>,
    pub metrics: Arc<Metrics>,
    /// When provisioning of a tenant began, by UID, for the provisioning-time histogram.
    provisioning_since: Mutex<HashMap<String, Instant>>,
    /// Consecutive provisioning failures, by UID, for the back-off.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    fn backoff(&self, uid: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(uid.to_string()).or_default();
        *n = n.saturating_add(1);
        FAILURE_BACKOFF.saturating_mul(1 << (*n - 1).min(6)).min(MAX_BACKOFF)
    }

    fn forget(&self, uid: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(uid);
        self.provisioning_since.lock().unwrap_or_else(|e| e.into_inner()).remove(uid);
    }
}

/// Runs the VirtualCluster controller until its watches end (they do not, normally).
pub async fn run(client: kube::Client, provisioner: Arc<dyn Provisioner>, metrics: Arc<Metrics>) {
    let context = Arc::new(Context {
        client: client.clone(),
        provisioner,
        metrics,
        provisioning_since: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
    });
    let controller = Controller::new(Api::<VirtualCluster>::all(client.clone()), watcher::Config::default());
    let store = controller.store();
    controller
        // A deleted or edited kubeconfig or PKI Secret is written again.
        .owns(Api::<Secret>::all(client.clone()), watcher::Config::default().labels(&secrets::managed_selector()))
        // A ClusterVersion that appears (or changes) re-checks the VirtualClusters naming it,
        // so a Failed one recovers without polling.
        .watches(Api::<ClusterVersion>::all(client), watcher::Config::default(), move |cv: ClusterVersion| {
            let name = cv.name_any();
            store
                .state()
                .into_iter()
                .filter(|vc| vc.spec.cluster_version.as_deref() == Some(name.as_str()))
                .map(|vc| ObjectRef::from_obj(vc.as_ref()))
                .collect::<Vec<_>>()
        })
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                debug!(error = %e, "reconcile not run");
            }
        })
        .await;
}

fn error_policy(vc: Arc<VirtualCluster>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconcile_failed();
    if is_conflict(error) {
        // Someone wrote between our read and our write; the watch brings the news.
        debug!(vc = %vc.name_any(), "stale read; retrying");
        return Action::requeue(Duration::from_millis(200));
    }
    let delay = ctx.backoff(&vc.uid().unwrap_or_default());
    warn!(vc = %vc.name_any(), namespace = %vc.namespace().unwrap_or_default(), error = %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

#[instrument(skip_all, fields(vc = %vc.name_any(), namespace = %vc.namespace().unwrap_or_default()))]
async fn reconcile(vc: Arc<VirtualCluster>, ctx: Arc<Context>) -> Result<Action, Error> {
    let api: Api<VirtualCluster> = Api::namespaced(ctx.client.clone(), &vc.namespace().unwrap_or_default());
    let key = key_of(&vc);
    let mut vc = vc;
    if vc.status.as_ref().and_then(|s| s.phase).is_none() && vc.metadata.deletion_timestamp.is_none() {
        // Say at once that the object was seen; the finalizer comes next.
        let pending = Observed::not_ready(Phase::Pending, reason::PENDING, "waiting to be provisioned").with_key(&key);
        vc = Arc::new(write_status(&ctx, &api, &vc, &pending).await?);
    }
    if vc.metadata.deletion_timestamp.is_some() {
        if finalizer::present(&vc) {
            let vc = cleanup(&vc, &ctx, &api, &key).await?;
            finalizer::remove(&api, &vc).await?;
            debug!(tenant = %key, "released the VirtualCluster");
        }
        return Ok(Action::await_change());
    }
    if !finalizer::present(&vc) {
        // Before anything exists that the finalizer must clean up.
        vc = Arc::new(finalizer::add(&api, &vc).await?);
    }
    apply(&vc, &ctx, &api, &key).await
}

/// The cluster key of a VirtualCluster, from the naming module.
fn key_of(vc: &VirtualCluster) -> String {
    naming::cluster_key(&vc.namespace().unwrap_or_default(), &vc.name_any(), &vc.uid().unwrap_or_default())
}

async fn apply(vc: &VirtualCluster, ctx: &Context, api: &Api<VirtualCluster>, key: &str) -> Result<Action, Error> {
    let uid = vc.uid().unwrap_or_default();
    let cluster_version = match &vc.spec.cluster_version {
        Some(name) => {
            Api::<ClusterVersion>::all(ctx.client.clone()).get_opt(name).await.map_err(Error::ReadClusterVersion)?
        }
        None => None,
    };
    let cluster_version_found = vc.spec.cluster_version.is_none() || cluster_version.is_some();
    if let Err(invalid) = validate::virtual_cluster(&vc.name_any(), &vc.spec, cluster_version_found) {
        let failed = Observed::not_ready(Phase::Failed, reason::INVALID_SPEC, invalid.message()).with_key(key);
        write_status(ctx, api, vc, &failed).await?;
        ctx.forget(&uid);
        // Nothing to retry: a change to the spec (or a ClusterVersion appearing) brings it back.
        return Ok(Action::await_change());
    }

    // Each write answers the object as it now is: the next write's resourceVersion must be its.
    let mut vc = vc.clone();
    let ready = vc.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == status::READY).cloned());
    let phase = vc.status.as_ref().and_then(|s| s.phase);
    let was_running = phase == Some(Phase::Running);
    // A tenant that failed to provision stays Failed while it is retried (no flapping through
    // Provisioning on every attempt); one whose spec was just fixed starts over.
    let starting = match phase {
        None | Some(Phase::Pending) => true,
        Some(Phase::Failed) => ready.is_some_and(|c| c.reason == reason::INVALID_SPEC),
        _ => false,
    };
    if !was_running {
        ctx.provisioning_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(uid.clone())
            .or_insert_with(Instant::now);
    }
    if starting {
        let provisioning =
            Observed::not_ready(Phase::Provisioning, reason::PROVISIONING, "starting the control plane").with_key(key);
        vc = write_status(ctx, api, &vc, &provisioning).await?;
    }
    let vc = &vc;

    let outcome = async {
        let pki = secrets::ensure_pki(&ctx.client, vc, key).await?;
        let tenant = Tenant {
            key: key.to_string(),
            namespace: vc.namespace().unwrap_or_default(),
            name: vc.name_any(),
            uid: uid.clone(),
            pki,
            version: cluster_version.map(|cv| cv.spec),
        };
        let provisioned = ctx.provisioner.ensure(&tenant).await?;
        let secret = if provisioned.ready {
            Some(
                secrets::ensure_kubeconfig(&ctx.client, vc, &tenant.pki.kubeconfig(&provisioned.server, &tenant.name))
                    .await?,
            )
        } else {
            None
        };
        Ok::<_, Error>((provisioned, secret))
    }
    .await;

    match outcome {
        Ok((provisioned, Some(secret))) => {
            let running = Observed {
                phase: Phase::Running,
                ready: true,
                reason: reason::RUNNING,
                message: format!("the API server at {} is ready", provisioned.server),
                cluster_key: Some(key.to_string()),
                kubeconfig_secret: Some(secret),
                in_cluster_endpoint: Some(provisioned.in_cluster),
            };
            write_status(ctx, api, vc, &running).await?;
            let since = ctx.provisioning_since.lock().unwrap_or_else(|e| e.into_inner()).remove(&uid);
            if let Some(since) = since {
                ctx.metrics.provisioned(since.elapsed());
                info!(tenant = %key, took = ?since.elapsed(), "provisioned");
            }
            ctx.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&uid);
            Ok(Action::requeue(RESYNC))
        }
        Ok((provisioned, None)) => {
            let waiting = if was_running {
                Observed::not_ready(
                    Phase::Running,
                    reason::UNAVAILABLE,
                    format!("the API server at {} does not answer /readyz", provisioned.server),
                )
            } else {
                Observed::not_ready(Phase::Provisioning, reason::PROVISIONING, "waiting for the API server to be ready")
            };
            write_status(ctx, api, vc, &waiting.with_key(key)).await?;
            Ok(Action::requeue(NOT_READY_RETRY))
        }
        Err(e) if is_conflict(&e) => Err(e),
        Err(e) => {
            // Reported on the object, and retried with back-off rather than by the error
            // policy, so the condition says what went wrong while it waits.
            let failed = Observed::not_ready(Phase::Failed, reason::PROVISIONING_FAILED, error_chain(&e)).with_key(key);
            write_status(ctx, api, vc, &failed).await?;
            let delay = ctx.backoff(&uid);
            warn!(tenant = %key, error = %error_chain(&e), retry_in = ?delay, "provisioning failed");
            Ok(Action::requeue(delay))
        }
    }
}

/// Tears the control plane down; answers the object as it now is, for the finalizer's removal.
async fn cleanup(
    vc: &VirtualCluster,
    ctx: &Context,
    api: &Api<VirtualCluster>,
    key: &str,
) -> Result<VirtualCluster, Error> {
    let deleting = Observed::not_ready(Phase::Deleting, reason::DELETING, "removing the control plane").with_key(key);
    let vc = write_status(ctx, api, vc, &deleting).await?;
    ctx.provisioner.remove(key).await?;
    let uid = vc.uid().unwrap_or_default();
    ctx.forget(&uid);
    ctx.metrics.set_phase(&uid, None);
    Ok(vc)
}

/// Writes the status `observed` leads to, unless it is what the object already says; records
/// the event the change deserves. Answers the object as it now is.
async fn write_status(
    ctx: &Context,
    api: &Api<VirtualCluster>,
    vc: &VirtualCluster,
    observed: &Observed,
) -> Result<VirtualCluster, Error> {
    let current = vc.status.clone().unwrap_or_default();
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let next = status::next(&current, observed, vc.metadata.generation, &now);
    ctx.metrics.set_phase(&vc.uid().unwrap_or_default(), next.phase);
    if next == current {
        return Ok(vc.clone());
    }
    let patch = status::patch(&next, vc.resource_version().as_deref());
    let written = api
        .patch_status(&vc.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(Error::WriteStatus)?;
    if let Some(announce) = status::transition_event(&current, &next) {
        let type_ = if announce.warning { Type::Warning } else { Type::Normal };
        events::record(&ctx.client, events::ABOUT, vc, type_, announce.reason, &announce.message);
    }
    debug!(phase = ?next.phase, "status written");
    Ok(written)
}

/// An error and its sources in one line, for a condition message.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}
