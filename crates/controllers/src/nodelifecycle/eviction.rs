//! Taint eviction (kube's `tainteviction` controller, component `taint-eviction-controller`):
//! pods on a node with `NoExecute` taints they do not all tolerate are deleted at once; pods
//! that tolerate them for `tolerationSeconds` are deleted when the shortest such toleration
//! runs out; pods that tolerate them forever stay. A deletion is announced with
//! `TaintManagerEviction` "Marking for deletion Pod ns/name" and marked on the pod with the
//! `DisruptionTarget` condition; a deletion that was scheduled and is no longer due (the taint
//! went away, the pod left) with "Cancelling deletion of Pod ns/name".
//!
//! The cached pods carry no tolerations (see `trim.rs`), so the pods of a tainted node are
//! listed from the API server (`fieldSelector=spec.nodeName=<node>`), and only again when its
//! taints or pods change or a deletion is due; untainted nodes cost nothing.
//!
//! kube counts a toleration from the moment its controller saw the taint on the pod's node, so
//! a restarted controller grants the full time again. Here the time counts from the taint's
//! `timeAdded`, or from the pod's binding (its `PodScheduled` condition) for a pod bound to an
//! already tainted node (rounded up to the next second, as both are stored cut to the second):
//! what kube's rule amounts to while the controller runs, and it survives a restart.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, Preconditions};
use serde_json::json;
use tracing::info;

use super::taints::{no_execute, tolerates};
use super::time::to_time;
use crate::events::{self, About};
use crate::pods as podutil;

/// Events about pods, as kube's taint eviction controller records them.
pub const ABOUT: About<'static> = About { component: "taint-eviction-controller", kind: "Pod", api_version: "v1" };

const REASON: &str = "TaintManagerEviction";

/// Why the taint eviction of a node failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to list the pods of node {0}: {1}")]
    ListPods(String, #[source] kube::Error),
    #[error("failed to evict pod {0}: {1}")]
    Evict(String, #[source] kube::Error),
}

/// When a pod on a tainted node has to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Some taint is not tolerated, or only with `tolerationSeconds` of 0 or less.
    Now,
    /// When the first toleration with `tolerationSeconds` runs out.
    At(DateTime<Utc>),
    /// Every taint is tolerated forever.
    Never,
}

/// When the pod must leave a node with these `NoExecute` taints (kube's
/// `GetMatchingTolerations` and `getMinTolerationTime`: each taint is matched by the first
/// toleration that tolerates it).
pub fn verdict(pod: &Pod, taints: &[&Taint], now: DateTime<Utc>) -> Verdict {
    let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default();
    let bound = bound_at(pod);
    let mut earliest: Option<DateTime<Utc>> = None;
    for taint in taints {
        let Some(toleration) = tolerations.iter().find(|t| tolerates(t, taint)) else { return Verdict::Now };
        let Some(seconds) = toleration.toleration_seconds else { continue };
        if seconds <= 0 {
            return Verdict::Now;
        }
        let added = taint.time_added.as_ref().map(podutil::to_chrono);
        // Stored times are cut to the second: counting from the end of that second gives a
        // pod at least its tolerationSeconds, as kube (which counts from when it saw the taint)
        // does.
        let since = match (added, bound) {
            (Some(a), Some(b)) => a.max(b) + chrono::Duration::seconds(1),
            (Some(t), None) | (None, Some(t)) => t + chrono::Duration::seconds(1),
            (None, None) => now,
        };
        let end = since + chrono::Duration::seconds(seconds);
        earliest = Some(earliest.map_or(end, |e| e.min(end)));
    }
    earliest.map_or(Verdict::Never, Verdict::At)
}

/// When the pod was bound to its node: its PodScheduled condition turning True, else its
/// creation.
fn bound_at(pod: &Pod) -> Option<DateTime<Utc>> {
    let scheduled = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled" && c.status == "True"))
        .and_then(|c| c.last_transition_time.as_ref())
        .map(podutil::to_chrono);
    scheduled.or_else(|| podutil::created(&pod.metadata))
}

/// A deletion waiting for its time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scheduled {
    uid: String,
    at: DateTime<Utc>,
}

