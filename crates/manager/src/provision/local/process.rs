//! Tenant processes that outlive the manager: started in their own process group (a Ctrl-C
//! or SIGTERM to the manager's group does not reach them), recorded in pid files, and
//! recognised again by `/proc/<pid>/cmdline`, which must name the same binary and the
//! tenant's folder (a recycled pid belongs to someone else).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::provision::{Error, Result};

/// The processes of a local control plane, in start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    Etcd,
    ApiServer,
    Controllers,
}

impl Component {
    /// Start order; stop in reverse.
    pub const ALL: [Component; 3] = [Component::Etcd, Component::ApiServer, Component::Controllers];

    /// The name of its log and pid files, and its metric label.
    pub fn name(self) -> &'static str {
        match self {
            Component::Etcd => "etcd",
            Component::ApiServer => "apiserver",
            Component::Controllers => "controllers",
        }
    }
}

/// What a pid file records: the process, and a fingerprint of its binary, flags and input
/// files, so a process started with other certificates or ports is restarted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidRecord {
    pub pid: i32,
    pub fingerprint: String,
}

impl PidRecord {
    pub fn parse(text: &str) -> Option<PidRecord> {
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse::<i32>().ok().filter(|p| *p > 1)?;
        let fingerprint = lines.next().unwrap_or_default().trim().to_string();
        Some(PidRecord { pid, fingerprint })
    }

    pub fn read(path: &Path) -> Option<PidRecord> {
        PidRecord::parse(&std::fs::read_to_string(path).ok()?)
    }

    fn render(&self) -> String {
        format!("{}\n{}\n", self.pid, self.fingerprint)
    }
}

/// A fingerprint of how a process is started: its binary, its flags and the contents of the
/// files it reads at start.
pub fn fingerprint(binary: &Path, args: &[String], inputs: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    hash.update(binary.as_os_str().as_encoded_bytes());
    // The counts keep a flag from passing for an input file and the other way round.
    hash.update((args.len() as u64).to_le_bytes());
    hash.update((inputs.len() as u64).to_le_bytes());
    for part in args.iter().map(String::as_bytes).chain(inputs.iter().copied()) {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The command line of process `pid` (empty for a zombie, None when there is no such process).
pub fn cmdline(pid: i32) -> Option<Vec<String>> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(bytes.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect())
}

/// Every live process but this one that works on `dir` (one of its arguments names a path
/// inside it), with its program's file name.
pub fn processes_in(dir: &Path) -> Vec<(String, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let own = i32::try_from(std::process::id()).unwrap_or_default();
    let inside = format!("{}/", dir.display());
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != own)
        .filter_map(|pid| {
            let args = cmdline(pid)?;
            let program = Path::new(args.first()?).file_name()?.to_str()?.to_string();
            args[1..].iter().any(|a| a.contains(&inside)).then_some((program, pid))
        })
        .collect()
}

/// Whether a command line is a process of `binary` working on `tenant_dir`: its program has
/// the binary's file name (it may have been started by path or through PATH) and one of its
/// arguments names a path inside the folder.
pub fn cmdline_matches(args: &[String], binary: &Path, tenant_dir: &Path) -> bool {
    let Some(program) = args.first() else { return false };
    let same_program = Path::new(program).file_name().is_some_and(|name| Some(name) == binary.file_name());
    let inside = format!("{}/", tenant_dir.display());
    same_program && args[1..].iter().any(|a| a.contains(&inside))
}

/// The process recorded in `pid_file`, if it is alive and is `binary` working on `tenant_dir`.
pub fn running(pid_file: &Path, binary: &Path, tenant_dir: &Path) -> Option<PidRecord> {
    let record = PidRecord::read(pid_file)?;
    is_ours(record.pid, binary, tenant_dir).then_some(record)
}

/// Whether `pid` is alive (not a zombie) and is `binary` working on `tenant_dir`.
pub fn is_ours(pid: i32, binary: &Path, tenant_dir: &Path) -> bool {
    cmdline(pid).is_some_and(|args| cmdline_matches(&args, binary, tenant_dir))
}

