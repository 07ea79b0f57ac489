//! The CronJob controller, as kube-controller-manager v1.32's (the v2 controller): creates a
//! Job at each scheduled time and keeps the CronJob's status, so that `kubectl get cronjobs`
//! (ACTIVE, LAST SCHEDULE) reads as on a real cluster.
//!
//! - `schedule` (five fields, `@hourly` and the other descriptors, `@every`) in `timeZone`
//!   ([`schedule`]); the CronJob is requeued at the next scheduled time plus 100 ms.
//! - Jobs named `<cronjob>-<scheduled minutes since the epoch>`, owned by the CronJob, with the
//!   template's labels and annotations and `batch.kubernetes.io/cronjob-scheduled-timestamp`
//!   ([`jobs`]).
//! - `startingDeadlineSeconds`, `concurrencyPolicy` (Allow, Forbid, Replace), `suspend`,
//!   `successfulJobsHistoryLimit` and `failedJobsHistoryLimit`.
//! - Status `active`, `lastScheduleTime`, `lastSuccessfulTime`; events `SuccessfulCreate`,
//!   `SawCompletedJob`, `SuccessfulDelete`, `MissSchedule`, `UnexpectedJob`, `MissingJob`,
//!   `JobAlreadyActive`, `TooManyMissedTimes`, `UnparseableSchedule`, `InvalidSchedule`,
//!   `UnknownTimeZone`, `UnsupportedSchedule`, `FailedCreate`, `FailedDelete`.
//!
//! Left out: schedules differ from robfig/cron around daylight-saving changes (croner picks the
//! first valid time in a gap), and after a create whose Job already exists this controller
//! still requeues at the next scheduled time where kube waits for the next event.

pub mod jobs;
pub mod schedule;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::runtime::controller::{Action, Controller};
use serde_json::{json, Value};
use tracing::debug;

use crate::controller::{drive, Context};
use crate::events::{self, Type};
use crate::informers::Informer;
use crate::pods::{controller_of, to_chrono, to_time};
use jobs::ABOUT;
use schedule::{Missed, MostRecent, Schedule, Times};

