//! Endpoints and EndpointSlices follow a Service's pods and their readiness.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Env, WAIT};
use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use nestor_testkit::eventually;

fn pod(name: &str, ready_after: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:
    app: shop
  annotations:
    nestor.dev/sim-ready-after: "{ready_after}"
spec:
  containers:
  - name: app
    image: nginx
    ports:
    - name: http
      containerPort: 8080
"#
    )
}

const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: shop
  labels:
    tier: front
spec:
  selector:
    app: shop
  ports:
  - name: web
    port: 80
    targetPort: http
"#;

/// (ready pod names, not-ready pod names, ports) of the Endpoints.
fn summary(ep: &Endpoints) -> (Vec<String>, Vec<String>, Vec<i32>) {
    let mut ready = Vec::new();
    let mut not_ready = Vec::new();
    let mut ports = Vec::new();
    for s in ep.subsets.iter().flatten() {
        let name =
            |a: &k8s_openapi::api::core::v1::EndpointAddress| a.target_ref.as_ref().unwrap().name.clone().unwrap();
        ready.extend(s.addresses.iter().flatten().map(name));
        not_ready.extend(s.not_ready_addresses.iter().flatten().map(name));
        ports.extend(s.ports.iter().flatten().map(|p| p.port));
    }
    ready.sort();
    not_ready.sort();
    ports.dedup();
    (ready, not_ready, ports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_readiness() {
    let env = Env::start().await;
    env.apply(SERVICE);
    env.apply(&pod("fast", "0s"));
    env.apply(&pod("slow", "1h"));
    let eps: Api<Endpoints> = Api::namespaced(env.client.clone(), "default");
    let slices: Api<EndpointSlice> = Api::namespaced(env.client.clone(), "default");

    let want = (vec!["fast".to_string()], vec!["slow".to_string()], vec![8080]);
    eventually(WAIT, "fast ready, slow not ready", || async {
        let ep = eps.get_opt("shop").await.ok()??;
        (summary(&ep) == want).then_some(ep)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let ep = eps.get("shop").await.unwrap();
    assert_eq!(ep.metadata.labels.as_ref().unwrap()["tier"], "front");
    assert_eq!(ep.metadata.labels.as_ref().unwrap()["endpoints.kubernetes.io/managed-by"], "endpoint-controller");
    let address = &ep.subsets.as_ref().unwrap()[0].addresses.as_ref().unwrap()[0];
    assert!(address.node_name.as_deref().unwrap().starts_with("nestor-node-"));
    assert_eq!(address.target_ref.as_ref().unwrap().kind.as_deref(), Some("Pod"));

    // The slice says the same with conditions.
    let slice = eventually(WAIT, "an endpoint slice with both pods", || async {
        let list = slices.list(&ListParams::default().labels("kubernetes.io/service-name=shop")).await.ok()?;
        let slice = list.items.into_iter().next()?;
        (slice.endpoints.len() == 2).then_some(slice)
    })
    .await
    .unwrap();
    let labels = slice.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");
    assert_eq!(slice.address_type, "IPv4");
    assert_eq!(slice.ports.as_ref().unwrap()[0].port, Some(8080));
    assert_eq!(slice.ports.as_ref().unwrap()[0].name.as_deref(), Some("web"));
    let owner = &slice.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str()), ("Service", "shop"));
    for e in &slice.endpoints {
        let name = e.target_ref.as_ref().unwrap().name.clone().unwrap();
        let c = e.conditions.clone().unwrap();
        assert_eq!(c.ready, Some(name == "fast"), "{name}");
        assert_eq!(c.serving, Some(name == "fast"), "{name}");
        assert_eq!(c.terminating, Some(false));
    }

    // A pod that leaves the selector leaves the endpoints; a deleted one too.
    env.k(&["label", "pod", "slow", "app=other", "--overwrite"]);
    env.k(&["delete", "pod", "fast", "--wait=true"]);
    eventually(WAIT, "no endpoints left", || async {
        let ep = eps.get("shop").await.ok()?;
        let list = slices.list(&ListParams::default().labels("kubernetes.io/service-name=shop")).await.ok()?;
        let empty_slices = list.items.iter().all(|s| s.endpoints.is_empty());
        (summary(&ep) == (vec![], vec![], vec![]) && empty_slices).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));

    // Back in the selector, it shows up again; with the Service gone, its Endpoints go too.
    env.k(&["label", "pod", "slow", "app=shop", "--overwrite"]);
    eventually(WAIT, "slow back as not ready", || async {
        let ep = eps.get("shop").await.ok()?;
        (summary(&ep).1 == ["slow"]).then_some(())
    })
    .await
    .unwrap();
    env.k(&["delete", "service", "shop"]);
    eventually(WAIT, "the endpoints to go with the service", || async {
        eps.get_opt("shop").await.ok()?.is_none().then_some(())
    })
    .await
    .unwrap();
}
