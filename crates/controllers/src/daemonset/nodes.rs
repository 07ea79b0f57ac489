//! What each node needs from a DaemonSet, as kube's `podsShouldBeOnNode` decides: a pod where
//! one should run and none does; none where none may stay; failed and succeeded pods deleted
//! (failed ones under a back-off) so they are replaced; at most one running pod per node, or
//! during a surge one old and one new until the new one is available.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod};

use super::placement::Fit;
use super::pods::HASH_LABEL;
use crate::pods as podutil;

/// A DaemonSet's pods by the node they are meant for.
pub type NodePods = BTreeMap<String, Vec<Arc<Pod>>>;

/// Why a pod is deleted; failed and succeeded pods get kube's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The node may no longer run it.
    NotEligible,
    /// The phase is Failed.
    Failed,
    /// The phase is Succeeded.
    Succeeded,
    /// Another pod of the DaemonSet runs on the node.
    Excess,
}

/// What one node needs.
#[derive(Debug, Default)]
pub struct Plan {
    /// A pod should be created.
    pub create: bool,
    /// Pods to delete.
    pub delete: Vec<(Arc<Pod>, Why)>,
    /// A failed pod waits for its back-off: look again after this long.
    pub retry_after: Option<Duration>,
}

/// kube's `podByCreationTimestampAndPhase`: bound pods first, then the oldest, then by name.
pub fn oldest_first(a: &Pod, b: &Pod) -> Ordering {
    let bound = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty());
    bound(b)
        .cmp(&bound(a))
        .then_with(|| podutil::created(&a.metadata).cmp(&podutil::created(&b.metadata)))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// The plan for one node. `pods` are the DaemonSet's pods meant for it (`None`: none at all);
/// `surge` is whether the update strategy allows a second pod; `backoff` is asked once per
/// failed pod and answers how long it must still wait, recording the attempt when it may go.
pub fn plan(
    fit: Fit,
    pods: Option<&[Arc<Pod>]>,
    surge: bool,
    hash: &str,
    min_ready_seconds: i32,
    now: DateTime<Utc>,
    mut backoff: impl FnMut() -> Option<Duration>,
) -> Plan {
    let mut plan = Plan::default();
    match pods {
        None if fit.should_run => plan.create = true,
        Some(pods) if fit.should_continue_running => {
            let mut running: Vec<Arc<Pod>> = Vec::new();
            for pod in pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
                match podutil::phase(pod) {
                    "Failed" => match backoff() {
                        Some(wait) => {
                            plan.retry_after = Some(plan.retry_after.map_or(wait, |w| w.min(wait)));
                        }
                        None => plan.delete.push((Arc::clone(pod), Why::Failed)),
                    },
                    "Succeeded" => plan.delete.push((Arc::clone(pod), Why::Succeeded)),
                    _ => running.push(Arc::clone(pod)),
                }
            }
            running.sort_by(|a, b| oldest_first(a, b));
            if !surge {
                // Keep the oldest, delete the rest.
                plan.delete.extend(running.iter().skip(1).map(|p| (Arc::clone(p), Why::Excess)));
                return plan;
            }
            if running.len() <= 1 {
                // Surging: a node whose pods are all going needs a new one now.
                plan.create = running.is_empty() && fit.should_run;
                return plan;
            }
            // Keep the oldest new pod and the oldest old pod; the old one goes once the new one
            // is available, or at once if it is not ready itself.
            let is_new =
                |p: &Pod| p.metadata.labels.as_ref().and_then(|l| l.get(HASH_LABEL)).is_some_and(|h| h == hash);
            let (mut oldest_new, mut oldest_old): (Option<&Arc<Pod>>, Option<&Arc<Pod>>) = (None, None);
            for pod in &running {
                let slot = if is_new(pod) { &mut oldest_new } else { &mut oldest_old };
                if slot.is_none() {
                    *slot = Some(pod);
                } else {
                    plan.delete.push((Arc::clone(pod), Why::Excess));
                }
            }
            if let (Some(new), Some(old)) = (oldest_new, oldest_old) {
                if !podutil::is_ready(old) || podutil::is_available(new, min_ready_seconds, now) {
                    plan.delete.push((Arc::clone(old), Why::Excess));
                }
            }
        }
        Some(pods) if !fit.should_continue_running => {
            plan.delete.extend(
                pods.iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .map(|p| (Arc::clone(p), Why::NotEligible)),
            );
        }
        _ => {}
    }
    plan
}

