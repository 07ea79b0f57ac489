//! Authentication, authorization and every error answer, each a Status like kube-apiserver's.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use bytes::Bytes;
use nestor_testkit::{eventually, raw, Cluster, ADMIN_TOKEN, USER_TOKEN};
use serde_json::json;

/// A client with no credentials or with a bearer token, through the same TLS roots.
async fn token_client(c: &Cluster, token: Option<&str>) -> kube::Client {
    let mut config = kube::Config::new(c.url().parse().unwrap());
    config.root_cert = Some(vec![rustls_pemfile_der(c.pki.ca_pem())]);
    config.default_retry = false;
    if let Some(t) = token {
        config.auth_info.token = Some(t.to_string().into());
    }
    kube::Client::try_from(config).unwrap()
}

fn rustls_pemfile_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[tokio::test]
async fn authentication_and_authorization_answers() {
    let c = Cluster::start().await.unwrap();
    // Anonymous (kube-apiserver's default --anonymous-auth=true): public paths work, others 403.
    let anon = token_client(&c, None).await;
    let r = raw(&anon, "GET", "/version", &[], Bytes::new()).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["gitVersion"], "v1.32.0");
    let r = raw(&anon, "GET", "/api/v1/namespaces/y/pods", &[], Bytes::new()).await.unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        r#"pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "y""#
    );
    // A bad token is 401.
    let bad = token_client(&c, Some("wrong")).await;
    let r = raw(&bad, "GET", "/api/v1/namespaces", &[], Bytes::new()).await.unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
    // A token user outside system:masters is denied with kube's sentence; an admin token works.
    let user = token_client(&c, Some(USER_TOKEN)).await;
    let r = raw(&user, "DELETE", "/apis/apps/v1/namespaces/default/deployments/x", &[], Bytes::new()).await.unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        r#"deployments.apps "x" is forbidden: User "tokenuser" cannot delete resource "deployments" in API group "apps" in the namespace "default""#
    );
    let r = raw(&user, "GET", "/apis", &[], Bytes::new()).await.unwrap();
    assert_eq!(r.status, 200, "discovery is open to authenticated users");
    let admin = token_client(&c, Some(ADMIN_TOKEN)).await;
    assert_eq!(raw(&admin, "GET", "/api/v1/namespaces", &[], Bytes::new()).await.unwrap().status, 200);
    // A client certificate names the user (CN) and groups (O).
    let cert_user = c.client_as("alice", &["dev"]).await.unwrap();
    let r = raw(&cert_user, "GET", "/api/v1/nodes", &[], Bytes::new()).await.unwrap();
    assert_eq!(r.status, 403);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains(r#"User "alice" cannot list resource "nodes" in API group "" at the cluster scope"#));
    // The bootstrap policy's system:basic-user lets every authenticated user ask who they are.
    let review = eventually(Duration::from_secs(10), "system:basic-user to apply", || async {
        let r = raw(
            &cert_user,
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            &[("Content-Type", "application/json")],
            Bytes::from(r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#),
        )
        .await
        .ok()?;
        (r.status == 201).then_some(r)
    })
    .await
    .unwrap();
    assert_eq!(review.json()["status"]["userInfo"]["username"], "alice");
    assert_eq!(review.json()["status"]["userInfo"]["groups"], json!(["dev", "system:authenticated"]));
}

#[tokio::test]
async fn anonymous_auth_false_turns_missing_credentials_into_401() {
    let c = Cluster::start_with(nestor_testkit::Options {
        extra_args: vec!["--anonymous-auth=false".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let anon = token_client(&c, None).await;
    assert_eq!(raw(&anon, "GET", "/api/v1/namespaces", &[], Bytes::new()).await.unwrap().status, 401);
}

#[tokio::test]
async fn bad_requests_get_the_right_status() {
    let c = Cluster::start().await.unwrap();
    // 400 malformed body.
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, "{not json").await.unwrap();
    assert_eq!((r.status, r.json()["reason"].as_str()), (400, Some("BadRequest")));
    // 404 unknown resource path and unknown object.
    let r = c.raw("GET", "/api/v1/namespaces/default/widgets", None, "").await.unwrap();
    assert_eq!(
        (r.status, r.json()["message"].as_str()),
        (404, Some("the server could not find the requested resource"))
    );
    // 405 verb the resource does not serve.
    let r = c.raw("POST", "/api/v1/componentstatuses", None, "{}").await.unwrap();
    assert_eq!(r.status, 405, "{}", r.text());
    assert_eq!(r.json()["reason"], "MethodNotAllowed");
    // 406 for an Accept we cannot produce.
    let client = c.raw_client().await.unwrap();
    let r =
        raw(&client, "GET", "/api/v1/namespaces", &[("Accept", "application/vnd.kubernetes.protobuf")], Bytes::new())
            .await
            .unwrap();
    assert_eq!(r.status, 406);
    // 413 above 3 MiB.
    let big = json!({"metadata": {"name": "big"}, "data": {"x": "a".repeat(3 * 1024 * 1024)}}).to_string();
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, big).await.unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["message"], "Request entity too large: limit is 3145728");
    // 415 for an unknown body type and for strategic merge patch on a custom resource type.
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", Some("text/plain"), "x").await.unwrap();
    assert_eq!((r.status, r.json()["reason"].as_str()), (415, Some("UnsupportedMediaType")));
    let r = c.raw("PATCH", "/api/v1/namespaces/default/configmaps/x", Some("application/foo"), "{}").await.unwrap();
    assert_eq!(r.status, 415);
    // 422 with field causes.
    let pod = json!({"metadata": {"name": "Bad_Name"}, "spec": {"containers": []}});
    let r = c.raw("POST", "/api/v1/namespaces/default/pods", None, pod.to_string()).await.unwrap();
    assert_eq!(r.status, 422, "{}", r.text());
    let s = r.json();
    assert_eq!(s["reason"], "Invalid");
    assert_eq!(s["details"]["kind"], "Pod");
    let fields: Vec<&str> =
        s["details"]["causes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"metadata.name"), "{fields:?}");
    assert!(fields.contains(&"spec.containers"), "{fields:?}");
    // Labels and annotations are validated as kube validates them.
    let bad_label = json!({"metadata": {"name": "l", "labels": {"bad key!": "v"}}});
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, bad_label.to_string()).await.unwrap();
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["details"]["causes"][0]["field"], "metadata.labels");
    let huge = json!({"metadata": {"name": "a", "annotations": {"big": "x".repeat(256 * 1024)}}});
    let r = c.raw("POST", "/api/v1/namespaces/default/configmaps", None, huge.to_string()).await.unwrap();
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("metadata.annotations: Too long: may not be more than 262144 bytes"),
        "{}",
        r.text()
    );
    // YAML bodies are accepted.
    let r = c
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/yaml"),
            "metadata:\n  name: from-yaml\ndata:\n  k: v\n",
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    // Nothing was half-written by the failures above.
    let list = c.raw("GET", "/api/v1/namespaces/default/configmaps", None, "").await.unwrap().json();
    let names: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["from-yaml"]);
}

