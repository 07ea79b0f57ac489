//! What one sync of a StatefulSet does, decided from the cache alone (kube's
//! `updateStatefulSet`, v1.32, with the MaxUnavailableStatefulSet gate off):
//!
//! 1. every ordinal in range: a failed or succeeded pod is deleted (it is made again once gone),
//!    a missing pod is created, a pending pod gets its missing claims, a pod whose identity
//!    label or claim owners are off is fixed;
//! 2. the claims of condemned pods (ordinals out of range) get the owners the retention policy
//!    asks for, so the garbage collector can act once the pod is gone;
//! 3. condemned pods are deleted, highest ordinal first;
//! 4. RollingUpdate: the highest ordinal at or above the partition that is not at the update
//!    revision is deleted (it comes back at the update revision), once every higher one is
//!    available again.
//!
//! OrderedReady (monotonic) stops at the first step that must wait: creating, deleting, or a
//! pod that is not Running, Ready and available (`minReadySeconds`) blocks everything after it.
//! Parallel does every step of a phase at once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;

use super::identity;
use crate::pods;

/// What of the set's spec and status the plan depends on.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub start: i32,
    pub replicas: i32,
    /// OrderedReady: one step at a time, in order.
    pub monotonic: bool,
    pub min_ready_seconds: i32,
    pub on_delete: bool,
    /// `updateStrategy.rollingUpdate.partition`, when `rollingUpdate` is there.
    pub partition: Option<i32>,
    /// `status.currentReplicas`: which new pods are made at the current revision when there is
    /// no `rollingUpdate` (kube's `newVersionedStatefulSetPod`).
    pub status_current_replicas: i32,
}

/// Which revision a new pod is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    Current,
    Update,
}

/// The claims of each ordinal, as the cache shows them.
pub trait ClaimFacts {
    /// A claim still refers to an earlier pod of that name (only with `whenScaled: Delete`): the
    /// garbage collector is about to delete it, so the pod must wait.
    fn stale(&self, ordinal: i32) -> bool;
    /// Some claim of the ordinal does not exist.
    fn missing(&self, ordinal: i32) -> bool;
    /// The claims' owner references match the retention policy for `pod`.
    fn owners_match(&self, pod: &Pod, ordinal: i32, scaled_down: bool) -> bool;
}

/// One write.
#[derive(Debug, Clone)]
pub enum Step {
    /// Create the pod with `ordinal` (its claims first).
    Create { ordinal: i32, revision: Revision },
    /// Create the missing claims of a pending pod.
    CreateClaims { pod: Arc<Pod>, ordinal: i32 },
    /// Fix a pod's identity labels and its claims' owners (kube's `UpdateStatefulPod`).
    Fix { pod: Arc<Pod>, ordinal: i32, identity: bool, claims: bool },
    /// Give a condemned pod's claims the owners the policy asks for.
    FixCondemnedClaims { pod: Arc<Pod>, ordinal: i32 },
    /// Delete a failed or succeeded pod, to make it again.
    DeleteFinished(Arc<Pod>),
    /// Delete a pod whose ordinal is out of range.
    ScaleDown(Arc<Pod>),
    /// Delete a pod not at the update revision.
    Update(Arc<Pod>),
}

impl Step {
    /// A short description, for logs and tests.
    pub fn describe(&self) -> String {
        let name = |p: &Pod| p.metadata.name.clone().unwrap_or_default();
        match self {
            Step::Create { ordinal, revision } => format!("create {ordinal} at {revision:?}"),
            Step::CreateClaims { pod, .. } => format!("claims of {}", name(pod)),
            Step::Fix { pod, identity, claims, .. } => format!("fix {} identity={identity} claims={claims}", name(pod)),
            Step::FixCondemnedClaims { pod, .. } => format!("fix claims of condemned {}", name(pod)),
            Step::DeleteFinished(pod) => format!("delete finished {}", name(pod)),
            Step::ScaleDown(pod) => format!("scale down {}", name(pod)),
            Step::Update(pod) => format!("update {}", name(pod)),
        }
    }
}

