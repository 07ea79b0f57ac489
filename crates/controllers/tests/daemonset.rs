//! DaemonSets driven with the real kubectl on nodesim's three nodes: one pod per node, placement
//! by labels and taints, rolling updates (with and without surge), OnDelete, history and undo,
//! and the columns and status kubectl reads. Only the daemonset controller runs, so every pod
//! change seen here is its doing.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{ready, rollout_revisions, running, Env, WAIT};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use nestor_testkit::eventually;
use nestor_testkit::kubectl::rows;

const NODES: [&str; 3] = ["nestor-node-0", "nestor-node-1", "nestor-node-2"];

async fn start() -> Env {
    Env::start_with(&["--controllers=daemonset"]).await
}

/// A DaemonSet of `image` labelled app=`name`; `spec_extra` goes under `spec` (indented two
/// spaces), `pod_extra` under the template's `spec` (indented six).
fn daemonset(name: &str, image: &str, ready_after: &str, spec_extra: &str, pod_extra: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
spec:
  selector:
    matchLabels:
      app: {name}
{spec_extra}  template:
    metadata:
      labels:
        app: {name}
      annotations:
        nestor.dev/sim-ready-after: "{ready_after}"
    spec:
{pod_extra}      containers:
      - name: app
        image: {image}
"#
    )
}

fn image(pod: &Pod) -> String {
    pod.spec.as_ref().unwrap().containers[0].image.clone().unwrap_or_default()
}

fn node_of(pod: &Pod) -> String {
    pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default()
}

/// The node a pod is bound to or, before that, pinned to by its affinity.
fn target(pod: &Pod) -> String {
    let spec = pod.spec.as_ref().unwrap();
    if let Some(node) = spec.node_name.clone() {
        return node;
    }
    let required = spec.affinity.as_ref().unwrap().node_affinity.as_ref().unwrap();
    let terms = &required.required_during_scheduling_ignored_during_execution.as_ref().unwrap().node_selector_terms;
    terms[0].match_fields.as_ref().unwrap()[0].values.clone().unwrap()[0].clone()
}

fn live(pods: Vec<Pod>) -> Vec<Pod> {
    pods.into_iter().filter(|p| p.metadata.deletion_timestamp.is_none()).collect()
}

async fn get_ds(env: &Env, name: &str) -> DaemonSet {
    Api::<DaemonSet>::namespaced(env.client.clone(), "default").get(name).await.unwrap()
}

