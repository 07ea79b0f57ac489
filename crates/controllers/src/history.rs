//! ControllerRevisions, as kube's `controller/history` package keeps them for StatefulSets and
//! DaemonSets: each distinct pod template is stored once, as the patch that brings it back,
//! numbered by revision, so `kubectl rollout history|undo` work for those kinds too.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, PostParams};
use serde_json::{json, Value};

use crate::deployment::hash::safe_encode;
use crate::informers::Informer;
use crate::pods::controller_of;

/// The label kube puts on each ControllerRevision: the hash of its data.
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// The label on a StatefulSet's or DaemonSet's pods naming the revision they were made from.
pub const POD_REVISION_LABEL: &str = "controller-revision-hash";

/// `<parent>-<hash>`, the parent cut to 223 characters as kube cuts it.
pub fn name(parent: &str, hash: &str) -> String {
    let prefix: String = parent.chars().take(223).collect();
    format!("{prefix}-{hash}")
}

/// kube's `HashControllerRevision`: FNV-32 (not 32a) over the data, then the collision count in
/// decimal, printed in decimal through the safe alphabet.
pub fn hash(data: &Value, collision_count: Option<i32>) -> String {
    let fnv32 = |h: u32, bytes: &[u8]| bytes.iter().fold(h, |h, b| h.wrapping_mul(0x0100_0193) ^ u32::from(*b));
    let mut h = fnv32(0x811c_9dc5, &serde_json::to_vec(data).unwrap_or_default());
    if let Some(count) = collision_count {
        h = fnv32(h, count.to_string().as_bytes());
    }
    safe_encode(&h.to_string())
}

/// The data of a revision for `template`: the patch that restores it (kube's `getPatch` for
/// StatefulSets and DaemonSets), `{"spec":{"template":{..., "$patch":"replace"}}}`.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut template = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(map) = template.as_object_mut() {
        map.insert("$patch".to_string(), json!("replace"));
    }
    json!({ "spec": { "template": template } })
}

/// The pod template a revision's data holds, if it holds one.
pub fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut template = revision.data.as_ref()?.0.get("spec")?.get("template")?.clone();
    if let Some(map) = template.as_object_mut() {
        map.remove("$patch");
    }
    serde_json::from_value(template).ok()
}

/// A new revision of `owner` (the controller reference to put on it) holding `data`, labelled
/// with `template_labels` and the hash, named `<parent>-<hash>`.
pub fn new_revision(
    owner: &OwnerReference,
    template_labels: Option<&BTreeMap<String, String>>,
    data: Value,
    number: i64,
    collision_count: Option<i32>,
) -> ControllerRevision {
    let hash = hash(&data, collision_count);
    let mut labels = template_labels.cloned().unwrap_or_default();
    labels.insert(HASH_LABEL.to_string(), hash.clone());
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name(&owner.name, &hash)),
            labels: Some(labels),
            owner_references: Some(vec![owner.clone()]),
            ..ObjectMeta::default()
        },
        data: Some(RawExtension(data)),
        revision: number,
    }
}

/// Whether `revision` holds `data` (kube's `history.EqualRevision`, which compares the bytes).
pub fn holds(revision: &ControllerRevision, data: &Value) -> bool {
    revision.data.as_ref().is_some_and(|d| d.0 == *data)
}

/// The revisions `parent` controls, oldest first (by number, then name, as kube sorts them).
pub fn owned_by(revisions: &Informer<ControllerRevision>, parent: &ObjectMeta) -> Vec<Arc<ControllerRevision>> {
    let uid = parent.uid.as_deref();
    let mut owned: Vec<Arc<ControllerRevision>> = revisions
        .in_namespace(parent.namespace.as_deref().unwrap_or_default())
        .into_iter()
        .filter(|r| controller_of(&r.metadata).map(|c| c.uid.as_str()) == uid)
        .collect();
    owned.sort_by(|a, b| a.revision.cmp(&b.revision).then_with(|| a.metadata.name.cmp(&b.metadata.name)));
    owned
}

/// The number a new revision gets: one more than the highest.
pub fn next_number(revisions: &[Arc<ControllerRevision>]) -> i64 {
    revisions.iter().map(|r| r.revision).max().unwrap_or(0) + 1
}