/// Pods never bound whose node no longer exists: nothing else would ever delete them (kube's
/// `getUnscheduledPodsWithoutNode`).
pub fn unbound_without_node(nodes: &[Arc<Node>], by_node: &NodePods) -> Vec<Arc<Pod>> {
    let existing: HashSet<&str> = nodes.iter().filter_map(|n| n.metadata.name.as_deref()).collect();
    by_node
        .iter()
        .filter(|(node, _)| !existing.contains(node.as_str()))
        .flat_map(|(_, pods)| pods.iter())
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_none_or(str::is_empty))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const RUN: Fit = Fit { should_run: true, should_continue_running: true };
    const STAY: Fit = Fit { should_run: false, should_continue_running: true };
    const NONE: Fit = Fit { should_run: false, should_continue_running: false };

    fn pod(name: &str, hash: &str, phase: &str, ready: bool, age_secs: i64) -> Arc<Pod> {
        let now = Utc::now();
        let created = (now - chrono::Duration::seconds(age_secs)).to_rfc3339();
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "uid": format!("uid-{name}"), "creationTimestamp": created,
                             "labels": {HASH_LABEL: hash}},
                "spec": {"containers": [], "nodeName": "n0"},
                "status": {"phase": phase, "conditions": [
                    {"type": "Ready", "status": if ready { "True" } else { "False" }, "lastTransitionTime": created}
                ]},
            }))
            .unwrap(),
        )
    }

    fn names(plan: &Plan) -> Vec<(String, Why)> {
        plan.delete.iter().map(|(p, w)| (p.metadata.name.clone().unwrap(), *w)).collect()
    }

    fn no_backoff() -> Option<Duration> {
        None
    }

    #[test]
    fn creates_where_missing_only_when_it_should_run() {
        assert!(plan(RUN, None, false, "h", 0, Utc::now(), no_backoff).create);
        assert!(!plan(STAY, None, false, "h", 0, Utc::now(), no_backoff).create);
        assert!(!plan(RUN, Some(&[pod("a", "h", "Running", true, 10)]), false, "h", 0, Utc::now(), no_backoff).create);
    }

    #[test]
    fn no_schedule_keeps_no_execute_evicts() {
        let pods = [pod("a", "h", "Running", true, 10)];
        assert!(plan(STAY, Some(&pods), false, "h", 0, Utc::now(), no_backoff).delete.is_empty());
        assert_eq!(
            names(&plan(NONE, Some(&pods), false, "h", 0, Utc::now(), no_backoff)),
            [("a".into(), Why::NotEligible)]
        );
    }

    #[test]
    fn excess_pods_go_keeping_the_oldest() {
        let pods = [pod("young", "h", "Running", true, 10), pod("old", "h", "Running", true, 100)];
        assert_eq!(
            names(&plan(RUN, Some(&pods), false, "h", 0, Utc::now(), no_backoff)),
            [("young".into(), Why::Excess)]
        );
    }

    #[test]
    fn terminal_pods_are_replaced_failed_ones_after_backoff() {
        let failed = [pod("f", "h", "Failed", false, 10)];
        let p = plan(RUN, Some(&failed), false, "h", 0, Utc::now(), no_backoff);
        assert_eq!(names(&p), [("f".into(), Why::Failed)]);
        assert!(!p.create, "the replacement comes once the failed pod is gone");
        let p = plan(RUN, Some(&failed), false, "h", 0, Utc::now(), || Some(Duration::from_secs(4)));
        assert!(p.delete.is_empty());
        assert_eq!(p.retry_after, Some(Duration::from_secs(4)));
        let done = [pod("s", "h", "Succeeded", false, 10)];
        assert_eq!(
            names(&plan(RUN, Some(&done), false, "h", 0, Utc::now(), no_backoff)),
            [("s".into(), Why::Succeeded)]
        );
    }

    #[test]
    fn surge_keeps_old_until_new_is_available() {
        let now = Utc::now();
        let waiting = [pod("old", "h1", "Running", true, 100), pod("new", "h2", "Running", false, 1)];
        assert!(plan(RUN, Some(&waiting), true, "h2", 0, now, no_backoff).delete.is_empty());
        let ready = [pod("old", "h1", "Running", true, 100), pod("new", "h2", "Running", true, 1)];
        assert_eq!(names(&plan(RUN, Some(&ready), true, "h2", 0, now, no_backoff)), [("old".into(), Why::Excess)]);
        assert!(plan(RUN, Some(&ready), true, "h2", 60, now, no_backoff).delete.is_empty(), "not yet available");
        let old_broken = [pod("old", "h1", "Running", false, 100), pod("new", "h2", "Running", false, 1)];
        assert_eq!(names(&plan(RUN, Some(&old_broken), true, "h2", 0, now, no_backoff)), [("old".into(), Why::Excess)]);
        let mut deleting = (*pod("gone", "h1", "Running", true, 100)).clone();
        deleting.metadata.deletion_timestamp = deleting.metadata.creation_timestamp.clone();
        assert!(plan(RUN, Some(&[Arc::new(deleting)]), true, "h2", 0, now, no_backoff).create);
    }

    #[test]
    fn ordering_bound_then_oldest_then_name() {
        let a = pod("a", "h", "Running", true, 10);
        let b = pod("b", "h", "Running", true, 100);
        assert_eq!(oldest_first(&a, &b), Ordering::Greater);
        let mut unbound = (*b).clone();
        if let Some(s) = unbound.spec.as_mut() {
            s.node_name = None;
        }
        assert_eq!(oldest_first(&a, &unbound), Ordering::Less);
    }
}