/// Waits until the pods of `app` are one Running, ready pod of `image` on each node.
async fn wait_one_per_node(env: &Env, app: &str, image_name: &str) -> Vec<Pod> {
    eventually(WAIT, &format!("one ready {image_name} pod of {app} per node"), || async {
        let pods = env.pods("default", &format!("app={app}")).await;
        let nodes: BTreeSet<String> = pods.iter().map(node_of).collect();
        let ok = pods.len() == 3
            && nodes.len() == 3
            && pods.iter().all(|p| running(p) && ready(p) && image(p) == image_name);
        ok.then_some(pods)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pod_per_node_rolling_update_history_and_undo() {
    let env = start().await;
    env.apply(&daemonset("agent", "agent:1", "300ms", "", ""));
    env.k(&["rollout", "status", "daemonset/agent", "--timeout=90s"]);
    let pods = wait_one_per_node(&env, "agent", "agent:1").await;
    let table = env.k(&["get", "ds", "agent"]);
    assert_eq!(&rows(&table)[0][..6], ["agent", "3", "3", "3", "3", "3"], "{table}");

    let ds = get_ds(&env, "agent").await;
    let status = ds.status.clone().unwrap();
    assert_eq!(status.observed_generation, ds.metadata.generation);
    assert_eq!((status.number_misscheduled, status.number_unavailable), (0, None));
    let revs: Vec<ControllerRevision> = Api::namespaced(env.client.clone(), "default")
        .list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap()
        .items;
    assert_eq!(revs.len(), 1);
    let hash = revs[0].metadata.labels.as_ref().unwrap()["controller-revision-hash"].clone();
    assert_eq!(revs[0].metadata.name.as_deref(), Some(format!("agent-{hash}").as_str()));
    assert_eq!(revs[0].revision, 1);
    for pod in &pods {
        let meta = &pod.metadata;
        assert!(meta.name.as_ref().unwrap().starts_with("agent-"));
        let owner = &meta.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.name.as_str(), owner.controller), ("DaemonSet", "agent", Some(true)));
        let labels = meta.labels.as_ref().unwrap();
        assert_eq!(labels["controller-revision-hash"], hash);
        assert_eq!(labels["pod-template-generation"], "1");
        // Pinned by affinity (the scheduler bound it there), with kube's daemon tolerations.
        let spec = pod.spec.as_ref().unwrap();
        let required = spec.affinity.as_ref().unwrap().node_affinity.as_ref().unwrap();
        let term =
            &required.required_during_scheduling_ignored_during_execution.as_ref().unwrap().node_selector_terms[0];
        let field = &term.match_fields.as_ref().unwrap()[0];
        assert_eq!((field.key.as_str(), field.values.clone().unwrap()), ("metadata.name", vec![node_of(pod)]));
        let tolerated: BTreeSet<String> = spec.tolerations.iter().flatten().filter_map(|t| t.key.clone()).collect();
        for key in ["not-ready", "unreachable", "disk-pressure", "memory-pressure", "pid-pressure", "unschedulable"] {
            assert!(tolerated.contains(&format!("node.kubernetes.io/{key}")), "{key} missing: {tolerated:?}");
        }
    }

    // An image change rolls one node at a time (maxUnavailable 1): never fewer than two nodes
    // with a ready pod, never two pods on a node.
    env.k(&["set", "image", "daemonset/agent", "app=agent:2"]);
    let mut samples = 0;
    eventually(WAIT, "the rollout to agent:2 within maxUnavailable", || {
        samples += 1;
        let env = &env;
        async move {
            let pods = live(env.pods("default", "app=agent").await);
            let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
            for p in &pods {
                *per_node.entry(target(p)).or_default() += 1;
            }
            assert!(per_node.values().all(|n| *n <= 1), "two pods on a node: {per_node:?}");
            let ready_nodes = pods.iter().filter(|p| ready(p)).count();
            assert!(ready_nodes >= 2, "{ready_nodes} nodes with a ready pod, fewer than 3 - maxUnavailable 1");
            (pods.len() == 3 && pods.iter().all(|p| ready(p) && image(p) == "agent:2")).then_some(())
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert!(samples > 1);
    env.k(&["rollout", "status", "daemonset/agent", "--timeout=90s"]);
    let history = env.k(&["rollout", "history", "daemonset/agent"]);
    assert_eq!(rollout_revisions(&history), ["1", "2"], "{history}");
    let pods = wait_one_per_node(&env, "agent", "agent:2").await;
    assert!(pods.iter().all(|p| p.metadata.labels.as_ref().unwrap()["pod-template-generation"] == "2"));

    // Undo brings revision 1's template back; its revision is renumbered 3, no new one is made.
    env.k(&["rollout", "undo", "daemonset/agent"]);
    env.k(&["rollout", "status", "daemonset/agent", "--timeout=90s"]);
    let pods = wait_one_per_node(&env, "agent", "agent:1").await;
    let history = env.k(&["rollout", "history", "daemonset/agent"]);
    assert_eq!(rollout_revisions(&history), ["2", "3"], "{history}");
    let revs: Vec<ControllerRevision> = Api::namespaced(env.client.clone(), "default")
        .list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap()
        .items;
    let back = revs.iter().find(|r| r.revision == 3).unwrap();
    assert_eq!(back.metadata.labels.as_ref().unwrap()["controller-revision-hash"], hash);
    assert!(pods.iter().all(|p| p.metadata.labels.as_ref().unwrap()["controller-revision-hash"] == hash));
    let table = env.k(&["get", "ds", "agent", "--no-headers"]);
    assert_eq!(table.split_whitespace().take(6).collect::<Vec<_>>(), ["agent", "3", "3", "3", "3", "3"]);

    // 3 pods created and 3 deleted per rollout, each with its event: none created twice.
    let counted = eventually(WAIT, "the events of three rollouts", || async {
        let events = env.k(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.kind=DaemonSet",
            "-o",
            "jsonpath={range .items[*]}{.reason} {.message}{\"\\n\"}{end}",
        ]);
        let count = |prefix: &str| events.lines().filter(|l| l.starts_with(prefix)).count();
        let counts = (count("SuccessfulCreate Created pod: agent-"), count("SuccessfulDelete Deleted pod: agent-"));
        assert!(counts.0 <= 9 && counts.1 <= 6, "{counts:?}:\n{events}");
        (counts == (9, 6)).then_some(counts)
    })
    .await;
    assert!(counted.is_ok(), "{counted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placement_follows_node_labels_and_taints() {
    let env = start().await;
    let selected = daemonset("picky", "agent:1", "0s", "", "      nodeSelector:\n        role: agent\n");
    env.apply(&selected);
    env.apply(&daemonset("everywhere", "agent:1", "0s", "", ""));
    wait_one_per_node(&env, "everywhere", "agent:1").await;
    env.wait_for_output("no node for picky", &["get", "ds", "picky", "--no-headers"], |out| {
        out.split_whitespace().take(6).collect::<Vec<_>>() == ["picky", "0", "0", "0", "0", "0"]
    })
    .await;
    assert!(env.pods("default", "app=picky").await.is_empty());

    // A label that matches the nodeSelector brings a pod to that node only.
    env.k(&["label", "node", NODES[1], "role=agent"]);
    let pod = eventually(WAIT, "a picky pod on node 1", || async {
        let pods = env.pods("default", "app=picky").await;
        (pods.len() == 1 && node_of(&pods[0]) == NODES[1] && ready(&pods[0])).then(|| pods[0].clone())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    env.wait_for_output("picky at 1 1 1 1 1", &["get", "ds", "picky", "--no-headers"], |out| {
        out.split_whitespace().take(6).collect::<Vec<_>>() == ["picky", "1", "1", "1", "1", "1"]
    })
    .await;

    // NoSchedule keeps new pods away but does not evict running ones (kube's
    // shouldContinueRunning): the node is no longer desired, its pod is misscheduled.
    env.k(&["taint", "node", NODES[1], "dedicated=db:NoSchedule"]);
    eventually(WAIT, "the NoSchedule node counted as misscheduled", || async {
        let s = get_ds(&env, "everywhere").await.status?;
        (s.desired_number_scheduled == 2 && s.current_number_scheduled == 2 && s.number_misscheduled == 1).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    eventually(WAIT, "the picky pod counted as misscheduled", || async {
        let s = get_ds(&env, "picky").await.status?;
        (s.desired_number_scheduled == 0 && s.number_misscheduled == 1).then_some(())
    })
    .await
    .unwrap();
    let still = env.pods("default", "app=picky").await;
    assert_eq!(still.len(), 1);
    assert_eq!(still[0].metadata.uid, pod.metadata.uid, "the running pod stays");
    assert!(still[0].metadata.deletion_timestamp.is_none());
    assert_eq!(live(env.pods("default", "app=everywhere").await).len(), 3);

    // NoExecute evicts: both DaemonSets lose their pod on node 1.
    env.k(&["taint", "node", NODES[1], "dedicated=db:NoExecute"]);
    eventually(WAIT, "the pods on the NoExecute node to go", || async {
        let picky = env.pods("default", "app=picky").await;
        let everywhere = env.pods("default", "app=everywhere").await;
        (picky.is_empty() && everywhere.len() == 2 && everywhere.iter().all(|p| node_of(p) != NODES[1])).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    eventually(WAIT, "the evicted node counted out", || async {
        let s = get_ds(&env, "everywhere").await.status?;
        (s.desired_number_scheduled == 2 && s.current_number_scheduled == 2 && s.number_misscheduled == 0).then_some(())
    })
    .await
    .unwrap();

    // Taints gone, the pods come back; the label gone, the picky pod leaves.
    env.k(&["taint", "node", NODES[1], "dedicated-"]);
    wait_one_per_node(&env, "everywhere", "agent:1").await;
    eventually(WAIT, "the picky pod back", || async {
        let pods = env.pods("default", "app=picky").await;
        (pods.len() == 1 && node_of(&pods[0]) == NODES[1]).then_some(())
    })
    .await
    .unwrap();
    env.k(&["label", "node", NODES[1], "role-"]);
    eventually(WAIT, "the picky pod gone", || async {
        env.pods("default", "app=picky").await.is_empty().then_some(())
    })
    .await
    .unwrap();

    // A new node gets a pod at once. This one has no kubelet and no capacity, so the pod stays
    // unbound, pinned by its affinity; when the node goes, so does the pod.
    env.apply("apiVersion: v1\nkind: Node\nmetadata:\n  name: extra\n");
    eventually(WAIT, "a pod for the new node", || async {
        let pods = live(env.pods("default", "app=everywhere").await);
        let s = get_ds(&env, "everywhere").await.status?;
        (pods.iter().any(|p| target(p) == "extra")
            && s.desired_number_scheduled == 4
            && s.current_number_scheduled == 4)
            .then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    env.k(&["delete", "node", "extra"]);
    eventually(WAIT, "the new node's pod gone", || async {
        let pods = env.pods("default", "app=everywhere").await;
        let s = get_ds(&env, "everywhere").await.status?;
        (pods.len() == 3 && s.desired_number_scheduled == 3 && s.current_number_scheduled == 3).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surge_rollout_and_on_delete() {
    let env = start().await;
    let strategy =
        "  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n";
    // New pods turn ready 2 s after they start: long enough for the polls below to see a node
    // with its old and new pod at once, even on a loaded machine.
    env.apply(&daemonset("surge", "agent:1", "2s", strategy, ""));
    env.k(&["rollout", "status", "daemonset/surge", "--timeout=90s"]);
    wait_one_per_node(&env, "surge", "agent:1").await;

    // maxSurge 1, maxUnavailable 0: every node keeps a ready pod, at most one node has two.
    env.k(&["set", "image", "daemonset/surge", "app=agent:2"]);
    let doubled = std::cell::Cell::new(false);
    eventually(WAIT, "the surge rollout to agent:2", || {
        let env = &env;
        let doubled = &doubled;
        async move {
            let pods = live(env.pods("default", "app=surge").await);
            let mut per_node: BTreeMap<String, (usize, usize)> = BTreeMap::new();
            for p in &pods {
                let entry = per_node.entry(target(p)).or_default();
                entry.0 += 1;
                entry.1 += usize::from(ready(p));
            }
            assert!(per_node.values().filter(|(n, _)| *n > 1).count() <= 1, "surging on two nodes: {per_node:?}");
            assert!(per_node.values().all(|(_, r)| *r >= 1), "a node without a ready pod: {per_node:?}");
            doubled.set(doubled.get() || per_node.values().any(|(n, _)| *n == 2));
            (pods.len() == 3 && pods.iter().all(|p| ready(p) && image(p) == "agent:2")).then_some(())
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert!(doubled.get(), "a new pod ran next to an old one");
    env.k(&["rollout", "status", "daemonset/surge", "--timeout=90s"]);

    // OnDelete: a new template replaces only the pods that are deleted.
    env.k(&[
        "patch",
        "daemonset/surge",
        "--type=merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#,
    ]);
    env.k(&["set", "image", "daemonset/surge", "app=agent:3"]);
    eventually(WAIT, "the new template observed", || async {
        let ds = get_ds(&env, "surge").await;
        let s = ds.status?;
        (s.observed_generation == ds.metadata.generation && s.updated_number_scheduled.unwrap_or(0) == 0).then_some(())
    })
    .await
    .unwrap();
    let before = live(env.pods("default", "app=surge").await);
    assert!(before.iter().all(|p| image(p) == "agent:2"));
    let victim = before.iter().find(|p| node_of(p) == NODES[0]).unwrap();
    env.k(&["delete", "pod", victim.metadata.name.as_deref().unwrap()]);
    eventually(WAIT, "node 0 to get an agent:3 pod", || async {
        let pods = live(env.pods("default", "app=surge").await);
        let on0: Vec<&Pod> = pods.iter().filter(|p| node_of(p) == NODES[0]).collect();
        (pods.len() == 3 && on0.len() == 1 && image(on0[0]) == "agent:3" && ready(on0[0])).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    env.wait_for_output("one updated pod", &["get", "ds", "surge", "--no-headers"], |out| {
        out.split_whitespace().take(6).collect::<Vec<_>>() == ["surge", "3", "3", "3", "1", "3"]
    })
    .await;
    let others = live(env.pods("default", "app=surge").await);
    assert_eq!(others.iter().filter(|p| image(p) == "agent:2").count(), 2, "the other pods are left alone");

    // A failed pod is deleted with kube's warning and replaced.
    let failed = others.iter().find(|p| node_of(p) == NODES[2]).unwrap();
    let failed_name = failed.metadata.name.clone().unwrap();
    let status = r#"{"status":{"phase":"Failed"}}"#;
    env.k(&["patch", "pod", &failed_name, "--subresource=status", "--type=merge", "-p", status]);
    eventually(WAIT, "the failed pod replaced", || async {
        let pods = live(env.pods("default", "app=surge").await);
        let on2: Vec<&Pod> = pods.iter().filter(|p| target(p) == NODES[2]).collect();
        (on2.len() == 1 && on2[0].metadata.name.as_deref() != Some(failed_name.as_str()) && ready(on2[0])).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let expected = format!("Found failed daemon pod default/{failed_name} on node {}, will try to kill it", NODES[2]);
    let args = ["get", "events", "--field-selector", "reason=FailedDaemonPod", "-o", "jsonpath={.items[*].message}"];
    env.wait_for_output("the FailedDaemonPod event", &args, |out| out.contains(&expected)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_rollout_finishes_without_doubles() {
    let mut env = start().await;
    env.apply(&daemonset("steady", "agent:1", "1s", "", ""));
    env.k(&["rollout", "status", "daemonset/steady", "--timeout=90s"]);
    env.k(&["set", "image", "daemonset/steady", "app=agent:2"]);
    eventually(WAIT, "the rollout to be under way", || async {
        let pods = live(env.pods("default", "app=steady").await);
        let new = pods.iter().filter(|p| image(p) == "agent:2").count();
        (new > 0 && new < 3).then_some(())
    })
    .await
    .unwrap();
    // The new process knows nothing of the pods the old one created: it must read them all
    // from the API server before acting, and never put a second pod on a node.
    env.kill_and_restart().await;
    let seen: std::cell::RefCell<BTreeSet<String>> = Default::default();
    eventually(WAIT, "the rollout to finish after the restart", || {
        let (env, seen) = (&env, &seen);
        async move {
            let pods = live(env.pods("default", "app=steady").await);
            let new = pods.iter().filter(|p| image(p) == "agent:2").filter_map(|p| p.metadata.name.clone());
            seen.borrow_mut().extend(new);
            let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
            for p in &pods {
                *per_node.entry(target(p)).or_default() += 1;
            }
            assert!(per_node.values().all(|n| *n <= 1), "two pods on a node: {per_node:?}");
            (pods.len() == 3 && pods.iter().all(|p| ready(p) && image(p) == "agent:2")).then_some(())
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    env.k(&["rollout", "status", "daemonset/steady", "--timeout=90s"]);
    let seen = seen.into_inner();
    assert!(seen.len() <= 3, "new pods created twice: {seen:?}");
    let history = env.k(&["rollout", "history", "daemonset/steady"]);
    assert_eq!(rollout_revisions(&history), ["1", "2"], "{history}");
}
