//! The environment of the manager's tests: a super cluster with Nestor's CRDs (real etcd and
//! nestor-apiserver), a state directory, and the manager as a real process (or in-process);
//! tenants are made by the manager itself, as real etcd, nestor-apiserver and
//! nestor-controllers processes.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, ListParams, PostParams};
use nestor_api::types::SyncSpec;
use nestor_api::{Phase, VirtualCluster, VirtualClusterSpec};
use nestor_testkit::tenancy::{self, TENANTS_NAMESPACE};
use nestor_testkit::{eventually, Cluster, Process};

/// Tenants start three processes each; on a loaded two-core machine that takes a while.
pub const SETTLE: Duration = Duration::from_secs(90);

pub async fn wait<T, F, Fut>(what: &str, f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually(SETTLE, what, f).await
}

pub struct Env {
    pub super_cluster: Cluster,
    pub client: kube::Client,
    pub state: tempfile::TempDir,
    pub manager: Option<Process>,
    managers_started: usize,
}

impl Env {
    /// A super cluster with the CRDs and the `tenants` namespace; no manager yet.
    pub async fn new() -> Env {
        let super_cluster = Cluster::start().await.unwrap();
        tenancy::install_crds(&super_cluster).await.unwrap();
        let client = super_cluster.client().await.unwrap();
        let state = tempfile::Builder::new().prefix("nestor-manager-state-").tempdir().unwrap();
        Env { super_cluster, client, state, manager: None, managers_started: 0 }
    }

