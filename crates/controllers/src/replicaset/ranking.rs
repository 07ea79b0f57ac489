//! Which pods go first when a ReplicaSet scales down: kube's `ActivePodsWithRanks` order, with
//! the LogarithmicScaleDown comparison of ages (on by default since Kubernetes 1.22).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;

use crate::pods;

/// kube's pod-deletion-cost annotation: lower cost goes first.
const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The `count` pods of `candidates` to delete first. `related` are the active pods of the same
/// owner family (a Deployment's ReplicaSets): a pod whose node holds more of them goes first,
/// which spreads what remains.
pub fn pods_to_delete(
    candidates: &[Arc<Pod>],
    related: &[Arc<Pod>],
    count: usize,
    now: DateTime<Utc>,
) -> Vec<Arc<Pod>> {
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for pod in related.iter().filter(|p| pods::is_active(p)) {
        *on_node.entry(node(pod)).or_default() += 1;
    }
    let mut ranked: Vec<(usize, &Arc<Pod>)> =
        candidates.iter().map(|p| (on_node.get(node(p)).copied().unwrap_or(0), p)).collect();
    if count < ranked.len() {
        ranked.sort_by(|a, b| compare(a.1, a.0, b.1, b.0, now));
    }
    ranked.into_iter().take(count).map(|(_, p)| Arc::clone(p)).collect()
}

fn node(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or("")
}

fn phase_rank(pod: &Pod) -> u8 {
    match pods::phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata.annotations.as_ref().and_then(|a| a.get(DELETION_COST)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `Less` when `a` should be deleted before `b`.
pub fn compare(a: &Pod, a_rank: usize, b: &Pod, b_rank: usize, now: DateTime<Utc>) -> Ordering {
    // 1. Unassigned before assigned.
    let (a_node, b_node) = (node(a).is_empty(), node(b).is_empty());
    if a_node != b_node {
        return if a_node { Ordering::Less } else { Ordering::Greater };
    }
    // 2. Pending before Unknown before Running.
    let (pa, pb) = (phase_rank(a), phase_rank(b));
    if pa != pb {
        return pa.cmp(&pb);
    }
    // 3. Not ready before ready.
    let (ra, rb) = (pods::is_ready(a), pods::is_ready(b));
    if ra != rb {
        return if ra { Ordering::Greater } else { Ordering::Less };
    }
    // 4. Lower pod-deletion-cost first.
    let (ca, cb) = (deletion_cost(a), deletion_cost(b));
    if ca != cb {
        return ca.cmp(&cb);
    }
    // 5. More pods of the family on the same node first.
    if a_rank != b_rank {
        return b_rank.cmp(&a_rank);
    }
    // 6. Ready for less time first, in logarithmic buckets of age.
    if ra && rb {
        let (ta, tb) = (pods::ready_since(a), pods::ready_since(b));
        if ta != tb {
            if let Some(order) = by_age(ta, tb, a, b, now) {
                return order;
            }
        }
    }
    // 7. More container restarts first.
    let (xa, xb) = (pods::max_restarts(a), pods::max_restarts(b));
    if xa != xb {
        return xb.cmp(&xa);
    }
    // 8. Newer first, in logarithmic buckets of age.
    let (ta, tb) = (pods::created(&a.metadata), pods::created(&b.metadata));
    if ta != tb {
        if let Some(order) = by_age(ta, tb, a, b, now) {
            return order;
        }
    }
    Ordering::Equal
}

/// Younger first; a missing time counts as youngest. Within the same power-of-two bucket of
/// age the UIDs decide, so that the choice is random-like rather than always the newest.
fn by_age(
    ta: Option<DateTime<Utc>>,
    tb: Option<DateTime<Utc>>,
    a: &Pod,
    b: &Pod,
    now: DateTime<Utc>,
) -> Option<Ordering> {
    match (ta, tb) {
        (None, None) => None,
        (None, Some(_)) => Some(Ordering::Less),
        (Some(_), None) => Some(Ordering::Greater),
        (Some(ta), Some(tb)) => {
            let diff = log_bucket(now, ta) - log_bucket(now, tb);
            if diff == 0 {
                Some(a.metadata.uid.cmp(&b.metadata.uid))
            } else {
                Some(diff.cmp(&0))
            }
        }
    }
}

/// ⌊log2(age in nanoseconds)⌋, or -1 for an age not above zero.
pub fn log_bucket(now: DateTime<Utc>, t: DateTime<Utc>) -> i64 {
    let nanos = (now - t).num_nanoseconds().unwrap_or(i64::MAX);
    if nanos <= 0 {
        return -1;
    }
    i64::from(63 - nanos.leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, node: &str, phase: &str, ready: bool, age_secs: i64, now: DateTime<Utc>) -> Arc<Pod> {
        let created = now - chrono::Duration::seconds(age_secs);
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(format!("uid-{name}")),
                creation_timestamp: Some(pods::to_time(created)),
                ..Default::default()
            },
            spec: Some(PodSpec { node_name: (!node.is_empty()).then(|| node.to_string()), ..Default::default() }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    last_transition_time: Some(pods::to_time(created)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    fn names(pods: &[Arc<Pod>]) -> Vec<String> {
        pods.iter().map(|p| p.metadata.name.clone().unwrap_or_default()).collect()
    }

    #[test]
    fn unscheduled_pending_unready_first() {
        let now = Utc::now();
        let all = vec![
            pod("running", "n1", "Running", true, 100, now),
            pod("unready", "n1", "Running", false, 100, now),
            pod("pending", "n1", "Pending", false, 100, now),
            pod("unscheduled", "", "Pending", false, 100, now),
        ];
        assert_eq!(names(&pods_to_delete(&all, &all, 3, now)), ["unscheduled", "pending", "unready"]);
    }

    #[test]
    fn doubled_up_nodes_then_younger() {
        let now = Utc::now();
        let all = vec![
            pod("alone", "n1", "Running", true, 10, now),
            pod("crowded-old", "n2", "Running", true, 10_000, now),
            pod("crowded-new", "n2", "Running", true, 5_000, now),
        ];
        let chosen = names(&pods_to_delete(&all, &all, 2, now));
        assert_eq!(chosen.len(), 2);
        assert!(!chosen.contains(&"alone".to_string()));
        // Ages 10 s and 10000 s are in different buckets: the younger goes first.
        let spread = vec![pod("young", "n1", "Running", true, 10, now), pod("old", "n2", "Running", true, 10_000, now)];
        assert_eq!(names(&pods_to_delete(&spread, &spread, 1, now)), ["young"]);
    }

    #[test]
    fn buckets() {
        let now = Utc::now();
        assert_eq!(log_bucket(now, now), -1);
        assert_eq!(log_bucket(now, now - chrono::Duration::nanoseconds(1)), 0);
        assert_eq!(log_bucket(now, now - chrono::Duration::nanoseconds(1024)), 10);
        assert_eq!(log_bucket(now, now - chrono::Duration::nanoseconds(1023)), 9);
    }
}
