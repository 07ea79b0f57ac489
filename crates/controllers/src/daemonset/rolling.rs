//! RollingUpdate, as kube's `rollingUpdate` for DaemonSets. Without surge, old pods are deleted
//! while at most `maxUnavailable` nodes lack an available pod, and the per-node loop creates
//! their replacements. With surge, a new pod is created next to at most `maxSurge` available
//! old ones (next to every unavailable old one at once), and the old pod goes when the new one
//! is available. Both counts are scaled against the nodes that should run a pod, rounded up.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::nodes::NodePods;
use super::pods::is_updated;
use crate::deployment::fenceposts::{scaled, InvalidValue};
use crate::pods as podutil;

/// Whether `ds` rolls its pods (RollingUpdate, the default) rather than waiting for deletions.
pub fn is_rolling(ds: &DaemonSet) -> bool {
    strategy_type(ds) == "RollingUpdate"
}

fn strategy_type(ds: &DaemonSet) -> &str {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate")
}

fn rolling_value(ds: &DaemonSet, surge: bool) -> Option<IntOrString> {
    let ru = ds.spec.as_ref()?.update_strategy.as_ref()?.rolling_update.as_ref();
    // The API server defaults maxUnavailable to 1 and maxSurge to 0.
    match (ru, surge) {
        (Some(r), true) => r.max_surge.clone(),
        (Some(r), false) => Some(r.max_unavailable.clone().unwrap_or(IntOrString::Int(1))),
        (None, true) => None,
        (None, false) => Some(IntOrString::Int(1)),
    }
}

/// kube's `SurgeCount`: extra pods allowed out of `desired`, 0 unless RollingUpdate asks.
pub fn surge_count(ds: &DaemonSet, desired: i32) -> Result<i32, InvalidValue> {
    if !is_rolling(ds) {
        return Ok(0);
    }
    rolling_value(ds, true).map_or(Ok(0), |v| scaled(&v, desired, true))
}

/// kube's `UnavailableCount`: nodes allowed without an available pod out of `desired`.
pub fn unavailable_count(ds: &DaemonSet, desired: i32) -> Result<i32, InvalidValue> {
    if !is_rolling(ds) {
        return Ok(0);
    }
    rolling_value(ds, false).map_or(Ok(0), |v| scaled(&v, desired, true))
}

/// Whether a node may hold two pods during an update (kube's `AllowsSurge`).
pub fn allows_surge(ds: &DaemonSet) -> bool {
    surge_count(ds, 1).is_ok_and(|n| n > 0)
}

/// (maxSurge, maxUnavailable) for `desired` nodes; unavailability 1 when both would be 0.
pub fn limits(ds: &DaemonSet, desired: i32) -> Result<(i32, i32), InvalidValue> {
    let surge = surge_count(ds, desired)?;
    let mut unavailable = unavailable_count(ds, desired)?;
    if desired > 0 && surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

/// What a rolling update step does.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    /// Old pods to delete.
    pub delete: Vec<Arc<Pod>>,
    /// Nodes that get a new pod next to their old one (surge only).
    pub create: Vec<String>,
}

/// What kube's `rollingUpdate` needs to know.
pub struct Inputs<'a> {
    /// The DaemonSet's pods by node, with an empty entry for every node that should run one.
    pub by_node: &'a NodePods,
    /// Whether a node should run a pod (for pods on nodes it no longer should).
    pub should_run: &'a dyn Fn(&str) -> bool,
    /// Nodes that should run a pod.
    pub desired: i32,
    pub max_surge: i32,
    pub max_unavailable: i32,
    pub hash: &'a str,
    pub generation: Option<i64>,
    pub min_ready_seconds: i32,
    pub now: DateTime<Utc>,
}

/// A node's pod of the current revision and its pod of an older one, if any.
type NewAndOld<'a> = (Option<&'a Arc<Pod>>, Option<&'a Arc<Pod>>);

