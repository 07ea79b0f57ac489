//! The delay before a Job replaces failed pods: 10 s after the first failure, doubling with
//! each further failure since the last success, at most 10 minutes (kube's
//! `DefaultJobPodFailureBackOff` and `MaxJobPodFailureBackOff`).
//!
//! As in kube, the record lives in memory, fed with the pods each sync newly counts: a pod
//! that is gone once counted (a deleted one) still delays its replacement. After a restart the
//! record starts empty, as kube's does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;

use super::pods::finish_time;

const INITIAL: Duration = Duration::from_secs(10);
const MAX: Duration = Duration::from_secs(600);

/// Consecutive failures since the last success, and the last of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    pub failures: u32,
    pub last_failure: Option<DateTime<Utc>>,
}

impl Record {
    /// kube's `newBackoffRecord`: this record after pods newly counted as succeeded or failed.
    pub fn updated(self, succeeded: &[&Pod], failed: &[&Pod]) -> Record {
        let mut failed_at: Vec<DateTime<Utc>> = failed.iter().map(|p| finish_time(p)).collect();
        failed_at.sort_unstable();
        let Some(last_success) = succeeded.iter().map(|p| finish_time(p)).max() else {
            let Some(last) = failed_at.last() else { return self };
            let added = u32::try_from(failed_at.len()).unwrap_or(u32::MAX);
            return Record { failures: self.failures.saturating_add(added), last_failure: Some(*last) };
        };
        let after: Vec<&DateTime<Utc>> = failed_at.iter().filter(|t| **t > last_success).collect();
        Record { failures: u32::try_from(after.len()).unwrap_or(u32::MAX), last_failure: after.last().map(|t| **t) }
    }

    /// How long until a replacement may be created (zero: now).
    pub fn remaining(self, now: DateTime<Utc>) -> Duration {
        let Some(last) = self.last_failure.filter(|_| self.failures > 0) else { return Duration::ZERO };
        let mut delay = INITIAL;
        for _ in 1..self.failures {
            delay = delay.saturating_mul(2);
            if delay >= MAX {
                delay = MAX;
                break;
            }
        }
        let elapsed = (now - last).to_std().unwrap_or(Duration::ZERO);
        delay.saturating_sub(elapsed)
    }
}

/// The records of all Jobs, by `namespace/name`.
#[derive(Debug, Default)]
pub struct Store {
    records: Mutex<HashMap<String, Record>>,
}

impl Store {
    pub fn get(&self, job: &str) -> Record {
        self.records.lock().ok().and_then(|r| r.get(job).copied()).unwrap_or_default()
    }

    pub fn set(&self, job: &str, record: Record) {
        if let Ok(mut records) = self.records.lock() {
            records.insert(job.to_string(), record);
        }
    }

    /// Forgets a finished or deleted Job.
    pub fn remove(&self, job: &str) {
        if let Ok(mut records) = self.records.lock() {
            records.remove(job);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::to_time;
    use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, ContainerStatus, PodStatus};

    fn finished(at: DateTime<Utc>) -> Pod {
        Pod {
            status: Some(PodStatus {
                container_statuses: Some(vec![ContainerStatus {
                    state: Some(ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            finished_at: Some(to_time(at)),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn doubles_from_ten_seconds_up_to_ten_minutes() {
        let now = Utc::now();
        let at = |failures| Record { failures, last_failure: Some(now) }.remaining(now);
        assert_eq!(at(0), Duration::ZERO);
        assert_eq!(at(1), Duration::from_secs(10));
        assert_eq!(at(2), Duration::from_secs(20));
        assert_eq!(at(3), Duration::from_secs(40));
        assert_eq!(at(20), Duration::from_secs(600));
        let later = Record { failures: 2, last_failure: Some(now - chrono::Duration::seconds(15)) };
        assert_eq!(later.remaining(now), Duration::from_secs(5));
    }

    #[test]
    fn failures_add_up_until_a_success() {
        let now = Utc::now();
        let s = |n| now - chrono::Duration::seconds(n);
        let (f50, f30, f20, ok40) = (finished(s(50)), finished(s(30)), finished(s(20)), finished(s(40)));
        let one = Record::default().updated(&[], &[&f50]);
        assert_eq!(one, Record { failures: 1, last_failure: Some(s(50)) });
        let three = one.updated(&[], &[&f30, &f20]);
        assert_eq!(three, Record { failures: 3, last_failure: Some(s(20)) });
        // A success in the same batch: only the failures after it count.
        let reset = three.updated(&[&ok40], &[&f50, &f30, &f20]);
        assert_eq!(reset, Record { failures: 2, last_failure: Some(s(20)) });
        assert_eq!(reset.updated(&[&ok40], &[]), Record::default());
        assert_eq!(reset.updated(&[], &[]), reset);
    }
}
