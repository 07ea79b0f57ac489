//! The status kube's `updateDaemonSetStatus` writes, which `kubectl get ds` (DESIRED CURRENT
//! READY UP-TO-DATE AVAILABLE) and `kubectl rollout status` read. Per node that should run a
//! pod: desired; scheduled if it has one; of its oldest pod, ready, available
//! (`minReadySeconds`) and updated (current revision). A pod on a node that should not run
//! one is misscheduled.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

use super::nodes::{oldest_first, NodePods};
use super::placement;
use super::pods::is_updated;
use crate::pods as podutil;

/// The counters of a DaemonSet's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub desired: i32,
    pub current: i32,
    pub misscheduled: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub unavailable: i32,
}

/// Counts `by_node` over `nodes`.
pub fn count(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    by_node: &NodePods,
    hash: &str,
    generation: Option<i64>,
    now: DateTime<Utc>,
) -> Counts {
    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let mut c = Counts::default();
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let pods = by_node.get(name).filter(|p| !p.is_empty());
        if !placement::fit(node, ds).should_run {
            if pods.is_some() {
                c.misscheduled += 1;
            }
            continue;
        }
        c.desired += 1;
        let Some(pods) = pods else { continue };
        c.current += 1;
        let Some(pod) = pods.iter().min_by(|a, b| oldest_first(a, b)) else { continue };
        if podutil::is_ready(pod) {
            c.ready += 1;
            if podutil::is_available(pod, min_ready, now) {
                c.available += 1;
            }
        }
        if is_updated(pod, hash, generation) {
            c.updated += 1;
        }
    }
    c.unavailable = c.desired - c.available;
    c
}

/// Go's `omitempty`: kube leaves these counters out of the status when zero.
fn omit_zero(n: i32) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(n)
    }
}

/// The merge patch that brings the status to `counts` (and `observedGeneration` to the
/// generation when `observe`), or `None` when it already reads so.
pub fn patch(ds: &DaemonSet, counts: Counts, observe: bool) -> Option<Value> {
    let s = ds.status.clone().unwrap_or_default();
    let generation = ds.metadata.generation.unwrap_or(0);
    let have = Counts {
        desired: s.desired_number_scheduled,
        current: s.current_number_scheduled,
        misscheduled: s.number_misscheduled,
        ready: s.number_ready,
        updated: s.updated_number_scheduled.unwrap_or(0),
        available: s.number_available.unwrap_or(0),
        unavailable: s.number_unavailable.unwrap_or(0),
    };
    let observed = s.observed_generation.unwrap_or(0) >= generation;
    if have == counts && (observed || !observe) {
        return None;
    }
    let mut status = json!({
        "desiredNumberScheduled": counts.desired,
        "currentNumberScheduled": counts.current,
        "numberMisscheduled": counts.misscheduled,
        "numberReady": counts.ready,
        "updatedNumberScheduled": omit_zero(counts.updated),
        "numberAvailable": omit_zero(counts.available),
        "numberUnavailable": omit_zero(counts.unavailable),
    });
    if observe {
        status["observedGeneration"] = json!(generation);
    }
    Some(json!({ "status": status }))
}

/// Writes the status when it changed.
pub async fn write(client: &kube::Client, ds: &DaemonSet, counts: Counts, observe: bool) -> kube::Result<()> {
    let Some(patch) = patch(ds, counts, observe) else { return Ok(()) };
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let name = ds.metadata.name.as_deref().unwrap_or_default();
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::daemonset::pods::HASH_LABEL;
    use k8s_openapi::api::core::v1::Pod;

    fn node(name: &str, taint: Option<&str>) -> Arc<Node> {
        let taints = taint.map(|effect| json!([{"key": "k", "effect": effect}])).unwrap_or(json!([]));
        Arc::new(serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"taints": taints}})).unwrap())
    }

    fn pod(name: &str, node: &str, hash: &str, ready: bool) -> Arc<Pod> {
        let since = (Utc::now() - chrono::Duration::seconds(30)).to_rfc3339();
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "labels": {HASH_LABEL: hash}, "creationTimestamp": since},
                "spec": {"containers": [], "nodeName": node},
                "status": {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": if ready { "True" } else { "False" }, "lastTransitionTime": since}
                ]},
            }))
            .unwrap(),
        )
    }

    fn ds(min_ready: i32) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "generation": 2},
            "spec": {"selector": {}, "template": {"spec": {"containers": []}}, "minReadySeconds": min_ready},
            "status": {"observedGeneration": 1, "currentNumberScheduled": 0, "desiredNumberScheduled": 0,
                       "numberMisscheduled": 0, "numberReady": 0},
        }))
        .unwrap()
    }

    #[test]
    fn counts_per_node() {
        let nodes = vec![node("n0", None), node("n1", None), node("n2", Some("NoSchedule")), node("n3", None)];
        let by_node: NodePods = [
            ("n0".to_string(), vec![pod("a", "n0", "new", true)]),
            ("n1".to_string(), vec![pod("b", "n1", "old", false)]),
            ("n2".to_string(), vec![pod("c", "n2", "new", true)]),
        ]
        .into();
        let c = count(&ds(0), &nodes, &by_node, "new", None, Utc::now());
        assert_eq!(
            c,
            Counts { desired: 3, current: 2, misscheduled: 1, ready: 1, updated: 1, available: 1, unavailable: 2 }
        );
        let c = count(&ds(60), &nodes, &by_node, "new", None, Utc::now());
        assert_eq!((c.ready, c.available, c.unavailable), (1, 0, 3), "ready for 30 s of 60");
    }

    #[test]
    fn patch_only_when_changed() {
        let d = ds(0);
        let zero = Counts::default();
        assert_eq!(patch(&d, zero, false), None);
        let p = patch(&d, zero, true).unwrap();
        assert_eq!(p["status"]["observedGeneration"], 2);
        assert_eq!(p["status"]["numberAvailable"], Value::Null);
        let some = Counts { desired: 3, available: 2, unavailable: 1, ..zero };
        let p = patch(&d, some, false).unwrap();
        assert_eq!(p["status"]["numberAvailable"], 2);
        assert!(p["status"].get("observedGeneration").is_none());
    }
}
