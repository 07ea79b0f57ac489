//! Whether a pod fits a node, why not, and which fitting node is best: kube-scheduler's
//! filter plugins in their default order (NodeUnschedulable, TaintToleration, NodeAffinity,
//! NodeResourcesFit), its `FitError` message, and a least-allocated score that spreads pods.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Node, NodeSelector, Pod, Taint, Toleration};

use super::{affinity, taints};
use crate::resources::{pod_requests, Resources};

/// What the scheduler needs of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: Resources,
}

impl NodeView {
    /// The scheduling view of a Node object.
    pub fn from_node(node: &Node) -> Self {
        let spec = node.spec.as_ref();
        NodeView {
            name: node.metadata.name.clone().unwrap_or_default(),
            labels: node.metadata.labels.clone().unwrap_or_default(),
            taints: spec.and_then(|s| s.taints.clone()).unwrap_or_default(),
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            allocatable: Resources::from_list(node.status.as_ref().and_then(|s| s.allocatable.as_ref())),
        }
    }

    /// How many pods the node takes (`allocatable.pods`, in whole pods).
    pub fn max_pods(&self) -> i128 {
        self.allocatable.get("pods") / 1000
    }
}

/// What the scheduler needs of a pod that waits for a node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodView {
    pub requests: Resources,
    pub node_selector: BTreeMap<String, String>,
    pub required_affinity: Option<NodeSelector>,
    pub tolerations: Vec<Toleration>,
}

impl PodView {
    /// The scheduling view of a Pod object.
    pub fn from_pod(pod: &Pod) -> Self {
        let Some(spec) = pod.spec.as_ref() else { return PodView::default() };
        PodView {
            requests: pod_requests(spec),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_affinity: spec
                .affinity
                .as_ref()
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|na| na.required_during_scheduling_ignored_during_execution.clone()),
            tolerations: spec.tolerations.clone().unwrap_or_default(),
        }
    }
}

/// What the pods already on a node take of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub requested: Resources,
    pub pods: i128,
}

impl Usage {
    /// Adds one pod with `requests`.
    pub fn add(&mut self, requests: &Resources) {
        self.requested.add(requests);
        self.pods += 1;
    }
}

/// Why a node does not fit a pod, worded as kube-scheduler's plugins word it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    Unschedulable,
    Taint { key: String, value: String },
    Affinity,
    TooManyPods,
    Insufficient(String),
}

impl Reason {
    /// The text kube counts in its FitError message.
    pub fn text(&self) -> String {
        match self {
            Reason::Unschedulable => "node(s) were unschedulable".into(),
            Reason::Taint { key, value } => format!("node(s) had untolerated taint {{{key}: {value}}}"),
            Reason::Affinity => "node(s) didn't match Pod's node affinity/selector".into(),
            Reason::TooManyPods => "Too many pods".into(),
            Reason::Insufficient(r) => format!("Insufficient {r}"),
        }
    }

    /// Whether evicting other pods could help (kube's `Unschedulable` versus
    /// `UnschedulableAndUnresolvable`): only a lack of resources.
    pub fn resolvable(&self) -> bool {
        matches!(self, Reason::TooManyPods | Reason::Insufficient(_))
    }
}

/// Why `pod` does not fit `node` given what is on it; empty when it fits. Like kube, the
/// first failing plugin decides, and the resource plugin reports every missing resource.
pub fn check(pod: &PodView, node: &NodeView, usage: &Usage) -> Vec<Reason> {
    if node.unschedulable && !taints::tolerates_unschedulable(&pod.tolerations) {
        return vec![Reason::Unschedulable];
    }
    if let Some(t) = taints::first_untolerated(&node.taints, &pod.tolerations) {
        return vec![Reason::Taint { key: t.key.clone(), value: t.value.clone().unwrap_or_default() }];
    }
    let selected = affinity::matches_node_selector(&pod.node_selector, &node.labels)
        && pod.required_affinity.as_ref().is_none_or(|a| affinity::matches_required(a, &node.name, &node.labels));
    if !selected {
        return vec![Reason::Affinity];
    }
    let mut reasons = Vec::new();
    if usage.pods + 1 > node.max_pods() {
        reasons.push(Reason::TooManyPods);
    }
    for (name, want) in pod.requests.iter() {
        if want > 0 && want > node.allocatable.get(name) - usage.requested.get(name) {
            reasons.push(Reason::Insufficient(name.to_string()));
        }
    }
    reasons
}

