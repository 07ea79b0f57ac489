//! A ReplicaSet on its own: its pods, adoption of orphans, release of pods that stop matching,
//! and scale-down order.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{ready, Env, WAIT};
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::api::Api;
use nestor_testkit::eventually;

const RS: &str = r#"apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: solo
spec:
  replicas: 3
  selector:
    matchLabels:
      app: solo
  template:
    metadata:
      labels:
        app: solo
    spec:
      containers:
      - name: app
        image: nginx
"#;

fn names(pods: &[k8s_openapi::api::core::v1::Pod]) -> BTreeSet<String> {
    pods.iter().map(|p| p.metadata.name.clone().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_adoption_release_and_status() {
    let env = Env::start().await;
    env.apply(RS);
    let api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    let first = eventually(WAIT, "3 ready pods and their status", || async {
        let pods = env.pods("default", "app=solo").await;
        let rs = api.get("solo").await.ok()?;
        let s = rs.status?;
        let counted = s.replicas == 3
            && s.ready_replicas == Some(3)
            && s.available_replicas == Some(3)
            && s.fully_labeled_replicas == Some(3);
        (pods.len() == 3 && pods.iter().all(ready) && counted && s.observed_generation == rs.metadata.generation)
            .then_some(pods)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert!(first.iter().all(|p| p.metadata.generate_name.as_deref() == Some("solo-")));

    // Orphaned, then adopted by a new ReplicaSet of the same selector: no new pod.
    env.k(&["delete", "rs", "solo", "--cascade=orphan"]);
    eventually(WAIT, "the ReplicaSet gone", || async { api.get_opt("solo").await.ok()?.is_none().then_some(()) })
        .await
        .unwrap();
    env.apply(RS);
    let uid = eventually(WAIT, "the new ReplicaSet", || async {
        api.get_opt("solo").await.ok()?.and_then(|r| r.metadata.uid)
    })
    .await
    .unwrap();
    eventually(WAIT, "the orphans adopted", || async {
        let pods = env.pods("default", "app=solo").await;
        let adopted = pods
            .iter()
            .all(|p| p.metadata.owner_references.iter().flatten().any(|r| r.uid == uid && r.controller == Some(true)));
        (adopted && pods.len() == 3).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(names(&env.pods("default", "app=solo").await), names(&first), "the same pods, none created");

    // A pod relabelled out of the selector is released and replaced.
    let victim = first[0].metadata.name.clone().unwrap();
    env.k(&["label", "pod", &victim, "app=gone", "--overwrite"]);
    eventually(WAIT, "the pod released and replaced", || async {
        let pods = env.pods("default", "app=solo").await;
        let gone = env.pods("default", "app=gone").await;
        let released = gone.len() == 1 && gone[0].metadata.owner_references.as_ref().is_none_or(Vec::is_empty);
        (pods.len() == 3 && released && !names(&pods).contains(&victim)).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));

    // Scaled down, the remaining pods are among the ones that were there.
    env.k(&["scale", "rs", "solo", "--replicas=1"]);
    eventually(WAIT, "one pod left", || async { (env.pods("default", "app=solo").await.len() == 1).then_some(()) })
        .await
        .unwrap();
    let events =
        env.k(&["get", "events", "--field-selector", "involvedObject.name=solo", "-o", "jsonpath={.items[*].reason}"]);
    assert!(events.contains("SuccessfulCreate") && events.contains("SuccessfulDelete"), "{events}");
}

const RC: &str = r#"apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: legacy
    spec:
      containers:
      - name: app
        image: nginx
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_controller() {
    let env = Env::start().await;
    env.apply(RC);
    let row = env
        .wait_for_output("2 ready pods of the ReplicationController", &["get", "rc", "legacy", "--no-headers"], |out| {
            out.split_whitespace().take(4).collect::<Vec<_>>() == ["legacy", "2", "2", "2"]
        })
        .await;
    assert!(row.starts_with("legacy"));
    let pods = env.pods("default", "app=legacy").await;
    assert_eq!(pods.len(), 2);
    for pod in &pods {
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.api_version.as_str(), owner.kind.as_str(), owner.name.as_str()),
            ("v1", "ReplicationController", "legacy")
        );
    }
    env.k(&["scale", "rc", "legacy", "--replicas=3"]);
    env.wait_for_output("3 ready", &["get", "rc", "legacy", "--no-headers"], |out| {
        out.split_whitespace().nth(3) == Some("3")
    })
    .await;
    let observed =
        env.k(&["get", "rc", "legacy", "-o", "jsonpath={.status.observedGeneration}/{.metadata.generation}"]);
    let (a, b) = observed.split_once('/').unwrap();
    assert_eq!(a, b);
}
