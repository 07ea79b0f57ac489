//! Provisioners make a tenant's control plane exist and say where it serves. The reconciler
//! speaks to them through one trait; `local` runs processes on this machine (the embedded
//! mode); `native` makes workloads of the super cluster (StatefulSets in a namespace per tenant).

pub mod local;
pub mod native;
pub mod readyz;

use std::path::PathBuf;

use futures::future::BoxFuture;
use nestor_api::types::Endpoint;

use crate::pki::TenantPki;

/// The controllers a tenant's nestor-controllers runs: all but node lifecycle, as vcluster
/// runs kube-controller-manager. A tenant's nodes are virtual: the super cluster's node
/// lifecycle judges the real node, and the syncer copies its conditions and taints up.
pub const TENANT_CONTROLLERS: &str = "--controllers=*,-nodelifecycle";

/// Why a control plane could not be made or removed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to prepare {0}: {1}")]
    Prepare(PathBuf, #[source] std::io::Error),
    #[error("failed to read the tenant state {0}: {1}")]
    ReadState(PathBuf, #[source] serde_json::Error),
    #[error("failed to pick free ports: {0}")]
    Ports(#[source] std::io::Error),
    #[error("failed to start {0} ({1}): {2}")]
    Spawn(&'static str, PathBuf, #[source] std::io::Error),
    #[error("{0} did not start: {1}")]
    Start(&'static str, String),
    #[error("failed to remove {0}: {1}")]
    Remove(PathBuf, #[source] std::io::Error),
    #[error("failed to build a client for the tenant API server: {0}")]
    Client(String),
    #[error("writing the control plane's objects failed: {0}")]
    Api(String),
    #[error("{0}")]
    Removing(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a provisioner is told about a tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The cluster key (`naming::cluster_key`): names the tenant's folder, namespace, processes.
    pub key: String,
    /// The VirtualCluster, for logs and for humans reading the state directory.
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub pki: TenantPki,
    /// The spec of the ClusterVersion the VirtualCluster names; the provisioner's default when
    /// it names none. The local provisioner runs its own binaries whatever it says.
    pub version: Option<nestor_api::types::ClusterVersionSpec>,
}

/// Where a tenant's control plane serves, and whether its API server is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The URL the admin kubeconfig names (how the manager and users reach the API server).
    pub server: String,
    /// Where pods on the super cluster's nodes reach the API server.
    pub in_cluster: Endpoint,
    /// Whether `/readyz` answered 200 within the provisioner's patience.
    pub ready: bool,
}

/// Makes tenant control planes exist, and removes them.
pub trait Provisioner: Send + Sync + 'static {
    /// The `--provisioner` name.
    fn name(&self) -> &'static str;

    /// Makes the tenant's control plane exist and match `tenant` (started, adopted, or
    /// restarted with new certificates), and waits a while for its API server to be ready.
    /// Idempotent: called on every reconcile.
    fn ensure<'a>(&'a self, tenant: &'a Tenant) -> BoxFuture<'a, Result<Provisioned>>;

    /// Removes everything of the tenant with cluster key `key`; nothing is left behind.
    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Keeps provisioned tenants alive while the manager leads (restarting what died); never
    /// returns. By default there is nothing to do: the platform supervises.
    fn supervise(&self) -> BoxFuture<'_, ()> {
        Box::pin(futures::future::pending())
    }
}
