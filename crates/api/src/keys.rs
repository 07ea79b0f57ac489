//! Label and annotation keys Nestor writes and reads. Every key lives under `nestor.dev/`, and a
//! tenant's own keys under that prefix are stripped on the way down, so no tenant can forge them.

/// The prefix of every Nestor key.
pub const PREFIX: &str = "nestor.dev/";

/// Label on every super object the syncer owns: the cluster key of its tenant (for selectors).
pub const CLUSTER: &str = "nestor.dev/cluster";
/// Annotation: the tenant namespace of a super object (empty for cluster-scoped ones).
pub const TENANT_NAMESPACE: &str = "nestor.dev/namespace";
/// Annotation: the tenant name of a super object.
pub const TENANT_NAME: &str = "nestor.dev/name";
/// Annotation: the tenant UID of the object a super object copies.
pub const TENANT_UID: &str = "nestor.dev/uid";
/// Annotation: the tenant owner references of a super object, as JSON.
pub const TENANT_OWNER_REFERENCES: &str = "nestor.dev/owner-references";
/// Annotation: the name of the VirtualCluster a super object belongs to.
pub const VC_NAME: &str = "nestor.dev/vc-name";
/// Annotation: the namespace of the VirtualCluster a super object belongs to.
pub const VC_NAMESPACE: &str = "nestor.dev/vc-namespace";
/// Annotation: the UID of the VirtualCluster a super object belongs to.
pub const VC_UID: &str = "nestor.dev/vc-uid";

/// Pod annotation read by nestor-nodesim: how long a simulated container runs before it exits
/// (a Go duration such as `2s`; only for `restartPolicy` Never or OnFailure).
pub const SIM_DURATION: &str = "nestor.dev/sim-duration";
/// Pod annotation read by nestor-nodesim: the exit code of the simulated containers.
pub const SIM_EXIT_CODE: &str = "nestor.dev/sim-exit-code";
/// Pod annotation read by nestor-nodesim: how long after start the pod turns Ready.
pub const SIM_READY_AFTER: &str = "nestor.dev/sim-ready-after";

/// True for keys a tenant may not set on super objects.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(PREFIX)
}
