//! A Deployment's status as kube's deployment controller computes it: replica counts summed
//! over its ReplicaSets, the Available condition, and the Progressing condition that
//! `kubectl rollout status` reads (with the progress deadline).

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use serde_json::{json, Value};

use super::fenceposts;
use crate::pods::{to_chrono, to_time};

pub const AVAILABLE: &str = "Available";
pub const PROGRESSING: &str = "Progressing";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

// The reasons kube writes, which kubectl and dashboards match on.
pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const REPLICA_SET_UPDATED: &str = "ReplicaSetUpdated";
pub const NEW_REPLICA_SET: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const PAUSED: &str = "DeploymentPaused";
pub const RESUMED: &str = "DeploymentResumed";

/// A condition stamped `now` (both times).
pub fn condition(type_: &str, status: &str, reason: &str, message: String, now: DateTime<Utc>) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(to_time(now)),
        last_transition_time: Some(to_time(now)),
    }
}

/// The condition of `type_`, if any.
pub fn get<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// kube's `SetDeploymentCondition`: same status and reason changes nothing; same status keeps
/// the transition time; the condition moves to the end of the list.
pub fn set(status: &mut DeploymentStatus, mut c: DeploymentCondition) {
    if let Some(current) = get(status, &c.type_) {
        if current.status == c.status && current.reason == c.reason {
            return;
        }
        if current.status == c.status {
            c.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove(status, &c.type_);
    status.conditions.get_or_insert_with(Vec::new).push(c);
}

/// Removes the condition of `type_`.
pub fn remove(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != type_);
        if conditions.is_empty() {
            status.conditions = None;
        }
    }
}

fn sum(sets: &[&ReplicaSet], f: impl Fn(&ReplicaSet) -> i32) -> i32 {
    sets.iter().map(|rs| f(rs)).sum()
}

/// `spec.replicas` of a ReplicaSet.
pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `status.replicas` of a ReplicaSet.
pub fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

/// `status.availableReplicas` of a ReplicaSet.
pub fn available(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

fn ready(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)
}

/// kube's `calculateStatus`.
pub fn calculate(
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
    d: &Deployment,
    now: DateTime<Utc>,
) -> DeploymentStatus {
    let available_replicas = sum(all, available);
    let unavailable = (sum(all, spec_replicas) - available_replicas).max(0);
    let current = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(sum(all, status_replicas)),
        updated_replicas: Some(new.map_or(0, status_replicas)),
        ready_replicas: Some(sum(all, ready)),
        available_replicas: Some(available_replicas),
        unavailable_replicas: Some(unavailable),
        collision_count: current.collision_count,
        conditions: current.conditions.clone(),
        terminating_replicas: None,
    };
    if available_replicas >= fenceposts::replicas(d) - fenceposts::max_unavailable(d) {
        let c = condition(
            AVAILABLE,
            "True",
            MINIMUM_REPLICAS_AVAILABLE,
            "Deployment has minimum availability.".into(),
            now,
        );
        set(&mut status, c);
    } else {
        let c = condition(
            AVAILABLE,
            "False",
            MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.".into(),
            now,
        );
        set(&mut status, c);
    }
    normalize(status)
}

/// Zero counts as absent, as Go's `omitempty` writes them, so comparisons with the stored
/// status see no difference where there is none.
pub fn normalize(mut s: DeploymentStatus) -> DeploymentStatus {
    for field in [
        &mut s.replicas,
        &mut s.updated_replicas,
        &mut s.ready_replicas,
        &mut s.available_replicas,
        &mut s.unavailable_replicas,
    ] {
        if *field == Some(0) {
            *field = None;
        }
    }
    if s.observed_generation == Some(0) {
        s.observed_generation = None;
    }
    s
}

/// Whether `progressDeadlineSeconds` is set (and not MaxInt32, kube's "never").
pub fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).is_some_and(|s| s != i32::MAX)
}

/// Every replica updated and available, and the latest generation observed.
pub fn complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let want = fenceposts::replicas(d);
    s.updated_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == want
        && s.available_replicas.unwrap_or(0) == want
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// Whether anything moved since the stored status.
pub fn progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let g = |v: Option<i32>| v.unwrap_or(0);
    let old_old = g(old.replicas) - g(old.updated_replicas);
    let new_old = g(new.replicas) - g(new.updated_replicas);
    g(new.updated_replicas) > g(old.updated_replicas)
        || new_old < old_old
        || g(new.ready_replicas) > g(old.ready_replicas)
        || g(new.available_replicas) > g(old.available_replicas)
}

/// Whether the progress deadline passed since the Progressing condition last moved.
pub fn timed_out(d: &Deployment, new: &DeploymentStatus, now: DateTime<Utc>) -> bool {
    let Some(deadline) = d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).filter(|_| has_progress_deadline(d))
    else {
        return false;
    };
    let Some(c) = get(new, PROGRESSING) else { return false };
    match c.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => c
            .last_update_time
            .as_ref()
            .is_some_and(|t| to_chrono(t) + chrono::Duration::seconds(i64::from(deadline)) < now),
    }
}

