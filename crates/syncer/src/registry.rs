//! The tenant registry: watches VirtualCluster objects in the super cluster and starts, restarts
//! or stops a tenant's sync as they come, change and go, without restarting the syncer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::ResourceExt;
use nestor_api::{keys, naming, Phase, VirtualCluster};
use tracing::{debug, info, warn};

use crate::resources::Synced;
use crate::tenant::{Tenant, VcRef};
use crate::Shared;

/// How often VirtualClusters that could not be started are tried again.
const RETRY: Duration = Duration::from_secs(5);
/// Tenants made ready at once after a list of VirtualClusters (each reads a Secret and builds
/// a client; on a syncer's start, while the super cluster is listed).
const CONCURRENT_STARTS: usize = 128;

pub async fn run(shared: Arc<Shared>) {
    let api: Api<VirtualCluster> = Api::all(shared.super_client.clone());
    let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
    // The VirtualClusters that should run but failed to start, by UID, retried on a timer.
    let mut failed: HashMap<String, VirtualCluster> = HashMap::new();
    // The VirtualClusters of a (re)list, started together once it is complete.
    let mut listed: Vec<VirtualCluster> = Vec::new();
    let mut retry = tokio::time::interval(RETRY);
    loop {
        tokio::select! {
            event = stream.next() => match event {
                Some(Ok(Event::Init)) => listed.clear(),
                Some(Ok(Event::InitApply(vc))) => listed.push(vc),
                Some(Ok(Event::InitDone)) => {
                    // A restart starts every tenant at once rather than one after another:
                    // each start reads a Secret and builds a client.
                    let started = futures::stream::iter(std::mem::take(&mut listed))
                        .map(|vc| {
                            let shared = Arc::clone(&shared);
                            async move {
                                let result = apply(&shared, &vc).await;
                                (vc, result)
                            }
                        })
                        .buffer_unordered(CONCURRENT_STARTS)
                        .collect::<Vec<_>>()
                        .await;
                    for (vc, result) in started {
                        note_start(&mut failed, vc, result);
                    }
                }
                Some(Ok(Event::Apply(vc))) => {
                    let result = apply(&shared, &vc).await;
                    note_start(&mut failed, vc, result);
                }
                Some(Ok(Event::Delete(vc))) => {
                    failed.remove(&vc.uid().unwrap_or_default());
                    remove(&shared, &vc).await;
                }
                Some(Err(e)) => debug!(error = %e, "VirtualCluster watch failed; retrying"),
                None => return,
            },
            _ = retry.tick() => {
                for (uid, vc) in failed.clone() {
                    if apply(&shared, &vc).await.is_ok() {
                        failed.remove(&uid);
                    }
                }
            }
        }
    }
}

/// Remembers a VirtualCluster that could not be started, to try again; forgets one that was.
fn note_start(failed: &mut HashMap<String, VirtualCluster>, vc: VirtualCluster, result: Result<()>) {
    let uid = vc.uid().unwrap_or_default();
    match result {
        Ok(()) => {
            failed.remove(&uid);
        }
        Err(e) => {
            warn!(vc = %vc.name_any(), namespace = %vc.namespace().unwrap_or_default(), error = %format!("{e:#}"), "cannot sync tenant yet");
            failed.insert(uid, vc);
        }
    }
}

/// The cluster key of a VirtualCluster, from the naming module.
pub fn key_of(vc: &VirtualCluster) -> String {
    naming::cluster_key(&vc.namespace().unwrap_or_default(), &vc.name_any(), &vc.uid().unwrap_or_default())
}

