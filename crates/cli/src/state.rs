//! The state directory of the embedded super cluster (default `~/.nestor`):
//!
//! ```text
//! <state-dir>/
//!   admin.kubeconfig            the super cluster's admin (system:masters)
//!   super.json                  the ports of etcd and the API server, kept across `up`s
//!   pki/                        ca.crt, ca.key, apiserver.crt, apiserver.key, admin.crt, admin.key
//!   etcd/                       the super cluster's etcd data
//!   etcd.log  etcd.pid          one log (appended) and pid file per process: the pid, then a
//!   apiserver.log  apiserver.pid  fingerprint of how it was started
//!   serve.log  serve.pid        `kubectl-vc serve`: controllers, nodesim, manager, syncer
//!   tenants/<cluster-key>/      each tenant's control plane (the manager's local provisioner)
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One process of the super cluster, in start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Etcd,
    ApiServer,
    Serve,
}

impl Part {
    /// Start order; stop in reverse.
    pub const ALL: [Part; 3] = [Part::Etcd, Part::ApiServer, Part::Serve];

    /// The name of its log and pid files.
    pub fn name(self) -> &'static str {
        match self {
            Part::Etcd => "etcd",
            Part::ApiServer => "apiserver",
            Part::Serve => "serve",
        }
    }
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// The state directory at `path`, made absolute: processes are recognised by the paths in
    /// their command lines.
    pub fn new(path: &Path) -> Result<StateDir> {
        let root = std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))?;
        Ok(StateDir { root })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.root.join("admin.kubeconfig")
    }

    pub fn pki(&self) -> PathBuf {
        self.root.join("pki")
    }

    pub fn etcd_data(&self) -> PathBuf {
        self.root.join("etcd")
    }

    pub fn ports_file(&self) -> PathBuf {
        self.root.join("super.json")
    }

    pub fn log(&self, part: Part) -> PathBuf {
        self.root.join(format!("{}.log", part.name()))
    }

    pub fn pid_file(&self, part: Part) -> PathBuf {
        self.root.join(format!("{}.pid", part.name()))
    }

    /// Creates the folder and `pki/`, private to this user (they hold keys).
    pub fn create(&self) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        for dir in [self.root.clone(), self.pki()] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .with_context(|| format!("creating {}", dir.display()))?;
        }
        Ok(())
    }
}

/// The ports of the super cluster's etcd and API server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
}

impl Ports {
    /// The ports kept in `super.json`, if any.
    pub fn load(dir: &StateDir) -> Option<Ports> {
        serde_json::from_slice(&std::fs::read(dir.ports_file()).ok()?).ok()
    }

    pub fn save(&self, dir: &StateDir) -> Result<()> {
        let path = dir.ports_file();
        std::fs::write(&path, serde_json::to_vec_pretty(self)?).with_context(|| format!("writing {}", path.display()))
    }
}

/// Writes `contents` to `path`, readable by this user only when `private`.
pub fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents).with_context(|| format!("writing {}", path.display()))
}

/// Every live process of ours working on the state directory (the super cluster's and every
/// tenant's): its program is etcd, nestor-apiserver, nestor-controllers or kubectl-vc and one
/// of its arguments names a path inside the folder.
pub fn processes_in(dir: &StateDir) -> Vec<(String, i32)> {
    const PROGRAMS: [&str; 4] = ["etcd", "nestor-apiserver", "nestor-controllers", "kubectl-vc"];
    nestor_manager::provision::local::process::processes_in(dir.path())
        .into_iter()
        .filter(|(program, _)| PROGRAMS.contains(&program.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn layout_and_ports() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::new(tmp.path()).unwrap();
        dir.create().unwrap();
        assert_eq!(Ports::load(&dir), None);
        let ports = Ports { etcd_client: 1, etcd_peer: 2, apiserver: 3 };
        ports.save(&dir).unwrap();
        assert_eq!(Ports::load(&dir), Some(ports));
        assert!(dir.pid_file(Part::Serve).ends_with("serve.pid"));
        assert!(processes_in(&dir).is_empty());
    }
}
