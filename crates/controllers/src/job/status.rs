//! Writing a Job's status. kube replaces the whole status with the Job's resourceVersion as
//! precondition; here the same is a merge patch that sets every status field (null for what
//! Go's `omitempty` leaves out) and carries the resourceVersion, so a sync that read a stale
//! Job cannot overwrite counts another sync already moved.

use k8s_openapi::api::batch::v1::{Job, JobStatus};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

/// Go's `omitempty` for an int32.
fn omit_zero(n: Option<i32>) -> Value {
    match n {
        Some(n) if n != 0 => json!(n),
        _ => Value::Null,
    }
}

fn omit_empty<T: serde::Serialize>(list: Option<&Vec<T>>) -> Value {
    match list {
        Some(l) if !l.is_empty() => serde_json::to_value(l).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// The merge patch that makes the stored status equal to `status`.
pub fn patch(status: &JobStatus, resource_version: Option<&str>) -> Value {
    let uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
    json!({
        "metadata": { "resourceVersion": resource_version },
        "status": {
            "active": omit_zero(status.active),
            "ready": status.ready,
            "terminating": status.terminating,
            "succeeded": omit_zero(status.succeeded),
            "failed": omit_zero(status.failed),
            "startTime": status.start_time,
            "completionTime": status.completion_time,
            "conditions": omit_empty(status.conditions.as_ref()),
            "completedIndexes": status.completed_indexes.as_deref().filter(|s| !s.is_empty()),
            "failedIndexes": status.failed_indexes,
            "uncountedTerminatedPods": {
                "succeeded": omit_empty(uncounted.succeeded.as_ref()),
                "failed": omit_empty(uncounted.failed.as_ref()),
            },
        }
    })
}

/// Writes a Job's status, keeping the resourceVersion each write answers so that the next
/// write of the same sync is accepted.
pub struct Writer {
    api: Api<Job>,
    name: String,
    resource_version: Option<String>,
}

impl Writer {
    pub fn new(client: &kube::Client, job: &Job) -> Writer {
        Writer {
            api: Api::namespaced(client.clone(), job.metadata.namespace.as_deref().unwrap_or_default()),
            name: job.metadata.name.clone().unwrap_or_default(),
            resource_version: job.metadata.resource_version.clone(),
        }
    }

    pub async fn write(&mut self, status: &JobStatus) -> kube::Result<()> {
        let body = patch(status, self.resource_version.as_deref());
        let written = self.api.patch_status(&self.name, &PatchParams::default(), &Patch::Merge(&body)).await?;
        self.resource_version = written.metadata.resource_version;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::UncountedTerminatedPods;

    #[test]
    fn zeros_and_empty_lists_are_cleared() {
        let status = JobStatus {
            active: Some(0),
            ready: Some(0),
            terminating: Some(0),
            succeeded: Some(2),
            uncounted_terminated_pods: Some(UncountedTerminatedPods { succeeded: Some(vec![]), failed: None }),
            ..Default::default()
        };
        let p = patch(&status, Some("7"));
        assert_eq!(p["metadata"]["resourceVersion"], "7");
        let s = &p["status"];
        assert_eq!(
            (s["active"].clone(), s["ready"].clone(), s["succeeded"].clone()),
            (Value::Null, json!(0), json!(2))
        );
        assert_eq!(s["uncountedTerminatedPods"], json!({"succeeded": null, "failed": null}));
        assert!(s.as_object().unwrap().contains_key("conditions"));
    }
}
