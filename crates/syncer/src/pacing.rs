//! Pacing of new pods in the super cluster, per tenant.
//!
//! The super cluster's scheduler serves pods first come, first served. Were a tenant's 10,000
//! new pods all copied down at once, another tenant's one pod would wait behind all of them in
//! the scheduler's queue, however fair the syncer's own queues are. So a tenant may have only
//! so many pods waiting for the scheduler; its other new pods wait here, in its own lane, and
//! each pod the scheduler places lets the next one down. The scheduler's queue then holds a
//! few pods of each busy tenant, and a quiet tenant's pod is placed after those few.
//!
//! A pod the scheduler found no room for (PodScheduled False) no longer counts: kube-scheduler
//! sets such pods aside too, and they must not hold back the tenant's other pods.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use crate::Item;

/// The pods each tenant has waiting for the scheduler, and its new pods held back.
pub struct Pacing {
    limit: usize,
    tenants: Mutex<HashMap<String, Lane>>,
}

#[derive(Default)]
struct Lane {
    /// UIDs of the tenant's super pods that wait for the scheduler.
    waiting: HashSet<String>,
    /// New pods held back, oldest first, each once.
    held: VecDeque<Item>,
    held_set: HashSet<Item>,
}

impl Pacing {
    /// At most `limit` pods of one tenant wait for the scheduler (0: no limit).
    pub fn new(limit: usize) -> Pacing {
        Pacing { limit, tenants: Mutex::new(HashMap::new()) }
    }

    /// Whether tenant `key` may create the pod of `item` now. If not, the item is held until
    /// one of the tenant's waiting pods is placed, then handed back by [`Pacing::observe`].
    pub fn admit(&self, key: &str, item: &Item) -> bool {
        if self.limit == 0 {
            return true;
        }
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let lane = tenants.entry(key.to_string()).or_default();
        if lane.waiting.len() < self.limit {
            return true;
        }
        if lane.held_set.insert(item.clone()) {
            lane.held.push_back(item.clone());
        }
        false
    }

    /// Records whether super pod `uid` of tenant `key` waits for the scheduler. Answers the
    /// held items that may go now.
    pub fn observe(&self, key: &str, uid: &str, waiting: bool) -> Vec<Item> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let Some(lane) = tenants.get_mut(key) else {
            if waiting && self.limit > 0 {
                tenants.entry(key.to_string()).or_default().waiting.insert(uid.to_string());
            }
            return Vec::new();
        };
        if waiting {
            lane.waiting.insert(uid.to_string());
            return Vec::new();
        }
        lane.waiting.remove(uid);
        let room = self.limit.saturating_sub(lane.waiting.len());
        let released: Vec<Item> = (0..room).map_while(|_| lane.held.pop_front()).collect();
        for item in &released {
            lane.held_set.remove(item);
        }
        released
    }

    /// A fresh list of the super cluster's pods begins: pods deleted while the watch was away
    /// are never reported as deleted, so every count starts again from what the list shows.
    pub fn relist_start(&self) {
        for lane in self.tenants.lock().unwrap_or_else(|e| e.into_inner()).values_mut() {
            lane.waiting.clear();
        }
    }

    /// The fresh list is complete: answers, per tenant, the held items that may go now.
    pub fn relist_done(&self) -> Vec<(String, Item)> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let mut released = Vec::new();
        for (key, lane) in tenants.iter_mut() {
            let room = self.limit.saturating_sub(lane.waiting.len());
            for item in (0..room).map_while(|_| lane.held.pop_front()) {
                lane.held_set.remove(&item);
                released.push((key.clone(), item));
            }
        }
        released
    }

    /// Pods held back for tenant `key`.
    pub fn held(&self, key: &str) -> usize {
        self.tenants.lock().unwrap_or_else(|e| e.into_inner()).get(key).map(|l| l.held.len()).unwrap_or(0)
    }

    /// Drops what is held for a tenant that stopped syncing: its watchers list everything
    /// again when it comes back.
    pub fn release_held(&self, key: &str) {
        if let Some(lane) = self.tenants.lock().unwrap_or_else(|e| e.into_inner()).get_mut(key) {
            lane.held.clear();
            lane.held_set.clear();
        }
    }
}

/// Whether a super pod (its spec and status in `pod`) waits for the scheduler: no node yet,
/// not being deleted, and not set aside as unschedulable.
pub fn waits_for_scheduler(pod: &serde_json::Value, deleting: bool) -> bool {
    let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
    let unschedulable = pod["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "PodScheduled" && c["status"] == "False"));
    node.is_empty() && !deleting && !unschedulable
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str) -> Item {
        Item::Object { resource: "pods".into(), namespace: "ns".into(), name: name.into() }
    }

    #[test]
    fn holds_beyond_the_limit_and_releases_in_order() {
        let pacing = Pacing::new(2);
        assert!(pacing.admit("t", &pod("a")));
        assert!(pacing.observe("t", "u1", true).is_empty());
        assert!(pacing.observe("t", "u2", true).is_empty());
        assert!(!pacing.admit("t", &pod("c")));
        assert!(!pacing.admit("t", &pod("d")));
        assert!(!pacing.admit("t", &pod("c")), "held once");
        assert_eq!(pacing.held("t"), 2);
        // Another tenant is not held back.
        assert!(pacing.admit("other", &pod("c")));
        assert_eq!(pacing.observe("t", "u1", false), vec![pod("c")]);
        assert_eq!(pacing.observe("t", "u2", false), vec![pod("d")]);
        assert_eq!(pacing.held("t"), 0);
        assert!(pacing.admit("t", &pod("e")));
    }

    #[test]
    fn waiting_pods_seen_before_any_admit_count() {
        let pacing = Pacing::new(1);
        pacing.observe("t", "u1", true);
        assert!(!pacing.admit("t", &pod("a")));
        assert_eq!(pacing.observe("t", "u1", false), vec![pod("a")]);
    }

    #[test]
    fn a_relist_forgets_pods_deleted_unseen() {
        let pacing = Pacing::new(1);
        pacing.observe("t", "gone", true);
        assert!(!pacing.admit("t", &pod("a")));
        pacing.relist_start();
        // The list shows no waiting pod: "gone" was deleted while the watch was away.
        assert_eq!(pacing.relist_done(), vec![("t".to_string(), pod("a"))]);
        assert!(pacing.admit("t", &pod("b")));
    }

    #[test]
    fn no_limit_admits_everything() {
        let pacing = Pacing::new(0);
        for i in 0..100 {
            pacing.observe("t", &format!("u{i}"), true);
        }
        assert!(pacing.admit("t", &pod("a")));
    }

    #[test]
    fn what_waits_for_the_scheduler() {
        assert!(waits_for_scheduler(&json!({"spec": {}}), false));
        assert!(!waits_for_scheduler(&json!({"spec": {"nodeName": "n1"}}), false));
        assert!(!waits_for_scheduler(&json!({"spec": {}}), true));
        let unschedulable = json!({"spec": {}, "status": {"conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}});
        assert!(!waits_for_scheduler(&unschedulable, false));
    }
}
