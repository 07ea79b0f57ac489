//! Patrol: a full comparison of each tenant's objects with their super copies, run once a
//! tenant's watchers have listed and then periodically. It queues whatever differs (a super
//! object deleted or edited by hand, a missed watch event) and counts the repairs.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use anyhow::Result;
use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::ObjectList;
use kube::ResourceExt;
use nestor_api::{keys, naming, Marks, VirtualCluster};
use serde_json::Value;
use tracing::{debug, info, warn, Instrument};

use crate::convert::{self, Kind};
use crate::lean::{into_value, Lean};
use crate::reconcile::{desired, wanted, Target};
use crate::resources::Synced;
use crate::tenant::Tenant;
use crate::{registry, Item, Shared};

const PAGE: u32 = 500;

/// Tenants patrolled at once. Each holds its objects and their super copies while it is
/// compared: all at once, 100 tenants of 100 pods took 40 MB more for a moment every round.
const TENANTS_AT_ONCE: usize = 4;

pub async fn every_interval(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(shared.config.patrol_interval);
    tick.tick().await; // the first patrol of each kind runs when its watcher has listed
    loop {
        tick.tick().await;
        futures::stream::iter(shared.tenants())
            .for_each_concurrent(TENANTS_AT_ONCE, |tenant| {
                let shared = Arc::clone(&shared);
                async move {
                    for synced in &tenant.synced {
                        tenant_kind(&shared, &tenant, synced, None).await;
                    }
                    crate::nodes::compare(&shared, &tenant).await;
                    crate::events::compare(&shared, &tenant).await;
                }
            })
            .await;
        if let Err(e) = remove_orphans(&shared).await {
            warn!(error = %format!("{e:#}"), "looking for super objects of deleted tenants failed");
        }
    }
}

/// Compares one kind of one tenant with the super cluster and queues what differs; the tenant's
/// objects are listed unless `listed` brings them (a watch's first list).
pub async fn tenant_kind(shared: &Shared, tenant: &Tenant, synced: &Synced, listed: Option<Vec<DynamicObject>>) {
    let span = tenant.span.clone();
    async {
        match compare(shared, tenant, synced, listed).await {
            Ok(repairs) if repairs > 0 => info!(resource = %synced.label(), repairs, "patrol found drift"),
            Ok(_) => {}
            Err(e) => {
                debug!(resource = %synced.label(), error = %format!("{e:#}"), "patrol failed; next round retries")
            }
        }
    }
    .instrument(span)
    .await
}

