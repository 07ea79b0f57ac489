//! Whether a node's kubelet is still posting, decided as kube's `tryUpdateNodeHealth` decides it.
//!
//! A kubelet shows it is alive two ways: it renews its Lease in `kube-node-lease` (every 10 s)
//! and posts node status (the Ready condition's `lastHeartbeatTime`). kube does not compare
//! those times with its own clock, which may be skewed from the node's: it remembers when it
//! last *saw* either of them move (the probe time) and declares the node silent once that is
//! older than the grace period. A controller that starts (or takes over the leader Lease)
//! therefore gives every node a full grace period first.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::time::{micro_to_chrono, to_time};
use crate::pods as podutil;

/// How long a node that never posted status may take to do so (kube's
/// `--node-startup-grace-period` default).
pub const STARTUP_GRACE: Duration = Duration::from_secs(60);

/// The conditions kube marks `Unknown` when the kubelet goes silent. NetworkUnavailable is left
/// alone: the network plugin, not the kubelet, sets it.
const KUBELET_CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// The heartbeats a node shows at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeats {
    /// Whether the node has a Ready condition at all (its kubelet posted status once).
    pub has_ready: bool,
    /// The Ready condition's `lastHeartbeatTime`.
    pub status: Option<DateTime<Utc>>,
    /// The node Lease's `renewTime`.
    pub lease: Option<DateTime<Utc>>,
    /// When the Node was created.
    pub created: Option<DateTime<Utc>>,
}

impl Heartbeats {
    /// What `node` and its Lease show now.
    pub fn of(node: &Node, lease: Option<&Lease>) -> Heartbeats {
        let ready = ready_condition(node);
        Heartbeats {
            has_ready: ready.is_some(),
            status: ready.and_then(|c| c.last_heartbeat_time.as_ref()).map(podutil::to_chrono),
            lease: lease.and_then(|l| l.spec.as_ref()?.renew_time.as_ref()).map(micro_to_chrono),
            created: podutil::created(&node.metadata),
        }
    }
}

/// What the controller remembers of a node (kube's `nodeHealthData`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The heartbeats last seen (the Lease's: the newest renewal seen).
    seen: Heartbeats,
    /// When a heartbeat was last seen to move, by this controller's clock (kube's
    /// `probeTimestamp`).
    pub probe: DateTime<Utc>,
}

impl Health {
    /// The grace period the node gets: longer while it never posted status.
    pub fn grace(&self, monitor_grace: Duration) -> Duration {
        if self.seen.has_ready {
            monitor_grace
        } else {
            STARTUP_GRACE
        }
    }

    /// When the node counts as silent unless a heartbeat moves first.
    pub fn silent_at(&self, monitor_grace: Duration) -> DateTime<Utc> {
        self.probe + chrono::Duration::from_std(self.grace(monitor_grace)).unwrap_or(chrono::Duration::MAX)
    }

    /// Whether the kubelet has been silent for longer than its grace period at `now`.
    pub fn silent(&self, monitor_grace: Duration, now: DateTime<Utc>) -> bool {
        now > self.silent_at(monitor_grace)
    }
}

/// What the controller remembers after seeing `seen` at `now`, `prev` being what it
/// remembered before (none for a node it sees for the first time).
pub fn observe(prev: Option<&Health>, seen: Heartbeats, now: DateTime<Utc>) -> Health {
    let mut probe = match prev {
        // Never posted: the startup grace counts from the node's creation.
        None if !seen.has_ready => seen.created.unwrap_or(now),
        // kube: "Missing timestamp for Node. Assuming now as a timestamp."
        None => now,
        Some(p) if !seen.has_ready => p.probe,
        Some(p) if !p.seen.has_ready || p.seen.status != seen.status => now,
        Some(p) => p.probe,
    };
    let lease = match (prev.and_then(|p| p.seen.lease), seen.lease) {
        (old, Some(new)) if old.is_none_or(|old| old < new) => {
            probe = now;
            Some(new)
        }
        (old, _) => old,
    };
    Health { seen: Heartbeats { lease, ..seen }, probe }
}

/// The node's Ready condition, if any.
pub fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    conditions(node).iter().find(|c| c.type_ == "Ready")
}

/// The node's conditions.
pub fn conditions(node: &Node) -> &[NodeCondition] {
    node.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or_default()
}

/// The conditions to write for a node whose kubelet went silent, as kube writes them:
/// Ready, MemoryPressure, DiskPressure and PIDPressure turn `Unknown` (reason
/// `NodeStatusUnknown`, the heartbeat kept) or are added (`NodeStatusNeverUpdated`). Only the
/// changed ones are answered, and none unless Ready changes: kube writes only then.
pub fn silenced(conditions: &[NodeCondition], created: Option<&Time>, now: DateTime<Utc>) -> Vec<NodeCondition> {
    let now = to_time(now);
    let mut changed = Vec::new();
    for kind in KUBELET_CONDITIONS {
        match conditions.iter().find(|c| c.type_ == kind) {
            None => changed.push(NodeCondition {
                type_: kind.to_string(),
                status: "Unknown".into(),
                reason: Some("NodeStatusNeverUpdated".into()),
                message: Some("Kubelet never posted node status.".into()),
                last_heartbeat_time: created.cloned(),
                last_transition_time: Some(now.clone()),
            }),
            Some(c) if c.status != "Unknown" => changed.push(NodeCondition {
                status: "Unknown".into(),
                reason: Some("NodeStatusUnknown".into()),
                message: Some("Kubelet stopped posting node status.".into()),
                last_transition_time: Some(now.clone()),
                ..c.clone()
            }),
            Some(_) => {}
        }
    }
    if !changed.iter().any(|c| c.type_ == "Ready") {
        return Vec::new();
    }
    changed
}

