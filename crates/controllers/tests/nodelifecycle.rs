//! The node lifecycle: nodes whose kubelet stops posting turn NotReady and are tainted
//! unreachable, their pods turn not Ready and leave as their tolerations say; when the kubelets
//! are back the taints go. Cordoning a node taints it unschedulable.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{ready, Env, WAIT};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use nestor_testkit::{eventually, tenancy};

const NODES: [&str; 3] = ["nestor-node-0", "nestor-node-1", "nestor-node-2"];

/// nodesim renews Leases every 10 s by default, longer than the 5 s grace period these tests
/// use; a kubelet renews well within it, so nodesim is run renewing every second.
const NODESIM_ARGS: &[&str] = &["--lease-renew-interval=1s"];

/// Starts everything with a 5 s grace period and a nodesim that renews every second.
async fn start() -> Env {
    let mut env = Env::start_with(&["--node-monitor-grace-period=5s"]).await;
    env.nodesim.kill();
    env.nodesim = tenancy::spawn_nodesim(&env.cluster, 3, NODESIM_ARGS).unwrap();
    wait_all_ready(&env).await;
    env
}

/// `name: STATUS` for every node, from `kubectl get nodes`.
fn node_statuses(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}

/// Waits until the three nodes read Ready and carry none of the node controller's taints.
async fn wait_all_ready(env: &Env) {
    env.wait_for_output("every node Ready", &["get", "nodes", "--no-headers"], |out| {
        let statuses = node_statuses(out);
        statuses.len() == 3 && statuses.iter().all(|(_, s)| s == "Ready")
    })
    .await;
    env.wait_for_output("no node taints", &["get", "nodes", "-o", "jsonpath={.items[*].spec.taints}"], |out| {
        out.trim().is_empty()
    })
    .await;
}