/// Steps run one after the other.
pub type Unit = Vec<Step>;

/// The writes of a sync: phases in order; within a phase, units in order (OrderedReady) or
/// at once (Parallel).
#[derive(Debug, Default)]
pub struct Plan {
    pub phases: Vec<Vec<Unit>>,
    /// Why the plan stops where it does, if it stops early.
    pub waiting: Option<String>,
}

impl Plan {
    /// Every step, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.phases.iter().flatten().flatten()
    }
}

/// kube's `isRunningAndReady`.
pub fn running_and_ready(pod: &Pod) -> bool {
    pods::phase(pod) == "Running" && pods::is_ready(pod)
}

fn terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// kube's `isUnavailable`: not available for `minReadySeconds`, or terminating.
fn unavailable(pod: &Pod, min_ready: i32, now: DateTime<Utc>) -> bool {
    !pods::is_available(pod, min_ready, now) || terminating(pod)
}

fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

/// The revision a pod made now for `ordinal` gets.
pub fn revision_for(spec: &Spec, ordinal: i32) -> Revision {
    let below = |n: i32| ordinal < spec.start.saturating_add(n);
    let current = match spec.partition {
        Some(partition) => below(partition),
        None => !spec.on_delete && below(spec.status_current_replicas),
    };
    if current {
        Revision::Current
    } else {
        Revision::Update
    }
}

/// The plan for a set whose pods (members by name, with their ordinals) are `pods`.
pub fn plan(
    spec: &Spec,
    update_revision: &str,
    current_revision: &str,
    pods: &[(i32, Arc<Pod>)],
    claims: &impl ClaimFacts,
    now: DateTime<Utc>,
) -> Plan {
    let count = usize::try_from(spec.replicas).unwrap_or(0);
    let mut slots: Vec<Option<Arc<Pod>>> = vec![None; count];
    let mut condemned: Vec<(i32, Arc<Pod>)> = Vec::new();
    for (ordinal, pod) in pods {
        match usize::try_from(ordinal - spec.start).ok().filter(|i| *i < count) {
            Some(i) => slots[i] = Some(Arc::clone(pod)),
            None => condemned.push((*ordinal, Arc::clone(pod))),
        }
    }
    condemned.sort_by_key(|(ordinal, _)| std::cmp::Reverse(*ordinal));
    let min_ready = spec.min_ready_seconds;
    let ordinal_at = |i: usize| spec.start.saturating_add(i32::try_from(i).unwrap_or(i32::MAX));
    // The first pod that is not available: the only one OrderedReady may delete while unhealthy.
    let first_unavailable: Option<i32> = slots
        .iter()
        .enumerate()
        .find(|(_, s)| s.as_ref().is_none_or(|p| unavailable(p, min_ready, now)))
        .map(|(i, _)| ordinal_at(i))
        .or_else(|| condemned.iter().rev().find(|(_, p)| unavailable(p, min_ready, now)).map(|(o, _)| *o));

    let mut out = Plan::default();
    let monotonic = spec.monotonic;

    // 1. The ordinals in range.
    let mut units = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let ordinal = ordinal_at(i);
        let mut unit = Vec::new();
        let blocked = replica_steps(spec, ordinal, slot.as_ref(), claims, now, &mut unit);
        if !unit.is_empty() {
            units.push(unit);
        }
        if monotonic {
            if let Some(why) = blocked {
                out.phases.push(units);
                out.waiting = Some(why);
                return out;
            }
        }
    }
    out.phases.push(units);

    // 2. The claims of condemned pods.
    out.phases.push(
        condemned
            .iter()
            .filter(|(ordinal, pod)| !claims.owners_match(pod, *ordinal, true))
            .map(|(ordinal, pod)| vec![Step::FixCondemnedClaims { pod: Arc::clone(pod), ordinal: *ordinal }])
            .collect(),
    );

    // 3. Condemned pods, highest ordinal first.
    let mut units = Vec::new();
    for (ordinal, pod) in &condemned {
        if terminating(pod) {
            if monotonic {
                out.phases.push(units);
                out.waiting = Some(format!("waiting for {} to terminate before scaling down", name(pod)));
                return out;
            }
            continue;
        }
        let is_first_unavailable = first_unavailable == Some(*ordinal);
        let healthy = running_and_ready(pod) && pods::is_available(pod, min_ready, now);
        if monotonic && !is_first_unavailable && !healthy {
            out.phases.push(units);
            out.waiting = Some(format!(
                "waiting for ordinal {} to be Running, Ready and available before scaling down",
                first_unavailable.unwrap_or(*ordinal)
            ));
            return out;
        }
        units.push(vec![Step::ScaleDown(Arc::clone(pod))]);
        if monotonic {
            out.phases.push(units);
            out.waiting = Some(format!("scaling down {}", name(pod)));
            return out;
        }
    }
    out.phases.push(units);

    // 4. The rolling update: OnDelete leaves old pods until someone deletes them.
    if spec.on_delete {
        return out;
    }
    let update_min = usize::try_from(spec.partition.unwrap_or(0)).unwrap_or(0);
    for target in (update_min..count).rev() {
        let ordinal = ordinal_at(target);
        let (revision, is_terminating, is_unavailable) = match &slots[target] {
            Some(pod) => (identity::revision_of(pod), terminating(pod), unavailable(pod, min_ready, now)),
            // Made in this sync (Parallel): at the revision it was made from, not yet available.
            None => match revision_for(spec, ordinal) {
                Revision::Current => (current_revision, false, true),
                Revision::Update => (update_revision, false, true),
            },
        };
        if revision != update_revision && !is_terminating {
            if let Some(pod) = &slots[target] {
                out.phases.push(vec![vec![Step::Update(Arc::clone(pod))]]);
                out.waiting = Some(format!("updating {}", name(pod)));
            }
            return out;
        }
        if is_unavailable {
            out.waiting = Some(format!("waiting for ordinal {ordinal} to be available after its update"));
            return out;
        }
    }
    out
}

