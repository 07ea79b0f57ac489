//! One sync of an unfinished Job: kube's `syncJob`, `manageJob` and
//! `trackJobStatusAndRemoveFinalizers`.
//!
//! Pods are counted through the tracking finalizer: a finished pod that still carries it is
//! first recorded in `status.uncountedTerminatedPods` (written), then its finalizer is dropped,
//! then it moves into `succeeded`/`failed` (written again). A pod deleted at any point is
//! therefore still counted, and a sync interrupted between the steps resumes from the status.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use futures::future::join_all;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;

use super::conditions::{self, FAILURE_TARGET, SUCCESS_CRITERIA_MET, SUSPENDED};
use super::indexes::{self, Intervals};
use super::pods::{self as jobpods, has_tracking_finalizer, is_failed, ABOUT};
use super::status::Writer;
use super::{backoff, Error, State};
use crate::events::{self, Type};
use crate::pods::{self as podutil, to_time};
use crate::replicaset::ranking;
use crate::{claim, selector};

/// kube's `MaxPodCreateDeletePerSync`, also the cap of `MaxUncountedPods`.
const MAX_PER_SYNC: usize = 500;

/// How soon a Job whose earlier pod changes are not all in the cache is looked at again.
const UNSATISFIED_RETRY: Duration = Duration::from_secs(5);

const INDEXED: &str = "Indexed";
const NON_INDEXED: &str = "NonIndexed";

/// Whether `spec.suspend` is true.
pub fn suspended(spec: &JobSpec) -> bool {
    spec.suspend == Some(true)
}

fn is_indexed(spec: &JobSpec) -> bool {
    spec.completion_mode.as_deref() == Some(INDEXED)
}

/// kube's `onlyReplaceFailedPods`: podReplacementPolicy Failed, or a pod failure policy.
fn only_replace_failed(spec: &JobSpec) -> bool {
    spec.pod_replacement_policy.as_deref() == Some("Failed") || spec.pod_failure_policy.is_some()
}

/// How many pods should be active: up to `parallelism`, never more than the completions left;
/// a Job without completions keeps what runs once one pod succeeded.
pub fn want_active(completions: Option<i32>, parallelism: i32, succeeded: i32, active: i32) -> i32 {
    match completions {
        None if succeeded > 0 => active,
        None => parallelism,
        Some(c) => (c - succeeded).min(parallelism).max(0),
    }
}

/// kube's `pastBackoffLimitOnFailure`: with restartPolicy OnFailure, container restarts of
/// pending and running pods count against the backoff limit. (The cache keeps no init
/// container statuses, so their restarts are not counted.)
pub fn past_backoff_limit_on_failure(spec: &JobSpec, pods: &[Arc<Pod>]) -> bool {
    let policy = spec.template.spec.as_ref().and_then(|s| s.restart_policy.as_deref());
    if policy != Some("OnFailure") {
        return false;
    }
    let restarts: i32 = pods
        .iter()
        .filter(|p| matches!(podutil::phase(p), "Running" | "Pending"))
        .flat_map(|p| p.status.iter().flat_map(|s| s.container_statuses.iter().flatten()))
        .map(|c| c.restart_count)
        .sum();
    let limit = spec.backoff_limit.unwrap_or(6);
    if limit == 0 {
        return restarts > 0;
    }
    restarts >= limit
}

fn len(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn duration_until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}

