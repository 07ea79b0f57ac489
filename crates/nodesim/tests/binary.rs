//! The `nestor-nodesim` binary against a real API server, checked with the real kubectl:
//! `kubectl get nodes` shows the nodes Ready and `kubectl get pods -o wide` the pods' IP and
//! node. SIGTERM stops it cleanly.

// Test helpers outside #[test] functions fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{create, mk_pod, wait_nodes_ready, wait_running, WAIT};
use nestor_testkit::{eventually, Cluster, Process};
use serde_json::json;

/// `NESTOR_NODESIM_BIN`, or the binary beside the test binary in cargo's target directory.
fn nodesim_binary() -> PathBuf {
    if let Ok(p) = std::env::var("NESTOR_NODESIM_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .skip(1)
        .take(3)
        .map(|d| d.join("nestor-nodesim"))
        .find(|c| c.is_file())
        .unwrap_or_else(|| panic!("nestor-nodesim not found near {}; run `cargo build --bins`", exe.display()))
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let out = Command::new("/usr/bin/kubectl").arg("--kubeconfig").arg(kubeconfig).args(args).output().unwrap();
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rows of a kubectl table, each split on whitespace, header dropped.
fn rows(table: &str) -> Vec<Vec<String>> {
    table.lines().skip(1).map(|l| l.split_whitespace().map(str::to_string).collect()).collect()
}

#[tokio::test]
async fn binary_serves_nodes_and_pods_for_kubectl() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let kubeconfig = cluster.kubeconfig();
    let args: Vec<String> = [
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--nodes=2",
        "--node-prefix=sim",
        "--lease-renew-interval=500ms",
        "--sim-duration=300ms",
        "--log-level=debug,kube=info,hyper=info,tower=info,rustls=info",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let log = cluster.dir().join("nodesim.log");
    let mut process = Process::spawn("nestor-nodesim", &nodesim_binary(), &args, &log).unwrap();
    wait_nodes_ready(&client, 2).await;

    // kubectl get nodes: NAME STATUS ROLES AGE VERSION.
    let table = eventually(WAIT, "kubectl to show both nodes Ready", || async {
        let t = kubectl(&kubeconfig, &["get", "nodes"]);
        (rows(&t).iter().filter(|r| r.get(1).map(String::as_str) == Some("Ready")).count() == 2).then_some(t)
    })
    .await
    .unwrap();
    let nodes = rows(&table);
    assert_eq!(nodes[0][0], "sim-0");
    assert_eq!(nodes[1][0], "sim-1");
    assert_eq!(nodes[0][4], "v1.32.0");

    create(&client, mk_pod("web", json!({}))).await;
    create(&client, mk_pod("job", json!({"spec": {"restartPolicy": "Never"}}))).await;
    let web = wait_running(&client, "web").await;
    common::wait_pod(&client, "job", "Succeeded", |p| common::phase(p) == "Succeeded").await;

    // kubectl get pods -o wide: NAME READY STATUS RESTARTS AGE IP NODE NOMINATED READINESS.
    let table = kubectl(&kubeconfig, &["get", "pods", "-o", "wide"]);
    let rows = rows(&table);
    let web_row = rows.iter().find(|r| r[0] == "web").unwrap();
    assert_eq!(&web_row[1..3], ["1/1", "Running"]);
    assert_eq!(web_row[5], common::pod_ip(&web));
    assert_eq!(web_row[6], common::node_of(&web));
    let job_row = rows.iter().find(|r| r[0] == "job").unwrap();
    assert_eq!(&job_row[1..3], ["0/1", "Completed"]);

    // kubectl describe tells the scheduler's and kubelet's story.
    let described = kubectl(&kubeconfig, &["describe", "pod", "web"]);
    assert!(described.contains("Successfully assigned default/web to"), "{described}");
    assert!(described.contains("Started container app"), "{described}");

    // SIGTERM: a clean exit.
    let status = process.stop().expect("nodesim stopped by itself on SIGTERM");
    assert!(status.success(), "nodesim exited with {status}; log:\n{}", process.log_tail());
}
