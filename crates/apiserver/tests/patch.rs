//! JSON, merge and strategic merge patches through the API, and kube-rs patching.

#![allow(clippy::unwrap_used, clippy::panic)]

use nestor_testkit::Cluster;
use serde_json::json;

fn deployment() -> String {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "nginx", "image": "nginx:1.24", "env": [{"name": "A", "value": "1"}]},
                     {"name": "side", "image": "busybox"}]}}}
    })
    .to_string()
}

#[tokio::test]
async fn strategic_merge_json_and_merge_patches() {
    let c = Cluster::start().await.unwrap();
    c.raw("POST", "/apis/apps/v1/namespaces/default/deployments", None, deployment()).await.unwrap();
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    // kubectl set image: containers merge by name, the other container stays.
    let smp = r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]}}}}"#;
    let r = c.raw("PATCH", path, Some("application/strategic-merge-patch+json"), smp).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let containers = r.json()["spec"]["template"]["spec"]["containers"].clone();
    assert_eq!(containers.as_array().unwrap().len(), 2);
    assert_eq!(containers[0]["image"], "nginx:1.25");
    assert_eq!(containers[0]["env"][0]["name"], "A");
    // $patch: delete removes one container by its merge key.
    let smp = r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}"#;
    let r = c.raw("PATCH", path, Some("application/strategic-merge-patch+json"), smp).await.unwrap();
    assert_eq!(r.json()["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);
    // A merge patch replaces lists wholesale.
    let mp = r#"{"metadata":{"labels":{"tier":"front"}},"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x"}]}}}}"#;
    let r = c.raw("PATCH", path, Some("application/merge-patch+json"), mp).await.unwrap();
    assert_eq!(r.json()["metadata"]["labels"], json!({"app": "web", "tier": "front"}));
    assert_eq!(r.json()["spec"]["template"]["spec"]["containers"][0]["name"], "only");
    // JSON patch with a failing test operation is refused and changes nothing.
    let jp = r#"[{"op":"test","path":"/spec/replicas","value":5},{"op":"replace","path":"/spec/replicas","value":9}]"#;
    let r = c.raw("PATCH", path, Some("application/json-patch+json"), jp).await.unwrap();
    assert_eq!(r.status, 422, "{}", r.text());
    let jp = r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#;
    let r = c.raw("PATCH", path, Some("application/json-patch+json"), jp).await.unwrap();
    assert_eq!(r.json()["spec"]["replicas"], 4);
    // A patch naming a stale resourceVersion is a conflict.
    let r = c
        .raw("PATCH", path, Some("application/merge-patch+json"), r#"{"metadata":{"resourceVersion":"1"}}"#)
        .await
        .unwrap();
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn kube_rs_patches() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Patch, PatchParams};
    let c = Cluster::start().await.unwrap();
    c.raw("POST", "/apis/apps/v1/namespaces/default/deployments", None, deployment()).await.unwrap();
    let api: kube::Api<Deployment> = kube::Api::namespaced(c.client().await.unwrap(), "default");
    let d = api.patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(3));
    let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}});
    let d = api.patch("web", &PatchParams::default(), &Patch::Strategic(p)).await.unwrap();
    let containers = d.spec.unwrap().template.spec.unwrap().containers;
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0].image.as_deref(), Some("nginx:1.26"));
    // Defaults as kube-apiserver writes them.
    assert_eq!(containers[0].image_pull_policy.as_deref(), Some("IfNotPresent"));
    assert_eq!(containers[0].termination_message_path.as_deref(), Some("/dev/termination-log"));
}
