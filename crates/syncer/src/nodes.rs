//! Virtual nodes: each super node that runs a tenant's pods appears in that tenant, with a
//! Lease the syncer renews (so the tenant never sees it flap NotReady), and leaves once the
//! tenant's last pod on it is gone.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::{json, Value};
use tracing::{debug, Instrument};

use crate::convert;
use crate::reconcile::{conflict, not_found};
use crate::tenant::Tenant;
use crate::{Item, Shared};

const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
/// A virtual node's Lease lasts four renewal intervals, as a kubelet's (40 s, renewed every
/// 10 s).
fn lease_seconds(shared: &Shared) -> i32 {
    i32::try_from(shared.config.node_lease_interval.as_secs().saturating_mul(4)).unwrap_or(i32::MAX).max(1)
}

#[derive(Default)]
struct State {
    /// Super pod UID -> (cluster key, node name), for placed pods of tenants.
    pods: HashMap<String, (String, String)>,
    /// (cluster key, node) -> pods of that tenant on that node.
    counts: HashMap<(String, String), usize>,
    /// Pods seen since a relist began.
    relisting: Option<HashSet<String>>,
    /// (cluster key, node) whose virtual node and Lease exist in the tenant: the only ones
    /// renewed, so a node still waiting in the queue costs no failing renewals.
    leased: HashSet<(String, String)>,
}

/// Which tenants have pods on which super nodes, from the super pod watcher.
#[derive(Default)]
pub struct Tracker(Mutex<State>);

impl Tracker {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records where a super pod runs (`None`: nowhere, or deleted). Returns the (tenant, node)
    /// pairs whose virtual node must appear or leave.
    pub fn place(&self, uid: &str, placed: Option<(String, String)>) -> Vec<(String, String)> {
        let mut state = self.lock();
        if let Some(seen) = state.relisting.as_mut() {
            seen.insert(uid.to_string());
        }
        if state.pods.get(uid) == placed.as_ref() {
            return vec![];
        }
        let mut changed = vec![];
        if let Some(old) = state.pods.remove(uid) {
            changed.extend(Self::count(&mut state, old, false));
        }
        if let Some(new) = placed {
            state.pods.insert(uid.to_string(), new.clone());
            changed.extend(Self::count(&mut state, new, true));
        }
        changed
    }

    fn count(state: &mut State, at: (String, String), add: bool) -> Option<(String, String)> {
        let n = state.counts.entry(at.clone()).or_insert(0);
        if add {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
        }
        let edge = if add { *n == 1 } else { *n == 0 };
        if *n == 0 {
            state.counts.remove(&at);
        }
        edge.then_some(at)
    }

    pub fn relist_start(&self) {
        self.lock().relisting = Some(HashSet::new());
    }

    /// Forgets pods the relist did not see (deleted while the watch was down).
    pub fn relist_done(&self) -> Vec<(String, String)> {
        let mut state = self.lock();
        let Some(seen) = state.relisting.take() else { return vec![] };
        let gone: Vec<String> = state.pods.keys().filter(|uid| !seen.contains(*uid)).cloned().collect();
        let mut changed = vec![];
        for uid in gone {
            if let Some(old) = state.pods.remove(&uid) {
                changed.extend(Self::count(&mut state, old, false));
            }
        }
        changed
    }

    pub fn pods_on(&self, key: &str, node: &str) -> usize {
        self.lock().counts.get(&(key.to_string(), node.to_string())).copied().unwrap_or(0)
    }

    /// The super nodes that run pods of tenant `key`: its virtual nodes.
    pub fn nodes_of(&self, key: &str) -> HashSet<String> {
        self.lock().counts.keys().filter(|(k, _)| k == key).map(|(_, n)| n.clone()).collect()
    }

    pub fn tenants_on(&self, node: &str) -> Vec<String> {
        self.lock().counts.keys().filter(|(_, n)| n == node).map(|(k, _)| k.clone()).collect()
    }

    /// Virtual nodes of tenant `key` whose Lease exists, to renew.
    pub fn leased_nodes_of(&self, key: &str) -> Vec<String> {
        let state = self.lock();
        state
            .leased
            .iter()
            .filter(|(k, n)| k == key && state.counts.contains_key(&(k.clone(), n.clone())))
            .map(|(_, n)| n.clone())
            .collect()
    }

    pub fn is_leased(&self, key: &str, node: &str) -> bool {
        self.lock().leased.contains(&(key.to_string(), node.to_string()))
    }

