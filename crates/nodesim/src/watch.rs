//! The pod and node watches that feed the scheduler's cache and the kubelet stand-in. Each
//! relist (`Init` .. `InitDone`) also tells them what disappeared while the watch was down,
//! so nothing depends on having seen every event.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use tracing::{info, warn};

use crate::key::PodKey;
use crate::kubelet::Kubelet;
use crate::scheduler::Handle;

/// Watches every pod: waiting and placed pods go to the scheduler, pods on our nodes to the
/// kubelet. Runs until dropped.
pub async fn pods(client: kube::Client, scheduler: Option<Handle>, scheduler_name: String, kubelet: Arc<Kubelet>) {
    let api: Api<Pod> = Api::all(client);
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut seen: HashSet<PodKey> = HashSet::new();
    let apply = |pod: Pod| {
        if let Some(s) = &scheduler {
            let changed = s.cache().apply_pod(&pod, &scheduler_name);
            if changed {
                s.wake();
            }
        }
        kubelet.observe(pod);
    };
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => seen.clear(),
            Ok(Event::InitApply(pod)) => {
                seen.insert(PodKey::of(&pod));
                apply(pod);
            }
            Ok(Event::InitDone) => {
                info!(pods = seen.len(), "pods listed");
                if let Some(s) = &scheduler {
                    s.cache().retain_pods(&seen);
                    s.wake();
                }
                kubelet.listed(&seen);
                seen = HashSet::new();
            }
            Ok(Event::Apply(pod)) => apply(pod),
            Ok(Event::Delete(pod)) => {
                if let Some(s) = &scheduler {
                    s.cache().delete_pod(&PodKey::of(&pod));
                    s.wake();
                }
                kubelet.forget(&pod);
            }
            Err(e) => warn!(error = %e, "pod watch failed; retrying"),
        }
    }
}

/// Watches every node for the scheduler. Runs until dropped.
pub async fn nodes(client: kube::Client, scheduler: Handle) {
    let api: Api<Node> = Api::all(client);
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => seen.clear(),
            Ok(Event::InitApply(node)) => {
                seen.insert(node.metadata.name.clone().unwrap_or_default());
                scheduler.cache().apply_node(&node);
            }
            Ok(Event::InitDone) => {
                scheduler.cache().retain_nodes(&seen);
                scheduler.wake();
            }
            Ok(Event::Apply(node)) => {
                let changed = scheduler.cache().apply_node(&node);
                if changed {
                    scheduler.wake();
                }
            }
            Ok(Event::Delete(node)) => {
                scheduler.cache().delete_node(node.metadata.name.as_deref().unwrap_or(""));
                scheduler.wake();
            }
            Err(e) => warn!(error = %e, "node watch failed; retrying"),
        }
    }
}
