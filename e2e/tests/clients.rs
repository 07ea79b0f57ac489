//! The client matrix: published Kubernetes clients, installed from their registries by
//! `make test` (hack/deps.sh, versions pinned in e2e/clients), each doing list, watch, create,
//! every patch type it offers, server-side apply and delete, on a ConfigMap and on a custom
//! resource: the Python `kubernetes` client (PyPI), @kubernetes/client-node (npm), and kube-rs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use nestor_testkit::{eventually, Cluster};
use serde_json::json;

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// Whether a kube-rs watch shows `name` ADDED before it ends.
async fn saw_added<K: kube::Resource>(
    watching: impl futures::Stream<Item = kube::Result<WatchEvent<K>>>,
    name: &str,
) -> bool {
    let added = watching
        .try_filter_map(|e| async move {
            Ok(matches!(e, WatchEvent::Added(ref o) if o.meta().name.as_deref() == Some(name)).then_some(()))
        })
        .boxed_local()
        .try_next()
        .await
        .unwrap();
    added.is_some()
}

/// Runs a client script with the cluster's kubeconfig and checks it did every step.
fn run_matrix(program: &Path, script: &str, kubeconfig: &Path) {
    let out = Command::new(program)
        .arg(clients_dir().join(script))
        .arg(kubeconfig)
        .current_dir(clients_dir())
        .output()
        .unwrap_or_else(|e| panic!("{} is not installed (make deps installs it): {e}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    for step in [
        "create configmap",
        "list configmaps",
        "watch configmaps",
        "server-side apply configmap",
        "delete configmap",
        "create custom object",
        "list custom objects",
        "watch custom objects",
        "server-side apply custom object",
        "delete custom object",
    ] {
        assert!(stdout.lines().any(|l| l == format!("ok {step}")), "{script} did not report {step:?}:\n{stdout}");
    }
}

#[tokio::test]
async fn python_client() {
    let c = Cluster::start().await.unwrap();
    run_matrix(&clients_dir().join(".venv/bin/python"), "python_matrix.py", &c.kubeconfig());
}

#[tokio::test]
async fn javascript_client() {
    let c = Cluster::start().await.unwrap();
    run_matrix(Path::new("node"), "js_matrix.mjs", &c.kubeconfig());
}

#[tokio::test]
async fn kube_rs_client() {
    let c = Cluster::start().await.unwrap();
    let client = c.client().await.unwrap();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "rust"}})).unwrap())
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "rust");
    let watching = cms.watch(&WatchParams::default().timeout(5), "0").await.unwrap();
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "settings", "labels": {"app": "rs"}}, "data": {"color": "blue"}}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    assert!(saw_added(watching, "settings").await, "the watch saw the create");
    let listed = cms.list(&ListParams::default().labels("app=rs")).await.unwrap();
    assert_eq!(listed.items.len(), 1);

    let pp = PatchParams::default();
    cms.patch(
        "settings",
        &pp,
        &Patch::Json::<()>(
            serde_json::from_value(json!([{"op": "replace", "path": "/data/color", "value": "green"}])).unwrap(),
        ),
    )
    .await
    .unwrap();
    cms.patch("settings", &pp, &Patch::Merge(json!({"data": {"size": "m"}}))).await.unwrap();
    cms.patch("settings", &pp, &Patch::Strategic(json!({"data": {"shape": "round"}}))).await.unwrap();
    let data = cms.get("settings").await.unwrap().data.unwrap();
    assert_eq!(serde_json::to_value(data).unwrap(), json!({"color": "green", "size": "m", "shape": "round"}));
    let applied = cms
        .patch(
            "applied",
            &PatchParams::apply("rs-matrix"),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v"}}),
            ),
        )
        .await
        .unwrap();
    let managers: Vec<_> =
        applied.metadata.managed_fields.unwrap().into_iter().map(|m| (m.manager, m.operation)).collect();
    assert!(managers.contains(&(Some("rs-matrix".into()), Some("Apply".into()))), "{managers:?}");
    cms.delete("settings", &DeleteParams::default()).await.unwrap();
    assert!(cms.get_opt("settings").await.unwrap().is_none());

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &serde_json::from_value(json!({
        "metadata": {"name": "gadgets.rust.example.com"},
        "spec": {"group": "rust.example.com", "scope": "Namespaced", "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}}}}}}]},
    })).unwrap()).await.unwrap();
    let resource = ApiResource {
        group: "rust.example.com".into(),
        version: "v1".into(),
        api_version: "rust.example.com/v1".into(),
        kind: "Gadget".into(),
        plural: "gadgets".into(),
    };
    let gadgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "rust", &resource);
    eventually(Duration::from_secs(10), "gadgets to be served", || async {
        gadgets.list(&ListParams::default()).await.ok().map(|_| ())
    })
    .await
    .unwrap();
    let watching = gadgets.watch(&WatchParams::default().timeout(5), "0").await.unwrap();
    let g1: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "rust.example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 1}}),
    )
    .unwrap();
    gadgets.create(&PostParams::default(), &g1).await.unwrap();
    assert!(saw_added(watching, "g1").await, "the watch saw the create");
    gadgets.patch("g1", &pp, &Patch::Merge(json!({"spec": {"size": 2}}))).await.unwrap();
    gadgets
        .patch(
            "g1",
            &pp,
            &Patch::Json::<()>(
                serde_json::from_value(json!([{"op": "add", "path": "/spec/tags", "value": ["a"]}])).unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(gadgets.get("g1").await.unwrap().data["spec"], json!({"size": 2, "tags": ["a"]}));
    let applied = gadgets
        .patch("g1", &PatchParams::apply("rs-matrix").force(), &Patch::Apply(json!({"apiVersion": "rust.example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 3}})))
        .await
        .unwrap();
    assert_eq!(applied.data["spec"]["size"], 3);
    gadgets.delete("g1", &DeleteParams::default()).await.unwrap();
    assert!(gadgets.list(&ListParams::default()).await.unwrap().items.is_empty());
}
