//! The syncer under failure: restarts in a flood, drift repaired by the patrol, a tenant that
//! is down, and a second syncer standing by.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::{metric_sum, wait, wait_long, Env};
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use nestor_api::Marks;
use serde_json::json;

async fn namespace(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap())
        .await
        .unwrap();
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox", "resources": {"requests": {"cpu": "1m"}}}]},
    }))
    .unwrap()
}

async fn running(pods: &Api<Pod>, name: &str) {
    wait(&format!("pod {name} to run"), || async {
        (pods.get(name).await.ok()?.status?.phase.as_deref() == Some("Running")).then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_syncer_restarted_in_a_flood_syncs_every_pod_once() {
    let mut env = Env::start(&[("blue", &[]), ("green", &[])]).await.unwrap();
    let blue = env.tenant("blue").cluster.client().await.unwrap();
    let green = env.tenant("green").cluster.client().await.unwrap();
    let super_client = env.super_cluster.client().await.unwrap();
    namespace(&blue, "flood").await;
    namespace(&green, "quiet").await;
    let flood: Api<Pod> = Api::namespaced(blue.clone(), "flood");
    let creating = {
        let flood = flood.clone();
        tokio::spawn(async move {
            futures::stream::iter(0..1000)
                .map(|i| {
                    let flood = flood.clone();
                    async move { flood.create(&PostParams::default(), &pod(&format!("p{i}"))).await.map(|_| ()) }
                })
                .buffer_unordered(16)
                .collect::<Vec<_>>()
                .await
        })
    };
    let super_flood: Api<Pod> =
        Api::namespaced(super_client.clone(), &env.tenant("blue").registered.super_namespace("flood"));
    wait("a part of the flood to reach the super cluster", || async {
        (super_flood.list(&ListParams::default()).await.ok()?.items.len() >= 150).then_some(())
    })
    .await
    .unwrap();
    env.syncer.as_mut().unwrap().kill();
    env.start_syncer().unwrap();
    assert!(creating.await.unwrap().iter().all(Result::is_ok));

    // A quiet tenant is served while the flood is still being synced.
    let quiet: Api<Pod> = Api::namespaced(green.clone(), "quiet");
    quiet.create(&PostParams::default(), &pod("alone")).await.unwrap();
    running(&quiet, "alone").await;

    let tenant_uids: HashSet<String> =
        flood.list(&ListParams::default()).await.unwrap().items.iter().filter_map(|p| p.uid()).collect();
    assert_eq!(tenant_uids.len(), 1000);
    let copies = wait_long("every pod of the flood in the super cluster", || async {
        let items = super_flood.list(&ListParams::default()).await.ok()?.items;
        (items.len() >= 1000).then_some(items)
    })
    .await
    .unwrap();
    let copied: Vec<String> = copies.iter().map(|p| Marks::read(&p.metadata).unwrap().uid).collect();
    assert_eq!(copied.len(), 1000, "nothing duplicated");
    assert_eq!(copied.into_iter().collect::<HashSet<_>>(), tenant_uids, "nothing lost, nothing foreign");
    let bound =
        |items: Vec<Pod>| items.iter().filter(|p| p.spec.as_ref().is_some_and(|s| s.node_name.is_some())).count();
    let result = wait_long("every tenant pod bound to a node", || async {
        (bound(flood.list(&ListParams::default()).await.ok()?.items) == 1000).then_some(())
    })
    .await;
    if let Err(e) = result {
        let tenant_bound = bound(flood.list(&ListParams::default()).await.unwrap().items);
        let super_bound = bound(super_flood.list(&ListParams::default()).await.unwrap().items);
        let log = std::fs::read_to_string(env.syncer_log(2)).unwrap_or_default();
        let metrics = env.metrics().await.unwrap_or_default();
        let depth: Vec<&str> = metrics.lines().filter(|l| l.starts_with("nestor_syncer_queue_depth")).collect();
        let mut tail: Vec<&str> = log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).take(20).collect();
        tail.extend(depth);
        panic!(
            "{e}: {tenant_bound} tenant pods bound, {super_bound} super pods bound; syncer log tail:\n{}",
            tail.join("\n")
        );
    }
}

#[tokio::test]
async fn virtual_nodes_are_compared_in_one_list_at_a_restart_and_by_the_patrol() {
    let mut env = Env::start(&[("blue", &[])]).await.unwrap();
    let client = env.tenant("blue").cluster.client().await.unwrap();
    namespace(&client, "prod").await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "prod");
    pods.create(&PostParams::default(), &pod("web")).await.unwrap();
    running(&pods, "web").await;
    let node = pods.get("web").await.unwrap().spec.unwrap().node_name.unwrap();
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let renewed = || async {
        let lease = serde_json::to_value(leases.get(&node).await.ok()?).ok()?;
        lease["spec"]["renewTime"].as_str().map(str::to_string)
    };
    wait("the virtual node's Lease", renewed).await.unwrap();

    env.syncer.as_mut().unwrap().kill();
    let before = renewed().await.unwrap();
    env.start_syncer().unwrap();
    wait("the Lease renewed by the new syncer", || async { renewed().await.filter(|t| *t != before) }).await.unwrap();
    // The tenant's start compared its virtual node and Lease in one list of each: nothing
    // about the node changed, so no sync of it was queued.
    let metrics = env.metrics().await.unwrap();
    assert_eq!(metric_sum(&metrics, "nestor_syncer_tenants", &["state=\"compared\""]), 1.0, "{metrics}");
    assert_eq!(
        metric_sum(&metrics, "nestor_syncer_sync_duration_seconds_count", &["resource=\"nodes\""]),
        0.0,
        "{metrics}"
    );

    // A virtual node changed by hand in the tenant is repaired by the patrol.
    let nodes: Api<Node> = Api::all(client.clone());
    let by_hand = json!({"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "ByHand"}]}});
    nodes.patch_status(&node, &PatchParams::default(), &Patch::Merge(by_hand)).await.unwrap();
    wait("the virtual node Ready again", || async {
        let conditions = nodes.get_status(&node).await.ok()?.status?.conditions?;
        conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True").then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn patrol_repairs_what_was_changed_by_hand_while_no_syncer_ran() {
    let mut env = Env::start(&[("blue", &[])]).await.unwrap();
    let tenant = env.tenant("blue");
    let client = tenant.cluster.client().await.unwrap();
    let super_client = env.super_cluster.client().await.unwrap();
    let super_ns = tenant.registered.super_namespace("prod");
    namespace(&client, "prod").await;
    for name in ["web", "api"] {
        Api::<Pod>::namespaced(client.clone(), "prod").create(&PostParams::default(), &pod(name)).await.unwrap();
    }
    let cm = json!({"metadata": {"name": "settings"}, "data": {"mode": "fast"}});
    Api::<ConfigMap>::namespaced(client.clone(), "prod")
        .create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    let super_pods: Api<Pod> = Api::namespaced(super_client.clone(), &super_ns);
    let super_cms: Api<ConfigMap> = Api::namespaced(super_client.clone(), &super_ns);
    running(&super_pods, "web").await;
    running(&super_pods, "api").await;
    wait("the super configmap", || async { super_cms.get("settings").await.ok() }).await.unwrap();
    let edit = Patch::Merge(json!({"data": {"mode": "by-hand"}}));
    let restored =
        || async { (super_cms.get("settings").await.ok()?.data?.get("mode")?.as_str() == "fast").then_some(()) };

    // With the syncer running, the super watch repairs an edit at once.
    super_cms.patch("settings", &PatchParams::default(), &edit).await.unwrap();
    wait("the edit to be undone", restored).await.unwrap();

    // With no syncer running, the patrol of the next one finds and repairs every change (the
    // pods compared are those of its super watch's first list), and an event recorded
    // meanwhile is copied up after the restart's one comparison of events.
    env.syncer.as_mut().unwrap().kill();
    let label = Patch::Merge(json!({"metadata": {"labels": {"by-hand": "yes"}}}));
    super_pods.patch("api", &PatchParams::default(), &label).await.unwrap();
    let super_pod = super_pods.get("web").await.unwrap();
    let event = json!({
        "metadata": {"name": "web.by-hand"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": super_ns, "name": "web", "uid": super_pod.uid()},
        "reason": "ByHand", "message": "recorded while no syncer ran", "type": "Normal", "count": 1,
    });
    Api::<Event>::namespaced(super_client.clone(), &super_ns)
        .create(&PostParams::default(), &serde_json::from_value(event).unwrap())
        .await
        .unwrap();
    super_pods.delete("web", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.unwrap();
    super_cms.patch("settings", &PatchParams::default(), &edit).await.unwrap();
    env.start_syncer().unwrap();
    wait("the super pod to come back", || async { super_pods.get("web").await.ok() }).await.unwrap();
    wait("the edit to be undone again", restored).await.unwrap();
    wait("the label added by hand to be removed", || async {
        let labels = super_pods.get("api").await.ok()?.metadata.labels.unwrap_or_default();
        (!labels.contains_key("by-hand")).then_some(())
    })
    .await
    .unwrap();
    let tenant_events: Api<Event> = Api::namespaced(client.clone(), "prod");
    let copy =
        wait("the event recorded meanwhile in the tenant", || async { tenant_events.get("web.by-hand").await.ok() })
            .await
            .unwrap();
    assert_eq!(copy.reason.as_deref(), Some("ByHand"));
    assert_eq!(copy.involved_object.name.as_deref(), Some("web"));
    assert_eq!(copy.involved_object.namespace.as_deref(), Some("prod"));
    let metrics = env.metrics().await.unwrap();
    assert!(
        metric_sum(&metrics, "nestor_syncer_patrol_repairs_total", &["resource=\"pods\"", "reason=\"missing\""]) >= 1.0,
        "{metrics}"
    );
    assert!(
        metric_sum(&metrics, "nestor_syncer_patrol_repairs_total", &["resource=\"pods\"", "reason=\"drift\""]) >= 1.0,
        "{metrics}"
    );
    assert!(
        metric_sum(&metrics, "nestor_syncer_patrol_repairs_total", &["resource=\"configmaps\"", "reason=\"drift\""])
            >= 1.0,
        "{metrics}"
    );
}

#[tokio::test]
async fn a_tenant_that_is_down_does_not_stop_the_others() {
    let mut env = Env::start(&[("blue", &[]), ("green", &[])]).await.unwrap();
    let blue = env.tenant("blue").cluster.client().await.unwrap();
    let green = env.tenant("green").cluster.client().await.unwrap();
    namespace(&blue, "prod").await;
    namespace(&green, "prod").await;
    env.tenants[0].cluster.apiserver.stop();
    let green_pods: Api<Pod> = Api::namespaced(green.clone(), "prod");
    green_pods.create(&PostParams::default(), &pod("web")).await.unwrap();
    running(&green_pods, "web").await;

    // Blue comes back on the same port: its watches resume and its new pod is synced.
    env.tenants[0].cluster.restart_apiserver().await.unwrap();
    let blue_pods: Api<Pod> = Api::namespaced(env.tenants[0].cluster.client().await.unwrap(), "prod");
    blue_pods.create(&PostParams::default(), &pod("web")).await.unwrap();
    running(&blue_pods, "web").await;
}

#[tokio::test]
async fn a_second_syncer_stands_by_and_takes_over() {
    let mut env = Env::start(&[("blue", &[])]).await.unwrap();
    let client = env.tenant("blue").cluster.client().await.unwrap();
    namespace(&client, "prod").await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "prod");
    pods.create(&PostParams::default(), &pod("first")).await.unwrap();
    running(&pods, "first").await;
    let mut first = env.syncer.take().unwrap();
    env.start_syncer().unwrap();
    let standby = wait("the second syncer to serve metrics", || async { env.metrics().await.ok() }).await.unwrap();
    assert_eq!(metric_sum(&standby, "nestor_syncer_leader", &[]), 0.0, "{standby}");
    first.kill();
    wait("the second syncer to lead", || async {
        (metric_sum(&env.metrics().await.ok()?, "nestor_syncer_leader", &[]) == 1.0).then_some(())
    })
    .await
    .unwrap();
    pods.create(&PostParams::default(), &pod("second")).await.unwrap();
    running(&pods, "second").await;
}
