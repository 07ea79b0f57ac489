//! nestor-testkit: real etcd and nestor-apiserver processes on free loopback ports, with
//! a generated PKI, a static token file and an admin kubeconfig, for tests and benchmarks.
//!
//! `Cluster::start()` gives a running pair; dropping it kills both processes and removes
//! their data. `eventually` polls a condition with a deadline: tests never sleep blindly.

pub mod kubectl;
mod pki;
mod process;
pub mod tenancy;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::BodyExt;

pub use pki::Pki;
pub use process::{free_port, Etcd, Process, Workdir};

/// Token of the static-token user `tokenuser` (not in system:masters).
pub const USER_TOKEN: &str = "nestor-test-user-token";
/// Token of the static-token admin `tokenadmin` (in system:masters).
pub const ADMIN_TOKEN: &str = "nestor-test-admin-token";

/// Polls `f` every 50 ms until it answers `Some`, or fails after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where the `nestor-apiserver` binary is: `NESTOR_APISERVER_BIN`, or beside the test binary
/// in cargo's target directory.
pub fn apiserver_binary() -> Result<PathBuf> {
    binary("nestor-apiserver")
}

/// Where one of Nestor's binaries is: `NESTOR_<NAME>_BIN` (`NESTOR_SYNCER_BIN` for
/// `nestor-syncer`), or beside the test binary in cargo's target directory.
pub fn binary(name: &str) -> Result<PathBuf> {
    let var = format!("{}_BIN", name.replace('-', "_").to_uppercase());
    if let Ok(p) = std::env::var(&var) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    for dir in exe.ancestors().skip(1).take(3) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("{name} binary not found near {}; run `cargo build --bins` first or set {var}", exe.display())
}

/// Options of a test cluster.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra nestor-apiserver flags.
    pub extra_args: Vec<String>,
    /// Keep PKI, kubeconfig and logs in this folder (and etcd data under `etcd/`), reusing
    /// what is there; a temporary folder when None.
    pub dir: Option<PathBuf>,
    /// The API server port; a free one when None.
    pub port: Option<u16>,
    /// The API server's `--etcd-prefix`, so that several clusters can share one etcd.
    pub etcd_prefix: Option<String>,
}

/// A running etcd plus nestor-apiserver.
pub struct Cluster {
    /// The etcd holding this cluster's data; shared when clusters were started over one etcd.
    pub etcd: Arc<Etcd>,
    pub apiserver: Process,
    pub pki: Pki,
    pub port: u16,
    dir: Workdir,
    options: Options,
}

