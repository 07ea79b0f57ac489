//! The scheduler: spread, distinct IPs from each node's CIDR, resource fit, nodeSelector,
//! node affinity, taints and tolerations, cordons; unschedulable pods get kube-scheduler's
//! condition and are scheduled once something changes in their favour.

// Test helpers outside #[test] functions fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

use common::{condition, config, create, mk_pod, node_of, pod_ip, wait_nodes_ready, wait_pod, wait_running, Sim};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams};
use nestor_nodesim::ipam::Cidr;
use nestor_testkit::Cluster;
use serde_json::json;

fn unschedulable(p: &Pod) -> bool {
    condition(p, "PodScheduled").is_some_and(|(s, r, _)| s == "False" && r == "Unschedulable")
}

#[tokio::test]
async fn pods_spread_over_nodes_with_distinct_ips() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), config(3));
    wait_nodes_ready(&client, 3).await;
    for i in 0..9 {
        let pod = mk_pod(
            &format!("web-{i}"),
            json!({"spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "100m"}}}]}}),
        );
        create(&client, pod).await;
    }
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    let mut ips = HashSet::new();
    for i in 0..9 {
        let pod = wait_running(&client, &format!("web-{i}")).await;
        let node = node_of(&pod).to_string();
        let index: u32 = node.rsplit('-').next().unwrap().parse().unwrap();
        let cidr: Cidr = format!("10.244.{index}.0/24").parse().unwrap();
        let ip: Ipv4Addr = pod_ip(&pod).parse().unwrap();
        assert!(cidr.contains(ip), "{ip} outside {cidr}");
        assert!(ips.insert(ip), "duplicate IP {ip}");
        let status = pod.status.as_ref().unwrap();
        assert_eq!(status.host_ip.as_deref(), Some(format!("172.18.0.{}", index + 2).as_str()));
        assert_eq!(status.pod_ips.as_ref().unwrap()[0].ip, ip.to_string());
        assert_eq!(condition(&pod, "PodScheduled").unwrap().0, "True");
        *per_node.entry(node).or_default() += 1;
    }
    assert_eq!(per_node.values().copied().collect::<Vec<_>>(), vec![3, 3, 3], "spread: {per_node:?}");
    sim.stop().await;
}

#[tokio::test]
async fn resources_selectors_affinity_and_taints() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), config(3));
    wait_nodes_ready(&client, 3).await;
    let nodes: Api<Node> = Api::all(client.clone());

    // Too big for any node: stays Pending with kube-scheduler's reason.
    let big = mk_pod(
        "big",
        json!({"spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "9"}}}]}}),
    );
    create(&client, big).await;
    let pod = wait_pod(&client, "big", "Unschedulable", unschedulable).await;
    let (_, _, msg) = condition(&pod, "PodScheduled").unwrap();
    assert!(msg.starts_with("0/3 nodes are available: 3 Insufficient cpu."), "{msg}");
    assert_eq!(common::phase(&pod), "Pending");
    assert_eq!(node_of(&pod), "");

    // nodeSelector: unschedulable until a node gets the label.
    let picky = mk_pod("picky", json!({"spec": {"nodeSelector": {"disk": "ssd"}}}));
    create(&client, picky).await;
    let pod = wait_pod(&client, "picky", "Unschedulable", unschedulable).await;
    let (_, _, msg) = condition(&pod, "PodScheduled").unwrap();
    assert!(msg.contains("3 node(s) didn't match Pod's node affinity/selector"), "{msg}");
    let label = json!({"metadata": {"labels": {"disk": "ssd"}}});
    nodes.patch("nestor-node-2", &PatchParams::default(), &Patch::Merge(&label)).await.unwrap();
    let pod = wait_running(&client, "picky").await;
    assert_eq!(node_of(&pod), "nestor-node-2");

    // Required node affinity: In / NotIn over terms, and matchFields on the node name.
    let affine = mk_pod(
        "affine",
        json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["nvme"]}]},
            {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn",
                                   "values": ["nestor-node-0", "nestor-node-2"]}]}
        ]}}}}}),
    );
    create(&client, affine).await;
    assert_eq!(node_of(&wait_running(&client, "affine").await), "nestor-node-1");
    let by_field = mk_pod(
        "by-field",
        json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["nestor-node-0"]}]}]
        }}}}}),
    );
    create(&client, by_field).await;
    assert_eq!(node_of(&wait_running(&client, "by-field").await), "nestor-node-0");

    // Taints: every node tainted, a pod without toleration waits; adding one lets it in.
    for n in ["nestor-node-0", "nestor-node-1", "nestor-node-2"] {
        let taint = json!({"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}});
        nodes.patch(n, &PatchParams::default(), &Patch::Merge(&taint)).await.unwrap();
    }
    create(&client, mk_pod("tainted", json!({}))).await;
    let pod = wait_pod(&client, "tainted", "Unschedulable", unschedulable).await;
    let (_, _, msg) = condition(&pod, "PodScheduled").unwrap();
    assert!(msg.contains("3 node(s) had untolerated taint {dedicated: gpu}"), "{msg}");
    assert!(msg.contains("preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."), "{msg}");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    // Pods may gain tolerations (never lose them): add one to whatever the pod has.
    let mut tainted = pods.get("tainted").await.unwrap();
    let toleration = json!({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"});
    let spec = tainted.spec.as_mut().unwrap();
    spec.tolerations.get_or_insert_with(Vec::new).push(serde_json::from_value(toleration).unwrap());
    pods.replace("tainted", &Default::default(), &tainted).await.unwrap();
    wait_running(&client, "tainted").await;
    let everything = mk_pod("tolerates-all", json!({"spec": {"tolerations": [{"operator": "Exists"}]}}));
    create(&client, everything).await;
    wait_running(&client, "tolerates-all").await;

    // A cordoned node takes nothing new; uncordoning it lets a waiting pod in.
    for n in ["nestor-node-0", "nestor-node-1", "nestor-node-2"] {
        let cordon = json!({"spec": {"unschedulable": true, "taints": null}});
        nodes.patch(n, &PatchParams::default(), &Patch::Merge(&cordon)).await.unwrap();
    }
    create(&client, mk_pod("cordoned", json!({}))).await;
    let pod = wait_pod(&client, "cordoned", "Unschedulable", unschedulable).await;
    assert!(condition(&pod, "PodScheduled").unwrap().2.contains("3 node(s) were unschedulable"));
    let uncordon = json!({"spec": {"unschedulable": false}});
    nodes.patch("nestor-node-1", &PatchParams::default(), &Patch::Merge(&uncordon)).await.unwrap();
    assert_eq!(node_of(&wait_running(&client, "cordoned").await), "nestor-node-1");

    // The big pod still waits: nothing it needs appeared.
    let big = pods.get("big").await.unwrap();
    assert_eq!(node_of(&big), "");
    sim.stop().await;
}

#[tokio::test]
async fn pod_count_limits_and_other_schedulers() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), nestor_nodesim::Config { pods: "2".into(), ..config(1) });
    wait_nodes_ready(&client, 1).await;
    for name in ["a", "b", "c"] {
        create(&client, mk_pod(name, json!({}))).await;
    }
    wait_running(&client, "a").await;
    wait_running(&client, "b").await;
    let pod = wait_pod(&client, "c", "Unschedulable", unschedulable).await;
    assert!(condition(&pod, "PodScheduled").unwrap().2.starts_with("0/1 nodes are available: 1 Too many pods."));

    // Freeing a slot lets the waiting pod in.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.delete("a", &Default::default()).await.unwrap();
    wait_running(&client, "c").await;

    // A pod for another scheduler is left alone: a younger pod of ours takes the free slot.
    create(&client, mk_pod("foreign", json!({"spec": {"schedulerName": "someone-else"}}))).await;
    create(&client, mk_pod("ours", json!({}))).await;
    pods.delete("b", &Default::default()).await.unwrap();
    wait_running(&client, "ours").await;
    let foreign = pods.get("foreign").await.unwrap();
    assert_eq!(node_of(&foreign), "");
    assert!(condition(&foreign, "PodScheduled").is_none());
    sim.stop().await;
}
