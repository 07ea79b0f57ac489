//! What differs per kind in the generic create/update/delete flow: kube-apiserver's
//! `RESTCreateStrategy`/`RESTUpdateStrategy`/`RESTDeleteStrategy` facts, gathered in one place.

use serde_json::Value;

use crate::registry::resources::ResourceDef;

/// How dependents are handled when an owner is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

impl Propagation {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Orphan" => Some(Propagation::Orphan),
            "Background" => Some(Propagation::Background),
            "Foreground" => Some(Propagation::Foreground),
            _ => None,
        }
    }
}

/// Whether `metadata.generation` is kept (1 on create, bumped on spec changes).
pub fn tracks_generation(def: &ResourceDef) -> bool {
    def.crd.is_some() || super::defaults::tracks_generation(&def.group, &def.resource)
}

/// Whether the status subresource exists, so that the main resource may not change status
/// and the status subresource may change nothing else.
pub fn has_status(def: &ResourceDef) -> bool {
    def.has_subresource("status")
}

/// Whether an update of a missing object creates it (kube allows it for a few kinds).
pub fn allow_create_on_update(def: &ResourceDef) -> bool {
    matches!(
        (def.group.as_str(), def.resource.as_str()),
        ("", "endpoints")
            | ("", "events")
            | ("coordination.k8s.io", "leases")
            | ("discovery.k8s.io", "endpointslices")
            | ("events.k8s.io", "events")
    )
}

/// The propagation used when a delete names none: batch/v1 Jobs and
/// ReplicationControllers-era kinds orphan by default, everything else is background.
pub fn default_propagation(def: &ResourceDef) -> Propagation {
    if def.group == "batch" && def.resource == "jobs" {
        Propagation::Orphan
    } else {
        Propagation::Background
    }
}

/// Whether a delete answers the deleted object (true) or a Success Status with details.
pub fn returns_deleted_object(def: &ResourceDef) -> bool {
    matches!((def.group.as_str(), def.resource.as_str()), ("", "pods") | ("", "services") | ("", "namespaces"))
}

/// The grace period of a pod deletion: pods on a node terminate gracefully (kubelet confirms
/// with a second delete); unscheduled or finished pods go at once.
pub fn pod_grace_period(pod: &Value, requested: Option<i64>) -> i64 {
    let scheduled = pod.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    if !scheduled || phase == "Succeeded" || phase == "Failed" {
        return 0;
    }
    requested
        .or_else(|| pod.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64))
        .unwrap_or(30)
        .max(0)
}
