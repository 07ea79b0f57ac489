//! A StatefulSet pod's identity: its ordinal, its fixed name `<set>-<ordinal>`, the names of
//! its claims `<template>-<set>-<ordinal>`, the labels that name it, and the pod itself as it is
//! created from a template (kube's `newStatefulSetPod`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::claim::owner_ref;
use crate::history::POD_REVISION_LABEL;

/// The label naming the pod, which a per-pod Service can select.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";

/// The label holding the pod's ordinal (kube's PodIndexLabel, on by default since 1.28).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The parent name and ordinal in a pod name `<parent>-<ordinal>` (kube's
/// `getParentNameAndOrdinal`). Ordinals are written without leading zeros: `web-01` is not
/// the `web-1` kube would name, so it is no member.
pub fn parent_and_ordinal(pod_name: &str) -> Option<(&str, i32)> {
    let (parent, digits) = pod_name.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    Some((parent, digits.parse().ok()?))
}

/// The ordinal of a pod of `set`, if it is one by name (kube's `isMemberOf` and `getOrdinal`).
pub fn ordinal_in(set: &StatefulSet, pod: &Pod) -> Option<i32> {
    let name = pod.metadata.name.as_deref()?;
    let (parent, ordinal) = parent_and_ordinal(name)?;
    (Some(parent) == set.metadata.name.as_deref()).then_some(ordinal)
}

/// The name of the pod with `ordinal`.
pub fn pod_name(set: &StatefulSet, ordinal: i32) -> String {
    format!("{}-{ordinal}", set.metadata.name.as_deref().unwrap_or_default())
}

/// The name of the claim of template `template` for the pod with `ordinal`.
pub fn claim_name(set: &StatefulSet, template: &str, ordinal: i32) -> String {
    format!("{template}-{}-{ordinal}", set.metadata.name.as_deref().unwrap_or_default())
}

/// The first ordinal (`spec.ordinals.start`, 0 by default).
pub fn start_ordinal(set: &StatefulSet) -> i32 {
    set.spec.as_ref().and_then(|s| s.ordinals.as_ref()).and_then(|o| o.start).unwrap_or(0)
}

/// `spec.replicas` (1 when absent, as the API server defaults it).
pub fn replicas(set: &StatefulSet) -> i32 {
    set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0)
}

/// Whether `ordinal` is one the set should run now (kube's `podInOrdinalRange`).
pub fn in_range(set: &StatefulSet, ordinal: i32) -> bool {
    let start = start_ordinal(set);
    ordinal >= start && ordinal < start.saturating_add(replicas(set))
}

/// The revision a pod was made from, by its `controller-revision-hash` label.
pub fn revision_of(pod: &Pod) -> &str {
    pod.metadata.labels.as_ref().and_then(|l| l.get(POD_REVISION_LABEL)).map(String::as_str).unwrap_or("")
}

/// Whether the pod carries the label naming it (kube's `identityMatches`; the name and namespace
/// match by construction).
pub fn identity_matches(pod: &Pod) -> bool {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    pod.metadata.labels.as_ref().and_then(|l| l.get(POD_NAME_LABEL)).map(String::as_str) == Some(name)
}

/// The labels that state a pod's identity (kube's `updateIdentity`).
pub fn identity_labels(set: &StatefulSet, ordinal: i32) -> BTreeMap<String, String> {
    BTreeMap::from([
        (POD_NAME_LABEL.to_string(), pod_name(set, ordinal)),
        (POD_INDEX_LABEL.to_string(), ordinal.to_string()),
    ])
}

/// The names of the set's volumeClaimTemplates, in order.
pub fn claim_templates(set: &StatefulSet) -> Vec<String> {
    set.spec
        .iter()
        .flat_map(|s| s.volume_claim_templates.iter().flatten())
        .map(|t| t.metadata.name.clone().unwrap_or_default())
        .collect()
}

