#![allow(clippy::unwrap_used, clippy::panic)]
//! The embedded mode end to end, with real processes and the real kubectl: `kubectl-vc up` in
//! a temporary state directory, two tenants, workloads in each, delete one, `down`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use nestor_testkit::eventually;

/// Tenants start three processes each; on a loaded two-core machine that takes a while.
const SETTLE: Duration = Duration::from_secs(60);

/// A state directory with a super cluster in it; `down` (and a sweep of anything left) when
/// dropped, even when the test fails.
struct Embedded {
    dir: tempfile::TempDir,
    port: u16,
}

impl Embedded {
    fn new() -> Embedded {
        let dir = tempfile::Builder::new().prefix("nestor-cli-e2e-").tempdir().unwrap();
        Embedded { dir, port: nestor_testkit::free_port().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `kubectl-vc` with `--state-dir`.
    fn vc(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kubectl-vc"))
            .args(args)
            .arg(format!("--state-dir={}", self.path().display()))
            .output()
            .unwrap()
    }

    /// Runs `kubectl-vc` and fails the test unless it succeeds; answers stdout.
    fn vc_ok(&self, args: &[&str]) -> String {
        let out = self.vc(args);
        assert!(
            out.status.success(),
            "kubectl-vc {args:?} failed:\n{}\n{}\nserve.log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.path().join("serve.log"))
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kubeconfig(&self) -> PathBuf {
        self.path().join("admin.kubeconfig")
    }

    /// Every live process whose command line names a path in the state directory.
    fn our_pids(&self) -> Vec<i32> {
        let inside = format!("{}/", self.path().display());
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| !c.is_empty() && String::from_utf8_lossy(&c).contains(&inside))
            })
            .collect()
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = self.vc(&["down"]);
        for pid in self.our_pids() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Runs the real kubectl; answers stdout when it succeeded.
fn kubectl(kubeconfig: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("kubectl").arg(format!("--kubeconfig={}", kubeconfig.display())).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn kubectl_ok(kubeconfig: &Path, args: &[&str]) -> String {
    let out =
        Command::new("kubectl").arg(format!("--kubeconfig={}", kubeconfig.display())).args(args).output().unwrap();
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The cluster key `list -A` shows for `name`.
fn key_of(list: &str, name: &str) -> String {
    let row =
        list.lines().find(|l| l.split_whitespace().nth(1) == Some(name)).unwrap_or_else(|| panic!("{name}: {list}"));
    row.split_whitespace().nth(3).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_two_tenants_delete_one_down() {
    let env = Embedded::new();
    let port = env.port.to_string();
    let up = env.vc_ok(&["up", "--port", &port, "--nodes", "2"]);
    assert!(up.contains(&format!("https://127.0.0.1:{port}")), "{up}");
    // A second `up` adopts what runs.
    assert!(env.vc_ok(&["up", "--port", &port, "--nodes", "2"]).contains("already up"));

    // Bad input: a name that is no DNS-1123 label.
    let bad = env.vc(&["create", "Bad_Name"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.starts_with("error: invalid VirtualCluster name") && stderr.lines().count() == 1, "{stderr}");

    let created = env.vc_ok(&["create", "blue", "--wait"]);
    assert!(created.contains("Running"), "{created}");
    env.vc_ok(&["create", "green", "-n", "tenants", "--wait"]);

    let blue = env.path().join("blue.kubeconfig");
    let green = env.path().join("green.kubeconfig");
    std::fs::write(&blue, env.vc_ok(&["kubeconfig", "blue"])).unwrap();
    std::fs::write(&green, env.vc_ok(&["kubeconfig", "green", "-n", "tenants"])).unwrap();

    for kubeconfig in [&blue, &green] {
        kubectl_ok(kubeconfig, &["create", "namespace", "prod"]);
        kubectl_ok(kubeconfig, &["-n", "prod", "run", "web", "--image=nginx"]);
    }
    for kubeconfig in [&blue, &green] {
        eventually(SETTLE, "the tenant's pod to be Running", || async {
            let phase = kubectl(kubeconfig, &["-n", "prod", "get", "pod", "web", "-o", "jsonpath={.status.phase}"])?;
            (phase == "Running").then_some(())
        })
        .await
        .unwrap();
        let nodes = eventually(SETTLE, "virtual nodes in the tenant", || async {
            let nodes = kubectl(kubeconfig, &["get", "nodes", "-o", "name"])?;
            nodes.contains("node/nestor-node-").then_some(nodes)
        })
        .await
        .unwrap();
        assert!(nodes.lines().count() <= 2, "only the nodes running the tenant's pods: {nodes}");
    }

    let list = env.vc_ok(&["list", "-A"]);
    assert_eq!(list.lines().filter(|l| l.contains(" Running ")).count(), 2, "{list}");
    let (blue_key, green_key) = (key_of(&list, "blue"), key_of(&list, "green"));
    assert_ne!(blue_key, green_key);

    // Output into a pipe nobody reads any more (`kubectl vc list | head -0`) ends quietly.
    let mut closed = Command::new(env!("CARGO_BIN_EXE_kubectl-vc"))
        .args(["list", "-A", &format!("--state-dir={}", env.path().display())])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(closed.stdout.take());
    let closed = closed.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&closed.stderr);
    assert!(closed.status.success() && stderr.is_empty(), "{:?}: {stderr}", closed.status);
    let super_namespaces = kubectl_ok(&env.kubeconfig(), &["get", "namespaces", "-o", "name"]);
    for key in [&blue_key, &green_key] {
        assert!(super_namespaces.contains(&format!("namespace/{key}-prod")), "{super_namespaces}");
    }

    let blue_dir = format!("{}/tenants/{blue_key}/", env.path().display());
    let blue_processes = || {
        env.our_pids()
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&blue_dir))
            })
            .count()
    };
    assert_eq!(blue_processes(), 3, "etcd, nestor-apiserver and nestor-controllers of blue");
    env.vc_ok(&["delete", "blue", "--wait"]);
    eventually(SETTLE, "blue's super namespaces to go", || async {
        let names = kubectl(&env.kubeconfig(), &["get", "namespaces", "-o", "name"])?;
        (!names.contains(&format!("namespace/{blue_key}-"))).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(blue_processes(), 0);
    assert!(!Path::new(&blue_dir).exists(), "blue's folder is removed");
    assert!(kubectl_ok(&green, &["get", "namespaces"]).contains("prod"), "green still answers");
    let list = env.vc_ok(&["list", "-A"]);
    assert!(!list.contains("blue") && list.contains("green"), "{list}");

    let status = env.vc_ok(&["status"]);
    assert!(status.contains("tenants/green") && status.contains("/readyz ok"), "{status}");

    let before = env.our_pids();
    assert!(before.len() >= 6, "etcd, apiserver, serve and green's three: {before:?}");
    env.vc_ok(&["down"]);
    for pid in &before {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(cmdline.is_empty(), "process {pid} is still running after down");
    }
    assert!(env.our_pids().is_empty());

    // A down super cluster: one line, non-zero.
    let out = env.vc(&["list"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!("error: the super cluster at https://127.0.0.1:{port} is not reachable (is `kubectl-vc up` running?)")
    );
    // Nothing to stop twice.
    assert!(env.vc_ok(&["down"]).contains("Nothing to stop"));
}