/// Moves pods whose finalizer is gone from `uncountedTerminatedPods` into the counters.
/// Answers whether anything moved.
fn clean_uncounted(status: &mut JobStatus, with_finalizer: &HashSet<String>) -> bool {
    let uncounted = status.uncounted_terminated_pods.get_or_insert_with(Default::default);
    let (kept_ok, gone_ok): (Vec<String>, Vec<String>) =
        uncounted.succeeded.take().unwrap_or_default().into_iter().partition(|u| with_finalizer.contains(u));
    let (kept_failed, gone_failed): (Vec<String>, Vec<String>) =
        uncounted.failed.take().unwrap_or_default().into_iter().partition(|u| with_finalizer.contains(u));
    uncounted.succeeded = (!kept_ok.is_empty()).then_some(kept_ok);
    uncounted.failed = (!kept_failed.is_empty()).then_some(kept_failed);
    if !gone_ok.is_empty() {
        status.succeeded = Some(status.succeeded.unwrap_or(0) + len(gone_ok.len()));
    }
    if !gone_failed.is_empty() {
        status.failed = Some(status.failed.unwrap_or(0) + len(gone_failed.len()));
    }
    !gone_ok.is_empty() || !gone_failed.is_empty()
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// The pods `job` controls (every phase), after adopting matching orphans and releasing
/// pods that stopped matching.
async fn claim_pods(st: &State, job: &Job) -> Vec<Arc<Pod>> {
    let ns = job.metadata.namespace.as_deref().unwrap_or_default();
    let job_uid = job.metadata.uid.as_deref();
    let mine = |p: &Pod| podutil::controller_of(&p.metadata).map(|r| r.uid.as_str()) == job_uid;
    let selector = job.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
    let all = st.pods.in_namespace(ns);
    // A selector that selects everything adopts nothing.
    if selector::is_empty(&selector) {
        return all.into_iter().filter(|p| mine(p)).collect();
    }
    let candidates: Vec<Arc<Pod>> =
        all.into_iter().filter(|p| mine(p) || podutil::controller_of(&p.metadata).is_none()).collect();
    let orphans: HashSet<String> = candidates.iter().filter(|p| !mine(p)).map(|p| uid(p).to_string()).collect();
    let api: Api<Pod> = Api::namespaced(st.client.clone(), ns);
    let owner = claim::owner_ref(ABOUT.api_version, ABOUT.kind, &job.metadata);
    let deleting = job.metadata.deletion_timestamp.is_some();
    let claimed =
        claim::claim(&api, &owner, deleting, candidates, |p| selector::matches(&selector, p.metadata.labels.as_ref()))
            .await;
    claimed
        .into_iter()
        .map(|p| if orphans.contains(uid(&p)) { jobpods::with_tracking_finalizer(&p) } else { p })
        .collect()
}

/// What one sync works on (kube's `syncJobCtx`).
struct Sync<'a> {
    st: &'a State,
    job: &'a Job,
    spec: &'a JobSpec,
    key: String,
    now: DateTime<Utc>,
    pods: Vec<Arc<Pod>>,
    active_pods: Vec<Arc<Pod>>,
    /// `uncountedTerminatedPods` as the sync found them.
    uncounted_succeeded: HashSet<String>,
    uncounted_failed: HashSet<String>,
    /// Pods whose finalizer removal the cache has not shown yet: already counted.
    expected_rm: HashSet<String>,
    status: JobStatus,
    finished: Option<JobCondition>,
    succeeded: i32,
    prev_succeeded: Intervals,
    succeeded_indexes: Intervals,
    terminating: i32,
    ready: i32,
    only_replace_failed: bool,
    /// The backoff record with this sync's newly finished pods.
    backoff: backoff::Record,
    requeue: Option<Duration>,
}

