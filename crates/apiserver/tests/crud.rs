//! Create, get, update, delete and their errors, against real etcd through HTTPS.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use nestor_testkit::Cluster;
use serde_json::{json, Value};

fn mk_configmap(name: &str, data: Value) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}).to_string()
}

#[tokio::test]
async fn create_get_update_delete_with_kube_messages() {
    let c = Cluster::start().await.unwrap();
    let r = c
        .raw("POST", "/api/v1/namespaces/default/configmaps", None, mk_configmap("a", json!({"k": "v"})))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["data"]["k"], "v");
    assert!(created["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert!(created["metadata"]["creationTimestamp"].as_str().is_some());
    let rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_string();

    // Same name again: 409 AlreadyExists, worded as kube-apiserver words it.
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, mk_configmap("a", json!({}))).await.unwrap();
    assert_eq!(r.status, 409);
    let s = r.json();
    assert_eq!(s["reason"], "AlreadyExists");
    assert_eq!(s["message"], r#"configmaps "a" already exists"#);
    assert_eq!(s["details"], json!({"name": "a", "kind": "configmaps"}));

    // Update with the current resourceVersion works and moves it.
    let mut next = created.clone();
    next["data"]["k"] = json!("w");
    let r = c.raw("PUT", "/api/v1/namespaces/default/configmaps/a", None, next.to_string()).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_ne!(r.json()["metadata"]["resourceVersion"], json!(rv));

    // Update with the old resourceVersion: 409 Conflict.
    let r = c.raw("PUT", "/api/v1/namespaces/default/configmaps/a", None, next.to_string()).await.unwrap();
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["message"],
        r#"Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again"#
    );

    // The stored key is laid out as kube-apiserver lays it out, readable JSON.
    let stored = c.etcd.etcdctl(&["get", "/registry/configmaps/default/a", "--print-value-only"]).unwrap();
    let stored: Value = serde_json::from_str(stored.trim()).unwrap();
    assert_eq!(stored["data"]["k"], "w");

    // Delete answers a Success Status with details, then the object is gone.
    let r = c.raw("DELETE", "/api/v1/namespaces/default/configmaps/a", None, "").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "Success");
    assert_eq!(r.json()["details"]["name"], "a");
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps/a", None, "").await.unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], r#"configmaps "a" not found"#);
}