/// Writes `changed` conditions to the node's status: a strategic merge (conditions merge by
/// type) with the cached resourceVersion, so a status the kubelet posted meanwhile is never
/// overwritten with `Unknown`. Answers the node as stored.
pub async fn write(api: &Api<Node>, node: &Node, changed: &[NodeCondition]) -> Result<Node, kube::Error> {
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let patch = json!({
        "metadata": {"resourceVersion": node.metadata.resource_version},
        "status": {"conditions": changed},
    });
    api.patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const GRACE: Duration = Duration::from_secs(50);

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn beats(status: i64, lease: Option<i64>) -> Heartbeats {
        Heartbeats { has_ready: true, status: Some(t(status)), lease: lease.map(t), created: Some(t(-3600)) }
    }

    #[test]
    fn first_sight_gives_a_full_grace_period() {
        // Heartbeats an hour old: a controller that just started still waits.
        let h = observe(None, beats(-3600, Some(-3600)), t(0));
        assert_eq!(h.probe, t(0));
        assert!(!h.silent(GRACE, t(50)));
        assert!(h.silent(GRACE, t(51)));
        assert_eq!(h.silent_at(GRACE), t(50));
    }

    #[test]
    fn a_lease_renewal_or_a_status_post_moves_the_probe() {
        let h = observe(None, beats(0, Some(0)), t(0));
        let same = observe(Some(&h), beats(0, Some(0)), t(30));
        assert_eq!(same.probe, t(0), "nothing moved");
        let renewed = observe(Some(&same), beats(0, Some(25)), t(40));
        assert_eq!(renewed.probe, t(40));
        let posted = observe(Some(&renewed), beats(60, Some(25)), t(70));
        assert_eq!(posted.probe, t(70));
        assert!(!posted.silent(GRACE, t(120)));
        assert!(posted.silent(GRACE, t(121)));
    }

    #[test]
    fn an_older_lease_does_not_count() {
        let h = observe(None, beats(0, Some(10)), t(10));
        let older = observe(Some(&h), beats(0, Some(5)), t(30));
        assert_eq!(older.probe, t(10));
        let lost = observe(Some(&older), beats(0, None), t(40));
        assert_eq!(lost.probe, t(10), "a deleted Lease is no heartbeat");
    }

    #[test]
    fn a_node_that_never_posted_gets_the_startup_grace_from_creation() {
        let seen = Heartbeats { has_ready: false, status: None, lease: None, created: Some(t(-30)) };
        let h = observe(None, seen, t(0));
        assert_eq!(h.probe, t(-30));
        assert_eq!(h.grace(GRACE), STARTUP_GRACE);
        assert!(!h.silent(GRACE, t(30)));
        assert!(h.silent(GRACE, t(31)));
        // Its first post starts the normal grace period.
        let posted = observe(Some(&h), beats(40, None), t(40));
        assert_eq!((posted.probe, posted.grace(GRACE)), (t(40), GRACE));
    }

    fn cond(type_: &str, status: &str) -> NodeCondition {
        NodeCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some("KubeletReady".into()),
            last_heartbeat_time: Some(to_time(t(-100))),
            last_transition_time: Some(to_time(t(-1000))),
            ..Default::default()
        }
    }

    #[test]
    fn silenced_marks_kubelet_conditions_unknown() {
        let conditions = [
            cond("Ready", "True"),
            cond("MemoryPressure", "False"),
            cond("DiskPressure", "False"),
            cond("NetworkUnavailable", "False"),
        ];
        let changed = silenced(&conditions, Some(&to_time(t(-5000))), t(0));
        let kinds: Vec<&str> = changed.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(kinds, ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]);
        let ready = &changed[0];
        assert_eq!(ready.status, "Unknown");
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(ready.message.as_deref(), Some("Kubelet stopped posting node status."));
        assert_eq!(ready.last_heartbeat_time, Some(to_time(t(-100))), "the heartbeat is kept");
        assert_eq!(ready.last_transition_time, Some(to_time(t(0))));
        let pid = &changed[3];
        assert_eq!(pid.reason.as_deref(), Some("NodeStatusNeverUpdated"));
        assert_eq!(pid.message.as_deref(), Some("Kubelet never posted node status."));
        assert_eq!(pid.last_heartbeat_time, Some(to_time(t(-5000))));
    }

    #[test]
    fn nothing_is_written_while_ready_is_already_unknown() {
        let conditions = [cond("Ready", "Unknown"), cond("MemoryPressure", "False")];
        assert!(silenced(&conditions, None, t(0)).is_empty());
    }
}
