//! Killed in the middle of a rollout, the controllers finish it after a restart with the right
//! number of pods and none created twice.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{deployment, ready, Env, WAIT};
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::api::{Api, ListParams};
use nestor_testkit::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_survives_a_killed_controller() {
    let mut env = Env::start().await;
    env.apply(&deployment("web", 6, "nginx:1.0", "1s", "2", "1"));
    env.k(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    env.k(&["set", "image", "deployment/web", "app=nginx:2.0"]);

    // Kill it once the new ReplicaSet has pods but the rollout is not done.
    eventually(WAIT, "the rollout to be under way", || async {
        let pods = env.pods("default", "app=web").await;
        let new = pods
            .iter()
            .filter(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:2.0"))
            .count();
        (new > 0 && new < 6).then_some(())
    })
    .await
    .unwrap();
    env.kill_and_restart().await;

    env.k(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let pods = env.pods("default", "app=web").await;
    assert_eq!(pods.len(), 6, "{:?}", pods.iter().map(|p| p.metadata.name.clone()).collect::<Vec<_>>());
    assert!(pods
        .iter()
        .all(|p| ready(p) && p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:2.0")));
    let names: BTreeSet<_> = pods.iter().map(|p| p.metadata.name.clone().unwrap()).collect();
    assert_eq!(names.len(), 6);
    let sets: Vec<ReplicaSet> = Api::namespaced(env.client.clone(), "default")
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(sets.len(), 2, "one ReplicaSet per template, none duplicated");
    let replicas: Vec<i32> = sets.iter().map(|rs| rs.spec.as_ref().unwrap().replicas.unwrap()).collect();
    assert_eq!(replicas.iter().sum::<i32>(), 6);
    assert!(replicas.contains(&0));
    // And it stays so: the restarted controllers settle with no extra pod.
    let status_replicas = env.k(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.status.replicas}/{.status.updatedReplicas}/{.status.availableReplicas}",
    ]);
    assert_eq!(status_replicas, "6/6/6");
}