    /// Records whether the virtual node `node` of tenant `key` has its Lease.
    pub fn set_leased(&self, key: &str, node: &str, leased: bool) {
        let at = (key.to_string(), node.to_string());
        let mut state = self.lock();
        if leased {
            state.leased.insert(at);
        } else {
            state.leased.remove(&at);
        }
    }

    pub fn forget_tenant(&self, key: &str) {
        let mut state = self.lock();
        state.pods.retain(|_, (k, _)| k != key);
        state.counts.retain(|(k, _), _| k != key);
        state.leased.retain(|(k, _)| k != key);
    }
}

/// Brings a tenant's virtual node `name` in line with the super node and the tenant's pods.
pub async fn reconcile(shared: &Shared, tenant: &Tenant, name: &str) -> Result<()> {
    let tenant_nodes: Api<Node> = Api::all(tenant.client.clone());
    // The node as the super node watch last brought it, else read.
    let super_node = if shared.nodes.pods_on(&tenant.key, name) > 0 {
        match shared.super_nodes.get(name) {
            Some(node) => Some(node),
            None => Api::<Node>::all(shared.super_client.clone())
                .get_opt(name)
                .await?
                .map(serde_json::to_value)
                .transpose()?,
        }
    } else {
        None
    };
    let Some(super_value) = super_node else {
        debug!(node = %name, "no pods of the tenant on the node; removing the virtual node");
        shared.nodes.set_leased(&tenant.key, name, false);
        for result in [
            tenant_nodes.delete(name, &DeleteParams::default()).await.map(|_| ()),
            leases(tenant).delete(name, &DeleteParams::default()).await.map(|_| ()),
        ] {
            match result {
                Err(e) if !not_found(&e) => return Err(e.into()),
                _ => {}
            }
        }
        return Ok(());
    };
    let want = convert::virtual_node(&super_value);
    let node = match tenant_nodes.get_opt(name).await? {
        None => tenant_nodes.create(&PostParams::default(), &serde_json::from_value(want)?).await?,
        Some(node) => {
            let actual = serde_json::to_value(&node)?;
            let merged = convert::merge_virtual_node(&actual, &want);
            if merged != actual {
                tenant_nodes.replace(name, &PostParams::default(), &serde_json::from_value(merged)?).await?
            } else {
                node
            }
        }
    };
    let mut value = serde_json::to_value(&node)?;
    if let Some(status) = convert::virtual_node_status(&super_value, &value) {
        value["status"] = status;
        tenant_nodes.replace_status(name, &PostParams::default(), &serde_json::from_value(value)?).await?;
    }
    // A Lease the syncer made or renews is not read again.
    if !shared.nodes.is_leased(&tenant.key, name) && leases(tenant).get_opt(name).await?.is_none() {
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": NODE_LEASE_NAMESPACE, "ownerReferences": [{
                "apiVersion": "v1", "kind": "Node", "name": name, "uid": node.uid().unwrap_or_default(),
            }]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": lease_seconds(shared), "renewTime": now_micro()},
        });
        match leases(tenant).create(&PostParams::default(), &serde_json::from_value(lease)?).await {
            Err(e) if conflict(&e) => {}
            other => {
                other?;
            }
        }
    }
    shared.nodes.set_leased(&tenant.key, name, true);
    Ok(())
}

/// Compares a tenant's virtual nodes and their Leases with the super nodes in one list of
/// each, and queues only the nodes that differ; the others' Leases are renewed from now on. A
/// start or restart thus reads two lists per tenant instead of a node and a Lease per node.
pub async fn compare(shared: &Shared, tenant: &Tenant) {
    let listed = async {
        let nodes = Api::<Node>::all(tenant.client.clone()).list(&ListParams::default()).await?;
        let leases = leases(tenant).list_metadata(&ListParams::default()).await?;
        anyhow::Ok((nodes.items, leases.items.into_iter().map(|l| l.name_any()).collect::<HashSet<_>>()))
    };
    let (nodes, leases) = match listed.await {
        Ok(listed) => listed,
        Err(e) => {
            // Each node is then synced on its own.
            debug!(error = %format!("{e:#}"), "listing the virtual nodes failed");
            (vec![], HashSet::new())
        }
    };
    let mut wanted = shared.nodes.nodes_of(&tenant.key);
    for node in nodes {
        let name = node.name_any();
        let in_line = wanted.remove(&name)
            && leases.contains(&name)
            && shared.super_nodes.get(&name).is_some_and(|super_value| {
                serde_json::to_value(&node).is_ok_and(|actual| convert::virtual_node_in_line(&super_value, &actual))
            });
        if in_line {
            shared.nodes.set_leased(&tenant.key, &name, true);
        } else {
            shared.queue.add(&tenant.key, Item::Node { name });
        }
    }
    for name in wanted {
        shared.queue.add(&tenant.key, Item::Node { name });
    }
}

