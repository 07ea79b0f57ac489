//! The status the manager writes: its phase, where the tenant is reached, and the `Ready`
//! condition, merged by type with what others write (the syncer owns `CustomResourcesSynced`).
//! Pure: the reconciler compares the result with the current status and writes only a change.

use nestor_api::types::{Condition, Endpoint};
use nestor_api::{Phase, VirtualClusterStatus};
use serde_json::json;

/// The condition type the manager owns.
pub const READY: &str = "Ready";

/// Reasons of the `Ready` condition, in kube's CamelCase.
pub mod reason {
    /// Seen, not yet worked on.
    pub const PENDING: &str = "Pending";
    /// The control plane is being made, or its API server is not ready yet.
    pub const PROVISIONING: &str = "Provisioning";
    /// The API server answers `/readyz`.
    pub const RUNNING: &str = "Running";
    /// A running control plane whose API server stopped answering `/readyz`.
    pub const UNAVAILABLE: &str = "Unavailable";
    /// The spec cannot be provisioned; fixed by changing it.
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// Provisioning failed; tried again with back-off.
    pub const PROVISIONING_FAILED: &str = "ProvisioningFailed";
    /// The finalizer is tearing the control plane down.
    pub const DELETING: &str = "Deleting";
}

/// What the manager has found out about a tenant in one reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub phase: Phase,
    /// Whether `Ready` is True.
    pub ready: bool,
    pub reason: &'static str,
    pub message: String,
    /// Set once known; a `None` leaves the current value.
    pub cluster_key: Option<String>,
    pub kubeconfig_secret: Option<String>,
    pub in_cluster_endpoint: Option<Endpoint>,
}

impl Observed {
    /// An observation of `phase` with `Ready` False for `reason`.
    pub fn not_ready(phase: Phase, reason: &'static str, message: impl Into<String>) -> Observed {
        Observed {
            phase,
            ready: false,
            reason,
            message: message.into(),
            cluster_key: None,
            kubeconfig_secret: None,
            in_cluster_endpoint: None,
        }
    }

    pub fn with_key(mut self, key: &str) -> Observed {
        self.cluster_key = Some(key.to_string());
        self
    }
}

/// The status after `observed`, from `current`: the manager's fields replaced, conditions of
/// other types kept, `observedGeneration` the object's generation. `now` is RFC 3339.
pub fn next(
    current: &VirtualClusterStatus,
    observed: &Observed,
    generation: Option<i64>,
    now: &str,
) -> VirtualClusterStatus {
    let mut next = current.clone();
    next.phase = Some(observed.phase);
    if observed.cluster_key.is_some() {
        next.cluster_key.clone_from(&observed.cluster_key);
    }
    if observed.kubeconfig_secret.is_some() {
        next.kubeconfig_secret.clone_from(&observed.kubeconfig_secret);
    }
    if observed.in_cluster_endpoint.is_some() {
        next.in_cluster_endpoint.clone_from(&observed.in_cluster_endpoint);
    }
    next.observed_generation = generation;
    let ready = Condition {
        type_: READY.to_string(),
        status: if observed.ready { "True" } else { "False" }.to_string(),
        reason: observed.reason.to_string(),
        message: observed.message.clone(),
        last_transition_time: None,
        observed_generation: generation,
    };
    next.conditions = set_condition(&current.conditions, ready, now);
    next
}

/// `conditions` with `new` in place of the condition of its type, as apimachinery's
/// `SetStatusCondition`: the transition time moves only when the status changes.
pub fn set_condition(conditions: &[Condition], mut new: Condition, now: &str) -> Vec<Condition> {
    let mut out = conditions.to_vec();
    match out.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            new.last_transition_time = if existing.status == new.status && existing.last_transition_time.is_some() {
                existing.last_transition_time.clone()
            } else {
                Some(now.to_string())
            };
            *existing = new;
        }
        None => {
            new.last_transition_time = Some(now.to_string());
            out.push(new);
        }
    }
    out
}

/// The merge patch of the status subresource that writes `status`. With `resource_version`,
/// the write fails (409) if someone else wrote in between, so a condition another component
/// just set is never overwritten with the list read before it.
pub fn patch(status: &VirtualClusterStatus, resource_version: Option<&str>) -> serde_json::Value {
    let mut patch = json!({ "status": status });
    if let Some(rv) = resource_version {
        patch["metadata"] = json!({ "resourceVersion": rv });
    }
    patch
}

/// An event worth recording about a status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

