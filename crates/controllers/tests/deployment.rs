//! Deployments driven with the real kubectl: create, scale, roll out, undo, pause, cascading
//! deletion, and the columns and conditions kubectl reads.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{deployment, ready, rollout_revisions, running, Env, WAIT};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, ListParams};
use nestor_testkit::eventually;
use nestor_testkit::kubectl::rows;

async fn replicasets(env: &Env, selector: &str) -> Vec<ReplicaSet> {
    let api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    api.list(&ListParams::default().labels(selector)).await.unwrap().items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_scale_and_columns() {
    let env = Env::start().await;
    env.k(&["create", "deployment", "web", "--image=nginx", "--replicas=3"]);
    env.k(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let pods = env.pods("default", "app=web").await;
    assert_eq!(pods.len(), 3, "{pods:?}");
    assert!(pods.iter().all(|p| running(p) && ready(p)));
    // Pods are named <replicaset>-<random> and owned by the ReplicaSet <deployment>-<hash>.
    let sets = replicasets(&env, "app=web").await;
    assert_eq!(sets.len(), 1);
    let rs = &sets[0];
    let rs_name = rs.metadata.name.clone().unwrap();
    let hash = rs.metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert_eq!(rs_name, format!("web-{hash}"));
    assert_eq!(rs.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"], "1");
    for pod in &pods {
        assert!(pod.metadata.name.as_ref().unwrap().starts_with(&format!("{rs_name}-")));
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.controller),
            ("ReplicaSet", rs_name.as_str(), Some(true))
        );
        assert_eq!(pod.metadata.labels.as_ref().unwrap()["pod-template-hash"], hash);
    }

    let table = env.k(&["get", "deploy", "web"]);
    let row = &rows(&table)[0];
    assert_eq!(&row[..4], ["web", "3/3", "3", "3"], "{table}");

    let d: Deployment = Api::namespaced(env.client.clone(), "default").get("web").await.unwrap();
    let status = d.status.clone().unwrap();
    assert_eq!(status.observed_generation, d.metadata.generation);
    let conditions = status.conditions.unwrap();
    let available = conditions.iter().find(|c| c.type_ == "Available").unwrap();
    assert_eq!((available.status.as_str(), available.reason.as_deref()), ("True", Some("MinimumReplicasAvailable")));
    let progressing = conditions.iter().find(|c| c.type_ == "Progressing").unwrap();
    assert_eq!(progressing.reason.as_deref(), Some("NewReplicaSetAvailable"));
    assert_eq!(
        progressing.message.as_deref(),
        Some(format!("ReplicaSet \"{rs_name}\" has successfully progressed.").as_str())
    );

    env.k(&["scale", "deployment/web", "--replicas=5"]);
    env.wait_for_output("5/5 ready", &["get", "deploy", "web", "--no-headers"], |out| {
        out.split_whitespace().nth(1) == Some("5/5")
    })
    .await;
    env.k(&["scale", "deployment/web", "--replicas=1"]);
    env.wait_for_output("1/1 ready", &["get", "deploy", "web", "--no-headers"], |out| {
        out.split_whitespace().nth(1) == Some("1/1")
    })
    .await;
    eventually(WAIT, "one pod left", || async { (env.pods("default", "app=web").await.len() == 1).then_some(()) })
        .await
        .unwrap();

    let events = env.k(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=Deployment",
        "-o",
        "jsonpath={.items[*].message}",
    ]);
    assert!(events.contains(&format!("Scaled up replica set {rs_name} from 0 to 3")), "{events}");
    assert!(events.contains(&format!("Scaled up replica set {rs_name} from 3 to 5")), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_respects_bounds_history_and_undo() {
    let env = Env::start().await;
    env.apply(&deployment("api", 4, "nginx:1.0", "500ms", "1", "0"));
    env.k(&["rollout", "status", "deployment/api", "--timeout=90s"]);

    env.k(&["set", "image", "deployment/api", "app=nginx:2.0"]);
    // While the rollout runs: never more than replicas + maxSurge pods, never fewer than
    // replicas - maxUnavailable ready ones.
    let mut samples = 0;
    eventually(WAIT, "the rollout to finish within its bounds", || {
        let env = &env;
        samples += 1;
        async move {
            let pods = env.pods("default", "app=api").await;
            let live: Vec<_> = pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).collect();
            assert!(live.len() <= 5, "{} pods, more than 4 + maxSurge 1", live.len());
            let ready_count = live.iter().filter(|p| ready(p)).count();
            assert!(ready_count >= 4, "{ready_count} ready pods, fewer than 4 - maxUnavailable 0");
            let done = live.len() == 4
                && live
                    .iter()
                    .all(|p| ready(p) && p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:2.0"));
            done.then_some(())
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert!(samples > 1);
    env.k(&["rollout", "status", "deployment/api", "--timeout=90s"]);

    let history = env.k(&["rollout", "history", "deployment/api"]);
    assert_eq!(rollout_revisions(&history), ["1", "2"], "{history}");
    let table = env.k(&["get", "deploy", "api", "--no-headers"]);
    assert_eq!(table.split_whitespace().take(4).collect::<Vec<_>>(), ["api", "4/4", "4", "4"]);

    // Undo brings revision 1's template back as revision 3, reusing its ReplicaSet.
    env.k(&["rollout", "undo", "deployment/api"]);
    env.k(&["rollout", "status", "deployment/api", "--timeout=90s"]);
    let history = env.k(&["rollout", "history", "deployment/api"]);
    assert_eq!(rollout_revisions(&history), ["2", "3"], "{history}");
    let sets = replicasets(&env, "app=api").await;
    assert_eq!(sets.len(), 2);
    let back = sets.iter().find(|rs| rs.spec.as_ref().unwrap().replicas == Some(4)).unwrap();
    let ann = back.metadata.annotations.as_ref().unwrap();
    assert_eq!(ann["deployment.kubernetes.io/revision"], "3");
    assert_eq!(ann["deployment.kubernetes.io/revision-history"], "1");
    let pods = env.pods("default", "app=api").await;
    assert!(pods.iter().all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:1.0")));
    let d: Deployment = Api::namespaced(env.client.clone(), "default").get("api").await.unwrap();
    assert_eq!(d.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"], "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_recreate_and_deadline() {
    let env = Env::start().await;
    env.apply(&deployment("paused", 2, "nginx:1.0", "0s", "25%", "25%"));
    env.k(&["rollout", "status", "deployment/paused", "--timeout=90s"]);
    env.k(&["rollout", "pause", "deployment/paused"]);
    env.wait_for_output(
        "the paused condition",
        &["get", "deploy", "paused", "-o", "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}"],
        |out| out == "DeploymentPaused",
    )
    .await;
    env.k(&["set", "image", "deployment/paused", "app=nginx:2.0"]);
    // Paused: the new template gets no ReplicaSet. The status still observes the generation.
    let d_api: Api<Deployment> = Api::namespaced(env.client.clone(), "default");
    eventually(WAIT, "the paused generation to be observed", || async {
        let d = d_api.get("paused").await.ok()?;
        (d.status?.observed_generation == d.metadata.generation).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(replicasets(&env, "app=paused").await.len(), 1);
    env.k(&["rollout", "resume", "deployment/paused"]);
    env.k(&["rollout", "status", "deployment/paused", "--timeout=90s"]);
    assert_eq!(replicasets(&env, "app=paused").await.len(), 2);

    // Recreate: the old pods are all gone before a new one exists.
    let recreate = deployment("recr", 3, "nginx:1.0", "0s", "1", "0").replace(
        "    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n",
        "    type: Recreate\n",
    );
    env.apply(&recreate);
    env.k(&["rollout", "status", "deployment/recr", "--timeout=90s"]);
    env.k(&["set", "image", "deployment/recr", "app=nginx:2.0"]);
    eventually(WAIT, "the recreate rollout", || async {
        let pods = env.pods("default", "app=recr").await;
        let images: std::collections::BTreeSet<String> =
            pods.iter().map(|p| p.spec.as_ref().unwrap().containers[0].image.clone().unwrap()).collect();
        assert!(images.len() <= 1, "old and new pods at once: {images:?}");
        (pods.len() == 3 && images.contains("nginx:2.0") && pods.iter().all(ready)).then_some(())
    })
    .await
    .unwrap();

    // A rollout that cannot progress (pods never ready) runs into its deadline.
    let stuck = deployment("stuck", 1, "nginx:1.0", "1h", "1", "0")
        .replace("  replicas: 1\n", "  replicas: 1\n  progressDeadlineSeconds: 2\n");
    env.apply(&stuck);
    let out = env.kubectl.run(&["rollout", "status", "deployment/stuck", "--timeout=60s"], None);
    assert!(!out.success);
    assert!(out.stderr.contains("exceeded its progress deadline"), "{}", out.stderr);
    let reason =
        env.k(&["get", "deploy", "stuck", "-o", "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}"]);
    assert_eq!(reason, "ProgressDeadlineExceeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_cascades_to_replicasets_and_pods() {
    let env = Env::start().await;
    for name in ["gone", "fg", "kept"] {
        env.apply(&deployment(name, 2, "nginx:1.0", "0s", "1", "0"));
        env.k(&["rollout", "status", &format!("deployment/{name}"), "--timeout=90s"]);
    }
    let count = |selector: &'static str| {
        let env = &env;
        async move { (replicasets(env, selector).await.len(), env.pods("default", selector).await.len()) }
    };
    assert_eq!(count("app=gone").await, (1, 2));

    // Background (kubectl's default) and foreground: the ReplicaSet and its pods go too.
    env.k(&["delete", "deployment", "gone"]);
    env.k(&["delete", "deployment", "fg", "--cascade=foreground"]);
    for selector in ["app=gone", "app=fg"] {
        eventually(WAIT, &format!("the ReplicaSets and pods of {selector} to go"), || async {
            (count(selector).await == (0, 0)).then_some(())
        })
        .await
        .unwrap();
    }

    // Orphaning: the ReplicaSet and pods stay, without an owner, and nothing recreates or
    // deletes them.
    let before: Vec<String> =
        env.pods("default", "app=kept").await.iter().map(|p| p.metadata.uid.clone().unwrap()).collect();
    env.k(&["delete", "deployment", "kept", "--cascade=orphan"]);
    eventually(WAIT, "the orphaned ReplicaSet to lose its owner", || async {
        let sets = replicasets(&env, "app=kept").await;
        (sets.len() == 1 && sets[0].metadata.owner_references.as_ref().is_none_or(|o| o.is_empty())).then_some(())
    })
    .await
    .unwrap();
    let after: Vec<String> =
        env.pods("default", "app=kept").await.iter().map(|p| p.metadata.uid.clone().unwrap()).collect();
    assert_eq!(before.len(), 2);
    assert_eq!(after.iter().filter(|u| before.contains(u)).count(), 2, "the same pods stay: {before:?} {after:?}");
}