/// Every live process whose command line names a path inside `tenant_dir` and whose program
/// is one of the components' binaries: what `remove` must stop even if a pid file was lost.
pub fn find_in(tenant_dir: &Path, binaries: &Binaries) -> Vec<(Component, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let own = std::process::id() as i32;
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != own)
        .filter_map(|pid| {
            let args = cmdline(pid)?;
            Component::ALL
                .into_iter()
                .find(|c| cmdline_matches(&args, binaries.of(*c), tenant_dir))
                .map(|component| (component, pid))
        })
        .collect()
}

/// Starts `binary` with `args` in a process group of its own, output appended to `log`, and
/// records it in `pid_file`. The caller holds the child only while it waits for it to come up
/// (`/proc/<pid>/cmdline` still shows the manager's command line between fork and exec, so
/// only the child handle says for sure whether it died); once dropped, tokio reaps it when it
/// exits, and a restarted manager finds it through the pid file.
pub fn spawn(
    component: Component,
    binary: &Path,
    args: &[String],
    fingerprint: String,
    log: &Path,
    pid_file: &Path,
) -> Result<tokio::process::Child> {
    spawn_named(component.name(), binary, args, fingerprint, log, pid_file)
}

/// [`spawn`] for a process that is not a tenant component (`kubectl-vc up` starts the super
/// cluster's etcd, API server and `serve` this way); `name` labels errors and logs.
pub fn spawn_named(
    name: &'static str,
    binary: &Path,
    args: &[String],
    fingerprint: String,
    log: &Path,
    pid_file: &Path,
) -> Result<tokio::process::Child> {
    let spawn_error = |e| Error::Spawn(name, binary.to_path_buf(), e);
    let out = OpenOptions::new().create(true).append(true).open(log).map_err(spawn_error)?;
    let err = out.try_clone().map_err(spawn_error)?;
    let child = tokio::process::Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Its own process group: signals meant for the manager's (Ctrl-C in a terminal, a
        // supervisor stopping the group) leave the tenant running.
        .process_group(0)
        .kill_on_drop(false)
        .spawn()
        .map_err(spawn_error)?;
    let pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or_default();
    let record = PidRecord { pid, fingerprint };
    std::fs::write(pid_file, record.render()).map_err(|e| Error::Prepare(pid_file.to_path_buf(), e))?;
    debug!(component = name, pid, "started");
    Ok(child)
}

/// Stops `pid` (if it is still `binary` on `tenant_dir`): SIGTERM, then SIGKILL after `grace`.
pub async fn stop(component: Component, pid: i32, binary: &Path, tenant_dir: &Path, grace: Duration) {
    stop_named(component.name(), pid, binary, tenant_dir, grace).await
}

