//! The `tenancy.nestor.dev/v1alpha1` custom resources: `VirtualCluster` (one tenant control
//! plane) and `ClusterVersion` (what a control plane is made of).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The API group of Nestor's custom resources.
pub const GROUP: &str = "tenancy.nestor.dev";
/// The version of Nestor's custom resources.
pub const VERSION: &str = "v1alpha1";

/// A tenant: its own control plane, whose workloads run on the super cluster's nodes.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "tenancy.nestor.dev",
    version = "v1alpha1",
    kind = "VirtualCluster",
    plural = "virtualclusters",
    shortname = "vc",
    category = "nestor",
    namespaced,
    status = "VirtualClusterStatus",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Key","type":"string","jsonPath":".status.clusterKey"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.clusterVersion","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct VirtualClusterSpec {
    /// The ClusterVersion the control plane is built from; the manager's default when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_version: Option<String>,
    /// What the syncer copies into the super cluster beyond the built-in kinds.
    #[serde(default, skip_serializing_if = "SyncSpec::is_empty")]
    pub sync: SyncSpec,
}

/// Extra kinds synced downward.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSpec {
    /// Custom resources synced to the super cluster, each named as its CRD is:
    /// `<plural>.<group>`, for example `widgets.example.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_resources: Vec<String>,
}

impl SyncSpec {
    fn is_empty(&self) -> bool {
        self.custom_resources.is_empty()
    }
}

/// What the manager and the syncer report about a tenant.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VirtualClusterStatus {
    /// Pending, Provisioning, Running, Failed or Deleting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The short key that prefixes the tenant's super namespaces (see `naming::cluster_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_key: Option<String>,
    /// The Secret (in the VirtualCluster's namespace) holding the admin kubeconfig under the
    /// key `kubeconfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_secret: Option<String>,
    /// How pods on the super cluster's nodes reach the tenant's API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_cluster_endpoint: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// The lifecycle phase of a VirtualCluster.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum Phase {
    Pending,
    Provisioning,
    Running,
    Failed,
    Deleting,
}

/// A host and port.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct Endpoint {
    pub host: String,
    pub port: i32,
}

/// A condition as `metav1.Condition` writes it.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    /// RFC 3339 time of the last status change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Condition type set by the syncer when a custom resource listed in `spec.sync` cannot be
/// synced (its CRD conflicts with the super cluster's).
pub const CONDITION_CRD_SYNCED: &str = "CustomResourcesSynced";

/// The parts of a tenant control plane.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "tenancy.nestor.dev",
    version = "v1alpha1",
    kind = "ClusterVersion",
    plural = "clusterversions",
    shortname = "cv",
    category = "nestor",
    printcolumn = r#"{"name":"APIServer","type":"string","jsonPath":".spec.apiServer.image"}"#,
    printcolumn = r#"{"name":"Etcd","type":"string","jsonPath":".spec.etcd.image"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterVersionSpec {
    pub api_server: Component,
    pub etcd: Component,
    /// The controllers (nestor-controllers or kube-controller-manager); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controllers: Option<Component>,
}

/// One process of a control plane.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Container image (native provisioner) or binary name (local provisioner).
    pub image: String,
    /// Extra command-line flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    /// The manifests under `crds/` are generated from these types; set NESTOR_UPDATE_CRDS=1
    /// to rewrite them after changing a type.
    #[test]
    fn crd_manifests_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
        for crd in [VirtualCluster::crd(), ClusterVersion::crd()] {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let path = dir.join(format!("{name}.yaml"));
            let yaml = serde_saphyr::to_string(&crd).unwrap();
            if std::env::var_os("NESTOR_UPDATE_CRDS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &yaml).unwrap();
            }
            let stored = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(stored, yaml, "{} is stale: run NESTOR_UPDATE_CRDS=1 cargo test -p nestor-api", path.display());
        }
    }

    #[test]
    fn status_round_trips_with_kube_field_names() {
        let status: VirtualClusterStatus = serde_json::from_value(serde_json::json!({
            "phase": "Running", "clusterKey": "blue-1a2b3c4d", "kubeconfigSecret": "blue-kubeconfig",
            "inClusterEndpoint": {"host": "10.0.0.1", "port": 6443},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Up", "message": ""}]
        }))
        .unwrap();
        assert_eq!(status.phase, Some(Phase::Running));
        assert_eq!(status.conditions[0].type_, "Ready");
        let back = serde_json::to_value(&status).unwrap();
        assert_eq!(back["inClusterEndpoint"]["port"], 6443);
        assert!(serde_json::from_value::<VirtualClusterStatus>(serde_json::json!({"phase": "Sleeping"})).is_err());
    }
}
