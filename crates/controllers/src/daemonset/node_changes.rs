//! Which DaemonSets a node change concerns, as kube's `addNode` and `updateNode` decide: a new
//! node wakes the DaemonSets that should run on it; a node whose labels or taints changed wakes
//! those whose answer for it changed (a label that now matches a nodeSelector, a taint that
//! keeps out or evicts). Heartbeats and other status writes wake nobody. kube has no handler
//! for deleted nodes; here a deletion wakes every DaemonSet so its counts drop at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::reflector::{ObjectRef, Store};

use super::placement::fit;

/// Remembers the last version of each node, to compare the next one with.
pub struct NodeChanges {
    daemonsets: Store<DaemonSet>,
    nodes: Store<Node>,
    seen: Mutex<HashMap<String, Arc<Node>>>,
}

impl NodeChanges {
    pub fn new(daemonsets: Store<DaemonSet>, nodes: Store<Node>) -> NodeChanges {
        NodeChanges { daemonsets, nodes, seen: Mutex::new(HashMap::new()) }
    }

    /// The DaemonSets to sync after `node` changed (or was deleted).
    pub fn affected(&self, node: Arc<Node>) -> Vec<ObjectRef<DaemonSet>> {
        let name = node.metadata.name.clone().unwrap_or_default();
        let all = self.daemonsets.state();
        let Ok(mut seen) = self.seen.lock() else { return all.iter().map(|d| ObjectRef::from_obj(&**d)).collect() };
        // The cache is updated before subscribers hear of a change: a node missing from it is gone.
        if self.nodes.get(&ObjectRef::new(&name)).is_none() {
            seen.remove(&name);
            return all.iter().map(|d| ObjectRef::from_obj(&**d)).collect();
        }
        let previous = seen.insert(name, Arc::clone(&node));
        drop(seen);
        let wanted: Vec<&Arc<DaemonSet>> = match previous {
            None => all.iter().filter(|ds| fit(&node, ds).should_run).collect(),
            Some(old) if !placement_changed(&old, &node) => Vec::new(),
            Some(old) => all.iter().filter(|ds| fit(&old, ds) != fit(&node, ds)).collect(),
        };
        wanted.into_iter().map(|d| ObjectRef::from_obj(&**d)).collect()
    }
}

/// Whether what placement reads (labels and taints) differs (kube's `shouldIgnoreNodeUpdate`).
fn placement_changed(old: &Node, new: &Node) -> bool {
    let taints = |n: &Node| n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    old.metadata.labels.clone().unwrap_or_default() != new.metadata.labels.clone().unwrap_or_default()
        || taints(old) != taints(new)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kube::runtime::reflector;
    use kube::runtime::watcher::Event;
    use serde_json::json;

    fn node(labels: serde_json::Value, taints: serde_json::Value, heartbeat: &str) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": "n0", "labels": labels},
            "spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": heartbeat}]},
        }))
        .unwrap()
    }

    fn ds(name: &str, node_selector: serde_json::Value) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [], "nodeSelector": node_selector}}},
        }))
        .unwrap()
    }

    fn names(refs: &[ObjectRef<DaemonSet>]) -> Vec<String> {
        let mut n: Vec<String> = refs.iter().map(|r| r.name.clone()).collect();
        n.sort();
        n
    }

    #[test]
    fn only_placement_changes_wake_daemonsets() {
        let (ds_store, mut ds_writer) = reflector::store::<DaemonSet>();
        for d in [ds("all", json!({})), ds("ssd", json!({"disk": "ssd"}))] {
            ds_writer.apply_watcher_event(&Event::Apply(d));
        }
        let (node_store, mut node_writer) = reflector::store::<Node>();
        let changes = NodeChanges::new(ds_store, node_store);
        let mut apply = |n: Node| {
            node_writer.apply_watcher_event(&Event::Apply(n.clone()));
            changes.affected(Arc::new(n))
        };
        let plain = node(json!({}), json!([]), "2024-01-01T00:00:00Z");
        assert_eq!(names(&apply(plain.clone())), ["all"], "a new node wakes those that should run there");
        let heartbeat = node(json!({}), json!([]), "2024-01-01T00:01:00Z");
        assert!(apply(heartbeat).is_empty());
        let labelled = node(json!({"disk": "ssd"}), json!([]), "2024-01-01T00:01:00Z");
        assert_eq!(names(&apply(labelled)), ["ssd"]);
        let tainted =
            node(json!({"disk": "ssd"}), json!([{"key": "k", "effect": "NoSchedule"}]), "2024-01-01T00:02:00Z");
        assert_eq!(names(&apply(tainted.clone())), ["all", "ssd"]);
        node_writer.apply_watcher_event(&Event::Delete(tainted.clone()));
        assert_eq!(names(&changes.affected(Arc::new(tainted))), ["all", "ssd"], "a deletion wakes all");
    }
}
