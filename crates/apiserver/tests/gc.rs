//! Garbage collection of ownerReferences: background, foreground and orphan deletion.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use nestor_testkit::{eventually, Cluster};
use serde_json::{json, Value};

async fn mk_cm(c: &Cluster, name: &str, owners: Value) -> Value {
    let body = json!({"metadata": {"name": name, "ownerReferences": owners}});
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, body.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn owner_ref(owner: &Value, block: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"], "blockOwnerDeletion": block})
}

async fn exists(c: &Cluster, name: &str) -> Option<Value> {
    let r = c.raw("GET", &format!("/api/v1/namespaces/default/configmaps/{name}"), None, "").await.ok()?;
    (r.status == 200).then(|| r.json())
}

#[tokio::test]
async fn background_deletion_collects_dependents_without_other_owners() {
    let c = Cluster::start().await.unwrap();
    let owner = mk_cm(&c, "owner", json!([])).await;
    let other = mk_cm(&c, "other", json!([])).await;
    mk_cm(&c, "child", json!([owner_ref(&owner, false)])).await;
    mk_cm(&c, "shared", json!([owner_ref(&owner, false), owner_ref(&other, false)])).await;
    c.raw("DELETE", "/api/v1/namespaces/default/configmaps/owner", None, "").await.unwrap();
    eventually(Duration::from_secs(15), "child to be collected", || async {
        exists(&c, "child").await.is_none().then_some(())
    })
    .await
    .unwrap();
    // A dependent with another live owner stays.
    assert!(exists(&c, "shared").await.is_some());
}

#[tokio::test]
async fn foreground_deletion_waits_for_dependents() {
    let c = Cluster::start().await.unwrap();
    let owner = mk_cm(&c, "owner", json!([])).await;
    mk_cm(&c, "child", json!([owner_ref(&owner, true)])).await;
    let r = c
        .raw("DELETE", "/api/v1/namespaces/default/configmaps/owner?propagationPolicy=Foreground", None, "")
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
    eventually(Duration::from_secs(15), "owner and child to be gone", || async {
        (exists(&c, "owner").await.is_none() && exists(&c, "child").await.is_none()).then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn orphan_deletion_keeps_dependents_and_drops_the_reference() {
    let c = Cluster::start().await.unwrap();
    let owner = mk_cm(&c, "owner", json!([])).await;
    mk_cm(&c, "child", json!([owner_ref(&owner, false)])).await;
    let opts = json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"});
    c.raw("DELETE", "/api/v1/namespaces/default/configmaps/owner", None, opts.to_string()).await.unwrap();
    eventually(Duration::from_secs(15), "owner to be gone", || async {
        exists(&c, "owner").await.is_none().then_some(())
    })
    .await
    .unwrap();
    let child = exists(&c, "child").await.expect("orphaned child stays");
    assert!(child["metadata"].get("ownerReferences").is_none(), "{child}");
}

#[tokio::test]
async fn pods_on_nodes_delete_gracefully() {
    let c = Cluster::start().await.unwrap();
    let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]}});
    c.raw("POST", "/api/v1/namespaces/default/pods", None, pod.to_string()).await.unwrap();
    let r = c.raw("DELETE", "/api/v1/namespaces/default/pods/p", None, "").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["deletionGracePeriodSeconds"], 30);
    assert_eq!(c.raw("GET", "/api/v1/namespaces/default/pods/p", None, "").await.unwrap().status, 200);
    // The kubelet's confirmation (grace 0) removes it.
    c.raw("DELETE", "/api/v1/namespaces/default/pods/p?gracePeriodSeconds=0", None, "").await.unwrap();
    assert_eq!(c.raw("GET", "/api/v1/namespaces/default/pods/p", None, "").await.unwrap().status, 404);
}

#[tokio::test]
async fn dependents_of_owners_that_do_not_exist_are_collected() {
    let c = Cluster::start().await.unwrap();
    let ghost = json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": "00000000-0000-0000-0000-00000000dead"});
    mk_cm(&c, "dangling", json!([ghost])).await;
    eventually(Duration::from_secs(15), "the dangling dependent to be collected", || async {
        exists(&c, "dangling").await.is_none().then_some(())
    })
    .await
    .unwrap();
}
