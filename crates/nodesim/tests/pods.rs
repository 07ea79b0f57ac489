//! The kubelet stand-in: pods run with kubelet's statuses, run to completion by restart
//! policy and the `nestor.dev/sim-*` annotations, turn ready late when asked, and are deleted
//! promptly with their IP freed.

// Test helpers outside #[test] functions fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{condition, config, create, mk_pod, phase, pod_ip, wait_nodes_ready, wait_pod, wait_running, Sim, WAIT};
use k8s_openapi::api::core::v1::{ContainerStatus, Node, Pod};
use kube::api::{Api, DeleteParams};
use nestor_api::keys::{SIM_DURATION, SIM_EXIT_CODE, SIM_READY_AFTER};
use nestor_testkit::{eventually, Cluster};
use serde_json::json;

fn container(pod: &Pod) -> &ContainerStatus {
    &pod.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0]
}

fn terminated(pod: &Pod) -> (i32, String) {
    let t = container(pod).state.as_ref().unwrap().terminated.as_ref().unwrap();
    (t.exit_code, t.reason.clone().unwrap_or_default())
}

#[tokio::test]
async fn running_pods_look_like_kubelet_wrote_them() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), config(1));
    wait_nodes_ready(&client, 1).await;
    let pod = mk_pod(
        "web",
        json!({"spec": {
            "initContainers": [{"name": "setup", "image": "busybox:1.36"}],
            "containers": [{"name": "app", "image": "nginx:1.27", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]
        }}),
    );
    create(&client, pod).await;
    let pod = wait_pod(&client, "web", "Ready", |p| condition(p, "Ready").is_some_and(|c| c.0 == "True")).await;
    let status = pod.status.as_ref().unwrap();
    assert_eq!(phase(&pod), "Running");
    assert_eq!(status.host_ip.as_deref(), Some("172.18.0.2"));
    assert_eq!(status.host_ips.as_ref().unwrap()[0].ip, "172.18.0.2");
    assert!(pod_ip(&pod).starts_with("10.244.0."), "{}", pod_ip(&pod));
    assert!(status.start_time.is_some());
    // The init container has no limits, so the pod is not Guaranteed (kube's GetPodQOS).
    assert_eq!(status.qos_class.as_deref(), Some("Burstable"));
    for kind in ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready", "PodScheduled"] {
        let c = status.conditions.as_ref().unwrap().iter().find(|c| c.type_ == kind).unwrap();
        assert_eq!(c.status, "True", "{kind}");
        assert!(c.last_transition_time.is_some(), "{kind}");
    }
    let app = container(&pod);
    assert_eq!(app.name, "app");
    assert_eq!(app.image, "docker.io/library/nginx:1.27");
    assert!(app.image_id.starts_with("docker.io/library/nginx@sha256:"));
    assert!(app.container_id.as_ref().unwrap().starts_with("nestor-sim://"));
    assert!(app.ready);
    assert_eq!(app.started, Some(true));
    assert_eq!(app.restart_count, 0);
    assert!(app.state.as_ref().unwrap().running.as_ref().unwrap().started_at.is_some());
    let init = &status.init_container_statuses.as_ref().unwrap()[0];
    let done = init.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((done.exit_code, done.reason.as_deref()), (0, Some("Completed")));

    // hostNetwork pods take the node's address.
    create(&client, mk_pod("host", json!({"spec": {"hostNetwork": true}}))).await;
    assert_eq!(pod_ip(&wait_running(&client, "host").await), "172.18.0.2");
    sim.stop().await;
}

