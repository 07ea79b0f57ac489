//! The kubelet stand-in: for each pod bound to one of nodesim's nodes it gives the pod an IP
//! from the node's CIDR, posts the status a kubelet would (see [`status`]), and when the pod is
//! deleted stops it and removes it for good, so `kubectl delete pod` returns promptly.
//!
//! Pods flow in from the pod watch as keys on a work queue; a worker reads the pod the watch
//! last delivered (or GETs it), computes its status, and writes only a difference, to the
//! `pods/status` subresource with the resourceVersion as precondition. Whole pods are held
//! only between the watch and the worker, never cached.

pub mod sim;
pub mod status;

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::json;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::events::Recorder;
use crate::ipam::{Cidr, Ipam};
use crate::key::PodKey;
use crate::time::until;
use crate::workqueue::WorkQueue;
use status::Placement;

/// Why a pod could not be synced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read pod {0}: {1}")]
    Get(PodKey, #[source] kube::Error),
    #[error("failed to update status of pod {0}: {1}")]
    Status(PodKey, #[source] kube::Error),
    #[error("failed to delete pod {0}: {1}")]
    Delete(PodKey, #[source] kube::Error),
    #[error("no free pod IP left on node {0}")]
    PoolExhausted(String),
}

/// What the kubelet stand-in knows of one of its nodes.
#[derive(Debug, Clone)]
pub struct NodeAddrs {
    pub name: String,
    pub ip: Ipv4Addr,
    pub pod_cidr: Cidr,
}

/// The kubelet stand-in of every simulated node.
pub struct Kubelet {
    client: kube::Client,
    nodes: HashMap<String, Ipv4Addr>,
    ipam: Mutex<Ipam>,
    queue: Arc<WorkQueue<PodKey>>,
    /// The pod each queued key was last seen as, until a worker takes it.
    latest: Mutex<HashMap<PodKey, Pod>>,
    /// The UID of every pod seen on our nodes, to free its IP when it is found gone.
    known: Mutex<HashMap<PodKey, String>>,
    defaults: sim::Sim,
    events: Option<Recorder>,
    synced: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn is_conflict_or_gone(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) if s.code == 409 || s.code == 404 => Some(s.code),
        _ => None,
    }
}

impl Kubelet {
    /// A kubelet for `nodes`, simulating containers per `defaults` unless a pod's annotations
    /// say otherwise; `events` off keeps the API quiet under load.
    pub fn new(client: kube::Client, nodes: &[NodeAddrs], defaults: sim::Sim, events: bool) -> Arc<Self> {
        let mut ipam = Ipam::default();
        for n in nodes {
            ipam.set_node(&n.name, n.pod_cidr);
        }
        Arc::new(Kubelet {
            events: events.then(|| Recorder::new(client.clone(), "kubelet")),
            client,
            nodes: nodes.iter().map(|n| (n.name.clone(), n.ip)).collect(),
            ipam: Mutex::new(ipam),
            queue: WorkQueue::new(),
            latest: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
            defaults,
            synced: watch::Sender::new(false),
        })
    }

    fn node_of<'a>(&self, pod: &'a Pod) -> Option<&'a str> {
        pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| self.nodes.contains_key(*n))
    }

    /// Forgets the pod under `key` if it had another UID, freeing that pod's IP.
    fn track(&self, key: &PodKey, uid: &str) {
        if let Some(old) = lock(&self.known).insert(key.clone(), uid.to_string()) {
            if old != uid {
                lock(&self.ipam).release(&old);
            }
        }
    }

    /// Takes in a pod as the watch saw it: claims its IP and queues it if it runs here.
    pub fn observe(&self, pod: Pod) {
        let key = PodKey::of(&pod);
        let Some(node) = self.node_of(&pod) else {
            // Not ours (any more): a pod of the same name may have run here before.
            if let Some(uid) = lock(&self.known).remove(&key) {
                lock(&self.ipam).release(&uid);
            }
            return;
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        self.track(&key, &uid);
        let host_network = pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false);
        if status::is_terminal(&pod) {
            lock(&self.ipam).release(&uid);
        } else if let Some(ip) = pod_ip(&pod).filter(|_| !host_network) {
            let mut ipam = lock(&self.ipam);
            if let Some(pool) = ipam.pool(node) {
                if let Err(e) = pool.claim(&uid, ip) {
                    warn!(pod = %key, error = %e, "pod shows an IP another pod holds");
                }
            }
        }
        let node = node.to_string();
        lock(&self.latest).insert(key.clone(), pod);
        self.queue.add_in(&node, key);
    }

    /// Takes in a pod deletion: its IP is free again.
    pub fn forget(&self, pod: &Pod) {
        let key = PodKey::of(pod);
        lock(&self.latest).remove(&key);
        self.queue.forget(&key);
        if let Some(uid) = pod.metadata.uid.as_deref() {
            lock(&self.ipam).release(uid);
            let mut known = lock(&self.known);
            if known.get(&key).map(String::as_str) == Some(uid) {
                known.remove(&key);
            }
        }
    }

    /// After a fresh list: pods we knew that the list did not show are looked up again
    /// (and found gone), so their IPs are freed. The first call lets the workers start.
    pub fn listed(&self, seen: &HashSet<PodKey>) {
        let missing: Vec<PodKey> = lock(&self.known).keys().filter(|k| !seen.contains(*k)).cloned().collect();
        for key in missing {
            self.queue.add(key);
        }
        self.synced.send_replace(true);
    }

    /// One worker: waits for the first full list (so every IP in use is claimed before any is
    /// handed out), then syncs queued pods until dropped.
    pub async fn worker(self: Arc<Self>) {
        let mut synced = self.synced.subscribe();
        if synced.wait_for(|s| *s).await.is_err() {
            return;
        }
        loop {
            let key = self.queue.get().await;
            if let Err(e) = self.sync(&key).await {
                warn!(error = %e, "pod sync failed; retrying");
                self.queue.add_after(key.clone(), Duration::from_secs(1));
            }
            self.queue.done(&key);
        }
    }

    async fn sync(&self, key: &PodKey) -> Result<(), Error> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        let cached = lock(&self.latest).remove(key);
        let pod = match cached {
            Some(p) => p,
            None => match api.get_opt(&key.name).await.map_err(|e| Error::Get(key.clone(), e))? {
                Some(p) => p,
                None => {
                    if let Some(uid) = lock(&self.known).remove(key) {
                        lock(&self.ipam).release(&uid);
                    }
                    return Ok(());
                }
            },
        };
        let Some(node) = self.node_of(&pod).map(str::to_string) else { return Ok(()) };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if pod.metadata.deletion_timestamp.is_some() {
            return self.stop(&api, key, &pod, &uid, &node).await;
        }
        if status::is_terminal(&pod) {
            lock(&self.ipam).release(&uid);
            return Ok(());
        }
        let host_ip = self.nodes.get(&node).copied().unwrap_or(Ipv4Addr::UNSPECIFIED);
        let pod_ip = if pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false) {
            host_ip
        } else if let Some(ip) = pod_ip(&pod) {
            if let Some(pool) = lock(&self.ipam).pool(&node) {
                // Claimed when the watch delivered it; again here for a pod read by GET.
                let _ = pool.claim(&uid, ip);
            }
            ip
        } else {
            let mut ipam = lock(&self.ipam);
            ipam.pool(&node).and_then(|p| p.allocate(&uid)).ok_or_else(|| Error::PoolExhausted(node.clone()))?
        };
        let sim = sim::from_annotations(pod.metadata.annotations.as_ref(), self.defaults, &key.to_string());
        let now = Timestamp::now();
        let out = status::running_status(&pod, Placement { host_ip, pod_ip }, &sim, now);
        if pod.status.as_ref() != Some(&out.status) {
            if !self.write_status(&api, key, &pod, &out.status).await? {
                return Ok(());
            }
            let phase = out.status.phase.as_deref().unwrap_or("");
            if pod.status.as_ref().and_then(|s| s.phase.as_deref()) != Some(phase) {
                info!(pod = %key, %node, phase, ip = %pod_ip, "pod status");
            }
            if phase == "Succeeded" || phase == "Failed" {
                lock(&self.ipam).release(&uid);
            }
            self.container_events(key, &uid, &node, &pod, &out);
        }
        if let Some(at) = out.wake {
            // A little slack: wall clock and timer clock differ by a hair.
            self.queue.add_after(key.clone(), until(now, at) + Duration::from_millis(5));
        }
        Ok(())
    }

    /// Writes `status` with the pod's resourceVersion as precondition. Answers false when the
    /// pod changed or went meanwhile: the watch brings the new version, which is synced again.
    async fn write_status(
        &self,
        api: &Api<Pod>,
        key: &PodKey,
        pod: &Pod,
        st: &k8s_openapi::api::core::v1::PodStatus,
    ) -> Result<bool, Error> {
        let patch = json!({
            "metadata": {"resourceVersion": pod.metadata.resource_version},
            "status": st,
        });
        match api.patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch)).await {
            Ok(_) => Ok(true),
            Err(e) => match is_conflict_or_gone(&e) {
                Some(409) => {
                    debug!(pod = %key, "status conflict; syncing again");
                    self.queue.add(key.clone());
                    Ok(false)
                }
                Some(_) => Ok(false),
                None => Err(Error::Status(key.clone(), e)),
            },
        }
    }

    /// A deleted pod: its containers exit at once on SIGTERM, the final status is posted, the
    /// IP freed, and the pod removed with grace period 0, as kubelet's status manager does once
    /// a pod has terminated (the UID precondition spares a recreated pod of the same name).
    async fn stop(&self, api: &Api<Pod>, key: &PodKey, pod: &Pod, uid: &str, node: &str) -> Result<(), Error> {
        if let Some(st) = status::stopped_status(pod, Timestamp::now()) {
            if let Some(events) = &self.events {
                for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
                    events.pod(key, uid, "Normal", "Killing", format!("Stopping container {}", c.name), Some(node));
                }
            }
            if !self.write_status(api, key, pod, &st).await? {
                return Ok(());
            }
        }
        lock(&self.ipam).release(uid);
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: Some(uid.to_string()), resource_version: None }),
            ..Default::default()
        };
        match api.delete(&key.name, &params).await {
            Ok(_) => {
                info!(pod = %key, %node, "pod stopped and deleted");
                Ok(())
            }
            Err(e) if is_conflict_or_gone(&e).is_some() => Ok(()),
            Err(e) => Err(Error::Delete(key.clone(), e)),
        }
    }

    fn container_events(&self, key: &PodKey, uid: &str, node: &str, pod: &Pod, out: &status::Outcome) {
        let Some(events) = &self.events else { return };
        for name in &out.backed_off {
            let msg =
                format!("Back-off restarting failed container {name} in pod {}_{}({uid})", key.name, key.namespace);
            events.pod(key, uid, "Warning", "BackOff", msg, Some(node));
        }
        for name in &out.started {
            let image = pod
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .find(|c| &c.name == name)
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            let host = Some(node);
            events.pod(
                key,
                uid,
                "Normal",
                "Pulled",
                format!("Container image {image:?} already present on machine"),
                host,
            );
            events.pod(key, uid, "Normal", "Created", format!("Created container: {name}"), host);
            events.pod(key, uid, "Normal", "Started", format!("Started container {name}"), host);
        }
    }

    /// How many pod IPs are held on `node` (for tests and metrics).
    pub fn ips_in_use(&self, node: &str) -> usize {
        lock(&self.ipam).pool(node).map_or(0, |p| p.len())
    }
}

/// The IPv4 address in a pod's `status.podIP`, if any.
fn pod_ip(pod: &Pod) -> Option<Ipv4Addr> {
    pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).and_then(|ip| ip.parse().ok())
}
