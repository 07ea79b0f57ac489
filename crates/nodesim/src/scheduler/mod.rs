//! The scheduler stand-in: binds each waiting pod of `default-scheduler` to the least-loaded
//! node it fits (through `pods/binding`, as kube-scheduler does), and marks pods that fit
//! nowhere `PodScheduled=False` with kube-scheduler's reason and message. Waiting pods are
//! tried again whenever a pod or node changes, and every retry interval. As in kube-scheduler,
//! a placed pod counts on its node at once and its binding is written in the background, so
//! the next pods are placed without waiting for the bindings before them.

pub mod affinity;
pub mod cache;
pub mod fit;
pub mod taints;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, info, warn};

use crate::events::Recorder;
use crate::key::PodKey;
use crate::time::now_secs;
use cache::{Cache, Pending, Scheduled};

/// Why a scheduling step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to bind pod {0} to node {1}: {2}")]
    Bind(PodKey, String, #[source] kube::Error),
    #[error("failed to update the PodScheduled condition of pod {0}: {1}")]
    Condition(PodKey, #[source] kube::Error),
}

/// The shared scheduler state: the cache the watches fill and the bell they ring.
#[derive(Clone, Default)]
pub struct Handle {
    cache: Arc<Mutex<Cache>>,
    wake: Arc<Notify>,
}

impl Handle {
    /// The cache, locked.
    pub fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks for a scheduling pass (coalesced: many rings before a pass make one pass).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Bindings written at once (kube-scheduler binds each pod in a goroutine of its own); when
/// all are taken, placing the next pod waits for one to end.
const BINDS_IN_FLIGHT: usize = 64;

/// The scheduler loop.
pub struct Scheduler {
    client: kube::Client,
    handle: Handle,
    retry: Duration,
    events: Recorder,
    binds: Arc<Semaphore>,
}

impl Scheduler {
    /// A scheduler serving pods through `client`, with state in `handle`.
    pub fn new(client: kube::Client, handle: Handle, name: &str, retry: Duration) -> Self {
        let binds = Arc::new(Semaphore::new(BINDS_IN_FLIGHT));
        Scheduler { events: Recorder::new(client.clone(), name), client, handle, retry, binds }
    }

    /// Runs passes until the task is dropped.
    pub async fn run(self) {
        let scheduler = Arc::new(self);
        loop {
            tokio::select! {
                _ = scheduler.handle.wake.notified() => {}
                _ = tokio::time::sleep(scheduler.retry) => {}
            }
            scheduler.pass().await;
        }
    }

    /// Tries every waiting pod once, in queue order. Placement is decided one pod at a time,
    /// each counting the ones before; each binding is written in a task of its own.
    async fn pass(self: &Arc<Self>) {
        let (nodes, mut usage, pending) = {
            let cache = self.handle.cache();
            if !cache.synced() {
                return;
            }
            cache.snapshot()
        };
        for (key, pod) in pending {
            if pod.gated {
                let msg = "Scheduling is blocked due to non-empty scheduling gates".to_string();
                self.mark_unscheduled(&key, &pod, "SchedulingGated", msg).await;
                continue;
            }
            let node = match fit::choose(&pod.view, &nodes, &usage) {
                Ok(node) => node.name.clone(),
                Err(per_node) => {
                    let msg = fit::fit_error_message(nodes.len(), &per_node);
                    self.mark_unscheduled(&key, &pod, "Unschedulable", msg).await;
                    continue;
                }
            };
            usage.entry(node.clone()).or_default().add(&pod.view.requests);
            let Ok(slot) = Arc::clone(&self.binds).acquire_owned().await else { return };
            if !self.handle.cache().assume(&key, &node) {
                continue; // bound elsewhere or deleted while this pass ran
            }
            let scheduler = Arc::clone(self);
            tokio::spawn(async move {
                scheduler.finish_binding(key, pod.uid, node).await;
                drop(slot);
            });
        }
    }

    /// Writes an assumed pod's binding; a pod whose binding fails waits again.
    async fn finish_binding(&self, key: PodKey, uid: String, node: String) {
        match self.bind(&key, &uid, &node).await {
            Ok(()) => {
                info!(pod = %key, %node, "bound");
                let msg = format!("Successfully assigned {key} to {node}");
                self.events.pod(&key, &uid, "Normal", "Scheduled", msg, None);
                return;
            }
            // 409: bound meanwhile or being deleted; 404: gone. The watch will say.
            Err(Error::Bind(_, _, kube::Error::Api(s))) if s.code == 409 || s.code == 404 => {
                debug!(pod = %key, reason = %s.message, "binding refused");
            }
            Err(e) => warn!(error = %e, "binding failed"),
        }
        self.handle.cache().forget(&key);
    }

    async fn bind(&self, key: &PodKey, uid: &str, node: &str) -> Result<(), Error> {
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": key.name, "namespace": key.namespace, "uid": uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        api.create_subresource::<_, serde_json::Value>("binding", &key.name, &PostParams::default(), &binding)
            .await
            .map(|_| ())
            .map_err(|e| Error::Bind(key.clone(), node.to_string(), e))
    }

    /// Writes `PodScheduled=False` with `reason` and `message` unless the pod shows it already,
    /// and records a FailedScheduling event when it changes.
    async fn mark_unscheduled(&self, key: &PodKey, pod: &Pending, reason: &str, message: String) {
        let old = pod.condition.as_ref();
        if old.is_some_and(|c| c.status == "False" && c.reason == reason && c.message == message) {
            return;
        }
        // The transition time moves only when the status does (podutil.UpdatePodCondition).
        let since = old.filter(|c| c.status == "False").and_then(|c| c.since).unwrap_or_else(now_secs);
        let condition = Scheduled { status: "False".into(), reason: reason.into(), message, since: Some(since) };
        match self.write_condition(key, &pod.uid, &condition).await {
            Ok(()) => {
                if reason == "Unschedulable" {
                    info!(pod = %key, message = %condition.message, "unschedulable");
                    self.events.pod(key, &pod.uid, "Warning", "FailedScheduling", condition.message.clone(), None);
                }
                self.handle.cache().set_condition(key, condition);
            }
            Err(Error::Condition(_, kube::Error::Api(s))) if s.code == 404 || s.code == 409 => {
                debug!(pod = %key, reason = %s.message, "condition not written");
            }
            Err(e) => warn!(error = %e, "condition not written"),
        }
    }

    async fn write_condition(&self, key: &PodKey, uid: &str, c: &Scheduled) -> Result<(), Error> {
        // A strategic merge patch merges conditions by type, as kube-scheduler's
        // PatchPodStatus does; the UID makes it a precondition against a recreated pod.
        let patch = json!({
            "metadata": {"uid": uid},
            "status": {"conditions": [{
                "type": "PodScheduled",
                "status": c.status,
                "reason": c.reason,
                "message": c.message,
                "lastProbeTime": null,
                "lastTransitionTime": c.since.map(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time),
            }]},
        });
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        api.patch_status(&key.name, &PatchParams::default(), &Patch::Strategic(&patch))
            .await
            .map(|_| ())
            .map_err(|e| Error::Condition(key.clone(), e))
    }
}
