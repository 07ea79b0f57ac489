//! kube's orphan-pod worker: a pod that still carries the tracking finalizer but that no
//! running Job will count (no controller, its Job gone or finished) loses the finalizer, so
//! that deleting a Job never leaves its pods stuck in Terminating.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use tracing::debug;

use super::conditions;
use super::pods::{has_tracking_finalizer, remove_finalizer, ABOUT};
use crate::informers::Informer;
use crate::pods::controller_of;

/// How often removals that failed are tried again.
const RETRY: Duration = Duration::from_secs(2);

/// Whether no running Job will remove `pod`'s tracking finalizer.
pub fn is_orphan(pod: &Pod, jobs: &Informer<Job>) -> bool {
    let Some(owner) = controller_of(&pod.metadata) else { return true };
    if owner.kind != ABOUT.kind || owner.api_version != ABOUT.api_version {
        // Controlled by something else, which owns the finalizer too.
        return false;
    }
    match jobs.get(pod.metadata.namespace.as_deref(), &owner.name) {
        Some(job) if job.metadata.uid.as_deref() == Some(owner.uid.as_str()) => conditions::finished(&job).is_some(),
        _ => true,
    }
}

/// Runs until `changes` ends: looks at every changed pod (in its latest cached state).
pub async fn run(
    client: kube::Client,
    pods: Arc<Informer<Pod>>,
    jobs: Arc<Informer<Job>>,
    mut changes: UnboundedReceiver<Arc<Pod>>,
) {
    // Pods whose removal failed, by (namespace, name).
    let mut retry: HashSet<(String, String)> = HashSet::new();
    let mut tick = tokio::time::interval(RETRY);
    loop {
        let keys: Vec<(String, String)> = tokio::select! {
            changed = changes.next() => match changed {
                Some(pod) => vec![(pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default())],
                None => return,
            },
            _ = tick.tick() => retry.drain().collect(),
        };
        for (ns, name) in keys {
            let Some(pod) = pods.get(Some(&ns), &name) else { continue };
            if !has_tracking_finalizer(&pod) || !is_orphan(&pod, &jobs) {
                continue;
            }
            if let Err(e) = remove_finalizer(&client, &pod).await {
                debug!(namespace = %ns, pod = %name, error = %e, "tracking finalizer not removed; retrying");
                retry.insert((ns, name));
            }
        }
    }
}
