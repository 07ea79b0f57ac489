//! A DaemonSet's pods: built from the template for one node (kube's `CreatePodTemplate` and
//! `ReplaceDaemonSetPodNodeNameNodeAffinity`), created in slow-start batches and deleted, with
//! kube's events. The pod names no node itself: a required node affinity on
//! `metadata.name` lets the scheduler bind it, so resources and ports are still checked.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};

use super::placement::add_daemon_tolerations;
use crate::claim::owner_ref;
use crate::events;

/// Who writes the events, and about what.
pub const ABOUT: events::About<'static> =
    events::About { component: "daemonset-controller", kind: "DaemonSet", api_version: "apps/v1" };

/// The most pods created or deleted in one sync (kube's `BurstReplicas` for DaemonSets).
pub const BURST: usize = 250;

/// The label naming the revision a pod was made from.
pub const HASH_LABEL: &str = crate::history::POD_REVISION_LABEL;

/// The deprecated label carrying the template generation (still set by kube).
pub const GENERATION_LABEL: &str = "pod-template-generation";

/// Where the API server keeps a DaemonSet's template generation in `apps/v1`.
pub const GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

/// The template generation, if the annotation holds one (kube's `GetTemplateGeneration`).
pub fn template_generation(ds: &DaemonSet) -> Option<i64> {
    ds.metadata.annotations.as_ref()?.get(GENERATION_ANNOTATION)?.parse().ok()
}

/// Whether `pod` was made from the current template: its hash label is `hash`, or its
/// generation label is the template generation (kube's `IsPodUpdated`).
pub fn is_updated(pod: &Pod, hash: &str, generation: Option<i64>) -> bool {
    let label = |k: &str| pod.metadata.labels.as_ref().and_then(|l| l.get(k));
    let by_hash = !hash.is_empty() && label(HASH_LABEL).is_some_and(|h| h == hash);
    let by_generation = generation.is_some_and(|g| label(GENERATION_LABEL).is_some_and(|l| *l == g.to_string()));
    by_hash || by_generation
}

/// The required node affinity that pins a pod to `node`, replacing any required terms the
/// template had (they were already checked against the node).
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let selector = NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.to_string()]),
            }]),
        }],
    };
    let mut affinity = affinity.unwrap_or_default();
    let node_affinity = affinity.node_affinity.get_or_insert_with(NodeAffinity::default);
    node_affinity.required_during_scheduling_ignored_during_execution = Some(selector);
    affinity
}

/// The node a pod of a DaemonSet is meant for: its `nodeName` once bound, before that the
/// node its affinity pins it to (kube's `GetTargetNodeName`).
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(node) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(node.to_string());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| match r.values.as_deref() {
            Some([one]) => Some(one.clone()),
            _ => None,
        })
}