/// The one new and one old pod on a node, or `None` when there are more (the per-node loop
/// prunes those first). Pods being deleted do not count.
fn new_and_old<'a>(pods: &'a [Arc<Pod>], hash: &str, generation: Option<i64>) -> Option<NewAndOld<'a>> {
    let (mut new, mut old) = (None, None);
    for pod in pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
        let slot = if is_updated(pod, hash, generation) { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some(pod);
    }
    Some((new, old))
}

/// One step of the rolling update.
pub fn step(i: &Inputs<'_>) -> Step {
    let available = |p: &Pod| podutil::is_available(p, i.min_ready_seconds, i.now);
    let mut out = Step::default();
    if i.max_surge == 0 {
        let mut unavailable = 0;
        let mut replacements: Vec<Arc<Pod>> = Vec::new();
        let mut candidates: Vec<Arc<Pod>> = Vec::new();
        for pods in i.by_node.values() {
            match new_and_old(pods, i.hash, i.generation) {
                // Excess pods: left to the per-node loop, counted as unavailable.
                None => unavailable += 1,
                Some((None, None)) | Some((Some(_), Some(_))) => unavailable += 1,
                Some((Some(new), None)) => {
                    if !available(new) {
                        unavailable += 1;
                    }
                }
                Some((None, Some(old))) => {
                    if !available(old) {
                        replacements.push(Arc::clone(old));
                        unavailable += 1;
                    } else if unavailable < i.max_unavailable {
                        candidates.push(Arc::clone(old));
                    }
                }
            }
        }
        let room = usize::try_from((i.max_unavailable - unavailable).max(0)).unwrap_or(0).min(candidates.len());
        out.delete = replacements;
        out.delete.extend(candidates.into_iter().take(room));
        return out;
    }

    let mut surging = 0;
    let mut available_count = 0;
    let mut allowed: Vec<String> = Vec::new();
    let mut candidates: Vec<String> = Vec::new();
    let mut leaving: Vec<Arc<Pod>> = Vec::new();
    for (node, pods) in i.by_node {
        let Some((new, old)) = new_and_old(pods, i.hash, i.generation) else {
            surging += 1;
            continue;
        };
        if old.or(new).is_some_and(|p| available(p)) {
            available_count += 1;
        }
        match (new, old) {
            (_, None) => {}
            (None, Some(old)) if !available(old) => {
                if (i.should_run)(node) {
                    allowed.push(node.clone());
                } else {
                    out.delete.push(Arc::clone(old));
                }
            }
            (None, Some(old)) => {
                if !(i.should_run)(node) {
                    leaving.push(Arc::clone(old));
                } else if surging < i.max_surge {
                    candidates.push(node.clone());
                }
            }
            (Some(new), Some(old)) => {
                if available(new) {
                    out.delete.push(Arc::clone(old));
                } else {
                    surging += 1;
                }
            }
        }
    }
    // A pod on a node it should leave goes only once enough pods are available elsewhere.
    let deletable = usize::try_from(available_count - i.desired).unwrap_or(0).min(leaving.len());
    out.delete.extend(leaving.into_iter().take(deletable));
    let room = usize::try_from((i.max_surge - surging).max(0)).unwrap_or(0).min(candidates.len());
    out.create = allowed;
    out.create.extend(candidates.into_iter().take(room));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::daemonset::pods::HASH_LABEL;
    use serde_json::json;

    fn pod(name: &str, hash: &str, ready: bool) -> Arc<Pod> {
        let since = (Utc::now() - chrono::Duration::seconds(100)).to_rfc3339();
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "labels": {HASH_LABEL: hash}, "creationTimestamp": since},
                "spec": {"containers": []},
                "status": {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": if ready { "True" } else { "False" }, "lastTransitionTime": since}
                ]},
            }))
            .unwrap(),
        )
    }

    fn ds(strategy: serde_json::Value) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "agent"},
            "spec": {"selector": {}, "template": {}, "updateStrategy": strategy},
        }))
        .unwrap()
    }

    fn names(pods: &[Arc<Pod>]) -> Vec<String> {
        pods.iter().map(|p| p.metadata.name.clone().unwrap()).collect()
    }

    fn inputs<'a>(by_node: &'a NodePods, surge: i32, unavailable: i32, run: &'a dyn Fn(&str) -> bool) -> Inputs<'a> {
        Inputs {
            by_node,
            should_run: run,
            desired: i32::try_from(by_node.len()).unwrap(),
            max_surge: surge,
            max_unavailable: unavailable,
            hash: "new",
            generation: None,
            min_ready_seconds: 0,
            now: Utc::now(),
        }
    }

    #[test]
    fn limits_from_the_strategy() {
        let default = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}));
        assert_eq!(limits(&default, 3).unwrap(), (0, 1));
        assert!(!allows_surge(&default));
        let percent = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "10%"}}));
        assert_eq!(limits(&percent, 3).unwrap(), (1, 0), "percentages round up");
        assert!(allows_surge(&percent));
        let zero = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}));
        assert_eq!(limits(&zero, 3).unwrap(), (0, 1));
        let on_delete = ds(json!({"type": "OnDelete"}));
        assert_eq!(limits(&on_delete, 3).unwrap(), (0, 1));
        assert!(!allows_surge(&on_delete));
        let bad = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "x"}}));
        assert!(limits(&bad, 3).is_err());
    }

    #[test]
    fn without_surge_deletes_up_to_max_unavailable() {
        let by_node: NodePods = [
            ("n0".to_string(), vec![pod("a", "old", true)]),
            ("n1".to_string(), vec![pod("b", "old", true)]),
            ("n2".to_string(), vec![pod("c", "old", true)]),
        ]
        .into();
        let run = |_: &str| true;
        assert_eq!(names(&step(&inputs(&by_node, 0, 1, &run)).delete), ["a"]);
        assert_eq!(names(&step(&inputs(&by_node, 0, 2, &run)).delete), ["a", "b"]);
    }

    #[test]
    fn without_surge_unavailable_nodes_use_the_budget() {
        let by_node: NodePods = [
            ("n0".to_string(), vec![]),
            ("n1".to_string(), vec![pod("b", "new", false)]),
            ("n2".to_string(), vec![pod("c", "old", true)]),
            ("n3".to_string(), vec![pod("d", "old", false)]),
        ]
        .into();
        let run = |_: &str| true;
        // n0 (no pod) and n1 (new, not ready) use two of three; n3's broken old pod is
        // replaced anyway and uses the third: n2 waits.
        assert!(names(&step(&inputs(&by_node, 0, 3, &run)).delete) == ["d"]);
        assert_eq!(names(&step(&inputs(&by_node, 0, 4, &run)).delete), ["d", "c"]);
    }

    #[test]
    fn with_surge_creates_then_deletes() {
        let by_node: NodePods = [
            ("n0".to_string(), vec![pod("a", "old", true)]),
            ("n1".to_string(), vec![pod("b", "old", true)]),
            ("n2".to_string(), vec![pod("c", "old", false)]),
        ]
        .into();
        let run = |_: &str| true;
        let s = step(&inputs(&by_node, 1, 0, &run));
        assert!(s.delete.is_empty());
        assert_eq!(s.create, ["n2", "n0"], "the unavailable node at once, then one within maxSurge");

        let mid: NodePods = [
            ("n0".to_string(), vec![pod("a", "old", true), pod("a2", "new", true)]),
            ("n1".to_string(), vec![pod("b", "old", true), pod("b2", "new", false)]),
            ("n2".to_string(), vec![pod("c", "old", true)]),
        ]
        .into();
        let s = step(&inputs(&mid, 1, 0, &run));
        assert_eq!(names(&s.delete), ["a"]);
        assert!(s.create.is_empty(), "n1 still surges");
    }

    #[test]
    fn with_surge_leaving_nodes_wait_for_availability() {
        let by_node: NodePods =
            [("n0".to_string(), vec![pod("a", "new", true)]), ("n1".to_string(), vec![pod("b", "old", true)])].into();
        let only_n0 = |n: &str| n == "n0";
        let mut i = inputs(&by_node, 1, 0, &only_n0);
        i.desired = 1;
        assert_eq!(names(&step(&i).delete), ["b"], "two available, one desired");
        i.desired = 2;
        assert!(step(&i).delete.is_empty());
    }
}
