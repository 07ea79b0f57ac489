//! nestor-apiserver: a Kubernetes-compatible API server over etcd.
//!
//! It serves the REST API of kube-apiserver v1.32 so that kubectl, client-go and kube-rs
//! cannot tell the difference for everyday use. It is Nestor's light tenant control plane,
//! the super cluster of the embedded mode, and the server every test runs against.
//!
//! A request flows through `http` (TLS, authentication, authorization, negotiation) to the
//! generic store in `registry`, which asks `kinds` for what differs per kind (defaults,
//! validation, selectable fields, CRD schemas), applies `patch`es, and keeps objects as JSON
//! in etcd through `storage` under kube's key layout (`/registry/<resource>/<ns>/<name>`).
//! Garbage collection, namespace deletion and CRD cleanup run inside the server
//! (`registry::controllers`).

#![recursion_limit = "256"]

pub mod args;
pub mod error;
pub mod fieldmanager;
pub mod http;
pub mod kinds;
pub mod patch;
pub mod rbac;
pub mod registry;
pub mod serviceaccount;
pub mod storage;
pub mod table;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::info;

pub use args::Args;

use crate::http::handler::State;
use crate::registry::resources::Resources;
use crate::registry::services::Allocator;
use crate::registry::store::{ListOptions, Store};

/// A started server: its address, and a way to stop it.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, ends watches, lets in-flight requests finish, and waits.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Serves previously created CRDs before the first request arrives.
async fn load_crds(store: &Store) -> anyhow::Result<()> {
    let snapshot = store.resources.snapshot();
    let def = snapshot
        .lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .cloned()
        .context("CRDs are not in the catalog")?;
    let (crds, _, _, _) = store
        .list_items(&def, "v1", None, &ListOptions::default())
        .await
        .map_err(|e| anyhow::anyhow!("failed to list CRDs: {e}"))?;
    for crd in &crds {
        kinds::crd::register(&store.resources, crd);
    }
    Ok(())
}

/// Connects to etcd, bootstraps, binds the port and starts serving in the background.
pub async fn start(args: Args) -> anyhow::Result<Running> {
    let storage = storage::Storage::connect(&args.etcd_servers).await.context("etcd is not reachable")?;
    let resources = Arc::new(Resources::new());
    let allocator = Allocator::new(
        storage.clone(),
        &args.etcd_prefix,
        &args.service_cluster_ip_range,
        &args.service_node_port_range,
    )?;
    let store = Arc::new(Store::new(storage, &args.etcd_prefix, resources, allocator));
    load_crds(&store).await?;

    let listener = TcpListener::bind(SocketAddr::new(args.bind_address, args.secure_port))
        .await
        .with_context(|| format!("failed to listen on {}:{}", args.bind_address, args.secure_port))?;
    let addr = listener.local_addr()?;
    let advertise = args.advertise_address.unwrap_or(if args.bind_address.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        args.bind_address
    });
    registry::bootstrap::run(&store, advertise, addr.port())
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap failed: {e}"))?;

    let (cert, key) = match (&args.tls_cert_file, &args.tls_private_key_file) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        (None, None) => {
            let hosts = http::tls::default_hosts(args.bind_address, IpAddr::V4(store.services.first_ip()));
            http::tls::self_signed(&args.cert_dir, &hosts)?
        }
        _ => anyhow::bail!("--tls-cert-file and --tls-private-key-file go together"),
    };
    let tls = http::tls::server_config(&cert, &key, args.client_ca_file.as_deref())?;
    let authn = http::authn::Authenticator::new(args.token_auth_file.as_deref(), args.anonymous_auth)?;

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let state = Arc::new(State {
        store: store.clone(),
        authn,
        authorizer: rbac::Authorizer { mode: args.authorization_mode(), policy: store.rbac.clone() },
        tokens: serviceaccount::Tokens::new(
            args.service_account_issuer.clone(),
            args.api_audiences.clone(),
            serviceaccount::jwt::SigningKey::load_or_create(
                &args.service_account_signing_key_file.clone().unwrap_or_else(|| args.cert_dir.join("sa.key")),
            )?,
            &format!("{advertise}:{}", addr.port()),
        ),
        metrics: http::metrics::Metrics::new(),
        server_address: format!("{advertise}:{}", addr.port()),
        readonly_slots: Semaphore::new(args.max_requests_inflight.max(1)),
        mutating_slots: Semaphore::new(args.max_mutating_requests_inflight.max(1)),
        min_request_timeout: args.min_request_timeout,
        request_timeout: args.request_timeout,
        shutdown: shutdown_rx.clone(),
    });
    if !args.etcd_compaction_interval.is_zero() {
        let storage = store.storage.clone();
        tokio::spawn(storage::compactor::run(storage, args.etcd_compaction_interval, shutdown_rx.clone()));
    }
    tokio::spawn(registry::controllers::run(store, shutdown_rx.clone()));
    info!(%addr, "serving");
    let task = tokio::spawn(http::server::serve(listener, tls, state, shutdown_rx, Duration::from_secs(60)));
    Ok(Running { addr, shutdown: shutdown_tx, task })
}

/// Runs the server until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let running = start(args).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => info!("interrupt received"),
    }
    running.stop().await;
    info!("stopped");
    Ok(())
}