/// `key:effect:timeAdded` per taint of `node`.
fn taints(env: &Env, node: &str) -> Vec<String> {
    env.k(&["get", "node", node, "-o", r#"jsonpath={range .spec.taints[*]}{.key}:{.effect}:{.timeAdded}{"\n"}{end}"#])
        .lines()
        .map(str::to_string)
        .collect()
}

/// A pod tolerating the unreachable taint for `seconds` (forever when `None`).
fn pod(name: &str, seconds: Option<u32>) -> String {
    let seconds = seconds.map(|s| format!("\n    tolerationSeconds: {s}")).unwrap_or_default();
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  tolerations:
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute{seconds}
  containers:
  - name: app
    image: nginx:1.0
"#
    )
}

/// `reason|message|component` of every event in `default`.
fn events(env: &Env) -> String {
    env.k(&["get", "events", "-o", r#"jsonpath={range .items[*]}{.reason}|{.message}|{.source.component}{"\n"}{end}"#])
}

async fn wait_event(env: &Env, line: &str) {
    let mut last = String::new();
    let found = eventually(WAIT, line, || {
        last = events(env);
        let ok = last.lines().any(|l| l == line);
        async move { ok.then_some(()) }
    })
    .await;
    found.unwrap_or_else(|e| panic!("{e}; events:\n{last}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_nodes_are_tainted_and_their_pods_evicted() {
    let mut env = start().await;
    env.apply(&pod("brief", Some(3)));
    env.apply(&pod("patient", Some(600)));
    env.apply(&pod("forever", None));
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    eventually(WAIT, "the pods to be ready", || async {
        let all = env.pods("default", "").await;
        (all.len() == 3 && all.iter().all(ready)).then_some(())
    })
    .await
    .unwrap();

    env.nodesim.kill();

    let out = env
        .wait_for_output("every node NotReady", &["get", "nodes", "--no-headers"], |out| {
            let statuses = node_statuses(out);
            statuses.len() == 3 && statuses.iter().all(|(_, s)| s == "NotReady")
        })
        .await;
    let names: Vec<String> = node_statuses(&out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, NODES);
    let ready_condition = env.k(&[
        "get",
        "node",
        NODES[0],
        "-o",
        r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].reason}|{.status.conditions[?(@.type=="Ready")].message}"#,
    ]);
    assert_eq!(ready_condition, "Unknown|NodeStatusUnknown|Kubelet stopped posting node status.");
    let pressure =
        env.k(&["get", "node", NODES[0], "-o", r#"jsonpath={.status.conditions[?(@.type=="MemoryPressure")].status}"#]);
    assert_eq!(pressure, "Unknown");
    for node in NODES {
        eventually(WAIT, "the unreachable taints", || async {
            let t = taints(&env, node);
            let has = |effect: &str| {
                t.iter().any(|l| {
                    let mut parts = l.splitn(3, ':');
                    parts.next() == Some("node.kubernetes.io/unreachable")
                        && parts.next() == Some(effect)
                        && parts.next().is_some_and(|added| added.ends_with('Z'))
                })
            };
            (t.len() == 2 && has("NoSchedule") && has("NoExecute")).then_some(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", taints(&env, node)));
    }
    wait_event(&env, &format!("NodeNotReady|Node {} status is now: NodeNotReady|node-controller", NODES[0])).await;

    // Nobody reports the pods any more: they are not Ready.
    eventually(WAIT, "the pods to be not ready", || async {
        let all = env.pods("default", "").await;
        all.iter().all(|p| !ready(p)).then_some(())
    })
    .await
    .unwrap();
    wait_event(&env, "NodeNotReady|Node is not ready|node-controller").await;

    // The pod tolerating the taint for 3 s is evicted; the others stay.
    eventually(WAIT, "the brief pod to be evicted", || async {
        let gone = match pods.get_opt("brief").await.unwrap() {
            None => true,
            Some(p) => p.metadata.deletion_timestamp.is_some(),
        };
        gone.then_some(())
    })
    .await
    .unwrap();
    wait_event(&env, "TaintManagerEviction|Marking for deletion Pod default/brief|taint-eviction-controller").await;
    for name in ["patient", "forever"] {
        let p = pods.get(name).await.unwrap();
        assert!(p.metadata.deletion_timestamp.is_none(), "{name} was deleted");
    }

    // The kubelets come back (nodesim adopts the nodes of the same names): the taints go, and
    // the eviction scheduled for the patient pod is called off.
    env.nodesim = tenancy::spawn_nodesim(&env.cluster, 3, NODESIM_ARGS).unwrap();
    wait_all_ready(&env).await;
    let names: Vec<String> =
        node_statuses(&env.k(&["get", "nodes", "--no-headers"])).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, NODES);
    wait_event(&env, "TaintManagerEviction|Cancelling deletion of Pod default/patient|taint-eviction-controller").await;
    eventually(WAIT, "the remaining pods to be ready again", || async {
        let all = env.pods("default", "").await;
        let names: Vec<_> = all.iter().filter_map(|p| p.metadata.name.clone()).collect();
        (names.len() == 2 && !names.contains(&"brief".to_string()) && all.iter().all(ready)).then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordoned_nodes_are_tainted_unschedulable() {
    let env = start().await;
    env.k(&["cordon", NODES[1]]);
    eventually(WAIT, "the unschedulable taint", || async {
        let t = taints(&env, NODES[1]);
        (t.len() == 1 && t[0].starts_with("node.kubernetes.io/unschedulable:NoSchedule:")).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}: {:?}", taints(&env, NODES[1])));
    env.wait_for_output("SchedulingDisabled", &["get", "node", NODES[1], "--no-headers"], |out| {
        out.contains("Ready,SchedulingDisabled")
    })
    .await;
    env.k(&["uncordon", NODES[1]]);
    eventually(WAIT, "no taints after uncordon", || async { taints(&env, NODES[1]).is_empty().then_some(()) })
        .await
        .unwrap();
    // The beta OS and arch labels follow the stable ones.
    env.k(&["label", "node", NODES[2], "beta.kubernetes.io/arch=arm64", "--overwrite"]);
    env.wait_for_output(
        "beta arch label restored",
        &["get", "node", NODES[2], "-o", "jsonpath={.metadata.labels.beta\\.kubernetes\\.io/arch}"],
        |out| out == "amd64",
    )
    .await;
}
