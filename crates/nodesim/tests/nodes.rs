//! Nodes and their Leases: registered Ready with kubelet's labels, capacity and node info,
//! Leases renewed, and adopted again after a restart.

// Test helpers outside #[test] functions fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{config, wait_nodes_ready, Sim, WAIT};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use nestor_nodesim::Config;
use nestor_testkit::{eventually, Cluster};

#[tokio::test]
async fn nodes_register_ready_and_leases_renew() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), config(3));
    let nodes = wait_nodes_ready(&client, 3).await;
    let names: BTreeSet<String> = nodes.iter().map(|n| n.metadata.name.clone().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["nestor-node-0".into(), "nestor-node-1".into(), "nestor-node-2".into()]));

    let node = nodes.iter().find(|n| n.metadata.name.as_deref() == Some("nestor-node-1")).unwrap();
    let labels = node.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], "nestor-node-1");
    assert_eq!(labels["kubernetes.io/os"], "linux");
    assert_eq!(labels["kubernetes.io/arch"], "amd64");
    assert_eq!(labels["node.kubernetes.io/instance-type"], "nestor-sim");
    let spec = node.spec.as_ref().unwrap();
    assert_eq!(spec.pod_cidr.as_deref(), Some("10.244.1.0/24"));
    assert_eq!(spec.pod_cidrs.as_deref(), Some(&["10.244.1.0/24".to_string()][..]));
    let status = node.status.as_ref().unwrap();
    let cap = status.capacity.as_ref().unwrap();
    assert_eq!(cap["cpu"].0, "8");
    assert_eq!(cap["memory"].0, "32Gi");
    assert_eq!(cap["pods"].0, "110");
    assert!(cap.contains_key("ephemeral-storage"));
    assert_eq!(status.allocatable.as_ref().unwrap()["cpu"].0, "8");
    let conditions = status.conditions.as_ref().unwrap();
    let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
    assert_eq!(ready.message.as_deref(), Some("kubelet is posting ready status"));
    for kind in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
        assert_eq!(conditions.iter().find(|c| c.type_ == kind).unwrap().status, "False", "{kind}");
    }
    let addrs = status.addresses.as_ref().unwrap();
    assert!(addrs.iter().any(|a| a.type_ == "InternalIP" && a.address == "172.18.0.3"));
    assert!(addrs.iter().any(|a| a.type_ == "Hostname" && a.address == "nestor-node-1"));
    let info = status.node_info.as_ref().unwrap();
    assert_eq!(info.kubelet_version, "v1.32.0");
    assert_eq!(info.container_runtime_version, "nestor-sim://0.1.0");
    assert_eq!((info.operating_system.as_str(), info.architecture.as_str()), ("linux", "amd64"));
    assert!(!info.machine_id.is_empty() && !info.system_uuid.is_empty() && !info.boot_id.is_empty());
    assert_eq!(status.daemon_endpoints.as_ref().unwrap().kubelet_endpoint.as_ref().unwrap().port, 10250);

    // The Lease is held by its node, owned by it, and renewed.
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let first =
        eventually(WAIT, "lease of nestor-node-1", || async { leases.get("nestor-node-1").await.ok() }).await.unwrap();
    let spec = first.spec.as_ref().unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("nestor-node-1"));
    assert_eq!(spec.lease_duration_seconds, Some(40));
    let owner = &first.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str()), ("Node", "nestor-node-1"));
    assert_eq!(Some(&owner.uid), node.metadata.uid.as_ref());
    let renewed_at = spec.renew_time.clone().unwrap();
    eventually(WAIT, "the lease to be renewed", || async {
        let l = leases.get("nestor-node-1").await.ok()?;
        (l.spec?.renew_time? > renewed_at).then_some(())
    })
    .await
    .unwrap();

    // Node status is posted again: the Ready heartbeat moves on.
    let api: Api<Node> = Api::all(client.clone());
    let beat = ready.last_heartbeat_time.clone().unwrap();
    eventually(WAIT, "a node status heartbeat", || async {
        let n = api.get("nestor-node-1").await.ok()?;
        let c = n.status?.conditions?.into_iter().find(|c| c.type_ == "Ready")?;
        (c.last_heartbeat_time? > beat).then_some(())
    })
    .await
    .unwrap();
    sim.stop().await;
}

#[tokio::test]
async fn restart_adopts_existing_nodes() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let sim = Sim::start(client.clone(), config(2));
    let before = wait_nodes_ready(&client, 2).await;
    sim.stop().await;

    // A label someone else added survives adoption; the node keeps its UID and CIDR.
    let api: Api<Node> = Api::all(client.clone());
    let patch = serde_json::json!({"metadata": {"labels": {"team": "blue"}}});
    api.patch("nestor-node-0", &Default::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    let sim = Sim::start(client.clone(), config(2));
    let after = wait_nodes_ready(&client, 2).await;
    assert_eq!(after.len(), 2);
    for b in &before {
        let a = after.iter().find(|a| a.metadata.name == b.metadata.name).unwrap();
        assert_eq!(a.metadata.uid, b.metadata.uid, "adopted, not recreated");
        assert_eq!(a.spec.as_ref().unwrap().pod_cidr, b.spec.as_ref().unwrap().pod_cidr);
    }
    let n0 = api.get("nestor-node-0").await.unwrap();
    assert_eq!(n0.metadata.labels.unwrap()["team"], "blue");

    // A node deleted behind nodesim's back comes back.
    api.delete("nestor-node-1", &Default::default()).await.unwrap();
    eventually(WAIT, "nestor-node-1 to be registered again", || async {
        let n = api.get("nestor-node-1").await.ok()?;
        (n.metadata.uid != before.iter().find(|b| b.metadata.name.as_deref() == Some("nestor-node-1"))?.metadata.uid)
            .then_some(())
    })
    .await
    .unwrap();
    sim.stop().await;
}

#[tokio::test]
async fn a_node_marked_not_ready_by_others_is_posted_ready_again_at_once() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    // Status reports are far apart: only the check at each Lease renewal can set it right.
    let cfg = Config { node_status_interval: Duration::from_secs(3600), ..config(1) };
    let sim = Sim::start(client.clone(), cfg);
    wait_nodes_ready(&client, 1).await;
    let api: Api<Node> = Api::all(client.clone());
    let unknown = serde_json::json!({"status": {"conditions": [
        {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."}
    ]}});
    api.patch_status("nestor-node-0", &Default::default(), &kube::api::Patch::Merge(&unknown)).await.unwrap();
    eventually(WAIT, "nestor-node-0 to read Ready again", || async {
        let n = api.get("nestor-node-0").await.ok()?;
        let c = n.status?.conditions?.into_iter().find(|c| c.type_ == "Ready")?;
        (c.status == "True" && c.reason.as_deref() == Some("KubeletReady")).then_some(())
    })
    .await
    .unwrap();
    sim.stop().await;
}