/// kube-scheduler's message for a pod no node fits, e.g. `0/3 nodes are available: 1 Insufficient
/// cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are
/// available: 3 Preemption is not helpful for scheduling.`
pub fn fit_error_message(total_nodes: usize, per_node: &[Vec<Reason>]) -> String {
    if total_nodes == 0 {
        return "no nodes available to schedule pods".into();
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for reasons in per_node {
        for r in reasons {
            *counts.entry(r.text()).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = counts.iter().map(|(text, n)| format!("{n} {text}")).collect();
    // kube sorts the "<count> <reason>" strings themselves.
    parts.sort();
    let mut msg = format!("0/{total_nodes} nodes are available: {}.", parts.join(", "));
    // Preemption is never tried here; its verdict is what kube's DefaultPreemption would say
    // with no lower-priority victims: resource shortages find no victims, the rest cannot help.
    let no_victims = per_node.iter().filter(|r| !r.is_empty() && r.iter().all(Reason::resolvable)).count();
    let not_helpful = total_nodes - no_victims;
    let mut verdicts = Vec::new();
    if no_victims > 0 {
        verdicts.push(format!("{no_victims} No preemption victims found for incoming pod"));
    }
    if not_helpful > 0 {
        verdicts.push(format!("{not_helpful} Preemption is not helpful for scheduling"));
    }
    verdicts.sort();
    msg.push_str(&format!(" preemption: 0/{total_nodes} nodes are available: {}.", verdicts.join(", ")));
    msg
}

/// kube's defaults for pods that request nothing, so they still spread (`NonZeroRequests`).
const DEFAULT_MILLI_CPU: i128 = 100;
const DEFAULT_MEMORY_MILLI: i128 = 200 * 1024 * 1024 * 1000;

/// The free share (0..=1) of cpu and memory left on `node` after placing `pod`: higher is
/// better (kube's LeastAllocated).
pub fn score(pod: &PodView, node: &NodeView, usage: &Usage) -> f64 {
    let share = |name: &str, default: i128| {
        let alloc = node.allocatable.get(name);
        if alloc <= 0 {
            return 0.0;
        }
        let want = match pod.requests.get(name) {
            0 => default,
            n => n,
        };
        let used = usage.requested.get(name) + want;
        ((alloc - used).max(0) as f64) / (alloc as f64)
    };
    (share("cpu", DEFAULT_MILLI_CPU) + share("memory", DEFAULT_MEMORY_MILLI)) / 2.0
}

/// The best node for `pod` among those it fits: the most free, then the one with fewest
/// pods, then by name so the choice is stable. Answers the per-node reasons otherwise.
pub fn choose<'a>(
    pod: &PodView,
    nodes: &'a [NodeView],
    usage: &HashMap<String, Usage>,
) -> Result<&'a NodeView, Vec<Vec<Reason>>> {
    let empty = Usage::default();
    let mut best: Option<(&NodeView, f64, i128)> = None;
    let mut failures = Vec::new();
    for node in nodes {
        let u = usage.get(&node.name).unwrap_or(&empty);
        let reasons = check(pod, node, u);
        if !reasons.is_empty() {
            failures.push(reasons);
            continue;
        }
        let s = score(pod, node, u);
        let better = match best {
            None => true,
            Some((b, bs, bp)) => {
                s > bs + 1e-9 || ((s - bs).abs() <= 1e-9 && (u.pods < bp || (u.pods == bp && node.name < b.name)))
            }
        };
        if better {
            best = Some((node, s, u.pods));
        }
    }
    best.map(|(n, _, _)| n).ok_or(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cpu: i128, pods: i128) -> NodeView {
        NodeView {
            name: name.into(),
            labels: BTreeMap::from([("kubernetes.io/hostname".to_string(), name.to_string())]),
            taints: vec![],
            unschedulable: false,
            allocatable: Resources::of(&[("cpu", cpu), ("memory", 1 << 40), ("pods", pods * 1000)]),
        }
    }

    fn pod(cpu: i128) -> PodView {
        PodView { requests: Resources::of(&[("cpu", cpu)]), ..Default::default() }
    }

    #[test]
    fn resources_and_pod_count() {
        let n = node("n", 1000, 2);
        assert!(check(&pod(1000), &n, &Usage::default()).is_empty());
        assert_eq!(check(&pod(1001), &n, &Usage::default()), vec![Reason::Insufficient("cpu".into())]);
        let used = Usage { requested: Resources::of(&[("cpu", 600)]), pods: 2 };
        assert_eq!(check(&pod(500), &n, &used), vec![Reason::TooManyPods, Reason::Insufficient("cpu".into())]);
        let big = PodView { requests: Resources::of(&[("example.com/gpu", 1000)]), ..Default::default() };
        assert_eq!(check(&big, &n, &Usage::default()), vec![Reason::Insufficient("example.com/gpu".into())]);
    }

    #[test]
    fn first_failing_filter_decides() {
        let mut n = node("n", 1000, 10);
        n.unschedulable = true;
        n.taints.push(Taint {
            key: "k".into(),
            value: Some("v".into()),
            effect: "NoSchedule".into(),
            time_added: None,
        });
        let mut p = pod(5000);
        p.node_selector.insert("disk".into(), "ssd".into());
        assert_eq!(check(&p, &n, &Usage::default()), vec![Reason::Unschedulable]);
        n.unschedulable = false;
        assert_eq!(check(&p, &n, &Usage::default()), vec![Reason::Taint { key: "k".into(), value: "v".into() }]);
        n.taints.clear();
        assert_eq!(check(&p, &n, &Usage::default()), vec![Reason::Affinity]);
        n.labels.insert("disk".into(), "ssd".into());
        assert_eq!(check(&p, &n, &Usage::default()), vec![Reason::Insufficient("cpu".into())]);
    }

    #[test]
    fn message_in_kube_form() {
        let per_node = vec![
            vec![Reason::Insufficient("cpu".into())],
            vec![Reason::Insufficient("cpu".into()), Reason::Insufficient("memory".into())],
            vec![Reason::Taint { key: "node-role.kubernetes.io/control-plane".into(), value: String::new() }],
        ];
        assert_eq!(
            fit_error_message(3, &per_node),
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint \
             {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: \
             1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
        assert_eq!(
            fit_error_message(2, &[vec![Reason::Affinity], vec![Reason::Affinity]]),
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
        assert_eq!(fit_error_message(0, &[]), "no nodes available to schedule pods");
    }

    #[test]
    fn chooses_least_loaded_then_name() {
        let nodes = vec![node("b", 4000, 110), node("a", 4000, 110), node("c", 4000, 110)];
        let mut usage = HashMap::new();
        assert_eq!(choose(&pod(100), &nodes, &usage).unwrap().name, "a");
        usage.entry("a".to_string()).or_insert_with(Usage::default).add(&Resources::of(&[("cpu", 100)]));
        assert_eq!(choose(&pod(100), &nodes, &usage).unwrap().name, "b");
        let err = choose(&pod(5000), &nodes, &usage).unwrap_err();
        assert_eq!(err.len(), 3);
    }
}
