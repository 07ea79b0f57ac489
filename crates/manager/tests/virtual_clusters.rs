//! VirtualClusters made real by the manager's local provisioner: Running, usable with real
//! kubectl, isolated from each other, restored when a process dies, adopted by a restarted
//! manager, and gone without a trace when deleted.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{alive, processes_in, spec, wait, Env};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, PostParams};
use kube::ResourceExt;
use nestor_api::{naming, Phase, VirtualCluster};
use nestor_testkit::kubectl::Kubectl;
use nestor_testkit::tenancy::{metric_sum, TENANTS_NAMESPACE};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::json;

fn key_of(vc: &VirtualCluster) -> String {
    naming::cluster_key(TENANTS_NAMESPACE, &vc.name_any(), &vc.uid().unwrap())
}

async fn create_namespace(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap())
        .await
        .unwrap();
}

/// Deletes a VirtualCluster and waits until the object, its processes and its folder are gone.
async fn delete_and_wait_gone(env: &Env, name: &str, key: &str, pids: &[i32]) {
    env.vcs().delete(name, &DeleteParams::default()).await.unwrap();
    let vcs = env.vcs();
    wait("the VirtualCluster to be gone (finalizer released)", || async {
        match vcs.get_opt(name).await {
            Ok(None) => Some(()),
            _ => None,
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; manager log:\n{}", env.manager_log_tail()));
    for pid in pids {
        assert!(!alive(*pid), "process {pid} of {name} still runs");
    }
    assert!(!env.tenant_dir(key).exists(), "the tenant folder is removed");
    assert!(processes_in(&env.tenant_dir(key)).is_empty(), "nothing works on the removed folder");
}

#[tokio::test]
async fn a_virtual_cluster_runs_serves_kubectl_and_leaves_nothing_behind() {
    let env = Env::start().await;
    env.create("blue", spec(None, &["widgets.example.com"])).await;
    let blue = env.wait_phase("blue", Phase::Running).await;
    let key = key_of(&blue);

    // The status the syncer reads.
    let status = blue.status.clone().unwrap();
    assert_eq!(status.cluster_key.as_deref(), Some(key.as_str()));
    assert_eq!(status.kubeconfig_secret.as_deref(), Some("blue-kubeconfig"));
    let endpoint = status.in_cluster_endpoint.clone().unwrap();
    assert_eq!(endpoint.host, "127.0.0.1");
    assert_eq!(status.observed_generation, blue.metadata.generation);
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("True", "Running"));
    assert!(ready.last_transition_time.is_some());
    assert!(blue.finalizers().contains(&"tenancy.nestor.dev/manager".to_string()));

    // Both Secrets belong to the VirtualCluster, so garbage collection takes them with it.
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), TENANTS_NAMESPACE);
    for name in ["blue-pki", "blue-kubeconfig"] {
        let secret = secrets.get(name).await.unwrap();
        assert_eq!(secret.owner_references()[0].uid, blue.uid().unwrap(), "{name}");
    }
    let pki = secrets.get("blue-pki").await.unwrap().data.unwrap();
    for key in ["ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key", "sa.pub", "sa.key"] {
        assert!(pki.contains_key(key), "the PKI Secret holds {key}");
    }

    // Real kubectl with the kubeconfig the manager wrote, as the tenant's admin.
    let kubectl = Kubectl::new(&env.kubeconfig_file("blue").await);
    kubectl.ok(&["create", "namespace", "team-a"]);
    let namespaces = kubectl.ok(&["get", "ns"]);
    assert!(namespaces.contains("team-a") && namespaces.contains("kube-system"), "{namespaces}");
    assert!(kubectl.ok(&["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]).contains("nestor-admin"));
    // nestor-controllers runs for the tenant: every namespace gets its `default` ServiceAccount.
    wait("the tenant's controllers to make the default ServiceAccount", || async {
        kubectl.run(&["get", "serviceaccount", "default", "-n", "team-a"], None).success.then_some(())
    })
    .await
    .unwrap();
    let events = env.events("blue").await;
    assert!(events.iter().any(|(t, r, _)| t == "Normal" && r == "Provisioned"), "{events:?}");

    // A second tenant: other ports, its own data.
    env.create("green", spec(None, &[])).await;
    let green = env.wait_phase("green", Phase::Running).await;
    let green_key = key_of(&green);
    assert_ne!(green_key, key);
    let green_endpoint = green.status.clone().unwrap().in_cluster_endpoint.unwrap();
    assert_ne!(green_endpoint.port, endpoint.port);
    let green_kubectl = Kubectl::new(&env.kubeconfig_file("green").await);
    assert!(!green_kubectl.ok(&["get", "ns"]).contains("team-a"), "green does not see blue's namespace");
    let blue_pids = env.pids(&key);
    assert!(env.pids(&green_key).iter().all(|p| !blue_pids.contains(p)));

    // A kubeconfig Secret deleted by hand is written again (the manager watches its Secrets).
    let old = secrets.get("blue-kubeconfig").await.unwrap();
    secrets.delete("blue-kubeconfig", &DeleteParams::default()).await.unwrap();
    let again = wait("the kubeconfig Secret to be written again", || async {
        secrets.get_opt("blue-kubeconfig").await.ok().flatten().filter(|s| s.uid() != old.uid())
    })
    .await
    .unwrap();
    assert_eq!(again.data, old.data, "the same kubeconfig");

    let metrics = env.metrics().await;
    assert_eq!(metric_sum(&metrics, "nestor_manager_tenants", &["phase=\"Running\""]), 2.0, "{metrics}");
    assert!(metric_sum(&metrics, "nestor_manager_provisioning_duration_seconds_count", &[]) >= 2.0, "{metrics}");

    // Deleting blue stops its processes and removes its folder; green keeps working.
    delete_and_wait_gone(&env, "blue", &key, &blue_pids).await;
    assert!(green_kubectl.ok(&["get", "ns"]).contains("default"));
    let green_pids = env.pids(&green_key);
    delete_and_wait_gone(&env, "green", &green_key, &green_pids).await;
    assert!(processes_in(&env.state_dir().join("tenants")).is_empty(), "no tenant process left");
}

#[tokio::test]
async fn killed_processes_come_back_and_a_restarted_manager_adopts_the_rest() {
    let mut env = Env::start().await;
    env.create("blue", spec(None, &[])).await;
    let blue = env.wait_phase("blue", Phase::Running).await;
    let key = key_of(&blue);
    let port = blue.status.clone().unwrap().in_cluster_endpoint.unwrap().port;
    let client = env.tenant_client("blue").await;
    create_namespace(&client, "keep-me").await;
    let namespaces: Api<Namespace> = Api::all(client.clone());

    // SIGKILL the API server: the supervisor starts it again over the same etcd, same port.
    let apiserver = env.pid(&key, "apiserver");
    kill(Pid::from_raw(apiserver), Signal::SIGKILL).unwrap();
    wait("the API server to be restarted", || async {
        let pid = env.pid(&key, "apiserver");
        (pid != apiserver && alive(pid)).then_some(())
    })
    .await
    .unwrap();
    wait("the restarted API server to serve the old data", || async {
        namespaces.get_opt("keep-me").await.ok().flatten()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; manager log:\n{}", env.manager_log_tail()));

    // SIGKILL etcd: it comes back over its data directory.
    let etcd = env.pid(&key, "etcd");
    kill(Pid::from_raw(etcd), Signal::SIGKILL).unwrap();
    wait("etcd to be restarted", || async {
        let pid = env.pid(&key, "etcd");
        (pid != etcd && alive(pid)).then_some(())
    })
    .await
    .unwrap();
    wait("the namespace to be served again", || async { namespaces.get_opt("keep-me").await.ok().flatten() })
        .await
        .unwrap();
    let metrics = env.metrics().await;
    assert!(metric_sum(&metrics, "nestor_manager_process_restarts_total", &["component=\"apiserver\""]) >= 1.0);

    // Stop the manager: the tenant keeps running on its own.
    let pids = env.pids(&key);
    env.stop_manager();
    assert!(pids.iter().all(|p| alive(*p)), "tenant processes outlive the manager");
    assert!(namespaces.get_opt("keep-me").await.unwrap().is_some());

    // A new manager adopts them: same pids, same port, still Running.
    env.start_manager();
    wait("the new manager to lead and look at the tenant", || async {
        let log = std::fs::read_to_string(env.manager_log(2)).ok()?;
        log.contains("leading").then_some(())
    })
    .await
    .unwrap();
    let vcs = env.vcs();
    wait("the new manager to reconcile the tenant", || async {
        let log = std::fs::read_to_string(env.manager_log(2)).ok()?;
        log.contains("ensured").then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; manager log:\n{}", env.manager_log_tail()));
    assert_eq!(env.pids(&key), pids, "adopted, not restarted");
    assert!(pids.iter().all(|p| alive(*p)));
    let vc = vcs.get("blue").await.unwrap();
    let status = vc.status.unwrap();
    assert_eq!(status.phase, Some(Phase::Running));
    assert_eq!(status.in_cluster_endpoint.unwrap().port, port);

    // The new manager supervises too.
    let controllers = env.pid(&key, "controllers");
    kill(Pid::from_raw(controllers), Signal::SIGKILL).unwrap();
    wait("the controllers to be restarted", || async {
        let pid = env.pid(&key, "controllers");
        (pid != controllers && alive(pid)).then_some(())
    })
    .await
    .unwrap();

    delete_and_wait_gone(&env, "blue", &key, &env.pids(&key)).await;
}

#[tokio::test]
async fn a_taken_port_fails_provisioning_once_then_new_ports_are_picked() {
    let mut env = Env::new().await;
    let blue = env.create("blue", spec(None, &[])).await;
    let key = key_of(&blue);
    // Another process holds the port chosen for the API server before it could bind it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = env.tenant_dir(&key);
    std::fs::create_dir_all(&dir).unwrap();
    let state = json!({
        "etcdClientPort": nestor_testkit::free_port().unwrap(),
        "etcdPeerPort": nestor_testkit::free_port().unwrap(),
        "apiserverPort": port,
        "served": false,
    });
    std::fs::write(dir.join("tenant.json"), state.to_string()).unwrap();
    env.start_manager();

    let failed = env.wait_phase("blue", Phase::Failed).await;
    let ready = failed.status.unwrap().conditions.into_iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("False", "ProvisioningFailed"));
    assert!(ready.message.contains("apiserver did not start"), "{}", ready.message);
    let events = wait("a ProvisioningFailed event", || async {
        let events = env.events("blue").await;
        events.iter().any(|(t, r, _)| t == "Warning" && r == "ProvisioningFailed").then_some(events)
    })
    .await
    .unwrap();
    assert!(events.iter().any(|(_, _, m)| m.contains("apiserver did not start")), "{events:?}");

    // The retry (after a back-off) picks new ports, since these never served.
    let running = env.wait_phase("blue", Phase::Running).await;
    assert_ne!(running.status.unwrap().in_cluster_endpoint.unwrap().port, i32::from(port));
    let client = env.tenant_client("blue").await;
    create_namespace(&client, "works").await;
    drop(taken);
    delete_and_wait_gone(&env, "blue", &key, &env.pids(&key)).await;
}