/// kube's `syncRolloutStatus` without the write: the status with Progressing and
/// ReplicaFailure brought up to date.
pub fn rollout(all: &[&ReplicaSet], new: Option<&ReplicaSet>, d: &Deployment, now: DateTime<Utc>) -> DeploymentStatus {
    let mut status = calculate(all, new, d, now);
    if !has_progress_deadline(d) {
        remove(&mut status, PROGRESSING);
    }
    let stored = d.status.clone().unwrap_or_default();
    let current = get(&stored, PROGRESSING).cloned();
    let is_complete = status.replicas == status.updated_replicas
        && current.as_ref().is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE));
    let d_name = d.metadata.name.clone().unwrap_or_default();
    let subject = |what: &str| match new {
        Some(rs) => format!("ReplicaSet {:?} {what}", rs.metadata.name.clone().unwrap_or_default()),
        None => format!("Deployment {d_name:?} {what}"),
    };
    if has_progress_deadline(d) && !is_complete {
        if complete(d, &status) {
            set(
                &mut status,
                condition(PROGRESSING, "True", NEW_RS_AVAILABLE, subject("has successfully progressed."), now),
            );
        } else if progressing(d, &status) {
            let mut c = condition(PROGRESSING, "True", REPLICA_SET_UPDATED, subject("is progressing."), now);
            // Progress refreshes lastUpdateTime even with the same reason; the transition
            // time stays while the status stays True.
            if let Some(current) = &current {
                if current.status == "True" {
                    c.last_transition_time = current.last_transition_time.clone();
                }
                remove(&mut status, PROGRESSING);
            }
            set(&mut status, c);
        } else if timed_out(d, &status, now) {
            set(&mut status, condition(PROGRESSING, "False", TIMED_OUT, subject("has timed out progressing."), now));
        }
    }
    match replica_failure(all, new, now) {
        Some(c) => set(&mut status, c),
        None => remove(&mut status, REPLICA_FAILURE),
    }
    status
}

/// The first ReplicaFailure of the ReplicaSets (the new one first), as a Deployment condition.
fn replica_failure(all: &[&ReplicaSet], new: Option<&ReplicaSet>, now: DateTime<Utc>) -> Option<DeploymentCondition> {
    let ordered = new.into_iter().chain(all.iter().copied());
    for rs in ordered {
        let found = rs
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == REPLICA_FAILURE && c.status == "True"));
        if let Some(c) = found {
            let mut out = condition(
                REPLICA_FAILURE,
                "True",
                c.reason.as_deref().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
                now,
            );
            out.last_transition_time = c.last_transition_time.clone().or(out.last_transition_time);
            return Some(out);
        }
    }
    None
}

/// When to look again for the progress deadline, if a rollout is under way.
pub fn requeue_after(d: &Deployment, s: &DeploymentStatus, now: DateTime<Utc>) -> Option<std::time::Duration> {
    let deadline = d.spec.as_ref().and_then(|sp| sp.progress_deadline_seconds).filter(|_| has_progress_deadline(d))?;
    let c = get(s, PROGRESSING)?;
    if complete(d, s) || matches!(c.reason.as_deref(), Some(TIMED_OUT) | Some(NEW_RS_AVAILABLE)) {
        return None;
    }
    let since = to_chrono(c.last_update_time.as_ref()?);
    let after = since + chrono::Duration::seconds(i64::from(deadline)) - now;
    Some(after.to_std().unwrap_or_default().max(std::time::Duration::from_secs(1)))
}

/// The status as a merge patch: every field present, zero counts removed as kube omits them.
pub fn patch(s: &DeploymentStatus) -> Value {
    let n = |v: Option<i32>| match v {
        Some(0) | None => Value::Null,
        Some(v) => json!(v),
    };
    json!({
        "status": {
            "observedGeneration": s.observed_generation,
            "replicas": n(s.replicas),
            "updatedReplicas": n(s.updated_replicas),
            "readyReplicas": n(s.ready_replicas),
            "availableReplicas": n(s.available_replicas),
            "unavailableReplicas": n(s.unavailable_replicas),
            "collisionCount": s.collision_count,
            "conditions": s.conditions,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DeploymentSpec;

    #[test]
    fn set_keeps_transition_time() {
        let t0 = Utc::now() - chrono::Duration::seconds(60);
        let mut s = DeploymentStatus::default();
        set(&mut s, condition(PROGRESSING, "True", REPLICA_SET_UPDATED, "a".into(), t0));
        set(&mut s, condition(PROGRESSING, "True", NEW_RS_AVAILABLE, "b".into(), Utc::now()));
        let c = get(&s, PROGRESSING).cloned().unwrap_or_else(|| condition("", "", "", String::new(), t0));
        assert_eq!(c.reason.as_deref(), Some(NEW_RS_AVAILABLE));
        assert_eq!(c.last_transition_time, Some(to_time(t0)));
        // Same status and reason: nothing changes, not even the message.
        set(&mut s, condition(PROGRESSING, "True", NEW_RS_AVAILABLE, "c".into(), Utc::now()));
        assert_eq!(get(&s, PROGRESSING).and_then(|c| c.message.as_deref()), Some("b"));
    }

    #[test]
    fn deadline_passes() {
        let now = Utc::now();
        let d = Deployment {
            spec: Some(DeploymentSpec { progress_deadline_seconds: Some(10), ..Default::default() }),
            ..Default::default()
        };
        let mut s = DeploymentStatus::default();
        set(
            &mut s,
            condition(PROGRESSING, "True", REPLICA_SET_UPDATED, "x".into(), now - chrono::Duration::seconds(11)),
        );
        assert!(timed_out(&d, &s, now));
        assert!(!timed_out(&d, &s, now - chrono::Duration::seconds(5)));
    }
}
