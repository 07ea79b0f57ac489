//! VirtualClusters the manager cannot provision: Failed with a `Ready=False` condition that
//! says why and a Warning event, written once (no retry loop), and provisioned as soon as the
//! problem is fixed. The manager runs in-process here, as `kubectl-vc up` runs it.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{spec, wait, Env};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use nestor_api::types::{ClusterVersionSpec, Component};
use nestor_api::{ClusterVersion, Phase, VirtualCluster};
use nestor_manager::provision::local::{Binaries, LocalConfig};
use nestor_manager::{Config, ProvisionerConfig};
use serde_json::json;

fn config(env: &Env) -> Config {
    Config {
        identity: "manager-in-process".into(),
        lease_namespace: "kube-system".into(),
        lease_duration: Duration::from_secs(4),
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        provisioner: ProvisionerConfig::Local(LocalConfig {
            binaries: Binaries {
                etcd: "etcd".into(),
                apiserver: nestor_testkit::binary("nestor-apiserver").unwrap(),
                controllers: nestor_testkit::binary("nestor-controllers").unwrap(),
            },
            stop_grace: Duration::from_secs(5),
            ..LocalConfig::new(env.state_dir().to_path_buf())
        }),
    }
}

fn ready_condition(vc: &VirtualCluster) -> (String, String, String) {
    let c = vc.status.as_ref().unwrap().conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[tokio::test]
async fn invalid_specs_fail_once_with_a_reason_and_recover_when_fixed() {
    let env = Env::new().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let manager = tokio::spawn(nestor_manager::run(env.client.clone(), config(&env), async {
        let _ = stopped.await;
    }));

    // Three ways to be wrong, each named in the condition and an event.
    env.create("my.cluster", spec(None, &[])).await;
    env.create("versioned", spec(Some("light"), &[])).await;
    env.create("syncs-junk", spec(None, &["widgets", "widgets.example.com", "widgets.example.com"])).await;
    let cases = [
        ("my.cluster", "must be a DNS-1123 label"),
        ("versioned", "ClusterVersion \"light\" not found"),
        ("syncs-junk", "spec.sync.customResources[0]"),
    ];
    for (name, says) in cases {
        let vc = env.wait_phase(name, Phase::Failed).await;
        let (status, reason, message) = ready_condition(&vc);
        assert_eq!((status.as_str(), reason.as_str()), ("False", "InvalidSpec"), "{name}");
        assert!(message.contains(says), "{name}: {message}");
        let events = wait(&format!("a Warning event about {name}"), || async {
            let events = env.events(name).await;
            events.iter().any(|(t, r, _)| t == "Warning" && r == "InvalidSpec").then_some(events)
        })
        .await
        .unwrap();
        assert!(events.iter().any(|(_, _, m)| m.contains(says)), "{events:?}");
    }
    assert!(
        ready_condition(&env.vcs().get("syncs-junk").await.unwrap()).2.contains("customResources[2]"),
        "duplicates are named too"
    );

    // No retry loop: the objects do not change while nothing else does.
    let before: Vec<String> = resource_versions(&env, &["my.cluster", "versioned", "syncs-junk"]).await;
    let settled = tokio::time::Instant::now() + Duration::from_secs(3);
    let same = nestor_testkit::eventually(Duration::from_secs(10), "three quiet seconds", || async {
        let now = resource_versions(&env, &["my.cluster", "versioned", "syncs-junk"]).await;
        if now != before {
            return Some(false);
        }
        (tokio::time::Instant::now() >= settled).then_some(true)
    })
    .await
    .unwrap();
    assert!(same, "a Failed VirtualCluster is not rewritten while nothing changes");
    assert_eq!(env.events("versioned").await.len(), 1, "one event, not one per attempt");
    assert!(
        !env.state_dir().join("tenants").read_dir().unwrap().any(|_| true),
        "nothing is provisioned for an invalid VirtualCluster"
    );

    // Fixing the problem brings the VirtualCluster up: the ClusterVersion appears...
    let versions: Api<ClusterVersion> = Api::all(env.client.clone());
    let version = ClusterVersion::new(
        "light",
        ClusterVersionSpec {
            api_server: Component { image: "nestor-apiserver".into(), args: vec![] },
            etcd: Component { image: "etcd".into(), args: vec![] },
            controllers: None,
        },
    );
    versions.create(&PostParams::default(), &version).await.unwrap();
    env.wait_phase("versioned", Phase::Running).await;
    // ... and the sync list is corrected.
    env.vcs()
        .patch(
            "syncs-junk",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"sync": {"customResources": ["widgets.example.com"]}}})),
        )
        .await
        .unwrap();
    let fixed = env.wait_phase("syncs-junk", Phase::Running).await;
    assert_eq!(fixed.status.unwrap().observed_generation, fixed.metadata.generation);

    // Deleting works for the valid and the invalid alike.
    for name in ["my.cluster", "versioned", "syncs-junk"] {
        env.vcs().delete(name, &Default::default()).await.unwrap();
    }
    let vcs = env.vcs();
    wait("every VirtualCluster to be gone", || async {
        vcs.list(&Default::default()).await.ok()?.items.is_empty().then_some(())
    })
    .await
    .unwrap();
    assert!(common::processes_in(&env.state_dir().join("tenants")).is_empty(), "no tenant process left");

    stop.send(()).unwrap();
    manager.await.unwrap().unwrap();
}

async fn resource_versions(env: &Env, names: &[&str]) -> Vec<String> {
    let mut out = vec![];
    for name in names {
        out.push(env.vcs().get(name).await.unwrap().resource_version().unwrap_or_default());
    }
    out
}
