//! Each node's heartbeat, as kubelet keeps two: the Lease renewed every interval, and the
//! node status posted now and then. A node deleted behind nodesim's back is registered again.

use std::sync::Arc;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use tokio::time::{interval, Instant, MissedTickBehavior};
use tracing::{debug, info, warn};

use crate::config::{Config, NodeSpec};
use crate::{lease, node};

/// Renews the Lease of `spec` every interval and posts its status every status interval,
/// starting from `registered` (the node as registration left it). Runs until dropped.
pub async fn run(client: kube::Client, cfg: Arc<Config>, spec: NodeSpec, registered: Node, boot_id: String) {
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client, lease::NAMESPACE);
    let mut uid = registered.metadata.uid.clone().unwrap_or_default();
    let mut next_status = Instant::now() + cfg.node_status_interval;
    let mut ticks = interval(cfg.lease_renew_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if Instant::now() >= next_status || !reads_ready(&nodes, &spec.name).await {
            match heartbeat(&nodes, &cfg, &spec, &boot_id).await {
                Ok(n) => {
                    uid = n.metadata.uid.clone().unwrap_or_default();
                    next_status = Instant::now() + cfg.node_status_interval;
                }
                Err(e) => warn!(node = %spec.name, error = %e, "node status not posted"),
            }
        }
        match lease::renew(&leases, &spec.name, &uid, cfg.lease_duration_seconds).await {
            Ok(_) => debug!(node = %spec.name, "lease renewed"),
            Err(e) => {
                warn!(node = %spec.name, error = %e, "lease not renewed");
                // Perhaps the node is gone: look at it on the next tick.
                next_status = Instant::now();
            }
        }
    }
}

/// Whether the API server shows the node Ready, as this kubelet last posted it. When someone
/// else changed that (the node lifecycle controller marks a silent node `Unknown`), kubelet
/// posts its status again at its next update, not at the next report interval.
async fn reads_ready(nodes: &Api<Node>, name: &str) -> bool {
    match nodes.get_opt(name).await {
        Ok(Some(node)) => node
            .status
            .and_then(|s| s.conditions)
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
        // Gone: post (and so register) now. Unreadable: try again at the next tick.
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Posts the node's status, registering the node again if it was deleted.
async fn heartbeat(nodes: &Api<Node>, cfg: &Config, spec: &NodeSpec, boot_id: &str) -> Result<Node, node::Error> {
    match nodes.get_opt(&spec.name).await.map_err(|e| node::Error::Get(spec.name.clone(), e))? {
        Some(n) => node::post_status(nodes, cfg, spec, &n, boot_id).await,
        None => {
            info!(node = %spec.name, "node was deleted; registering it again");
            node::register(nodes, cfg, spec, boot_id).await
        }
    }
}