/// The event a status change deserves: entering `Running` (`Provisioned`), an API server
/// lost (`Unavailable`) or back (`Available`), or `Failed` for a new reason or message.
pub fn transition_event(before: &VirtualClusterStatus, after: &VirtualClusterStatus) -> Option<Announcement> {
    let ready = |s: &VirtualClusterStatus| s.conditions.iter().find(|c| c.type_ == READY).cloned();
    let (old, new) = (ready(before), ready(after)?);
    let same = before.phase == after.phase
        && old.as_ref().is_some_and(|c| c.status == new.status && c.reason == new.reason && c.message == new.message);
    if same {
        return None;
    }
    let announce =
        |warning: bool, reason: &'static str| Some(Announcement { warning, reason, message: new.message.clone() });
    let was_running = before.phase == Some(Phase::Running);
    match (after.phase, new.reason.as_str()) {
        (Some(Phase::Running), reason::RUNNING) if !was_running => announce(false, "Provisioned"),
        (Some(Phase::Running), reason::RUNNING) if old.as_ref().is_some_and(|c| c.status != "True") => {
            announce(false, "Available")
        }
        (Some(Phase::Running), reason::UNAVAILABLE) if old.as_ref().is_some_and(|c| c.status == "True") => {
            announce(true, "Unavailable")
        }
        (Some(Phase::Failed), reason::INVALID_SPEC) => announce(true, reason::INVALID_SPEC),
        (Some(Phase::Failed), reason::PROVISIONING_FAILED) => announce(true, reason::PROVISIONING_FAILED),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use nestor_api::types::CONDITION_CRD_SYNCED;

    fn condition(type_: &str, status: &str, reason: &str, at: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: String::new(),
            last_transition_time: Some(at.into()),
            observed_generation: None,
        }
    }

    #[test]
    fn conditions_merge_by_type_and_keep_transition_times() {
        let current = vec![
            condition(READY, "False", reason::PROVISIONING, "t0"),
            condition(CONDITION_CRD_SYNCED, "False", "Conflict", "t0"),
        ];
        // Same status, new reason: the transition time stays.
        let out = set_condition(&current, condition(READY, "False", reason::PROVISIONING_FAILED, "x"), "t1");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].reason, reason::PROVISIONING_FAILED);
        assert_eq!(out[0].last_transition_time.as_deref(), Some("t0"));
        // New status: it moves. The syncer's condition is untouched either way.
        let out = set_condition(&out, condition(READY, "True", reason::RUNNING, "x"), "t2");
        assert_eq!(out[0].last_transition_time.as_deref(), Some("t2"));
        assert_eq!(out[1], current[1]);
        // A type not there yet is added.
        let out = set_condition(&[], condition(READY, "True", reason::RUNNING, "x"), "t3");
        assert_eq!(out[0].last_transition_time.as_deref(), Some("t3"));
    }

    #[test]
    fn next_status_fills_what_is_known_and_is_stable() {
        let observed = Observed::not_ready(Phase::Provisioning, reason::PROVISIONING, "starting").with_key("blue-1");
        let first = next(&VirtualClusterStatus::default(), &observed, Some(1), "t1");
        assert_eq!(first.phase, Some(Phase::Provisioning));
        assert_eq!(first.cluster_key.as_deref(), Some("blue-1"));
        assert_eq!(first.observed_generation, Some(1));
        // The same observation later changes nothing: no write, no event.
        assert_eq!(next(&first, &observed, Some(1), "t2"), first);
        assert_eq!(transition_event(&first, &first), None);

        let running = Observed {
            phase: Phase::Running,
            ready: true,
            reason: reason::RUNNING,
            message: "serving".into(),
            cluster_key: None,
            kubeconfig_secret: Some("blue-kubeconfig".into()),
            in_cluster_endpoint: Some(Endpoint { host: "127.0.0.1".into(), port: 7443 }),
        };
        let second = next(&first, &running, Some(1), "t3");
        assert_eq!(second.cluster_key.as_deref(), Some("blue-1"), "kept");
        assert_eq!(second.kubeconfig_secret.as_deref(), Some("blue-kubeconfig"));
        assert_eq!(second.conditions[0].last_transition_time.as_deref(), Some("t3"));
        assert_eq!(
            transition_event(&first, &second),
            Some(Announcement { warning: false, reason: "Provisioned", message: "serving".into() })
        );
    }

    #[test]
    fn failures_are_announced_once_per_reason() {
        let failed = |message: &str| {
            next(
                &VirtualClusterStatus::default(),
                &Observed::not_ready(Phase::Failed, reason::INVALID_SPEC, message),
                Some(2),
                "t",
            )
        };
        let pending = next(
            &VirtualClusterStatus::default(),
            &Observed::not_ready(Phase::Pending, reason::PENDING, ""),
            Some(1),
            "t",
        );
        let a = failed("bad name");
        assert_eq!(
            transition_event(&pending, &a),
            Some(Announcement { warning: true, reason: "InvalidSpec", message: "bad name".into() })
        );
        assert_eq!(transition_event(&a, &a), None);
        assert!(transition_event(&a, &failed("bad sync list")).is_some());
    }

    #[test]
    fn patch_carries_the_resource_version() {
        let status = VirtualClusterStatus { phase: Some(Phase::Pending), ..Default::default() };
        let p = patch(&status, Some("42"));
        assert_eq!(p["status"]["phase"], "Pending");
        assert_eq!(p["metadata"]["resourceVersion"], "42");
        assert!(patch(&status, None).get("metadata").is_none());
    }
}
