//! Finalizer expectations, as kube's `uidTrackingExpectations`: after dropping the tracking
//! finalizer of pods it counted, a Job waits until its cache shows them without it. Otherwise
//! a sync reading the old pods would count them a second time.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Pod;

use super::pods::has_tracking_finalizer;
use crate::informers::Informer;

/// Per Job (`namespace/name`): pods (name → UID) whose finalizer removal is not seen yet.
#[derive(Debug, Default)]
pub struct FinalizerExpectations {
    jobs: Mutex<HashMap<String, HashMap<String, String>>>,
}

impl FinalizerExpectations {
    /// Remembers that the finalizers of `pods` (name, UID) are being removed.
    pub fn expect(&self, job: &str, pods: impl IntoIterator<Item = (String, String)>) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.entry(job.to_string()).or_default().extend(pods);
        }
    }

    /// Forgets one pod whose removal failed: no change is coming for it.
    pub fn forget_pod(&self, job: &str, name: &str) {
        if let Ok(mut jobs) = self.jobs.lock() {
            if let Some(pods) = jobs.get_mut(job) {
                pods.remove(name);
            }
        }
    }

    /// UIDs of pods whose removal the cache has not shown yet; the ones it has are forgotten.
    pub fn pending(&self, job: &str, namespace: &str, pods: &Informer<Pod>) -> HashSet<String> {
        let Ok(mut jobs) = self.jobs.lock() else { return HashSet::new() };
        let Some(expected) = jobs.get_mut(job) else { return HashSet::new() };
        expected.retain(|name, uid| {
            pods.get(Some(namespace), name)
                .is_some_and(|p| p.metadata.uid.as_deref() == Some(uid.as_str()) && has_tracking_finalizer(&p))
        });
        let out: HashSet<String> = expected.values().cloned().collect();
        if expected.is_empty() {
            jobs.remove(job);
        }
        out
    }

    /// Forgets a Job.
    pub fn forget(&self, job: &str) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.remove(job);
        }
    }
}