/// Service account tokens that must not authenticate: another key's, an expired one, one for
/// another audience or issuer, a tampered one; and the TokenRequest and TokenReview answers to
/// bad input. Each is a Status (or a review saying no), and a good token still works.
#[tokio::test]
async fn service_account_tokens_are_checked() {
    use nestor_apiserver::serviceaccount::jwt::SigningKey;
    let c = Cluster::start().await.unwrap();
    let ns = "default";
    c.raw("POST", &format!("/api/v1/namespaces/{ns}/serviceaccounts"), None, r#"{"metadata":{"name":"robot"}}"#)
        .await
        .unwrap();
    let request =
        |body: &'static str| c.raw("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", None, body);
    let issued = request(r#"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}"#).await.unwrap();
    assert_eq!(issued.status, 201, "{}", issued.text());
    assert_eq!(issued.json()["spec"]["expirationSeconds"], 3600);
    let good = issued.json()["status"]["token"].as_str().unwrap().to_string();
    let cluster = &c;
    let whoami = |token: String| async move {
        let client = token_client(cluster, Some(&token)).await;
        let body = r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#;
        let headers = [("Content-Type", "application/json")];
        raw(&client, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &headers, Bytes::from(body))
            .await
            .unwrap()
    };
    let me = whoami(good.clone()).await;
    assert_eq!(me.status, 201, "{}", me.text());
    assert_eq!(me.json()["status"]["userInfo"]["username"], "system:serviceaccount:default:robot");

    // Tokens signed here by hand with the server's own key (kept in --cert-dir), and with another.
    let key = SigningKey::load_or_create(&c.dir().join("certs/sa.key")).unwrap();
    let other = SigningKey::load_or_create(&c.dir().join("other.key")).unwrap();
    let account = c.raw("GET", "/api/v1/namespaces/default/serviceaccounts/robot", None, "").await.unwrap().json();
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, iss: &str, exp: i64| {
        json!({"aud": [aud], "exp": exp, "iat": now - 7200, "nbf": now - 7200, "iss": iss,
            "kubernetes.io": {"namespace": "default", "serviceaccount": {"name": "robot", "uid": account["metadata"]["uid"]}},
            "sub": "system:serviceaccount:default:robot"})
    };
    let issuer = "https://kubernetes.default.svc.cluster.local";
    assert_eq!(whoami(key.sign(&claims(issuer, issuer, now + 600)).unwrap()).await.status, 201, "hand-signed, valid");
    for (why, token) in [
        ("expired", key.sign(&claims(issuer, issuer, now - 60)).unwrap()),
        ("another audience", key.sign(&claims("vault", issuer, now + 600)).unwrap()),
        ("another issuer", key.sign(&claims(issuer, "https://evil.example", now + 600)).unwrap()),
        ("another key", other.sign(&claims(issuer, issuer, now + 600)).unwrap()),
        ("tampered", format!("{}x", &good[..good.len() - 1])),
    ] {
        let r = whoami(token).await;
        assert_eq!(r.status, 401, "{why}: {}", r.text());
        assert_eq!(r.json()["reason"], "Unauthorized", "{why}");
    }

    // TokenReview: the good token for the default audience, the same for an audience it lacks.
    let review = |token: &str, audiences: &str| {
        format!(
            r#"{{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{{"token":"{token}","audiences":{audiences}}}}}"#
        )
    };
    let path = "/apis/authentication.k8s.io/v1/tokenreviews";
    let ok = c.raw("POST", path, None, review(&good, "[]")).await.unwrap().json();
    assert_eq!(ok["status"]["authenticated"], true, "{ok}");
    assert_eq!(
        ok["status"]["user"]["groups"],
        json!(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"])
    );
    let wrong = c.raw("POST", path, None, review(&good, r#"["vault"]"#)).await.unwrap().json();
    assert!(wrong["status"].get("authenticated").is_none(), "{wrong}");
    assert!(wrong["status"]["error"].as_str().unwrap().contains("token audiences"), "{wrong}");
    let empty = c.raw("POST", path, None, review("", "[]")).await.unwrap();
    assert_eq!(empty.status, 400, "{}", empty.text());

    // TokenRequest bad input.
    let short = request(r#"{"spec":{"expirationSeconds":60}}"#).await.unwrap();
    assert_eq!(short.status, 422, "{}", short.text());
    assert!(short.json()["message"].as_str().unwrap().contains("may not specify a duration less than 10 minutes"));
    let bound =
        request(r#"{"spec":{"boundObjectRef":{"kind":"ConfigMap","apiVersion":"v1","name":"x"}}}"#).await.unwrap();
    assert_eq!(bound.status, 400, "{}", bound.text());
    let missing =
        c.raw("POST", "/api/v1/namespaces/default/serviceaccounts/nobody/token", None, r#"{"spec":{}}"#).await.unwrap();
    assert_eq!(missing.status, 404, "{}", missing.text());

    // A deleted ServiceAccount takes its tokens with it (after the 10 s the server trusts a
    // token it checked).
    c.raw("DELETE", "/api/v1/namespaces/default/serviceaccounts/robot", None, "").await.unwrap();
    eventually(Duration::from_secs(20), "the deleted account's token to stop working", || async {
        (whoami(good.clone()).await.status == 401).then_some(())
    })
    .await
    .unwrap();
}
