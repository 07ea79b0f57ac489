//! Metadata of super objects: which tenant labels and annotations go down, and how a super
//! object's labels and annotations are brought in line without undoing the super cluster's own.

use serde_json::Value;

use super::json::{obj_at, obj_mut, Map};
use super::{Downward, Kind};

/// The prefix of every Nestor key; tenants' keys under it are stripped so no tenant can forge marks.
pub(super) const PREFIX: &str = "nestor.dev/";
/// Annotations read by nestor-nodesim (`nestor.dev/sim-duration`, `-exit-code`, `-ready-after`):
/// they only shape simulated containers, grant nothing, and must reach the super pod for the
/// embedded mode's tests to work, so they are the one exception to the stripping.
const SIM_PREFIX: &str = "nestor.dev/sim-";
/// Annotation: the tenant namespace of a super object (written by the runtime into ctx.annotations).
pub(super) const TENANT_NAMESPACE: &str = "nestor.dev/namespace";
/// Annotation: the tenant UID of a super object.
pub(super) const TENANT_UID: &str = "nestor.dev/uid";
/// kubectl's copy of the applied object: large, tenant-specific, and it would make `kubectl apply`
/// against the super object compute diffs from the tenant's intent.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Label the API server puts on every namespace itself.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// True for a `nestor.dev/` key a tenant may not pass down.
pub(super) fn is_reserved(key: &str) -> bool {
    key.starts_with(PREFIX) && !key.starts_with(SIM_PREFIX)
}

/// True for annotations that super-side controllers set (PVC binding, provisioners, ...): merge keeps them.
fn is_system(key: &str) -> bool {
    key.contains("kubernetes.io/") || key.contains("k8s.io/")
}

/// `tenant` minus reserved keys and `drop`, plus `marks` (marks win).
fn down(tenant: Map, marks: &std::collections::BTreeMap<String, String>, drop: &[&str]) -> Map {
    let mut out: Map = tenant.into_iter().filter(|(k, _)| !is_reserved(k) && !drop.contains(&k.as_str())).collect();
    for (k, v) in marks {
        out.insert(k.clone(), Value::String(v.clone()));
    }
    out
}

/// The metadata of the super object: name and namespace from ctx, filtered labels and
/// annotations; nothing the API server assigns (uid, resourceVersion, ...) and no owner
/// references (they name tenant objects; the runtime keeps them as a mark).
pub(super) fn desired(kind: Kind, tenant: &Value, ctx: &Downward) -> Map {
    let mut meta = Map::new();
    meta.insert("name".into(), ctx.name.into());
    if let Some(ns) = ctx.namespace {
        meta.insert("namespace".into(), ns.into());
    }
    let label_drop: &[&str] = if kind == Kind::Namespace { &[NAMESPACE_NAME_LABEL] } else { &[] };
    let labels = down(obj_at(tenant, &["metadata", "labels"]), ctx.labels, label_drop);
    let annotations = down(obj_at(tenant, &["metadata", "annotations"]), ctx.annotations, &[LAST_APPLIED]);
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    meta
}

