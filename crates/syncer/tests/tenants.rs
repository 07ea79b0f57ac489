//! Two tenants with the same namespace and object names, synced into one super cluster.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{wait, Env};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::ResourceExt;
use nestor_api::{keys, Marks};
use nestor_testkit::kubectl::Kubectl;
use serde_json::json;

async fn create_web(client: &kube::Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "prod"}})).unwrap())
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "prod");
    let pod = json!({
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
    });
    pods.create(&PostParams::default(), &serde_json::from_value(pod).unwrap()).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "prod");
    let service = json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    services.create(&PostParams::default(), &serde_json::from_value(service).unwrap()).await.unwrap();
}

#[tokio::test]
async fn two_tenants_with_the_same_names_run_side_by_side() {
    let env = Env::start(&[("blue", &[]), ("green", &[])]).await.unwrap();
    let super_client = env.super_cluster.client().await.unwrap();
    for tenant in &env.tenants {
        create_web(&tenant.cluster.client().await.unwrap()).await;
    }
    let mut pod_ips = vec![];
    for tenant in &env.tenants {
        let client = tenant.cluster.client().await.unwrap();
        let pods: Api<Pod> = Api::namespaced(client.clone(), "prod");
        let pod = wait("the tenant's pod to run with an IP", || async {
            let pod = pods.get("web").await.ok()?;
            let status = pod.status.clone()?;
            (status.phase.as_deref() == Some("Running") && status.pod_ip.is_some()).then_some(pod)
        })
        .await
        .unwrap();
        let node = pod.spec.as_ref().and_then(|s| s.node_name.clone()).expect("the binding flows up");
        // Every watch and write of the syncer to this tenant shares one HTTP/2 connection
        // (over HTTP/1.1 it held one per watch, about fifteen).
        let syncer = env.syncer.as_ref().unwrap();
        assert_eq!(syncer.connections_to(tenant.cluster.port).unwrap(), 1, "connections to the tenant");
        pod_ips.push(pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap());

        // The super copy: in the tenant's own super namespace, marked, pointed at the tenant.
        let super_ns = tenant.registered.super_namespace("prod");
        let copy = Api::<Pod>::namespaced(super_client.clone(), &super_ns).get("web").await.unwrap();
        let marks = Marks::read(&copy.metadata).expect("marks");
        assert_eq!(marks.cluster_key, tenant.registered.key);
        assert_eq!((marks.namespace.as_str(), marks.name.as_str()), ("prod", "web"));
        assert_eq!(marks.uid, pod.uid().unwrap());
        assert_eq!(marks.vc_uid, tenant.registered.uid);
        assert_eq!(copy.spec.as_ref().unwrap().node_name.as_deref(), Some(node.as_str()));
        let env_vars = copy.spec.as_ref().unwrap().containers[0].env.clone().unwrap_or_default();
        let host = env_vars.iter().find(|e| e.name == "KUBERNETES_SERVICE_PORT").and_then(|e| e.value.clone());
        assert_eq!(host, Some(tenant.cluster.port.to_string()), "the pod talks to its tenant's API server");
        assert_eq!(copy.spec.as_ref().unwrap().automount_service_account_token, Some(false));
        let service = Api::<Service>::namespaced(super_client.clone(), &super_ns).get("web").await.unwrap();
        assert_eq!(Marks::read(&service.metadata).unwrap().cluster_key, tenant.registered.key);

        // The tenant sees its virtual node, with a Lease the syncer renews.
        let nodes: Api<Node> = Api::all(client.clone());
        let virtual_node = wait("the virtual node", || async { nodes.get(&node).await.ok() }).await.unwrap();
        let ready = virtual_node.status.unwrap().conditions.unwrap().into_iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "True");
        let leases: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(client.clone(), "kube-node-lease");
        let first = wait("the node lease", || async { leases.get(&node).await.ok()?.spec?.renew_time }).await.unwrap();
        wait("the node lease to be renewed", || async {
            let renewed = leases.get(&node).await.ok()?.spec?.renew_time?;
            (renewed != first).then_some(())
        })
        .await
        .unwrap();
        let listed: Vec<String> =
            nodes.list(&ListParams::default()).await.unwrap().items.iter().map(|n| n.name_any()).collect();
        assert_eq!(listed, vec![node.clone()], "only the nodes running the tenant's pods");

        // Events about the pod come up, about the tenant's pod only.
        let events: Api<Event> = Api::namespaced(client.clone(), "prod");
        let scheduled = wait("the Scheduled event", || async {
            events
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("Scheduled"))
        })
        .await
        .unwrap();
        assert_eq!(scheduled.involved_object.uid, pod.uid());
        assert_eq!(scheduled.involved_object.namespace.as_deref(), Some("prod"));
        for event in events.list(&ListParams::default()).await.unwrap().items {
            assert_eq!(event.involved_object.uid, pod.uid(), "no other tenant's events");
        }

        // The real kubectl reads it all as on any cluster.
        let kubectl = Kubectl::new(&tenant.cluster.kubeconfig());
        let wide = kubectl.ok(&["get", "pods", "-n", "prod", "-o", "wide"]);
        assert!(wide.contains("Running") && wide.contains(&node), "{wide}");
        let nodes_table = kubectl.ok(&["get", "nodes"]);
        assert!(nodes_table.contains(&node) && nodes_table.contains("Ready"), "{nodes_table}");
    }
    assert_ne!(env.tenants[0].registered.super_namespace("prod"), env.tenants[1].registered.super_namespace("prod"));
    assert_ne!(pod_ips[0], pod_ips[1], "two pods of the super cluster");
}

