//! Carrying out a [`Plan`]: creating pods and their claims, deleting pods, fixing identities and
//! claim owners, with kube's events (`SuccessfulCreate` "create Pod web-0 in StatefulSet web
//! successful", "create Claim data-web-0 Pod web-0 in StatefulSet web success",
//! `SuccessfulDelete`, `SuccessfulUpdate` and their `Failed*` warnings). OrderedReady runs the
//! steps one by one; Parallel runs each phase in slow-start batches (1, 2, 4, ...) as kube's
//! `slowStartBatch` does. The first failure ends the sync.

use std::fmt::Display;
use std::sync::Arc;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodTemplateSpec};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use serde_json::{json, Value};

use super::claims::{self, Owner, Policy};
use super::identity;
use super::plan::{Plan, Revision, Step, Unit};
use super::{Error, ABOUT};
use crate::events::{self, Type};
use crate::expectations::Expectations;
use crate::informers::Informer;

/// kube's `MaxBatchSize`: the most writes in flight at once.
const MAX_BATCH: usize = 500;

/// A revision's name and the pod template it holds.
#[derive(Debug, Clone, Copy)]
pub struct Template<'a> {
    pub revision: &'a str,
    pub template: &'a PodTemplateSpec,
}

/// What the writes need.
pub struct Writer<'a> {
    pub client: &'a kube::Client,
    pub set: &'a StatefulSet,
    pub claims: &'a Informer<PersistentVolumeClaim>,
    pub expectations: &'a Expectations,
    /// `namespace/name` of the set, for the expectations.
    pub key: &'a str,
    pub current: Template<'a>,
    pub update: Template<'a>,
}

/// What the writes did that the status must reflect.
#[derive(Debug, Default, Clone, Copy)]
pub struct Done {
    /// A pod at the current revision was deleted for the rolling update.
    pub deleted_for_update: bool,
}

