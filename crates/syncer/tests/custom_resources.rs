//! Custom resources: each tenant has its own CRDs at any version; listed kinds are synced down.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{wait, Env};
use k8s_openapi::api::core::v1::{Event, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams};
use nestor_api::types::CONDITION_CRD_SYNCED;
use nestor_api::{Marks, VirtualCluster};
use serde_json::{json, Value};

fn widget_crd(version: &str, properties: Value) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": version, "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": properties},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                }}},
            }],
        },
    }))
    .unwrap()
}

fn widgets(client: &kube::Client, version: &str, namespace: &str) -> Api<DynamicObject> {
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("example.com", version, "Widget"), "widgets");
    Api::namespaced_with(client.clone(), namespace, &resource)
}

async fn condition(super_client: &kube::Client, name: &str) -> Option<(String, String)> {
    let vc = Api::<VirtualCluster>::namespaced(super_client.clone(), "tenants").get(name).await.ok()?;
    let c = vc.status?.conditions.into_iter().find(|c| c.type_ == CONDITION_CRD_SYNCED)?;
    Some((c.status, c.message))
}

#[tokio::test]
async fn each_tenant_has_its_own_widget_and_a_listed_kind_reaches_the_super_cluster() {
    let list: &[&str] = &["widgets.example.com"];
    let env = Env::start(&[("blue", list), ("green", list)]).await.unwrap();
    let super_client = env.super_cluster.client().await.unwrap();
    let blue = env.tenant("blue").cluster.client().await.unwrap();
    let green = env.tenant("green").cluster.client().await.unwrap();

    // Blue's Widget is v1 with a size; once it is in the super cluster, green's v2 with a
    // colour conflicts there, though it works in green's own control plane.
    let crds = |c: &kube::Client| Api::<CustomResourceDefinition>::all(c.clone());
    crds(&blue).create(&PostParams::default(), &widget_crd("v1", json!({"size": {"type": "integer"}}))).await.unwrap();
    wait("blue's CRD synced", || async {
        condition(&super_client, "blue").await.filter(|(status, _)| status == "True")
    })
    .await
    .unwrap();
    crds(&green).create(&PostParams::default(), &widget_crd("v2", json!({"color": {"type": "string"}}))).await.unwrap();
    let (_, message) = wait("green's conflict reported", || async {
        condition(&super_client, "green").await.filter(|(status, _)| status == "False")
    })
    .await
    .unwrap();
    assert!(message.contains("widgets.example.com"), "{message}");
    let events: Api<Event> = Api::namespaced(super_client.clone(), "tenants");
    wait("a Warning event on green's VirtualCluster", || async {
        events
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| e.involved_object.name.as_deref() == Some("green") && e.type_.as_deref() == Some("Warning"))
    })
    .await
    .unwrap();
    let super_crd = crds(&super_client).get("widgets.example.com").await.unwrap();
    assert_eq!(super_crd.spec.versions[0].name, "v1", "the super CRD is never overwritten");

    for (client, version, spec) in [(&blue, "v1", json!({"size": 3})), (&green, "v2", json!({"color": "red"}))] {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        namespaces
            .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "prod"}})).unwrap())
            .await
            .unwrap();
        let widget = json!({"apiVersion": format!("example.com/{version}"), "kind": "Widget", "metadata": {"name": "w"}, "spec": spec});
        widgets(client, version, "prod")
            .create(&PostParams::default(), &serde_json::from_value(widget).unwrap())
            .await
            .unwrap();
        let stored = widgets(client, version, "prod").get("w").await.unwrap();
        assert_eq!(stored.data["spec"], spec, "each tenant's own version and schema");
    }

    // Blue's widget reaches the super cluster; its status flows back up.
    let super_widgets = widgets(&super_client, "v1", &env.tenant("blue").registered.super_namespace("prod"));
    let copy =
        wait("blue's widget in the super cluster", || async { super_widgets.get("w").await.ok() }).await.unwrap();
    assert_eq!(copy.data["spec"]["size"], 3);
    assert_eq!(Marks::read(&copy.metadata).unwrap().cluster_key, env.tenant("blue").registered.key);
    super_widgets
        .patch_status("w", &PatchParams::default(), &Patch::Merge(json!({"status": {"ready": true}})))
        .await
        .unwrap();
    wait("the widget's status in blue", || async {
        (widgets(&blue, "v1", "prod").get("w").await.ok()?.data["status"]["ready"] == true).then_some(())
    })
    .await
    .unwrap();
    let green_ns = env.tenant("green").registered.super_namespace("prod");
    let green_copies = widgets(&super_client, "v1", &green_ns).list(&ListParams::default()).await.unwrap();
    assert!(green_copies.items.is_empty(), "green's conflicting kind is not synced");
}
