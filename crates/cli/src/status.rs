//! `kubectl-vc status`: one line per process of the super cluster, its health, and one line
//! per tenant.

use anyhow::Result;
use kube::api::{Api, ListParams};
use kube::ResourceExt;
use nestor_api::VirtualCluster;

use crate::state::{Part, StateDir};

/// Prints the status; fails (exit 1) when the super cluster is not up.
pub async fn status(dir: &StateDir, kubeconfig: Option<&std::path::Path>) -> Result<()> {
    let mut up = true;
    for part in Part::ALL {
        match crate::up::running(dir, part) {
            Some(pid) => crate::outln!("{:<10} running   pid {pid}", part.name()),
            None => {
                up = false;
                crate::outln!("{:<10} stopped", part.name());
            }
        }
    }
    let path = kubeconfig.map(std::path::Path::to_path_buf).unwrap_or_else(|| dir.kubeconfig());
    let client = match crate::client::client_from(&path).await {
        Ok(client) => Some(client),
        Err(e) => {
            crate::outln!("{:<10} {e:#}", "super");
            None
        }
    };
    if let Some(client) = client {
        match crate::client::readyz(&client).await {
            Ok(_) => crate::outln!("{:<10} ready     /readyz ok", "super"),
            Err(e) => {
                up = false;
                crate::outln!("{:<10} not ready ({e})", "super");
            }
        }
        if let Ok(list) = Api::<VirtualCluster>::all(client).list(&ListParams::default()).await {
            for vc in list.items {
                let status = vc.status.clone().unwrap_or_default();
                let phase = status.phase.map(|p| format!("{p:?}")).unwrap_or("<none>".into());
                let ready = status
                    .conditions
                    .iter()
                    .find(|c| c.type_ == "Ready")
                    .map(|c| format!("Ready={} {}", c.status, c.reason))
                    .unwrap_or_default();
                crate::outln!(
                    "tenant     {}/{}   {phase}   {}   {ready}",
                    vc.namespace().unwrap_or_default(),
                    vc.name_any(),
                    status.cluster_key.unwrap_or("<none>".into())
                );
            }
        }
    }
    if !up {
        anyhow::bail!("the super cluster in {} is not (fully) up; run `kubectl-vc up`", dir.path().display());
    }
    Ok(())
}
