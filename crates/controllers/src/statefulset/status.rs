//! The status a StatefulSet controller writes (kube's `computeReplicaStatus`,
//! `completeRollingUpdate` and `inconsistentStatus`): pod counts, the current and update
//! revisions, `collisionCount` and `observedGeneration`. kube replaces the whole status and
//! leaves out zero counts; the merge patch here does the same for the fields it owns.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

use super::identity;
use super::plan::running_and_ready;
use crate::pods;

/// The status a sync computes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    pub observed_generation: i64,
    pub replicas: i32,
    pub ready: i32,
    pub available: i32,
    pub current: i32,
    pub updated: i32,
    pub current_revision: String,
    pub update_revision: String,
    pub collision_count: i32,
}

/// Counts `pods`: created ones (with a phase), Running and Ready ones, those available for
/// `min_ready` seconds, and the live ones at the current and at the update revision.
pub fn count<'a>(status: &mut Status, pods: impl IntoIterator<Item = &'a Pod>, min_ready: i32, now: DateTime<Utc>) {
    status.replicas = 0;
    status.ready = 0;
    status.available = 0;
    status.current = 0;
    status.updated = 0;
    for pod in pods {
        let created = !pods::phase(pod).is_empty();
        if created {
            status.replicas += 1;
        }
        if running_and_ready(pod) {
            status.ready += 1;
            if pods::is_available(pod, min_ready, now) {
                status.available += 1;
            }
        }
        if created && pod.metadata.deletion_timestamp.is_none() {
            let revision = identity::revision_of(pod);
            if revision == status.current_revision {
                status.current += 1;
            }
            if revision == status.update_revision {
                status.updated += 1;
            }
        }
    }
}

/// A RollingUpdate is complete once every replica is updated and ready: the update revision
/// becomes the current one.
pub fn complete_rolling_update(set: &StatefulSet, status: &mut Status) {
    let rolling =
        set.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|u| u.type_.as_deref()) != Some("OnDelete");
    let replicas = identity::replicas(set);
    if rolling && status.updated == replicas && status.ready == replicas && status.replicas == replicas {
        status.current = status.updated;
        status.current_revision = status.update_revision.clone();
    }
}

/// Whether `status` says something the set's status does not (kube's `inconsistentStatus`:
/// `collisionCount` alone does not count).
pub fn differs(current: Option<&StatefulSetStatus>, status: &Status) -> bool {
    let Some(c) = current else { return true };
    status.observed_generation > c.observed_generation.unwrap_or(0)
        || status.replicas != c.replicas
        || status.current != c.current_replicas.unwrap_or(0)
        || status.ready != c.ready_replicas.unwrap_or(0)
        || status.updated != c.updated_replicas.unwrap_or(0)
        || status.current_revision != c.current_revision.as_deref().unwrap_or_default()
        || status.available != c.available_replicas.unwrap_or(0)
        || status.update_revision != c.update_revision.as_deref().unwrap_or_default()
}

/// Go's `omitempty`.
fn omit_zero(n: i32) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(n)
    }
}

fn omit_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        json!(s)
    }
}

/// The merge patch that writes `status`.
pub fn patch(status: &Status) -> Value {
    json!({
        "status": {
            "observedGeneration": if status.observed_generation == 0 { Value::Null } else { json!(status.observed_generation) },
            "replicas": status.replicas,
            "readyReplicas": omit_zero(status.ready),
            "currentReplicas": omit_zero(status.current),
            "updatedReplicas": omit_zero(status.updated),
            "currentRevision": omit_empty(&status.current_revision),
            "updateRevision": omit_empty(&status.update_revision),
            "collisionCount": status.collision_count,
            "availableReplicas": status.available,
        }
    })
}

/// Writes `status` when it differs from what the set shows.
pub async fn write(client: &kube::Client, set: &StatefulSet, status: &Status) -> kube::Result<()> {
    if !differs(set.status.as_ref(), status) {
        return Ok(());
    }
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), set.metadata.namespace.as_deref().unwrap_or_default());
    let name = set.metadata.name.as_deref().unwrap_or_default();
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch(status))).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::history::POD_REVISION_LABEL;

    fn pod(revision: &str, phase: &str, ready: bool, deleting: bool) -> Pod {
        let mut p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-0", "labels": {POD_REVISION_LABEL: revision}},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                "lastTransitionTime": Utc::now().to_rfc3339()}]}
        }))
        .unwrap();
        if deleting {
            p.metadata.deletion_timestamp = Some(pods::to_time(Utc::now()));
        }
        p
    }

    fn set(replicas: i32) -> StatefulSet {
        serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {
            "replicas": replicas, "selector": {}, "template": {}, "serviceName": "web"}}))
        .unwrap()
    }

    #[test]
    fn counts_and_completion() {
        let now = Utc::now();
        let pods = [
            pod("a", "Running", true, false),
            pod("b", "Running", true, false),
            pod("b", "Pending", false, false),
            pod("a", "Running", true, true),
            pod("b", "", false, false),
        ];
        let mut s = Status { current_revision: "a".into(), update_revision: "b".into(), ..Status::default() };
        count(&mut s, &pods, 0, now);
        assert_eq!((s.replicas, s.ready, s.available, s.current, s.updated), (4, 3, 3, 1, 2));
        count(&mut s, &pods, 3600, now);
        assert_eq!(s.available, 0);
        complete_rolling_update(&set(4), &mut s);
        assert_eq!(s.current_revision, "a", "not every replica is updated and ready");

        let done = [pod("b", "Running", true, false), pod("b", "Running", true, false)];
        count(&mut s, &done, 0, now);
        complete_rolling_update(&set(2), &mut s);
        assert_eq!((s.current_revision.as_str(), s.current, s.updated), ("b", 2, 2));
    }

    #[test]
    fn zero_counts_are_left_out() {
        let s = Status { observed_generation: 2, replicas: 0, update_revision: "web-x".into(), ..Status::default() };
        let p = patch(&s);
        assert_eq!(p["status"]["replicas"], 0);
        assert_eq!(p["status"]["availableReplicas"], 0);
        assert_eq!(p["status"]["collisionCount"], 0);
        assert!(p["status"]["readyReplicas"].is_null());
        assert!(p["status"]["currentRevision"].is_null());
        assert_eq!(p["status"]["updateRevision"], "web-x");
        let same = StatefulSetStatus {
            observed_generation: Some(2),
            update_revision: Some("web-x".into()),
            available_replicas: Some(0),
            ..StatefulSetStatus::default()
        };
        assert!(!differs(Some(&same), &s));
        assert!(differs(Some(&StatefulSetStatus::default()), &s));
    }
}
