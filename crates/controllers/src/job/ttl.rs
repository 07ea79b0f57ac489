//! `ttlSecondsAfterFinished`, as kube's ttl-after-finished controller: a finished Job is
//! deleted (propagation Foreground, so its pods go first) that many seconds after its terminal
//! condition. Before deleting, the Job is read again from the API server, as kube does: the
//! TTL may have changed since the cache saw it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DeleteParams, Preconditions, PropagationPolicy};
use tracing::info;

use super::conditions;

/// When `job` expires, if it is finished, has a TTL and is not being deleted.
pub fn expires_at(job: &Job) -> Option<DateTime<Utc>> {
    if job.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    Some(conditions::finished_at(job)? + chrono::Duration::seconds(i64::from(ttl)))
}

/// Deletes `job` if it expired; answers how long until it does otherwise.
pub async fn handle(client: &kube::Client, job: &Job, now: DateTime<Utc>) -> kube::Result<Option<Duration>> {
    let Some(at) = expires_at(job) else { return Ok(None) };
    if at > now {
        return Ok((at - now).to_std().ok());
    }
    let ns = job.metadata.namespace.as_deref().unwrap_or_default();
    let name = job.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Job> = Api::namespaced(client.clone(), ns);
    let Some(fresh) = api.get_opt(name).await? else { return Ok(None) };
    if fresh.metadata.uid != job.metadata.uid {
        return Ok(None);
    }
    match expires_at(&fresh) {
        None => return Ok(None),
        Some(at) if at > now => return Ok((at - now).to_std().ok()),
        Some(_) => {}
    }
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(Preconditions { uid: fresh.metadata.uid.clone(), resource_version: None }),
        ..Default::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => info!(namespace = ns, job = name, "deleting a finished Job past its TTL"),
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e),
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::to_time;
    use k8s_openapi::api::batch::v1::{JobCondition, JobSpec, JobStatus};

    #[test]
    fn expires_ttl_after_the_terminal_condition() {
        let done = Utc::now();
        let job = Job {
            spec: Some(JobSpec { ttl_seconds_after_finished: Some(30), ..Default::default() }),
            status: Some(JobStatus {
                conditions: Some(vec![JobCondition {
                    type_: "Failed".into(),
                    status: "True".into(),
                    last_transition_time: Some(to_time(done)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let at = expires_at(&job).unwrap_or(done);
        assert_eq!((at - done).num_seconds(), 30);
        let mut running = job.clone();
        running.status = None;
        assert_eq!(expires_at(&running), None);
    }
}
