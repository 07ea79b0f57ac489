//! The `local` provisioner (the embedded mode): each tenant's etcd, nestor-apiserver and
//! nestor-controllers run as processes on free loopback ports, with their data, logs and pid
//! files under `<state-dir>/tenants/<cluster-key>/` (see [`layout`]).
//!
//! The processes outlive the manager. `ensure` adopts the ones its pid files name (when
//! `/proc` confirms they are still ours and were started with the same flags and
//! certificates), restarts the others, and waits for `/readyz`; `supervise` does the same for
//! every known tenant every couple of seconds, so a killed process comes back with its data.
//! `remove` stops all of a tenant's processes and deletes its folder.

pub mod layout;
pub mod process;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use nestor_api::types::Endpoint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tracing::{debug, info, warn, Instrument};

use super::{readyz, Error, Provisioned, Provisioner, Result, Tenant};
use crate::metrics::Metrics;
use layout::{write_if_changed, TenantDir, TenantState};
pub use process::{Binaries, Component};

/// Settings of the local provisioner.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Absolute: tenant processes are recognised by the paths in their command lines.
    pub state_dir: PathBuf,
    pub binaries: Binaries,
    /// How long one `ensure` waits for etcd's health and the API server's `/readyz`.
    pub ready_timeout: Duration,
    /// How often every known tenant's processes are checked.
    pub supervise_interval: Duration,
    /// How long a process has after SIGTERM before SIGKILL.
    pub stop_grace: Duration,
}

impl LocalConfig {
    /// The defaults of `nestor-manager`'s flags for `state_dir`: etcd from PATH, nestor's
    /// binaries beside the running executable (else from PATH).
    pub fn new(state_dir: PathBuf) -> LocalConfig {
        LocalConfig {
            state_dir,
            binaries: Binaries {
                etcd: PathBuf::from("etcd"),
                apiserver: crate::args::sibling_or_path("nestor-apiserver"),
                controllers: crate::args::sibling_or_path("nestor-controllers"),
            },
            ready_timeout: Duration::from_secs(30),
            supervise_interval: Duration::from_secs(2),
            stop_grace: Duration::from_secs(10),
        }
    }
}

/// One tenant's place in the provisioner: a lock, so a reconcile and the supervisor never
/// start the same process twice, and the latest inputs, for the supervisor.
#[derive(Default)]
struct Slot {
    state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    tenant: Option<Tenant>,
    removed: bool,
}

