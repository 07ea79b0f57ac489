//! CustomResourceDefinitions: served at once, several versions, schema validation,
//! pruning and defaulting, status and scale subresources, printer columns, cleanup.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use bytes::Bytes;
use nestor_testkit::{eventually, raw, Cluster};
use serde_json::{json, Value};

pub fn crontab_crd(group: &str, versions: &[&str]) -> Value {
    let schema = json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "cronSpec": {"type": "string", "pattern": "^(\\S+ ){4}\\S+$"},
                    "image": {"type": "string"},
                    "replicas": {"type": "integer", "minimum": 1, "default": 1}
                }
            },
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"}, "selector": {"type": "string"}}}
        }
    });
    let versions: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "name": v, "served": true, "storage": i == 0,
                "schema": {"openAPIV3Schema": schema},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}},
                "additionalPrinterColumns": [{"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}, {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}]
            })
        })
        .collect();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("crontabs.{group}")},
        "spec": {"group": group, "scope": "Namespaced", "versions": versions,
                 "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]}}
    })
}

#[tokio::test]
async fn crd_lifecycle() {
    let c = Cluster::start().await.unwrap();
    let r = c
        .raw(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            None,
            crontab_crd("stable.example.com", &["v1", "v1beta1"]).to_string(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let conditions = r.json()["status"]["conditions"].clone();
    assert!(conditions.as_array().unwrap().iter().any(|c| c["type"] == "Established" && c["status"] == "True"));

    // Served at once, at both versions, discoverable.
    let doc = c.raw("GET", "/apis/stable.example.com/v1", None, "").await.unwrap().json();
    assert_eq!(doc["resources"][0]["name"], "crontabs");
    assert_eq!(doc["resources"][0]["shortNames"], json!(["ct"]));
    let ct = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "a"}, "spec": {"cronSpec": "* * * * */5", "image": "x", "unknown": 1}, "status": {"replicas": 4}});
    let r =
        c.raw("POST", "/apis/stable.example.com/v1/namespaces/default/crontabs", None, ct.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let obj = r.json();
    assert_eq!(obj["spec"]["replicas"], 1, "defaulted: {obj}");
    assert!(obj["spec"].get("unknown").is_none(), "pruned: {obj}");
    assert!(obj.get("status").is_none(), "status is not set on create: {obj}");
    assert_eq!(obj["metadata"]["generation"], 1);
    let r = c.raw("GET", "/apis/stable.example.com/v1beta1/namespaces/default/crontabs/a", None, "").await.unwrap();
    assert_eq!(r.json()["apiVersion"], "stable.example.com/v1beta1");

    // Schema validation: 422 with the field.
    let bad = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "b"}, "spec": {"cronSpec": "nope", "replicas": 0}});
    let r =
        c.raw("POST", "/apis/stable.example.com/v1/namespaces/default/crontabs", None, bad.to_string()).await.unwrap();
    assert_eq!(r.status, 422, "{}", r.text());
    let fields: Vec<String> = r.json()["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"spec.cronSpec".to_string()) && fields.contains(&"spec.replicas".to_string()),
        "{fields:?}"
    );

    // Status and scale subresources.
    let r = c
        .raw(
            "PATCH",
            "/apis/stable.example.com/v1/namespaces/default/crontabs/a/status",
            Some("application/merge-patch+json"),
            r#"{"status":{"replicas":1,"selector":"app=a"}}"#,
        )
        .await
        .unwrap();
    assert_eq!(r.json()["status"]["replicas"], 1, "{}", r.text());
    let r = c
        .raw(
            "PATCH",
            "/apis/stable.example.com/v1/namespaces/default/crontabs/a/scale",
            Some("application/merge-patch+json"),
            r#"{"spec":{"replicas":3}}"#,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"]["selector"], "app=a");
    let r = c.raw("GET", "/apis/stable.example.com/v1/namespaces/default/crontabs/a", None, "").await.unwrap();
    assert_eq!(r.json()["spec"]["replicas"], 3);
    assert_eq!(r.json()["metadata"]["generation"], 2);

    // Strategic merge patch is not for custom resources: 415.
    let r = c
        .raw(
            "PATCH",
            "/apis/stable.example.com/v1/namespaces/default/crontabs/a",
            Some("application/strategic-merge-patch+json"),
            "{}",
        )
        .await
        .unwrap();
    assert_eq!(r.status, 415);

    // Printer columns in Tables.
    let client = c.raw_client().await.unwrap();
    let r = raw(
        &client,
        "GET",
        "/apis/stable.example.com/v1/namespaces/default/crontabs",
        &[("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
        Bytes::new(),
    )
    .await
    .unwrap();
    let t = r.json();
    let cols: Vec<&str> =
        t["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    // kube prints exactly the declared columns after Name (Age only when declared).
    assert_eq!(cols, vec!["Name", "Spec", "Replicas"]);
    assert_eq!(t["rows"][0]["cells"][1], "* * * * */5");
    assert_eq!(t["rows"][0]["cells"][2], 3);

    // Deleting the CRD deletes its objects, then stops serving.
    c.raw("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com", None, "")
        .await
        .unwrap();
    eventually(Duration::from_secs(20), "the CRD and its objects to be gone", || async {
        let r = c.raw("GET", "/apis/stable.example.com/v1/namespaces/default/crontabs", None, "").await.ok()?;
        (r.status == 404).then_some(())
    })
    .await
    .unwrap();
    let keys = c.etcd.etcdctl(&["get", "/registry/stable.example.com/", "--prefix", "--keys-only"]).unwrap();
    assert!(keys.trim().is_empty(), "left behind: {keys}");
}

#[tokio::test]
async fn crds_of_one_group_on_two_servers_do_not_interfere() {
    let a = Cluster::start().await.unwrap();
    let b = Cluster::start().await.unwrap();
    a.raw(
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        None,
        crontab_crd("x.example.com", &["v1"]).to_string(),
    )
    .await
    .unwrap();
    b.raw(
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        None,
        crontab_crd("x.example.com", &["v2alpha1"]).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(a.raw("GET", "/apis/x.example.com/v1/crontabs", None, "").await.unwrap().status, 200);
    assert_eq!(a.raw("GET", "/apis/x.example.com/v2alpha1/crontabs", None, "").await.unwrap().status, 404);
    assert_eq!(b.raw("GET", "/apis/x.example.com/v2alpha1/crontabs", None, "").await.unwrap().status, 200);
    assert_eq!(b.raw("GET", "/apis/x.example.com/v1/crontabs", None, "").await.unwrap().status, 404);
}

#[tokio::test]
async fn crds_survive_a_restart() {
    let mut c = Cluster::start().await.unwrap();
    c.raw(
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        None,
        crontab_crd("r.example.com", &["v1"]).to_string(),
    )
    .await
    .unwrap();
    c.restart_apiserver().await.unwrap();
    eventually(Duration::from_secs(10), "the CRD to be served after restart", || async {
        let r = c.raw("GET", "/apis/r.example.com/v1/crontabs", None, "").await.ok()?;
        (r.status == 200).then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn two_servers_over_one_etcd_serve_the_same_crds() {
    let a = Cluster::start().await.unwrap();
    let b = a.start_peer().await.unwrap();
    let b_client = nestor_testkit::client_from(&b.kubeconfig).await.unwrap();
    a.raw(
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        None,
        crontab_crd("shared.example.com", &["v1"]).to_string(),
    )
    .await
    .unwrap();
    // Created through server a, served by server b once its watch sees it.
    eventually(Duration::from_secs(10), "server b to serve the CRD", || async {
        let r = raw(&b_client, "GET", "/apis/shared.example.com/v1/crontabs", &[], Bytes::new()).await.ok()?;
        (r.status == 200).then_some(())
    })
    .await
    .unwrap();
    a.raw("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.shared.example.com", None, "")
        .await
        .unwrap();
    eventually(Duration::from_secs(20), "server b to stop serving it", || async {
        let r = raw(&b_client, "GET", "/apis/shared.example.com/v1/crontabs", &[], Bytes::new()).await.ok()?;
        (r.status == 404).then_some(())
    })
    .await
    .unwrap();
}
