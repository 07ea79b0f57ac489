//! Which nodes a DaemonSet's pods belong on, as kube's `NodeShouldRunDaemonPod` decides: the
//! template's `nodeName`, `nodeSelector` and required node affinity must match the node, and
//! its tolerations (with the daemon defaults added) must tolerate the node's `NoSchedule` and
//! `NoExecute` taints. A pod already there keeps running on a node whose untolerated taints
//! are all `NoSchedule`: only `NoExecute` evicts.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, PodSpec, Taint, Toleration};
pub use nestor_api::scheduling::tolerates;
use nestor_api::scheduling::{matches_node_selector, matches_required};

/// What kube's `NodeShouldRunDaemonPod` answers for one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// A daemon pod should be created there if none runs.
    pub should_run: bool,
    /// A daemon pod already there may stay.
    pub should_continue_running: bool,
}

/// Whether `ds` wants a pod on `node`.
pub fn fit(node: &Node, ds: &DaemonSet) -> Fit {
    const NEITHER: Fit = Fit { should_run: false, should_continue_running: false };
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    let mut spec = ds.spec.as_ref().and_then(|s| s.template.spec.clone()).unwrap_or_default();
    if spec.node_name.as_deref().is_some_and(|n| !n.is_empty() && n != node_name) {
        return NEITHER;
    }
    if !matches_required_affinity(&spec, node) {
        return NEITHER;
    }
    add_daemon_tolerations(&mut spec);
    let taints = node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or_default();
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    let blocking = |t: &Taint| t.effect == "NoSchedule" || t.effect == "NoExecute";
    if find_untolerated(taints, tolerations, blocking).is_none() {
        return Fit { should_run: true, should_continue_running: true };
    }
    // Scheduled daemon pods keep running unless a NoExecute taint evicts them.
    let evicting = find_untolerated(taints, tolerations, |t| t.effect == "NoExecute").is_some();
    Fit { should_run: false, should_continue_running: !evicting }
}

