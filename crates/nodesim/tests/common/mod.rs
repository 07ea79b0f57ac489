//! Shared fixtures: a real etcd + nestor-apiserver, nodesim running in-process, pod builders
//! and waits with deadlines.
#![allow(dead_code)]

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, PostParams};
use nestor_nodesim::Config;
use nestor_testkit::eventually;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any wait in these tests may take before it fails.
pub const WAIT: Duration = Duration::from_secs(60);

/// A configuration with quick heartbeats and short simulated runs.
pub fn config(nodes: u32) -> Config {
    Config {
        nodes,
        lease_renew_interval: Duration::from_millis(300),
        node_status_interval: Duration::from_secs(2),
        sim_duration: Duration::from_millis(500),
        crash_backoff: Duration::from_millis(300),
        scheduler_retry_interval: Duration::from_secs(1),
        ..Config::default()
    }
}

/// nodesim running in this process until stopped (or dropped).
pub struct Sim {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<nestor_nodesim::Result<()>>>,
}

impl Sim {
    /// Starts nodesim with `cfg` against `client`.
    pub fn start(client: kube::Client, cfg: Config) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(nestor_nodesim::run(client, cfg, async move {
            let _ = rx.await;
        }));
        Sim { stop: Some(tx), task: Some(task) }
    }

    /// Stops nodesim and waits until it has stopped; fails if it ended with an error.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("nodesim task panicked").expect("nodesim failed");
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A pod from JSON: `spec` merged into a one-container pod running `nginx`.
pub fn mk_pod(name: &str, extra: Value) -> Pod {
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    });
    merge(&mut pod, extra);
    serde_json::from_value(pod).expect("a valid pod")
}

fn merge(into: &mut Value, patch: Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Creates `pod` in `default`.
pub async fn create(client: &kube::Client, pod: Pod) -> Pod {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &pod).await.expect("pod created")
}

/// Waits until pod `name` satisfies `f`, answering it.
pub async fn wait_pod(client: &kube::Client, name: &str, what: &str, f: impl Fn(&Pod) -> bool) -> Pod {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    eventually(WAIT, &format!("pod {name}: {what}"), || async {
        let pod = api.get(name).await.ok()?;
        f(&pod).then_some(pod)
    })
    .await
    .unwrap()
}

/// The pod's phase.
pub fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

/// The pod's node.
pub fn node_of(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or("")
}

/// The pod's IP.
pub fn pod_ip(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).unwrap_or("")
}

/// The status, reason and message of a pod condition.
pub fn condition(pod: &Pod, kind: &str) -> Option<(String, String, String)> {
    let c = pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == kind)?;
    Some((c.status.clone(), c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default()))
}

/// Waits until the pod is Running with an IP.
pub async fn wait_running(client: &kube::Client, name: &str) -> Pod {
    wait_pod(client, name, "Running with an IP", |p| phase(p) == "Running" && !pod_ip(p).is_empty()).await
}

/// Waits until `n` nodes are Ready.
pub async fn wait_nodes_ready(client: &kube::Client, n: usize) -> Vec<Node> {
    let api: Api<Node> = Api::all(client.clone());
    eventually(WAIT, "nodes Ready", || async {
        let nodes = api.list(&Default::default()).await.ok()?.items;
        let ready = nodes
            .iter()
            .filter(|n| {
                n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        (ready >= n).then_some(nodes)
    })
    .await
    .unwrap()
}