/// Sets `actual`'s labels and annotations from `desired`'s; every other metadata field
/// (resourceVersion for the CAS PUT, uid, finalizers of super controllers ...) stays.
pub(super) fn merge(kind: Kind, actual: &mut Map, desired: &Value) {
    let mut labels = obj_at(desired, &["metadata", "labels"]);
    let mut annotations = obj_at(desired, &["metadata", "annotations"]);
    let Some(meta) = obj_mut(actual, "metadata") else {
        return;
    };
    let old_labels = meta.get("labels").and_then(Value::as_object).cloned().unwrap_or_default();
    let old_annotations = meta.get("annotations").and_then(Value::as_object).cloned().unwrap_or_default();
    if kind == Kind::Namespace {
        // The API server re-adds this label on every write; removing it would loop forever.
        if let Some(v) = old_labels.get(NAMESPACE_NAME_LABEL) {
            labels.entry(NAMESPACE_NAME_LABEL).or_insert_with(|| v.clone());
        }
    }
    for (k, v) in &old_annotations {
        if is_system(k) && !annotations.contains_key(k) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    set_map(meta, "labels", labels, &old_labels);
    set_map(meta, "annotations", annotations, &old_annotations);
}

/// Writes `new` under `key` unless it equals `old` (keeps actual's key order when unchanged).
fn set_map(meta: &mut Map, key: &str, new: Map, old: &Map) {
    if &new == old {
        return;
    }
    if new.is_empty() {
        meta.shift_remove(key);
    } else {
        meta.insert(key.into(), Value::Object(new));
    }
}

/// `m` without `nestor.dev/` keys (used upward: super marks never reach a tenant).
pub(super) fn without_reserved(m: Map) -> Map {
    m.into_iter().filter(|(k, _)| !k.starts_with(PREFIX)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn marks() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let labels = BTreeMap::from([("nestor.dev/cluster".to_string(), "blue-1a2b3c4d".to_string())]);
        let annotations = BTreeMap::from([
            ("nestor.dev/namespace".to_string(), "prod".to_string()),
            ("nestor.dev/uid".to_string(), "t-uid".to_string()),
        ]);
        (labels, annotations)
    }

    fn ctx<'a>(
        labels: &'a BTreeMap<String, String>,
        annotations: &'a BTreeMap<String, String>,
        rename: &'a dyn Fn(&str, &str) -> Option<String>,
    ) -> Downward<'a> {
        Downward {
            name: "web",
            namespace: Some("blue-1a2b3c4d-prod"),
            labels,
            annotations,
            apiserver: None,
            rename,
            token_secret: None,
        }
    }

    #[test]
    fn forged_marks_are_stripped_and_server_fields_dropped() {
        let (l, a) = marks();
        let rename = |_: &str, _: &str| None;
        let tenant = json!({"metadata": {
            "name": "web", "namespace": "prod", "uid": "t-uid", "resourceVersion": "7", "generation": 2,
            "creationTimestamp": "2025-01-01T00:00:00Z", "generateName": "web-", "finalizers": ["x/y"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "rs"}],
            "managedFields": [{"manager": "kubectl"}], "selfLink": "/api/v1/x",
            "labels": {"app": "web", "nestor.dev/cluster": "green-00000000"},
            "annotations": {"team": "a", "nestor.dev/uid": "someone-else", "nestor.dev/vc-name": "green",
                LAST_APPLIED: "{}", "nestor.dev/sim-duration": "2s"},
        }});
        let meta = desired(Kind::ConfigMap, &tenant, &ctx(&l, &a, &rename));
        assert_eq!(
            Value::Object(meta),
            json!({"name": "web", "namespace": "blue-1a2b3c4d-prod",
                "labels": {"app": "web", "nestor.dev/cluster": "blue-1a2b3c4d"},
                "annotations": {"team": "a", "nestor.dev/sim-duration": "2s",
                    "nestor.dev/namespace": "prod", "nestor.dev/uid": "t-uid"}})
        );
    }

    #[test]
    fn namespace_name_label_is_left_to_the_api_server() {
        let (l, a) = marks();
        let rename = |_: &str, _: &str| None;
        let mut c = ctx(&l, &a, &rename);
        c.namespace = None;
        let tenant =
            json!({"metadata": {"name": "prod", "labels": {"kubernetes.io/metadata.name": "prod", "env": "p"}}});
        let meta = desired(Kind::Namespace, &tenant, &c);
        assert_eq!(meta["labels"], json!({"env": "p", "nestor.dev/cluster": "blue-1a2b3c4d"}));
        assert!(!meta.contains_key("namespace"));

        // merge keeps the label the server adds, so the namespace is not rewritten forever
        let mut actual = json!({"metadata": {"name": "web", "resourceVersion": "5",
            "labels": {"env": "p", "nestor.dev/cluster": "blue-1a2b3c4d", "kubernetes.io/metadata.name": "web"},
            "annotations": {"nestor.dev/namespace": "prod", "nestor.dev/uid": "t-uid"}}})
        .as_object()
        .cloned()
        .unwrap();
        let before = actual.clone();
        merge(Kind::Namespace, &mut actual, &json!({"metadata": meta}));
        assert_eq!(actual, before);
    }

    #[test]
    fn merge_replaces_labels_and_keeps_system_annotations() {
        let mut actual = json!({"metadata": {"name": "data", "resourceVersion": "9", "uid": "s-uid",
            "finalizers": ["kubernetes.io/pvc-protection"],
            "labels": {"app": "old", "stale": "x"},
            "annotations": {"pv.kubernetes.io/bind-completed": "yes", "team": "old",
                "volume.beta.kubernetes.io/storage-provisioner": "csi.example.com", "gone": "1"}}})
        .as_object()
        .cloned()
        .unwrap();
        let desired = json!({"metadata": {"labels": {"app": "new"}, "annotations": {"team": "new"}}});
        merge(Kind::PersistentVolumeClaim, &mut actual, &desired);
        assert_eq!(
            Value::Object(actual),
            json!({"metadata": {"name": "data", "resourceVersion": "9", "uid": "s-uid",
                "finalizers": ["kubernetes.io/pvc-protection"],
                "labels": {"app": "new"},
                "annotations": {"team": "new", "pv.kubernetes.io/bind-completed": "yes",
                    "volume.beta.kubernetes.io/storage-provisioner": "csi.example.com"}}})
        );
    }

    #[test]
    fn merge_removes_labels_when_desired_has_none() {
        let mut actual = json!({"metadata": {"name": "a", "labels": {"x": "1"}}}).as_object().cloned().unwrap();
        merge(Kind::ConfigMap, &mut actual, &json!({"metadata": {"name": "a"}}));
        assert_eq!(Value::Object(actual), json!({"metadata": {"name": "a"}}));
    }

    #[test]
    fn upward_maps_lose_every_nestor_key() {
        let m = json!({"a": "1", "nestor.dev/cluster": "k", "nestor.dev/sim-duration": "1s"});
        assert_eq!(Value::Object(without_reserved(m.as_object().cloned().unwrap())), json!({"a": "1"}));
    }
}
