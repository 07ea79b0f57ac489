//! The PersistentVolumeClaims of a StatefulSet's pods: made from `volumeClaimTemplates`, named
//! `<template>-<set>-<ordinal>`, created before their pod and never deleted by this controller.
//! `persistentVolumeClaimRetentionPolicy` works as in kube, through owner references the garbage
//! collector acts on: `whenDeleted: Delete` makes the set a claim's controller, `whenScaled:
//! Delete` makes the pod of a condemned ordinal its controller (kube's `isClaimOwnerUpToDate`
//! and `updateClaimOwnerRefForSetAndPod`, v1.32).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::identity;
use super::plan::ClaimFacts;
use crate::claim::owner_ref;
use crate::informers::Informer;

/// `persistentVolumeClaimRetentionPolicy`; anything but `Delete` retains, as kube treats an
/// unknown value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    pub delete_when_deleted: bool,
    pub delete_when_scaled: bool,
}

impl Policy {
    pub fn of(set: &StatefulSet) -> Policy {
        let p = set.spec.as_ref().and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
        let delete = |v: Option<&String>| v.map(String::as_str) == Some("Delete");
        Policy {
            delete_when_deleted: delete(p.and_then(|p| p.when_deleted.as_ref())),
            delete_when_scaled: delete(p.and_then(|p| p.when_scaled.as_ref())),
        }
    }

    fn retains_all(self) -> bool {
        !self.delete_when_deleted && !self.delete_when_scaled
    }
}

/// An owner a claim may point at: the set or one of its pods.
#[derive(Debug, Clone)]
pub struct Owner {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub uid: String,
}

impl Owner {
    pub fn set(set: &StatefulSet) -> Owner {
        Owner::from_meta("apps/v1", "StatefulSet", &set.metadata)
    }

    pub fn pod(pod: &Pod) -> Owner {
        Owner::from_meta("v1", "Pod", &pod.metadata)
    }

    fn from_meta(api_version: &'static str, kind: &'static str, meta: &ObjectMeta) -> Owner {
        Owner {
            api_version,
            kind,
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
        }
    }

    /// Same name and kind, whatever the UID (kube's `matchesRef`).
    fn matches(&self, r: &OwnerReference) -> bool {
        r.api_version == self.api_version && r.kind == self.kind && r.name == self.name
    }

    fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.into(),
            kind: self.kind.into(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

fn refs(claim: &ObjectMeta) -> &[OwnerReference] {
    claim.owner_references.as_deref().unwrap_or_default()
}

fn has_ref(claim: &ObjectMeta, owner: &Owner) -> bool {
    refs(claim).iter().any(|r| r.uid == owner.uid)
}

/// A reference by name and kind to an earlier object with another UID (kube's
/// `hasStaleOwnerRef`): a pod or set that was deleted and made again.
pub fn has_stale_ref(claim: &ObjectMeta, owner: &Owner) -> bool {
    refs(claim).iter().find(|r| owner.matches(r)).is_some_and(|r| r.uid != owner.uid)
}

/// A controller other than the set or the pod, or a stale reference to either; only matters
/// when some claim is to be deleted (kube's `hasUnexpectedController`).
fn has_unexpected_controller(claim: &ObjectMeta, set: &Owner, pod: &Owner, policy: Policy) -> bool {
    if policy.retains_all() {
        return false;
    }
    refs(claim).iter().any(|r| {
        if set.matches(r) {
            r.uid != set.uid
        } else if pod.matches(r) {
            r.uid != pod.uid
        } else {
            r.controller == Some(true)
        }
    })
}

/// The set or pod is an owner without being the controller.
fn has_non_controller_owner(claim: &ObjectMeta, set: &Owner, pod: &Owner) -> bool {
    refs(claim).iter().any(|r| (r.uid == set.uid || r.uid == pod.uid) && r.controller != Some(true))
}

/// Whether the claim's owner references already say what `policy` asks for the pod, which is
/// `scaled_down` when its ordinal is out of range. Claims in a state this controller did not make
/// (stale references, another controller) are left alone.
pub fn owners_up_to_date(claim: &ObjectMeta, set: &Owner, pod: &Owner, policy: Policy, scaled_down: bool) -> bool {
    if has_stale_ref(claim, set) || has_stale_ref(claim, pod) {
        return true;
    }
    if has_unexpected_controller(claim, set, pod, policy) {
        // Our references must go; nothing is added on top of the other controller.
        return !(has_ref(claim, set) || has_ref(claim, pod));
    }
    if has_non_controller_owner(claim, set, pod) {
        return false;
    }
    let (want_set, want_pod) = wanted(policy, scaled_down);
    has_ref(claim, set) == want_set && has_ref(claim, pod) == want_pod
}

/// Which of the set and the pod should control the claim.
fn wanted(policy: Policy, scaled_down: bool) -> (bool, bool) {
    let want_set = policy.delete_when_deleted && !(policy.delete_when_scaled && scaled_down);
    let want_pod = policy.delete_when_scaled && scaled_down;
    (want_set, want_pod)
}

/// The claim's owner references once brought in line with `policy`: references to the set and
/// the pod scrubbed, then added back as controllers where wanted.
pub fn updated_owner_refs(
    claim: &ObjectMeta,
    set: &Owner,
    pod: &Owner,
    policy: Policy,
    scaled_down: bool,
) -> Vec<OwnerReference> {
    let unexpected = has_unexpected_controller(claim, set, pod, policy);
    let mut out: Vec<OwnerReference> =
        refs(claim).iter().filter(|r| !set.matches(r) && !pod.matches(r)).cloned().collect();
    if unexpected {
        return out;
    }
    let (want_set, want_pod) = wanted(policy, scaled_down);
    for (owner, want) in [(pod, want_pod), (set, want_set)] {
        if want && !out.iter().any(|r| r.uid == owner.uid) {
            out.push(owner.controller_ref());
        }
    }
    out
}

/// The claim of `template` for the pod with `ordinal`: the template's metadata and spec, the
/// selector's `matchLabels` over its labels, and the owner references `policy` asks for a pod
/// in range (kube adds those on a later sync; the result is the same).
pub fn desired(set: &StatefulSet, template: &PersistentVolumeClaim, ordinal: i32) -> PersistentVolumeClaim {
    let template_name = template.metadata.name.clone().unwrap_or_default();
    let mut labels: BTreeMap<String, String> = template.metadata.labels.clone().unwrap_or_default();
    let selector = set.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default();
    labels.extend(selector);
    let owner_references =
        Policy::of(set).delete_when_deleted.then(|| vec![owner_ref("apps/v1", "StatefulSet", &set.metadata)]);
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(identity::claim_name(set, &template_name, ordinal)),
            namespace: set.metadata.namespace.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            annotations: template.metadata.annotations.clone().filter(|a| !a.is_empty()),
            finalizers: template.metadata.finalizers.clone(),
            owner_references,
            ..ObjectMeta::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// The claims of a set as the cache shows them, for the plan.
pub struct Cached<'a> {
    pub set: &'a StatefulSet,
    pub informer: &'a Informer<PersistentVolumeClaim>,
    pub policy: Policy,
    pub templates: Vec<String>,
}

impl Cached<'_> {
    fn claims(&self, ordinal: i32) -> impl Iterator<Item = Option<Arc<PersistentVolumeClaim>>> + '_ {
        let ns = self.set.metadata.namespace.as_deref();
        self.templates.iter().map(move |t| self.informer.get(ns, &identity::claim_name(self.set, t, ordinal)))
    }
}

