//! `kubectl-vc serve` (hidden; `up` starts it): the super cluster's own controllers, nodesim's
//! simulated nodes, the manager (local provisioner over the state directory) and the syncer,
//! in one light process instead of four. On SIGTERM it stops them and then every tenant's
//! control plane, keeping their data for the next `up`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use nestor_manager::provision::local::{LocalConfig, LocalProvisioner};
use tracing::{error, info};

use crate::args::ServeArgs;
use crate::state::StateDir;

/// Runs until SIGTERM or SIGINT, or until a component fails.
pub async fn serve(dir: &StateDir, args: &ServeArgs) -> Result<()> {
    nestor_api::runtime::LogArgs { log_level: "info".into(), log_format: nestor_api::runtime::LogFormat::Plain }.init();
    let client = crate::client::client_from(&dir.kubeconfig()).await?;
    let identity = crate::up::serve_identity(std::process::id());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };

    let controllers = nestor_controllers::Args::try_parse_from([
        "nestor-controllers".to_string(),
        format!("--identity={identity}"),
        "--metrics-addr=127.0.0.1:0".into(),
        format!("--root-ca-file={}", dir.pki().join("ca.crt").display()),
    ])
    .context("configuring nestor-controllers")?
    .config()?;
    let syncer = nestor_syncer::Args::try_parse_from([
        "nestor-syncer".to_string(),
        format!("--identity={identity}"),
        "--metrics-addr=127.0.0.1:0".into(),
    ])
    .context("configuring the syncer")?
    .config();
    let local = LocalConfig::new(dir.path().to_path_buf());
    let manager = nestor_manager::Config {
        identity: identity.clone(),
        lease_namespace: "kube-system".into(),
        lease_duration: Duration::from_secs(15),
        metrics_addr: ([127, 0, 0, 1], 0).into(),
        provisioner: nestor_manager::ProvisionerConfig::Local(local.clone()),
    };
    let nodesim = nestor_nodesim::Config { nodes: args.nodes, ..Default::default() };

    let mut tasks = tokio::task::JoinSet::new();
    {
        let (client, shutdown) = (client.clone(), stopped());
        tasks.spawn(async move {
            ("nestor-controllers", nestor_controllers::run(client, controllers, shutdown).await.map_err(Into::into))
        });
    }
    {
        let (client, shutdown) = (client.clone(), stopped());
        tasks.spawn(
            async move { ("nodesim", nestor_nodesim::run(client, nodesim, shutdown).await.map_err(Into::into)) },
        );
    }
    {
        let (client, shutdown) = (client.clone(), stopped());
        tasks.spawn(
            async move { ("manager", nestor_manager::run(client, manager, shutdown).await.map_err(Into::into)) },
        );
    }
    {
        let (client, shutdown) = (client.clone(), stopped());
        tasks.spawn(async move {
            let result = match nestor_syncer::Syncer::start(client, syncer, shutdown).await {
                Ok(syncer) => syncer.wait().await,
                Err(e) => Err(e),
            };
            ("syncer", result)
        });
    }
    info!(%identity, nodes = args.nodes, "serving the super cluster's controllers, nodesim, manager and syncer");

    let mut failure = None;
    tokio::select! {
        () = nestor_api::runtime::shutdown_signal() => info!("stopping"),
        done = tasks.join_next() => {
            if let Some(done) = done {
                let (name, result) = done.unwrap_or_else(|e| ("a task", Err(anyhow::anyhow!("ended abnormally: {e}"))));
                let message = match result {
                    Ok(()) => format!("{name} stopped unexpectedly"),
                    Err(e) => format!("{name} failed: {e:#}"),
                };
                error!(%message, "stopping everything");
                failure = Some(message);
            }
        }
    }
    let _ = stop_tx.send(true);
    // Each component stops at the signal; none is waited for longer than this.
    let _ = tokio::time::timeout(Duration::from_secs(15), async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();

    info!("stopping the tenants' control planes (their data is kept)");
    let provisioner = LocalProvisioner::new(local, Arc::new(nestor_manager::metrics::Metrics::new()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    provisioner.stop_all().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    info!("stopped");
    match failure {
        Some(message) => anyhow::bail!(message),
        None => Ok(()),
    }
}
