//! A Deployment's ReplicaSets: finding the one of the current template (and creating it),
//! keeping its annotations and the Deployment's revision in step, and scaling one.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use super::status::{self, spec_replicas};
use super::{annotations, fenceposts, hash, write_status, Error, State, ABOUT};
use crate::events::{self, Type};
use crate::pods;

/// The new ReplicaSet (of the current template), if it exists, and all the others.
#[derive(Debug, Default)]
pub struct Sets {
    pub new: Option<ReplicaSet>,
    pub old: Vec<ReplicaSet>,
}

impl Sets {
    /// The old ReplicaSets and the new one, in that order (kube's `allRSs`).
    pub fn all(&self) -> Vec<&ReplicaSet> {
        self.old.iter().chain(self.new.iter()).collect()
    }
}

/// Oldest first, ties by name (kube's `ReplicaSetsByCreationTimestamp`).
pub fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    let ta = pods::created(&a.metadata);
    let tb = pods::created(&b.metadata);
    ta.cmp(&tb).then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

fn name(rs: &ReplicaSet) -> String {
    rs.metadata.name.clone().unwrap_or_default()
}

fn api(st: &State, d: &Deployment) -> Api<ReplicaSet> {
    Api::namespaced(st.client.clone(), d.metadata.namespace.as_deref().unwrap_or_default())
}

/// The ReplicaSets and which one is new; with `create`, the new one is created when missing.
pub async fn get_all(st: &State, d: &mut Deployment, mut list: Vec<ReplicaSet>, create: bool) -> Result<Sets, Error> {
    list.sort_by(by_creation);
    let template = d.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let found = list.iter().position(|rs| {
        rs.spec.as_ref().and_then(|s| s.template.as_ref()).is_some_and(|t| hash::equal_ignore_hash(t, &template))
    });
    let existing = found.map(|i| list.remove(i));
    let old = list;
    let new_revision = annotations::max_revision(&old) + 1;
    if let Some(rs) = existing {
        let rs = sync_existing(st, d, rs, new_revision).await?;
        return Ok(Sets { new: Some(rs), old });
    }
    if !create {
        return Ok(Sets { new: None, old });
    }
    let rs = create_new(st, d, &old, new_revision).await?;
    Ok(Sets { new: Some(rs), old })
}

/// Brings an existing new ReplicaSet's annotations and minReadySeconds in step, then the
/// Deployment's revision and its first Progressing condition.
async fn sync_existing(st: &State, d: &mut Deployment, rs: ReplicaSet, new_revision: i64) -> Result<ReplicaSet, Error> {
    let before = rs.metadata.annotations.clone().unwrap_or_default();
    let mut after = before.clone();
    let desired = fenceposts::replicas(d);
    let changed =
        annotations::set_new_rs(d, &mut after, new_revision, true, desired, desired + fenceposts::max_surge(d));
    let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let min_ready_changed = rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0) != min_ready;
    if changed || min_ready_changed {
        let diff: BTreeMap<&String, &String> = after.iter().filter(|(k, v)| before.get(*k) != Some(v)).collect();
        let patch = json!({
            "metadata": { "resourceVersion": rs.metadata.resource_version, "annotations": diff },
            "spec": { "minReadySeconds": min_ready },
        });
        let updated = api(st, d)
            .patch(&name(&rs), &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| Error::UpdateReplicaSet(name(&rs), e))?;
        return Ok(updated);
    }
    let revision = after.get(annotations::REVISION).cloned().unwrap_or_default();
    write_revision(st, d, &revision).await?;
    let mut s = d.status.clone().unwrap_or_default();
    if status::has_progress_deadline(d) && status::get(&s, status::PROGRESSING).is_none() {
        let msg = format!("Found new replica set {:?}", name(&rs));
        status::set(
            &mut s,
            status::condition(status::PROGRESSING, "True", status::FOUND_NEW_RS, msg, chrono::Utc::now()),
        );
        write_status(st, d, s).await?;
    }
    Ok(rs)
}