/// Syncs `job`; answers when to look again, if a timer (backoff, deadline) says so.
pub async fn sync(job: &Job, st: &State) -> Result<Option<Duration>, Error> {
    let Some(spec) = job.spec.as_ref() else { return Ok(None) };
    if let Some(mode) = spec.completion_mode.as_deref() {
        if mode != INDEXED && mode != NON_INDEXED {
            let msg = "Skipped Job sync because completion mode is unknown";
            events::record(&st.client, ABOUT, job, Type::Warning, "UnknownCompletionMode", msg);
            return Ok(None);
        }
    }
    let ns = job.metadata.namespace.as_deref().unwrap_or_default();
    let key = format!("{ns}/{}", job.metadata.name.as_deref().unwrap_or_default());
    // kube's times have whole seconds on the wire; deadlines are computed from those.
    let now = Utc::now().trunc_subsecs(0);
    let mut status = job.status.clone().unwrap_or_default();
    let uncounted = status.uncounted_terminated_pods.get_or_insert_with(Default::default).clone();
    let satisfied = st.expectations.satisfied(&key, ns, &st.pods);
    let pods = claim_pods(st, job).await;
    let expected_rm = st.finalizers.pending(&key, ns, &st.pods);
    let active_pods: Vec<Arc<Pod>> = pods.iter().filter(|p| podutil::is_active(p)).cloned().collect();
    let mut s = Sync {
        st,
        job,
        spec,
        now,
        ready: len(active_pods.iter().filter(|p| podutil::is_ready(p)).count()),
        terminating: len(pods.iter().filter(|p| jobpods::is_terminating(p)).count()),
        uncounted_succeeded: uncounted.succeeded.into_iter().flatten().collect(),
        uncounted_failed: uncounted.failed.into_iter().flatten().collect(),
        expected_rm,
        active_pods,
        pods,
        key,
        status,
        finished: None,
        succeeded: 0,
        prev_succeeded: Intervals::default(),
        succeeded_indexes: Intervals::default(),
        only_replace_failed: only_replace_failed(spec),
        backoff: backoff::Record::default(),
        requeue: None,
    };
    s.run(satisfied).await?;
    Ok(s.requeue)
}

