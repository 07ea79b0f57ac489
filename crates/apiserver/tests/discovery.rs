//! Discovery, health, version, metrics and Table answers.

#![allow(clippy::unwrap_used, clippy::panic)]

use bytes::Bytes;
use nestor_testkit::{raw, Cluster};
use serde_json::{json, Value};

#[tokio::test]
async fn discovery_documents_and_operations_endpoints() {
    let c = Cluster::start().await.unwrap();
    let api = c.raw("GET", "/api", None, "").await.unwrap().json();
    assert_eq!(api["versions"], json!(["v1"]));
    let apis = c.raw("GET", "/apis", None, "").await.unwrap().json();
    let groups: Vec<&str> = apis["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    for g in [
        "apps",
        "batch",
        "autoscaling",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "certificates.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
    ] {
        assert!(groups.contains(&g), "{g} missing from {groups:?}");
    }
    let autoscaling = apis["groups"].as_array().unwrap().iter().find(|g| g["name"] == "autoscaling").unwrap();
    assert_eq!(autoscaling["preferredVersion"]["version"], "v2");
    let core = c.raw("GET", "/api/v1", None, "").await.unwrap().json();
    let pods = core["resources"].as_array().unwrap().iter().find(|r| r["name"] == "pods").unwrap();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["categories"], json!(["all"]));
    assert_eq!(
        pods["verbs"],
        json!(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"])
    );

    // Aggregated discovery, in the form kubectl 1.32 asks for first.
    let client = c.raw_client().await.unwrap();
    let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let r = raw(&client, "GET", "/apis", &[("Accept", accept)], Bytes::new()).await.unwrap();
    assert_eq!(r.headers["content-type"], "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    let doc = r.json();
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    let apps = doc["items"].as_array().unwrap().iter().find(|g| g["metadata"]["name"] == "apps").unwrap();
    let deploy =
        apps["versions"][0]["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "deployments").unwrap();
    assert_eq!(deploy["scope"], "Namespaced");
    assert!(deploy["subresources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["subresource"] == "scale" && s["responseKind"]["group"] == "autoscaling"));

    for path in ["/healthz", "/livez", "/readyz"] {
        let r = c.raw("GET", path, None, "").await.unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "ok"), "{path}");
    }
    c.raw("GET", "/api/v1/namespaces", None, "").await.unwrap();
    let metrics = c.raw("GET", "/metrics", None, "").await.unwrap().text();
    let counted = metrics.lines().any(|l| {
        l.starts_with("apiserver_request_total{")
            && l.contains(r#"verb="LIST""#)
            && l.contains(r#"resource="namespaces""#)
            && l.contains(r#"code="200""#)
    });
    assert!(counted, "{metrics}");
    assert!(metrics
        .lines()
        .any(|l| l.starts_with("apiserver_request_duration_seconds_bucket{") && l.contains(r#"verb="LIST""#)));
}

#[tokio::test]
async fn tables_for_builtins() {
    let c = Cluster::start().await.unwrap();
    let client = c.raw_client().await.unwrap();
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    let r = raw(&client, "GET", "/api/v1/namespaces", &[("Accept", accept)], Bytes::new()).await.unwrap();
    let t = r.json();
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> =
        t["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(cols, vec!["Name", "Status", "Age"]);
    let default_row: &Value = t["rows"].as_array().unwrap().iter().find(|r| r["cells"][0] == "default").unwrap();
    assert_eq!(default_row["cells"][1], "Active");
    assert_eq!(default_row["object"]["kind"], "PartialObjectMetadata");
}
