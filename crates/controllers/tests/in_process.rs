//! `nestor_controllers::run` in-process, as the manager and `kubectl-vc up` start it: it leads,
//! works, and returns `Ok` when its shutdown future resolves.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use nestor_controllers::{Config, Kind};
use nestor_testkit::{eventually, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_in_process_and_stops_cleanly() {
    let cluster = Cluster::start().await.unwrap();
    let client = cluster.client().await.unwrap();
    let config = Config {
        identity: "in-process".into(),
        lease_namespace: "kube-system".into(),
        lease_duration: Duration::from_secs(15),
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        controllers: vec![Kind::ServiceAccount],
        root_ca: None,
        concurrent_syncs: 2,
        node_monitor_grace_period: std::time::Duration::from_secs(50),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(nestor_controllers::run(client.clone(), config, async move {
        let _ = stopped.await;
    }));
    let ns = Namespace {
        metadata: kube::api::ObjectMeta { name: Some("inproc".into()), ..Default::default() },
        ..Default::default()
    };
    Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.unwrap();
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "inproc");
    eventually(Duration::from_secs(60), "the default service account", || async { sas.get_opt("default").await.ok()? })
        .await
        .unwrap();
    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(30), task).await.unwrap().unwrap();
    assert!(result.is_ok(), "{result:?}");
}
