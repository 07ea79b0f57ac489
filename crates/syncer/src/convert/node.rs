//! Virtual nodes: each super node that runs a tenant's pod appears in that tenant as a node of
//! the same name, read-only, so `kubectl get nodes`, scheduling views and pod `nodeName`s agree.

use serde_json::Value;

use super::json::{copy_keys, obj_at, obj_mut, same, Map};
use super::meta::{without_reserved, PREFIX};

/// Spec fields a tenant sees (providerID is left out: it names the platform's cloud machine).
const SPEC: &[&str] = &["taints", "unschedulable", "podCIDR", "podCIDRs"];
/// Spec fields the API server lets a node set once and never change.
const SET_ONCE: &[&str] = &["podCIDR", "podCIDRs"];
/// Status fields a tenant sees; images (large, and they reveal other tenants' workloads),
/// volumes in use/attached (super volume names) and config are dropped.
const STATUS: &[&str] = &[
    "capacity",
    "allocatable",
    "conditions",
    "addresses",
    "daemonEndpoints",
    "nodeInfo",
    "runtimeHandlers",
    "features",
];

/// The virtual node a tenant sees for a super node: name, labels and annotations (minus
/// `nestor.dev/` keys), spec (taints, unschedulable, podCIDR(s); no providerID), status
/// (capacity, allocatable, conditions, addresses, daemonEndpoints, nodeInfo; images dropped).
pub fn virtual_node(super_node: &Value) -> Value {
    let mut meta = Map::new();
    if let Some(name) = super_node.get("metadata").and_then(|m| m.get("name")) {
        meta.insert("name".into(), name.clone());
    }
    for key in ["labels", "annotations"] {
        let kept = without_reserved(obj_at(super_node, &["metadata", key]));
        if !kept.is_empty() {
            meta.insert(key.into(), Value::Object(kept));
        }
    }
    let mut spec = Map::new();
    let mut status = Map::new();
    if let Some(s) = super_node.get("spec") {
        copy_keys(&mut spec, s, SPEC);
    }
    if let Some(s) = super_node.get("status") {
        copy_keys(&mut status, s, STATUS);
    }
    let mut out = Map::new();
    out.insert("apiVersion".into(), "v1".into());
    out.insert("kind".into(), "Node".into());
    out.insert("metadata".into(), Value::Object(meta));
    out.insert("spec".into(), Value::Object(spec));
    out.insert("status".into(), Value::Object(status));
    Value::Object(out)
}

/// `actual` (the tenant's virtual node) updated from `desired` (virtual_node of the super node):
/// labels, annotations, spec fields as above; status is written separately through
/// `virtual_node_status`. The syncer's own `nestor.dev/` keys on the tenant node are kept.
pub fn merge_virtual_node(actual: &Value, desired: &Value) -> Value {
    let Some(actual_map) = actual.as_object() else {
        return actual.clone();
    };
    let mut out = actual_map.clone();
    if let Some(meta) = obj_mut(&mut out, "metadata") {
        for key in ["labels", "annotations"] {
            let old = meta.get(key).and_then(Value::as_object).cloned().unwrap_or_default();
            let mut new = obj_at(desired, &["metadata", key]);
            for (k, v) in old.iter().filter(|(k, _)| k.starts_with(PREFIX)) {
                new.insert(k.clone(), v.clone());
            }
            if new != old {
                if new.is_empty() {
                    meta.shift_remove(key);
                } else {
                    meta.insert(key.into(), Value::Object(new));
                }
            }
        }
    }
    let want = desired.get("spec").cloned().unwrap_or_default();
    let had_spec = out.contains_key("spec");
    let mut spec = out.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    for key in SPEC {
        // podCIDR(s) may only go from unset to set on an existing node.
        if SET_ONCE.contains(key) && spec.contains_key(*key) {
            continue;
        }
        copy_keys(&mut spec, &want, &[key]);
    }
    if had_spec || !spec.is_empty() {
        out.insert("spec".into(), Value::Object(spec));
    }
    if &out == actual_map {
        return actual.clone();
    }
    Value::Object(out)
}

/// Whether the tenant's virtual node shows what the super node says, but perhaps an older
/// heartbeat (a heartbeat alone waits for the next status report): nothing to write now.
pub fn virtual_node_in_line(super_node: &Value, tenant_node: &Value) -> bool {
    let want = virtual_node(super_node);
    if merge_virtual_node(tenant_node, &want) != *tenant_node {
        return false;
    }
    let status = |node: &Value| {
        let mut status = node.get("status").cloned();
        if let Some(status) = status.as_mut() {
            drop_heartbeats(status);
        }
        status
    };
    same(status(&want).as_ref(), status(tenant_node).as_ref())
}

/// The status the tenant virtual node should have; None when equal already.
pub fn virtual_node_status(super_node: &Value, tenant_node: &Value) -> Option<Value> {
    let want = virtual_node(super_node).get("status").cloned().unwrap_or_default();
    (!same(Some(&want), tenant_node.get("status"))).then_some(want)
}

/// What tenants see of a super node, but for the conditions' heartbeat times: a change here is
/// worth copying up at once; a heartbeat alone waits for the next status report.
pub fn visible_change(super_node: &Value) -> Value {
    let mut node = virtual_node(super_node);
    if let Some(status) = node.get_mut("status") {
        drop_heartbeats(status);
    }
    node
}