/// The pod `ds` runs on `node`: the template with the daemon tolerations, the revision `hash`
/// and generation labels, pinned to the node, named `<ds>-<random>` by the API server.
pub fn for_node(ds: &DaemonSet, node: &str, hash: &str) -> Pod {
    let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    add_daemon_tolerations(&mut spec);
    spec.affinity = Some(pin_to_node(spec.affinity.take(), node));
    let mut labels = meta.labels.unwrap_or_default();
    if let Some(generation) = template_generation(ds) {
        labels.insert(GENERATION_LABEL.to_string(), generation.to_string());
    }
    if !hash.is_empty() {
        labels.insert(HASH_LABEL.to_string(), hash.to_string());
    }
    let name = ds.metadata.name.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: meta.annotations.filter(|a: &BTreeMap<String, String>| !a.is_empty()),
            finalizers: meta.finalizers,
            owner_references: Some(vec![owner_ref(ABOUT.api_version, ABOUT.kind, &ds.metadata)]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// What kube prints for a failed request: the API server's message when it answered.
fn reason(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// A pod created for a node.
#[derive(Debug, Clone)]
pub struct Created {
    pub name: String,
    pub uid: String,
    pub node: String,
}

/// Creates a pod on each of `nodes` in slow-start batches (1, 2, 4, ...); stops after the
/// first batch with a failure. Answers the pods created and the first error.
pub async fn create(
    client: &kube::Client,
    ds: &DaemonSet,
    nodes: &[String],
    hash: &str,
) -> (Vec<Created>, Option<kube::Error>) {
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let params = PostParams::default();
    let mut created = Vec::new();
    let mut batch = 1;
    let mut rest = nodes;
    while !rest.is_empty() {
        let (now, later) = rest.split_at(batch.min(rest.len()));
        rest = later;
        batch *= 2;
        let results = join_all(now.iter().map(|node| {
            let pod = for_node(ds, node, hash);
            let api = api.clone();
            let params = params.clone();
            async move { (node.clone(), api.create(&params, &pod).await) }
        }))
        .await;
        let mut error = None;
        for (node, result) in results {
            match result {
                Ok(p) => {
                    let name = p.metadata.name.unwrap_or_default();
                    let message = format!("Created pod: {name}");
                    events::record(client, ABOUT, ds, events::Type::Normal, "SuccessfulCreate", &message);
                    created.push(Created { name, uid: p.metadata.uid.unwrap_or_default(), node });
                }
                Err(e) => {
                    let message = format!("Error creating: {}", reason(&e));
                    events::record(client, ABOUT, ds, events::Type::Warning, "FailedCreate", &message);
                    error.get_or_insert(e);
                }
            }
        }
        if error.is_some() {
            return (created, error);
        }
    }
    (created, None)
}

/// Deletes `victims`; answers (name, uid) of the deletions asked (a pod already gone counts)
/// and the first error.
pub async fn delete(
    client: &kube::Client,
    ds: &DaemonSet,
    victims: &[Arc<Pod>],
) -> (Vec<(String, String)>, Option<kube::Error>) {
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let results = join_all(victims.iter().map(|p| {
        let name = p.metadata.name.clone().unwrap_or_default();
        let uid = p.metadata.uid.clone().unwrap_or_default();
        let api = api.clone();
        async move {
            let result = api.delete(&name, &DeleteParams::default()).await;
            (name, uid, result)
        }
    }))
    .await;
    let mut deleted = Vec::new();
    let mut error = None;
    for (name, uid, result) in results {
        match result {
            Ok(_) => {
                let message = format!("Deleted pod: {name}");
                events::record(client, ABOUT, ds, events::Type::Normal, "SuccessfulDelete", &message);
                deleted.push((name, uid));
            }
            Err(kube::Error::Api(e)) if e.code == 404 => deleted.push((name, uid)),
            Err(e) => {
                let message = format!("Error deleting: {}", reason(&e));
                events::record(client, ABOUT, ds, events::Type::Warning, "FailedDelete", &message);
                error.get_or_insert(e);
            }
        }
    }
    (deleted, error)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn ds() -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "default", "uid": "u1",
                         "annotations": {GENERATION_ANNOTATION: "3"}},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {
                        "containers": [{"name": "app", "image": "x"}],
                        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{"matchExpressions": [{"key": "disk", "operator": "Exists"}]}]
                        }, "preferredDuringSchedulingIgnoredDuringExecution": [
                            {"weight": 1, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}
                        ]}},
                    },
                },
            },
        }))
        .unwrap()
    }

    #[test]
    fn pod_for_a_node() {
        let pod = for_node(&ds(), "n1", "abc");
        let meta = &pod.metadata;
        assert_eq!(meta.generate_name.as_deref(), Some("agent-"));
        let labels = meta.labels.as_ref().unwrap();
        assert_eq!(labels["app"], "agent");
        assert_eq!(labels[HASH_LABEL], "abc");
        assert_eq!(labels[GENERATION_LABEL], "3");
        let owner = &meta.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("DaemonSet", "u1", Some(true)));
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.node_name, None, "the scheduler binds it");
        assert_eq!(spec.tolerations.as_ref().unwrap().len(), 6);
        let node_affinity = spec.affinity.as_ref().unwrap().node_affinity.as_ref().unwrap();
        let terms = &node_affinity.required_during_scheduling_ignored_during_execution.as_ref().unwrap();
        assert_eq!(terms.node_selector_terms.len(), 1, "the template's required terms are replaced");
        assert!(node_affinity.preferred_during_scheduling_ignored_during_execution.is_some(), "preferences stay");
        assert_eq!(target_node(&pod).as_deref(), Some("n1"));
    }

    #[test]
    fn target_node_prefers_the_binding() {
        let mut pod = for_node(&ds(), "n1", "abc");
        if let Some(spec) = pod.spec.as_mut() {
            spec.node_name = Some("n2".into());
        }
        assert_eq!(target_node(&pod).as_deref(), Some("n2"));
        assert_eq!(target_node(&Pod::default()), None);
    }

    #[test]
    fn updated_by_hash_or_generation() {
        let pod = for_node(&ds(), "n1", "abc");
        assert!(is_updated(&pod, "abc", None));
        assert!(is_updated(&pod, "other", Some(3)));
        assert!(!is_updated(&pod, "other", Some(4)));
        assert!(!is_updated(&pod, "", None));
    }
}