impl Sync<'_> {
    fn requeue_after(&mut self, d: Duration) {
        self.requeue = Some(self.requeue.map_or(d, |r| r.min(d)));
    }

    fn completions(&self) -> i32 {
        self.spec.completions.unwrap_or(0)
    }

    /// A pod not counted in the status yet (kube's `getValidPodsWithFilter`).
    fn uncounted_pod(&self, pod: &Pod, already: &HashSet<String>) -> bool {
        let u = uid(pod);
        has_tracking_finalizer(pod)
            && !already.contains(u)
            && !self.expected_rm.contains(u)
            && (!is_indexed(self.spec) || indexes::valid_index(pod, self.completions()).is_some())
    }

    async fn run(&mut self, satisfied: bool) -> Result<(), Error> {
        let spec = self.spec;
        let new_succeeded: Vec<&Pod> = self
            .pods
            .iter()
            .filter(|p| self.uncounted_pod(p, &self.uncounted_succeeded) && podutil::phase(p) == "Succeeded")
            .map(|p| p.as_ref())
            .collect();
        let new_failed: Vec<&Pod> = self
            .pods
            .iter()
            .filter(|p| self.uncounted_pod(p, &self.uncounted_failed) && is_failed(p, self.only_replace_failed))
            .map(|p| p.as_ref())
            .collect();
        self.succeeded =
            self.status.succeeded.unwrap_or(0) + len(new_succeeded.len()) + len(self.uncounted_succeeded.len());
        let failed = self.status.failed.unwrap_or(0) + len(new_failed.len()) + len(self.uncounted_failed.len());
        self.backoff = self.st.backoff.get(&self.key).updated(&new_succeeded, &new_failed);
        let start_before = self.status.start_time.clone();
        if self.status.start_time.is_none() && !suspended(spec) {
            self.status.start_time = Some(to_time(self.now));
        }

        self.finished = self.finish_condition(failed);
        if is_indexed(spec) {
            self.prev_succeeded =
                Intervals::parse(self.status.completed_indexes.as_deref().unwrap_or(""), self.completions());
            let mut new: Vec<i32> = self
                .pods
                .iter()
                .filter(|p| podutil::phase(p) == "Succeeded" && has_tracking_finalizer(p))
                .filter_map(|p| indexes::valid_index(p, self.completions()))
                .collect();
            new.sort_unstable();
            new.dedup();
            self.succeeded_indexes = self.prev_succeeded.with_ordered(&new);
            self.succeeded = self.succeeded_indexes.total();
        }

        if !satisfied {
            // Pod events normally bring the Job back; this covers a pod created and deleted
            // before the cache saw it (its expectation then lasts until it expires).
            self.requeue_after(UNSATISFIED_RETRY);
        }
        let mut active = len(self.active_pods.len());
        let mut suspend_changed = false;
        let mut manage_error = None;
        if self.finished.is_some() {
            let (deleted_ready, deleted, error) = self.delete_active().await;
            if deleted != active || !satisfied {
                // Pods still to go, or the cache may not show them all yet: not finished yet.
                self.finished = None;
            }
            active -= deleted;
            self.terminating += deleted;
            self.ready -= deleted_ready;
            manage_error = error;
        } else {
            let mut managed = false;
            if satisfied && self.job.metadata.deletion_timestamp.is_none() {
                manage_error = self.manage(&mut active).await;
                managed = true;
            }
            let complete = match spec.completions {
                None => self.succeeded > 0 && active == 0,
                Some(c) => self.succeeded >= c && active == 0,
            };
            if complete {
                let (reason, message) = conditions::COMPLETIONS_REACHED;
                self.finished = Some(conditions::new(SUCCESS_CRITERIA_MET, "True", reason, message, self.now));
            } else if managed {
                suspend_changed = self.note_suspension();
            }
        }

        let needs_update = suspend_changed
            || active != self.status.active.unwrap_or(0)
            || Some(self.ready) != self.status.ready
            || Some(self.terminating) != self.status.terminating
            || start_before != self.status.start_time;
        self.status.active = Some(active);
        self.status.ready = Some(self.ready);
        self.status.terminating = Some(self.terminating);
        self.track(needs_update).await?;
        match manage_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Whether the Job is finishing: an interim condition already written (the terminal one
    /// follows), the backoff limit or the active deadline. Requeues for a deadline ahead.
    fn finish_condition(&mut self, failed: i32) -> Option<JobCondition> {
        let spec = self.spec;
        let conds = self.status.conditions.clone().unwrap_or_default();
        // Met earlier: the pods left are being removed.
        if let Some(met) = conditions::find(&conds, SUCCESS_CRITERIA_MET).filter(|c| c.status == "True") {
            return Some(met.clone());
        }
        // Failing earlier: the terminal condition repeats the interim one.
        if let Some(target) = conditions::find(&conds, FAILURE_TARGET).filter(|c| c.status == "True") {
            return Some(self.terminal(conditions::FAILED, target));
        }
        let failure =
            |(reason, message): (&str, &str), now| Some(conditions::new(FAILURE_TARGET, "True", reason, message, now));
        let start = self.status.start_time.as_ref().map(podutil::to_chrono);
        let deadline = spec.active_deadline_seconds.zip(start).filter(|_| !suspended(spec));
        let deadline = deadline.map(|(secs, start)| start + chrono::Duration::seconds(secs));
        if failed > spec.backoff_limit.unwrap_or(6) || past_backoff_limit_on_failure(spec, &self.pods) {
            return failure(conditions::BACKOFF_LIMIT_EXCEEDED, self.now);
        }
        if deadline.is_some_and(|d| self.now >= d) {
            return failure(conditions::DEADLINE_EXCEEDED, self.now);
        }
        if let Some(d) = deadline {
            self.requeue_after(duration_until(d, self.now));
        }
        None
    }

    /// The Suspended condition and its events; answers whether it changed. Resuming restarts
    /// the clock of activeDeadlineSeconds.
    fn note_suspension(&mut self) -> bool {
        let now = self.now;
        let conds = self.status.conditions.get_or_insert_with(Vec::new);
        if suspended(self.spec) {
            let changed = conditions::ensure(conds, SUSPENDED, "True", "JobSuspended", "Job suspended", now);
            if changed {
                events::record(&self.st.client, ABOUT, self.job, Type::Normal, "Suspended", "Job suspended");
            }
            return changed;
        }
        let changed = conditions::ensure(conds, SUSPENDED, "False", "JobResumed", "Job resumed", now);
        if changed {
            events::record(&self.st.client, ABOUT, self.job, Type::Normal, "Resumed", "Job resumed");
            self.status.start_time = Some(to_time(now));
        }
        changed
    }

    /// Active pods to remove first: for an Indexed Job those without a valid index and
    /// repeated indexes, then in kube's `ActivePods` order (not running, not ready, younger).
    fn pods_for_removal(&self, at_least: usize) -> Vec<Arc<Pod>> {
        let (mut remove, mut left) = if is_indexed(self.spec) {
            indexes::duplicates(&self.active_pods, self.completions(), self.now)
        } else {
            (Vec::new(), self.active_pods.clone())
        };
        if remove.len() < at_least {
            left.sort_by(|a, b| ranking::compare(a, 0, b, 0, self.now));
            let more = at_least - remove.len();
            remove.extend(left.into_iter().take(more));
        }
        remove
    }

    /// kube's `manageJob`: creates or deletes pods towards the wanted number of active ones.
    async fn manage(&mut self, active: &mut i32) -> Option<Error> {
        let spec = self.spec;
        if suspended(spec) {
            let victims = self.pods_for_removal(self.active_pods.len());
            return self.delete_job_pods(&victims, active).await;
        }
        let want = want_active(spec.completions, spec.parallelism.unwrap_or(1), self.succeeded, *active);
        let excess = usize::try_from(*active - want).unwrap_or(0);
        let mut victims = self.pods_for_removal(excess);
        victims.truncate(MAX_PER_SYNC);
        if !victims.is_empty() {
            // A sync either deletes or creates, deletion first (kube does the same).
            return self.delete_job_pods(&victims, active).await;
        }
        let terminating = if self.only_replace_failed { self.terminating } else { 0 };
        let missing = usize::try_from(want - terminating - *active).unwrap_or(0).min(MAX_PER_SYNC);
        if missing == 0 {
            return None;
        }
        let wait = self.backoff.remaining(self.now);
        if !wait.is_zero() {
            self.requeue_after(wait.max(Duration::from_secs(1)));
            return None;
        }
        let plan: Vec<Option<i32>> = if is_indexed(spec) {
            let pending =
                indexes::first_pending(&self.active_pods, &self.succeeded_indexes, missing, self.completions());
            pending.into_iter().map(Some).collect()
        } else {
            vec![None; missing]
        };
        let (created, error) = self.create(&plan).await;
        *active += len(created.len());
        error
    }

    /// Creates a pod per entry of `plan` (an index or none) in slow-start batches (1, 2, 4,
    /// ...), stopping at the first batch with a failure.
    async fn create(&mut self, plan: &[Option<i32>]) -> (Vec<String>, Option<Error>) {
        let mut created = Vec::new();
        let mut error = None;
        let mut rest = plan;
        let mut batch = 1;
        while !rest.is_empty() && error.is_none() {
            let (now, later) = rest.split_at(batch.min(rest.len()));
            let results = join_all(now.iter().map(|ix| jobpods::create(&self.st.client, self.job, *ix))).await;
            for result in results {
                match result {
                    Ok(name) => created.push(name),
                    Err(e) => {
                        error.get_or_insert(Error::CreatePods(e));
                    }
                }
            }
            rest = later;
            batch *= 2;
        }
        self.st.expectations.expect(&self.key, created.clone(), []);
        (created, error)
    }

    /// kube's `deleteJobPods`: drops each pod's finalizer (a pod removed on purpose is not a
    /// failure to count), then deletes it.
    async fn delete_job_pods(&mut self, victims: &[Arc<Pod>], active: &mut i32) -> Option<Error> {
        let client = &self.st.client;
        let job = self.job;
        let results = join_all(victims.iter().map(|p| async move {
            jobpods::remove_finalizer(client, p).await.map_err(Error::RemoveFinalizers)?;
            jobpods::delete(client, job, p).await.map_err(Error::DeletePods)
        }))
        .await;
        let mut error = None;
        let mut deleted = Vec::new();
        for (pod, result) in victims.iter().zip(results) {
            match result {
                Ok(()) => {
                    deleted.push((pod.metadata.name.clone().unwrap_or_default(), uid(pod).to_string()));
                    *active -= 1;
                    self.terminating += 1;
                    if podutil::is_ready(pod) {
                        self.ready -= 1;
                    }
                }
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        self.st.expectations.expect(&self.key, [], deleted);
        error
    }

    /// kube's `deleteActivePods` for a Job that is finishing: deletes every active pod, its
    /// finalizer kept so that it is counted. Answers (ready deleted, deleted, first error).
    async fn delete_active(&self) -> (i32, i32, Option<Error>) {
        let client = &self.st.client;
        let results = join_all(self.active_pods.iter().map(|p| jobpods::delete(client, self.job, p))).await;
        let (mut ready, mut deleted, mut error) = (0, 0, None);
        for (pod, result) in self.active_pods.iter().zip(results) {
            match result {
                Ok(()) => {
                    deleted += 1;
                    if podutil::is_ready(pod) {
                        ready += 1;
                    }
                }
                Err(e) => {
                    error.get_or_insert(Error::DeletePods(e));
                }
            }
        }
        (ready, deleted, error)
    }

    /// kube's `trackJobStatusAndRemoveFinalizers`: records finished pods as uncounted, drops
    /// their finalizers, counts them, and writes the terminal condition once nothing is left
    /// uncounted or terminating.
    async fn track(&mut self, mut needs_flush: bool) -> Result<(), Error> {
        let indexed = is_indexed(self.spec);
        let completions = self.completions();
        let mut pods = self.pods.clone();
        if indexed {
            pods.sort_by_key(|p| indexes::completion_index(p.metadata.annotations.as_ref()).unwrap_or(-1));
        }
        let mut with_finalizer: HashSet<String> = pods
            .iter()
            .filter(|p| has_tracking_finalizer(p) && !self.expected_rm.contains(uid(p)))
            .map(|p| uid(p).to_string())
            .collect();
        if clean_uncounted(&mut self.status, &with_finalizer) {
            needs_flush = true;
        }
        let failing = self.finished.as_ref().is_some_and(|c| c.type_ != SUCCESS_CRITERIA_MET);
        let deleting = self.job.metadata.deletion_timestamp.is_some();
        let mut to_remove: Vec<Arc<Pod>> = Vec::new();
        let mut new_indexes: Vec<i32> = Vec::new();
        let mut reached_max = false;
        for pod in &pods {
            let u = uid(pod).to_string();
            if !has_tracking_finalizer(pod) || self.expected_rm.contains(&u) {
                continue;
            }
            let failed = is_failed(pod, self.only_replace_failed);
            let succeeded = podutil::phase(pod) == "Succeeded";
            if !(deleting || self.finished.is_some() || succeeded || failed) {
                continue;
            }
            to_remove.push(Arc::clone(pod));
            let uncounted = self.status.uncounted_terminated_pods.get_or_insert_with(Default::default);
            if succeeded && !self.uncounted_failed.contains(&u) {
                if indexed {
                    match indexes::valid_index(pod, completions) {
                        Some(ix) if !self.prev_succeeded.has(ix) => {
                            new_indexes.push(ix);
                            needs_flush = true;
                        }
                        _ => {}
                    }
                } else if !self.uncounted_succeeded.contains(&u) {
                    needs_flush = true;
                    uncounted.succeeded.get_or_insert_with(Vec::new).push(u.clone());
                }
            } else if failed || failing {
                // Once the Job fails, every pod not succeeded counts as failed.
                let index_ok = !indexed || indexes::valid_index(pod, completions).is_some();
                if !self.uncounted_failed.contains(&u) && index_ok {
                    needs_flush = true;
                    uncounted.failed.get_or_insert_with(Vec::new).push(u.clone());
                }
            }
            let listed =
                uncounted.succeeded.as_ref().map_or(0, Vec::len) + uncounted.failed.as_ref().map_or(0, Vec::len);
            if new_indexes.len() + listed >= MAX_PER_SYNC {
                // Keep the status small; the status write brings the Job back for the rest.
                reached_max = true;
                break;
            }
        }
        if indexed {
            new_indexes.sort_unstable();
            new_indexes.dedup();
            self.succeeded_indexes = self.succeeded_indexes.with_ordered(&new_indexes);
            let text = self.succeeded_indexes.to_string();
            if text != self.status.completed_indexes.as_deref().unwrap_or("") {
                needs_flush = true;
            }
            self.status.succeeded = Some(self.succeeded_indexes.total());
            self.status.completed_indexes = (!text.is_empty()).then_some(text);
        }
        // The interim condition is written with the uncounted pods, the terminal one after.
        if let Some(target) = self.finished.clone().filter(|c| c.type_ == FAILURE_TARGET) {
            self.status.conditions.get_or_insert_with(Vec::new).push(target.clone());
            needs_flush = true;
            self.finished = Some(self.terminal(conditions::FAILED, &target));
        }
        if let Some(met) = self.finished.clone().filter(|c| c.type_ == SUCCESS_CRITERIA_MET) {
            let conds = self.status.conditions.get_or_insert_with(Vec::new);
            if !conditions::is_true(conds, SUCCESS_CRITERIA_MET) {
                conds.push(met.clone());
                needs_flush = true;
            }
            self.finished = Some(self.terminal(conditions::COMPLETE, &met));
        }

        let mut writer = Writer::new(&self.st.client, self.job);
        if needs_flush {
            writer.write(&self.status).await.map_err(Error::UpdateStatus)?;
            // The newly counted pods are in the status now: they enter the backoff record.
            self.st.backoff.set(&self.key, self.backoff);
            needs_flush = false;
        }
        let mut remove_error = None;
        if !to_remove.is_empty() {
            let expected = to_remove.iter().map(|p| (p.metadata.name.clone().unwrap_or_default(), uid(p).to_string()));
            self.st.finalizers.expect(&self.key, expected);
            let client = &self.st.client;
            let results = join_all(to_remove.iter().map(|p| jobpods::remove_finalizer(client, p))).await;
            for (pod, result) in to_remove.iter().zip(results) {
                match result {
                    Ok(()) => {
                        with_finalizer.remove(uid(pod));
                    }
                    Err(e) => {
                        self.st.finalizers.forget_pod(&self.key, pod.metadata.name.as_deref().unwrap_or_default());
                        remove_error.get_or_insert(Error::RemoveFinalizers(e));
                    }
                }
            }
        }
        if clean_uncounted(&mut self.status, &with_finalizer) {
            needs_flush = true;
        }
        if let Some(e) = remove_error {
            // Keep the partial progress.
            if needs_flush {
                writer.write(&self.status).await.map_err(Error::UpdateStatus)?;
            }
            return Err(e);
        }
        let finished_now = !reached_max && self.enact_finished();
        if finished_now || needs_flush {
            writer.write(&self.status).await.map_err(Error::UpdateStatus)?;
            if finished_now {
                self.record_finished();
            }
        }
        Ok(())
    }

    /// The terminal condition that follows an interim one.
    fn terminal(&self, type_: &str, interim: &JobCondition) -> JobCondition {
        let reason = interim.reason.as_deref().unwrap_or("");
        conditions::new(type_, "True", reason, interim.message.as_deref().unwrap_or(""), self.now)
    }

    /// kube's `enactJobFinished`: the terminal condition (and completionTime), once no pod is
    /// uncounted or terminating.
    fn enact_finished(&mut self) -> bool {
        let Some(cond) = self.finished.clone() else { return false };
        let uncounted = self.status.uncounted_terminated_pods.as_ref();
        let pending =
            uncounted.map_or(0, |u| u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len));
        if pending > 0 || self.terminating > 0 {
            return false;
        }
        let conds = self.status.conditions.get_or_insert_with(Vec::new);
        let reason = cond.reason.as_deref().unwrap_or("");
        conditions::ensure(conds, &cond.type_, &cond.status, reason, cond.message.as_deref().unwrap_or(""), self.now);
        if cond.type_ == conditions::COMPLETE {
            self.status.completion_time = cond.last_transition_time.clone();
        }
        true
    }

    /// kube's `recordJobFinished` events.
    fn record_finished(&self) {
        let Some(cond) = self.finished.as_ref() else { return };
        let client = &self.st.client;
        if cond.type_ == conditions::COMPLETE {
            if self.spec.completions.is_some_and(|c| self.status.succeeded.unwrap_or(0) > c) {
                let msg = "Too many succeeded pods running after completion count reached";
                events::record(client, ABOUT, self.job, Type::Warning, "TooManySucceededPods", msg);
            }
            events::record(client, ABOUT, self.job, Type::Normal, "Completed", "Job completed");
        } else {
            let reason = cond.reason.as_deref().unwrap_or("");
            events::record(client, ABOUT, self.job, Type::Warning, reason, cond.message.as_deref().unwrap_or(""));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::UncountedTerminatedPods;
    use k8s_openapi::api::core::v1::{ContainerStatus, PodSpec, PodStatus, PodTemplateSpec};

    #[test]
    fn active_pods_wanted() {
        // completions 3, parallelism 2: two at once, then the one left.
        assert_eq!(want_active(Some(3), 2, 0, 0), 2);
        assert_eq!(want_active(Some(3), 2, 2, 1), 1);
        assert_eq!(want_active(Some(3), 2, 4, 0), 0);
        // Work queue: parallelism until one succeeds, then whatever still runs.
        assert_eq!(want_active(None, 3, 0, 1), 3);
        assert_eq!(want_active(None, 3, 1, 2), 2);
    }

    #[test]
    fn counted_pods_leave_the_uncounted_lists() {
        let mut status = JobStatus {
            succeeded: Some(1),
            uncounted_terminated_pods: Some(UncountedTerminatedPods {
                succeeded: Some(vec!["a".into(), "b".into()]),
                failed: Some(vec!["c".into()]),
            }),
            ..Default::default()
        };
        let with_finalizer: HashSet<String> = ["b".to_string()].into();
        assert!(clean_uncounted(&mut status, &with_finalizer));
        assert_eq!((status.succeeded, status.failed), (Some(2), Some(1)));
        let uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
        assert_eq!((uncounted.succeeded, uncounted.failed), (Some(vec!["b".to_string()]), None));
        assert!(!clean_uncounted(&mut status, &with_finalizer));
    }

    #[test]
    fn restarts_count_only_with_on_failure() {
        let pod = |phase: &str, restarts| {
            Arc::new(Pod {
                status: Some(PodStatus {
                    phase: Some(phase.into()),
                    container_statuses: Some(vec![ContainerStatus { restart_count: restarts, ..Default::default() }]),
                    ..Default::default()
                }),
                ..Default::default()
            })
        };
        let spec = |policy: &str, limit| JobSpec {
            backoff_limit: Some(limit),
            template: PodTemplateSpec {
                spec: Some(PodSpec { restart_policy: Some(policy.into()), ..Default::default() }),
                ..Default::default()
            },
            ..Default::default()
        };
        let pods = vec![pod("Running", 1), pod("Pending", 1), pod("Failed", 5)];
        assert!(past_backoff_limit_on_failure(&spec("OnFailure", 2), &pods));
        assert!(!past_backoff_limit_on_failure(&spec("OnFailure", 3), &pods));
        assert!(!past_backoff_limit_on_failure(&spec("Never", 1), &pods));
        assert!(past_backoff_limit_on_failure(&spec("OnFailure", 0), &pods[..1]));
    }
}