    /// A super cluster and a running `nestor-manager` process.
    pub async fn start() -> Env {
        let mut env = Env::new().await;
        env.start_manager();
        env
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// The flags every manager of these tests runs with (besides its identity).
    pub fn manager_flags(&self) -> Vec<String> {
        vec![
            format!("--kubeconfig={}", self.super_cluster.kubeconfig().display()),
            format!("--state-dir={}", self.state_dir().display()),
            format!("--apiserver-bin={}", nestor_testkit::binary("nestor-apiserver").unwrap().display()),
            format!("--controllers-bin={}", nestor_testkit::binary("nestor-controllers").unwrap().display()),
            "--metrics-addr=127.0.0.1:0".to_string(),
            "--lease-duration=4s".to_string(),
            "--stop-grace=5s".to_string(),
            "--log-level=info,nestor_manager=debug".to_string(),
        ]
    }

    pub fn manager_log(&self, n: usize) -> PathBuf {
        self.super_cluster.dir().join(format!("manager-{n}.log"))
    }

    /// Starts another `nestor-manager` process (the previous one should be stopped).
    pub fn start_manager(&mut self) {
        self.start_manager_with(self.manager_flags());
    }

    /// Starts another `nestor-manager` process with `args` and an identity of its own.
    pub fn start_manager_with(&mut self, mut args: Vec<String>) {
        self.managers_started += 1;
        let n = self.managers_started;
        args.push(format!("--identity=manager-{n}"));
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_nestor-manager"));
        self.manager = Some(Process::spawn("nestor-manager", &binary, &args, &self.manager_log(n)).unwrap());
    }

    /// Stops the manager cleanly (SIGTERM), as an upgrade or `systemctl restart` would.
    pub fn stop_manager(&mut self) {
        if let Some(mut manager) = self.manager.take() {
            manager.stop();
        }
    }

    /// The text of the running manager's `/metrics`.
    pub async fn metrics(&self) -> String {
        let addr = tenancy::logged_addr(&self.manager_log(self.managers_started), "serving metrics").await.unwrap();
        tenancy::http_get(&addr, "/metrics").await.unwrap()
    }

    pub fn vcs(&self) -> Api<VirtualCluster> {
        Api::namespaced(self.client.clone(), TENANTS_NAMESPACE)
    }

    pub async fn create(&self, name: &str, spec: VirtualClusterSpec) -> VirtualCluster {
        self.vcs().create(&PostParams::default(), &VirtualCluster::new(name, spec)).await.unwrap()
    }

    /// Waits until VirtualCluster `name` is in `phase`; answers it. Fails with the manager's
    /// log tail when it does not get there.
    pub async fn wait_phase(&self, name: &str, phase: Phase) -> VirtualCluster {
        let vcs = self.vcs();
        let result = wait(&format!("VirtualCluster {name} to be {phase:?}"), || async {
            let vc = vcs.get(name).await.ok()?;
            (vc.status.as_ref()?.phase == Some(phase)).then_some(vc)
        })
        .await;
        match result {
            Ok(vc) => vc,
            Err(e) => {
                let vc = vcs.get(name).await.ok();
                panic!("{e}; status: {:?}\nmanager log:\n{}", vc.and_then(|v| v.status), self.manager_log_tail())
            }
        }
    }

    /// The last lines of the manager's log and of every tenant process's log, for failures.
    pub fn manager_log_tail(&self) -> String {
        let mut out = tail(&self.manager_log(self.managers_started), 40);
        let tenants = self.state_dir().join("tenants");
        for tenant in std::fs::read_dir(&tenants).into_iter().flatten().flatten() {
            for log in std::fs::read_dir(tenant.path()).into_iter().flatten().flatten() {
                if log.path().extension().is_some_and(|e| e == "log") {
                    out.push_str(&format!("\n--- {}\n{}", log.path().display(), tail(&log.path(), 15)));
                }
            }
        }
        out
    }

    /// The admin kubeconfig the manager wrote for `name`, as a file for kubectl.
    pub async fn kubeconfig_file(&self, name: &str) -> PathBuf {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), TENANTS_NAMESPACE);
        let secret = secrets.get(&format!("{name}-kubeconfig")).await.unwrap();
        let text = secret.data.unwrap().remove("kubeconfig").expect("key `kubeconfig`").0;
        let path = self.super_cluster.dir().join(format!("{name}-tenant.kubeconfig"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A client for tenant `name` from the kubeconfig the manager wrote.
    pub async fn tenant_client(&self, name: &str) -> kube::Client {
        nestor_testkit::client_from(&self.kubeconfig_file(name).await).await.unwrap()
    }

    /// The events recorded about VirtualCluster `name`, as (type, reason, message).
    pub async fn events(&self, name: &str) -> Vec<(String, String, String)> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), TENANTS_NAMESPACE);
        let selector = format!("involvedObject.name={name}");
        let list = events.list(&ListParams::default().fields(&selector)).await;
        let items = match list {
            Ok(list) => list.items,
            // A field selector the server does not know: filter here.
            Err(_) => events.list(&ListParams::default()).await.unwrap().items,
        };
        items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .map(|e| (e.type_.unwrap_or_default(), e.reason.unwrap_or_default(), e.message.unwrap_or_default()))
            .collect()
    }

    /// The folder of the tenant with cluster key `key`.
    pub fn tenant_dir(&self, key: &str) -> PathBuf {
        self.state_dir().join("tenants").join(key)
    }

    /// The pid a tenant's pid file records for `component` (etcd, apiserver, controllers).
    pub fn pid(&self, key: &str, component: &str) -> i32 {
        let text = std::fs::read_to_string(self.tenant_dir(key).join(format!("{component}.pid"))).unwrap();
        text.lines().next().unwrap().trim().parse().unwrap()
    }

    /// The three pids of a tenant.
    pub fn pids(&self, key: &str) -> Vec<i32> {
        ["etcd", "apiserver", "controllers"].iter().map(|c| self.pid(key, c)).collect()
    }
}

impl Drop for Env {
    /// Whatever a failed test left running in the state directory is killed, so no tenant
    /// process outlives its test.
    fn drop(&mut self) {
        self.stop_manager();
        for pid in processes_in(&self.state_dir().join("tenants")) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether process `pid` is alive (a zombie counts as dead: it runs nothing any more).
pub fn alive(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
}

/// Live processes whose command line names a path inside `dir`.
pub fn processes_in(dir: &Path) -> Vec<i32> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(&needle))
        })
        .collect()
}

/// A spec that syncs `custom` and names `version`.
pub fn spec(version: Option<&str>, custom: &[&str]) -> VirtualClusterSpec {
    VirtualClusterSpec {
        cluster_version: version.map(str::to_string),
        sync: SyncSpec { custom_resources: custom.iter().map(|s| s.to_string()).collect() },
    }
}
