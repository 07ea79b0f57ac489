//! The client of the super cluster for the commands that only talk to it: from
//! `--kubeconfig`, else `<state-dir>/admin.kubeconfig`, else $KUBECONFIG; checked to answer
//! before any command runs, so a down super cluster is one clear line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::args::Global;

/// A client of the super cluster that answered `/readyz` (or at least answered).
pub struct Super {
    pub client: kube::Client,
    /// The server URL, for messages.
    pub url: String,
}

/// The kubeconfig to use: `--kubeconfig`, else the state directory's when it exists.
pub fn kubeconfig_path(global: &Global) -> Option<PathBuf> {
    global.kubeconfig.clone().or_else(|| {
        let path = crate::state::StateDir::new(&global.state_dir()).ok()?.kubeconfig();
        path.is_file().then_some(path)
    })
}

/// Connects to the super cluster and checks that it answers.
pub async fn connect(global: &Global) -> Result<Super> {
    let path = kubeconfig_path(global);
    let mut config = load(path.as_deref()).await?;
    config.connect_timeout = Some(Duration::from_secs(3));
    config.read_timeout = Some(Duration::from_secs(30));
    let url = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let client = kube::Client::try_from(config).context("building the client of the super cluster")?;
    let unreachable = || format!("the super cluster at {url} is not reachable (is `kubectl-vc up` running?)");
    match readyz(&client).await {
        Ok(_) => Ok(Super { client, url }),
        Err(kube::Error::Api(_)) => Ok(Super { client, url }),
        Err(_) => bail!(unreachable()),
    }
}

/// The answer of `/readyz` (an error when the server did not answer, or not with 200).
pub async fn readyz(client: &kube::Client) -> Result<String, kube::Error> {
    let request = http::Request::get("/readyz").body(Vec::new()).map_err(kube::Error::HttpError)?;
    client.request_text(request).await
}

async fn load(path: Option<&Path>) -> Result<kube::Config> {
    match path {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("the kubeconfig {} is not usable", path.display()))
        }
        None => kube::Config::infer()
            .await
            .context("no super cluster: run `kubectl-vc up`, or pass --kubeconfig or --state-dir"),
    }
}

/// A client from a kubeconfig file, without the reachability check (for `up` and `status`).
pub async fn client_from(path: &Path) -> Result<kube::Client> {
    let mut config = load(Some(path)).await?;
    config.connect_timeout = Some(Duration::from_secs(3));
    config.read_timeout = Some(Duration::from_secs(30));
    Ok(kube::Client::try_from(config)?)
}
