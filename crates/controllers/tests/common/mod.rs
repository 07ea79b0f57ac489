//! Shared fixtures: a real etcd + nestor-apiserver, nodesim's simulated nodes (so pods run),
//! the real nestor-controllers binary and the real kubectl.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use nestor_testkit::kubectl::Kubectl;
use nestor_testkit::{binary, eventually, tenancy, Cluster, Process};

/// How long any wait in these tests may take before it fails.
pub const WAIT: Duration = Duration::from_secs(90);

/// A control plane with simulated nodes and nestor-controllers.
pub struct Env {
    pub cluster: Cluster,
    pub nodesim: Process,
    pub controllers: Process,
    pub kubectl: Kubectl,
    pub client: kube::Client,
    restarts: u32,
    extra_args: Vec<String>,
}

impl Env {
    /// Starts everything and waits until the controllers lead.
    pub async fn start() -> Env {
        Env::start_with(&[]).await
    }

    /// Starts everything, the controllers with `extra_args` too.
    pub async fn start_with(extra_args: &[&str]) -> Env {
        let extra_args: Vec<String> = extra_args.iter().map(|a| a.to_string()).collect();
        let cluster = Cluster::start().await.unwrap();
        let nodesim = tenancy::spawn_nodesim(&cluster, 3, &[]).unwrap();
        let controllers = spawn_controllers(&cluster, 0, &extra_args);
        let kubectl = Kubectl::new(&cluster.kubeconfig());
        let client = cluster.client().await.unwrap();
        let env = Env { cluster, nodesim, controllers, kubectl, client, restarts: 0, extra_args };
        env.wait_leading(0).await;
        env
    }

    fn log(&self, n: u32) -> PathBuf {
        self.cluster.dir().join(format!("controllers-{n}.log"))
    }

    /// Waits until the `n`-th controllers process serves metrics and leads.
    pub async fn wait_leading(&self, n: u32) {
        let log = self.log(n);
        eventually(WAIT, "nestor-controllers to lead", || async {
            let text = std::fs::read_to_string(&log).ok()?;
            text.contains("caches synced").then_some(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", self.controllers.log_tail()));
    }

    /// Kills the controllers (SIGKILL, no goodbye) and starts them again with the same
    /// identity, so the new process takes the Lease at once.
    pub async fn kill_and_restart(&mut self) {
        self.controllers.kill();
        self.restarts += 1;
        self.controllers = spawn_controllers(&self.cluster, self.restarts, &self.extra_args);
        self.wait_leading(self.restarts).await;
    }

    /// Runs kubectl, failing with its output.
    pub fn k(&self, args: &[&str]) -> String {
        self.kubectl.ok(args)
    }

    /// Applies a manifest.
    pub fn apply(&self, manifest: &str) {
        self.kubectl.ok_stdin(&["apply", "-f", "-"], manifest);
    }

    /// The pods of `namespace` matching `selector`.
    pub async fn pods(&self, namespace: &str, selector: &str) -> Vec<Pod> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        api.list(&ListParams::default().labels(selector)).await.map(|l| l.items).unwrap_or_default()
    }

    /// Waits until `kubectl` with `args` prints something `check` accepts; answers it.
    pub async fn wait_for_output(&self, what: &str, args: &[&str], check: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let result = eventually(WAIT, what, || {
            let out = self.kubectl.run(args, None);
            last = format!("{}{}", out.stdout, out.stderr);
            let ok = out.success && check(&out.stdout);
            let stdout = out.stdout;
            async move { ok.then_some(stdout) }
        })
        .await;
        result
            .unwrap_or_else(|e| panic!("{e}; last output:\n{last}\ncontrollers log:\n{}", self.controllers.log_tail()))
    }
}

/// Starts the `nestor-controllers` binary with `extra_args`; its log goes to `<dir>/controllers-<n>.log`.
pub fn spawn_controllers(cluster: &Cluster, n: u32, extra_args: &[String]) -> Process {
    let mut args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig().display()),
        "--metrics-addr=127.0.0.1:0".to_string(),
        "--identity=controllers-test".to_string(),
        format!("--root-ca-file={}", cluster.dir().join("ca.crt").display()),
        "--log-level=info,nestor_controllers=debug".to_string(),
    ];
    args.extend(extra_args.iter().cloned());
    let log = cluster.dir().join(format!("controllers-{n}.log"));
    Process::spawn("nestor-controllers", &binary("nestor-controllers").unwrap(), &args, &log).unwrap()
}

/// Whether a pod's Ready condition is True.
pub fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a pod is Running.
pub fn running(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

/// A Deployment manifest: `replicas` pods of `image` labelled app=`name`, whose containers
/// turn ready `ready_after` after they start, rolled with `max_surge`/`max_unavailable`.
pub fn deployment(
    name: &str,
    replicas: u32,
    image: &str,
    ready_after: &str,
    max_surge: &str,
    max_unavailable: &str,
) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {max_surge}
      maxUnavailable: {max_unavailable}
  template:
    metadata:
      labels:
        app: {name}
      annotations:
        nestor.dev/sim-ready-after: "{ready_after}"
    spec:
      containers:
      - name: app
        image: {image}
        ports:
        - name: http
          containerPort: 8080
"#
    )
}

/// The REVISION column of `kubectl rollout history`.
pub fn rollout_revisions(history: &str) -> Vec<String> {
    history
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}
