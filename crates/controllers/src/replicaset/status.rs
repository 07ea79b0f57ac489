//! The status a ReplicaSet controller writes: counts of its active pods, the ReplicaFailure
//! condition while creating or deleting pods fails, and observedGeneration.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

use super::Flavor;
use crate::pods;
use crate::selector;

/// The counts kube's `calculateStatus` derives from a ReplicaSet's active pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub replicas: i32,
    pub fully_labeled: i32,
    pub ready: i32,
    pub available: i32,
}

/// Counts `active` pods: all of them, those carrying every template label, the ready ones, and
/// those ready for `minReadySeconds`.
pub fn count(rs: &ReplicaSet, active: &[Arc<Pod>], now: DateTime<Utc>) -> Counts {
    let spec = rs.spec.as_ref();
    let template_labels = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let mut c = Counts { replicas: len(active.len()), ..Counts::default() };
    for pod in active {
        if selector::matches_map(&template_labels, pod.metadata.labels.as_ref()) {
            c.fully_labeled += 1;
        }
        if pods::is_ready(pod) {
            c.ready += 1;
            if pods::is_available(pod, min_ready, now) {
                c.available += 1;
            }
        }
    }
    c
}

fn len(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Go's `omitempty`: kube leaves zero counts out of the status.
fn omit_zero(n: i32) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(n)
    }
}

/// Writes the status when it changed. `failure` is the reason and message of a failed create
/// or delete in this sync, if any.
pub async fn write(
    client: &kube::Client,
    flavor: Flavor,
    rs: &ReplicaSet,
    counts: Counts,
    failure: Option<(&str, String)>,
    now: DateTime<Utc>,
) -> kube::Result<()> {
    let current = rs.status.clone().unwrap_or_default();
    let generation = rs.metadata.generation.unwrap_or(0);
    let mut conditions: Vec<Value> =
        current.conditions.iter().flatten().filter_map(|c| serde_json::to_value(c).ok()).collect();
    let has_failure = current.conditions.iter().flatten().any(|c| c.type_ == "ReplicaFailure");
    match failure {
        // kube keeps the first failure's condition until a sync succeeds.
        Some((reason, message)) if !has_failure => conditions.push(json!({
            "type": "ReplicaFailure",
            "status": "True",
            "reason": reason,
            "message": message,
            "lastTransitionTime": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })),
        None if has_failure => conditions.retain(|c| c["type"] != "ReplicaFailure"),
        _ => {}
    }
    let unchanged = current.replicas == counts.replicas
        && current.fully_labeled_replicas.unwrap_or(0) == counts.fully_labeled
        && current.ready_replicas.unwrap_or(0) == counts.ready
        && current.available_replicas.unwrap_or(0) == counts.available
        && current.observed_generation.unwrap_or(0) == generation
        && conditions.len() == current.conditions.as_ref().map_or(0, Vec::len);
    if unchanged {
        return Ok(());
    }
    let patch = json!({
        "status": {
            "replicas": counts.replicas,
            "fullyLabeledReplicas": omit_zero(counts.fully_labeled),
            "readyReplicas": omit_zero(counts.ready),
            "availableReplicas": omit_zero(counts.available),
            "observedGeneration": generation,
            "conditions": if conditions.is_empty() { Value::Null } else { Value::Array(conditions) },
        }
    });
    let ns = rs.metadata.namespace.as_deref().unwrap_or_default();
    let name = rs.metadata.name.as_deref().unwrap_or_default();
    if flavor.about.kind == "ReplicationController" {
        let api: Api<ReplicationController> = Api::namespaced(client.clone(), ns);
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    } else {
        let api: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    }
    Ok(())
}
