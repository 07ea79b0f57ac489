//! The scheduler's view of the cluster, built from the pod and node watches: only what
//! scheduling needs (node shapes, what placed pods request, the waiting pods' constraints),
//! never whole objects, so memory stays small with many pods.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;

use super::fit::{NodeView, PodView, Usage};
use crate::key::PodKey;
use crate::resources::{pod_requests, Resources};

/// A pod with a node that still takes its share of it.
#[derive(Debug, Clone)]
struct Placed {
    node: String,
    requests: Resources,
}

/// The PodScheduled condition a waiting pod shows now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scheduled {
    pub status: String,
    pub reason: String,
    pub message: String,
    pub since: Option<Timestamp>,
}

/// A pod waiting for this scheduler.
#[derive(Debug, Clone)]
pub struct Pending {
    pub uid: String,
    pub view: PodView,
    pub priority: i32,
    pub created: Option<Timestamp>,
    pub gated: bool,
    pub condition: Option<Scheduled>,
}

/// What one scheduling pass works from: nodes, their usage by node name, waiting pods.
pub type Snapshot = (Vec<NodeView>, HashMap<String, Usage>, Vec<(PodKey, Pending)>);

/// A waiting pod placed on a node whose binding is being written.
#[derive(Debug, Clone)]
struct Assumed {
    node: String,
    pod: Pending,
}

/// Nodes, placed pods and waiting pods.
#[derive(Debug, Default)]
pub struct Cache {
    nodes: BTreeMap<String, NodeView>,
    placed: HashMap<PodKey, Placed>,
    pending: HashMap<PodKey, Pending>,
    /// Pods counted on their node while their binding is written; they wait no more.
    assumed: HashMap<PodKey, Assumed>,
    pods_synced: bool,
    nodes_synced: bool,
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

impl Cache {
    /// Takes in a pod as the watch saw it.
    /// Answers whether anything scheduling depends on changed (so a pass is worth running):
    /// the status updates of running pods, the bulk of pod events, change nothing.
    pub fn apply_pod(&mut self, pod: &Pod, scheduler_name: &str) -> bool {
        let key = PodKey::of(pod);
        let Some(spec) = pod.spec.as_ref() else { return false };
        let node = spec.node_name.as_deref().unwrap_or("");
        if is_terminal(pod) {
            return self.placed.remove(&key).is_some() | self.stop_waiting(&key);
        }
        if !node.is_empty() {
            // A pod being deleted still holds its share until it is gone, as in kube.
            let was_pending = self.stop_waiting(&key);
            let requests = pod_requests(spec);
            if self.placed.get(&key).is_some_and(|p| p.node == node && p.requests == requests) {
                return was_pending;
            }
            self.placed.insert(key, Placed { node: node.to_string(), requests });
            return true;
        }
        let was_placed = self.placed.remove(&key).is_some();
        let ours = spec.scheduler_name.as_deref().is_none_or(|n| n.is_empty() || n == scheduler_name);
        if !ours || pod.metadata.deletion_timestamp.is_some() {
            return self.stop_waiting(&key) | was_placed;
        }
        let condition = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
            .map(|c| Scheduled {
                status: c.status.clone(),
                reason: c.reason.clone().unwrap_or_default(),
                message: c.message.clone().unwrap_or_default(),
                since: c.last_transition_time.as_ref().map(|t| t.0),
            });
        let waiting = Pending {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            view: PodView::from_pod(pod),
            priority: spec.priority.unwrap_or(0),
            created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
            gated: spec.scheduling_gates.as_ref().is_some_and(|g| !g.is_empty()),
            condition,
        };
        // While its binding is written, a pod's news (its own PodScheduled condition, say) is
        // kept for the case the binding fails; it does not wait again.
        if let Some(assumed) = self.assumed.get_mut(&key) {
            assumed.pod = waiting;
            return was_placed;
        }
        self.pending.insert(key, waiting);
        true
    }

    /// Drops a pod from the waiting ones, assumed ones included; answers whether it was one.
    fn stop_waiting(&mut self, key: &PodKey) -> bool {
        self.pending.remove(key).is_some() | self.assumed.remove(key).is_some()
    }

    /// Forgets a deleted pod.
    pub fn delete_pod(&mut self, key: &PodKey) {
        self.placed.remove(key);
        self.stop_waiting(key);
    }

    /// Forgets pods a fresh list did not show (deleted while the watch was down).
    pub fn retain_pods(&mut self, seen: &HashSet<PodKey>) {
        self.placed.retain(|k, _| seen.contains(k));
        self.pending.retain(|k, _| seen.contains(k));
        self.assumed.retain(|k, _| seen.contains(k));
        self.pods_synced = true;
    }

    /// Takes in a node as the watch saw it; answers whether its scheduling view changed
    /// (heartbeats do not change it).
    pub fn apply_node(&mut self, node: &Node) -> bool {
        let view = NodeView::from_node(node);
        self.nodes.insert(view.name.clone(), view.clone()).as_ref() != Some(&view)
    }