/// The steps for the ordinal in range `ordinal` (kube's `processReplica`); answers why an
/// OrderedReady set must stop here, if it must.
fn replica_steps(
    spec: &Spec,
    ordinal: i32,
    slot: Option<&Arc<Pod>>,
    claims: &impl ClaimFacts,
    now: DateTime<Utc>,
    unit: &mut Unit,
) -> Option<String> {
    let Some(pod) = slot else {
        if claims.stale(ordinal) {
            return Some(format!("waiting for the stale claims of ordinal {ordinal} to be deleted"));
        }
        unit.push(Step::Create { ordinal, revision: revision_for(spec, ordinal) });
        return Some(format!("created ordinal {ordinal}"));
    };
    if pods::is_terminal(pod) {
        // Made again on a later sync, once the API server no longer has it.
        if !terminating(pod) {
            unit.push(Step::DeleteFinished(Arc::clone(pod)));
        }
        return Some(format!("recreating {}", name(pod)));
    }
    if pods::phase(pod) == "Pending" && claims.missing(ordinal) {
        unit.push(Step::CreateClaims { pod: Arc::clone(pod), ordinal });
    }
    if spec.monotonic {
        if terminating(pod) {
            return Some(format!("waiting for {} to terminate", name(pod)));
        }
        if !running_and_ready(pod) {
            return Some(format!("waiting for {} to be Running and Ready", name(pod)));
        }
        if !pods::is_available(pod, spec.min_ready_seconds, now) {
            return Some(format!("waiting for {} to be available", name(pod)));
        }
    }
    let identity = !identity::identity_matches(pod);
    let claims = !claims.owners_match(pod, ordinal, false);
    if identity || claims {
        unit.push(Step::Fix { pod: Arc::clone(pod), ordinal, identity, claims });
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::history::POD_REVISION_LABEL;
    use serde_json::json;

    #[derive(Default)]
    struct Claims {
        stale: Vec<i32>,
        missing: Vec<i32>,
        off: Vec<i32>,
    }

    impl ClaimFacts for Claims {
        fn stale(&self, ordinal: i32) -> bool {
            self.stale.contains(&ordinal)
        }
        fn missing(&self, ordinal: i32) -> bool {
            self.missing.contains(&ordinal)
        }
        fn owners_match(&self, _: &Pod, ordinal: i32, _: bool) -> bool {
            !self.off.contains(&ordinal)
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-01-01T00:10:00Z").unwrap().with_timezone(&Utc)
    }

    /// A pod `web-<ordinal>` at `revision` in `phase`, ready since `ready_secs_ago` if given.
    fn pod(ordinal: i32, revision: &str, phase: &str, ready_secs_ago: Option<i64>) -> (i32, Arc<Pod>) {
        let (status, since) = match ready_secs_ago {
            Some(s) => ("True", (now() - chrono::Duration::seconds(s)).to_rfc3339()),
            None => ("False", now().to_rfc3339()),
        };
        let name = format!("web-{ordinal}");
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "uid": format!("uid-{ordinal}"), "labels": {
                POD_REVISION_LABEL: revision, identity::POD_NAME_LABEL: name}},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": status, "lastTransitionTime": since}]}
        }))
        .unwrap();
        (ordinal, Arc::new(p))
    }

    fn ready(ordinal: i32, revision: &str) -> (i32, Arc<Pod>) {
        pod(ordinal, revision, "Running", Some(60))
    }

    fn terminating((o, p): (i32, Arc<Pod>)) -> (i32, Arc<Pod>) {
        let mut p = (*p).clone();
        p.metadata.deletion_timestamp = Some(pods::to_time(now()));
        (o, Arc::new(p))
    }

    fn ordered(replicas: i32) -> Spec {
        Spec { replicas, monotonic: true, partition: Some(0), ..Spec::default() }
    }

    fn steps(spec: &Spec, pods: &[(i32, Arc<Pod>)], claims: &Claims) -> Vec<String> {
        plan(spec, "new", "old", pods, claims, now()).steps().map(Step::describe).collect()
    }

    #[test]
    fn ordered_ready_creates_one_at_a_time_after_the_previous_is_ready() {
        let c = Claims::default();
        assert_eq!(steps(&ordered(3), &[], &c), ["create 0 at Update"]);
        // web-0 exists but is not ready: nothing else happens.
        let pending = pod(0, "new", "Pending", None);
        assert!(steps(&ordered(3), std::slice::from_ref(&pending), &c).is_empty());
        let running_unready = pod(0, "new", "Running", None);
        let p = plan(&ordered(3), "new", "old", &[running_unready], &c, now());
        assert!(p.waiting.unwrap().contains("Running and Ready"));
        assert_eq!(steps(&ordered(3), &[ready(0, "new")], &c), ["create 1 at Update"]);
        // Ready, but not for minReadySeconds yet.
        let spec = Spec { min_ready_seconds: 120, ..ordered(3) };
        assert!(steps(&spec, &[ready(0, "new")], &c).is_empty());
        // A pending pod gets its missing claims, and still blocks.
        let c = Claims { missing: vec![0], ..Claims::default() };
        assert_eq!(steps(&ordered(3), &[pending], &c), ["claims of web-0"]);
    }

    #[test]
    fn parallel_creates_everything_at_once() {
        let spec = Spec { monotonic: false, ..ordered(3) };
        let p = plan(&spec, "new", "old", &[pod(1, "new", "Pending", None)], &Claims::default(), now());
        let got: Vec<String> = p.steps().map(Step::describe).collect();
        assert_eq!(got, ["create 0 at Update", "create 2 at Update"]);
        assert_eq!(p.phases[0].len(), 2, "one unit per pod, run at once");
    }

    #[test]
    fn scale_down_goes_from_the_highest_ordinal_one_at_a_time() {
        let c = Claims::default();
        let pods = [ready(0, "new"), ready(1, "new"), ready(2, "new")];
        assert_eq!(steps(&ordered(1), &pods, &c), ["scale down web-2"]);
        // web-2 terminating: wait for it before touching web-1.
        let pods = [ready(0, "new"), ready(1, "new"), terminating(ready(2, "new"))];
        assert!(steps(&ordered(1), &pods, &c).is_empty());
        // An unhealthy replica in range blocks scale-down.
        let pods = [pod(0, "new", "Running", None), ready(1, "new")];
        assert!(steps(&ordered(1), &pods, &c).is_empty());
        // The first unhealthy pod may go though: it is the one being scaled away.
        let pods = [ready(0, "new"), pod(1, "new", "Running", None)];
        assert_eq!(steps(&ordered(1), &pods, &c), ["scale down web-1"]);
        // Parallel deletes all condemned pods at once.
        let spec = Spec { monotonic: false, ..ordered(1) };
        let pods = [ready(0, "new"), ready(1, "new"), ready(2, "new")];
        assert_eq!(steps(&spec, &pods, &c), ["scale down web-2", "scale down web-1"]);
        // Claims of condemned pods are fixed before any deletion.
        let c = Claims { off: vec![2], ..Claims::default() };
        assert_eq!(steps(&ordered(2), &pods, &c), ["fix claims of condemned web-2", "scale down web-2"]);
    }

    #[test]
    fn rolling_update_goes_from_the_highest_ordinal_and_waits() {
        let c = Claims::default();
        let old = [ready(0, "old"), ready(1, "old"), ready(2, "old")];
        assert_eq!(steps(&ordered(3), &old, &c), ["update web-2"]);
        // web-2 back at the new revision but not ready yet: wait (web-2 blocks OrderedReady
        // already; Parallel waits in the update phase).
        let mid = [ready(0, "old"), ready(1, "old"), pod(2, "new", "Running", None)];
        assert!(steps(&ordered(3), &mid, &c).is_empty());
        assert!(steps(&Spec { monotonic: false, ..ordered(3) }, &mid, &c).is_empty());
        let next = [ready(0, "old"), ready(1, "old"), ready(2, "new")];
        assert_eq!(steps(&ordered(3), &next, &c), ["update web-1"]);
        // The partition keeps lower ordinals at the current revision.
        let spec = Spec { partition: Some(2), ..ordered(3) };
        assert!(steps(&spec, &next, &c).is_empty());
        assert_eq!(revision_for(&spec, 1), Revision::Current);
        assert_eq!(revision_for(&spec, 2), Revision::Update);
        // OnDelete never deletes for an update.
        let spec = Spec { on_delete: true, partition: None, ..ordered(3) };
        assert!(steps(&spec, &old, &c).is_empty());
        assert_eq!(revision_for(&spec, 0), Revision::Update);
    }

    #[test]
    fn finished_pods_are_deleted_and_stale_claims_wait() {
        let c = Claims::default();
        let pods = [pod(0, "new", "Failed", None), ready(1, "new")];
        assert_eq!(steps(&ordered(2), &pods, &c), ["delete finished web-0"]);
        let pods = [terminating(pod(0, "new", "Succeeded", None))];
        assert!(steps(&ordered(2), &pods, &c).is_empty());
        let c = Claims { stale: vec![0], ..Claims::default() };
        assert!(steps(&ordered(2), &[], &c).is_empty());
    }

    #[test]
    fn identity_and_claim_owners_are_fixed_on_healthy_pods() {
        let mut unlabeled = ready(0, "new");
        Arc::make_mut(&mut unlabeled.1).metadata.labels.as_mut().unwrap().remove(identity::POD_NAME_LABEL);
        let c = Claims { off: vec![1], ..Claims::default() };
        assert_eq!(
            steps(&ordered(2), &[unlabeled, ready(1, "new")], &c),
            ["fix web-0 identity=true claims=false", "fix web-1 identity=false claims=true"]
        );
    }

    #[test]
    fn ordinals_start_where_the_spec_says() {
        let spec = Spec { start: 5, ..ordered(2) };
        assert_eq!(steps(&spec, &[], &Claims::default()), ["create 5 at Update"]);
        // web-0 is out of range now: condemned once web-5 and web-6 are up.
        let pods = [ready(0, "new"), ready(5, "new"), ready(6, "new")];
        assert_eq!(steps(&spec, &pods, &Claims::default()), ["scale down web-0"]);
    }
}