/// The pod with `ordinal` from `template` (the set's, or an older revision's), labelled with
/// `revision`: controller reference, identity labels, `hostname` and `subdomain`, and a volume
/// per claim template that replaces a template volume of the same name.
pub fn new_pod(set: &StatefulSet, template: &PodTemplateSpec, ordinal: i32, revision: &str) -> Pod {
    let meta = template.metadata.clone().unwrap_or_default();
    let name = pod_name(set, ordinal);
    let mut labels = meta.labels.unwrap_or_default();
    labels.extend(identity_labels(set, ordinal));
    labels.insert(POD_REVISION_LABEL.to_string(), revision.to_string());
    let mut spec = template.spec.clone().unwrap_or_default();
    spec.hostname = Some(name.clone());
    spec.subdomain = set.spec.as_ref().and_then(|s| s.service_name.clone()).filter(|s| !s.is_empty());
    let claims = claim_templates(set);
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|claim| Volume {
            name: claim.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(set, claim, ordinal),
                read_only: None,
            }),
            ..Volume::default()
        })
        .collect();
    volumes.extend(spec.volumes.take().into_iter().flatten().filter(|v| !claims.contains(&v.name)));
    spec.volumes = (!volumes.is_empty()).then_some(volumes);
    Pod {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: set.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: meta.annotations.filter(|a| !a.is_empty()),
            finalizers: meta.finalizers,
            owner_references: Some(vec![owner_ref("apps/v1", "StatefulSet", &set.metadata)]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn set() -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "u1"},
            "spec": {
                "replicas": 3,
                "serviceName": "nginx",
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{"name": "app", "image": "nginx"}],
                        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}]
                    }
                },
                "volumeClaimTemplates": [{"metadata": {"name": "data"}}]
            }
        }))
        .unwrap()
    }

    #[test]
    fn ordinals_from_names() {
        assert_eq!(parent_and_ordinal("web-0"), Some(("web", 0)));
        assert_eq!(parent_and_ordinal("my-web-12"), Some(("my-web", 12)));
        assert_eq!(parent_and_ordinal("web-01"), None);
        assert_eq!(parent_and_ordinal("web-"), None);
        assert_eq!(parent_and_ordinal("web-x"), None);
        assert_eq!(parent_and_ordinal("web"), None);
        assert_eq!(parent_and_ordinal("web-99999999999"), None);
    }

    #[test]
    fn ranges_follow_the_start_ordinal() {
        let mut s = set();
        assert!(in_range(&s, 0) && in_range(&s, 2) && !in_range(&s, 3));
        s.spec.as_mut().unwrap().ordinals = Some(Default::default());
        s.spec.as_mut().unwrap().ordinals.as_mut().unwrap().start = Some(5);
        assert!(!in_range(&s, 4) && in_range(&s, 5) && in_range(&s, 7) && !in_range(&s, 8));
    }

    #[test]
    fn new_pods_carry_identity_storage_and_revision() {
        let s = set();
        let template = s.spec.as_ref().unwrap().template.clone();
        let pod = new_pod(&s, &template, 1, "web-abc");
        assert_eq!(pod.metadata.name.as_deref(), Some("web-1"));
        let labels = pod.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[POD_NAME_LABEL], "web-1");
        assert_eq!(labels[POD_INDEX_LABEL], "1");
        assert_eq!(labels[POD_REVISION_LABEL], "web-abc");
        assert_eq!(labels["app"], "web");
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("StatefulSet", "u1", Some(true)));
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("web-1"));
        assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
        let volumes = spec.volumes.as_ref().unwrap();
        assert_eq!(volumes.len(), 2);
        assert_eq!(volumes[0].persistent_volume_claim.as_ref().unwrap().claim_name, "data-web-1");
        assert_eq!(volumes[1].name, "cache");
        assert!(identity_matches(&pod));
        assert_eq!(ordinal_in(&s, &pod), Some(1));
        assert_eq!(revision_of(&pod), "web-abc");
    }
}
