//! Defaults for the apps group (pkg/apis/apps/v1/defaults.go) plus the zero-valued status
//! fields Go always prints for these kinds.

use serde_json::{json, Value};

use super::core_v1::pvc_template;
use super::json::*;
use super::podspec::default_pod_template_struct;

/// Deployments: replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
/// progressDeadlineSeconds 600.
pub(crate) fn deployment(obj: &mut Value) {
    if let Some(spec) = ensure_obj(obj, "spec") {
        default_ptr(spec, "replicas", json!(1));
        if let Some(strategy) = ensure_obj(spec, "strategy") {
            default_str(strategy, "type", "RollingUpdate");
            if get_str(strategy, "type") == "RollingUpdate" {
                if let Some(ru) = ensure_obj(strategy, "rollingUpdate") {
                    default_ptr(ru, "maxUnavailable", json!("25%"));
                    default_ptr(ru, "maxSurge", json!("25%"));
                }
            }
        }
        default_ptr(spec, "revisionHistoryLimit", json!(10));
        default_ptr(spec, "progressDeadlineSeconds", json!(600));
        default_pod_template_struct(spec, "template");
    }
    ensure_obj(obj, "status");
}

/// DaemonSets: RollingUpdate with maxUnavailable 1 / maxSurge 0, revisionHistoryLimit 10.
pub(crate) fn daemon_set(obj: &mut Value) {
    if let Some(spec) = ensure_obj(obj, "spec") {
        if let Some(us) = ensure_obj(spec, "updateStrategy") {
            default_str(us, "type", "RollingUpdate");
            if get_str(us, "type") == "RollingUpdate" {
                if let Some(ru) = ensure_obj(us, "rollingUpdate") {
                    default_ptr(ru, "maxUnavailable", json!(1));
                    default_ptr(ru, "maxSurge", json!(0));
                }
            }
        }
        default_ptr(spec, "revisionHistoryLimit", json!(10));
        default_pod_template_struct(spec, "template");
    }
    // DaemonSetStatus has four counters without omitempty.
    if let Some(status) = ensure_obj(obj, "status") {
        for k in ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"] {
            default_ptr(status, k, json!(0));
        }
    }
}

/// StatefulSets: OrderedReady, RollingUpdate with partition 0, Retain/Retain PVC policy
/// (StatefulSetAutoDeletePVC is beta and on), replicas 1, revisionHistoryLimit 10.
pub(crate) fn stateful_set(obj: &mut Value) {
    if let Some(spec) = ensure_obj(obj, "spec") {
        default_str(spec, "podManagementPolicy", "OrderedReady");
        if let Some(us) = ensure_obj(spec, "updateStrategy") {
            if get_str(us, "type").is_empty() {
                set(us, "type", json!("RollingUpdate"));
                default_ptr(us, "rollingUpdate", json!({}));
            }
            if get_str(us, "type") == "RollingUpdate" {
                if let Some(ru) = child_mut(us, "rollingUpdate").filter(|v| v.is_object()) {
                    default_ptr(ru, "partition", json!(0));
                }
            }
        }
        if let Some(p) = ensure_obj(spec, "persistentVolumeClaimRetentionPolicy") {
            default_str(p, "whenDeleted", "Retain");
            default_str(p, "whenScaled", "Retain");
        }
        default_ptr(spec, "replicas", json!(1));
        default_ptr(spec, "revisionHistoryLimit", json!(10));
        default_pod_template_struct(spec, "template");
        each_mut(spec, "volumeClaimTemplates", pvc_template);
    }
    if let Some(status) = ensure_obj(obj, "status") {
        default_ptr(status, "replicas", json!(0));
        default_ptr(status, "availableReplicas", json!(0));
    }
}

/// ReplicaSets: replicas 1.
pub(crate) fn replica_set(obj: &mut Value) {
    if let Some(spec) = ensure_obj(obj, "spec") {
        default_ptr(spec, "replicas", json!(1));
        default_pod_template_struct(spec, "template");
    }
    if let Some(status) = ensure_obj(obj, "status") {
        default_ptr(status, "replicas", json!(0));
    }
}