/// The first taint passing `filter` that no toleration tolerates (kube's
/// `FindMatchingUntoleratedTaint`).
pub fn find_untolerated<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    filter: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints.iter().filter(|t| filter(t)).find(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

/// The tolerations kube gives every daemon pod (`AddOrUpdateDaemonPodTolerations`): node
/// problems must not evict or keep out a per-node agent.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let mut defaults = vec![
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if spec.host_network == Some(true) {
        defaults.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    for (key, effect) in defaults {
        add_or_update_toleration(
            spec,
            Toleration {
                key: Some(key.to_string()),
                operator: Some("Exists".to_string()),
                effect: Some(effect.to_string()),
                ..Toleration::default()
            },
        );
    }
}

/// kube's `AddOrUpdateTolerationInPodSpec`: a toleration with the same key, operator, value and
/// effect is replaced (so a `tolerationSeconds` goes), otherwise it is appended.
fn add_or_update_toleration(spec: &mut PodSpec, toleration: Toleration) {
    let same = |t: &Toleration| {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        s(&t.key) == s(&toleration.key)
            && s(&t.effect) == s(&toleration.effect)
            && s(&t.operator) == s(&toleration.operator)
            && s(&t.value) == s(&toleration.value)
    };
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    match list.iter_mut().find(|t| same(t)) {
        Some(existing) => *existing = toleration,
        None => list.push(toleration),
    }
}

/// The template's `nodeSelector` and required node affinity against `node` (kube's
/// `GetRequiredNodeAffinity(pod).Match(node)`).
pub fn matches_required_affinity(spec: &PodSpec, node: &Node) -> bool {
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    if !spec.node_selector.as_ref().is_none_or(|s| matches_node_selector(s, labels)) {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
    match required {
        None => true,
        Some(selector) => matches_required(selector, node_name, labels),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn node(name: &str, labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints},
        }))
        .unwrap()
    }

    fn ds(template_spec: serde_json::Value) -> DaemonSet {
        let mut spec = json!({"containers": [{"name": "app", "image": "x"}]});
        if let (Some(base), Some(extra)) = (spec.as_object_mut(), template_spec.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec},
            },
        }))
        .unwrap()
    }

    const RUN: Fit = Fit { should_run: true, should_continue_running: true };
    const STAY: Fit = Fit { should_run: false, should_continue_running: true };
    const NONE: Fit = Fit { should_run: false, should_continue_running: false };

    #[test]
    fn plain_nodes_run_one() {
        assert_eq!(fit(&node("n0", json!({}), json!([])), &ds(json!({}))), RUN);
    }

    #[test]
    fn node_selector_and_affinity() {
        let ssd = node("n0", json!({"disk": "ssd"}), json!([]));
        let hdd = node("n1", json!({"disk": "hdd"}), json!([]));
        let by_selector = ds(json!({"nodeSelector": {"disk": "ssd"}}));
        assert_eq!(fit(&ssd, &by_selector), RUN);
        assert_eq!(fit(&hdd, &by_selector), NONE);
        let by_affinity = ds(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]},
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n0"]}]},
            ]
        }}}}));
        assert_eq!(fit(&ssd, &by_affinity), RUN, "second term matches by name");
        assert_eq!(fit(&hdd, &by_affinity), RUN, "first term matches by label");
        let pinned = ds(json!({"nodeName": "n1"}));
        assert_eq!(fit(&ssd, &pinned), NONE);
        assert_eq!(fit(&hdd, &pinned), RUN);
    }

    #[test]
    fn no_schedule_keeps_running_pods_no_execute_evicts() {
        let no_schedule = node("n0", json!({}), json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]));
        let no_execute = node("n0", json!({}), json!([{"key": "dedicated", "value": "db", "effect": "NoExecute"}]));
        let prefer = node("n0", json!({}), json!([{"key": "dedicated", "effect": "PreferNoSchedule"}]));
        let plain = ds(json!({}));
        assert_eq!(fit(&no_schedule, &plain), STAY);
        assert_eq!(fit(&no_execute, &plain), NONE);
        assert_eq!(fit(&prefer, &plain), RUN);
        let tolerant = ds(json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db"}]}));
        assert_eq!(fit(&no_schedule, &tolerant), RUN);
        assert_eq!(fit(&no_execute, &tolerant), RUN);
        let wrong_value = ds(json!({"tolerations": [{"key": "dedicated", "value": "web"}]}));
        assert_eq!(fit(&no_execute, &wrong_value), NONE);
    }

    #[test]
    fn daemon_tolerations_cover_node_problems() {
        let cordoned =
            node("n0", json!({}), json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]));
        let not_ready = node("n0", json!({}), json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]));
        let no_network =
            node("n0", json!({}), json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]));
        assert_eq!(fit(&cordoned, &ds(json!({}))), RUN);
        assert_eq!(fit(&not_ready, &ds(json!({}))), RUN);
        assert_eq!(fit(&no_network, &ds(json!({}))), STAY);
        assert_eq!(fit(&no_network, &ds(json!({"hostNetwork": true}))), RUN);
    }

    #[test]
    fn default_tolerations_replace_equal_ones() {
        let mut spec: PodSpec = serde_json::from_value(json!({
            "containers": [],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
                {"key": "custom", "operator": "Exists"},
            ],
        }))
        .unwrap();
        add_daemon_tolerations(&mut spec);
        let tolerations = spec.tolerations.unwrap();
        assert_eq!(tolerations.len(), 7);
        assert_eq!(tolerations[0].key.as_deref(), Some("node.kubernetes.io/not-ready"));
        assert_eq!(tolerations[0].toleration_seconds, None, "replaced by the daemon default");
        assert_eq!(tolerations[1].key.as_deref(), Some("custom"));
    }

    #[test]
    fn field_requirements_need_one_value() {
        let n = node("n0", json!({}), json!([]));
        let two = ds(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n0", "n1"]}]}]
        }}}}));
        assert_eq!(fit(&n, &two), NONE);
        let empty_term = ds(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{}]
        }}}}));
        assert_eq!(fit(&n, &empty_term), NONE);
    }
}
