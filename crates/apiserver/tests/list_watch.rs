//! Lists (selectors, pagination, resourceVersion semantics) and watches (resumption,
//! selectors, bookmarks, 410 after compaction), over real etcd.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use futures::StreamExt;
use nestor_testkit::{eventually, Cluster};
use serde_json::{json, Value};

async fn mk_pod(c: &Cluster, name: &str, labels: Value, node: &str) -> Value {
    let pod = json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}
    });
    let r = c.raw("POST", "/api/v1/namespaces/default/pods", None, pod.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn names(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn label_and_field_selectors() {
    let c = Cluster::start().await.unwrap();
    mk_pod(&c, "a", json!({"app": "web", "tier": "front"}), "n1").await;
    mk_pod(&c, "b", json!({"app": "web", "tier": "back"}), "n2").await;
    mk_pod(&c, "d", json!({"app": "db"}), "n1").await;
    let cases = [
        ("labelSelector=app%3Dweb", vec!["a", "b"]),
        ("labelSelector=app%3D%3Dweb", vec!["a", "b"]),
        ("labelSelector=app!%3Dweb", vec!["d"]),
        ("labelSelector=tier%20in%20(front,back)", vec!["a", "b"]),
        ("labelSelector=tier%20notin%20(front)", vec!["b", "d"]),
        ("labelSelector=tier", vec!["a", "b"]),
        ("labelSelector=!tier", vec!["d"]),
        ("fieldSelector=spec.nodeName%3Dn1", vec!["a", "d"]),
        ("fieldSelector=metadata.name!%3Da,spec.nodeName%3Dn1", vec!["d"]),
        ("fieldSelector=status.phase%3DPending&labelSelector=app%3Dweb", vec!["a", "b"]),
    ];
    for (query, want) in cases {
        let r = c.raw("GET", &format!("/api/v1/namespaces/default/pods?{query}"), None, "").await.unwrap();
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        assert_eq!(names(&r.json()), want, "{query}");
    }
    let r = c.raw("GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx", None, "").await.unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "field label not supported: spec.bogus");
    let r = c.raw("GET", "/api/v1/pods?labelSelector=a%20in%20b", None, "").await.unwrap();
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn pagination_is_a_consistent_snapshot_under_concurrent_writes() {
    let c = Cluster::start().await.unwrap();
    for i in 0..25 {
        let body = json!({"metadata": {"name": format!("cm-{i:02}")}}).to_string();
        c.raw("POST", "/api/v1/namespaces/default/configmaps", None, body).await.unwrap();
    }
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps?limit=10", None, "").await.unwrap();
    let first = r.json();
    assert_eq!(names(&first).len(), 10);
    assert_eq!(first["metadata"]["remainingItemCount"], 15);
    let list_rv = first["metadata"]["resourceVersion"].clone();
    // Writes between pages: the pages still show the state of the first page's revision.
    for i in 25..30 {
        let body = json!({"metadata": {"name": format!("cm-{i:02}")}}).to_string();
        c.raw("POST", "/api/v1/namespaces/default/configmaps", None, body).await.unwrap();
    }
    c.raw("DELETE", "/api/v1/namespaces/default/configmaps/cm-20", None, "").await.unwrap();
    let mut all = names(&first);
    let mut token = first["metadata"]["continue"].as_str().unwrap().to_string();
    loop {
        let r = c
            .raw("GET", &format!("/api/v1/namespaces/default/configmaps?limit=10&continue={token}"), None, "")
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        assert_eq!(page["metadata"]["resourceVersion"], list_rv);
        all.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    let want: Vec<String> = (0..25).map(|i| format!("cm-{i:02}")).collect();
    assert_eq!(all, want);

    // After compaction the token is too old: 410 Expired.
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps?limit=5", None, "").await.unwrap();
    let token = r.json()["metadata"]["continue"].as_str().unwrap().to_string();
    c.raw("POST", "/api/v1/namespaces/default/configmaps", None, json!({"metadata": {"name": "later"}}).to_string())
        .await
        .unwrap();
    let rev = c.etcd.etcdctl(&["endpoint", "status", "-w", "json"]).unwrap();
    let rev = serde_json::from_str::<Value>(&rev).unwrap()[0]["Status"]["header"]["revision"].as_i64().unwrap();
    c.etcd.etcdctl(&["compact", &rev.to_string()]).unwrap();
    let r = c
        .raw("GET", &format!("/api/v1/namespaces/default/configmaps?limit=5&continue={token}"), None, "")
        .await
        .unwrap();
    assert_eq!(r.status, 410, "{}", r.text());
    assert_eq!(r.json()["reason"], "Expired");
}

#[tokio::test]
async fn resource_version_semantics() {
    let c = Cluster::start().await.unwrap();
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact", None, "").await.unwrap();
    assert_eq!(r.status, 422);
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=99999999", None, "").await.unwrap();
    assert_eq!(r.status, 504);
    assert_eq!(r.json()["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
    let cm = c
        .raw("POST", "/api/v1/namespaces/default/configmaps", None, json!({"metadata": {"name": "x"}}).to_string())
        .await
        .unwrap()
        .json();
    let rv = cm["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    c.raw("DELETE", "/api/v1/namespaces/default/configmaps/x", None, "").await.unwrap();
    // An exact read at the old revision still sees the deleted object.
    let r = c
        .raw(
            "GET",
            &format!("/api/v1/namespaces/default/configmaps?resourceVersion={rv}&resourceVersionMatch=Exact"),
            None,
            "",
        )
        .await
        .unwrap();
    assert_eq!(names(&r.json()), vec!["x"]);
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0", None, "").await.unwrap();
    assert!(names(&r.json()).is_empty());
}

async fn watch_lines(c: &Cluster, path: &str) -> futures::stream::BoxStream<'static, Value> {
    nestor_testkit::watch_lines(&c.client().await.unwrap(), path).await.unwrap()
}

#[tokio::test]
async fn watch_resumes_filters_and_expires() {
    let c = Cluster::start().await.unwrap();
    let first = mk_pod(&c, "p1", json!({"app": "web"}), "n1").await;
    let rv = first["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    mk_pod(&c, "p2", json!({"app": "db"}), "n1").await;
    // Resuming from p1's revision replays what came after it only.
    let mut w = watch_lines(&c, &format!("/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}")).await;
    let ev = tokio::time::timeout(Duration::from_secs(10), w.next()).await.unwrap().unwrap();
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["metadata"]["name"], "p2");

    // With a selector: leaving it is DELETED, entering it is ADDED.
    let mut sel = watch_lines(&c, "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dweb").await;
    let ev = tokio::time::timeout(Duration::from_secs(10), sel.next()).await.unwrap().unwrap();
    assert_eq!((ev["type"].as_str(), ev["object"]["metadata"]["name"].as_str()), (Some("ADDED"), Some("p1")));
    c.raw(
        "PATCH",
        "/api/v1/namespaces/default/pods/p1",
        Some("application/merge-patch+json"),
        r#"{"metadata":{"labels":{"app":"other"}}}"#,
    )
    .await
    .unwrap();
    c.raw(
        "PATCH",
        "/api/v1/namespaces/default/pods/p2",
        Some("application/merge-patch+json"),
        r#"{"metadata":{"labels":{"app":"web"}}}"#,
    )
    .await
    .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), sel.next()).await.unwrap().unwrap();
    assert_eq!((ev["type"].as_str(), ev["object"]["metadata"]["name"].as_str()), (Some("DELETED"), Some("p1")));
    let ev = tokio::time::timeout(Duration::from_secs(10), sel.next()).await.unwrap().unwrap();
    assert_eq!((ev["type"].as_str(), ev["object"]["metadata"]["name"].as_str()), (Some("ADDED"), Some("p2")));

    // A watch from a compacted revision answers one ERROR event with 410 Expired.
    let rev = c.etcd.etcdctl(&["endpoint", "status", "-w", "json"]).unwrap();
    let rev = serde_json::from_str::<Value>(&rev).unwrap()[0]["Status"]["header"]["revision"].as_i64().unwrap();
    c.etcd.etcdctl(&["compact", &rev.to_string()]).unwrap();
    let mut old = watch_lines(&c, &format!("/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}")).await;
    let ev = tokio::time::timeout(Duration::from_secs(10), old.next()).await.unwrap().unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
}

#[tokio::test]
async fn watch_initial_events_bookmark_and_timeout() {
    let c = Cluster::start().await.unwrap();
    mk_pod(&c, "p1", json!({}), "n1").await;
    let path = "/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=2";
    let events: Vec<Value> = watch_lines(&c, path).await.collect().await;
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[1]["type"], "BOOKMARK");
    assert_eq!(events[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
    // The stream ended by itself after timeoutSeconds (collect returned).
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn kube_rs_watcher_and_reflector_follow_changes() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::runtime::{reflector, watcher, WatchStreamExt};
    let c = Cluster::start().await.unwrap();
    let client = c.client().await.unwrap();
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(client, "default");
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(api.clone(), watcher::Config::default())).applied_objects();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    for i in 0..5 {
        let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": format!("r{i}")}})).unwrap();
        api.create(&Default::default(), &cm).await.unwrap();
    }
    api.delete("r0", &Default::default()).await.unwrap();
    eventually(Duration::from_secs(10), "the reflector to hold r1..r4", || async {
        let mut names: Vec<String> =
            reader.state().iter().map(|c| c.metadata.name.clone().unwrap_or_default()).collect();
        names.sort();
        (names == ["r1", "r2", "r3", "r4"]).then_some(())
    })
    .await
    .unwrap();
    let list = api.list(&Default::default()).await.unwrap();
    assert_eq!(list.items.len(), 4);
    task.abort();
}

/// A list larger than gRPC's default 4 MiB message (six ConfigMaps of 900 KB) is answered
/// whole, as kube-apiserver answers it; it used to be a 500 from the etcd client.
#[tokio::test]
async fn a_list_beyond_four_mebibytes_is_answered() {
    let c = Cluster::start().await.unwrap();
    let data = "x".repeat(900 * 1024);
    for i in 0..6 {
        let body = json!({"metadata": {"name": format!("big-{i}")}, "data": {"blob": data}}).to_string();
        let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, body).await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let list = c.raw("GET", "/api/v1/namespaces/default/configmaps", None, "").await.unwrap();
    assert_eq!(list.status, 200, "{}", &list.text()[..list.text().len().min(300)]);
    let names = list.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["metadata"]["name"].as_str().unwrap().starts_with("big-"))
        .count();
    assert_eq!(names, 6);
}

/// A list without a field selector is made from the stored text; with one, from decoded
/// objects. Both give the same items.
#[tokio::test]
async fn lists_from_stored_text_equal_lists_from_decoded_objects() {
    let c = Cluster::start().await.unwrap();
    mk_pod(&c, "a", json!({"app": "web"}), "n1").await;
    mk_pod(&c, "b", json!({"app": "db"}), "n2").await;
    let odd =
        json!({"metadata": {"name": "odd", "labels": {"app": "web"}}, "data": {"text": "é \"quoted\" \\ \u{1F600}\n"}});
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, odd.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let decoded = "fieldSelector=metadata.namespace%3Ddefault";
    for (path, query) in [
        ("/api/v1/namespaces/default/pods", ""),
        ("/api/v1/pods", "labelSelector=app%3Dweb"),
        ("/api/v1/namespaces/default/configmaps", ""),
        ("/api/v1/namespaces/default/configmaps", "labelSelector=app"),
    ] {
        let text = c.raw("GET", &format!("{path}?{query}"), None, "").await.unwrap();
        let tree = c.raw("GET", &format!("{path}?{query}&{decoded}"), None, "").await.unwrap();
        assert_eq!((text.status, tree.status), (200, 200), "{path}?{query}: {}", text.text());
        let (text, tree) = (text.json(), tree.json());
        assert!(!names(&text).is_empty(), "{path}?{query}");
        for key in ["kind", "apiVersion", "items"] {
            assert_eq!(text[key], tree[key], "{path}?{query}: {key}");
        }
        // Background writes (leases, events) may move the revision between the two lists.
        assert!(text["metadata"]["resourceVersion"].as_str().is_some_and(|rv| rv.parse::<i64>().is_ok()));
        for item in text["items"].as_array().unwrap() {
            assert!(item.get("apiVersion").is_none() && item.get("kind").is_none(), "typed list items: {item}");
            assert!(item["metadata"]["resourceVersion"].is_string(), "{item}");
        }
    }
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dweb", None, "").await.unwrap();
    assert_eq!(names(&r.json()), vec!["odd"]);
    assert_eq!(r.json()["items"][0]["data"]["text"], "é \"quoted\" \\ \u{1F600}\n");
}