/// Removes the conditions' heartbeat times from a node status.
fn drop_heartbeats(status: &mut Value) {
    if let Some(conditions) = status.get_mut("conditions").and_then(Value::as_array_mut) {
        for condition in conditions.iter_mut().filter_map(Value::as_object_mut) {
            condition.remove("lastHeartbeatTime");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn super_node() -> Value {
        json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1", "uid": "n-uid", "resourceVersion": "500",
                "labels": {"kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/worker": "",
                    "nestor.dev/pool": "shared"},
                "annotations": {"node.alpha.kubernetes.io/ttl": "0", "nestor.dev/agent": "10.0.0.9:10550"}},
            "spec": {"providerID": "aws:///us-east-1a/i-0abc", "podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
                "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
            "status": {"capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                "allocatable": {"cpu": "7800m", "memory": "31Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                    "lastHeartbeatTime": "2025-01-01T00:00:00Z", "lastTransitionTime": "2025-01-01T00:00:00Z"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.9"}, {"type": "Hostname", "address": "node-1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Ubuntu", "architecture": "amd64"},
                "images": [{"names": ["other-tenant/secret-app:1"], "sizeBytes": 1}],
                "volumesInUse": ["kubernetes.io/csi/x"], "phase": "Running"}})
    }

    #[test]
    fn a_virtual_node_is_in_line_until_something_visible_changes() {
        let node = super_node();
        let mut tenant_node = virtual_node(&node);
        tenant_node["metadata"]["uid"] = json!("t-uid");
        tenant_node["metadata"]["resourceVersion"] = json!("7");
        assert!(virtual_node_in_line(&node, &tenant_node));
        let mut beat = node.clone();
        beat["status"]["conditions"][0]["lastHeartbeatTime"] = json!("2025-01-01T00:01:00Z");
        assert!(virtual_node_in_line(&beat, &tenant_node), "a heartbeat waits for the status report");
        let mut not_ready = beat.clone();
        not_ready["status"]["conditions"][0]["status"] = json!("Unknown");
        assert!(!virtual_node_in_line(&not_ready, &tenant_node));
        let mut labeled = node.clone();
        labeled["metadata"]["labels"]["topology.kubernetes.io/zone"] = json!("a");
        assert!(!virtual_node_in_line(&labeled, &tenant_node));
        let mut cordoned = node.clone();
        cordoned["spec"]["unschedulable"] = json!(true);
        assert!(!virtual_node_in_line(&cordoned, &tenant_node));
    }

    #[test]
    fn a_heartbeat_alone_is_no_visible_change() {
        let node = super_node();
        let mut beat = node.clone();
        beat["status"]["conditions"][0]["lastHeartbeatTime"] = json!("2025-01-01T00:01:00Z");
        beat["metadata"]["resourceVersion"] = json!("501");
        assert_eq!(visible_change(&node), visible_change(&beat));
        let mut not_ready = beat.clone();
        not_ready["status"]["conditions"][0]["status"] = json!("Unknown");
        assert_ne!(visible_change(&node), visible_change(&not_ready));
    }

    #[test]
    fn virtual_node_shows_what_a_tenant_may_see() {
        let v = virtual_node(&super_node());
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": "node-1",
                    "labels": {"kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/worker": ""},
                    "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
                "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
                    "podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
                "status": {"capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                    "allocatable": {"cpu": "7800m", "memory": "31Gi", "pods": "110"},
                    "conditions": super_node()["status"]["conditions"],
                    "addresses": super_node()["status"]["addresses"],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Ubuntu", "architecture": "amd64"}}})
        );
    }

    /// The tenant node as its API server stores it after creation from `virtual_node`.
    fn tenant_node() -> Value {
        let mut t = virtual_node(&super_node());
        t["metadata"]["uid"] = json!("tn-uid");
        t["metadata"]["resourceVersion"] = json!("12");
        t["metadata"]["annotations"]["nestor.dev/vnode"] = json!("true");
        t
    }

    #[test]
    fn merge_virtual_node_is_stable_and_follows_the_super_node() {
        let want = virtual_node(&super_node());
        let actual = tenant_node();
        assert_eq!(merge_virtual_node(&actual, &want), actual);

        let mut s = super_node();
        s["spec"]["unschedulable"] = json!(true);
        s["spec"]["taints"] = json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]);
        s["spec"]["podCIDR"] = json!("10.244.9.0/24");
        s["metadata"]["labels"]["zone"] = json!("b");
        let want2 = virtual_node(&s);
        let m = merge_virtual_node(&actual, &want2);
        assert_eq!(m["spec"]["unschedulable"], true);
        assert_eq!(m["spec"]["taints"], s["spec"]["taints"]);
        assert_eq!(m["spec"]["podCIDR"], "10.244.1.0/24", "set once");
        assert_eq!(m["metadata"]["labels"]["zone"], "b");
        assert_eq!(m["metadata"]["annotations"]["nestor.dev/vnode"], "true");
        assert_eq!(m["metadata"]["resourceVersion"], "12");
        assert_eq!(merge_virtual_node(&m, &want2), m);
        // cordon lifted: unschedulable goes
        let m2 = merge_virtual_node(&m, &want);
        assert!(m2["spec"].get("unschedulable").is_none());
    }

    #[test]
    fn node_status_up_only_when_changed() {
        let s = super_node();
        let t = tenant_node();
        assert_eq!(virtual_node_status(&s, &t), None);
        let mut s2 = s.clone();
        s2["status"]["conditions"][0]["lastHeartbeatTime"] = json!("2025-01-01T00:00:40Z");
        let up = virtual_node_status(&s2, &t).unwrap();
        assert_eq!(up["conditions"][0]["lastHeartbeatTime"], "2025-01-01T00:00:40Z");
        assert!(up.get("images").is_none());
        let mut t2 = t.clone();
        t2["status"]["images"] = json!([]);
        assert!(virtual_node_status(&s, &t2).is_some(), "extra status fields are cleared");
    }
}
