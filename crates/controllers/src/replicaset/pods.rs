//! Creating and deleting a ReplicaSet's pods. Creations go in slow-start batches (1, 2, 4, ...)
//! as kube's `slowStartBatch` does, so a quota or admission error costs one request, not
//! hundreds.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, PostParams};

use super::Flavor;
use crate::events;

/// The most pods created or deleted in one sync (kube's `burstReplicas`).
pub const BURST: usize = 500;

/// Who writes the events, and about what.
pub const ABOUT: events::About<'static> =
    events::About { component: "replicaset-controller", kind: "ReplicaSet", api_version: "apps/v1" };

/// A pod for `rs` from its template, named `<rs>-<random>` by the API server.
pub fn from_template(flavor: Flavor, rs: &ReplicaSet) -> Pod {
    let template = rs.spec.as_ref().and_then(|s| s.template.clone()).unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let name = rs.metadata.name.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: rs.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: meta.annotations.filter(|a: &BTreeMap<String, String>| !a.is_empty()),
            finalizers: meta.finalizers,
            owner_references: Some(vec![OwnerReference {
                api_version: flavor.about.api_version.into(),
                kind: flavor.about.kind.into(),
                name,
                uid: rs.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// Creates `count` pods; answers the names created and the first error.
pub async fn create(
    client: &kube::Client,
    flavor: Flavor,
    rs: &ReplicaSet,
    count: usize,
) -> (Vec<String>, Option<kube::Error>) {
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pod = from_template(flavor, rs);
    let params = PostParams::default();
    let mut created = Vec::new();
    let mut remaining = count;
    let mut batch = 1;
    while remaining > 0 {
        let size = batch.min(remaining);
        let results = join_all((0..size).map(|_| api.create(&params, &pod))).await;
        let mut error = None;
        for result in results {
            match result {
                Ok(p) => {
                    let name = p.metadata.name.unwrap_or_default();
                    events::record(
                        client,
                        flavor.about,
                        rs,
                        events::Type::Normal,
                        "SuccessfulCreate",
                        &format!("Created pod: {name}"),
                    );
                    created.push(name);
                }
                Err(e) => {
                    events::record(
                        client,
                        flavor.about,
                        rs,
                        events::Type::Warning,
                        "FailedCreate",
                        &format!("Error creating: {e}"),
                    );
                    error.get_or_insert(e);
                }
            }
        }
        if error.is_some() {
            return (created, error);
        }
        remaining -= size;
        batch *= 2;
    }
    (created, None)
}

/// Deletes `victims`; answers (name, uid) of the deletions asked and the first error.
pub async fn delete(
    client: &kube::Client,
    flavor: Flavor,
    rs: &ReplicaSet,
    victims: &[Arc<Pod>],
) -> (Vec<(String, String)>, Option<kube::Error>) {
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let results = join_all(victims.iter().map(|p| {
        let name = p.metadata.name.clone().unwrap_or_default();
        let uid = p.metadata.uid.clone().unwrap_or_default();
        let api = api.clone();
        async move { (name.clone(), uid, api.delete(&name, &DeleteParams::default()).await) }
    }))
    .await;
    let mut deleted = Vec::new();
    let mut error = None;
    for (name, uid, result) in results {
        match result {
            Ok(_) => {
                events::record(
                    client,
                    flavor.about,
                    rs,
                    events::Type::Normal,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {name}"),
                );
                deleted.push((name, uid));
            }
            // Already gone: what we wanted; the cache may still show it, so it is expected too.
            Err(kube::Error::Api(e)) if e.code == 404 => deleted.push((name, uid)),
            Err(e) => {
                events::record(
                    client,
                    flavor.about,
                    rs,
                    events::Type::Warning,
                    "FailedDelete",
                    &format!("Error deleting: {e}"),
                );
                error.get_or_insert(e);
            }
        }
    }
    (deleted, error)
}
