//! A Job's pods: what kube's job controller reads of them (tracking finalizer, failure,
//! finish time) and the writes it makes (create from the template, delete, drop the
//! finalizer), with the events `RealPodControl` records.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::indexes::COMPLETION_INDEX;
use crate::claim;
use crate::events::{self, About};
use crate::pods::{self as podutil, to_chrono};

/// The finalizer that keeps a finished pod until the Job has counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";

/// Who writes the events, and about what.
pub const ABOUT: About<'static> = About { component: "job-controller", kind: "Job", api_version: "batch/v1" };

/// apiserver's `MaxGeneratedNameLength`: 63 minus the 5 random characters.
const MAX_GENERATED_NAME: usize = 58;

/// Whether the pod still carries the tracking finalizer (is not counted yet).
pub fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata.finalizers.iter().flatten().any(|f| f == TRACKING_FINALIZER)
}

/// Being deleted but not terminal yet (kube's `CountTerminatingPods`).
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some() && !podutil::is_terminal(pod)
}

/// kube's `isPodFailed`: Failed, or, unless only failed pods are replaced, deleted before
/// succeeding (an orphan that never reaches a phase).
pub fn is_failed(pod: &Pod, only_replace_failed: bool) -> bool {
    if podutil::phase(pod) == "Failed" {
        return true;
    }
    !only_replace_failed && pod.metadata.deletion_timestamp.is_some() && podutil::phase(pod) != "Succeeded"
}

/// kube's `getFinishedTime`: when every container terminated, else when Ready turned False,
/// else deletion minus grace period, else creation.
pub fn finish_time(pod: &Pod) -> DateTime<Utc> {
    let status = pod.status.as_ref();
    let containers = status.and_then(|s| s.container_statuses.as_ref());
    if let Some(cs) = containers.filter(|cs| !cs.is_empty()) {
        let ends: Option<Vec<DateTime<Utc>>> =
            cs.iter().map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref().map(to_chrono)).collect();
        if let Some(latest) = ends.and_then(|e| e.into_iter().max()) {
            return latest;
        }
    }
    let ready_false = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready" && c.status == "False"))
        .and_then(|c| c.last_transition_time.as_ref());
    if let Some(t) = ready_false {
        return to_chrono(t);
    }
    if let Some(deleted) = pod.metadata.deletion_timestamp.as_ref() {
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
        return to_chrono(deleted) - chrono::Duration::seconds(grace);
    }
    podutil::created(&pod.metadata).unwrap_or_else(Utc::now)
}

/// `<prefix>`, cut so that the API server's 5 random characters still fit.
fn generate_name(job_name: &str, index: Option<i32>) -> String {
    match index {
        None => {
            let prefix = format!("{job_name}-");
            if prefix.len() > MAX_GENERATED_NAME {
                return prefix[..MAX_GENERATED_NAME].to_string();
            }
            prefix
        }
        Some(ix) => {
            let suffix = format!("-{ix}-");
            let prefix = format!("{job_name}{suffix}");
            if prefix.len() > MAX_GENERATED_NAME {
                return format!("{}{suffix}", &job_name[..MAX_GENERATED_NAME - suffix.len()]);
            }
            prefix
        }
    }
}

/// A pod for `job` from its template: the tracking finalizer, a controller reference, and for
/// an Indexed Job the index (annotation, label, `JOB_COMPLETION_INDEX`, hostname
/// `<job>-<index>`, name `<job>-<index>-<random>`).
pub fn from_template(job: &Job, index: Option<i32>) -> Pod {
    let template = job.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    let mut finalizers = meta.finalizers.unwrap_or_default();
    if !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
        finalizers.push(TRACKING_FINALIZER.to_string());
    }
    let mut spec = template.spec.unwrap_or_default();
    if let Some(ix) = index {
        annotations.insert(COMPLETION_INDEX.to_string(), ix.to_string());
        labels.insert(COMPLETION_INDEX.to_string(), ix.to_string());
        spec.hostname = Some(format!("{name}-{ix}"));
        let containers = spec.init_containers.iter_mut().flatten().chain(spec.containers.iter_mut());
        for c in containers {
            let env = c.env.get_or_insert_with(Vec::new);
            if !env.iter().any(|e| e.name == "JOB_COMPLETION_INDEX") {
                env.push(EnvVar {
                    name: "JOB_COMPLETION_INDEX".into(),
                    value: None,
                    value_from: Some(EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            api_version: None,
                            field_path: format!("metadata.labels['{COMPLETION_INDEX}']"),
                        }),
                        ..Default::default()
                    }),
                });
            }
        }
    }
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name(&name, index)),
            namespace: job.metadata.namespace.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            finalizers: Some(finalizers),
            owner_references: Some(vec![claim::owner_ref(ABOUT.api_version, ABOUT.kind, &job.metadata)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// Creates one pod; answers its name. Events as kube's `RealPodControl`.
pub async fn create(client: &kube::Client, job: &Job, index: Option<i32>) -> kube::Result<String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), job.metadata.namespace.as_deref().unwrap_or_default());
    match api.create(&PostParams::default(), &from_template(job, index)).await {
        Ok(pod) => {
            let name = pod.metadata.name.unwrap_or_default();
            events::record(
                client,
                ABOUT,
                job,
                events::Type::Normal,
                "SuccessfulCreate",
                &format!("Created pod: {name}"),
            );
            Ok(name)
        }
        Err(e) => {
            events::record(client, ABOUT, job, events::Type::Warning, "FailedCreate", &format!("Error creating: {e}"));
            Err(e)
        }
    }
}

