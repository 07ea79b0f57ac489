//! The super pods of the super pod watch's first list, kept per tenant until that tenant's
//! first comparison takes them. Without them a restart read every super pod twice: once in the
//! super watch and once more in the tenants' comparisons (10,000 pods encoded again by the
//! super API server and decoded again here). Watch events keep the kept pods current until
//! they are taken, so a comparison sees what a list at that moment would show.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kube::api::DynamicObject;

/// How long after the first list pods not taken are kept: tenants start within seconds of
/// it; one that does not (its API server is down) lists its pods when it compares.
pub const KEEP_FOR: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct ListedPods(Mutex<State>);

#[derive(Default)]
struct State {
    /// Once closed, nothing is kept any more.
    closed: bool,
    /// Cluster key -> (super namespace, name) -> pod.
    by_tenant: HashMap<String, HashMap<(String, String), DynamicObject>>,
}

impl ListedPods {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps a pod of the first list.
    pub fn keep(&self, key: &str, pod: DynamicObject) {
        let mut state = self.lock();
        if !state.closed {
            let at =
                (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
            state.by_tenant.entry(key.to_string()).or_default().insert(at, pod);
        }
    }

    /// A later watch event about a pod of tenant `key` (`None`: deleted): the kept pods of a
    /// tenant not compared yet follow it.
    pub fn update(&self, key: &str, namespace: &str, name: &str, pod: Option<&DynamicObject>) {
        let mut state = self.lock();
        let Some(pods) = state.by_tenant.get_mut(key) else { return };
        let at = (namespace.to_string(), name.to_string());
        match pod {
            Some(pod) => pods.insert(at, pod.clone()),
            None => pods.remove(&at),
        };
    }

    /// Takes the kept pods of tenant `key`; `None` when none are kept (then list them).
    pub fn take(&self, key: &str) -> Option<Vec<DynamicObject>> {
        let mut state = self.lock();
        let pods = state.by_tenant.remove(key)?;
        if state.by_tenant.is_empty() {
            // The map's capacity held every tenant's entry.
            state.by_tenant = HashMap::new();
        }
        Some(pods.into_values().collect())
    }

    /// Keeps nothing more and drops what was not taken.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.by_tenant = HashMap::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(namespace: &str, name: &str, phase: &str) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": namespace, "name": name},
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    fn phases(pods: Option<Vec<DynamicObject>>) -> Vec<(String, String)> {
        let mut out: Vec<_> = pods
            .unwrap()
            .into_iter()
            .map(|p| (p.metadata.name.unwrap(), p.data["status"]["phase"].as_str().unwrap().to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn kept_pods_follow_later_events_until_taken_once() {
        let listed = ListedPods::default();
        listed.keep("t1", pod("t1-prod", "a", "Pending"));
        listed.keep("t1", pod("t1-prod", "b", "Running"));
        listed.keep("t2", pod("t2-prod", "a", "Running"));
        listed.update("t1", "t1-prod", "a", Some(&pod("t1-prod", "a", "Running")));
        listed.update("t1", "t1-prod", "b", None);
        listed.update("t3", "t3-prod", "x", Some(&pod("t3-prod", "x", "Running")));
        assert_eq!(phases(listed.take("t1")), vec![("a".to_string(), "Running".to_string())]);
        assert!(listed.take("t1").is_none(), "taken once: a later comparison lists");
        assert!(listed.take("t3").is_none(), "an event keeps nothing for a tenant the list had not");
        listed.close();
        assert!(listed.take("t2").is_none(), "closed: what was not taken is gone");
        listed.keep("t2", pod("t2-prod", "c", "Running"));
        assert!(listed.take("t2").is_none(), "closed: nothing is kept any more");
    }
}