impl Writer<'_> {
    fn namespace(&self) -> &str {
        self.set.metadata.namespace.as_deref().unwrap_or_default()
    }

    fn set_name(&self) -> &str {
        self.set.metadata.name.as_deref().unwrap_or_default()
    }

    fn event(&self, type_: Type, reason: &str, message: &str) {
        events::record(self.client, ABOUT, self.set, type_, reason, message);
    }

    /// kube's `recordPodEvent`.
    fn pod_event(&self, verb: &str, pod: &str, error: Option<&dyn Display>) {
        let set = self.set_name();
        match error {
            None => self.event(
                Type::Normal,
                &reason("Successful", verb),
                &format!("{verb} Pod {pod} in StatefulSet {set} successful"),
            ),
            Some(e) => self.event(
                Type::Warning,
                &reason("Failed", verb),
                &format!("{verb} Pod {pod} in StatefulSet {set} failed error: {e}"),
            ),
        }
    }

    /// Runs `plan`; answers what the status must know, or the first failure.
    pub async fn run(&self, plan: Plan, one_by_one: bool) -> Result<Done, Error> {
        let mut done = Done::default();
        for phase in plan.phases {
            if one_by_one {
                for unit in phase {
                    self.unit(unit, &mut done).await?;
                }
                continue;
            }
            let mut units = phase.into_iter();
            let mut batch = 1;
            loop {
                let chunk: Vec<Unit> = units.by_ref().take(batch).collect();
                if chunk.is_empty() {
                    break;
                }
                let results = join_all(chunk.into_iter().map(|unit| async {
                    let mut d = Done::default();
                    self.unit(unit, &mut d).await.map(|()| d)
                }))
                .await;
                let mut failure = None;
                for result in results {
                    match result {
                        Ok(d) => done.deleted_for_update |= d.deleted_for_update,
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    }
                }
                if let Some(e) = failure {
                    return Err(e);
                }
                batch = (batch * 2).min(MAX_BATCH);
            }
        }
        Ok(done)
    }

    async fn unit(&self, unit: Unit, done: &mut Done) -> Result<(), Error> {
        for step in unit {
            match step {
                Step::Create { ordinal, revision } => self.create_pod(ordinal, revision).await?,
                Step::CreateClaims { pod, ordinal } => {
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    let result = match self.create_claims(&name, ordinal).await {
                        Ok(()) => self.fix_claim_owners(&pod, ordinal, false).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = result {
                        self.pod_event("update", &name, Some(&e as &dyn Display));
                        return Err(e);
                    }
                }
                Step::Fix { pod, ordinal, identity, claims } => self.fix(&pod, ordinal, identity, claims).await?,
                Step::FixCondemnedClaims { pod, ordinal } => self.fix_claim_owners(&pod, ordinal, true).await?,
                Step::DeleteFinished(pod) | Step::ScaleDown(pod) => self.delete_pod(&pod).await?,
                Step::Update(pod) => {
                    self.delete_pod(&pod).await?;
                    done.deleted_for_update = true;
                }
            }
        }
        Ok(())
    }

    /// Creates the claims of the pod, then the pod (kube's `CreateStatefulPod`). A pod that
    /// already exists is one the cache has not shown yet: the expectation waits for it.
    async fn create_pod(&self, ordinal: i32, revision: Revision) -> Result<(), Error> {
        let t = match revision {
            Revision::Current => self.current,
            Revision::Update => self.update,
        };
        let pod = identity::new_pod(self.set, t.template, ordinal, t.revision);
        let name = pod.metadata.name.clone().unwrap_or_default();
        if let Err(e) = self.create_claims(&name, ordinal).await {
            self.pod_event("create", &name, Some(&e as &dyn Display));
            return Err(e);
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), self.namespace());
        match api.create(&PostParams::default(), &pod).await {
            Ok(_) => {
                self.expectations.expect(self.key, [name.clone()], []);
                self.pod_event("create", &name, None);
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                self.expectations.expect(self.key, [name], []);
                Ok(())
            }
            Err(e) => {
                self.pod_event("create", &name, Some(&e as &dyn Display));
                Err(Error::CreatePod(name, e))
            }
        }
    }

    /// Creates the claims of the pod `pod` (ordinal `ordinal`) that the cache does not hold. A
    /// claim being deleted blocks the pod until it is gone.
    async fn create_claims(&self, pod: &str, ordinal: i32) -> Result<(), Error> {
        let templates = self.set.spec.iter().flat_map(|s| s.volume_claim_templates.iter().flatten());
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), self.namespace());
        let set = self.set_name();
        let mut first: Option<Error> = None;
        for template in templates {
            let claim = claims::desired(self.set, template, ordinal);
            let claim_name = claim.metadata.name.clone().unwrap_or_default();
            if let Some(cached) = self.claims.get(Some(self.namespace()), &claim_name) {
                if cached.metadata.deletion_timestamp.is_some() {
                    first.get_or_insert(Error::ClaimDeleting(claim_name));
                }
                continue;
            }
            match api.create(&PostParams::default(), &claim).await {
                Ok(_) => self.event(
                    Type::Normal,
                    "SuccessfulCreate",
                    &format!("create Claim {claim_name} Pod {pod} in StatefulSet {set} success"),
                ),
                // Made by an earlier sync the cache has not caught up with.
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => {
                    self.event(
                        Type::Warning,
                        "FailedCreate",
                        &format!("create Claim {claim_name} for Pod {pod} in StatefulSet {set} failed error: {e}"),
                    );
                    first.get_or_insert(Error::CreateClaim(claim_name, e));
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Gives the pod's claims the owners the retention policy asks for (kube's
    /// `UpdatePodClaimForRetentionPolicy`). Claims not in the cache yet are left for a later sync.
    async fn fix_claim_owners(&self, pod: &Pod, ordinal: i32, scaled_down: bool) -> Result<(), Error> {
        let policy = Policy::of(self.set);
        let (set_owner, pod_owner) = (Owner::set(self.set), Owner::pod(pod));
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), self.namespace());
        for template in identity::claim_templates(self.set) {
            let claim_name = identity::claim_name(self.set, &template, ordinal);
            let Some(cached) = self.claims.get(Some(self.namespace()), &claim_name) else { continue };
            if claims::owners_up_to_date(&cached.metadata, &set_owner, &pod_owner, policy, scaled_down) {
                continue;
            }
            let refs = claims::updated_owner_refs(&cached.metadata, &set_owner, &pod_owner, policy, scaled_down);
            let refs = if refs.is_empty() { Value::Null } else { json!(refs) };
            let patch =
                json!({ "metadata": { "resourceVersion": cached.metadata.resource_version, "ownerReferences": refs } });
            api.patch(&claim_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| Error::UpdateClaim(claim_name.clone(), e))?;
        }
        Ok(())
    }

    /// Brings a pod's identity labels and its claims' owners in line (kube's `UpdateStatefulPod`).
    async fn fix(&self, pod: &Arc<Pod>, ordinal: i32, identity: bool, claims: bool) -> Result<(), Error> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let mut result = Ok(());
        if identity {
            let api: Api<Pod> = Api::namespaced(self.client.clone(), self.namespace());
            let patch = json!({ "metadata": { "labels": identity::identity_labels(self.set, ordinal) } });
            result = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
                .map_err(|e| Error::UpdatePod(name.clone(), e));
        }
        if claims && result.is_ok() {
            result = self.fix_claim_owners(pod, ordinal, false).await;
        }
        let shown = result.as_ref().err().map(|e| match e {
            Error::UpdatePod(_, inner) => inner as &dyn Display,
            other => other as &dyn Display,
        });
        self.pod_event("update", &name, shown);
        result
    }

    /// Deletes a pod, by UID so a newer pod of the same name is never the one deleted. A pod
    /// already gone (or replaced) is what was wanted.
    async fn delete_pod(&self, pod: &Pod) -> Result<(), Error> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), self.namespace());
        let params = DeleteParams {
            preconditions: Some(Preconditions { uid: Some(uid.clone()), resource_version: None }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &params).await {
            Ok(_) => {
                self.expectations.expect(self.key, [], [(name.clone(), uid)]);
                self.pod_event("delete", &name, None);
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {
                self.expectations.expect(self.key, [], [(name, uid)]);
                Ok(())
            }
            Err(e) => {
                self.pod_event("delete", &name, Some(&e as &dyn Display));
                Err(Error::DeletePod(name, e))
            }
        }
    }
}

/// `Successful` + `Create`, as Go's `strings.Title(verb)`.
fn reason(prefix: &str, verb: &str) -> String {
    let mut chars = verb.chars();
    let title: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
    format!("{prefix}{title}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_titled_verbs() {
        assert_eq!(reason("Successful", "create"), "SuccessfulCreate");
        assert_eq!(reason("Failed", "delete"), "FailedDelete");
        assert_eq!(reason("Successful", "update"), "SuccessfulUpdate");
    }
}
