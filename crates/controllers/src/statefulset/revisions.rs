//! A StatefulSet's ControllerRevisions (kube's `getStatefulSetRevisions` and
//! `truncateHistory`): the update revision holds the set's template now, the current revision
//! the one `status.currentRevision` names. A template seen before (a rollback) renumbers its
//! old revision as the newest rather than storing it twice.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use kube::api::{Api, DeleteParams};
use serde_json::Value;

use super::Error;
use crate::claim::owner_ref;
use crate::history;

/// What becomes of the set's template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The newest revision holds it already.
    Last,
    /// An older revision holds it: it becomes the newest.
    Renumber(usize),
    /// No revision holds it: a new one.
    Create,
}

/// Decides from `revisions` (oldest first) which revision holds `data`.
pub fn choose(revisions: &[Arc<ControllerRevision>], data: &Value) -> Choice {
    match revisions.iter().rposition(|r| history::holds(r, data)) {
        Some(i) if i + 1 == revisions.len() => Choice::Last,
        Some(i) => Choice::Renumber(i),
        None => Choice::Create,
    }
}

/// The revisions to delete so that at most `limit` revisions remain that no pod, and neither
/// the current nor the update revision, uses; oldest first.
pub fn to_truncate<'a>(
    revisions: &'a [Arc<ControllerRevision>],
    live: &HashSet<&str>,
    limit: i32,
) -> Vec<&'a Arc<ControllerRevision>> {
    let old: Vec<&Arc<ControllerRevision>> =
        revisions.iter().filter(|r| !live.contains(r.metadata.name.as_deref().unwrap_or_default())).collect();
    let Ok(limit) = usize::try_from(limit) else { return Vec::new() };
    let excess = old.len().saturating_sub(limit);
    old.into_iter().take(excess).collect()
}

/// The current and update revisions of a set, and its collision count.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub current: ControllerRevision,
    pub update: ControllerRevision,
    pub collision_count: i32,
}

impl Resolved {
    pub fn current_name(&self) -> &str {
        self.current.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn update_name(&self) -> &str {
        self.update.metadata.name.as_deref().unwrap_or_default()
    }
}

/// Finds (or makes) the update revision of `set` among `revisions` (oldest first), and the
/// current one.
pub async fn resolve(
    api: &Api<ControllerRevision>,
    set: &StatefulSet,
    revisions: &[Arc<ControllerRevision>],
) -> Result<Resolved, Error> {
    let mut collision_count = set.status.as_ref().and_then(|s| s.collision_count).unwrap_or(0);
    let template = set.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let data = history::template_patch(&template);
    let number = history::next_number(revisions);
    let update = match choose(revisions, &data) {
        Choice::Last => revisions.last().map(|r| (**r).clone()).unwrap_or_default(),
        Choice::Renumber(i) => history::renumber(api, &revisions[i], number).await.map_err(Error::UpdateRevision)?,
        Choice::Create => {
            let owner = owner_ref("apps/v1", "StatefulSet", &set.metadata);
            let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
            let mut revision = history::new_revision(&owner, labels, data, number, Some(collision_count));
            revision.metadata.annotations = set.metadata.annotations.clone();
            history::create(api, revision, &mut collision_count).await.map_err(Error::CreateRevision)?
        }
    };
    let current_name = set.status.as_ref().and_then(|s| s.current_revision.as_deref());
    let current = revisions
        .iter()
        .find(|r| r.metadata.name.is_some() && r.metadata.name.as_deref() == current_name)
        .map(|r| (**r).clone())
        .unwrap_or_else(|| update.clone());
    Ok(Resolved { current, update, collision_count })
}

/// Deletes the revisions beyond `revisionHistoryLimit` that nothing uses.
pub async fn truncate(
    api: &Api<ControllerRevision>,
    set: &StatefulSet,
    revisions: &[Arc<ControllerRevision>],
    live: &HashSet<&str>,
) -> Result<(), Error> {
    let limit = set.spec.as_ref().and_then(|s| s.revision_history_limit).unwrap_or(10);
    for revision in to_truncate(revisions, live, limit) {
        let name = revision.metadata.name.as_deref().unwrap_or_default();
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(Error::DeleteRevision(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use serde_json::json;

    fn rev(name: &str, number: i64, image: &str) -> Arc<ControllerRevision> {
        let template =
            serde_json::from_value(json!({"spec": {"containers": [{"name": "a", "image": image}]}})).unwrap();
        let data = history::template_patch(&template);
        let mut r = history::new_revision(&OwnerReference::default(), None, data, number, None);
        r.metadata.name = Some(name.into());
        Arc::new(r)
    }

    fn data(image: &str) -> Value {
        let template =
            serde_json::from_value(json!({"spec": {"containers": [{"name": "a", "image": image}]}})).unwrap();
        history::template_patch(&template)
    }

    #[test]
    fn the_template_maps_to_the_newest_an_older_or_a_new_revision() {
        let revs = [rev("r1", 1, "v1"), rev("r2", 2, "v2")];
        assert_eq!(choose(&revs, &data("v2")), Choice::Last);
        assert_eq!(choose(&revs, &data("v1")), Choice::Renumber(0));
        assert_eq!(choose(&revs, &data("v3")), Choice::Create);
        assert_eq!(choose(&[], &data("v1")), Choice::Create);
    }

    #[test]
    fn history_keeps_the_limit_of_unused_revisions() {
        let revs: Vec<_> = (1..=5).map(|n| rev(&format!("r{n}"), n, &format!("v{n}"))).collect();
        let live = HashSet::from(["r5", "r2"]);
        let names = |v: Vec<&Arc<ControllerRevision>>| {
            v.into_iter().map(|r| r.metadata.name.clone().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(names(to_truncate(&revs, &live, 1)), ["r1", "r3"]);
        assert_eq!(names(to_truncate(&revs, &live, 0)), ["r1", "r3", "r4"]);
        assert!(to_truncate(&revs, &live, 3).is_empty());
        assert!(to_truncate(&revs, &live, -1).is_empty());
    }
}
