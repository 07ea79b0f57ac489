//! Node Leases in `kube-node-lease`: the cheap heartbeat kubelets renew every 10 s and the
//! node lifecycle controller reads to decide whether a node is alive.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

/// The namespace of node Leases.
pub const NAMESPACE: &str = "kube-node-lease";

/// Why a Lease could not be renewed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to renew lease of node {0}: {1}")]
    Renew(String, #[source] kube::Error),
    #[error("failed to create lease of node {0}: {1}")]
    Create(String, #[source] kube::Error),
}

/// The owner reference kubelet puts on its Lease, so the Lease goes with its Node.
fn owner(node: &str, node_uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: node.into(),
        uid: node_uid.into(),
        ..Default::default()
    }
}

/// The Lease of `node` as kubelet creates it.
pub fn new_lease(node: &str, node_uid: &str, duration_seconds: i32, now: Timestamp) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(node.into()),
            namespace: Some(NAMESPACE.into()),
            owner_references: Some(vec![owner(node, node_uid)]),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(node.into()),
            lease_duration_seconds: Some(duration_seconds),
            renew_time: Some(MicroTime(now)),
            ..Default::default()
        }),
    }
}

/// Renews the Lease of `node` (creating it when missing) with `renewTime` now. A merge patch
/// needs no read first and cannot conflict: nodesim is the only writer of its Leases.
pub async fn renew(api: &Api<Lease>, node: &str, node_uid: &str, duration_seconds: i32) -> Result<Lease, Error> {
    let now = Timestamp::now();
    let lease = new_lease(node, node_uid, duration_seconds, now);
    let patch = json!({
        "metadata": {"ownerReferences": lease.metadata.owner_references},
        "spec": lease.spec,
    });
    match api.patch(node, &PatchParams::default(), &Patch::Merge(&patch)).await {
        Ok(l) => Ok(l),
        Err(kube::Error::Api(s)) if s.code == 404 => match api.create(&PostParams::default(), &lease).await {
            Ok(l) => Ok(l),
            Err(kube::Error::Api(s)) if s.code == 409 => api
                .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| Error::Renew(node.into(), e)),
            Err(e) => Err(Error::Create(node.into(), e)),
        },
        Err(e) => Err(Error::Renew(node.into(), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_is_held_by_its_node() {
        let l = new_lease("n1", "uid-1", 40, Timestamp::from_second(5).unwrap());
        let spec = l.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("n1"));
        assert_eq!(spec.lease_duration_seconds, Some(40));
        let owner = &l.metadata.owner_references.unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Node", "uid-1"));
        assert_eq!(l.metadata.namespace.as_deref(), Some(NAMESPACE));
    }
}
