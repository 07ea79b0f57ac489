//! Tenants for tests: a super cluster with Nestor's CRDs, tenant clusters registered in it as
//! Running VirtualClusters (the manager's job, done by hand here), and the syncer and nodesim
//! as real processes.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};
use kube::{CustomResourceExt, ResourceExt};
use nestor_api::types::{Endpoint, SyncSpec};
use nestor_api::{naming, ClusterVersion, Phase, VirtualCluster, VirtualClusterSpec, VirtualClusterStatus};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{binary, eventually, Cluster, Process};

/// The namespace of the super cluster that holds VirtualClusters in tests.
pub const TENANTS_NAMESPACE: &str = "tenants";

/// Installs the VirtualCluster and ClusterVersion CRDs and waits until they serve.
pub async fn install_crds(super_cluster: &Cluster) -> Result<()> {
    let client = super_cluster.client().await?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in [VirtualCluster::crd(), ClusterVersion::crd()] {
        match crds.create(&PostParams::default(), &crd).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let vcs: Api<VirtualCluster> = Api::all(client.clone());
    eventually(Duration::from_secs(10), "VirtualCluster CRD to serve", || async {
        vcs.list(&Default::default()).await.ok()
    })
    .await?;
    let namespaces: Api<Namespace> = Api::all(client);
    let ns = Namespace {
        metadata: kube::api::ObjectMeta { name: Some(TENANTS_NAMESPACE.into()), ..Default::default() },
        ..Default::default()
    };
    match namespaces.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A tenant registered in the super cluster.
#[derive(Debug, Clone)]
pub struct Registered {
    pub name: String,
    pub uid: String,
    /// The cluster key: prefix of the tenant's super namespaces.
    pub key: String,
}

impl Registered {
    /// The super namespace of tenant namespace `namespace`.
    pub fn super_namespace(&self, namespace: &str) -> String {
        naming::super_namespace(&self.key, namespace)
    }
}

/// Registers `tenant` as the Running VirtualCluster `name`: its admin kubeconfig goes into a
/// Secret, and the status says where pods reach its API server.
pub async fn register(
    super_cluster: &Cluster,
    tenant: &Cluster,
    name: &str,
    custom_resources: &[&str],
) -> Result<Registered> {
    let client = super_cluster.client().await?;
    let secret_name = format!("{name}-kubeconfig");
    let kubeconfig = std::fs::read(tenant.kubeconfig())?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), TENANTS_NAMESPACE);
    let secret = Secret {
        metadata: kube::api::ObjectMeta { name: Some(secret_name.clone()), ..Default::default() },
        data: Some([("kubeconfig".to_string(), ByteString(kubeconfig))].into()),
        ..Default::default()
    };
    secrets.create(&PostParams::default(), &secret).await.context("creating the kubeconfig Secret")?;
    let vcs: Api<VirtualCluster> = Api::namespaced(client, TENANTS_NAMESPACE);
    let spec = VirtualClusterSpec {
        cluster_version: None,
        sync: SyncSpec { custom_resources: custom_resources.iter().map(|s| s.to_string()).collect() },
    };
    let mut vc = vcs.create(&PostParams::default(), &VirtualCluster::new(name, spec)).await?;
    let uid = vc.uid().unwrap_or_default();
    let key = naming::cluster_key(TENANTS_NAMESPACE, name, &uid);
    vc.status = Some(VirtualClusterStatus {
        phase: Some(Phase::Running),
        cluster_key: Some(key.clone()),
        kubeconfig_secret: Some(secret_name),
        in_cluster_endpoint: Some(Endpoint { host: "127.0.0.1".into(), port: i32::from(tenant.port) }),
        ..Default::default()
    });
    vcs.replace_status(name, &PostParams::default(), &vc).await.context("setting the VirtualCluster status")?;
    Ok(Registered { name: name.to_string(), uid, key })
}

/// Starts `nestor-syncer` against the super cluster; its log goes to `<dir>/syncer-<tag>.log`.
pub fn spawn_syncer(super_cluster: &Cluster, tag: &str, extra_args: &[&str]) -> Result<Process> {
    let mut args = vec![
        format!("--kubeconfig={}", super_cluster.kubeconfig().display()),
        "--metrics-addr=127.0.0.1:0".to_string(),
        format!("--identity=syncer-{tag}"),
        "--log-level=info,nestor_syncer=debug".to_string(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    let log = super_cluster.dir().join(format!("syncer-{tag}.log"));
    Process::spawn("nestor-syncer", &binary("nestor-syncer")?, &args, &log)
}

/// Starts `nestor-nodesim` with `nodes` simulated nodes against the super cluster.
pub fn spawn_nodesim(super_cluster: &Cluster, nodes: u32, extra_args: &[&str]) -> Result<Process> {
    let mut args = vec![
        format!("--kubeconfig={}", super_cluster.kubeconfig().display()),
        format!("--nodes={nodes}"),
        "--log-level=info".to_string(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    let log = super_cluster.dir().join("nodesim.log");
    Process::spawn("nestor-nodesim", &binary("nestor-nodesim")?, &args, &log)
}

/// The address a process logged as `... addr=<ip:port>` after `marker`, once it has.
pub async fn logged_addr(log: &Path, marker: &str) -> Result<String> {
    eventually(Duration::from_secs(30), marker, || async {
        let text = std::fs::read_to_string(log).ok()?;
        let line = text.lines().find(|l| l.contains(marker))?;
        let addr = line.split("addr=").nth(1)?.split_whitespace().next()?;
        Some(addr.trim_matches('"').to_string())
    })
    .await
}

/// A plain HTTP/1.0 GET: the metrics endpoints of Nestor's processes are plain HTTP.
pub async fn http_get(addr: &str, path: &str) -> Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await?;
    Ok(text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default())
}

/// The sum of a metric's samples whose labels contain every one of `labels`.
pub fn metric_sum(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        // An empty f64 sum is -0.0; reports should say 0.
        .fold(0.0, |a, b| a + b)
}