#[tokio::test]
async fn concurrent_updates_lose_nothing() {
    let c = Cluster::start().await.unwrap();
    c.raw("POST", "/api/v1/namespaces/default/configmaps", None, mk_configmap("counter", json!({"n": "0"})))
        .await
        .unwrap();
    let client = c.client().await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for _ in 0..10 {
                loop {
                    let r = nestor_testkit::raw(
                        &client,
                        "GET",
                        "/api/v1/namespaces/default/configmaps/counter",
                        &[],
                        Default::default(),
                    )
                    .await
                    .unwrap();
                    let mut cm = r.json();
                    let n: u64 = cm["data"]["n"].as_str().unwrap().parse().unwrap();
                    cm["data"]["n"] = json!((n + 1).to_string());
                    let r = nestor_testkit::raw(
                        &client,
                        "PUT",
                        "/api/v1/namespaces/default/configmaps/counter",
                        &[("Content-Type", "application/json")],
                        cm.to_string().into(),
                    )
                    .await
                    .unwrap();
                    match r.status {
                        200 => break,
                        409 => conflicts += 1,
                        other => panic!("unexpected {other}: {}", r.text()),
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.unwrap();
    }
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps/counter", None, "").await.unwrap();
    assert_eq!(r.json()["data"]["n"], "80", "every increment must survive ({conflicts} conflicts seen)");
}

#[tokio::test]
async fn generate_name_dry_run_and_preconditions() {
    let c = Cluster::start().await.unwrap();
    let body = json!({"metadata": {"generateName": "job-"}, "data": {}}).to_string();
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, body.clone()).await.unwrap();
    let name = r.json()["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("job-") && name.len() == 9, "{name}");

    // dryRun=All validates and answers, but stores nothing.
    let r = c
        .raw("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", None, mk_configmap("dry", json!({})))
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    assert!(r.json()["metadata"].get("resourceVersion").is_none());
    assert_eq!(c.raw("GET", "/api/v1/namespaces/default/configmaps/dry", None, "").await.unwrap().status, 404);
    let r = c
        .raw("POST", "/api/v1/namespaces/default/configmaps?dryRun=Some", None, mk_configmap("dry", json!({})))
        .await
        .unwrap();
    assert_eq!(r.status, 400);

    // A delete with a wrong uid precondition is refused.
    let opts = json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "nope"}}).to_string();
    let r = c.raw("DELETE", &format!("/api/v1/namespaces/default/configmaps/{name}"), None, opts).await.unwrap();
    assert_eq!(r.status, 409);
    assert!(r.json()["message"].as_str().unwrap().contains("Precondition failed: UID in precondition: nope"));
    let r =
        c.raw("DELETE", &format!("/api/v1/namespaces/default/configmaps/{name}?dryRun=All"), None, "").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        c.raw("GET", &format!("/api/v1/namespaces/default/configmaps/{name}"), None, "").await.unwrap().status,
        200
    );
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let c = Cluster::start().await.unwrap();
    let deploy = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
        "status": {"replicas": 7}
    });
    let r = c.raw("POST", "/apis/apps/v1/namespaces/default/deployments", None, deploy.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let d = r.json();
    assert_eq!(d["metadata"]["generation"], 1);
    assert!(d["status"].get("replicas").is_none(), "status is reset on create: {}", d["status"]);

    // Status changes through the main resource are ignored; spec changes bump generation.
    let patch = json!({"spec": {"replicas": 3}, "status": {"replicas": 9}}).to_string();
    let r = c
        .raw("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", Some("application/merge-patch+json"), patch)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["spec"]["replicas"], 3);
    assert_eq!(r.json()["metadata"]["generation"], 2);
    assert!(r.json()["status"].get("replicas").is_none());

    // Spec changes through status are ignored; status is written; generation stays.
    let patch = json!({"spec": {"replicas": 5}, "status": {"replicas": 3, "observedGeneration": 2}}).to_string();
    let r = c
        .raw(
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/web/status",
            Some("application/merge-patch+json"),
            patch,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["spec"]["replicas"], 3);
    assert_eq!(r.json()["status"]["replicas"], 3);
    assert_eq!(r.json()["metadata"]["generation"], 2);

    // Scale reads and writes replicas.
    let r = c.raw("GET", "/apis/apps/v1/namespaces/default/deployments/web/scale", None, "").await.unwrap();
    assert_eq!(r.json()["kind"], "Scale");
    assert_eq!(r.json()["spec"]["replicas"], 3);
    assert_eq!(r.json()["status"]["selector"], "app=web");
    let r = c
        .raw(
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            Some("application/merge-patch+json"),
            r#"{"spec":{"replicas":6}}"#,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.raw("GET", "/apis/apps/v1/namespaces/default/deployments/web", None, "").await.unwrap();
    assert_eq!(r.json()["spec"]["replicas"], 6);
}