/// Records `revision` on the Deployment (a metadata patch: the status subresource would not
/// keep it on every API server).
pub async fn write_revision(st: &State, d: &mut Deployment, revision: &str) -> Result<(), Error> {
    let current = d.metadata.annotations.as_ref().and_then(|a| a.get(annotations::REVISION));
    if current.map(String::as_str) == Some(revision) || revision.is_empty() {
        return Ok(());
    }
    let patch = json!({ "metadata": { "annotations": { annotations::REVISION: revision } } });
    let api: Api<Deployment> = Api::namespaced(st.client.clone(), d.metadata.namespace.as_deref().unwrap_or_default());
    api.patch(d.metadata.name.as_deref().unwrap_or_default(), &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(Error::UpdateRevision)?;
    d.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(annotations::REVISION.into(), revision.into());
    Ok(())
}

/// How many replicas the new ReplicaSet may have now (kube's `NewRSNewReplicas`).
pub fn new_rs_replicas(d: &Deployment, all: &[&ReplicaSet], new: &ReplicaSet) -> i32 {
    let desired = fenceposts::replicas(d);
    if !fenceposts::is_rolling(d) {
        return desired;
    }
    let current: i32 = all.iter().map(|rs| spec_replicas(rs)).sum();
    let max_total = desired + fenceposts::max_surge(d);
    let new_replicas = spec_replicas(new);
    if current >= max_total {
        return new_replicas;
    }
    new_replicas + (max_total - current).min(desired - new_replicas)
}

/// Creates the ReplicaSet `<deployment>-<hash>` of the current template.
async fn create_new(
    st: &State,
    d: &mut Deployment,
    old: &[ReplicaSet],
    new_revision: i64,
) -> Result<ReplicaSet, Error> {
    let spec = d.spec.clone().unwrap_or_default();
    let collision_count = d.status.as_ref().and_then(|s| s.collision_count);
    let pod_hash = hash::compute(&spec.template, collision_count);
    let mut template = spec.template.clone();
    template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(hash::LABEL.into(), pod_hash.clone());
    let mut selector = spec.selector.clone();
    selector.match_labels.get_or_insert_with(BTreeMap::new).insert(hash::LABEL.into(), pod_hash.clone());
    let d_name = d.metadata.name.clone().unwrap_or_default();
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            // A name derived from the template makes creation idempotent.
            name: Some(format!("{d_name}-{pod_hash}")),
            namespace: d.metadata.namespace.clone(),
            labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: d_name.clone(),
                uid: d.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    };
    let all: Vec<&ReplicaSet> = old.iter().chain(std::iter::once(&rs)).collect();
    let replicas = new_rs_replicas(d, &all, &rs);
    if let Some(s) = rs.spec.as_mut() {
        s.replicas = Some(replicas);
    }
    let desired = fenceposts::replicas(d);
    let mut ann = BTreeMap::new();
    annotations::set_new_rs(d, &mut ann, new_revision, false, desired, desired + fenceposts::max_surge(d));
    rs.metadata.annotations = Some(ann);
    let rs_name = name(&rs);
    let (created, already_exists) = match api(st, d).create(&PostParams::default(), &rs).await {
        Ok(created) => (created, false),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let existing = api(st, d).get(&rs_name).await.map_err(|e| Error::CreateReplicaSet(rs_name.clone(), e))?;
            let ours = pods::controller_of(&existing.metadata).map(|r| &r.uid) == d.metadata.uid.as_ref();
            let same = existing
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| hash::equal_ignore_hash(t, &spec.template));
            if !(ours && same) {
                // Another template (or owner) has this name: count the collision, which changes
                // the next hash, and try again.
                let mut s = d.status.clone().unwrap_or_default();
                s.collision_count = Some(s.collision_count.unwrap_or(0) + 1);
                write_status(st, d, s).await?;
                return Err(Error::HashCollision(rs_name));
            }
            (existing, true)
        }
        Err(e) => {
            let msg = format!("Failed to create new replica set {rs_name:?}: {e}");
            if status::has_progress_deadline(d) {
                let mut s = d.status.clone().unwrap_or_default();
                status::set(
                    &mut s,
                    status::condition(
                        status::PROGRESSING,
                        "False",
                        status::FAILED_RS_CREATE,
                        msg.clone(),
                        chrono::Utc::now(),
                    ),
                );
                write_status(st, d, s).await?;
            }
            events::record(&st.client, ABOUT, d, Type::Warning, status::FAILED_RS_CREATE, &msg);
            return Err(Error::CreateReplicaSet(rs_name, e));
        }
    };
    if !already_exists && replicas > 0 {
        let msg = format!("Scaled up replica set {rs_name} from 0 to {replicas}");
        events::record(&st.client, ABOUT, d, Type::Normal, "ScalingReplicaSet", &msg);
    }
    write_revision(st, d, &new_revision.to_string()).await?;
    if !already_exists && status::has_progress_deadline(d) {
        let mut s = d.status.clone().unwrap_or_default();
        let msg = format!("Created new replica set {rs_name:?}");
        status::set(
            &mut s,
            status::condition(status::PROGRESSING, "True", status::NEW_REPLICA_SET, msg, chrono::Utc::now()),
        );
        write_status(st, d, s).await?;
    }
    Ok(created)
}

/// Scales `rs` to `to` and refreshes its replica annotations; answers whether the size changed.
/// The write carries the cached resourceVersion: a stale cache fails with a conflict and the
/// sync is retried, instead of scaling on old numbers.
pub async fn scale(
    st: &State,
    d: &Deployment,
    rs: &mut ReplicaSet,
    to: i32,
    operation: Option<&str>,
) -> Result<bool, Error> {
    let from = spec_replicas(rs);
    let desired = fenceposts::replicas(d);
    let max = desired + fenceposts::max_surge(d);
    let mut ann = rs.metadata.annotations.clone().unwrap_or_default();
    let annotations_changed = annotations::set_replicas(&mut ann, desired, max);
    if from == to && !annotations_changed {
        return Ok(false);
    }
    let patch = json!({
        "metadata": {
            "resourceVersion": rs.metadata.resource_version,
            "annotations": { annotations::DESIRED_REPLICAS: desired.to_string(), annotations::MAX_REPLICAS: max.to_string() },
        },
        "spec": { "replicas": to },
    });
    let updated = api(st, d)
        .patch(&name(rs), &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::ScaleReplicaSet(name(rs), e))?;
    *rs = updated;
    if from != to {
        let op = operation.unwrap_or(if to > from { "up" } else { "down" });
        let msg = format!("Scaled {op} replica set {} from {from} to {to}", name(rs));
        events::record(&st.client, ABOUT, d, Type::Normal, "ScalingReplicaSet", &msg);
    }
    Ok(from != to)
}