impl Cluster {
    /// Starts etcd and nestor-apiserver and waits until `/readyz` answers.
    pub async fn start() -> Result<Self> {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Result<Self> {
        let etcd = Etcd::start_in(options.dir.as_ref().map(|d| d.join("etcd")).as_deref()).await?;
        Self::start_on(Arc::new(etcd), options).await
    }

    /// Starts a nestor-apiserver over an existing etcd (give each cluster its own
    /// `etcd_prefix` when they share one).
    pub async fn start_on(etcd: Arc<Etcd>, options: Options) -> Result<Self> {
        let dir = Workdir::new(options.dir.as_deref(), "nestor-cluster-")?;
        let pki = Pki::load_or_generate(dir.path())?;
        std::fs::write(
            dir.path().join("tokens.csv"),
            format!("{USER_TOKEN},tokenuser,2001\n{ADMIN_TOKEN},tokenadmin,2002,\"system:masters\"\n"),
        )?;
        // Without a fixed port the server picks a free one itself (port 0) and logs it, so no
        // other process can take the port between choosing and binding it.
        let (apiserver, port) = Self::spawn_apiserver(
            &etcd,
            dir.path(),
            options.port.unwrap_or(0),
            &options,
            &dir.path().join("apiserver.log"),
        )
        .await?;
        let cluster = Cluster { etcd, apiserver, pki, port, dir, options };
        cluster.write_kubeconfig()?;
        Ok(cluster)
    }

    async fn spawn_apiserver(
        etcd: &Etcd,
        dir: &Path,
        port: u16,
        options: &Options,
        log: &Path,
    ) -> Result<(Process, u16)> {
        let mut args: Vec<String> = vec![
            format!("--etcd-servers={}", etcd.endpoint),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={port}"),
            format!("--tls-cert-file={}", dir.join("serving.crt").display()),
            format!("--tls-private-key-file={}", dir.join("serving.key").display()),
            format!("--client-ca-file={}", dir.join("ca.crt").display()),
            format!("--token-auth-file={}", dir.join("tokens.csv").display()),
            format!("--cert-dir={}", dir.join("certs").display()),
            "--log-level=info".into(),
        ];
        if let Some(prefix) = &options.etcd_prefix {
            args.push(format!("--etcd-prefix={prefix}"));
        }
        args.extend(options.extra_args.iter().cloned());
        let process = Process::spawn("nestor-apiserver", &apiserver_binary()?, &args, log)?;
        // The server logs "serving addr=<ip>:<port>" once it is bound and bootstrapped.
        let port = eventually(Duration::from_secs(30), "nestor-apiserver to serve", || async {
            let text = std::fs::read_to_string(log).ok()?;
            let line = text.lines().find(|l| l.contains(" serving ") && l.contains("addr="))?;
            line.rsplit(':').next()?.trim().parse::<u16>().ok()
        })
        .await
        .with_context(|| format!("nestor-apiserver did not start; log:\n{}", process.log_tail()))?;
        Ok((process, port))
    }

    /// Starts a second nestor-apiserver over the same etcd (as two replicas of one control
    /// plane run), with its own port and kubeconfig.
    pub async fn start_peer(&self) -> Result<Peer> {
        let peers = std::fs::read_dir(self.dir.path())?
            .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().starts_with("apiserver-peer-")))
            .count();
        let log = self.dir.path().join(format!("apiserver-peer-{peers}.log"));
        let (process, port) = Self::spawn_apiserver(&self.etcd, self.dir.path(), 0, &self.options, &log).await?;
        let (cert, key) = self.pki.client("kubernetes-admin", &["system:masters"])?;
        let kubeconfig = self.dir.path().join(format!("peer-{port}.kubeconfig"));
        std::fs::write(&kubeconfig, self.pki.kubeconfig(&format!("https://127.0.0.1:{port}"), "nestor", &cert, &key))?;
        Ok(Peer { process, port, kubeconfig })
    }

    /// Stops the API server (SIGTERM) and starts it again over the same etcd.
    pub async fn restart_apiserver(&mut self) -> Result<()> {
        let _ = self.apiserver.stop();
        let log = self.dir.path().join("apiserver.log");
        (self.apiserver, _) =
            Self::spawn_apiserver(&self.etcd, self.dir.path(), self.port, &self.options, &log).await?;
        Ok(())
    }

    /// The HTTPS base URL.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The admin kubeconfig (user `kubernetes-admin` in `system:masters`).
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("admin.kubeconfig")
    }

    /// The folder holding this cluster's PKI, tokens, kubeconfig and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn write_kubeconfig(&self) -> Result<()> {
        let (cert, key) = self.pki.client("kubernetes-admin", &["system:masters"])?;
        std::fs::write(self.kubeconfig(), self.pki.kubeconfig(&self.url(), "nestor", &cert, &key))?;
        Ok(())
    }

    /// Writes a kubeconfig for a client-certificate user and answers its path.
    pub fn kubeconfig_for(&self, user: &str, groups: &[&str]) -> Result<PathBuf> {
        let (cert, key) = self.pki.client(user, groups)?;
        let path = self.dir.path().join(format!("{user}.kubeconfig"));
        std::fs::write(&path, self.pki.kubeconfig(&self.url(), "nestor", &cert, &key))?;
        Ok(path)
    }

    /// Writes a kubeconfig whose user presents `token` and answers its path.
    pub fn kubeconfig_with_token(&self, name: &str, token: &str) -> Result<PathBuf> {
        let path = self.dir.path().join(format!("{name}.kubeconfig"));
        std::fs::write(&path, self.pki.token_kubeconfig(&self.url(), "nestor", token))?;
        Ok(path)
    }

    /// A kube client as the admin.
    pub async fn client(&self) -> Result<kube::Client> {
        client_from(&self.kubeconfig()).await
    }

    /// A kube client for a client-certificate user.
    pub async fn client_as(&self, user: &str, groups: &[&str]) -> Result<kube::Client> {
        client_from(&self.kubeconfig_for(user, groups)?).await
    }

    /// A kube client as the admin that does not retry 429/503/504, so tests see every answer.
    pub async fn raw_client(&self) -> Result<kube::Client> {
        let kubeconfig = kube::config::Kubeconfig::read_from(self.kubeconfig())?;
        let mut config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await?;
        config.default_retry = false;
        Ok(kube::Client::try_from(config)?)
    }

    /// A raw request as the admin: answers status, content type and body.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<Response> {
        raw(
            &self.raw_client().await?,
            method,
            path,
            &[("Content-Type", content_type.unwrap_or("application/json"))],
            body.into(),
        )
        .await
    }
}

/// A further API server over a cluster's etcd.
pub struct Peer {
    pub process: Process,
    pub port: u16,
    pub kubeconfig: PathBuf,
}

/// A raw HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as JSON (Null when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request through a kube client (its TLS and credentials) without decoding.
pub async fn raw(
    client: &kube::Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Result<Response> {
    let mut req = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body.to_vec())?;
    let resp = client.send(req.map(kube::client::Body::from)).await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok(Response { status, headers, body })
}

/// A kube client from a kubeconfig file.
pub async fn client_from(path: &Path) -> Result<kube::Client> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

/// Opens a watch (or any streaming GET) and yields each JSON line as it arrives.
pub async fn watch_lines(
    client: &kube::Client,
    path: &str,
) -> Result<futures::stream::BoxStream<'static, serde_json::Value>> {
    use futures::StreamExt;
    let req = http::Request::get(path).body(kube::client::Body::empty())?;
    let resp = client.send(req).await?;
    anyhow::ensure!(resp.status().is_success(), "watch answered {}", resp.status());
    let body = http_body_util::BodyStream::new(resp.into_body());
    let lines = futures::stream::unfold((body, Vec::<u8>::new()), |(mut body, mut buf)| async move {
        loop {
            if let Some(i) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=i).collect();
                let value = serde_json::from_slice(&line).unwrap_or(serde_json::Value::Null);
                return Some((value, (body, buf)));
            }
            match body.next().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        buf.extend_from_slice(&data);
                    }
                }
                _ => return None,
            }
        }
    });
    Ok(lines.boxed())
}
