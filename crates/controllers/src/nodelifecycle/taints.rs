//! The taints the node lifecycle controller owns, and which taints a pod tolerates.
//!
//! kube's node lifecycle controller maps node conditions to taints (its
//! `nodeConditionToTaintKeyStatusMap`): a `NoSchedule` taint for each condition in a bad state,
//! `node.kubernetes.io/unschedulable` while `spec.unschedulable` is set, and a `NoExecute` taint
//! for a Ready condition that is `False` (`not-ready`) or `Unknown` (`unreachable`), the two
//! kept mutually exclusive. Other taints on a node (an admin's, a cloud provider's) are left
//! alone.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, NodeCondition, Taint};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

use super::time::to_time;

/// The node's Ready condition is `False`: its kubelet says it cannot run pods.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The node's Ready condition is `Unknown`: its kubelet stopped posting.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `spec.unschedulable` is set (`kubectl cordon`).
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

pub const NO_SCHEDULE: &str = "NoSchedule";
pub const NO_EXECUTE: &str = "NoExecute";

/// (condition type, status, taint key): which condition state earns which `NoSchedule` taint.
const CONDITION_TAINTS: [(&str, &str, &str); 6] = [
    ("Ready", "False", NOT_READY),
    ("Ready", "Unknown", UNREACHABLE),
    ("MemoryPressure", "True", "node.kubernetes.io/memory-pressure"),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    ("NetworkUnavailable", "True", "node.kubernetes.io/network-unavailable"),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
];

/// Whether the node lifecycle controller adds and removes this taint.
fn owned(key: &str, effect: &str) -> bool {
    match effect {
        NO_SCHEDULE => key == UNSCHEDULABLE || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == key),
        NO_EXECUTE => key == NOT_READY || key == UNREACHABLE,
        _ => false,
    }
}

/// The (key, effect) pairs of the owned taints a node with these conditions should carry.
pub fn desired(conditions: &[NodeCondition], unschedulable: bool) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for c in conditions {
        if let Some((_, _, key)) = CONDITION_TAINTS.iter().find(|(t, s, _)| *t == c.type_ && *s == c.status) {
            out.push((key, NO_SCHEDULE));
        }
    }
    if unschedulable {
        out.push((UNSCHEDULABLE, NO_SCHEDULE));
    }
    match conditions.iter().find(|c| c.type_ == "Ready").map(|c| c.status.as_str()) {
        Some("False") => out.push((NOT_READY, NO_EXECUTE)),
        Some("Unknown") => out.push((UNREACHABLE, NO_EXECUTE)),
        _ => {}
    }
    out
}

/// The node's taints with the owned ones brought in line with `desired`: owned taints no
/// longer wanted are dropped, missing ones appended with `timeAdded` now (as kube's
/// `SwapNodeControllerTaint` does), everything else kept as it is. `None` when nothing changes.
pub fn reconcile(current: &[Taint], desired: &[(&str, &str)], now: DateTime<Utc>) -> Option<Vec<Taint>> {
    // Taints are told apart by key and effect, as kube's `MatchTaint`.
    let wanted = |t: &Taint| desired.iter().any(|(k, e)| t.key == *k && t.effect == *e);
    let mut out: Vec<Taint> = current.iter().filter(|t| !owned(&t.key, &t.effect) || wanted(t)).cloned().collect();
    let removed = out.len() != current.len();
    let mut added = false;
    for (key, effect) in desired {
        if !out.iter().any(|t| t.key == *key && t.effect == *effect) {
            out.push(Taint {
                key: key.to_string(),
                effect: effect.to_string(),
                time_added: Some(to_time(now)),
                value: None,
            });
            added = true;
        }
    }
    (removed || added).then_some(out)
}

/// Writes the node's taints (the list is replaced whole) with the cached resourceVersion, so
/// a taint someone else set meanwhile is never lost. Answers the node as stored.
pub async fn write(api: &Api<Node>, node: &Node, taints: &[Taint]) -> Result<Node, kube::Error> {
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let taints = if taints.is_empty() { Value::Null } else { json!(taints) };
    let patch = json!({
        "metadata": {"resourceVersion": node.metadata.resource_version},
        "spec": {"taints": taints},
    });
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await
}

/// The node's `NoExecute` taints: those the taint eviction acts on.
pub fn no_execute(taints: &[Taint]) -> Vec<&Taint> {
    taints.iter().filter(|t| t.effect == NO_EXECUTE).collect()
}