    /// Forgets a deleted node.
    pub fn delete_node(&mut self, name: &str) {
        self.nodes.remove(name);
    }

    /// Forgets nodes a fresh list did not show.
    pub fn retain_nodes(&mut self, seen: &HashSet<String>) {
        self.nodes.retain(|k, _| seen.contains(k));
        self.nodes_synced = true;
    }

    /// Whether both watches have listed everything once; before that, usage is incomplete.
    pub fn synced(&self) -> bool {
        self.pods_synced && self.nodes_synced
    }

    /// Counts a waiting pod on `node` before its binding is written, as kube-scheduler's
    /// AssumePod does: later decisions see the node's share taken, and the pod waits no more.
    /// False when the pod no longer waits (bound or deleted meanwhile).
    pub fn assume(&mut self, key: &PodKey, node: &str) -> bool {
        let Some(pod) = self.pending.remove(key) else { return false };
        self.assumed.insert(key.clone(), Assumed { node: node.to_string(), pod });
        true
    }

    /// Undoes [`Cache::assume`] after a binding failed: the pod waits again, unless the watch
    /// has told of it since.
    pub fn forget(&mut self, key: &PodKey) {
        if let Some(a) = self.assumed.remove(key) {
            self.pending.insert(key.clone(), a.pod);
        }
    }

    /// Records the PodScheduled condition just written, so it is not written again.
    pub fn set_condition(&mut self, key: &PodKey, condition: Scheduled) {
        if let Some(p) = self.pending.get_mut(key) {
            p.condition = Some(condition);
        }
    }

    /// The nodes, their usage, and the waiting pods in kube's queue order (higher priority
    /// first, then older first).
    pub fn snapshot(&self) -> Snapshot {
        let nodes: Vec<NodeView> = self.nodes.values().cloned().collect();
        let mut usage: HashMap<String, Usage> = HashMap::new();
        for p in self.placed.values() {
            usage.entry(p.node.clone()).or_default().add(&p.requests);
        }
        for a in self.assumed.values() {
            usage.entry(a.node.clone()).or_default().add(&a.pod.view.requests);
        }
        let mut pending: Vec<(PodKey, Pending)> = self.pending.iter().map(|(k, p)| (k.clone(), p.clone())).collect();
        pending.sort_by(|(ka, a), (kb, b)| {
            b.priority.cmp(&a.priority).then_with(|| a.created.cmp(&b.created)).then_with(|| ka.cmp(kb))
        });
        (nodes, usage, pending)
    }

    /// How many pods wait.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, node: Option<&str>, phase: &str) -> Pod {
        Pod {
            metadata: ObjectMeta { name: Some(name.into()), namespace: Some("ns".into()), ..Default::default() },
            spec: Some(PodSpec {
                node_name: node.map(str::to_string),
                scheduler_name: Some("default-scheduler".into()),
                ..Default::default()
            }),
            status: Some(PodStatus { phase: Some(phase.into()), ..Default::default() }),
        }
    }

    #[test]
    fn tracks_pending_and_placed_pods() {
        let mut c = Cache::default();
        c.apply_pod(&pod("a", None, "Pending"), "default-scheduler");
        c.apply_pod(&pod("b", Some("n1"), "Running"), "default-scheduler");
        c.apply_pod(&pod("c", Some("n1"), "Succeeded"), "default-scheduler");
        let mut other = pod("d", None, "Pending");
        other.spec.as_mut().unwrap().scheduler_name = Some("other".into());
        c.apply_pod(&other, "default-scheduler");
        let (_, usage, pending) = c.snapshot();
        assert_eq!(pending.len(), 1);
        assert_eq!(usage["n1"].pods, 1, "terminal pods free their node");
        let key = pending[0].0.clone();
        assert!(c.assume(&key, "n2"));
        let (_, usage, pending) = c.snapshot();
        assert!(pending.is_empty(), "an assumed pod waits no more");
        assert_eq!(usage["n2"].pods, 1, "an assumed pod takes its share at once");
        c.apply_pod(&pod("a", None, "Pending"), "default-scheduler");
        assert!(c.snapshot().2.is_empty(), "news of a pod being bound does not queue it again");
        c.forget(&key);
        let (_, usage, pending) = c.snapshot();
        assert_eq!(pending.len(), 1, "a failed binding leaves the pod waiting");
        assert!(!usage.contains_key("n2"));
        assert!(c.assume(&key, "n2"));
        c.apply_pod(&pod("a", Some("n2"), "Pending"), "default-scheduler");
        c.forget(&key);
        let (_, usage, pending) = c.snapshot();
        assert!(pending.is_empty(), "a pod the watch saw bound stays placed");
        assert_eq!(usage["n2"].pods, 1);
        assert!(!c.assume(&key, "n1"), "only waiting pods are assumed");
        assert!(!c.synced());
        c.retain_pods(&HashSet::new());
        c.retain_nodes(&HashSet::new());
        assert!(c.synced());
        assert!(c.snapshot().1.is_empty());
    }
}
