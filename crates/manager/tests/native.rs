//! The native provisioner against a real super cluster (etcd, nestor-apiserver, with
//! nestor-controllers running its StatefulSets and nodesim running their pods): the objects it
//! writes from a ClusterVersion, a change of the ClusterVersion rolled out, and removal.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{wait, Env};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Secret, Service};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use nestor_api::types::{ClusterVersionSpec, Component};
use nestor_api::{keys, ClusterVersion, Phase, VirtualClusterSpec};
use nestor_testkit::tenancy::{self, TENANTS_NAMESPACE};
use nestor_testkit::{binary, Process};
use serde_json::json;

fn args_of(set: &StatefulSet) -> Vec<String> {
    set.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0].args.clone().unwrap_or_default()
}

fn image_of(set: &StatefulSet) -> String {
    set.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0].image.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn native_tenants_are_statefulsets_made_from_their_cluster_version() {
    let mut env = Env::new().await;
    // The super cluster runs its own controllers (StatefulSets, namespace deletion) and
    // simulated nodes, so the control plane's pods become Ready.
    let log = env.super_cluster.dir().join("controllers.log");
    let controllers_args = vec![
        format!("--kubeconfig={}", env.super_cluster.kubeconfig().display()),
        "--metrics-addr=127.0.0.1:0".to_string(),
    ];
    let _controllers =
        Process::spawn("nestor-controllers", &binary("nestor-controllers").unwrap(), &controllers_args, &log).unwrap();
    let _nodes = tenancy::spawn_nodesim(&env.super_cluster, 2, &[]).unwrap();
    let mut flags = env.manager_flags();
    flags.retain(|f| !f.starts_with("--state-dir") && !f.ends_with("-bin") && !f.contains("-bin="));
    flags.push("--provisioner=native".to_string());
    env.start_manager_with(flags);

    let versions: Api<ClusterVersion> = Api::all(env.client.clone());
    let component = |image: &str, args: &[&str]| Component {
        image: image.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    let spec = ClusterVersionSpec {
        api_server: component("example.com/nestor-apiserver:v1", &["--v=2"]),
        etcd: component("example.com/etcd:3.5", &[]),
        controllers: Some(component("example.com/nestor-controllers:v1", &[])),
    };
    versions.create(&PostParams::default(), &ClusterVersion::new("v1", spec)).await.unwrap();
    env.create("blue", VirtualClusterSpec { cluster_version: Some("v1".into()), ..Default::default() }).await;
    let vc = env.wait_phase("blue", Phase::Running).await;
    let status = vc.status.unwrap();
    let key = status.cluster_key.unwrap();
    let host = format!("apiserver.{key}.svc");
    assert_eq!(status.in_cluster_endpoint.as_ref().map(|e| (e.host.as_str(), e.port)), Some((host.as_str(), 443)));

    // The namespace named after the cluster key, marked as the tenant's.
    let namespace = Api::<Namespace>::all(env.client.clone()).get(&key).await.unwrap();
    assert_eq!(namespace.labels().get(keys::CLUSTER), Some(&key));
    assert_eq!(namespace.annotations().get(keys::VC_NAME).map(String::as_str), Some("blue"));

    // etcd, the API server and the controllers from the ClusterVersion's images.
    let sets: Api<StatefulSet> = Api::namespaced(env.client.clone(), &key);
    let apiserver = sets.get("apiserver").await.unwrap();
    assert_eq!(image_of(&apiserver), "example.com/nestor-apiserver:v1");
    let args = args_of(&apiserver);
    assert!(args.contains(&"--etcd-servers=http://etcd-0.etcd:2379".to_string()), "{args:?}");
    assert_eq!(args.last().map(String::as_str), Some("--v=2"), "the version's flags come last");
    assert_eq!(image_of(&sets.get("etcd").await.unwrap()), "example.com/etcd:3.5");
    assert_eq!(image_of(&sets.get("controllers").await.unwrap()), "example.com/nestor-controllers:v1");
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(env.client.clone(), &key);
    wait("etcd's volume claim", || async { pvcs.get("data-etcd-0").await.ok() }).await.unwrap();
    let service = Api::<Service>::namespaced(env.client.clone(), &key).get("apiserver").await.unwrap();
    let port = &service.spec.unwrap().ports.unwrap()[0];
    assert_eq!(
        (port.port, port.target_port.clone()),
        (443, Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(6443)))
    );

    // The certificates the pods mount are the tenant's, and its kubeconfig names the Service.
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &key);
    let pki = secrets.get("pki").await.unwrap().data.unwrap();
    let kept = Api::<Secret>::namespaced(env.client.clone(), TENANTS_NAMESPACE).get("blue-pki").await.unwrap();
    assert_eq!(pki.get("ca.crt"), kept.data.unwrap().get("ca.crt"));
    let kubeconfig = std::fs::read_to_string(env.kubeconfig_file("blue").await).unwrap();
    assert!(kubeconfig.contains(&format!("server: https://{host}:443")), "{kubeconfig}");

    // A changed ClusterVersion reaches the API server's StatefulSet.
    let change = json!({"spec": {"apiServer": {"image": "example.com/nestor-apiserver:v2", "args": ["--v=4"]}}});
    versions.patch("v1", &PatchParams::default(), &Patch::Merge(change)).await.unwrap();
    wait("the new image in the StatefulSet", || async {
        let set = sets.get("apiserver").await.ok()?;
        (image_of(&set) == "example.com/nestor-apiserver:v2" && args_of(&set).last()? == "--v=4").then_some(())
    })
    .await
    .unwrap();

    // Deleting the VirtualCluster removes the namespace and everything in it.
    env.vcs().delete("blue", &DeleteParams::default()).await.unwrap();
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    wait("the VirtualCluster and its namespace to be gone", || async {
        let gone = env.vcs().get_opt("blue").await.ok()?.is_none() && namespaces.get_opt(&key).await.ok()?.is_none();
        gone.then_some(())
    })
    .await
    .unwrap();
}
