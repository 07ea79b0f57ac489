//! The flags of `nestor-manager`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use nestor_api::duration;

use nestor_api::types::{ClusterVersionSpec, Component};

use crate::provision::local::{Binaries, LocalConfig};
use crate::provision::native::NativeConfig;
use crate::{Config, ProvisionerConfig};

/// Why the flags do not make a configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("--state-dir is required with --provisioner local")]
    StateDirRequired,
    #[error("failed to resolve --state-dir {0}: {1}")]
    StateDir(PathBuf, #[source] std::io::Error),
}

/// Reconciles VirtualClusters: gives each tenant a control plane (etcd, nestor-apiserver,
/// nestor-controllers), its PKI and an admin kubeconfig Secret.
#[derive(Debug, Clone, Parser)]
#[command(name = "nestor-manager", version)]
pub struct Args {
    /// Kubeconfig of the super cluster (else $KUBECONFIG, ~/.kube/config or in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// How tenant control planes are made: `local` runs them as processes on this machine.
    #[arg(long, value_enum, default_value_t = ProvisionerKind::Local)]
    pub provisioner: ProvisionerKind,

    /// Where the local provisioner keeps every tenant's data, logs and pid files
    /// (`<state-dir>/tenants/<cluster-key>/`).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,

    /// The etcd binary of tenant control planes.
    #[arg(long, default_value = "etcd")]
    pub etcd_bin: PathBuf,

    /// The nestor-apiserver binary (default: beside this binary, else from PATH).
    #[arg(long)]
    pub apiserver_bin: Option<PathBuf>,

    /// The nestor-controllers binary (default: beside this binary, else from PATH).
    #[arg(long)]
    pub controllers_bin: Option<PathBuf>,

    /// How long one provisioning attempt waits for a tenant API server's /readyz before it
    /// reports the tenant still Provisioning and tries again.
    #[arg(long, default_value = "30s", value_parser = duration::parse_flag)]
    pub ready_timeout: Duration,

    /// How often the local provisioner checks tenant processes and restarts dead ones.
    #[arg(long, default_value = "2s", value_parser = duration::parse_flag)]
    pub supervise_interval: Duration,

    /// The API server image of native tenants whose VirtualCluster names no ClusterVersion.
    #[arg(long, default_value = "ghcr.io/nestor-dev/nestor-apiserver:0.1.0")]
    pub apiserver_image: String,

    /// The etcd image of native tenants whose VirtualCluster names no ClusterVersion.
    #[arg(long, default_value = "registry.k8s.io/etcd:3.5.17-0")]
    pub etcd_image: String,

    /// The controllers image of native tenants whose VirtualCluster names no ClusterVersion
    /// (empty: no controllers).
    #[arg(long, default_value = "ghcr.io/nestor-dev/nestor-controllers:0.1.0")]
    pub controllers_image: String,

    /// Size of the volume claim of each native tenant's etcd.
    #[arg(long, default_value = "1Gi")]
    pub etcd_storage: String,

    /// How long a tenant process has after SIGTERM before it is killed.
    #[arg(long, default_value = "10s", value_parser = duration::parse_flag)]
    pub stop_grace: Duration,

    /// Leader election (the Lease `nestor-manager`).
    #[command(flatten)]
    pub leader: nestor_api::runtime::LeaderArgs,

    /// Address of /metrics, /healthz and /readyz (port 0 picks a free one and logs it).
    #[arg(long, default_value = "127.0.0.1:8092")]
    pub metrics_addr: SocketAddr,

    #[command(flatten)]
    pub log: nestor_api::runtime::LogArgs,
}

/// The provisioners this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProvisionerKind {
    /// etcd, nestor-apiserver and nestor-controllers as local processes.
    Local,
    /// StatefulSets in the super cluster, in a namespace per tenant, images from ClusterVersions.
    Native,
}

impl Args {
    /// The configuration these flags describe.
    pub fn config(&self) -> Result<Config, Error> {
        let provisioner = match self.provisioner {
            ProvisionerKind::Local => {
                let state_dir = self.state_dir.as_deref().ok_or(Error::StateDirRequired)?;
                // Absolute, so that the paths in tenant processes' command lines (which is how a
                // restarted manager recognises them) do not depend on the working directory.
                let state_dir =
                    std::path::absolute(state_dir).map_err(|e| Error::StateDir(state_dir.to_path_buf(), e))?;
                ProvisionerConfig::Local(LocalConfig {
                    state_dir,
                    binaries: Binaries {
                        etcd: self.etcd_bin.clone(),
                        apiserver: self.apiserver_bin.clone().unwrap_or_else(|| sibling_or_path("nestor-apiserver")),
                        controllers: self
                            .controllers_bin
                            .clone()
                            .unwrap_or_else(|| sibling_or_path("nestor-controllers")),
                    },
                    ready_timeout: self.ready_timeout,
                    supervise_interval: self.supervise_interval,
                    stop_grace: self.stop_grace,
                })
            }
            ProvisionerKind::Native => {
                let component = |image: &str| Component { image: image.to_string(), args: vec![] };
                ProvisionerConfig::Native(NativeConfig {
                    default_version: ClusterVersionSpec {
                        api_server: component(&self.apiserver_image),
                        etcd: component(&self.etcd_image),
                        controllers: (!self.controllers_image.is_empty()).then(|| component(&self.controllers_image)),
                    },
                    etcd_storage: self.etcd_storage.clone(),
                })
            }
        };
        Ok(Config {
            identity: self.leader.identity(),
            lease_namespace: self.leader.lease_namespace.clone(),
            lease_duration: self.leader.lease_duration,
            metrics_addr: self.metrics_addr,
            provisioner,
        })
    }
}

/// The binary `name` beside the running executable (how the binaries of one build are laid
/// out), else the bare name, found through PATH when started.
pub fn sibling_or_path(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .filter(|candidate| candidate.is_file())
        .unwrap_or_else(|| Path::new(name).to_path_buf())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn defaults() {
        let args = Args::try_parse_from(["nestor-manager", "--state-dir=state"]).unwrap();
        assert_eq!(args.metrics_addr.to_string(), "127.0.0.1:8092");
        assert_eq!(args.provisioner, ProvisionerKind::Local);
        let config = args.config().unwrap();
        let ProvisionerConfig::Local(local) = config.provisioner else { panic!("local is the default") };
        assert!(local.state_dir.is_absolute() && local.state_dir.ends_with("state"));
        assert_eq!(local.binaries.etcd, PathBuf::from("etcd"));
        assert!(local.binaries.apiserver.ends_with("nestor-apiserver"));
        assert_eq!(local.supervise_interval, Duration::from_secs(2));
    }

    #[test]
    fn local_needs_a_state_dir() {
        let args = Args::try_parse_from(["nestor-manager"]).unwrap();
        assert!(matches!(args.config(), Err(Error::StateDirRequired)));
        assert!(Args::try_parse_from(["nestor-manager", "--provisioner=cloud"]).is_err());
    }

    #[test]
    fn native_defaults_to_the_flags_images() {
        let args = Args::try_parse_from(["nestor-manager", "--provisioner=native", "--controllers-image="]).unwrap();
        let ProvisionerConfig::Native(native) = args.config().unwrap().provisioner else { panic!("native") };
        assert_eq!(native.default_version.etcd.image, "registry.k8s.io/etcd:3.5.17-0");
        assert!(native.default_version.controllers.is_none(), "an empty image means no controllers");
        assert_eq!(native.etcd_storage, "1Gi");
    }
}