async fn apply(shared: &Arc<Shared>, vc: &VirtualCluster) -> Result<()> {
    let key = key_of(vc);
    if vc.metadata.deletion_timestamp.is_some() {
        remove(shared, vc).await;
        return Ok(());
    }
    let status = vc.status.clone().unwrap_or_default();
    let secret_name = match (status.phase, status.kubeconfig_secret.as_deref()) {
        (Some(Phase::Running), Some(secret)) => secret.to_string(),
        _ => {
            if let Some(old) = shared.set_tenant(&key, None) {
                info!(tenant = %key, "tenant is no longer Running; pausing its sync");
                old.stop();
            }
            return Ok(());
        }
    };
    let namespace = vc.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(shared.super_client.clone(), &namespace);
    let secret =
        secrets.get(&secret_name).await.with_context(|| format!("reading Secret {namespace}/{secret_name}"))?;
    let Some(kubeconfig) = secret.data.as_ref().and_then(|d| d.get("kubeconfig")) else {
        bail!("Secret {namespace}/{secret_name} has no key `kubeconfig`");
    };
    let client = client_from(&kubeconfig.0).await?;
    let (custom, complete) = crate::super_watch::custom_resources(shared, &client, vc).await;
    let fingerprint = format!(
        "{}|{}|{}",
        secret.resource_version().unwrap_or_default(),
        custom.iter().map(|s| format!("{}/{}", s.label(), s.resource.version)).collect::<Vec<_>>().join(","),
        serde_json::to_string(&status.in_cluster_endpoint).unwrap_or_default()
    );
    if shared.tenant(&key).is_some_and(|t| t.fingerprint == fingerprint) {
        return incomplete(complete);
    }
    let vc_ref = VcRef { namespace, name: vc.name_any(), uid: vc.uid().unwrap_or_default() };
    let mut synced = Synced::builtins();
    synced.extend(custom);
    let tenant =
        Arc::new(Tenant::new(key.clone(), vc_ref, client, status.in_cluster_endpoint.clone(), synced, fingerprint));
    // A tenant's first comparison needs the super cluster's objects, and its lists would slow
    // the super cluster's first lists down.
    let _ = shared.super_listed.subscribe().wait_for(|listed| *listed).await;
    if let Some(old) = shared.set_tenant(&key, Some(Arc::clone(&tenant))) {
        old.stop();
    }
    info!(tenant = %key, vc = %vc.name_any(), "syncing tenant");
    tenant.start(shared);
    incomplete(complete)
}

/// A tenant whose listed custom resources cannot all be synced yet runs with the others, and
/// its VirtualCluster is tried again (the tenant may install the CRD later).
fn incomplete(complete: bool) -> Result<()> {
    if complete {
        Ok(())
    } else {
        bail!("some custom resources listed for sync cannot be synced yet (see the VirtualCluster's conditions)")
    }
}

async fn client_from(kubeconfig: &[u8]) -> Result<kube::Client> {
    let text = std::str::from_utf8(kubeconfig).context("kubeconfig is not UTF-8")?;
    let kubeconfig = Kubeconfig::from_yaml(text).context("parsing kubeconfig")?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    nestor_api::runtime::client::from_config(config)
}

/// Stops a tenant and removes every super object of it: deleting its super namespaces deletes
/// what they hold.
async fn remove(shared: &Arc<Shared>, vc: &VirtualCluster) {
    let key = key_of(vc);
    if let Some(old) = shared.set_tenant(&key, None) {
        old.stop();
    }
    shared.queue.remove_tenant(&key);
    shared.nodes.forget_tenant(&key);
    if let Err(e) = delete_super_objects(shared, &key).await {
        warn!(tenant = %key, error = %format!("{e:#}"), "cleaning up super objects failed; patrol retries");
    } else {
        info!(tenant = %key, "tenant removed with its super objects");
    }
}

pub async fn delete_super_objects(shared: &Shared, key: &str) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(shared.super_client.clone());
    let selector = format!("{}={key}", keys::CLUSTER);
    for ns in namespaces.list(&ListParams::default().labels(&selector)).await?.items {
        if ns.metadata.deletion_timestamp.is_none() {
            match namespaces.delete(&ns.name_any(), &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if crate::reconcile::not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    crate::super_watch::delete_custom_cluster_scoped(shared, &selector).await
}