/// [`stop`] for a process that is not a tenant component; `name` labels the log line.
pub async fn stop_named(name: &str, pid: i32, binary: &Path, tenant_dir: &Path, grace: Duration) {
    if !is_ours(pid, binary, tenant_dir) {
        return;
    }
    let target = Pid::from_raw(pid);
    let _ = kill(target, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_ours(pid, binary, tenant_dir) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    warn!(component = name, pid, ?grace, "did not stop after SIGTERM; killing");
    let _ = kill(target, Signal::SIGKILL);
    while is_ours(pid, binary, tenant_dir) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The last lines of a log, for error messages.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Where each component's binary is.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub etcd: PathBuf,
    pub apiserver: PathBuf,
    pub controllers: PathBuf,
}

impl Binaries {
    pub fn of(&self, component: Component) -> &Path {
        match component {
            Component::Etcd => &self.etcd,
            Component::ApiServer => &self.apiserver,
            Component::Controllers => &self.controllers,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn args(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cmdline_names_binary_and_folder() {
        let dir = Path::new("/state/tenants/blue-1234abcd");
        let etcd = args(&["etcd", "--data-dir=/state/tenants/blue-1234abcd/etcd", "--name=tenant"]);
        assert!(cmdline_matches(&etcd, Path::new("etcd"), dir));
        assert!(cmdline_matches(&etcd, Path::new("/usr/bin/etcd"), dir), "started through PATH, configured by path");
        let by_path = args(&["/opt/nestor/nestor-apiserver", "--tls-cert-file=/state/tenants/blue-1234abcd/pki/a.crt"]);
        assert!(cmdline_matches(&by_path, Path::new("nestor-apiserver"), dir));

        // Another binary, another tenant, a tenant whose key merely starts the same, no args.
        assert!(!cmdline_matches(&etcd, Path::new("nestor-apiserver"), dir));
        let other = args(&["etcd", "--data-dir=/state/tenants/green-0000ffff/etcd"]);
        assert!(!cmdline_matches(&other, Path::new("etcd"), dir));
        let longer = args(&["etcd", "--data-dir=/state/tenants/blue-1234abcdef/etcd"]);
        assert!(!cmdline_matches(&longer, Path::new("etcd"), dir));
        assert!(!cmdline_matches(&[], Path::new("etcd"), dir));
        assert!(!cmdline_matches(&args(&["etcd"]), Path::new("etcd"), dir));
    }

    async fn exec_done(pid: i32, binary: &Path, dir: &Path) {
        for _ in 0..100 {
            if is_ours(pid, binary, dir) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("process {pid} never showed its command line");
    }

    #[test]
    fn pid_records() {
        assert_eq!(PidRecord::parse("123\nabc\n"), Some(PidRecord { pid: 123, fingerprint: "abc".into() }));
        assert_eq!(PidRecord::parse("123"), Some(PidRecord { pid: 123, fingerprint: String::new() }));
        assert_eq!(PidRecord::parse("1\n"), None, "never init");
        assert_eq!(PidRecord::parse("garbage"), None);
        let r = PidRecord { pid: 7, fingerprint: "f".into() };
        assert_eq!(PidRecord::parse(&r.render()), Some(r));
    }

    #[test]
    fn fingerprints_follow_flags_and_inputs() {
        let a = fingerprint(Path::new("etcd"), &args(&["--x=1"]), &[b"cert"]);
        assert_eq!(a, fingerprint(Path::new("etcd"), &args(&["--x=1"]), &[b"cert"]));
        assert_ne!(a, fingerprint(Path::new("etcd"), &args(&["--x=2"]), &[b"cert"]));
        assert_ne!(a, fingerprint(Path::new("etcd"), &args(&["--x=1"]), &[b"renewed"]));
        assert_ne!(a, fingerprint(Path::new("etcd"), &args(&["--x=1", "cert"]), &[]));
    }

    #[tokio::test]
    async fn own_process_is_recognised_and_stopped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tenants/t-1");
        std::fs::create_dir_all(&dir).unwrap();
        // `tail -f` runs until stopped and names a file in the folder, as our processes do.
        let marker = dir.join("marker");
        std::fs::write(&marker, "").unwrap();
        let binary = Path::new("/usr/bin/tail");
        let script = args(&["-f", marker.to_str().unwrap()]);
        let pid_file = dir.join("x.pid");
        let child = spawn(Component::Etcd, binary, &script, "f".into(), &dir.join("x.log"), &pid_file).unwrap();
        let pid = child.id().unwrap() as i32;
        drop(child);
        // Between fork and exec the child still shows our own command line.
        exec_done(pid, binary, &dir).await;
        assert_eq!(running(&pid_file, binary, &dir).map(|r| r.pid), Some(pid));
        let binaries = Binaries {
            etcd: binary.into(),
            apiserver: "nestor-apiserver".into(),
            controllers: "nestor-controllers".into(),
        };
        assert_eq!(find_in(&dir, &binaries), vec![(Component::Etcd, pid)]);
        stop(Component::Etcd, pid, binary, &dir, Duration::from_secs(5)).await;
        assert_eq!(running(&pid_file, binary, &dir), None);
        assert!(find_in(&dir, &binaries).is_empty());
    }
}
