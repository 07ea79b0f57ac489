//! The state directory of the local provisioner, one folder per tenant:
//!
//! ```text
//! <state-dir>/tenants/<cluster-key>/
//!   tenant.json                 ports (kept across restarts: the kubeconfig Secret names the
//!                               API server's) and which VirtualCluster this is
//!   pki/                        ca.crt, apiserver.crt/.key, admin.kubeconfig, sa.pub/.key
//!   etcd/                       etcd's data directory
//!   etcd.log  etcd.pid          one log and pid file per process; a pid file holds the pid
//!   apiserver.log  apiserver.pid   and a fingerprint of what the process was started with
//!   controllers.log  controllers.pid
//! ```

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::process::Component;
use crate::provision::{Error, Result};

/// The folder of one tenant.
#[derive(Debug, Clone)]
pub struct TenantDir {
    root: PathBuf,
}

impl TenantDir {
    /// The folder of the tenant with cluster key `key` under `state_dir`.
    pub fn new(state_dir: &Path, key: &str) -> TenantDir {
        TenantDir { root: tenants_dir(state_dir).join(key) }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn state_file(&self) -> PathBuf {
        self.root.join("tenant.json")
    }

    pub fn pki_dir(&self) -> PathBuf {
        self.root.join("pki")
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.pki_dir().join("ca.crt")
    }

    pub fn serving_cert(&self) -> PathBuf {
        self.pki_dir().join("apiserver.crt")
    }

    pub fn serving_key(&self) -> PathBuf {
        self.pki_dir().join("apiserver.key")
    }

    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.pki_dir().join("admin.kubeconfig")
    }

    pub fn service_account_public(&self) -> PathBuf {
        self.pki_dir().join("sa.pub")
    }

    pub fn service_account_key(&self) -> PathBuf {
        self.pki_dir().join("sa.key")
    }

    pub fn etcd_data(&self) -> PathBuf {
        self.root.join("etcd")
    }

    pub fn log(&self, component: Component) -> PathBuf {
        self.root.join(format!("{}.log", component.name()))
    }

    pub fn pid_file(&self, component: Component) -> PathBuf {
        self.root.join(format!("{}.pid", component.name()))
    }

    /// Creates the folder and its `pki/` (private to this user: it holds keys).
    pub fn create(&self) -> Result<()> {
        for dir in [self.root.clone(), self.pki_dir()] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| Error::Prepare(dir.clone(), e))?;
        }
        Ok(())
    }
}

/// The folder that holds every tenant's folder.
pub fn tenants_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("tenants")
}

/// What is remembered of a tenant between manager runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantState {
    pub etcd_client_port: u16,
    pub etcd_peer_port: u16,
    pub apiserver_port: u16,
    /// Whether the API server has ever been ready on these ports. Until then a start that
    /// fails picks new ports (another process may have taken a free port first); after, the
    /// ports are kept, since the kubeconfig Secret names the API server's.
    #[serde(default)]
    pub served: bool,
    /// `<namespace>/<name>` of the VirtualCluster, for humans.
    #[serde(default)]
    pub virtual_cluster: String,
    #[serde(default)]
    pub uid: String,
}

impl TenantState {
    /// A state with free loopback ports for a new tenant.
    pub fn with_free_ports(virtual_cluster: String, uid: String) -> Result<TenantState> {
        // All three listeners are held at once so the ports differ from each other.
        let listeners: Vec<std::net::TcpListener> = (0..3)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<_, _>>()
            .map_err(Error::Ports)?;
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<Result<_, _>>()
            .map_err(Error::Ports)?;
        Ok(TenantState {
            etcd_client_port: ports[0],
            etcd_peer_port: ports[1],
            apiserver_port: ports[2],
            served: false,
            virtual_cluster,
            uid,
        })
    }

    /// Reads `tenant.json`; None when there is none.
    pub fn load(dir: &TenantDir) -> Result<Option<TenantState>> {
        let path = dir.state_file();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::ReadState(path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Prepare(path, e)),
        }
    }

    /// Writes `tenant.json` (through a temporary file, so a crash never leaves half of it).
    pub fn save(&self, dir: &TenantDir) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::ReadState(dir.state_file(), e))?;
        write_atomically(&dir.state_file(), &bytes, false)
    }
}

/// Writes `contents` to `path` unless it already holds exactly that; answers whether it wrote.
/// `private` files (keys) are readable by this user only.
pub fn write_if_changed(path: &Path, contents: &[u8], private: bool) -> Result<bool> {
    if std::fs::read(path).is_ok_and(|current| current == contents) {
        return Ok(false);
    }
    write_atomically(path, contents, private)?;
    Ok(true)
}

fn write_atomically(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(if private { 0o600 } else { 0o644 })
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| Error::Prepare(path.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn state_round_trips_and_files_are_written_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = TenantDir::new(tmp.path(), "blue-1234abcd");
        dir.create().unwrap();
        assert_eq!(TenantState::load(&dir).unwrap(), None);
        let state = TenantState::with_free_ports("tenants/blue".into(), "u".into()).unwrap();
        assert_ne!(state.etcd_client_port, state.apiserver_port);
        state.save(&dir).unwrap();
        assert_eq!(TenantState::load(&dir).unwrap(), Some(state));

        let key = dir.serving_key();
        assert!(write_if_changed(&key, b"secret", true).unwrap());
        assert!(!write_if_changed(&key, b"secret", true).unwrap());
        assert!(write_if_changed(&key, b"renewed", true).unwrap());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(dir.log(Component::ApiServer).ends_with("blue-1234abcd/apiserver.log"));
    }
}