#[tokio::test]
async fn pods_run_to_completion_by_restart_policy() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), config(2));
    wait_nodes_ready(&client, 2).await;

    create(&client, mk_pod("ok", json!({"spec": {"restartPolicy": "Never"}}))).await;
    let failing = json!({"metadata": {"annotations": {SIM_EXIT_CODE: "1", SIM_DURATION: "300ms"}}, "spec": {"restartPolicy": "Never"}});
    create(&client, mk_pod("fails", failing)).await;
    let flaky = json!({"metadata": {"annotations": {SIM_EXIT_CODE: "3", SIM_DURATION: "200ms"}}, "spec": {"restartPolicy": "OnFailure"}});
    create(&client, mk_pod("flaky", flaky)).await;
    // A malformed annotation is ignored: the default duration and exit code apply.
    let odd = json!({"metadata": {"annotations": {SIM_DURATION: "soon", SIM_EXIT_CODE: "x"}}, "spec": {"restartPolicy": "Never"}});
    create(&client, mk_pod("odd", odd)).await;
    create(&client, mk_pod("forever", json!({"metadata": {"annotations": {SIM_DURATION: "100ms"}}}))).await;

    let ok = wait_pod(&client, "ok", "Succeeded", |p| phase(p) == "Succeeded").await;
    assert_eq!(terminated(&ok), (0, "Completed".into()));
    assert_eq!(condition(&ok, "Ready").unwrap().1, "PodCompleted");
    assert!(!container(&ok).ready);

    let fails = wait_pod(&client, "fails", "Failed", |p| phase(p) == "Failed").await;
    assert_eq!(terminated(&fails), (1, "Error".into()));
    assert_eq!(condition(&fails, "Ready").unwrap().1, "PodFailed");

    let flaky = wait_pod(&client, "flaky", "restarted twice", |p| {
        p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).is_some_and(|c| c[0].restart_count >= 2)
    })
    .await;
    assert_eq!(phase(&flaky), "Running");
    let last = container(&flaky).last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((last.exit_code, last.reason.as_deref()), (3, Some("Error")));

    let odd = wait_pod(&client, "odd", "Succeeded", |p| phase(p) == "Succeeded").await;
    assert_eq!(terminated(&odd).0, 0);

    // restartPolicy Always ignores the run length: still running after the others ended.
    let forever = wait_running(&client, "forever").await;
    assert_eq!(container(&forever).restart_count, 0);
    assert!(container(&forever).state.as_ref().unwrap().running.is_some());
    sim.stop().await;
}

#[tokio::test]
async fn readiness_waits_for_ready_after() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), config(1));
    wait_nodes_ready(&client, 1).await;
    create(&client, mk_pod("slow", json!({"metadata": {"annotations": {SIM_READY_AFTER: "3s"}}}))).await;
    let pod = wait_running(&client, "slow").await;
    let (status, reason, message) = condition(&pod, "Ready").unwrap();
    assert_eq!((status.as_str(), reason.as_str()), ("False", "ContainersNotReady"));
    assert_eq!(message, "containers with unready status: [app]");
    assert!(!container(&pod).ready);
    let pod = wait_pod(&client, "slow", "Ready", |p| condition(p, "Ready").is_some_and(|c| c.0 == "True")).await;
    assert!(container(&pod).ready);
    assert_eq!(condition(&pod, "ContainersReady").unwrap().0, "True");
    sim.stop().await;
}

#[tokio::test]
async fn deletion_is_prompt_and_frees_the_ip() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    // A node that exists already with a /30 pod CIDR: nodesim adopts it and keeps its CIDR
    // (immutable once set), whose one usable pod address must be freed to be used again.
    let nodes: Api<Node> = Api::all(client.clone());
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "nestor-node-0"},
                      "spec": {"podCIDR": "10.250.0.0/30", "podCIDRs": ["10.250.0.0/30"]}});
    nodes.create(&Default::default(), &serde_json::from_value(node).unwrap()).await.unwrap();
    let sim = Sim::start(client.clone(), config(1));
    wait_nodes_ready(&client, 1).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    create(&client, mk_pod("doomed", json!({"spec": {"terminationGracePeriodSeconds": 30}}))).await;
    assert_eq!(pod_ip(&wait_running(&client, "doomed").await), "10.250.0.2");
    create(&client, mk_pod("waiting", json!({}))).await;

    // The grace period is 30 s; nodesim's containers stop at once, so the pod goes long
    // before that, and its address passes to the next pod.
    pods.delete("doomed", &DeleteParams::default()).await.unwrap();
    eventually(WAIT, "the pod to be gone", || async { pods.get_opt("doomed").await.ok()?.is_none().then_some(()) })
        .await
        .unwrap();
    let waiting = wait_running(&client, "waiting").await;
    assert_eq!(pod_ip(&waiting), "10.250.0.2");

    // Terminal pods free their IPs too (and keep showing them).
    pods.delete("waiting", &DeleteParams::default()).await.unwrap();
    create(&client, mk_pod("done", json!({"spec": {"restartPolicy": "Never"}}))).await;
    let done = wait_pod(&client, "done", "Succeeded", |p| phase(p) == "Succeeded").await;
    assert_eq!(pod_ip(&done), "10.250.0.2");
    create(&client, mk_pod("after", json!({}))).await;
    assert_eq!(pod_ip(&wait_running(&client, "after").await), "10.250.0.2");
    sim.stop().await;
}
