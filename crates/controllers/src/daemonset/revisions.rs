//! A DaemonSet's ControllerRevisions, as kube's `constructHistory`, `dedupCurHistories` and
//! `cleanupHistory` keep them: one revision per distinct template, named `<ds>-<hash>`, holding
//! the patch that restores the template (what `kubectl rollout undo` applies), labelled with
//! the template's labels and `controller-revision-hash`, carrying the DaemonSet's annotations.
//! The current template's revision gets the highest number, so a rollback renumbers the old
//! revision it brings back. Old revisions beyond `revisionHistoryLimit` are deleted, oldest
//! first, unless a pod still runs from them.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tracing::info;

use super::pods::{ABOUT, HASH_LABEL};
use super::{Error, State};
use crate::claim::{self, owner_ref};
use crate::history;
use crate::pods::controller_of;
use crate::selector;

/// The current revision and the others.
#[derive(Debug)]
pub struct History {
    /// The hash of the current revision: the `controller-revision-hash` of new pods.
    pub hash: String,
    /// Every other revision the DaemonSet controls.
    pub old: Vec<Arc<ControllerRevision>>,
}

fn hash_of(revision: &ControllerRevision) -> Option<&str> {
    revision.metadata.labels.as_ref()?.get(HASH_LABEL).map(String::as_str)
}

/// The revisions `ds` controls, adopting matching orphans and releasing those that stop
/// matching its selector.
async fn claim_revisions(st: &State, ds: &DaemonSet, api: &Api<ControllerRevision>) -> Vec<Arc<ControllerRevision>> {
    let uid = ds.metadata.uid.as_deref();
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let selector = ds.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
    let candidates: Vec<Arc<ControllerRevision>> = st
        .revisions
        .in_namespace(ns)
        .into_iter()
        .filter(|r| controller_of(&r.metadata).is_none_or(|c| Some(c.uid.as_str()) == uid))
        .collect();
    let owner = owner_ref(ABOUT.api_version, ABOUT.kind, &ds.metadata);
    claim::claim(api, &owner, false, candidates, |r| selector::matches(&selector, r.metadata.labels.as_ref())).await
}

/// Finds (or creates) the revision of the current template, numbered above all others.
/// `pods` are the DaemonSet's pods, relabelled when duplicate revisions are merged.
pub async fn construct(st: &State, ds: &DaemonSet, pods: &[Arc<Pod>]) -> Result<History, Error> {
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(st.client.clone(), ns);
    let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let data = history::template_patch(&template);
    let mut current: Vec<Arc<ControllerRevision>> = Vec::new();
    let mut old: Vec<Arc<ControllerRevision>> = Vec::new();
    for mut revision in claim_revisions(st, ds, &api).await {
        if hash_of(&revision).is_none() {
            // Revisions from before the label existed: their name stands in for the hash.
            let name = revision.metadata.name.clone().unwrap_or_default();
            let patch = json!({ "metadata": { "labels": { HASH_LABEL: name } } });
            let patched = api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await;
            revision = Arc::new(patched.map_err(Error::Revisions)?);
        }
        if history::holds(&revision, &data) {
            current.push(revision);
        } else {
            old.push(revision);
        }
    }
    let next = history::next_number(&old);
    let current = match dedup(st, ds, &api, current, pods).await? {
        None => snapshot(st, ds, &api, data, next).await?,
        Some(cur) if cur.revision < next => {
            Arc::new(history::renumber(&api, &cur, next).await.map_err(Error::Revisions)?)
        }
        Some(cur) => cur,
    };
    let hash = hash_of(&current).unwrap_or_default().to_string();
    Ok(History { hash, old })
}

/// Keeps the highest-numbered of several revisions of the current template: pods are
/// relabelled to its hash, the others deleted.
async fn dedup(
    st: &State,
    ds: &DaemonSet,
    api: &Api<ControllerRevision>,
    current: Vec<Arc<ControllerRevision>>,
    pods: &[Arc<Pod>],
) -> Result<Option<Arc<ControllerRevision>>, Error> {
    let Some(keep) = current.iter().max_by_key(|r| r.revision).cloned() else { return Ok(None) };
    if current.len() == 1 {
        return Ok(Some(keep));
    }
    let keep_hash = hash_of(&keep).unwrap_or_default().to_string();
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let pod_api: Api<Pod> = Api::namespaced(st.client.clone(), ns);
    for pod in pods {
        let labels = pod.metadata.labels.as_ref();
        if labels.and_then(|l| l.get(HASH_LABEL)) != Some(&keep_hash) {
            let name = pod.metadata.name.as_deref().unwrap_or_default();
            let patch = json!({ "metadata": { "labels": { HASH_LABEL: keep_hash } } });
            pod_api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.map_err(Error::Revisions)?;
        }
    }
    for duplicate in current.iter().filter(|r| r.metadata.name != keep.metadata.name) {
        let name = duplicate.metadata.name.as_deref().unwrap_or_default();
        delete_revision(api, name).await.map_err(Error::Revisions)?;
    }
    Ok(Some(keep))
}