/// Deletes a pod (its finalizer stays: the Job counts it first). A pod already gone counts as
/// deleted.
pub async fn delete(client: &kube::Client, job: &Job, pod: &Pod) -> kube::Result<()> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), pod.metadata.namespace.as_deref().unwrap_or_default());
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {
            events::record(
                client,
                ABOUT,
                job,
                events::Type::Normal,
                "SuccessfulDelete",
                &format!("Deleted pod: {name}"),
            );
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => {
            events::record(client, ABOUT, job, events::Type::Warning, "FailedDelete", &format!("Error deleting: {e}"));
            Err(e)
        }
    }
}

/// Drops the tracking finalizer, as kube does, with a strategic-merge
/// `$deleteFromPrimitiveList` that leaves other finalizers and concurrent writes alone.
/// A pod already gone counts as done.
pub async fn remove_finalizer(client: &kube::Client, pod: &Pod) -> kube::Result<()> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), pod.metadata.namespace.as_deref().unwrap_or_default());
    let patch = json!({ "metadata": { "$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER] } });
    match api.patch(&name, &PatchParams::default(), &Patch::Strategic(&patch)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// `pods` with an in-memory tracking finalizer: an adopted pod is counted as if the adoption
/// had added it (kube adds it in the adoption patch; ours only sets the owner).
pub fn with_tracking_finalizer(pod: &Arc<Pod>) -> Arc<Pod> {
    if has_tracking_finalizer(pod) {
        return Arc::clone(pod);
    }
    let mut copy = Pod::clone(pod);
    copy.metadata.finalizers.get_or_insert_with(Vec::new).push(TRACKING_FINALIZER.to_string());
    Arc::new(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};

    fn job(name: &str) -> Job {
        Job {
            metadata: ObjectMeta { name: Some(name.into()), uid: Some("u1".into()), ..Default::default() },
            spec: Some(JobSpec {
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("job-name".to_string(), name.to_string())].into()),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container { name: "c".into(), ..Default::default() }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn indexed_pod_carries_its_index() {
        let pod = from_template(&job("work"), Some(2));
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("work-2-"));
        assert_eq!(pod.metadata.annotations.as_ref().unwrap()[COMPLETION_INDEX], "2");
        assert_eq!(pod.metadata.labels.as_ref().unwrap()[COMPLETION_INDEX], "2");
        assert_eq!(pod.metadata.labels.as_ref().unwrap()["job-name"], "work");
        assert_eq!(pod.metadata.finalizers.as_deref(), Some(&[TRACKING_FINALIZER.to_string()][..]));
        let spec = pod.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("work-2"));
        assert_eq!(spec.containers[0].env.as_ref().unwrap()[0].name, "JOB_COMPLETION_INDEX");
        let owner = &pod.metadata.owner_references.unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.controller), ("Job", Some(true)));
    }

    #[test]
    fn long_names_are_cut() {
        let long = "x".repeat(70);
        assert_eq!(generate_name(&long, None).len(), MAX_GENERATED_NAME);
        let indexed = generate_name(&long, Some(12));
        assert_eq!(indexed.len(), MAX_GENERATED_NAME);
        assert!(indexed.ends_with("-12-"));
        assert_eq!(from_template(&job("a"), None).metadata.generate_name.as_deref(), Some("a-"));
    }
}