/// Runs tenant control planes as local processes.
pub struct LocalProvisioner {
    config: LocalConfig,
    metrics: Arc<Metrics>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl LocalProvisioner {
    /// A provisioner over `config.state_dir` (created if missing).
    pub fn new(config: LocalConfig, metrics: Arc<Metrics>) -> Result<LocalProvisioner> {
        let tenants = layout::tenants_dir(&config.state_dir);
        std::fs::create_dir_all(&tenants).map_err(|e| Error::Prepare(tenants, e))?;
        Ok(LocalProvisioner { config, metrics, slots: Mutex::new(HashMap::new()) })
    }

    /// The folder of the tenant with cluster key `key`.
    pub fn tenant_dir(&self, key: &str) -> TenantDir {
        TenantDir::new(&self.config.state_dir, key)
    }

    fn slot(&self, key: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(slots.entry(key.to_string()).or_default())
    }

    fn slots(&self) -> Vec<Arc<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Stops every tenant's processes and keeps their data (`kubectl-vc down`); the next
    /// manager starts them again from it.
    pub async fn stop_all(&self) -> Result<()> {
        let tenants = layout::tenants_dir(&self.config.state_dir);
        let entries = std::fs::read_dir(&tenants).map_err(|e| Error::Prepare(tenants.clone(), e))?;
        for entry in entries.flatten() {
            let dir = TenantDir::new(&self.config.state_dir, &entry.file_name().to_string_lossy());
            self.stop_processes(&dir, true).await;
        }
        Ok(())
    }

    /// Stops a tenant's processes: the ones its pid files name, then any other process of ours
    /// working on its folder. In order (controllers, API server, etcd) when the data is kept, so
    /// nothing writes to a stopped etcd; all at once when it is about to be deleted anyway.
    async fn stop_processes(&self, dir: &TenantDir, data_kept: bool) {
        let binaries = &self.config.binaries;
        let grace = self.config.stop_grace;
        let recorded: Vec<(Component, i32)> = Component::ALL
            .into_iter()
            .rev()
            .filter_map(|c| process::running(&dir.pid_file(c), binaries.of(c), dir.path()).map(|r| (c, r.pid)))
            .collect();
        let stop = |(component, pid): (Component, i32)| {
            process::stop(component, pid, binaries.of(component), dir.path(), grace)
        };
        if data_kept {
            for entry in recorded {
                stop(entry).await;
            }
        } else {
            futures::future::join_all(recorded.into_iter().map(stop)).await;
        }
        for (component, pid) in process::find_in(dir.path(), binaries) {
            warn!(component = component.name(), pid, "stopping a process no pid file named");
            stop((component, pid)).await;
        }
    }

    /// Brings a tenant's processes to what `tenant` asks for and reports readiness.
    async fn converge(&self, tenant: &Tenant) -> Result<Provisioned> {
        let dir = self.tenant_dir(&tenant.key);
        dir.create()?;
        let state = match TenantState::load(&dir)? {
            Some(state) => state,
            None => {
                let state =
                    TenantState::with_free_ports(format!("{}/{}", tenant.namespace, tenant.name), tenant.uid.clone())?;
                state.save(&dir)?;
                state
            }
        };
        let server = format!("https://127.0.0.1:{}", state.apiserver_port);
        let kubeconfig = tenant.pki.kubeconfig(&server, &tenant.key);
        write_files(&dir, tenant, &kubeconfig)?;
        let probe = readyz::Probe::new(&server, &tenant.pki)?;
        let provisioned = |ready| Provisioned {
            server: server.clone(),
            in_cluster: Endpoint { host: "127.0.0.1".into(), port: i32::from(state.apiserver_port) },
            ready,
        };

        for component in Component::ALL {
            let binary = self.config.binaries.of(component);
            let args = args(component, &dir, &state, &tenant.key);
            let inputs: Vec<&[u8]> = match component {
                Component::Etcd => vec![],
                Component::ApiServer => vec![
                    tenant.pki.ca.cert_pem.as_bytes(),
                    tenant.pki.serving.cert_pem.as_bytes(),
                    tenant.pki.serving.key_pem.as_bytes(),
                ],
                Component::Controllers => vec![tenant.pki.ca.cert_pem.as_bytes(), kubeconfig.as_bytes()],
            };
            let fingerprint = process::fingerprint(binary, &args, &inputs);
            let pid_file = dir.pid_file(component);
            match process::running(&pid_file, binary, dir.path()) {
                Some(record) if record.fingerprint == fingerprint => continue,
                Some(record) => {
                    info!(component = component.name(), pid = record.pid, "restarting with new flags or certificates");
                    process::stop(component, record.pid, binary, dir.path(), self.config.stop_grace).await;
                }
                None if pid_file.exists() => {
                    warn!(component = component.name(), "found dead; restarting it over its data");
                    self.metrics.restarted(component.name());
                }
                None => {}
            }
            let mut child = process::spawn(component, binary, &args, fingerprint, &dir.log(component), &pid_file)?;
            let mut exited = || !matches!(child.try_wait(), Ok(None));
            // Waiting stops early when what it waits on died, or what that needs (the API
            // server needs etcd): the next round restarts it instead of waiting out the timeout.
            let up = match component {
                Component::Etcd => etcd_healthy(state.etcd_client_port, self.config.ready_timeout, &mut exited).await,
                Component::ApiServer => {
                    let mut gone = || exited() || !self.alive(&dir, Component::Etcd);
                    probe.wait(self.config.ready_timeout, &mut gone).await
                }
                Component::Controllers => true,
            };
            if up {
                continue;
            }
            if !exited() {
                // Alive but slow (a loaded machine): the next reconcile looks again.
                return Ok(provisioned(false));
            }
            let error = Error::Start(component.name(), process::log_tail(&dir.log(component), 5));
            if !state.served {
                // Never served on these ports: one may have been taken between choosing and
                // binding it. Forget them (and the empty etcd made for them); the retry picks anew.
                self.stop_processes(&dir, false).await;
                let _ = std::fs::remove_file(dir.state_file());
                let _ = std::fs::remove_dir_all(dir.etcd_data());
            }
            return Err(error);
        }

        let ready = probe.is_ready().await
            || probe
                .wait(self.config.ready_timeout, || {
                    !self.alive(&dir, Component::Etcd) || !self.alive(&dir, Component::ApiServer)
                })
                .await;
        if ready && !state.served {
            TenantState { served: true, ..state.clone() }.save(&dir)?;
        }
        Ok(provisioned(ready))
    }

    /// Whether the process a tenant's pid file names for `component` runs.
    fn alive(&self, dir: &TenantDir, component: Component) -> bool {
        process::running(&dir.pid_file(component), self.config.binaries.of(component), dir.path()).is_some()
    }

    async fn supervise_once(&self) {
        let rounds = self.slots().into_iter().map(|slot| async move {
            let guard = slot.state.lock().await;
            let Some(tenant) = guard.tenant.clone().filter(|_| !guard.removed) else { return };
            let span = tracing::info_span!("supervise", tenant = %tenant.key);
            match self.converge(&tenant).instrument(span).await {
                Ok(p) if !p.ready => debug!(tenant = %tenant.key, "API server not ready yet"),
                Ok(_) => {}
                Err(e) => warn!(tenant = %tenant.key, error = %e, "supervision could not restore the tenant"),
            }
        });
        futures::future::join_all(rounds).await;
    }
}

impl Provisioner for LocalProvisioner {
    fn name(&self) -> &'static str {
        "local"
    }