async fn delete_revision(api: &Api<ControllerRevision>, name: &str) -> kube::Result<()> {
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The revision for the current template. A revision of that name holding another template
/// is a hash collision: kube raises `status.collisionCount` and tries again on the next sync.
async fn snapshot(
    st: &State,
    ds: &DaemonSet,
    api: &Api<ControllerRevision>,
    data: serde_json::Value,
    number: i64,
) -> Result<Arc<ControllerRevision>, Error> {
    let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let collision_count = ds.status.as_ref().and_then(|s| s.collision_count);
    let hash = crate::deployment::hash::compute(&template, collision_count);
    let ds_name = ds.metadata.name.clone().unwrap_or_default();
    let name = format!("{ds_name}-{hash}");
    let mut labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    labels.insert(HASH_LABEL.to_string(), hash);
    let revision = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: ds.metadata.annotations.clone(),
            owner_references: Some(vec![owner_ref(ABOUT.api_version, ABOUT.kind, &ds.metadata)]),
            ..ObjectMeta::default()
        },
        data: Some(RawExtension(data.clone())),
        revision: number,
    };
    match api.create(&PostParams::default(), &revision).await {
        Ok(created) => Ok(Arc::new(created)),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let existing = api.get(&name).await.map_err(Error::Revisions)?;
            if history::holds(&existing, &data) {
                return Ok(Arc::new(existing));
            }
            let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
            let daemonsets: Api<DaemonSet> = Api::namespaced(st.client.clone(), ns);
            let fresh = daemonsets.get_status(&ds_name).await.map_err(Error::Revisions)?;
            let fresh_count = fresh.status.as_ref().and_then(|s| s.collision_count);
            if fresh_count != collision_count {
                // The cache is behind: the next sync reads the raised count.
                return Err(Error::StaleCollisionCount);
            }
            let raised = collision_count.unwrap_or(0).saturating_add(1);
            let patch = json!({
                "metadata": { "resourceVersion": fresh.metadata.resource_version },
                "status": { "collisionCount": raised },
            });
            daemonsets
                .patch_status(&ds_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(Error::Revisions)?;
            info!(daemonset = %ds_name, collision_count = raised, "hash collision; raised collisionCount");
            Err(Error::HashCollision(raised))
        }
        Err(e) => Err(Error::Revisions(e)),
    }
}

/// Deletes the oldest of `old` beyond `revisionHistoryLimit` (10 by default) whose hash no pod
/// of `pods` carries.
pub async fn cleanup(
    st: &State,
    ds: &DaemonSet,
    old: &[Arc<ControllerRevision>],
    pods: &[Arc<Pod>],
) -> Result<(), Error> {
    let limit = ds.spec.as_ref().and_then(|s| s.revision_history_limit).unwrap_or(10);
    let limit = usize::try_from(limit).unwrap_or(0);
    let Some(mut to_delete) = old.len().checked_sub(limit).filter(|n| *n > 0) else { return Ok(()) };
    let live: HashSet<&str> =
        pods.iter().filter_map(|p| p.metadata.labels.as_ref()?.get(HASH_LABEL).map(String::as_str)).collect();
    let mut by_age: Vec<&Arc<ControllerRevision>> = old.iter().collect();
    by_age.sort_by_key(|r| r.revision);
    let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(st.client.clone(), ns);
    for revision in by_age {
        if to_delete == 0 {
            break;
        }
        if hash_of(revision).is_some_and(|h| live.contains(h)) {
            continue;
        }
        let name = revision.metadata.name.as_deref().unwrap_or_default();
        delete_revision(&api, name).await.map_err(Error::Cleanup)?;
        to_delete -= 1;
    }
    Ok(())
}