/// Why a CronJob sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read the cronjob: {0}")]
    GetCronJob(#[source] kube::Error),
    #[error("failed to read job {0}: {1}")]
    GetJob(String, #[source] kube::Error),
    #[error("failed to create job: {0}")]
    CreateJob(#[source] kube::Error),
    #[error("could not replace job {0}")]
    ReplaceJob(String),
    #[error("failed to update status: {0}")]
    UpdateStatus(#[source] kube::Error),
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    jobs: Arc<Informer<Job>>,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let cron_jobs = ctx.informers.get::<CronJob>();
    let jobs = ctx.informers.get::<Job>();
    let controller = Controller::for_shared_stream(cron_jobs.subscribe(), cron_jobs.store.clone())
        .owns_shared_stream(jobs.subscribe());
    let state = Arc::new(State { client: ctx.client, jobs });
    drive("cronjob", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

/// The Jobs `cj` controls.
fn owned_jobs(st: &State, cj: &CronJob) -> Vec<Arc<Job>> {
    let ns = cj.metadata.namespace.as_deref().unwrap_or_default();
    st.jobs
        .in_namespace(ns)
        .into_iter()
        .filter(|j| {
            controller_of(&j.metadata).is_some_and(|r| r.kind == ABOUT.kind && Some(&r.uid) == cj.metadata.uid.as_ref())
        })
        .collect()
}

/// Syncs one CronJob: history cleanup, then the schedule; one status write for both.
pub async fn reconcile(cached: Arc<CronJob>, st: Arc<State>) -> Result<Action, Error> {
    let jobs = owned_jobs(&st, &cached);
    let mut sync = Sync { st: &st, cj: CronJob::clone(&cached), changed: false };
    sync.cleanup_finished(&jobs).await;
    let result = sync.schedule(&jobs, Utc::now()).await;
    if sync.changed {
        sync.write_status().await?;
    }
    match result? {
        Some(after) => Ok(Action::requeue(after)),
        None => Ok(Action::await_change()),
    }
}

/// One sync: a working copy of the CronJob whose status is written once at the end.
struct Sync<'a> {
    st: &'a State,
    cj: CronJob,
    changed: bool,
}

impl Sync<'_> {
    fn event(&self, type_: Type, reason: &str, message: &str) {
        events::record(&self.st.client, ABOUT, &self.cj, type_, reason, message);
    }

    fn namespace(&self) -> String {
        self.cj.metadata.namespace.clone().unwrap_or_default()
    }

    fn times(&self) -> Times {
        let status = self.cj.status.as_ref();
        Times {
            created: self.cj.metadata.creation_timestamp.as_ref().map(to_chrono).unwrap_or_else(Utc::now),
            last_scheduled: status.and_then(|s| s.last_schedule_time.as_ref()).map(to_chrono),
            starting_deadline_seconds: self.cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds),
        }
    }

    /// kube's `deleteJob`: the Job (its pods in the background) and its active entry.
    async fn delete_job(&mut self, job: &Job) -> bool {
        let name = job.metadata.name.clone().unwrap_or_default();
        let api: Api<Job> = Api::namespaced(self.st.client.clone(), &self.namespace());
        let params = DeleteParams { propagation_policy: Some(PropagationPolicy::Background), ..Default::default() };
        match api.delete(&name, &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => {
                self.event(Type::Warning, "FailedDelete", &format!("Deleted job: {e}"));
                return false;
            }
        }
        jobs::remove_from_active(&mut self.cj, job.metadata.uid.as_deref());
        self.event(Type::Normal, "SuccessfulDelete", &format!("Deleted job {name}"));
        true
    }

    /// kube's `cleanupFinishedJobs`: finished Jobs beyond the history limits go, oldest first.
    async fn cleanup_finished(&mut self, all: &[Arc<Job>]) {
        let spec = self.cj.spec.clone().unwrap_or_default();
        for (kind, limit) in
            [("Complete", spec.successful_jobs_history_limit), ("Failed", spec.failed_jobs_history_limit)]
        {
            let Some(limit) = limit else { continue };
            let mut done: Vec<&Arc<Job>> = all.iter().filter(|j| jobs::finished_type(j) == Some(kind)).collect();
            let excess = done.len().saturating_sub(usize::try_from(limit).unwrap_or(0));
            if excess == 0 {
                continue;
            }
            done.sort_by(|a, b| jobs::by_start_time(a, b));
            for job in done.into_iter().take(excess) {
                if self.delete_job(job).await {
                    self.changed = true;
                }
            }
        }
    }

    /// Reads the CronJob from the API server (the cache may lag behind our own writes).
    async fn fresh(&self) -> Result<CronJob, Error> {
        let api: Api<CronJob> = Api::namespaced(self.st.client.clone(), &self.namespace());
        api.get(self.cj.metadata.name.as_deref().unwrap_or_default()).await.map_err(Error::GetCronJob)
    }

    /// kube's `syncCronJob`: reconciles the active list with the Jobs, then starts the Job of
    /// the most recent unmet scheduled time. Answers when to look again.
    async fn schedule(&mut self, all: &[Arc<Job>], now: DateTime<Utc>) -> Result<Option<Duration>, Error> {
        for job in all {
            let uid = job.metadata.uid.as_deref();
            let name = job.metadata.name.clone().unwrap_or_default();
            let found = jobs::in_active(&self.cj, uid);
            let finished = jobs::finished_type(job);
            if !found && finished.is_none() {
                let fresh = self.fresh().await?;
                if jobs::in_active(&fresh, uid) {
                    self.cj = fresh;
                    continue;
                }
                let msg = format!("Saw a job that the controller did not create or forgot: {name}");
                self.event(Type::Warning, "UnexpectedJob", &msg);
            } else if let (true, Some(finished)) = (found, finished) {
                jobs::remove_from_active(&mut self.cj, uid);
                self.event(Type::Normal, "SawCompletedJob", &format!("Saw completed job: {name}, status: {finished}"));
                self.changed = true;
            } else if finished == Some("Complete") {
                // Finished and no longer active: its completion counts.
                let done = job.status.as_ref().and_then(|s| s.completion_time.clone());
                let status = self.cj.status.get_or_insert_with(Default::default);
                let later = match (&status.last_successful_time, &done) {
                    (None, _) => true,
                    (Some(last), Some(done)) => done.0 > last.0,
                    _ => false,
                };
                if later && done.is_some() {
                    status.last_successful_time = done;
                    self.changed = true;
                }
            }
        }
        self.drop_missing(all).await?;

        if self.cj.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let spec = self.cj.spec.clone().unwrap_or_default();
        let zone: Tz = match spec.time_zone.as_deref() {
            None => Tz::UTC,
            Some(name) => match name.parse() {
                Ok(zone) => zone,
                Err(_) => {
                    let msg = format!("invalid timeZone: {name:?}: unknown time zone {name}");
                    self.event(Type::Warning, "UnknownTimeZone", &msg);
                    return Ok(None);
                }
            },
        };
        if spec.suspend == Some(true) {
            return Ok(None);
        }
        if spec.schedule.contains("TZ") {
            let msg = format!("CRON_TZ or TZ used in schedule {:?} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", spec.schedule);
            self.event(Type::Warning, "UnsupportedSchedule", &msg);
        }
        let sched = match Schedule::parse(&spec.schedule, zone) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("unparseable schedule: {:?} : {e}", spec.schedule);
                self.event(Type::Warning, "UnparseableSchedule", &msg);
                return Ok(None);
            }
        };
        let scheduled = match schedule::most_recent(self.times(), now, &sched, true) {
            Err(e) => {
                self.event(Type::Warning, "InvalidSchedule", &format!("invalid schedule: {} : {e}", spec.schedule));
                return Ok(None);
            }
            Ok(MostRecent { due: None, .. }) => return Ok(schedule::next_requeue(self.times(), now, &sched)),
            Ok(MostRecent { due: Some(at), missed, .. }) => {
                if missed == Missed::Many {
                    let msg = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew";
                    self.event(Type::Warning, "TooManyMissedTimes", msg);
                }
                at
            }
        };
        let requeue = |s: &Self| schedule::next_requeue(s.times(), now, &sched);

        let too_late = spec.starting_deadline_seconds.is_some_and(|d| scheduled + chrono::Duration::seconds(d) < now);
        if too_late {
            let msg = format!("Missed scheduled time to start a job: {}", scheduled.format("%a, %d %b %Y %H:%M:%S %z"));
            self.event(Type::Warning, "MissSchedule", &msg);
            return Ok(requeue(self));
        }
        let name = jobs::name(&self.cj, scheduled);
        if jobs::in_active_by_name(&self.cj, &name) || self.times().last_scheduled == Some(scheduled) {
            return Ok(requeue(self));
        }
        let active: Vec<_> = self.cj.status.iter().flat_map(|s| s.active.iter().flatten()).cloned().collect();
        match spec.concurrency_policy.as_deref() {
            Some("Forbid") if !active.is_empty() => {
                let msg = "Not starting job because prior execution is running and concurrency policy is Forbid";
                self.event(Type::Normal, "JobAlreadyActive", msg);
                return Ok(requeue(self));
            }
            Some("Replace") => {
                for r in active {
                    let job_name = r.name.clone().unwrap_or_default();
                    let api: Api<Job> = Api::namespaced(self.st.client.clone(), &self.namespace());
                    let job = match api.get(&job_name).await {
                        Ok(job) => job,
                        Err(e) => {
                            self.event(Type::Warning, "FailedGet", &format!("Get job: {e}"));
                            return Err(Error::GetJob(job_name, e));
                        }
                    };
                    if !self.delete_job(&job).await {
                        return Err(Error::ReplaceJob(job_name));
                    }
                    self.changed = true;
                }
            }
            _ => {}
        }
        let Some(job) = self.create_job(scheduled, zone).await? else { return Ok(requeue(self)) };
        let status = self.cj.status.get_or_insert_with(Default::default);
        status.active.get_or_insert_with(Vec::new).push(jobs::reference(&job));
        status.last_schedule_time = Some(to_time(scheduled));
        self.changed = true;
        Ok(requeue(self))
    }

    /// Active entries whose Job is gone (checked against the API server, not only the cache).
    async fn drop_missing(&mut self, all: &[Arc<Job>]) -> Result<(), Error> {
        let active: Vec<_> = self.cj.status.iter().flat_map(|s| s.active.iter().flatten()).cloned().collect();
        for r in active {
            if all.iter().any(|j| j.metadata.uid == r.uid) {
                continue;
            }
            let name = r.name.clone().unwrap_or_default();
            let ns = r.namespace.clone().unwrap_or_else(|| self.namespace());
            let api: Api<Job> = Api::namespaced(self.st.client.clone(), &ns);
            match api.get_opt(&name).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.event(Type::Normal, "MissingJob", &format!("Active job went missing: {name}"));
                    jobs::remove_from_active(&mut self.cj, r.uid.as_deref());
                    self.changed = true;
                }
                Err(e) => return Err(Error::GetJob(name, e)),
            }
        }
        Ok(())
    }

    /// Creates the Job of `scheduled`. Answers the Job to list as active, or none when a Job
    /// of that name exists that is not ours or already listed.
    async fn create_job(&mut self, scheduled: DateTime<Utc>, zone: Tz) -> Result<Option<Job>, Error> {
        let request = jobs::from_template(&self.cj, scheduled, zone);
        let name = request.metadata.name.clone().unwrap_or_default();
        let api: Api<Job> = Api::namespaced(self.st.client.clone(), &self.namespace());
        match api.create(&PostParams::default(), &request).await {
            Ok(job) => {
                self.event(Type::Normal, "SuccessfulCreate", &format!("Created job {name}"));
                Ok(Some(job))
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                // Created before, but the status write that should have followed was lost.
                debug!(job = %name, "job already exists");
                let job = api.get(&name).await.map_err(|e| Error::GetJob(name.clone(), e))?;
                let ours = controller_of(&job.metadata).is_some_and(|r| Some(&r.uid) == self.cj.metadata.uid.as_ref());
                if !ours || jobs::in_active(&self.cj, job.metadata.uid.as_deref()) {
                    return Ok(None);
                }
                Ok(Some(job))
            }
            Err(e) => {
                self.event(Type::Warning, "FailedCreate", &format!("Error creating job: {e}"));
                Err(Error::CreateJob(e))
            }
        }
    }

    /// Writes `active`, `lastScheduleTime` and `lastSuccessfulTime`, with the resourceVersion
    /// read (kube's UpdateStatus): a sync that saw a stale CronJob must not drop a Job another
    /// sync listed.
    async fn write_status(&self) -> Result<(), Error> {
        let status = self.cj.status.clone().unwrap_or_default();
        let active = status.active.filter(|a| !a.is_empty());
        let patch = json!({
            "metadata": { "resourceVersion": self.cj.metadata.resource_version },
            "status": {
                "active": active.map_or(Value::Null, |a| serde_json::to_value(a).unwrap_or(Value::Null)),
                "lastScheduleTime": status.last_schedule_time,
                "lastSuccessfulTime": status.last_successful_time,
            }
        });
        let api: Api<CronJob> = Api::namespaced(self.st.client.clone(), &self.namespace());
        let name = self.cj.metadata.name.as_deref().unwrap_or_default();
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await.map_err(Error::UpdateStatus)?;
        Ok(())
    }
}
