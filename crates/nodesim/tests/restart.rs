//! Restarting nodesim: it converges from what the API server holds. Running pods keep their
//! IPs, new pods never get an address already in use, and work left while it was down (pods
//! to place, a pod deleted meanwhile) is done.

// Test helpers outside #[test] functions fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{config, create, mk_pod, node_of, pod_ip, wait_nodes_ready, wait_running, Sim, WAIT};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};
use nestor_testkit::{eventually, Cluster};
use serde_json::json;

#[tokio::test]
async fn restart_keeps_ips_unique() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let sim = Sim::start(client.clone(), config(2));
    wait_nodes_ready(&client, 2).await;
    let mut before = BTreeMap::new();
    for i in 0..6 {
        create(&client, mk_pod(&format!("old-{i}"), json!({}))).await;
    }
    for i in 0..6 {
        let name = format!("old-{i}");
        let pod = wait_running(&client, &name).await;
        before.insert(name, (node_of(&pod).to_string(), pod_ip(&pod).to_string()));
    }
    sim.stop().await;

    // While nodesim is down: new pods wait, and a deleted pod waits for its kubelet.
    for i in 0..6 {
        create(&client, mk_pod(&format!("new-{i}"), json!({}))).await;
    }
    pods.delete("old-0", &DeleteParams::default()).await.unwrap();
    assert!(pods.get("old-0").await.unwrap().metadata.deletion_timestamp.is_some());

    let sim = Sim::start(client.clone(), config(2));
    let mut seen = HashSet::new();
    for i in 0..6 {
        let pod = wait_running(&client, &format!("new-{i}")).await;
        assert!(seen.insert(pod_ip(&pod).to_string()), "duplicate {}", pod_ip(&pod));
    }
    eventually(WAIT, "old-0 to be deleted", || async { pods.get_opt("old-0").await.ok()?.is_none().then_some(()) })
        .await
        .unwrap();
    for i in 1..6 {
        let name = format!("old-{i}");
        let pod = pods.get(&name).await.unwrap();
        assert_eq!((node_of(&pod).to_string(), pod_ip(&pod).to_string()), before[&name], "{name} kept its place");
        assert!(seen.insert(pod_ip(&pod).to_string()), "duplicate {}", pod_ip(&pod));
    }
    sim.stop().await;
}