#[tokio::test]
async fn namespaces_missing_terminating_and_deleted_with_content() {
    let c = Cluster::start().await.unwrap();
    let r = c.raw("POST", "/api/v1/namespaces/nope/configmaps", None, mk_configmap("a", json!({}))).await.unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], r#"namespaces "nope" not found"#);

    c.raw("POST", "/api/v1/namespaces", None, json!({"metadata": {"name": "team"}}).to_string()).await.unwrap();
    for i in 0..3 {
        let r = c
            .raw("POST", "/api/v1/namespaces/team/configmaps", None, mk_configmap(&format!("c{i}"), json!({})))
            .await
            .unwrap();
        assert_eq!(r.status, 201);
    }
    // A finalizer holds one object so the namespace stays Terminating for a while.
    let held = json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}).to_string();
    assert_eq!(c.raw("POST", "/api/v1/namespaces/team/configmaps", None, held).await.unwrap().status, 201);
    let r = c.raw("DELETE", "/api/v1/namespaces/team", None, "").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"]["phase"], "Terminating");
    let r = c.raw("POST", "/api/v1/namespaces/team/configmaps", None, mk_configmap("late", json!({}))).await.unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        r#"configmaps "late" is forbidden: unable to create new content in namespace team because it is being terminated"#
    );
    assert_eq!(r.json()["details"]["causes"][0]["reason"], "NamespaceTerminating");
    nestor_testkit::eventually(Duration::from_secs(20), "content to be deleted", || async {
        let r = c.raw("GET", "/api/v1/namespaces/team/configmaps", None, "").await.ok()?;
        let items = r.json()["items"].as_array()?.clone();
        (items.len() == 1 && items[0]["metadata"]["deletionTimestamp"].is_string()).then_some(())
    })
    .await
    .unwrap();
    // Releasing the finalizer lets the namespace go.
    let r = c
        .raw(
            "PATCH",
            "/api/v1/namespaces/team/configmaps/held",
            Some("application/merge-patch+json"),
            r#"{"metadata":{"finalizers":null}}"#,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    nestor_testkit::eventually(Duration::from_secs(20), "namespace to be removed", || async {
        let r = c.raw("GET", "/api/v1/namespaces/team", None, "").await.ok()?;
        (r.status == 404).then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn events_are_one_storage_in_two_versions() {
    let c = Cluster::start().await.unwrap();
    let core = json!({
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p", "apiVersion": "v1"},
        "reason": "Pulled", "message": "pulled the image", "type": "Normal", "count": 1,
        "source": {"component": "kubelet"}, "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"
    });
    let r = c.raw("POST", "/api/v1/namespaces/default/events", None, core.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c.raw("GET", "/apis/events.k8s.io/v1/namespaces/default/events/e1", None, "").await.unwrap();
    let v1 = r.json();
    assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
    assert_eq!(v1["regarding"]["name"], "p");
    assert_eq!(v1["note"], "pulled the image");
    assert_eq!(v1["deprecatedCount"], 1);

    // Written as events.k8s.io/v1 (kube-rs's Recorder does this), read as core v1.
    let ev = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e2"},
        "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "nestor.dev/test", "reportingInstance": "t-1",
        "action": "Reconcile", "reason": "Synced", "note": "all good", "type": "Normal",
        "regarding": {"kind": "ConfigMap", "namespace": "default", "name": "c", "apiVersion": "v1"}
    });
    let r = c.raw("POST", "/apis/events.k8s.io/v1/namespaces/default/events", None, ev.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c
        .raw("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dc", None, "")
        .await
        .unwrap();
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", r.text());
    assert_eq!(items[0]["message"], "all good");
    assert_eq!(items[0]["reportingComponent"], "nestor.dev/test");
}

#[tokio::test]
async fn horizontal_pod_autoscalers_are_served_at_v1_and_v2() {
    let c = Cluster::start().await.unwrap();
    let v1 = json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 4, "targetCPUUtilizationPercentage": 60}
    });
    let r = c
        .raw("POST", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", None, v1.to_string())
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["spec"]["targetCPUUtilizationPercentage"], 60);
    let v2 = c
        .raw("GET", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web", None, "")
        .await
        .unwrap()
        .json();
    assert_eq!(
        v2["spec"]["metrics"][0]["resource"]["target"],
        json!({"type": "Utilization", "averageUtilization": 60})
    );
    assert!(v2["spec"].get("targetCPUUtilizationPercentage").is_none());
    // Stored once, in the storage version (autoscaling/v2).
    let stored =
        c.etcd.etcdctl(&["get", "/registry/horizontalpodautoscalers/default/web", "--print-value-only"]).unwrap();
    let stored: Value = serde_json::from_str(stored.trim()).unwrap();
    assert_eq!(stored["apiVersion"], "autoscaling/v2");
    // A v2 change is seen through v1.
    let patch = json!({"spec": {"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}});
    let r = c
        .raw(
            "PATCH",
            "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web",
            Some("application/merge-patch+json"),
            patch.to_string(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v1 = c
        .raw("GET", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web", None, "")
        .await
        .unwrap()
        .json();
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 80);
}
