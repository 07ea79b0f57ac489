//! The finalizer `tenancy.nestor.dev/manager`, which holds a VirtualCluster until its control
//! plane is gone.
//!
//! kube-runtime's `finalizer` helper adds the first finalizer with a JSON patch that tests
//! `/metadata/finalizers` for null; kube-apiserver's json-patch passes that test for a missing
//! field, nestor-apiserver answers 422. A merge patch carrying the resourceVersion does the
//! same job on both: it fails with 409 instead of losing another writer's finalizer.

use kube::api::{Api, Patch, PatchParams};
use kube::ResourceExt;
use nestor_api::VirtualCluster;
use serde_json::json;

use crate::FINALIZER;

/// Why the finalizer could not be added or removed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to add the finalizer: {0}")]
    Add(#[source] kube::Error),
    #[error("failed to remove the finalizer: {0}")]
    Remove(#[source] kube::Error),
}

/// Whether `vc` carries the manager's finalizer.
pub fn present(vc: &VirtualCluster) -> bool {
    vc.finalizers().iter().any(|f| f == FINALIZER)
}

/// Adds the finalizer; answers the object as it now is.
pub async fn add(api: &Api<VirtualCluster>, vc: &VirtualCluster) -> Result<VirtualCluster, Error> {
    let mut finalizers = vc.finalizers().to_vec();
    finalizers.push(FINALIZER.to_string());
    write(api, vc, finalizers).await.map_err(Error::Add)
}

/// Removes the finalizer, letting the deletion finish.
pub async fn remove(api: &Api<VirtualCluster>, vc: &VirtualCluster) -> Result<(), Error> {
    let finalizers: Vec<String> = vc.finalizers().iter().filter(|f| *f != FINALIZER).cloned().collect();
    match write(api, vc, finalizers).await {
        Ok(_) => Ok(()),
        // Gone already: someone removed the last finalizer for us.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(Error::Remove(e)),
    }
}

async fn write(
    api: &Api<VirtualCluster>,
    vc: &VirtualCluster,
    finalizers: Vec<String>,
) -> kube::Result<VirtualCluster> {
    let patch = json!({
        "metadata": { "finalizers": finalizers, "resourceVersion": vc.resource_version() }
    });
    api.patch(&vc.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await
}
