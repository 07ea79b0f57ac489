//! The Node objects: what a kubelet registers (labels, pod CIDR, capacity, conditions,
//! addresses, node info) and how it posts status. An existing node of the same name is
//! adopted, so a restarted nodesim takes its nodes back with their pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec as KubeNodeSpec, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::{Config, NodeSpec};
use crate::time::{now_secs, truncate};

/// The kubelet version nodesim reports (the API server is Kubernetes v1.32).
pub const KUBELET_VERSION: &str = "v1.32.0";
/// The container runtime nodesim reports; also the scheme of its container IDs.
pub const RUNTIME_VERSION: &str = "nestor-sim://0.1.0";
/// The port kubelets serve on, reported in `status.daemonEndpoints`.
pub const KUBELET_PORT: i32 = 10250;

/// Why a node could not be registered or its status posted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read node {0}: {1}")]
    Get(String, #[source] kube::Error),
    #[error("failed to create node {0}: {1}")]
    Create(String, #[source] kube::Error),
    #[error("failed to adopt node {0}: {1}")]
    Adopt(String, #[source] kube::Error),
    #[error("failed to post status of node {0}: {1}")]
    Status(String, #[source] kube::Error),
}

/// The labels a kubelet puts on its node, plus the configured extras.
pub fn labels(cfg: &Config, spec: &NodeSpec) -> BTreeMap<String, String> {
    let mut labels = cfg.node_labels.clone();
    for (k, v) in [
        ("kubernetes.io/hostname", spec.name.as_str()),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
        ("node.kubernetes.io/instance-type", "nestor-sim"),
    ] {
        labels.insert(k.to_string(), v.to_string());
    }
    labels
}

/// A new Node object as a kubelet registers it (status included, as kubelet sends it).
pub fn new_node(cfg: &Config, spec: &NodeSpec, boot_id: &str) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            labels: Some(labels(cfg, spec)),
            // kubelet's default: volumes are attached by the controller manager, not the node.
            annotations: Some(BTreeMap::from([(
                "volumes.kubernetes.io/controller-managed-attach-detach".to_string(),
                "true".to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(KubeNodeSpec {
            pod_cidr: Some(spec.pod_cidr.to_string()),
            pod_cidrs: Some(vec![spec.pod_cidr.to_string()]),
            ..Default::default()
        }),
        status: Some(desired_status(cfg, spec, None, boot_id, Timestamp::now())),
    }
}

fn hex_id(seed: &str) -> String {
    format!("{:x}", Sha256::digest(seed.as_bytes()))
}

/// A UUID-shaped text from a hash, stable for the same seed.
fn uuid_from(seed: &str) -> String {
    let h = hex_id(seed);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &Time,
    old: Option<&NodeStatus>,
) -> NodeCondition {
    // The transition time moves only when the status does, as kubelet's setters keep it.
    let since = old
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == kind))
        .filter(|c| c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.clone());
    NodeCondition {
        type_: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(since),
    }
}

/// The status a healthy kubelet posts for `spec`, keeping transition times from `old`.
pub fn desired_status(
    cfg: &Config,
    spec: &NodeSpec,
    old: Option<&NodeStatus>,
    boot_id: &str,
    now: Timestamp,
) -> NodeStatus {
    let now = Time(truncate(now));
    let capacity: BTreeMap<String, Quantity> = [
        ("cpu", cfg.cpu.as_str()),
        ("memory", cfg.memory.as_str()),
        ("pods", cfg.pods.as_str()),
        ("ephemeral-storage", cfg.ephemeral_storage.as_str()),
        ("hugepages-1Gi", "0"),
        ("hugepages-2Mi", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
    .collect();
    NodeStatus {
        capacity: Some(capacity.clone()),
        allocatable: Some(capacity),
        conditions: Some(vec![
            condition(
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
                &now,
                old,
            ),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", &now, old),
            condition(
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
                &now,
                old,
            ),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", &now, old),
        ]),
        addresses: Some(vec![
            NodeAddress { type_: "InternalIP".into(), address: spec.ip.to_string() },
            NodeAddress { type_: "Hostname".into(), address: spec.name.clone() },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port: KUBELET_PORT }) }),
        node_info: Some(NodeSystemInfo {
            machine_id: hex_id(&format!("machine/{}", spec.name))[..32].to_string(),
            system_uuid: uuid_from(&format!("system/{}", spec.name)),
            boot_id: boot_id.to_string(),
            kernel_version: "6.1.0-nestor-sim".into(),
            os_image: "Nestor simulated node".into(),
            container_runtime_version: RUNTIME_VERSION.into(),
            kubelet_version: KUBELET_VERSION.into(),
            kube_proxy_version: String::new(),
            operating_system: "linux".into(),
            architecture: "amd64".into(),
            swap: None,
        }),
        ..Default::default()
    }
}

/// A fresh boot ID, as each start of a real node has.
pub fn new_boot_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creates the node, or adopts the one of that name: our labels are set (others kept), an
/// empty `spec.podCIDR` is filled (it is immutable once set, so an adopted node keeps its
/// own), and status is posted. Answers the node as stored.
pub async fn register(api: &Api<Node>, cfg: &Config, spec: &NodeSpec, boot_id: &str) -> Result<Node, Error> {
    let name = &spec.name;
    let existing = api.get_opt(name).await.map_err(|e| Error::Get(name.clone(), e))?;
    let node = match existing {
        None => match api.create(&PostParams::default(), &new_node(cfg, spec, boot_id)).await {
            Ok(n) => n,
            // Someone (a second nodesim, or our own earlier attempt) created it meanwhile.
            Err(kube::Error::Api(s)) if s.code == 409 => {
                api.get(name).await.map_err(|e| Error::Get(name.clone(), e))?
            }
            Err(e) => return Err(Error::Create(name.clone(), e)),
        },
        Some(node) => {
            let mut patch = json!({"metadata": {"labels": labels(cfg, spec)}});
            let has_cidr = node.spec.as_ref().and_then(|s| s.pod_cidr.as_deref()).is_some_and(|c| !c.is_empty());
            if !has_cidr {
                patch["spec"] = json!({"podCIDR": spec.pod_cidr.to_string(), "podCIDRs": [spec.pod_cidr.to_string()]});
            }
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| Error::Adopt(name.clone(), e))?
        }
    };
    post_status(api, cfg, spec, &node, boot_id).await
}

/// Posts the node's status (a heartbeat), keeping condition transition times.
pub async fn post_status(
    api: &Api<Node>,
    cfg: &Config,
    spec: &NodeSpec,
    node: &Node,
    boot_id: &str,
) -> Result<Node, Error> {
    let status = desired_status(cfg, spec, node.status.as_ref(), boot_id, now_secs());
    let patch = json!({"status": status});
    api.patch_status(&spec.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::Status(spec.name.clone(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keeps_transition_times_and_moves_heartbeats() {
        let cfg = Config::default();
        let spec = &cfg.node_specs().unwrap()[1];
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let t1 = Timestamp::from_second(1_700_000_060).unwrap();
        let first = desired_status(&cfg, spec, None, "boot", t0);
        let second = desired_status(&cfg, spec, Some(&first), "boot", t1);
        let ready = second.conditions.as_ref().unwrap().iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.last_transition_time, Some(Time(t0)));
        assert_eq!(ready.last_heartbeat_time, Some(Time(t1)));
        assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
        assert_eq!(second.addresses.as_ref().unwrap()[0].address, "172.18.0.3");
        assert_eq!(second.node_info.as_ref().unwrap().kubelet_version, "v1.32.0");
        assert_eq!(second.capacity.as_ref().unwrap()["memory"].0, "32Gi");
    }

    #[test]
    fn labels_name_the_host() {
        let cfg = Config::default();
        let spec = &cfg.node_specs().unwrap()[0];
        let l = labels(&cfg, spec);
        assert_eq!(l["kubernetes.io/hostname"], "nestor-node-0");
        assert_eq!(l["node.kubernetes.io/instance-type"], "nestor-sim");
    }
}
