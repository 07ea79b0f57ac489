//! The `deployment.kubernetes.io/*` annotations: the revision of each ReplicaSet (what
//! `kubectl rollout history` lists and `rollout undo --to-revision` picks), the revisions a
//! ReplicaSet had before a rollback brought it back, and the replica counts proportional
//! scaling reads.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// The rollback request annotation of extensions/v1beta1, never copied.
const ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// kube caps revision-history at this many characters, dropping the oldest.
const MAX_HISTORY_CHARS: usize = 2000;

/// Annotations of the Deployment that are not copied to its ReplicaSets.
fn skip_copy(key: &str) -> bool {
    matches!(key, LAST_APPLIED | REVISION | REVISION_HISTORY | DESIRED_REPLICAS | MAX_REPLICAS | ROLLBACK_TO)
}

/// The revision of a ReplicaSet (0 when missing or malformed).
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The highest revision among `sets`.
pub fn max_revision<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i64 {
    sets.into_iter().map(revision).max().unwrap_or(0)
}

/// Copies the Deployment's own annotations onto `annotations`; answers whether any changed.
pub fn copy_from_deployment(d: &Deployment, annotations: &mut BTreeMap<String, String>) -> bool {
    let mut changed = false;
    for (k, v) in d.metadata.annotations.iter().flatten() {
        if skip_copy(k) || annotations.get(k) == Some(v) {
            continue;
        }
        annotations.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// kube's `SetNewReplicaSetAnnotations`: the Deployment's annotations, the revision raised to
/// `new_revision` (remembering the old one in revision-history: the ReplicaSet comes back in a
/// rollback), and for a ReplicaSet about to be created the replica annotations.
pub fn set_new_rs(
    d: &Deployment,
    annotations: &mut BTreeMap<String, String>,
    new_revision: i64,
    exists: bool,
    desired: i32,
    max: i32,
) -> bool {
    let mut changed = copy_from_deployment(d, annotations);
    let old = annotations.get(REVISION).cloned();
    let old_number = match old.as_deref() {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            // kube leaves a ReplicaSet with a malformed revision alone.
            Err(_) => return false,
        },
    };
    if old_number < new_revision {
        annotations.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old.filter(|o| !o.is_empty()) {
            let history = annotations.get(REVISION_HISTORY).cloned().unwrap_or_default();
            let value = if history.is_empty() { Some(old) } else { append_history(&history, &old) };
            if let Some(value) = value {
                annotations.insert(REVISION_HISTORY.into(), value);
            }
        }
    }
    if !exists && set_replicas(annotations, desired, max) {
        changed = true;
    }
    changed
}

/// `history,old`, dropping the oldest entries to stay within the character cap.
fn append_history(history: &str, old: &str) -> Option<String> {
    let mut entries: Vec<&str> = history.split(',').collect();
    let mut total = history.len() + old.len() + 1;
    let mut start = 0;
    while total > MAX_HISTORY_CHARS && start < entries.len() {
        total -= entries[start].len() + 1;
        start += 1;
    }
    if total > MAX_HISTORY_CHARS {
        return None;
    }
    entries.drain(..start);
    entries.push(old);
    Some(entries.join(","))
}

/// Sets desired-replicas and max-replicas; answers whether either changed.
pub fn set_replicas(annotations: &mut BTreeMap<String, String>, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if annotations.get(k) != Some(&v) {
            annotations.insert(k.into(), v);
            changed = true;
        }
    }
    changed
}

/// A ReplicaSet's annotation parsed as an integer.
pub fn int(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_keeps_history() {
        let d = Deployment::default();
        let mut a: BTreeMap<String, String> = [(REVISION.to_string(), "1".to_string())].into();
        assert!(set_new_rs(&d, &mut a, 3, true, 3, 4));
        assert_eq!(a[REVISION], "3");
        assert_eq!(a[REVISION_HISTORY], "1");
        assert!(set_new_rs(&d, &mut a, 5, true, 3, 4));
        assert_eq!(a[REVISION_HISTORY], "1,3");
        // Not lower: nothing changes.
        assert!(!set_new_rs(&d, &mut a, 4, true, 3, 4));
    }

    #[test]
    fn new_rs_gets_replica_annotations() {
        let mut d = Deployment::default();
        d.metadata.annotations = Some(
            [("kubernetes.io/change-cause".to_string(), "x".to_string()), (REVISION.to_string(), "9".to_string())]
                .into(),
        );
        let mut a = BTreeMap::new();
        assert!(set_new_rs(&d, &mut a, 1, false, 3, 4));
        assert_eq!(a[REVISION], "1");
        assert_eq!(a[DESIRED_REPLICAS], "3");
        assert_eq!(a[MAX_REPLICAS], "4");
        assert_eq!(a["kubernetes.io/change-cause"], "x");
        assert!(!a.contains_key(REVISION_HISTORY));
    }

    #[test]
    fn history_is_capped() {
        let long = vec!["1234567890"; 190].join(",");
        let out = append_history(&long, "42").unwrap_or_default();
        assert!(out.len() <= MAX_HISTORY_CHARS);
        assert!(out.ends_with(",42"));
    }
}
