//! StatefulSets driven with the real kubectl: ordered creation with claims, scale-down from the
//! highest ordinal, rolling updates with history and undo, Parallel pod management and claim
//! retention.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use common::{ready, rollout_revisions, running, Env, WAIT};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams};
use nestor_controllers::pods;
use nestor_testkit::eventually;
use nestor_testkit::kubectl::rows;

/// A headless Service and a StatefulSet `name` of `replicas` pods of `image` (ready
/// `ready_after` after they start), with one claim template `data`; `extra_spec` goes into the
/// set's spec as is.
fn manifest(name: &str, replicas: u32, image: &str, ready_after: &str, extra_spec: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  clusterIP: None
  selector:
    app: {name}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}
spec:
  serviceName: {name}
  replicas: {replicas}
{extra_spec}  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
      annotations:
        nestor.dev/sim-ready-after: "{ready_after}"
    spec:
      containers:
      - name: app
        image: {image}
        volumeMounts:
        - name: data
          mountPath: /data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
"#
    )
}

async fn pods_by_name(env: &Env, app: &str) -> BTreeMap<String, Pod> {
    env.pods("default", &format!("app={app}"))
        .await
        .into_iter()
        .map(|p| (p.metadata.name.clone().unwrap(), p))
        .collect()
}

async fn claims(env: &Env) -> BTreeMap<String, PersistentVolumeClaim> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(env.client.clone(), "default");
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| (c.metadata.name.clone().unwrap(), c))
        .collect()
}

async fn set(env: &Env, name: &str) -> StatefulSet {
    Api::namespaced(env.client.clone(), "default").get(name).await.unwrap()
}

async fn revisions(env: &Env, app: &str) -> Vec<ControllerRevision> {
    let api: Api<ControllerRevision> = Api::namespaced(env.client.clone(), "default");
    api.list(&ListParams::default().labels(&format!("app={app}"))).await.unwrap().items
}

fn created(pod: &Pod) -> DateTime<Utc> {
    pods::created(&pod.metadata).unwrap()
}

fn ready_since(pod: &Pod) -> DateTime<Utc> {
    pods::ready_since(pod).unwrap()
}

fn image(pod: &Pod) -> &str {
    pod.spec.as_ref().unwrap().containers[0].image.as_deref().unwrap()
}