    fn ensure<'a>(&'a self, tenant: &'a Tenant) -> BoxFuture<'a, Result<Provisioned>> {
        Box::pin(async move {
            let slot = self.slot(&tenant.key);
            let mut guard = slot.state.lock().await;
            guard.removed = false;
            guard.tenant = Some(tenant.clone());
            let started = Instant::now();
            let result = self.converge(tenant).await;
            debug!(tenant = %tenant.key, took = ?started.elapsed(), ok = result.is_ok(), "ensured");
            result
        })
    }

    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let slot = {
                let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
                slots.remove(key).unwrap_or_default()
            };
            let mut guard = slot.state.lock().await;
            guard.removed = true;
            guard.tenant = None;
            let dir = self.tenant_dir(key);
            self.stop_processes(&dir, false).await;
            match std::fs::remove_dir_all(dir.path()) {
                Ok(()) => info!(tenant = %key, "control plane removed"),
                // Removed before (a repeated cleanup), or never provisioned (an invalid spec).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::Remove(dir.path().to_path_buf(), e)),
            }
            Ok(())
        })
    }

    fn supervise(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut tick = tokio::time::interval(self.config.supervise_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.supervise_once().await;
            }
        })
    }
}

/// The certificates and kubeconfig the processes read, written only when they changed.
fn write_files(dir: &TenantDir, tenant: &Tenant, kubeconfig: &str) -> Result<()> {
    let pki = &tenant.pki;
    // The CA's key stays in the Secret: nothing here signs certificates.
    write_if_changed(&dir.ca_cert(), pki.ca.cert_pem.as_bytes(), false)?;
    write_if_changed(&dir.serving_cert(), pki.serving.cert_pem.as_bytes(), false)?;
    write_if_changed(&dir.serving_key(), pki.serving.key_pem.as_bytes(), true)?;
    write_if_changed(&dir.admin_kubeconfig(), kubeconfig.as_bytes(), true)?;
    write_if_changed(&dir.service_account_public(), pki.service_account.cert_pem.as_bytes(), false)?;
    write_if_changed(&dir.service_account_key(), pki.service_account.key_pem.as_bytes(), true)?;
    Ok(())
}

/// The flags of `component` for a tenant.
fn args(component: Component, dir: &TenantDir, state: &TenantState, key: &str) -> Vec<String> {
    let path = |p: PathBuf| p.display().to_string();
    let etcd = format!("http://127.0.0.1:{}", state.etcd_client_port);
    match component {
        Component::Etcd => {
            let peer = format!("http://127.0.0.1:{}", state.etcd_peer_port);
            vec![
                "--name=tenant".into(),
                format!("--data-dir={}", path(dir.etcd_data())),
                format!("--listen-client-urls={etcd}"),
                format!("--advertise-client-urls={etcd}"),
                format!("--listen-peer-urls={peer}"),
                format!("--initial-advertise-peer-urls={peer}"),
                format!("--initial-cluster=tenant={peer}"),
                "--logger=zap".into(),
                "--log-level=warn".into(),
                // kubeadm's value: fewer entries kept in memory between snapshots than etcd's
                // default of 100,000, which matters with one etcd per tenant.
                "--snapshot-count=10000".into(),
            ]
        }
        Component::ApiServer => vec![
            format!("--etcd-servers={etcd}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={}", state.apiserver_port),
            format!("--tls-cert-file={}", path(dir.serving_cert())),
            format!("--tls-private-key-file={}", path(dir.serving_key())),
            format!("--client-ca-file={}", path(dir.ca_cert())),
            format!("--cert-dir={}", path(dir.pki_dir())),
            // Tenants share the machine's cores: one worker thread each costs less CPU per
            // request than one per core (the syncer bench: 12.1 against 15.1 CPU s).
            "--worker-threads=1".into(),
        ],
        Component::Controllers => vec![
            format!("--kubeconfig={}", path(dir.admin_kubeconfig())),
            "--worker-threads=1".into(),
            super::TENANT_CONTROLLERS.into(),
            format!("--root-ca-file={}", path(dir.ca_cert())),
            "--metrics-addr=127.0.0.1:0".into(),
            // A fixed identity: a restarted process takes its own Lease back at once instead
            // of waiting for the old one to expire.
            format!("--identity={key}"),
        ],
    }
}

/// Waits until etcd on `port` answers its health check (true), `timeout` passes or `gone`.
async fn etcd_healthy(port: u16, timeout: Duration, mut gone: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if etcd_health(port).await {
            return true;
        }
        if gone() || Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// etcd's `/health` over plain HTTP/1.0 on loopback.
async fn etcd_health(port: u16) -> bool {
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").await.ok()?;
        let mut text = String::new();
        stream.read_to_string(&mut text).await.ok()?;
        Some(text.contains("\"health\":\"true\""))
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), ask).await, Ok(Some(true)))
}