async fn list_all(api: &Api<Lean>, params: ListParams) -> Result<Vec<DynamicObject>> {
    let mut items = vec![];
    let mut params = params.limit(PAGE);
    loop {
        let page: ObjectList<Lean> = api.list(&params).await?;
        items.extend(page.items.into_iter().map(|o| o.0));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

async fn compare(
    shared: &Shared,
    tenant: &Tenant,
    synced: &Synced,
    listed: Option<Vec<DynamicObject>>,
) -> Result<usize> {
    let label = synced.label();
    let tenant_objects = match listed {
        Some(objects) => objects,
        None => list_all(&Api::all_with(tenant.client.clone(), &synced.resource), ListParams::default()).await?,
    };
    let selector = format!("{}={}", keys::CLUSTER, tenant.key);
    let mut super_objects: HashMap<(String, String), DynamicObject> = HashMap::new();
    for obj in list_super(shared, tenant, synced, &tenant_objects, &selector).await? {
        let Some(marks) = Marks::read(&obj.metadata).filter(|m| tenant.owns(m)) else { continue };
        // Marks that name a tenant namespace other than the one the object is in are forged.
        let in_place = !synced.namespaced
            || obj.metadata.namespace.as_deref() == Some(&naming::super_namespace(&tenant.key, &marks.namespace));
        if in_place {
            super_objects.insert((marks.namespace, marks.name), obj);
        }
    }
    shared.metrics.objects(&tenant.key, label, tenant_objects.len());
    let mut repairs = 0;
    let mut queue = |namespace: String, name: String, reason: Option<&str>| {
        if let Some(reason) = reason {
            shared.metrics.repair(&tenant.key, label, reason);
            repairs += 1;
            debug!(resource = %label, %namespace, %name, reason, "patrol repairs");
        }
        shared.queue.add(&tenant.key, Item::Object { resource: label.to_string(), namespace, name });
    };
    for object in tenant_objects {
        let (namespace, name) = (object.namespace().unwrap_or_default(), object.name_any());
        let Some(target) = Target::of(tenant, synced, &namespace, &name) else { continue };
        if !wanted(tenant, synced, &object).await? {
            continue;
        }
        let (deleting, uid) = (object.metadata.deletion_timestamp.is_some(), object.uid().unwrap_or_default());
        let value = into_value(object);
        let Some(copy) = super_objects.remove(&(namespace.clone(), name.clone())) else {
            let finished =
                synced.kind == Kind::Pod && matches!(value["status"]["phase"].as_str(), Some("Succeeded" | "Failed"));
            if !finished {
                queue(namespace, name, Some("missing"));
            }
            continue;
        };
        let copy_marks = Marks::read(&copy.metadata).unwrap_or_default();
        let actual = into_value(copy);
        if deleting {
            queue(namespace, name, None);
        } else if copy_marks.uid != uid {
            queue(namespace, name, Some("stale"));
        } else if convert::changes(synced.kind, &actual, &desired(tenant, synced, &target, &value)).is_some() {
            queue(namespace, name, Some("drift"));
        } else if synced.status_up && status_behind(synced, &actual, &value) {
            queue(namespace, name, None);
        }
    }
    for (namespace, name) in super_objects.into_keys() {
        queue(namespace, name, Some("orphan"));
    }
    Ok(repairs)
}

/// The tenant's super copies of a kind. Namespaced kinds are listed namespace by namespace (the
/// tenant's super namespaces where the super watch saw objects of the kind): a list selected by
/// label alone would read every tenant's objects of the kind, once per tenant.
async fn list_super(
    shared: &Shared,
    tenant: &Tenant,
    synced: &Synced,
    tenant_objects: &[DynamicObject],
    selector: &str,
) -> Result<Vec<DynamicObject>> {
    if synced.kind == Kind::Pod {
        if let Some(pods) = shared.listed_pods.take(&tenant.key) {
            return Ok(pods);
        }
    }
    let params = ListParams::default().labels(selector);
    if !synced.namespaced {
        return list_all(&Api::all_with(shared.super_client.clone(), &synced.resource), params).await;
    }
    let mut namespaces: BTreeSet<String> = shared.namespaces.of_tenant(&tenant.key).into_iter().collect();
    namespaces.extend(
        tenant_objects.iter().map(|o| naming::super_namespace(&tenant.key, &o.namespace().unwrap_or_default())),
    );
    let mut objects = vec![];
    for namespace in namespaces.into_iter().filter(|ns| shared.occupancy.may_hold(synced.label(), ns)) {
        let api = Api::namespaced_with(shared.super_client.clone(), &namespace, &synced.resource);
        objects.extend(list_all(&api, params.clone()).await?);
    }
    Ok(objects)
}

fn status_behind(synced: &Synced, super_value: &Value, tenant_value: &Value) -> bool {
    let unbound = synced.kind == Kind::Pod
        && super_value["spec"]["nodeName"].is_string()
        && !tenant_value["spec"]["nodeName"].is_string();
    unbound || convert::status_up(synced.kind, super_value, tenant_value).is_some()
}

/// Deletes the super namespaces of VirtualClusters that no longer exist (deleted while no
/// syncer was running).
async fn remove_orphans(shared: &Shared) -> Result<()> {
    let live: HashSet<String> = Api::<VirtualCluster>::all(shared.super_client.clone())
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter_map(|vc| vc.uid())
        .collect();
    let namespaces = Api::<k8s_openapi::api::core::v1::Namespace>::all(shared.super_client.clone())
        .list(&ListParams::default().labels(keys::CLUSTER))
        .await?;
    let mut orphaned: HashSet<String> = HashSet::new();
    for ns in namespaces.items {
        if let Some(marks) = Marks::read(&ns.metadata) {
            if !live.contains(&marks.vc_uid) {
                orphaned.insert(marks.cluster_key);
            }
        }
    }
    for key in orphaned {
        info!(tenant = %key, "removing super objects of a deleted VirtualCluster");
        shared.metrics.repair(&key, "namespaces", "orphan");
        registry::delete_super_objects(shared, &key).await?;
    }
    Ok(())
}
