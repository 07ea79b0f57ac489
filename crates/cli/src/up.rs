//! `up` and `down`: the embedded super cluster's processes. etcd, the super nestor-apiserver and
//! `kubectl-vc serve` run detached (each in a process group of its own, so Ctrl-C in the
//! terminal that ran `up` does not reach them) with pid files in the state directory; they are
//! started, adopted and stopped with the manager's process module, the same one that runs
//! tenant control planes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, PostParams};
use kube::CustomResourceExt;
use nestor_api::pki::{Authority, Pair};
use nestor_api::{ClusterVersion, VirtualCluster};
use nestor_manager::provision::local::process::{self, PidRecord};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::args::UpArgs;
use crate::client;
use crate::state::{self, Part, Ports, StateDir};

const YEAR: Duration = Duration::from_secs(365 * 86_400);
/// How long `down` gives `serve` to stop the tenants before it is killed.
const SERVE_GRACE: Duration = Duration::from_secs(60);
const GRACE: Duration = Duration::from_secs(10);
/// The namespace of the manager's and the syncer's Leases.
const LEASE_NAMESPACE: &str = "kube-system";

/// The identity `serve` with process id `pid` has in the leader Leases.
pub fn serve_identity(pid: u32) -> String {
    format!("kubectl-vc-{pid}")
}

/// How a process of the super cluster is started.
struct Launch {
    part: Part,
    binary: PathBuf,
    args: Vec<String>,
    fingerprint: String,
}

impl Launch {
    fn new(part: Part, binary: PathBuf, args: Vec<String>, inputs: &[&[u8]]) -> Launch {
        let fingerprint = process::fingerprint(&binary, &args, inputs);
        Launch { part, binary, args, fingerprint }
    }
}

/// What became of one process.
enum Outcome {
    Adopted(i32),
    /// The child handle is held while `up` waits: it tells for sure whether the child died,
    /// and how.
    Started(i32, tokio::process::Child),
}

impl Outcome {
    fn pid(&self) -> i32 {
        match self {
            Outcome::Adopted(pid) | Outcome::Started(pid, _) => *pid,
        }
    }
}

/// `kubectl-vc up`.
pub async fn up(dir: &StateDir, args: &UpArgs) -> Result<()> {
    dir.create()?;
    let deadline = Instant::now() + args.timeout;
    let ports = ports(dir, args.port)?;
    ensure_pki(dir, ports.apiserver)?;
    let url = format!("https://127.0.0.1:{}", ports.apiserver);

    let mut etcd = ensure(dir, etcd_launch(dir, &ports)).await?;
    let etcd_addr = format!("127.0.0.1:{}", ports.etcd_client);
    wait(deadline, "etcd to be healthy", dir, Part::Etcd, &mut etcd, || async {
        http_get(&etcd_addr, "/health").await.is_ok_and(|body| body.contains("\"health\":\"true\""))
    })
    .await?;

    let mut apiserver = ensure(dir, apiserver_launch(dir, &ports)?).await?;
    let super_client = client::client_from(&dir.kubeconfig()).await?;
    wait(deadline, "the super API server's /readyz", dir, Part::ApiServer, &mut apiserver, || async {
        client::readyz(&super_client).await.is_ok()
    })
    .await?;
    install_crds(&super_client, deadline).await?;

    let mut serve = ensure(dir, serve_launch(dir, args.nodes)?).await?;
    let identity = serve_identity(u32::try_from(serve.pid()).unwrap_or_default());
    let nodes: Api<Node> = Api::all(super_client.clone());
    let leases: Api<Lease> = Api::namespaced(super_client.clone(), LEASE_NAMESPACE);
    let want = args.nodes as usize;
    wait(deadline, "the simulated nodes to be Ready", dir, Part::Serve, &mut serve, || async {
        nodes
            .list(&ListParams::default())
            .await
            .is_ok_and(|list| list.items.iter().filter(|n| ready(n)).count() >= want)
    })
    .await?;
    for lease in [nestor_manager::LEASE_NAME, nestor_api::naming::SYNCER_LEASE] {
        wait(deadline, &format!("{lease} to lead"), dir, Part::Serve, &mut serve, || async {
            leases.get_opt(lease).await.ok().flatten().and_then(|l| l.spec?.holder_identity).as_deref()
                == Some(identity.as_str())
        })
        .await?;
    }

    let adopted = [&etcd, &apiserver, &serve].iter().all(|o| matches!(o, Outcome::Adopted(_)));
    let kubeconfig = shown(&dir.kubeconfig());
    if adopted {
        crate::outln!("The super cluster at {url} is already up (state in {}).", shown(dir.path()));
    } else {
        crate::outln!(
            "The super cluster is up at {url} with {} simulated nodes (state in {}).",
            args.nodes,
            shown(dir.path())
        );
    }
    crate::outln!();
    crate::outln!("  kubectl --kubeconfig {kubeconfig} get nodes");
    crate::outln!("  kubectl vc create blue --wait{}", state_flag(dir));
    crate::outln!("  kubectl vc kubeconfig blue{} > blue.kubeconfig", state_flag(dir));
    crate::outln!();
    crate::outln!("Stop it with: kubectl vc down{}", state_flag(dir));
    Ok(())
}