/// What the eviction knows of one tainted node.
#[derive(Debug, Default)]
struct NodeState {
    /// The deletions scheduled, by pod `namespace/name`: what a "Cancelling deletion" event is
    /// about.
    scheduled: HashMap<String, Scheduled>,
    /// The `NoExecute` taints the pods were last listed for.
    listed_for: Vec<Taint>,
    /// A pod of the node changed since it was listed.
    pods_changed: bool,
}

/// The taint eviction state of every tainted node. The pods of a node are listed again only
/// when its taints or its pods changed, or a scheduled deletion is due: a node that stays
/// tainted (a kubelet reporting NotReady renews its Lease every 10 s) costs no list each time.
#[derive(Debug, Default)]
pub struct Evictions {
    nodes: Mutex<HashMap<String, NodeState>>,
}

impl Evictions {
    /// Whether deletions are scheduled on `node`.
    pub fn pending_on(&self, node: &str) -> bool {
        self.nodes.lock().is_ok_and(|n| n.get(node).is_some_and(|s| !s.scheduled.is_empty()))
    }

    /// Notes that a pod bound to `node` changed (created, updated, deleted).
    pub fn pod_changed(&self, node: &str) {
        if let Ok(mut nodes) = self.nodes.lock() {
            if let Some(state) = nodes.get_mut(node) {
                state.pods_changed = true;
            }
        }
    }

    /// Forgets the deletions scheduled on a node that is gone; as kube, without events.
    pub fn forget(&self, node: &str) {
        if let Ok(mut nodes) = self.nodes.lock() {
            nodes.remove(node);
        }
    }

