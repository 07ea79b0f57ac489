//! nestor-manager: turns `VirtualCluster` objects of the super cluster into running tenant
//! control planes.
//!
//! One kube-runtime `Controller` watches VirtualClusters in every namespace (and the Secrets it
//! wrote, and ClusterVersions, so a fixed reference is noticed without polling). For each one,
//! `reconcile` runs the same level-triggered steps:
//!
//! 1. [`validate`] the spec; an invalid one is `Failed` with a `Ready=False` condition and a
//!    Warning event, and waits for the next change;
//! 2. `secrets` keeps the tenant's [`pki`] (CA, API-server serving certificate, admin client
//!    certificate, service-account key pair) in the Secret `<name>-pki`, renewing what is due;
//! 3. a [`provision::Provisioner`] makes the control plane (etcd, nestor-apiserver,
//!    nestor-controllers) exist and answers where it serves and whether `/readyz` passes; the
//!    [`provision::local`] one runs them as processes that outlive the manager;
//! 4. the admin kubeconfig goes into the Secret `<name>-kubeconfig` and [`status`] says `Running`
//!    with the cluster key, the Secret's name and the in-cluster endpoint, which is all the
//!    syncer needs to start syncing the tenant.
//!
//! A finalizer tears the control plane down before the VirtualCluster goes; the Secrets follow
//! it through their owner references. Only the replica holding the Lease `nestor-manager` works.

pub mod args;
mod events;
mod finalizer;
pub mod metrics;
pub mod pki;
pub mod provision;
mod reconcile;
mod secrets;
pub mod status;
pub mod validate;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tracing::info;

pub use args::Args;
use metrics::Metrics;
use provision::local::{LocalConfig, LocalProvisioner};
use provision::native::{NativeConfig, NativeProvisioner};
use provision::Provisioner;

/// Name of the leader Lease.
pub const LEASE_NAME: &str = "nestor-manager";
/// The finalizer that holds a VirtualCluster until its control plane is gone.
pub const FINALIZER: &str = "tenancy.nestor.dev/manager";
/// Who writes the events and owns the Secrets.
pub const COMPONENT: &str = "nestor-manager";

/// Why the manager stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to bind the metrics address {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("failed to set up the provisioner: {0}")]
    Provisioner(#[source] provision::Error),
    #[error("leader election failed: {0}")]
    Leader(#[source] anyhow::Error),
    #[error("the VirtualCluster controller ended unexpectedly")]
    ControllerEnded,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How tenant control planes are made.
#[derive(Debug, Clone)]
pub enum ProvisionerConfig {
    /// Local processes under a state directory (the embedded mode).
    Local(LocalConfig),
    /// StatefulSets in the super cluster.
    Native(NativeConfig),
}

/// How the manager runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Who this process is in the leader Lease.
    pub identity: String,
    /// Namespace of the leader Lease.
    pub lease_namespace: String,
    /// How long a leader's Lease lasts without renewal.
    pub lease_duration: Duration,
    /// Where `/metrics`, `/healthz` and `/readyz` are served (port 0 picks a free one and logs it).
    pub metrics_addr: SocketAddr,
    pub provisioner: ProvisionerConfig,
}

/// Serves health and metrics at once, waits to lead, then reconciles VirtualClusters until
/// `shutdown` resolves (`Ok`) or leadership is lost (an error: the caller should exit).
/// Tenant control planes keep running after the manager stops; the next manager adopts them.
pub async fn run(client: kube::Client, config: Config, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
    let metrics = Arc::new(Metrics::new());
    let _serving = nestor_api::runtime::health::start(
        config.metrics_addr,
        Arc::clone(&metrics) as Arc<dyn nestor_api::runtime::Exposition>,
    )
    .await
    .map_err(|e| Error::Bind(config.metrics_addr, e))?;
    lead_and_run(client, config, metrics, shutdown).await
}

async fn lead_and_run(
    client: kube::Client,
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let provisioner: Arc<dyn Provisioner> = match &config.provisioner {
        ProvisionerConfig::Local(local) => {
            Arc::new(LocalProvisioner::new(local.clone(), Arc::clone(&metrics)).map_err(Error::Provisioner)?)
        }
        ProvisionerConfig::Native(native) => Arc::new(NativeProvisioner::new(client.clone(), native.clone())),
    };
    let elector = nestor_api::runtime::Elector::new(
        client.clone(),
        &config.lease_namespace,
        LEASE_NAME,
        &config.identity,
        config.lease_duration,
    );
    let mut shutdown = std::pin::pin!(shutdown);
    if !elector.acquire_unless(&mut shutdown).await.map_err(Error::Leader)? {
        return Ok(());
    }
    info!(identity = %config.identity, provisioner = provisioner.name(), "leading; reconciling VirtualClusters");
    metrics.set_leader(true);

    // Supervision only while leading: two managers over one state directory would both
    // restart the same processes.
    let supervisor = {
        let provisioner = Arc::clone(&provisioner);
        tokio::spawn(async move { provisioner.supervise().await })
    };
    let result = tokio::select! {
        () = &mut shutdown => Ok(()),
        lost = elector.keep() => Err(Error::Leader(lost.err().unwrap_or_else(|| anyhow::anyhow!("lease lost")))),
        () = reconcile::run(client, Arc::clone(&provisioner), Arc::clone(&metrics)) => Err(Error::ControllerEnded),
    };
    supervisor.abort();
    metrics.set_leader(false);
    if result.is_ok() {
        // A clean stop hands the Lease over at once instead of after its duration.
        elector.release().await;
    }
    info!("stopped; tenant control planes keep running");
    result
}
