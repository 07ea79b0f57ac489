//! The Jobs of a CronJob: made from its template, named after their scheduled minute, listed
//! in `status.active`, and the oldest finished ones removed beyond the history limits.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::claim;
use crate::events::About;
use crate::job::conditions;

/// Who writes the events, and about what.
pub const ABOUT: About<'static> = About { component: "cronjob-controller", kind: "CronJob", api_version: "batch/v1" };

/// When the Job was scheduled, RFC 3339 in the CronJob's time zone.
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// `<cronjob>-<minutes since the epoch>`: one name per scheduled time, so that a Job is never
/// created twice for the same start, even across restarts.
pub fn name(cj: &CronJob, scheduled: DateTime<Utc>) -> String {
    format!("{}-{}", cj.metadata.name.as_deref().unwrap_or_default(), scheduled.timestamp() / 60)
}

/// kube's `getJobFromTemplate2`.
pub fn from_template(cj: &CronJob, scheduled: DateTime<Utc>, zone: Tz) -> Job {
    let template = cj.spec.as_ref().map(|s| s.job_template.clone()).unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut annotations: BTreeMap<String, String> = meta.annotations.unwrap_or_default();
    let stamp = scheduled.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, true);
    annotations.insert(SCHEDULED_TIMESTAMP.to_string(), stamp);
    Job {
        metadata: ObjectMeta {
            name: Some(name(cj, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: meta.labels.filter(|l| !l.is_empty()),
            annotations: Some(annotations),
            owner_references: Some(vec![claim::owner_ref(ABOUT.api_version, ABOUT.kind, &cj.metadata)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// The reference `status.active` keeps of a Job.
pub fn reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// `Complete` or `Failed` if the Job finished.
pub fn finished_type(job: &Job) -> Option<&str> {
    conditions::finished(job).map(|c| c.type_.as_str())
}

/// Whether `uid` is in `status.active`.
pub fn in_active(cj: &CronJob, uid: Option<&str>) -> bool {
    cj.status.iter().flat_map(|s| s.active.iter().flatten()).any(|r| r.uid.is_some() && r.uid.as_deref() == uid)
}

/// Whether a Job named `name` is in `status.active`.
pub fn in_active_by_name(cj: &CronJob, name: &str) -> bool {
    cj.status.iter().flat_map(|s| s.active.iter().flatten()).any(|r| r.name.as_deref() == Some(name))
}

/// Drops `uid` from `status.active`.
pub fn remove_from_active(cj: &mut CronJob, uid: Option<&str>) {
    if let Some(active) = cj.status.as_mut().and_then(|s| s.active.as_mut()) {
        active.retain(|r| r.uid.as_deref() != uid);
    }
}

/// kube's `byJobStartTime`: started before not started, earlier first, then by name.
pub fn by_start_time(a: &Job, b: &Job) -> Ordering {
    let start = |j: &Job| j.status.as_ref().and_then(|s| s.start_time.clone()).map(|t| t.0);
    match (start(a), start(b)) {
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (x, y) if x == y => a.metadata.name.cmp(&b.metadata.name),
        (x, y) => x.cmp(&y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::to_time;
    use chrono::TimeZone;
    use k8s_openapi::api::batch::v1::{CronJobSpec, JobStatus, JobTemplateSpec};

    fn cron_job() -> CronJob {
        CronJob {
            metadata: ObjectMeta {
                name: Some("nightly".into()),
                namespace: Some("ns".into()),
                uid: Some("cj-uid".into()),
                ..Default::default()
            },
            spec: Some(CronJobSpec {
                schedule: "0 2 * * *".into(),
                job_template: JobTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("team".to_string(), "a".to_string())].into()),
                        annotations: Some([("note".to_string(), "x".to_string())].into()),
                        ..Default::default()
                    }),
                    spec: None,
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn job_is_named_after_its_minute() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 2, 0, 0).single().unwrap();
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let job = from_template(&cron_job(), at, tokyo);
        assert_eq!(job.metadata.name.as_deref(), Some("nightly-28575480"));
        let annotations = job.metadata.annotations.unwrap();
        assert_eq!(annotations[SCHEDULED_TIMESTAMP], "2024-05-01T11:00:00+09:00");
        assert_eq!(annotations["note"], "x");
        assert_eq!(job.metadata.labels.unwrap()["team"], "a");
        let owner = &job.metadata.owner_references.unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("CronJob", "cj-uid", Some(true)));
        let utc_job = from_template(&cron_job(), at, Tz::UTC);
        assert_eq!(utc_job.metadata.annotations.unwrap()[SCHEDULED_TIMESTAMP], "2024-05-01T02:00:00Z");
    }

    #[test]
    fn oldest_started_first() {
        let job = |name: &str, start: Option<i64>| Job {
            metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
            status: Some(JobStatus {
                start_time: start.map(|s| to_time(Utc.timestamp_opt(s, 0).single().unwrap())),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut jobs = [job("c", None), job("b", Some(20)), job("a", Some(20)), job("d", Some(10))];
        jobs.sort_by(by_start_time);
        let names: Vec<_> = jobs.iter().map(|j| j.metadata.name.clone().unwrap()).collect();
        assert_eq!(names, ["d", "a", "b", "c"]);
    }
}