pub use nestor_api::scheduling::tolerates;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use k8s_openapi::api::core::v1::Toleration;

    fn cond(type_: &str, status: &str) -> NodeCondition {
        NodeCondition { type_: type_.into(), status: status.into(), ..Default::default() }
    }

    fn taint(key: &str, effect: &str) -> Taint {
        Taint { key: key.into(), effect: effect.into(), ..Default::default() }
    }

    fn keys(taints: &[Taint]) -> Vec<(String, String)> {
        taints.iter().map(|t| (t.key.clone(), t.effect.clone())).collect()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn conditions_map_to_taints() {
        let healthy = [cond("Ready", "True"), cond("MemoryPressure", "False"), cond("DiskPressure", "False")];
        assert!(desired(&healthy, false).is_empty());
        assert_eq!(
            desired(&[cond("Ready", "Unknown")], false),
            [(UNREACHABLE, NO_SCHEDULE), (UNREACHABLE, NO_EXECUTE)]
        );
        assert_eq!(desired(&[cond("Ready", "False")], false), [(NOT_READY, NO_SCHEDULE), (NOT_READY, NO_EXECUTE)]);
        assert_eq!(
            desired(&[cond("Ready", "True"), cond("DiskPressure", "True")], true),
            [("node.kubernetes.io/disk-pressure", NO_SCHEDULE), (UNSCHEDULABLE, NO_SCHEDULE)]
        );
        // A node that never posted a Ready condition gets no NoExecute taint.
        assert!(desired(&[], false).is_empty());
    }

    #[test]
    fn reconcile_adds_with_time_and_keeps_foreign_taints() {
        let current = [taint("dedicated", NO_SCHEDULE), taint(UNREACHABLE, NO_EXECUTE)];
        let out = reconcile(&current, &desired(&[cond("Ready", "False")], false), now()).unwrap();
        assert_eq!(
            keys(&out),
            [
                ("dedicated".into(), NO_SCHEDULE.into()),
                (NOT_READY.into(), NO_SCHEDULE.into()),
                (NOT_READY.into(), NO_EXECUTE.into())
            ]
        );
        assert!(out[1].time_added.is_some());
        assert!(out[0].time_added.is_none(), "foreign taints are left as they are");
    }

    #[test]
    fn reconcile_keeps_existing_taints_and_their_time() {
        let mut existing = taint(UNREACHABLE, NO_EXECUTE);
        existing.time_added = Some(to_time(now() - chrono::Duration::minutes(3)));
        let current = [taint(UNREACHABLE, NO_SCHEDULE), existing.clone()];
        assert_eq!(reconcile(&current, &desired(&[cond("Ready", "Unknown")], false), now()), None);
    }

    #[test]
    fn ready_again_drops_owned_taints_only() {
        let current = [
            taint(UNREACHABLE, NO_SCHEDULE),
            taint(UNREACHABLE, NO_EXECUTE),
            taint(UNSCHEDULABLE, NO_SCHEDULE),
            // A NoExecute taint with a condition key an admin added by hand is not ours.
            taint("node.kubernetes.io/memory-pressure", NO_EXECUTE),
        ];
        let out = reconcile(&current, &desired(&[cond("Ready", "True")], false), now()).unwrap();
        assert_eq!(keys(&out), [("node.kubernetes.io/memory-pressure".into(), NO_EXECUTE.into())]);
    }

    #[test]
    fn cordon_adds_the_unschedulable_taint() {
        let out = reconcile(&[], &desired(&[cond("Ready", "True")], true), now()).unwrap();
        assert_eq!(keys(&out), [(UNSCHEDULABLE.into(), NO_SCHEDULE.into())]);
        assert_eq!(reconcile(&out, &desired(&[cond("Ready", "True")], true), now()), None);
    }

    #[test]
    fn tolerations_match_as_kube_does() {
        let t = Taint { key: UNREACHABLE.into(), effect: NO_EXECUTE.into(), value: None, time_added: None };
        let exists = |key: Option<&str>, effect: Option<&str>| Toleration {
            key: key.map(Into::into),
            effect: effect.map(Into::into),
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(tolerates(&exists(Some(UNREACHABLE), Some(NO_EXECUTE)), &t));
        assert!(tolerates(&exists(None, None), &t), "an empty key with Exists tolerates everything");
        assert!(!tolerates(&exists(Some(NOT_READY), Some(NO_EXECUTE)), &t));
        assert!(!tolerates(&exists(Some(UNREACHABLE), Some(NO_SCHEDULE)), &t));
        let equal = Toleration { key: Some(UNREACHABLE.into()), value: Some("x".into()), ..Default::default() };
        assert!(!tolerates(&equal, &t), "Equal compares values");
        let equal_empty = Toleration { key: Some(UNREACHABLE.into()), ..Default::default() };
        assert!(tolerates(&equal_empty, &t));
    }
}