/// `--state-dir X` when the state directory is not the default, for the lines `up` prints.
fn state_flag(dir: &StateDir) -> String {
    let default = crate::args::Global { state_dir: None, kubeconfig: None }.state_dir();
    match StateDir::new(&default) {
        Ok(d) if d.path() == dir.path() => String::new(),
        _ => format!(" --state-dir {}", shown(dir.path())),
    }
}

/// A path relative to the working directory when it is inside it.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

fn ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The kept ports, with the API server's from `--port`; free ones for a new state directory.
fn ports(dir: &StateDir, apiserver: u16) -> Result<Ports> {
    let ports = match Ports::load(dir) {
        Some(kept) => Ports { apiserver, ..kept },
        None => {
            // Both held at once so they differ.
            let a = std::net::TcpListener::bind("127.0.0.1:0").context("picking a free port")?;
            let b = std::net::TcpListener::bind("127.0.0.1:0").context("picking a free port")?;
            Ports { etcd_client: a.local_addr()?.port(), etcd_peer: b.local_addr()?.port(), apiserver }
        }
    };
    ports.save(dir)?;
    Ok(ports)
}

/// The super cluster's CA, serving certificate and admin client certificate (made once and
/// kept), and the admin kubeconfig for the current port.
fn ensure_pki(dir: &StateDir, port: u16) -> Result<()> {
    let pki = dir.pki();
    let file = |name: &str| pki.join(name);
    let read = |name: &str| std::fs::read_to_string(file(name));
    let (ca, admin) = match (read("ca.crt"), read("ca.key"), read("admin.crt"), read("admin.key")) {
        (Ok(cert_pem), Ok(key_pem), Ok(admin_cert), Ok(admin_key))
            if file("apiserver.crt").is_file() && file("apiserver.key").is_file() =>
        {
            (Pair { cert_pem, key_pem }, Pair { cert_pem: admin_cert, key_pem: admin_key })
        }
        _ => {
            let ca = Authority::generate("nestor-super-ca", 10 * YEAR)?;
            let names = ["127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"];
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            let serving = ca.serving("nestor-apiserver", &names, 10 * YEAR)?;
            let admin = ca.client("nestor-admin", &["system:masters"], 10 * YEAR)?;
            state::write_file(&file("ca.crt"), ca.pair.cert_pem.as_bytes(), false)?;
            state::write_file(&file("ca.key"), ca.pair.key_pem.as_bytes(), true)?;
            state::write_file(&file("apiserver.crt"), serving.cert_pem.as_bytes(), false)?;
            state::write_file(&file("apiserver.key"), serving.key_pem.as_bytes(), true)?;
            state::write_file(&file("admin.crt"), admin.cert_pem.as_bytes(), false)?;
            state::write_file(&file("admin.key"), admin.key_pem.as_bytes(), true)?;
            (ca.pair, admin)
        }
    };
    let kubeconfig = nestor_api::pki::kubeconfig(&format!("https://127.0.0.1:{port}"), "nestor", &ca.cert_pem, &admin);
    state::write_file(&dir.kubeconfig(), kubeconfig.as_bytes(), true)
}