#[tokio::test]
async fn deleting_objects_and_the_virtual_cluster_removes_their_super_copies() {
    let env = Env::start(&[("blue", &[])]).await.unwrap();
    let tenant = &env.tenants[0];
    let client = tenant.cluster.client().await.unwrap();
    let super_client = env.super_cluster.client().await.unwrap();
    create_web(&client).await;
    let super_ns = tenant.registered.super_namespace("prod");
    let super_pods: Api<Pod> = Api::namespaced(super_client.clone(), &super_ns);
    wait("the super pod", || async { super_pods.get("web").await.ok() }).await.unwrap();

    // A tenant pod deleted gracefully: the super copy goes, then the tenant pod itself.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "prod");
    wait("the pod to be bound", || async { pods.get("web").await.ok()?.spec?.node_name }).await.unwrap();
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    wait("the super pod to go", || async { super_pods.get_opt("web").await.ok()?.is_none().then_some(()) })
        .await
        .unwrap();
    wait("the tenant pod to go", || async { pods.get_opt("web").await.ok()?.is_none().then_some(()) }).await.unwrap();

    // The virtual node leaves with the tenant's last pod on it.
    let nodes: Api<Node> = Api::all(client.clone());
    wait("the virtual node to leave", || async {
        nodes.list(&ListParams::default()).await.ok()?.items.is_empty().then_some(())
    })
    .await
    .unwrap();

    // Deleting the VirtualCluster removes its super namespaces.
    let vcs: Api<nestor_api::VirtualCluster> = Api::namespaced(super_client.clone(), "tenants");
    vcs.delete("blue", &DeleteParams::default()).await.unwrap();
    let namespaces: Api<Namespace> = Api::all(super_client.clone());
    let selector = format!("{}={}", keys::CLUSTER, tenant.registered.key);
    wait("the super namespaces to go", || async {
        let left = namespaces.list(&ListParams::default().labels(&selector)).await.ok()?;
        left.items.is_empty().then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn forged_marks_change_nothing_of_another_tenant() {
    let env = Env::start(&[("blue", &[]), ("green", &[])]).await.unwrap();
    let (blue, green) = (&env.tenants[0], &env.tenants[1]);
    let super_client = env.super_cluster.client().await.unwrap();
    let blue_client = blue.cluster.client().await.unwrap();
    let green_client = green.cluster.client().await.unwrap();
    for client in [&blue_client, &green_client] {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        namespaces
            .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "prod"}})).unwrap())
            .await
            .unwrap();
    }
    let green_cm = json!({"metadata": {"name": "settings"}, "data": {"owner": "green"}});
    Api::<ConfigMap>::namespaced(green_client.clone(), "prod")
        .create(&PostParams::default(), &serde_json::from_value(green_cm).unwrap())
        .await
        .unwrap();
    let green_super: Api<ConfigMap> = Api::namespaced(super_client.clone(), &green.registered.super_namespace("prod"));
    let original = wait("green's super configmap", || async { green_super.get("settings").await.ok() }).await.unwrap();

    // 1. Blue labels and annotates its own object with green's marks: they are stripped, and
    //    the copy lands in blue's namespace with blue's marks.
    let forged = json!({
        "metadata": {
            "name": "settings",
            "labels": {keys::CLUSTER: green.registered.key, "team": "blue"},
            "annotations": {keys::TENANT_UID: original.annotations()[keys::TENANT_UID], keys::VC_UID: green.registered.uid, keys::TENANT_NAMESPACE: "prod"},
        },
        "data": {"owner": "blue"},
    });
    Api::<ConfigMap>::namespaced(blue_client.clone(), "prod")
        .create(&PostParams::default(), &serde_json::from_value(forged).unwrap())
        .await
        .unwrap();
    let blue_super: Api<ConfigMap> = Api::namespaced(super_client.clone(), &blue.registered.super_namespace("prod"));
    let copy = wait("blue's super configmap", || async { blue_super.get("settings").await.ok() }).await.unwrap();
    let marks = Marks::read(&copy.metadata).unwrap();
    assert_eq!(marks.cluster_key, blue.registered.key);
    assert_eq!(marks.vc_uid, blue.registered.uid);
    assert_eq!(copy.labels().get("team").map(String::as_str), Some("blue"));

    // 2. An object planted in blue's super namespace with forged marks (green's VirtualCluster
    //    UID) is neither overwritten nor deleted when blue creates an object of that name.
    let planted = json!({
        "metadata": {
            "name": "planted",
            "labels": {keys::CLUSTER: blue.registered.key},
            "annotations": {keys::TENANT_NAMESPACE: "prod", keys::TENANT_NAME: "planted", keys::TENANT_UID: "forged", keys::VC_NAMESPACE: "tenants", keys::VC_NAME: "blue", keys::VC_UID: green.registered.uid},
        },
        "data": {"owner": "platform"},
    });
    blue_super.create(&PostParams::default(), &serde_json::from_value(planted).unwrap()).await.unwrap();
    let mine = json!({"metadata": {"name": "planted"}, "data": {"owner": "blue"}});
    Api::<ConfigMap>::namespaced(blue_client.clone(), "prod")
        .create(&PostParams::default(), &serde_json::from_value(mine).unwrap())
        .await
        .unwrap();
    let metrics = wait("the ownership conflict to be counted", || async {
        let text = env.metrics().await.ok()?;
        (common::metric_sum(&text, "nestor_syncer_ownership_conflicts_total", &[&blue.registered.key]) >= 1.0)
            .then_some(text)
    })
    .await
    .unwrap();
    assert!(!metrics.is_empty());
    let planted = blue_super.get("planted").await.unwrap();
    assert_eq!(planted.data.unwrap()["owner"], "platform", "a foreign object is never overwritten");

    // 2b. The same with a pod: the planted pod in the way of blue's new pod is left as it is.
    let conflicts = common::metric_sum(&metrics, "nestor_syncer_ownership_conflicts_total", &[&blue.registered.key]);
    let planted_pod = json!({
        "metadata": {
            "name": "planted-pod",
            "labels": {keys::CLUSTER: blue.registered.key},
            "annotations": {keys::TENANT_NAMESPACE: "prod", keys::TENANT_NAME: "planted-pod", keys::TENANT_UID: "forged", keys::VC_NAMESPACE: "tenants", keys::VC_NAME: "blue", keys::VC_UID: green.registered.uid},
        },
        "spec": {"containers": [{"name": "app", "image": "platform:1"}]},
    });
    let blue_super_pods: Api<Pod> = Api::namespaced(super_client.clone(), &blue.registered.super_namespace("prod"));
    blue_super_pods.create(&PostParams::default(), &serde_json::from_value(planted_pod).unwrap()).await.unwrap();
    let mine =
        json!({"metadata": {"name": "planted-pod"}, "spec": {"containers": [{"name": "app", "image": "blue:1"}]}});
    Api::<Pod>::namespaced(blue_client.clone(), "prod")
        .create(&PostParams::default(), &serde_json::from_value(mine).unwrap())
        .await
        .unwrap();
    wait("the pod's ownership conflict to be counted", || async {
        let text = env.metrics().await.ok()?;
        let now = common::metric_sum(&text, "nestor_syncer_ownership_conflicts_total", &[&blue.registered.key]);
        (now > conflicts).then_some(())
    })
    .await
    .unwrap();
    let planted_pod = blue_super_pods.get("planted-pod").await.unwrap();
    assert_eq!(planted_pod.annotations()[keys::TENANT_UID], "forged", "a foreign pod is never overwritten");
    assert_eq!(planted_pod.spec.unwrap().containers[0].image.as_deref(), Some("platform:1"));

    // 3. Green's object is untouched by all of it.
    let after = green_super.get("settings").await.unwrap();
    assert_eq!(after.resource_version(), original.resource_version());
    assert_eq!(after.data.unwrap()["owner"], "green");

    // 4. Deleting blue's own object of that name leaves the planted one alone.
    Api::<ConfigMap>::namespaced(blue_client.clone(), "prod")
        .delete("planted", &DeleteParams::default())
        .await
        .unwrap();
    Api::<ConfigMap>::namespaced(blue_client.clone(), "prod")
        .delete("settings", &DeleteParams::default())
        .await
        .unwrap();
    wait("blue's own copy to go", || async { blue_super.get_opt("settings").await.ok()?.is_none().then_some(()) })
        .await
        .unwrap();
    assert!(blue_super.get_opt("planted").await.unwrap().is_some());
}
