//! What every namespace gets: the `default` ServiceAccount and the `kube-root-ca.crt`
//! ConfigMap; and the process's metrics and health endpoints.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Env, WAIT};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use nestor_testkit::{eventually, tenancy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_namespace_gets_default_account_and_root_ca() {
    let env = Env::start().await;
    env.k(&["create", "namespace", "team-a"]);
    let sas: Api<ServiceAccount> = Api::namespaced(env.client.clone(), "team-a");
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), "team-a");
    eventually(WAIT, "the default service account", || async { sas.get_opt("default").await.ok()? })
        .await
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let ca = std::fs::read_to_string(env.cluster.dir().join("ca.crt")).unwrap();
    let cm =
        eventually(WAIT, "kube-root-ca.crt", || async { cms.get_opt("kube-root-ca.crt").await.ok()? }).await.unwrap();
    assert_eq!(cm.data.as_ref().unwrap()["ca.crt"], ca);
    assert!(cm.metadata.annotations.as_ref().unwrap().contains_key("kubernetes.io/description"));
    // Existing namespaces got them too.
    let kube_system: Api<ServiceAccount> = Api::namespaced(env.client.clone(), "kube-system");
    eventually(WAIT, "kube-system's default account", || async { kube_system.get_opt("default").await.ok()? })
        .await
        .unwrap();

    // Deleted or tampered with, they come back.
    sas.delete("default", &DeleteParams::default()).await.unwrap();
    let patch = serde_json::json!({ "data": { "ca.crt": "forged", "extra": "x" } });
    cms.patch("kube-root-ca.crt", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    eventually(WAIT, "the account and the CA restored", || async {
        let sa = sas.get_opt("default").await.ok()??;
        let cm = cms.get_opt("kube-root-ca.crt").await.ok()??;
        let data = cm.data?;
        (sa.metadata.deletion_timestamp.is_none() && data.len() == 1 && data["ca.crt"] == ca).then_some(())
    })
    .await
    .unwrap();

    // Metrics and health.
    let log = env.cluster.dir().join("controllers-0.log");
    let addr = tenancy::logged_addr(&log, "serving metrics").await.unwrap();
    let metrics = http_get(&addr, "/metrics").await;
    assert!(metrics.contains("nestor_controllers_leader 1"), "{metrics}");
    assert!(
        metrics.contains("nestor_controllers_sync_duration_seconds_count{controller=\"serviceaccount\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("nestor_controllers_cached_objects{kind=\"namespaces\"}"), "{metrics}");
    assert!(http_get(&addr, "/healthz").await.ends_with("ok"));
    assert!(http_get(&addr, "/readyz").await.ends_with("ok"));
    let lease =
        env.k(&["get", "lease", "-n", "kube-system", "nestor-controllers", "-o", "jsonpath={.spec.holderIdentity}"]);
    assert_eq!(lease, "controllers-test");

    // SIGTERM: a clean exit that gives the Lease up.
    let mut env = env;
    let status = env.controllers.stop().unwrap();
    assert!(status.success(), "{status:?}");
    let holder =
        env.k(&["get", "lease", "-n", "kube-system", "nestor-controllers", "-o", "jsonpath={.spec.holderIdentity}"]);
    assert_eq!(holder, "");
}

/// A plain HTTP/1.0 GET; answers the whole response.
async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}
