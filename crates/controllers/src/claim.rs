//! Adoption and release, as kube's `ControllerRefManager`: an orphan that matches a
//! controller's selector is adopted (it gets the controller reference), and an object the
//! controller owns that stops matching is released. So `kubectl delete rs --cascade=orphan`
//! followed by a new ReplicaSet over the same labels reuses the pods instead of doubling them.

use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, Patch, PatchParams};
use kube::Resource;
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::debug;

use crate::pods::controller_of;

/// The objects among `candidates` that `owner` controls after adopting matching orphans and
/// releasing its objects that no longer `matches`. A deleting owner adopts nothing. Writes
/// carry the cached resourceVersion; one that loses a race is left for the next sync.
pub async fn claim<K>(
    api: &Api<K>,
    owner: &OwnerReference,
    owner_deleting: bool,
    candidates: Vec<Arc<K>>,
    matches: impl Fn(&K) -> bool,
) -> Vec<Arc<K>>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut kept = Vec::new();
    for obj in candidates {
        let meta = obj.meta();
        let name = meta.name.clone().unwrap_or_default();
        let refs = meta.owner_references.clone().unwrap_or_default();
        match controller_of(meta) {
            Some(c) if c.uid == owner.uid => {
                if matches(&obj) {
                    kept.push(obj);
                    continue;
                }
                let rest: Vec<&OwnerReference> = refs.iter().filter(|r| r.uid != owner.uid).collect();
                let patch =
                    json!({ "metadata": { "resourceVersion": meta.resource_version, "ownerReferences": rest } });
                if let Err(e) = api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    debug!(%name, error = %e, "release failed; retried on the next sync");
                }
            }
            Some(_) => {}
            None => {
                if owner_deleting || meta.deletion_timestamp.is_some() || !matches(&obj) {
                    continue;
                }
                let mut all = refs.clone();
                all.push(owner.clone());
                let patch = json!({ "metadata": { "resourceVersion": meta.resource_version, "ownerReferences": all } });
                match api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(adopted) => kept.push(Arc::new(adopted)),
                    Err(e) => debug!(%name, error = %e, "adoption failed; retried on the next sync"),
                }
            }
        }
    }
    kept
}

/// The controller reference an owner puts on what it controls.
pub fn owner_ref(
    api_version: &str,
    kind: &str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}
