//! kube's `MarkPodsNotReady`: the pods of a node whose kubelet went silent have no one left to
//! report them, so their Ready condition is set False (Services stop sending them traffic) and
//! a Warning `NodeNotReady` "Node is not ready" event is recorded on each.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use tracing::{debug, info};

use super::time::to_time;
use super::ABOUT_POD;
use crate::events;
use crate::informers::Informer;
use crate::pods as podutil;

/// The cached pods bound to `node` whose Ready condition is True.
pub fn ready_pods_on(pods: &Informer<Pod>, node: &str) -> Vec<std::sync::Arc<Pod>> {
    pods.store
        .state()
        .into_iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node) && podutil::is_ready(p))
        .collect()
}

/// Sets Ready False on every ready pod of `node`. Only the Ready condition's status and
/// transition time change (a strategic merge by condition type keeps its reason and message,
/// as kube's copy of the condition does), with the cached resourceVersion as precondition; a
/// pod changed meanwhile comes back through the watch and is looked at again.
pub async fn mark_not_ready(
    client: &kube::Client,
    pods: &Informer<Pod>,
    node: &str,
    now: DateTime<Utc>,
) -> Result<(), (String, kube::Error)> {
    let mut failure = None;
    for pod in ready_pods_on(pods, node) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        let patch = json!({
            "metadata": {"resourceVersion": pod.metadata.resource_version},
            "status": {"conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": to_time(now)}]},
        });
        match api.patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch)).await {
            Ok(_) => {
                info!(pod = %format!("{ns}/{name}"), node, "marked pod not ready");
                events::record(
                    client,
                    ABOUT_POD,
                    pod.as_ref(),
                    events::Type::Warning,
                    "NodeNotReady",
                    "Node is not ready",
                );
            }
            // Gone, or changed since the cache saw it: the watch brings it back if needed.
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {
                debug!(pod = %format!("{ns}/{name}"), code = s.code, "pod not marked not ready");
            }
            Err(e) => {
                failure.get_or_insert((format!("{ns}/{name}"), e));
            }
        }
    }
    failure.map_or(Ok(()), Err)
}