fn terminating_or_gone(pods: &BTreeMap<String, Pod>, name: &str) -> bool {
    pods.get(name).is_none_or(|p| p.metadata.deletion_timestamp.is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_creation_claims_and_scale_down() {
    let env = Env::start().await;
    env.apply(&manifest("web", 3, "nginx:1.0", "1s", ""));
    env.k(&["rollout", "status", "statefulset/web", "--timeout=90s"]);

    let pods = pods_by_name(&env, "web").await;
    assert_eq!(pods.keys().collect::<Vec<_>>(), ["web-0", "web-1", "web-2"]);
    let sts = set(&env, "web").await;
    let status = sts.status.clone().unwrap();
    let update_revision = status.update_revision.clone().unwrap();
    assert!(update_revision.starts_with("web-"), "{update_revision}");
    for (n, name) in ["web-0", "web-1", "web-2"].iter().enumerate() {
        let pod = &pods[*name];
        assert!(running(pod) && ready(pod), "{name}");
        let labels = pod.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["statefulset.kubernetes.io/pod-name"], *name);
        assert_eq!(labels["apps.kubernetes.io/pod-index"], n.to_string());
        assert_eq!(labels["controller-revision-hash"], update_revision);
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.name.as_str(), owner.controller), ("StatefulSet", "web", Some(true)));
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!((spec.hostname.as_deref(), spec.subdomain.as_deref()), (Some(*name), Some("web")));
        let volume = spec.volumes.as_ref().unwrap().iter().find(|v| v.name == "data").unwrap();
        assert_eq!(volume.persistent_volume_claim.as_ref().unwrap().claim_name, format!("data-{name}"));
    }
    // OrderedReady: each pod was created only once the previous one was Ready (timestamps have
    // second resolution, so "not before").
    for (prev, next) in [("web-0", "web-1"), ("web-1", "web-2")] {
        assert!(
            created(&pods[next]) >= ready_since(&pods[prev]),
            "{next} created at {} before {prev} was ready at {}",
            created(&pods[next]),
            ready_since(&pods[prev])
        );
    }
    assert!(created(&pods["web-2"]) > created(&pods["web-0"]), "the 1s readiness delay shows between them");

    // A claim per pod from the template, labelled with the selector, owned by nobody (Retain).
    let pvcs = claims(&env).await;
    for name in ["data-web-0", "data-web-1", "data-web-2"] {
        let pvc = pvcs.get(name).unwrap_or_else(|| panic!("{name} missing: {:?}", pvcs.keys()));
        assert_eq!(pvc.metadata.labels.as_ref().unwrap()["app"], "web");
        assert!(pvc.metadata.owner_references.as_ref().is_none_or(Vec::is_empty), "{name}");
        assert_eq!(pvc.spec.as_ref().unwrap().access_modes.as_deref(), Some(&["ReadWriteOnce".to_string()][..]));
    }

    // Status and columns as kubectl reads them.
    assert_eq!(status.observed_generation, sts.metadata.generation);
    assert_eq!(
        (status.replicas, status.ready_replicas, status.current_replicas, status.updated_replicas),
        (3, Some(3), Some(3), Some(3))
    );
    assert_eq!(status.available_replicas, Some(3));
    assert_eq!(status.current_revision.as_deref(), Some(update_revision.as_str()));
    assert_eq!(status.collision_count, Some(0));
    let table = env.k(&["get", "sts", "web"]);
    assert_eq!(&rows(&table)[0][..2], ["web", "3/3"], "{table}");

    let events = env.k(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=StatefulSet,involvedObject.name=web",
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ]);
    for line in [
        "SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success",
        "SuccessfulCreate: create Pod web-0 in StatefulSet web successful",
        "SuccessfulCreate: create Pod web-2 in StatefulSet web successful",
    ] {
        assert!(events.lines().any(|l| l == line), "{line} not in:\n{events}");
    }

    // Scale to 1: web-2 goes first, then web-1; the claims stay.
    env.k(&["scale", "statefulset/web", "--replicas=1"]);
    let mut samples = 0;
    eventually(WAIT, "scale-down to web-0 alone", || {
        samples += 1;
        let env = &env;
        async move {
            let pods = pods_by_name(env, "web").await;
            assert!(
                !terminating_or_gone(&pods, "web-1") || !pods.contains_key("web-2"),
                "web-1 went before web-2: {:?}",
                pods.keys()
            );
            (pods.keys().collect::<Vec<_>>() == ["web-0"]).then_some(())
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert!(samples > 1);
    env.wait_for_output("1/1 ready", &["get", "sts", "web", "--no-headers"], |out| {
        out.split_whitespace().nth(1) == Some("1/1")
    })
    .await;
    let pvcs = claims(&env).await;
    assert!(["data-web-0", "data-web-1", "data-web-2"].iter().all(|n| pvcs.contains_key(*n)), "{:?}", pvcs.keys());
    let events = env.k(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=StatefulSet,reason=SuccessfulDelete",
        "-o",
        "jsonpath={.items[*].message}",
    ]);
    assert!(events.contains("delete Pod web-2 in StatefulSet web successful"), "{events}");
    assert!(events.contains("delete Pod web-1 in StatefulSet web successful"), "{events}");

    // Scaling up again reuses the claims.
    env.k(&["scale", "statefulset/web", "--replicas=2"]);
    env.k(&["rollout", "status", "statefulset/web", "--timeout=90s"]);
    let pods = pods_by_name(&env, "web").await;
    let volume = pods["web-1"].spec.as_ref().unwrap().volumes.as_ref().unwrap()[0].clone();
    assert_eq!(volume.persistent_volume_claim.unwrap().claim_name, "data-web-1");
    assert_eq!(claims(&env).await.len(), 3);

    // A failed pod is deleted and made again under the same name.
    let old_uid = pods["web-1"].metadata.uid.clone().unwrap();
    env.k(&["patch", "pod", "web-1", "--subresource=status", "--type=merge", "-p", r#"{"status":{"phase":"Failed"}}"#]);
    eventually(WAIT, "web-1 recreated", || async {
        let pods = pods_by_name(&env, "web").await;
        let pod = pods.get("web-1")?;
        (pod.metadata.uid.as_deref() != Some(old_uid.as_str()) && ready(pod)).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let deletions = env.k(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=StatefulSet,reason=SuccessfulDelete",
        "-o",
        "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}",
    ]);
    let web1 = deletions.lines().filter(|l| *l == "delete Pod web-1 in StatefulSet web successful").count();
    assert_eq!(web1, 2, "one for the scale-down, one for the failed pod:\n{deletions}");

    // `delete --cascade=orphan`, then the same set again: it adopts the orphaned pods and
    // revision instead of replacing the pods.
    let before: BTreeMap<String, String> =
        pods_by_name(&env, "web").await.into_iter().map(|(n, p)| (n, p.metadata.uid.unwrap())).collect();
    let old_uid = set(&env, "web").await.metadata.uid.unwrap();
    env.k(&["delete", "statefulset", "web", "--cascade=orphan", "--wait=true"]);
    env.apply(&manifest("web", 2, "nginx:1.0", "1s", ""));
    let new_uid = set(&env, "web").await.metadata.uid.unwrap();
    assert_ne!(old_uid, new_uid);
    eventually(WAIT, "the new set to adopt the orphaned pods", || async {
        let pods = pods_by_name(&env, "web").await;
        pods.values()
            .all(|p| {
                p.metadata.owner_references.iter().flatten().any(|r| r.uid == new_uid && r.controller == Some(true))
            })
            .then_some(())
    })
    .await
    .unwrap_or_else(|e| {
        panic!(
            "{e}; log:
{}",
            env.controllers.log_tail()
        )
    });
    env.k(&["rollout", "status", "statefulset/web", "--timeout=90s"]);
    let after: BTreeMap<String, String> =
        pods_by_name(&env, "web").await.into_iter().map(|(n, p)| (n, p.metadata.uid.unwrap())).collect();
    assert_eq!(after, before, "the same pods, none replaced");
    let status = set(&env, "web").await.status.unwrap();
    assert_eq!(status.update_revision.as_deref(), Some(update_revision.as_str()), "the old revision, adopted");
    assert_eq!(status.collision_count.unwrap_or(0), 0);
    let owned = revisions(&env, "web").await;
    assert!(owned.iter().all(|r| r.metadata.owner_references.iter().flatten().any(|o| o.uid == new_uid)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_history_and_undo() {
    let env = Env::start().await;
    env.apply(&manifest("roll", 3, "nginx:1.0", "500ms", ""));
    env.k(&["rollout", "status", "statefulset/roll", "--timeout=90s"]);
    let first = set(&env, "roll").await.status.unwrap().update_revision.unwrap();

    env.k(&["set", "image", "statefulset/roll", "app=nginx:2.0"]);
    // Highest ordinal first, one pod at a time: the updated pods are always the top ordinals,
    // and at most one pod is missing or not ready.
    let mut samples = 0;
    eventually(WAIT, "the rolling update", || {
        samples += 1;
        let env = &env;
        async move {
            let pods = pods_by_name(env, "roll").await;
            let updated: Vec<bool> =
                (0..3).map(|i| pods.get(&format!("roll-{i}")).is_some_and(|p| image(p) == "nginx:2.0")).collect();
            let first_updated = updated.iter().position(|u| *u).unwrap_or(3);
            assert!(updated[first_updated..].iter().all(|u| *u), "not highest first: {updated:?}");
            let down = (0..3)
                .filter(|i| {
                    pods.get(&format!("roll-{i}")).is_none_or(|p| !ready(p) || p.metadata.deletion_timestamp.is_some())
                })
                .count();
            assert!(down <= 1, "{down} pods down at once");
            (updated.iter().all(|u| *u) && down == 0).then_some(())
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert!(samples > 1);
    let out = env.k(&["rollout", "status", "statefulset/roll", "--timeout=90s"]);
    assert!(out.contains("partitioned roll out complete: 3 new pods have been updated"), "{out}");

    let status = set(&env, "roll").await.status.unwrap();
    let second = status.update_revision.clone().unwrap();
    assert_ne!(first, second);
    assert_eq!(status.current_revision.as_deref(), Some(second.as_str()));
    assert_eq!((status.current_replicas, status.updated_replicas), (Some(3), Some(3)));
    let pods = pods_by_name(&env, "roll").await;
    assert!(pods.values().all(|p| p.metadata.labels.as_ref().unwrap()["controller-revision-hash"] == second));
    let history = env.k(&["rollout", "history", "statefulset/roll"]);
    assert_eq!(rollout_revisions(&history), ["1", "2"], "{history}");
    let detail = env.k(&["rollout", "history", "statefulset/roll", "--revision=1"]);
    assert!(detail.contains("nginx:1.0"), "{detail}");

    // Undo: kubectl patches revision 1's template back; that revision becomes number 3.
    env.k(&["rollout", "undo", "statefulset/roll"]);
    env.k(&["rollout", "status", "statefulset/roll", "--timeout=90s"]);
    eventually(WAIT, "the pods back at nginx:1.0", || async {
        let pods = pods_by_name(&env, "roll").await;
        (pods.len() == 3 && pods.values().all(|p| image(p) == "nginx:1.0" && ready(p))).then_some(())
    })
    .await
    .unwrap();
    let history = env.k(&["rollout", "history", "statefulset/roll"]);
    assert_eq!(rollout_revisions(&history), ["2", "3"], "{history}");
    let revs = revisions(&env, "roll").await;
    assert_eq!(revs.len(), 2, "the old template is reused, not stored twice");
    let back = revs.iter().find(|r| r.metadata.name.as_deref() == Some(first.as_str())).unwrap();
    assert_eq!(back.revision, 3);
    let status = set(&env, "roll").await.status.unwrap();
    assert_eq!(status.update_revision.as_deref(), Some(first.as_str()));
    assert_eq!(status.current_revision.as_deref(), Some(first.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_creation_and_claim_retention() {
    let env = Env::start().await;
    let extra = "  podManagementPolicy: Parallel\n  persistentVolumeClaimRetentionPolicy:\n    whenDeleted: Delete\n    whenScaled: Delete\n";
    env.apply(&manifest("par", 3, "nginx:1.0", "3s", extra));
    env.k(&["rollout", "status", "statefulset/par", "--timeout=90s"]);
    let pods = pods_by_name(&env, "par").await;
    assert_eq!(pods.len(), 3);
    // Parallel: every pod was created before the first one turned ready.
    let first_ready = pods.values().map(ready_since).min().unwrap();
    for (name, pod) in &pods {
        assert!(
            created(pod) < first_ready,
            "{name} created at {} after a pod was ready at {first_ready}",
            created(pod)
        );
    }

    // whenDeleted: Delete makes the set the claims' controller.
    let sts = set(&env, "par").await;
    let uid = sts.metadata.uid.clone().unwrap();
    eventually(WAIT, "the claims owned by the set", || async {
        let pvcs = claims(&env).await;
        let owned = ["data-par-0", "data-par-1", "data-par-2"].iter().all(|n| {
            pvcs.get(*n).and_then(|c| c.metadata.owner_references.clone()).is_some_and(|refs| {
                refs.len() == 1
                    && refs[0].uid == uid
                    && refs[0].kind == "StatefulSet"
                    && refs[0].controller == Some(true)
            })
        });
        owned.then_some(())
    })
    .await
    .unwrap();

    // whenScaled: Delete: the claims of removed ordinals go with their pods.
    env.k(&["scale", "statefulset/par", "--replicas=1"]);
    eventually(WAIT, "the claims of par-1 and par-2 deleted", || async {
        let pvcs = claims(&env).await;
        (pvcs.keys().collect::<Vec<_>>() == ["data-par-0"]).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert_eq!(pods_by_name(&env, "par").await.keys().collect::<Vec<_>>(), ["par-0"]);

    // Deleting the set takes the last claim with it.
    env.k(&["delete", "statefulset", "par"]);
    eventually(WAIT, "every claim deleted", || async { claims(&env).await.is_empty().then_some(()) })
        .await
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
}
