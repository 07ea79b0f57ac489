//! Expectations, as kube's `ControllerExpectations`: after creating or deleting pods, a
//! controller waits until its cache has seen those changes before it counts pods again.
//! Otherwise a cache that lags behind the API server shows too few pods and the controller
//! creates them a second time. Expectations live in memory: after a restart the cache is
//! listed in full before any reconcile, so there is nothing to wait for.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;

use crate::informers::Informer;

/// How long an expectation holds at most: a pod created and deleted before the cache saw it
/// would otherwise block its owner forever (kube uses 5 minutes).
const TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
struct Expected {
    /// Names of pods created but not yet seen in the cache.
    creations: HashSet<String>,
    /// (name, UID) of pods deleted but still in the cache without a deletion timestamp.
    deletions: HashSet<(String, String)>,
    since: Option<Instant>,
}

/// What each owner (by `namespace/name`) waits to see.
#[derive(Debug, Default)]
pub struct Expectations {
    owners: Mutex<HashMap<String, Expected>>,
}

impl Expectations {
    /// Remembers pods `owner` created (by name) and deleted (by name and UID).
    pub fn expect(
        &self,
        owner: &str,
        created: impl IntoIterator<Item = String>,
        deleted: impl IntoIterator<Item = (String, String)>,
    ) {
        let Ok(mut owners) = self.owners.lock() else { return };
        let e = owners.entry(owner.to_string()).or_default();
        e.creations.extend(created);
        e.deletions.extend(deleted);
        e.since = Some(Instant::now());
    }

    /// Whether the cache has seen everything `owner` did (or the expectations expired).
    pub fn satisfied(&self, owner: &str, namespace: &str, pods: &Informer<Pod>) -> bool {
        let Ok(mut owners) = self.owners.lock() else { return true };
        let Some(e) = owners.get_mut(owner) else { return true };
        e.creations.retain(|name| pods.get(Some(namespace), name).is_none());
        e.deletions.retain(|(name, uid)| {
            pods.get(Some(namespace), name).is_some_and(|p| {
                p.metadata.uid.as_deref() == Some(uid.as_str()) && p.metadata.deletion_timestamp.is_none()
            })
        });
        let expired = e.since.is_some_and(|s| s.elapsed() > TTL);
        if (e.creations.is_empty() && e.deletions.is_empty()) || expired {
            owners.remove(owner);
            return true;
        }
        false
    }

    /// Forgets `owner` (it was deleted).
    pub fn forget(&self, owner: &str) {
        if let Ok(mut owners) = self.owners.lock() {
            owners.remove(owner);
        }
    }
}
