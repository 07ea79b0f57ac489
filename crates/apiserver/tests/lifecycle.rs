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
    let created = c.raw("POST", "/api/v1/namespaces/default/pods", None, pod.to_string()).await.unwrap().json();
    // The Binding's uid and resourceVersion are preconditions, as in kube.
    let stale = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p", "uid": "not-the-pod"}, "target": {"kind": "Node", "name": "n1"}});
    let r = c.raw("POST", "/api/v1/namespaces/default/pods/p/binding", None, stale.to_string()).await.unwrap();
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("Precondition failed: UID in precondition: not-the-pod"));
    let old_rv = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p", "resourceVersion": "1"}, "target": {"kind": "Node", "name": "n1"}});
    let r = c.raw("POST", "/api/v1/namespaces/default/pods/p/binding", None, old_rv.to_string()).await.unwrap();
    assert_eq!(r.status, 409, "{}", r.text());
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": "p", "uid": created["metadata"]["uid"], "annotations": {"scheduled-by": "test"}},
        "target": {"kind": "Node", "name": "n1"},
    });
    let r = c.raw("POST", "/api/v1/namespaces/default/pods/p/binding", None, binding.to_string()).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let p = c.raw("GET", "/api/v1/namespaces/default/pods/p", None, "").await.unwrap().json();
    assert_eq!(p["spec"]["nodeName"], "n1");
    assert_eq!(p["metadata"]["annotations"]["scheduled-by"], "test", "the Binding's annotations reach the pod");
    assert!(p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["status"] == "True"));
    let r = c.raw("POST", "/api/v1/namespaces/default/pods/p/binding", None, binding.to_string()).await.unwrap();
    assert_eq!(r.status, 409, "{}", r.text());

    // A pod with scheduling gates is not bound.
    let gated = json!({"metadata": {"name": "g"}, "spec": {"schedulingGates": [{"name": "wait"}], "containers": [{"name": "c", "image": "busybox"}]}});
    c.raw("POST", "/api/v1/namespaces/default/pods", None, gated.to_string()).await.unwrap();
    let bind_g = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "g"}, "target": {"kind": "Node", "name": "n1"}});
    let r = c.raw("POST", "/api/v1/namespaces/default/pods/g/binding", None, bind_g.to_string()).await.unwrap();
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("non-empty .spec.schedulingGates"));
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
    std::sync::Arc::get_mut(&mut c.etcd).expect("etcd of this cluster only").process.kill();
    let r = nestor_testkit::eventually(Duration::from_secs(20), "a 503", || async {
        let r = c.raw("GET", "/api/v1/namespaces/default/configmaps", None, "").await.ok()?;
        (r.status == 503).then_some(r)
    })
    .await
    .unwrap();
    assert_eq!(r.json()["reason"], "ServiceUnavailable");
    assert_eq!(r.headers["retry-after"], "1");
}

/// Opens an HTTP/1.1 request whose body never completes, so it holds a mutating slot.
async fn half_sent_post(c: &Cluster) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut roots = rustls::RootCertStore::empty();
    use rustls_pki_types::pem::PemObject;
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(c.pki.ca_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", c.port)).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.unwrap();
    let head = format!(
        "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
        nestor_testkit::ADMIN_TOKEN
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    tls
}

#[tokio::test]
async fn requests_over_the_in_flight_limit_get_429() {
    let c = Cluster::start_with(nestor_testkit::Options {
        extra_args: vec!["--max-mutating-requests-inflight=1".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let _held = half_sent_post(&c).await;
    // The held request reaches the server asynchronously: poll until its slot is taken.
    let r = nestor_testkit::eventually(Duration::from_secs(10), "a 429", || async {
        let r = c
            .raw("POST", "/api/v1/namespaces/default/configmaps", None, r#"{"metadata":{"generateName":"x-"}}"#)
            .await
            .ok()?;
        (r.status == 429).then_some(r)
    })
    .await
    .unwrap();
    assert_eq!(r.json()["reason"], "TooManyRequests");
    assert_eq!(r.json()["message"], "Too many requests, please try again later.");
    assert_eq!(r.headers["retry-after"], "1");
    // Reads have their own limit and are not affected.
    assert_eq!(c.raw("GET", "/api/v1/namespaces/default/configmaps", None, "").await.unwrap().status, 200);
}

/// etcd's history is compacted every `--etcd-compaction-interval`, to the revision one round
/// saw before: a watch from a version older than that is answered 410 Gone (clients list again),
/// while a watch from the current version goes on.
#[tokio::test]
async fn etcd_history_is_compacted_every_interval() {
    let c = Cluster::start_with(nestor_testkit::Options {
        extra_args: vec!["--etcd-compaction-interval=1s".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let path = "/api/v1/namespaces/default/configmaps";
    let created = c.raw("POST", path, None, json!({"metadata": {"name": "history"}}).to_string()).await.unwrap();
    assert_eq!(created.status, 201, "{}", created.text());
    let old = created.json()["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let patch = json!({"data": {"k": "v"}}).to_string();
    let updated =
        c.raw("PATCH", &format!("{path}/history"), Some("application/merge-patch+json"), patch).await.unwrap();
    assert_eq!(updated.status, 200, "{}", updated.text());
    let current = updated.json()["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let watch_from = |rv: String| {
        let c = &c;
        async move {
            let url = format!("{path}?watch=true&resourceVersion={rv}&timeoutSeconds=1");
            c.raw("GET", &url, None, "").await.unwrap().text()
        }
    };
    let gone = nestor_testkit::eventually(Duration::from_secs(30), "the old version compacted", || async {
        let text = watch_from(old.clone()).await;
        text.contains("\"code\":410").then_some(text)
    })
    .await
    .unwrap();
    assert!(gone.contains("\"reason\":\"Expired\"") && gone.contains("too old resource version"), "{gone}");
    // Compaction keeps the newest version of every key, and a list's version stays good for a
    // watch for a round at least: the next round compacts to what this one saw.
    let list = c.raw("GET", path, None, "").await.unwrap().json();
    let item = &list["items"][0];
    assert_eq!((&item["metadata"]["resourceVersion"], &item["data"]["k"]), (&json!(current), &json!("v")));
    let text = watch_from(list["metadata"]["resourceVersion"].as_str().unwrap().to_string()).await;
    assert!(!text.contains("\"code\":410"), "{text}");
}