fn etcd_launch(dir: &StateDir, ports: &Ports) -> Launch {
    let client = format!("http://127.0.0.1:{}", ports.etcd_client);
    let peer = format!("http://127.0.0.1:{}", ports.etcd_peer);
    let args = vec![
        "--name=nestor".to_string(),
        format!("--data-dir={}", dir.etcd_data().display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=nestor={peer}"),
        "--logger=zap".into(),
        "--log-level=warn".into(),
        "--snapshot-count=10000".into(),
    ];
    Launch::new(Part::Etcd, PathBuf::from("etcd"), args, &[])
}

fn apiserver_launch(dir: &StateDir, ports: &Ports) -> Result<Launch> {
    let pki = dir.pki();
    let args = vec![
        format!("--etcd-servers=http://127.0.0.1:{}", ports.etcd_client),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={}", ports.apiserver),
        format!("--tls-cert-file={}", pki.join("apiserver.crt").display()),
        format!("--tls-private-key-file={}", pki.join("apiserver.key").display()),
        format!("--client-ca-file={}", pki.join("ca.crt").display()),
        format!("--cert-dir={}", pki.display()),
    ];
    let cert = std::fs::read(pki.join("apiserver.crt")).unwrap_or_default();
    let binary = std::env::var_os("NESTOR_APISERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| nestor_manager::args::sibling_or_path("nestor-apiserver"));
    Ok(Launch::new(Part::ApiServer, binary, args, &[&cert]))
}

fn serve_launch(dir: &StateDir, nodes: u32) -> Result<Launch> {
    let binary = std::env::current_exe().context("finding kubectl-vc's own executable")?;
    let args = vec![
        "serve".to_string(),
        format!("--state-dir={}", dir.path().display()),
        // Names a path inside the state directory: that is how `down` and a later `up`
        // recognise the process.
        format!("--kubeconfig={}", dir.kubeconfig().display()),
        format!("--nodes={nodes}"),
    ];
    Ok(Launch::new(Part::Serve, binary, args, &[]))
}

/// Adopts the process the pid file names when it is still ours and was started the same way;
/// else (re)starts it.
async fn ensure(dir: &StateDir, launch: Launch) -> Result<Outcome> {
    let pid_file = dir.pid_file(launch.part);
    if let Some(PidRecord { pid, fingerprint }) = process::running(&pid_file, &launch.binary, dir.path()) {
        if fingerprint == launch.fingerprint {
            return Ok(Outcome::Adopted(pid));
        }
        process::stop_named(launch.part.name(), pid, &launch.binary, dir.path(), grace(launch.part)).await;
    }
    let child = process::spawn_named(
        launch.part.name(),
        &launch.binary,
        &launch.args,
        launch.fingerprint,
        &dir.log(launch.part),
        &pid_file,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or_default();
    Ok(Outcome::Started(pid, child))
}

fn grace(part: Part) -> Duration {
    if part == Part::Serve {
        SERVE_GRACE
    } else {
        GRACE
    }
}

/// Polls `check` until it holds; fails early with the log's tail when the process died.
async fn wait<F, Fut>(
    deadline: Instant,
    what: &str,
    dir: &StateDir,
    part: Part,
    outcome: &mut Outcome,
    mut check: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    loop {
        if check().await {
            return Ok(());
        }
        let exited = match outcome {
            Outcome::Started(_, child) => child.try_wait().ok().flatten().map(|status| status.to_string()),
            // Not our child: a zombie's command line is empty.
            Outcome::Adopted(pid) => {
                process::cmdline(*pid).is_none_or(|args| args.is_empty()).then(|| "exited".to_string())
            }
        };
        if let Some(status) = exited {
            bail!(
                "{} {status} while waiting for {what}; the end of {}:\n{}",
                part.name(),
                dir.log(part).display(),
                process::log_tail(&dir.log(part), 15)
            );
        }
        if Instant::now() >= deadline {
            bail!("timed out waiting for {what}; see {}", dir.log(part).display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Installs the VirtualCluster and ClusterVersion CRDs and waits until they serve.
async fn install_crds(client: &kube::Client, deadline: Instant) -> Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in [VirtualCluster::crd(), ClusterVersion::crd()] {
        match crds.create(&PostParams::default(), &crd).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e).context("installing the VirtualCluster CRDs"),
        }
    }
    let vcs: Api<VirtualCluster> = Api::all(client.clone());
    loop {
        if vcs.list(&ListParams::default().limit(1)).await.is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("timed out waiting for the VirtualCluster CRD to serve");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A plain HTTP/1.0 GET (etcd's health endpoint is plain HTTP on loopback).
async fn http_get(addr: &str, path: &str) -> Result<String> {
    let mut stream = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await??;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await?;
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(2), stream.read_to_string(&mut text)).await??;
    Ok(text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default())
}

/// The live process a pid file names, if it is still ours.
pub fn running(dir: &StateDir, part: Part) -> Option<i32> {
    let record = PidRecord::read(&dir.pid_file(part))?;
    let args = process::cmdline(record.pid)?;
    let inside = format!("{}/", dir.path().display());
    (args.len() > 1 && args[1..].iter().any(|a| a.contains(&inside))).then_some(record.pid)
}

/// `kubectl-vc down`: stops `serve` (which stops the tenants, keeping their data), the API
/// server and etcd, then anything of ours still working on the state directory.
pub async fn down(dir: &StateDir) -> Result<()> {
    let mut stopped = 0;
    for part in Part::ALL.into_iter().rev() {
        if let Some(pid) = running(dir, part) {
            let binary = process::cmdline(pid).and_then(|a| a.first().cloned()).unwrap_or_default();
            process::stop_named(part.name(), pid, Path::new(&binary), dir.path(), grace(part)).await;
            stopped += 1;
        }
        let _ = std::fs::remove_file(dir.pid_file(part));
    }
    // Whatever is left (a tenant process of a `serve` that was killed, a process whose pid
    // file was lost) is stopped too.
    let left = state::processes_in(dir);
    stopped += left.len();
    futures_join(dir, left).await;
    let deadline = Instant::now() + GRACE;
    loop {
        let left = state::processes_in(dir);
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let pids: Vec<String> = left.iter().map(|(p, pid)| format!("{p} ({pid})")).collect();
            bail!("processes still running after down: {}", pids.join(", "));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if stopped == 0 {
        crate::outln!("Nothing to stop: no super cluster runs from {}.", shown(dir.path()));
    } else {
        crate::outln!("Stopped the super cluster and its tenants; data kept in {}.", shown(dir.path()));
    }
    Ok(())
}

async fn futures_join(dir: &StateDir, left: Vec<(String, i32)>) {
    let mut tasks = tokio::task::JoinSet::new();
    for (program, pid) in left {
        let root = dir.path().to_path_buf();
        tasks.spawn(async move { process::stop_named("leftover", pid, Path::new(&program), &root, GRACE).await });
    }
    while tasks.join_next().await.is_some() {}
}