/// Creates `revision` (made by [`new_revision`] with `*collision_count`). A different
/// revision already under that name is a hash collision: the count goes up and the name
/// changes, as kube's `CreateControllerRevision` does. One holding the same data is answered
/// as created, owned or not.
pub async fn create(
    api: &Api<ControllerRevision>,
    revision: ControllerRevision,
    collision_count: &mut i32,
) -> Result<ControllerRevision, kube::Error> {
    let owner = revision.metadata.owner_references.iter().flatten().next().cloned().unwrap_or_default();
    let data = revision.data.as_ref().map(|d| d.0.clone()).unwrap_or(Value::Null);
    let labels = revision.metadata.labels.clone().map(|mut l| {
        l.remove(HASH_LABEL);
        l
    });
    // Bounded: a hash that collides a hundred times in a row is a bug, not bad luck.
    let mut attempts = 0;
    loop {
        let mut attempt =
            new_revision(&owner, labels.as_ref(), data.clone(), revision.revision, Some(*collision_count));
        // The parent's annotations, which kube copies onto each revision (`kubectl rollout
        // history` reads `kubernetes.io/change-cause` there).
        attempt.metadata.annotations.clone_from(&revision.metadata.annotations);
        match api.create(&PostParams::default(), &attempt).await {
            Err(kube::Error::Api(status)) if status.code == 409 && attempts < 100 => {
                let name = attempt.metadata.name.clone().unwrap_or_default();
                let existing = api.get(&name).await?;
                // Equal data is the same revision whoever controls it, as in kube. After
                // `delete --cascade=orphan` a new set whose cache still shows the old owner on
                // a revision meets it here: it takes that revision (adopted on the next sync)
                // and the orphaned pods keep it instead of being replaced.
                if holds(&existing, &data) {
                    return Ok(existing);
                }
                *collision_count = collision_count.saturating_add(1);
                attempts += 1;
            }
            other => return other,
        }
    }
}

/// Gives `revision` the number `number` (kube's `UpdateControllerRevision`): a rollback to an
/// older template makes its revision the newest again instead of storing the template twice.
pub async fn renumber(
    api: &Api<ControllerRevision>,
    revision: &ControllerRevision,
    number: i64,
) -> Result<ControllerRevision, kube::Error> {
    let name = revision.metadata.name.as_deref().unwrap_or_default();
    let patch = json!({ "revision": number });
    api.patch(name, &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": image}]}
        }))
        .unwrap()
    }

    #[test]
    fn patch_round_trips_the_template() {
        let t = template("nginx:1");
        let data = template_patch(&t);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let rev = new_revision(&OwnerReference { name: "web".into(), ..Default::default() }, None, data, 1, None);
        assert_eq!(template_of(&rev).unwrap(), t);
    }

    #[test]
    fn hash_follows_data_and_collisions() {
        let a = template_patch(&template("nginx:1"));
        let b = template_patch(&template("nginx:2"));
        assert_eq!(hash(&a, None), hash(&a.clone(), None));
        assert_ne!(hash(&a, None), hash(&b, None));
        assert_ne!(hash(&a, Some(0)), hash(&a, Some(1)));
        assert!(hash(&a, None).bytes().all(|c| b"bcdfghjklmnpqrstvwxz2456789".contains(&c)));
    }

    #[test]
    fn names_and_labels() {
        let owner =
            OwnerReference { name: "web".into(), uid: "u1".into(), controller: Some(true), ..Default::default() };
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let data = template_patch(&template("nginx:1"));
        let rev = new_revision(&owner, Some(&labels), data.clone(), 3, Some(2));
        let h = hash(&data, Some(2));
        assert_eq!(rev.metadata.name.as_deref(), Some(format!("web-{h}").as_str()));
        assert_eq!(rev.metadata.labels.as_ref().unwrap()[HASH_LABEL], h);
        assert_eq!(rev.metadata.labels.as_ref().unwrap()["app"], "web");
        assert_eq!(rev.revision, 3);
        assert!(holds(&rev, &data));
        assert_eq!(name(&"x".repeat(300), "h").len(), 225);
    }
}