fn leases(tenant: &Tenant) -> Api<Lease> {
    Api::namespaced(tenant.client.clone(), NODE_LEASE_NAMESPACE)
}

/// `metav1.MicroTime` as Kubernetes writes it.
pub fn now_micro() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Renews every virtual node's Lease in every tenant, like a kubelet would; a slow tenant
/// delays nobody else. Tenants take their turns spread over the interval, as kubelets do,
/// instead of all renewing at the same instant.
pub async fn renew_leases(shared: Arc<Shared>) {
    let interval = shared.config.node_lease_interval;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let tenants = shared.tenants();
        let turns = u32::try_from(tenants.len()).unwrap_or(u32::MAX).max(1);
        let renewals = tenants.into_iter().enumerate().map(|(i, tenant)| {
            let shared = Arc::clone(&shared);
            let span = tenant.span.clone();
            let turn = interval / turns * u32::try_from(i).unwrap_or(0);
            async move {
                tokio::time::sleep(turn).await;
                for node in shared.nodes.leased_nodes_of(&tenant.key) {
                    let patch: Value = json!({"spec": {"renewTime": now_micro(), "holderIdentity": node}});
                    let api = leases(&tenant);
                    let params = PatchParams::default();
                    let patch = Patch::Merge(&patch);
                    match tokio::time::timeout(Duration::from_secs(5), api.patch(&node, &params, &patch)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) if not_found(&e) => {
                            // Deleted in the tenant: made again by the node's next sync.
                            shared.nodes.set_leased(&tenant.key, &node, false);
                            shared.queue.add(&tenant.key, Item::Node { name: node });
                        }
                        Ok(Err(e)) => debug!(node = %node, error = %e, "renewing the node lease failed"),
                        Err(_) => {
                            debug!("tenant is slow; skipping its lease renewals this round");
                            break;
                        }
                    }
                }
            }
            .instrument(span)
        });
        futures::future::join_all(renewals).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(k: &str, n: &str) -> Option<(String, String)> {
        Some((k.into(), n.into()))
    }

    #[test]
    fn a_node_appears_with_the_first_pod_and_leaves_with_the_last() {
        let t = Tracker::default();
        assert_eq!(t.place("p1", at("blue", "n1")), vec![("blue".into(), "n1".into())]);
        assert!(t.place("p2", at("blue", "n1")).is_empty());
        assert_eq!(t.pods_on("blue", "n1"), 2);
        assert!(t.place("p1", None).is_empty());
        assert_eq!(t.place("p2", None), vec![("blue".into(), "n1".into())]);
        assert_eq!(t.pods_on("blue", "n1"), 0);
        assert!(t.tenants_on("n1").is_empty());
    }

    #[test]
    fn a_pod_moving_nodes_and_a_relist_that_misses_pods() {
        let t = Tracker::default();
        t.place("p1", at("blue", "n1"));
        t.place("p2", at("green", "n2"));
        let moved = t.place("p1", at("blue", "n2"));
        assert_eq!(moved, vec![("blue".into(), "n1".into()), ("blue".into(), "n2".into())]);
        let mut on_n2 = t.tenants_on("n2");
        on_n2.sort();
        assert_eq!(on_n2, ["blue", "green"]);
        t.relist_start();
        t.place("p2", at("green", "n2"));
        assert_eq!(t.relist_done(), vec![("blue".into(), "n2".into())]);
        assert_eq!(t.pods_on("green", "n2"), 1);
        t.set_leased("green", "n2", true);
        assert_eq!(t.leased_nodes_of("green"), ["n2"]);
        t.forget_tenant("green");
        assert_eq!(t.pods_on("green", "n2"), 0);
        assert!(t.leased_nodes_of("green").is_empty());
    }

    #[test]
    fn only_leased_nodes_with_pods_are_renewed() {
        let t = Tracker::default();
        t.place("p1", at("blue", "n1"));
        t.place("p2", at("blue", "n2"));
        assert!(t.leased_nodes_of("blue").is_empty(), "no Lease made yet: nothing to renew");
        t.set_leased("blue", "n1", true);
        assert_eq!(t.leased_nodes_of("blue"), ["n1"]);
        t.place("p1", None);
        assert!(t.leased_nodes_of("blue").is_empty(), "the last pod left n1");
    }
}
