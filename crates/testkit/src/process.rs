//! Child processes that stop with their owner: etcd and nestor-apiserver.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process, stopped with SIGTERM (then SIGKILL) when dropped.
pub struct Process {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    /// Starts `program` with `args`, stdout and stderr into `log`.
    pub fn spawn(name: &str, program: &Path, args: &[String], log: &Path) -> Result<Self> {
        let out = File::create(log)?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("failed to start {}", program.display()))?;
        Ok(Process { name: name.into(), child: Some(child), log: log.to_path_buf() })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// How many established TCP connections this process holds to `port` on the local host
    /// (its socket inodes matched against `/proc/<pid>/net/tcp`).
    pub fn connections_to(&self, port: u16) -> Result<usize> {
        let pid = self.pid().context("the process has stopped")?;
        let mut inodes = std::collections::HashSet::new();
        for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
            let target = std::fs::read_link(fd?.path()).unwrap_or_default();
            if let Some(inode) = target.to_string_lossy().strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                inodes.insert(inode.to_string());
            }
        }
        let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp"))?;
        let remote = format!(":{port:04X}");
        Ok(table
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            // Columns: sl, local address, remote address, state (01: established), ..., inode.
            .filter(|cols| cols.len() > 9 && cols[2].ends_with(&remote) && cols[3] == "01")
            .filter(|cols| inodes.contains(cols[9]))
            .count())
    }

    /// The last lines of the log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Sends SIGTERM and waits up to 10 s, then kills. Answers the exit status when the
    /// process stopped by itself.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        tracing::warn!(name = %self.name, "did not stop after SIGTERM; killing");
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Kills at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process has exited, and with what status.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A folder that is either temporary (removed on drop) or kept.
pub enum Workdir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Workdir {
    /// A kept folder at `path`, or a new temporary one.
    pub fn new(path: Option<&Path>, prefix: &str) -> Result<Self> {
        Ok(match path {
            Some(p) => {
                std::fs::create_dir_all(p)?;
                Workdir::Kept(p.to_path_buf())
            }
            None => Workdir::Temp(tempfile::Builder::new().prefix(prefix).tempdir()?),
        })
    }

    pub fn path(&self) -> &Path {
        match self {
            Workdir::Temp(t) => t.path(),
            Workdir::Kept(p) => p,
        }
    }
}

/// A single-member etcd on free loopback ports with its data in a temporary folder.
pub struct Etcd {
    pub endpoint: String,
    pub process: Process,
    dir: Workdir,
}

impl Etcd {
    /// Starts etcd with its data in a temporary folder.
    pub async fn start() -> Result<Self> {
        Self::start_in(None).await
    }

    /// Starts etcd with its data in `dir` (kept) or a temporary folder, and waits until it
    /// accepts connections.
    pub async fn start_in(dir: Option<&Path>) -> Result<Self> {
        let dir = Workdir::new(dir, "nestor-etcd-")?;
        // A free port can be taken by another process before etcd binds it (tests run side by
        // side): then etcd exits, or something else answers on the port. Only etcd's own
        // health answer counts; otherwise try again on other ports.
        let mut last_error = anyhow::anyhow!("etcd did not start");
        let fresh = !dir.path().join("data").exists();
        for _ in 0..5 {
            if fresh {
                // A failed attempt may have written a member with other ports: start clean.
                let _ = std::fs::remove_dir_all(dir.path().join("data"));
            }
            let client = free_port()?;
            let peer = free_port()?;
            let endpoint = format!("http://127.0.0.1:{client}");
            let peer_url = format!("http://127.0.0.1:{peer}");
            let args = vec![
                "--name=nestor".to_string(),
                format!("--data-dir={}", dir.path().join("data").display()),
                format!("--listen-client-urls={endpoint}"),
                format!("--advertise-client-urls={endpoint}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=nestor={peer_url}"),
                "--logger=zap".into(),
                "--log-level=error".into(),
                "--quota-backend-bytes=4294967296".into(),
            ];
            let mut process = Process::spawn("etcd", Path::new("etcd"), &args, &dir.path().join("etcd.log"))
                .context("etcd is not installed (apt-get install etcd-server)")?;
            let addr = format!("127.0.0.1:{client}");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                if process.exited().is_some() {
                    last_error = anyhow::anyhow!("etcd exited; log:\n{}", process.log_tail());
                    break;
                }
                let health = crate::tenancy::http_get(&addr, "/health").await.unwrap_or_default();
                if health.contains("\"health\"") {
                    return Ok(Etcd { endpoint, process, dir });
                }
                if tokio::time::Instant::now() >= deadline {
                    process.kill();
                    last_error = anyhow::anyhow!("etcd did not become healthy; log:\n{}", process.log_tail());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Err(last_error)
    }

    /// The folder of etcd's data and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `etcdctl` against this etcd and answers its stdout.
    pub fn etcdctl(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", self.endpoint))
            .args(args)
            .output()?;
        anyhow::ensure!(out.status.success(), "etcdctl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
