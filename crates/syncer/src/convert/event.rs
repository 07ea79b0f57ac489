//! Events about synced objects, copied up so `kubectl describe` in the tenant shows what the
//! super scheduler and kubelet said.

use serde_json::Value;

use super::json::Map;

/// The tenant object an event is about.
pub struct Involved<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
}

/// Event fields that describe what happened (none of them names a super object).
const KEPT: &[&str] = &[
    "reason",
    "message",
    "type",
    "count",
    "firstTimestamp",
    "lastTimestamp",
    "eventTime",
    "source",
    "series",
    "action",
    "reportingComponent",
    "reportingInstance",
];

/// Namespace kube records events about cluster-scoped objects in.
const CLUSTER_EVENTS_NAMESPACE: &str = "default";

/// The tenant copy of a super `v1` Event about a synced object: same name, in the tenant
/// namespace, involvedObject pointing at the tenant object (fieldPath kept), with reason,
/// message, type, count, timestamps, source, series, action, reporting fields kept;
/// no uid/resourceVersion/managedFields. `related` is dropped: it names a super object.
pub fn event_up(super_event: &Value, involved: &Involved) -> Value {
    let namespace = if involved.namespace.is_empty() { CLUSTER_EVENTS_NAMESPACE } else { involved.namespace };
    let mut meta = Map::new();
    if let Some(name) = super_event.get("metadata").and_then(|m| m.get("name")) {
        meta.insert("name".into(), name.clone());
    }
    meta.insert("namespace".into(), namespace.into());

    let mut object = Map::new();
    object.insert("apiVersion".into(), involved.api_version.into());
    object.insert("kind".into(), involved.kind.into());
    if !involved.namespace.is_empty() {
        object.insert("namespace".into(), involved.namespace.into());
    }
    object.insert("name".into(), involved.name.into());
    object.insert("uid".into(), involved.uid.into());
    // fieldPath (`spec.containers{app}`) is the same in both pods; resourceVersion is the super's.
    if let Some(path) = super_event.get("involvedObject").and_then(|o| o.get("fieldPath")) {
        object.insert("fieldPath".into(), path.clone());
    }

    let mut out = Map::new();
    out.insert("apiVersion".into(), "v1".into());
    out.insert("kind".into(), "Event".into());
    out.insert("metadata".into(), Value::Object(meta));
    out.insert("involvedObject".into(), Value::Object(object));
    for key in KEPT {
        if let Some(v) = super_event.get(key) {
            out.insert((*key).into(), v.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn super_event() -> Value {
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web-7d9.17f2a", "namespace": "blue-1a2b3c4d-prod", "uid": "e-uid",
                "resourceVersion": "991", "creationTimestamp": "2025-01-01T00:00:01Z",
                "managedFields": [{"manager": "kubelet"}]},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "blue-1a2b3c4d-prod", "name": "web-7d9",
                "uid": "s-uid", "resourceVersion": "120", "fieldPath": "spec.containers{app}"},
            "reason": "Pulled", "message": "Container image \"nginx:1.27\" already present on machine",
            "type": "Normal", "count": 3, "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2025-01-01T00:00:01Z", "lastTimestamp": "2025-01-01T00:05:01Z", "eventTime": null,
            "reportingComponent": "kubelet", "reportingInstance": "node-1",
            "related": {"kind": "Node", "name": "node-1"}})
    }

    #[test]
    fn event_points_at_the_tenant_object() {
        let involved = Involved { api_version: "v1", kind: "Pod", namespace: "prod", name: "web-7d9", uid: "t-uid" };
        let e = event_up(&super_event(), &involved);
        assert_eq!(
            e,
            json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "web-7d9.17f2a", "namespace": "prod"},
                "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "prod", "name": "web-7d9",
                    "uid": "t-uid", "fieldPath": "spec.containers{app}"},
                "reason": "Pulled", "message": "Container image \"nginx:1.27\" already present on machine",
                "type": "Normal", "count": 3, "firstTimestamp": "2025-01-01T00:00:01Z",
                "lastTimestamp": "2025-01-01T00:05:01Z", "eventTime": null,
                "source": {"component": "kubelet", "host": "node-1"},
                "reportingComponent": "kubelet", "reportingInstance": "node-1"})
        );
    }

    #[test]
    fn series_and_action_are_kept() {
        let mut ev = super_event();
        ev["series"] = json!({"count": 5, "lastObservedTime": "2025-01-01T00:06:00.000000Z"});
        ev["action"] = json!("Binding");
        ev["eventTime"] = json!("2025-01-01T00:00:01.000000Z");
        let involved = Involved { api_version: "v1", kind: "Pod", namespace: "prod", name: "web-7d9", uid: "t-uid" };
        let e = event_up(&ev, &involved);
        assert_eq!(e["series"]["count"], 5);
        assert_eq!(e["action"], "Binding");
        assert_eq!(e["eventTime"], "2025-01-01T00:00:01.000000Z");
        assert!(e.get("related").is_none());
    }

    #[test]
    fn events_about_cluster_scoped_objects_go_to_default() {
        let involved =
            Involved { api_version: "db.example.com/v1", kind: "Cluster", namespace: "", name: "main", uid: "c-uid" };
        let mut ev = super_event();
        ev["involvedObject"].as_object_mut().unwrap().remove("fieldPath");
        let e = event_up(&ev, &involved);
        assert_eq!(e["metadata"]["namespace"], "default");
        assert_eq!(
            e["involvedObject"],
            json!({"apiVersion": "db.example.com/v1", "kind": "Cluster", "name": "main", "uid": "c-uid"})
        );
    }
}
