//! Every built-in kind the syncer copies down, with the renames and rewrites it needs, and the
//! status that comes back up.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{wait, Env};
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, PersistentVolumeClaim, Service};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use nestor_api::naming::{SUPER_DEFAULT_SERVICE_ACCOUNT, SUPER_ROOT_CA_CONFIGMAP};
use serde_json::{json, Value};

async fn create(client: &kube::Client, kind: &str, plural: &str, namespace: Option<&str>, body: Value) {
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", kind), plural);
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let mut body = body;
    body["apiVersion"] = json!("v1");
    body["kind"] = json!(kind);
    api.create(&PostParams::default(), &serde_json::from_value(body).unwrap()).await.unwrap();
}

#[tokio::test]
async fn every_kind_goes_down_renamed_and_rewritten_and_status_comes_up() {
    let env = Env::start(&[("blue", &[])]).await.unwrap();
    let tenant = env.tenant("blue");
    let client = tenant.cluster.client().await.unwrap();
    let super_client = env.super_cluster.client().await.unwrap();
    let ns = Some("prod");
    create(&client, "Namespace", "namespaces", None, json!({"metadata": {"name": "prod"}})).await;
    create(
        &client,
        "ConfigMap",
        "configmaps",
        ns,
        json!({"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": "TENANT CA"}}),
    )
    .await;
    create(&client, "ConfigMap", "configmaps", ns, json!({"metadata": {"name": "settings"}, "data": {"mode": "fast"}}))
        .await;
    create(
        &client,
        "Secret",
        "secrets",
        ns,
        json!({"metadata": {"name": "creds"}, "stringData": {"password": "s3cret"}}),
    )
    .await;
    create(
        &client,
        "Secret",
        "secrets",
        ns,
        json!({
            "metadata": {"name": "builder-token", "annotations": {"kubernetes.io/service-account.name": "builder"}},
            "type": "kubernetes.io/service-account-token", "data": {"token": "dG9rZW4="},
        }),
    )
    .await;
    create(&client, "ServiceAccount", "serviceaccounts", ns, json!({"metadata": {"name": "default"}})).await;
    create(
        &client,
        "ServiceAccount",
        "serviceaccounts",
        ns,
        json!({"metadata": {"name": "builder"}, "imagePullSecrets": [{"name": "creds"}]}),
    )
    .await;
    create(&client, "PersistentVolumeClaim", "persistentvolumeclaims", ns, json!({
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeName": "tenant-pv"},
    }))
    .await;
    create(
        &client,
        "Service",
        "services",
        ns,
        json!({"metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}}),
    )
    .await;
    create(&client, "Endpoints", "endpoints", ns, json!({"metadata": {"name": "external"}, "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]})).await;
    create(
        &client,
        "Service",
        "services",
        ns,
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    )
    .await;
    create(
        &client,
        "Endpoints",
        "endpoints",
        ns,
        json!({"metadata": {"name": "web"}, "subsets": [{"addresses": [{"ip": "10.9.9.9"}], "ports": [{"port": 80}]}]}),
    )
    .await;
    create(&client, "Pod", "pods", ns, json!({
        "metadata": {"name": "app"},
        "spec": {
            "serviceAccountName": "builder",
            "containers": [{"name": "app", "image": "busybox", "envFrom": [{"configMapRef": {"name": "settings"}}]}],
            "volumes": [
                {"name": "ca", "configMap": {"name": "kube-root-ca.crt"}},
                {"name": "creds", "secret": {"secretName": "creds"}},
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            ],
        },
    }))
    .await;

    let super_ns = tenant.registered.super_namespace("prod");
    let get = |plural: &'static str, kind: &'static str, name: &'static str| {
        let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", kind), plural);
        let api: Api<DynamicObject> = Api::namespaced_with(super_client.clone(), &super_ns, &resource);
        async move { wait(&format!("super {kind} {name}"), || async { api.get(name).await.ok() }).await.unwrap().data }
    };
    let root_ca = get("configmaps", "ConfigMap", SUPER_ROOT_CA_CONFIGMAP).await;
    assert_eq!(root_ca["data"]["ca.crt"], "TENANT CA", "the tenant's root CA, under its super name");
    assert_eq!(get("configmaps", "ConfigMap", "settings").await["data"]["mode"], "fast");
    assert_eq!(get("secrets", "Secret", "creds").await["data"]["password"], "czNjcmV0");
    assert_eq!(
        get("secrets", "Secret", "builder-token").await["type"],
        "Opaque",
        "the super token controller must not touch it"
    );
    let sa = get("serviceaccounts", "ServiceAccount", "builder").await;
    assert_eq!(sa["automountServiceAccountToken"], false);
    assert_eq!(sa["imagePullSecrets"][0]["name"], "creds");
    assert_eq!(
        get("serviceaccounts", "ServiceAccount", SUPER_DEFAULT_SERVICE_ACCOUNT).await["automountServiceAccountToken"],
        false
    );
    assert!(get("persistentvolumeclaims", "PersistentVolumeClaim", "data").await["spec"].get("volumeName").is_none());
    assert_eq!(get("endpoints", "Endpoints", "external").await["subsets"][0]["addresses"][0]["ip"], "192.0.2.10");
    let pod = get("pods", "Pod", "app").await;
    assert_eq!(pod["spec"]["serviceAccountName"], "builder");
    let volumes = pod["spec"]["volumes"].as_array().unwrap();
    assert!(volumes.iter().any(|v| v["configMap"]["name"] == SUPER_ROOT_CA_CONFIGMAP), "{volumes:?}");
    assert_eq!(pod["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"], "settings");

    // Endpoints of a Service with a selector belong to the super cluster's endpoints controller.
    let super_endpoints: Api<Endpoints> = Api::namespaced(super_client.clone(), &super_ns);
    assert!(super_endpoints.get_opt("web").await.unwrap().is_none());
    let services: Api<Service> = Api::namespaced(super_client.clone(), &super_ns);
    assert!(services.get_opt("web").await.unwrap().is_some());

    // Status comes up: a PVC bound and a load balancer assigned in the super cluster.
    let super_pvcs: Api<PersistentVolumeClaim> = Api::namespaced(super_client.clone(), &super_ns);
    super_pvcs
        .patch_status(
            "data",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}})),
        )
        .await
        .unwrap();
    services
        .patch_status(
            "external",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}})),
        )
        .await
        .unwrap();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "prod");
    wait("the PVC Bound in the tenant", || async {
        (pvcs.get("data").await.ok()?.status?.phase.as_deref() == Some("Bound")).then_some(())
    })
    .await
    .unwrap();
    let tenant_services: Api<Service> = Api::namespaced(client.clone(), "prod");
    wait("the load balancer in the tenant", || async {
        let ingress = tenant_services.get("external").await.ok()?.status?.load_balancer?.ingress?;
        (ingress[0].ip.as_deref() == Some("203.0.113.7")).then_some(())
    })
    .await
    .unwrap();

    // An edit in the tenant flows down.
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "prod");
    configmaps
        .patch("settings", &PatchParams::default(), &Patch::Merge(json!({"data": {"mode": "safe"}})))
        .await
        .unwrap();
    let super_cms: Api<ConfigMap> = Api::namespaced(super_client.clone(), &super_ns);
    wait("the edit in the super cluster", || async {
        (super_cms.get("settings").await.ok()?.data?.get("mode")? == "safe").then_some(())
    })
    .await
    .unwrap();
}