    /// The scheduled deletions of `node` if its pods need a new look (its state is then
    /// marked as looked at), or when the next deletion is due.
    fn begin(
        &self,
        node: &str,
        taints: &[&Taint],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, Scheduled>, Option<DateTime<Utc>>> {
        let Ok(mut nodes) = self.nodes.lock() else { return Ok(HashMap::new()) };
        let state = nodes.entry(node.to_string()).or_default();
        let same_taints = state.listed_for.len() == taints.len() && taints.iter().all(|t| state.listed_for.contains(t));
        let due = state.scheduled.values().any(|s| s.at <= now);
        if same_taints && !state.pods_changed && !due {
            return Err(state.scheduled.values().map(|s| s.at).min());
        }
        state.pods_changed = false;
        state.listed_for = taints.iter().map(|t| (*t).clone()).collect();
        Ok(std::mem::take(&mut state.scheduled))
    }

    /// Stores what was scheduled after a look at the pods; `retry` makes the next sync look
    /// again.
    fn end(&self, node: &str, scheduled: HashMap<String, Scheduled>, retry: bool) {
        if let Ok(mut nodes) = self.nodes.lock() {
            let state = nodes.entry(node.to_string()).or_default();
            state.scheduled.extend(scheduled);
            state.pods_changed |= retry;
        }
    }

    /// Evicts what is due on `node` and schedules the rest; answers when to look again.
    pub async fn sync(
        &self,
        client: &kube::Client,
        node: &Node,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let taints = no_execute(node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or_default());
        if taints.is_empty() {
            // The taints are gone: whatever was scheduled is called off.
            let gone = self.nodes.lock().ok().and_then(|mut n| n.remove(name)).unwrap_or_default();
            for key in gone.scheduled.keys() {
                cancelled(client, key);
            }
            return Ok(None);
        }
        let mut previous = match self.begin(name, &taints, now) {
            Ok(previous) => previous,
            Err(next) => return Ok(next),
        };
        let all: Api<Pod> = Api::all(client.clone());
        let pods = match all.list(&ListParams::default().fields(&format!("spec.nodeName={name}"))).await {
            Ok(list) => list.items,
            Err(e) => {
                self.end(name, previous, true);
                return Err(Error::ListPods(name.to_string(), e));
            }
        };
        let mut scheduled: HashMap<String, Scheduled> = HashMap::new();
        let mut next: Option<DateTime<Utc>> = None;
        let mut failure: Option<Error> = None;
        for pod in &pods {
            let key = key_of(&pod.metadata);
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            let before = previous.remove(&key).filter(|s| s.uid == uid);
            if pod.metadata.deletion_timestamp.is_some() {
                // Already going; a deletion still scheduled is called off once it is gone.
                scheduled.extend(before.map(|s| (key, s)));
                continue;
            }
            let due = match verdict(pod, &taints, now) {
                Verdict::Never => {
                    if before.is_some() {
                        cancelled(client, &key);
                    }
                    continue;
                }
                Verdict::Now => {
                    // kube cancels the scheduled deletion before it deletes at once.
                    if before.is_some() {
                        cancelled(client, &key);
                    }
                    now
                }
                // A deletion already scheduled keeps its earlier time.
                Verdict::At(at) => before.map_or(at, |b| b.at.min(at)),
            };
            if due > now {
                next = Some(next.map_or(due, |n| n.min(due)));
                scheduled.insert(key, Scheduled { uid, at: due });
                continue;
            }
            if let Err(e) = evict(client, pod, now).await {
                failure.get_or_insert(Error::Evict(key, e));
            }
        }
        // Scheduled pods that left the node (deleted, or gone elsewhere).
        for key in previous.keys() {
            cancelled(client, key);
        }
        self.end(name, scheduled, failure.is_some());
        match failure {
            Some(e) => Err(e),
            None => Ok(next),
        }
    }
}

fn key_of(meta: &ObjectMeta) -> String {
    format!("{}/{}", meta.namespace.as_deref().unwrap_or_default(), meta.name.as_deref().unwrap_or_default())
}

/// The reference kube's events carry: the pod's namespace and name, no UID.
fn reference(key: &str) -> Pod {
    let (namespace, name) = key.split_once('/').unwrap_or(("", key));
    Pod {
        metadata: ObjectMeta {
            namespace: Some(namespace.to_string()),
            name: Some(name.to_string()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn cancelled(client: &kube::Client, key: &str) {
    info!(pod = %key, "cancelling the eviction of pod");
    let message = format!("Cancelling deletion of Pod {key}");
    events::record(client, ABOUT, &reference(key), events::Type::Normal, REASON, &message);
}

/// Deletes `pod` as kube's taint eviction does: the event, the `DisruptionTarget` condition,
/// then the deletion (with the pod's UID as precondition, so a pod of the same name created
/// meanwhile is spared).
async fn evict(client: &kube::Client, pod: &Pod, now: DateTime<Utc>) -> Result<(), kube::Error> {
    let key = key_of(&pod.metadata);
    info!(pod = %key, "evicting pod from a NoExecute-tainted node");
    events::record(
        client,
        ABOUT,
        &reference(&key),
        events::Type::Normal,
        REASON,
        &format!("Marking for deletion Pod {key}"),
    );
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    if !has_disruption_target(pod) {
        let patch = json!({"status": {"conditions": [{
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastTransitionTime": to_time(now),
        }]}});
        match api.patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch)).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions { uid: pod.metadata.uid.clone(), resource_version: None }),
        ..Default::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

fn has_disruption_target(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
        cs.iter().any(|c| {
            c.type_ == "DisruptionTarget" && c.status == "True" && c.reason.as_deref() == Some("DeletionByTaintManager")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodelifecycle::taints::{NOT_READY, NO_EXECUTE, UNREACHABLE};
    use chrono::TimeZone;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus, Toleration};

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn taint(key: &str, added: Option<i64>) -> Taint {
        Taint { key: key.into(), effect: NO_EXECUTE.into(), value: None, time_added: added.map(|s| to_time(t(s))) }
    }

    fn tolerate(key: &str, seconds: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some(NO_EXECUTE.into()),
            toleration_seconds: seconds,
            ..Default::default()
        }
    }

    /// A pod bound at `bound` with these tolerations.
    fn pod(bound: i64, tolerations: Vec<Toleration>) -> Pod {
        Pod {
            spec: Some(PodSpec { tolerations: Some(tolerations), ..Default::default() }),
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "PodScheduled".into(),
                    status: "True".into(),
                    last_transition_time: Some(to_time(t(bound))),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn untolerated_taints_evict_at_once() {
        let taints = [taint(UNREACHABLE, Some(0))];
        assert_eq!(verdict(&pod(-100, vec![]), &[&taints[0]], t(1)), Verdict::Now);
        let other = pod(-100, vec![tolerate(NOT_READY, None)]);
        assert_eq!(verdict(&other, &[&taints[0]], t(1)), Verdict::Now);
        let zero = pod(-100, vec![tolerate(UNREACHABLE, Some(0))]);
        assert_eq!(verdict(&zero, &[&taints[0]], t(1)), Verdict::Now);
    }

    #[test]
    fn toleration_seconds_count_from_the_taint() {
        let taints = [taint(UNREACHABLE, Some(10))];
        let p = pod(-100, vec![tolerate(UNREACHABLE, Some(300))]);
        assert_eq!(verdict(&p, &[&taints[0]], t(11)), Verdict::At(t(311)));
        // The default tolerations of every pod (DefaultTolerationSeconds) for both taints.
        let both = pod(-100, vec![tolerate(NOT_READY, Some(300)), tolerate(UNREACHABLE, Some(300))]);
        assert_eq!(verdict(&both, &[&taints[0]], t(11)), Verdict::At(t(311)));
    }

    #[test]
    fn a_pod_bound_to_a_tainted_node_gets_its_full_time() {
        let taints = [taint(UNREACHABLE, Some(10))];
        let p = pod(500, vec![tolerate(UNREACHABLE, Some(300))]);
        assert_eq!(verdict(&p, &[&taints[0]], t(501)), Verdict::At(t(801)));
    }

    #[test]
    fn a_taint_without_time_counts_from_now_at_worst() {
        let taints = [taint(UNREACHABLE, None)];
        let mut p = pod(0, vec![tolerate(UNREACHABLE, Some(30))]);
        assert_eq!(verdict(&p, &[&taints[0]], t(100)), Verdict::At(t(31)));
        p.status = None;
        assert_eq!(verdict(&p, &[&taints[0]], t(100)), Verdict::At(t(130)));
    }

    #[test]
    fn the_shortest_toleration_wins_and_forever_is_never() {
        let taints = [taint(UNREACHABLE, Some(0)), taint("example.com/maintenance", Some(0))];
        let refs: Vec<&Taint> = taints.iter().collect();
        let forever = pod(-10, vec![tolerate(UNREACHABLE, None), tolerate("example.com/maintenance", None)]);
        assert_eq!(verdict(&forever, &refs, t(1)), Verdict::Never);
        let mixed = pod(-10, vec![tolerate(UNREACHABLE, None), tolerate("example.com/maintenance", Some(60))]);
        assert_eq!(verdict(&mixed, &refs, t(1)), Verdict::At(t(61)));
        let short = pod(-10, vec![tolerate(UNREACHABLE, Some(5)), tolerate("example.com/maintenance", Some(60))]);
        assert_eq!(verdict(&short, &refs, t(1)), Verdict::At(t(6)));
    }

    #[test]
    fn the_first_matching_toleration_decides() {
        // kube takes the first toleration that tolerates a taint, even if a later one is longer.
        let taints = [taint(UNREACHABLE, Some(0))];
        let p = pod(-10, vec![tolerate(UNREACHABLE, Some(20)), tolerate(UNREACHABLE, None)]);
        assert_eq!(verdict(&p, &[&taints[0]], t(1)), Verdict::At(t(21)));
    }

    #[test]
    fn pods_are_listed_again_only_when_something_changed() {
        let e = Evictions::default();
        let unreachable = taint(UNREACHABLE, Some(0));
        let first = e.begin("n1", &[&unreachable], t(1));
        assert_eq!(first, Ok(HashMap::new()), "a node is listed the first time");
        let scheduled = HashMap::from([("ns/p".to_string(), Scheduled { uid: "u".into(), at: t(100) })]);
        e.end("n1", scheduled.clone(), false);
        assert!(e.pending_on("n1"));
        assert_eq!(e.begin("n1", &[&unreachable], t(50)), Err(Some(t(100))), "nothing changed: wake at the deadline");
        e.pod_changed("n1");
        assert_eq!(e.begin("n1", &[&unreachable], t(50)), Ok(scheduled.clone()));
        e.end("n1", scheduled.clone(), false);
        assert_eq!(e.begin("n1", &[&unreachable], t(100)), Ok(scheduled.clone()), "a deletion is due");
        e.end("n1", scheduled.clone(), false);
        let not_ready = taint(NOT_READY, Some(0));
        assert_eq!(e.begin("n1", &[&not_ready], t(50)), Ok(scheduled.clone()), "the taints changed");
        e.end("n1", HashMap::new(), true);
        assert_eq!(e.begin("n1", &[&not_ready], t(50)), Ok(HashMap::new()), "a failed sync looks again");
        e.forget("n1");
        assert!(!e.pending_on("n1"));
    }

    #[test]
    fn no_taints_never_evict() {
        assert_eq!(verdict(&pod(0, vec![]), &[], t(1)), Verdict::Never);
    }
}