impl ClaimFacts for Cached<'_> {
    fn stale(&self, ordinal: i32) -> bool {
        if !self.policy.delete_when_scaled {
            // Claims that outlive their pods by policy are meant to be reused.
            return false;
        }
        // The pod to be made has no UID yet: any reference to a pod of its name is stale.
        let unborn =
            Owner { api_version: "v1", kind: "Pod", name: identity::pod_name(self.set, ordinal), uid: String::new() };
        self.claims(ordinal).flatten().any(|c| has_stale_ref(&c.metadata, &unborn))
    }

    fn missing(&self, ordinal: i32) -> bool {
        self.claims(ordinal).any(|c| c.is_none())
    }

    fn owners_match(&self, pod: &Pod, ordinal: i32, scaled_down: bool) -> bool {
        let (set, pod) = (Owner::set(self.set), Owner::pod(pod));
        self.claims(ordinal).flatten().all(|c| owners_up_to_date(&c.metadata, &set, &pod, self.policy, scaled_down))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(kind: &'static str, name: &str, uid: &str) -> Owner {
        let api_version = if kind == "Pod" { "v1" } else { "apps/v1" };
        Owner { api_version, kind, name: name.into(), uid: uid.into() }
    }

    fn claim(refs: Vec<OwnerReference>) -> ObjectMeta {
        ObjectMeta { owner_references: Some(refs), ..ObjectMeta::default() }
    }

    const RETAIN: Policy = Policy { delete_when_deleted: false, delete_when_scaled: false };
    const ON_DELETE: Policy = Policy { delete_when_deleted: true, delete_when_scaled: false };
    const ON_SCALE: Policy = Policy { delete_when_deleted: false, delete_when_scaled: true };
    const BOTH: Policy = Policy { delete_when_deleted: true, delete_when_scaled: true };

    #[test]
    fn each_policy_wants_its_owners() {
        let set = owner("StatefulSet", "web", "s1");
        let pod = owner("Pod", "web-2", "p1");
        let none = claim(vec![]);
        let by_set = claim(vec![set.controller_ref()]);
        let by_pod = claim(vec![pod.controller_ref()]);
        for scaled in [false, true] {
            assert!(owners_up_to_date(&none, &set, &pod, RETAIN, scaled));
            assert!(!owners_up_to_date(&by_set, &set, &pod, RETAIN, scaled));
            assert!(owners_up_to_date(&by_set, &set, &pod, ON_DELETE, scaled));
            assert!(!owners_up_to_date(&none, &set, &pod, ON_DELETE, scaled));
        }
        assert!(owners_up_to_date(&none, &set, &pod, ON_SCALE, false));
        assert!(!owners_up_to_date(&none, &set, &pod, ON_SCALE, true));
        assert!(owners_up_to_date(&by_pod, &set, &pod, ON_SCALE, true));
        assert!(owners_up_to_date(&by_set, &set, &pod, BOTH, false));
        assert!(!owners_up_to_date(&by_set, &set, &pod, BOTH, true));
        assert!(owners_up_to_date(&by_pod, &set, &pod, BOTH, true));

        // Scaling down under Delete/Delete moves the claim from the set to the pod.
        let moved = updated_owner_refs(&by_set, &set, &pod, BOTH, true);
        assert_eq!(moved.len(), 1);
        assert_eq!((moved[0].kind.as_str(), moved[0].uid.as_str(), moved[0].controller), ("Pod", "p1", Some(true)));
        assert!(owners_up_to_date(&claim(moved), &set, &pod, BOTH, true));
        // Back to Retain scrubs our references and keeps others.
        let other = OwnerReference { kind: "Thing".into(), name: "x".into(), uid: "t1".into(), ..Default::default() };
        let mixed = claim(vec![other.clone(), set.controller_ref()]);
        assert_eq!(updated_owner_refs(&mixed, &set, &pod, RETAIN, false), vec![other]);
    }

    #[test]
    fn stale_and_foreign_owners_are_left_alone() {
        let set = owner("StatefulSet", "web", "s2");
        let pod = owner("Pod", "web-2", "p2");
        // A reference to an earlier pod of the same name: the claim belongs to that pod.
        let stale = claim(vec![owner("Pod", "web-2", "p-old").controller_ref()]);
        assert!(has_stale_ref(&stale, &pod));
        assert!(owners_up_to_date(&stale, &set, &pod, BOTH, true));
        // A new pod (no UID yet) sees any reference to its name as stale.
        assert!(has_stale_ref(&stale, &owner("Pod", "web-2", "")));
        // Another controller: nothing added on top.
        let foreign = claim(vec![owner("StatefulSet", "other", "o1").controller_ref()]);
        assert!(owners_up_to_date(&foreign, &set, &pod, BOTH, false));
        // A non-controller reference to the set must become a controller one.
        let mut plain = set.controller_ref();
        plain.controller = None;
        assert!(!owners_up_to_date(&claim(vec![plain]), &set, &pod, ON_DELETE, false));
    }
}
