//! Job conditions as kube writes them. Since v1.31 a finishing Job first gets an interim
//! condition (`SuccessCriteriaMet` or `FailureTarget`) and only once every pod is terminal and
//! counted the terminal one (`Complete` or `Failed`) with the same reason and message.

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{Job, JobCondition};

use crate::pods::{to_chrono, to_time};

pub const COMPLETE: &str = "Complete";
pub const FAILED: &str = "Failed";
pub const SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";
pub const FAILURE_TARGET: &str = "FailureTarget";
pub const SUSPENDED: &str = "Suspended";

/// `JobReasonCompletionsReached` and its message.
pub const COMPLETIONS_REACHED: (&str, &str) = ("CompletionsReached", "Reached expected number of succeeded pods");
/// `JobReasonBackoffLimitExceeded` and its message.
pub const BACKOFF_LIMIT_EXCEEDED: (&str, &str) =
    ("BackoffLimitExceeded", "Job has reached the specified backoff limit");
/// `JobReasonDeadlineExceeded` and its message.
pub const DEADLINE_EXCEEDED: (&str, &str) = ("DeadlineExceeded", "Job was active longer than specified deadline");

/// A condition of `type_` that changed at `now`.
pub fn new(type_: &str, status: &str, reason: &str, message: &str, now: DateTime<Utc>) -> JobCondition {
    JobCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        // Go's omitempty: kube leaves an empty reason or message out.
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        message: (!message.is_empty()).then(|| message.to_string()),
        last_probe_time: Some(to_time(now)),
        last_transition_time: Some(to_time(now)),
    }
}

/// The condition of `type_`, if any.
pub fn find<'a>(list: &'a [JobCondition], type_: &str) -> Option<&'a JobCondition> {
    list.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of `type_` is True.
pub fn is_true(list: &[JobCondition], type_: &str) -> bool {
    find(list, type_).is_some_and(|c| c.status == "True")
}

/// kube's `ensureJobConditionStatus`: sets the condition of `type_` (a False one is only
/// written over an existing condition). Answers whether the list changed.
pub fn ensure(
    list: &mut Vec<JobCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: DateTime<Utc>,
) -> bool {
    if let Some(c) = list.iter_mut().find(|c| c.type_ == type_) {
        let same = c.status == status
            && c.reason.as_deref().unwrap_or("") == reason
            && c.message.as_deref().unwrap_or("") == message;
        if same {
            return false;
        }
        *c = new(type_, status, reason, message, now);
        return true;
    }
    if status != "False" {
        list.push(new(type_, status, reason, message, now));
        return true;
    }
    false
}

/// The terminal condition (`Complete` or `Failed`, True) of a finished Job: kube's
/// `IsJobFinished`.
pub fn finished(job: &Job) -> Option<&JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == COMPLETE || c.type_ == FAILED) && c.status == "True")
}

/// When a finished Job finished: its terminal condition's last transition.
pub fn finished_at(job: &Job) -> Option<DateTime<Utc>> {
    finished(job)?.last_transition_time.as_ref().map(to_chrono)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_appends_true_updates_and_skips_false() {
        let now = Utc::now();
        let mut list = Vec::new();
        assert!(!ensure(&mut list, SUSPENDED, "False", "JobResumed", "Job resumed", now));
        assert!(list.is_empty());
        assert!(ensure(&mut list, SUSPENDED, "True", "JobSuspended", "Job suspended", now));
        assert!(!ensure(&mut list, SUSPENDED, "True", "JobSuspended", "Job suspended", now));
        assert!(ensure(&mut list, SUSPENDED, "False", "JobResumed", "Job resumed", now));
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].status.as_str(), list[0].reason.as_deref()), ("False", Some("JobResumed")));
    }

    #[test]
    fn empty_reason_is_omitted() {
        let c = new(COMPLETE, "True", "", "", Utc::now());
        assert_eq!((c.reason, c.message), (None, None));
    }
}
