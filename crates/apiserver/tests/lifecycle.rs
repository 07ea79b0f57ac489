//! Start, bootstrap objects, pod binding, and graceful shutdown on SIGTERM.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use futures::StreamExt;
use nestor_testkit::Cluster;
use serde_json::json;

#[tokio::test]
async fn bootstrap_objects_exist() {
    let c = Cluster::start().await.unwrap();
    let ns = c.raw("GET", "/api/v1/namespaces", None, "").await.unwrap().json();
    let names: Vec<&str> =
        ns["items"].as_array().unwrap().iter().map(|n| n["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["default", "kube-node-lease", "kube-public", "kube-system"]);
    let svc = c.raw("GET", "/api/v1/namespaces/default/services/kubernetes", None, "").await.unwrap().json();
    assert_eq!(svc["spec"]["clusterIP"], "10.0.0.1");
    let ep = c.raw("GET", "/api/v1/namespaces/default/endpoints/kubernetes", None, "").await.unwrap().json();
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], c.port);
    let r =
        c.raw("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes", None, "").await.unwrap();
    assert_eq!(r.status, 200);
    // The system namespaces cannot be deleted.
    let r = c.raw("DELETE", "/api/v1/namespaces/default", None, "").await.unwrap();
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn pods_are_bound_once() {
    let c = Cluster::start().await.unwrap();
    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    c.raw("POST", "/api/v1/namespaces/default/pods", None, pod.to_string()).await.unwrap();
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}});
    let r = c.raw("POST", "/api/v1/namespaces/default/pods/p/binding", None, binding.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let p = c.raw("GET", "/api/v1/namespaces/default/pods/p", None, "").await.unwrap().json();
    assert_eq!(p["spec"]["nodeName"], "n1");
    assert!(p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["status"] == "True"));
    let r = c.raw("POST", "/api/v1/namespaces/default/pods/p/binding", None, binding.to_string()).await.unwrap();
    assert_eq!(r.status, 409, "{}", r.text());
}

#[tokio::test]
async fn sigterm_ends_watches_and_exits_cleanly() {
    let mut c = Cluster::start().await.unwrap();
    let client = c.client().await.unwrap();
    let mut watch = nestor_testkit::watch_lines(&client, "/api/v1/namespaces?watch=true").await.unwrap();
    // The four bootstrap namespaces arrive first.
    for _ in 0..4 {
        tokio::time::timeout(Duration::from_secs(10), watch.next()).await.unwrap().unwrap();
    }
    let status = tokio::task::spawn_blocking(move || {
        let status = c.apiserver.stop();
        (c, status)
    });
    // The stream ends (it is not cut by a kill): the server closed it on shutdown.
    let end = tokio::time::timeout(Duration::from_secs(15), watch.next()).await.unwrap();
    assert!(end.is_none(), "unexpected event {end:?}");
    let (_c, status) = status.await.unwrap();
    assert!(status.is_some_and(|s| s.success()), "exit status {status:?}");
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig} {pid}");
}

#[tokio::test]
async fn a_stalled_or_dead_etcd_is_answered_not_waited_on() {
    let mut c = Cluster::start_with(nestor_testkit::Options {
        extra_args: vec!["--request-timeout=2s".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(c.raw("GET", "/readyz", None, "").await.unwrap().status, 200);
    let etcd = c.etcd.process.pid().unwrap();
    signal(etcd, "-STOP");
    let started = std::time::Instant::now();
    let r = c.raw("GET", "/api/v1/namespaces/default/configmaps", None, "").await.unwrap();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.json()["reason"], "Timeout");
    assert!(started.elapsed() < Duration::from_secs(30));
    let r = c.raw("GET", "/readyz", None, "").await.unwrap();
    assert_eq!(r.status, 500);
    assert!(r.text().contains("[-]etcd failed"), "{}", r.text());
    signal(etcd, "-CONT");
    nestor_testkit::eventually(Duration::from_secs(20), "ready again", || async {
        (c.raw("GET", "/readyz", None, "").await.ok()?.status == 200).then_some(())
    })
    .await
    .unwrap();
    // etcd gone: 503 with Retry-After, so clients back off and retry.
    c.etcd.process.kill();
    let r = nestor_testkit::eventually(Duration::from_secs(20), "a 503", || async {
        let r = c.raw("GET", "/api/v1/namespaces/default/configmaps", None, "").await.ok()?;
        (r.status == 503).then_some(r)
    })
    .await
    .unwrap();
    assert_eq!(r.json()["reason"], "ServiceUnavailable");
    assert_eq!(r.headers["retry-after"], "1");
}

#[tokio::test]
async fn requests_over_the_in_flight_limit_get_429() {
    let c = Cluster::start_with(nestor_testkit::Options {
        extra_args: vec!["--max-requests-inflight=1".into(), "--request-timeout=30s".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    // The one read slot is held by a request waiting on a frozen etcd. Which of two racing
    // requests gets the slot is up to the network, so the holder is restarted until a probe
    // finds the slot taken.
    let etcd = c.etcd.process.pid().unwrap();
    signal(etcd, "-STOP");
    let client = c.raw_client().await.unwrap();
    let hold = || {
        let client = client.clone();
        tokio::spawn(async move {
            nestor_testkit::raw(&client, "GET", "/api/v1/namespaces/default/configmaps", &[], Default::default()).await
        })
    };
    let mut held = hold();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let rejected = loop {
        assert!(std::time::Instant::now() < deadline, "no 429 seen");
        if held.is_finished() {
            held = hold();
        }
        // A probe that waits was let in: dropping it frees the slot again.
        match tokio::time::timeout(
            Duration::from_millis(500),
            c.raw("GET", "/api/v1/namespaces/default/secrets", None, ""),
        )
        .await
        {
            Ok(Ok(r)) if r.status == 429 => break r,
            _ => continue,
        }
    };
    assert_eq!(rejected.json()["reason"], "TooManyRequests");
    assert_eq!(rejected.json()["message"], "Too many requests, please try again later.");
    assert_eq!(rejected.headers["retry-after"], "1");
    signal(etcd, "-CONT");
    assert_eq!(held.await.unwrap().unwrap().status, 200);
}
