//! The commands on VirtualClusters: `create`, `list`, `kubeconfig`, `delete`.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::ResourceExt;
use nestor_api::types::SyncSpec;
use nestor_api::{naming, Phase, VirtualCluster, VirtualClusterSpec};
use tokio::time::Instant;

use crate::args::{CreateArgs, DeleteArgs, KubeconfigArgs, ListArgs};
use crate::client::Super;

const POLL: Duration = Duration::from_millis(200);

/// `kubectl-vc create`.
pub async fn create(sup: &Super, args: &CreateArgs) -> Result<()> {
    if !naming::is_dns1123_label(&args.name) {
        bail!(
            "invalid VirtualCluster name {:?}: must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
            args.name
        );
    }
    ensure_namespace(&sup.client, &args.namespace).await?;
    let vcs: Api<VirtualCluster> = Api::namespaced(sup.client.clone(), &args.namespace);
    let spec = VirtualClusterSpec { cluster_version: None, sync: SyncSpec { custom_resources: args.sync_crd.clone() } };
    let started = Instant::now();
    match vcs.create(&PostParams::default(), &VirtualCluster::new(&args.name, spec)).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {
            bail!("VirtualCluster {}/{} already exists", args.namespace, args.name)
        }
        Err(kube::Error::Api(e)) => bail!("the super cluster refused the VirtualCluster: {}", e.message),
        Err(e) => return Err(e).context("creating the VirtualCluster"),
    }
    crate::outln!("virtualcluster {}/{} created", args.namespace, args.name);
    if !args.wait {
        return Ok(());
    }
    let mut last: Option<Phase> = None;
    loop {
        let vc = vcs.get_opt(&args.name).await.context("reading the VirtualCluster")?;
        let Some(vc) = vc else { bail!("VirtualCluster {}/{} was deleted while waiting", args.namespace, args.name) };
        let status = vc.status.clone().unwrap_or_default();
        if status.phase.is_some() && status.phase != last {
            last = status.phase;
            crate::outln!("  {:<13} {:>6.1}s", phase_name(status.phase), started.elapsed().as_secs_f64());
        }
        match status.phase {
            Some(Phase::Running) => {
                let key = status.cluster_key.unwrap_or_default();
                let ns = if args.namespace == "default" { String::new() } else { format!(" -n {}", args.namespace) };
                crate::outln!("{} is Running (cluster key {key}). Its kubeconfig:", args.name);
                crate::outln!("  kubectl vc kubeconfig {}{ns} > {}.kubeconfig", args.name, args.name);
                return Ok(());
            }
            Some(Phase::Failed) => {
                let message = status
                    .conditions
                    .iter()
                    .find(|c| c.type_ == "Ready")
                    .map(|c| format!("{}: {}", c.reason, c.message))
                    .unwrap_or_else(|| "no condition says why".into());
                bail!("VirtualCluster {}/{} failed: {message}", args.namespace, args.name);
            }
            _ => {}
        }
        if started.elapsed() >= args.timeout {
            bail!(
                "VirtualCluster {}/{} is still {} after {:?}",
                args.namespace,
                args.name,
                phase_name(status.phase),
                args.timeout
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn ensure_namespace(client: &kube::Client, name: &str) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if namespaces.get_opt(name).await.context("reading the namespace")?.is_some() {
        return Ok(());
    }
    let ns = Namespace {
        metadata: kube::api::ObjectMeta { name: Some(name.to_string()), ..Default::default() },
        ..Default::default()
    };
    match namespaces.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating the namespace {name}")),
    }
}

fn phase_name(phase: Option<Phase>) -> &'static str {
    match phase {
        None => "<none>",
        Some(Phase::Pending) => "Pending",
        Some(Phase::Provisioning) => "Provisioning",
        Some(Phase::Running) => "Running",
        Some(Phase::Failed) => "Failed",
        Some(Phase::Deleting) => "Deleting",
    }
}

/// `kubectl-vc list`.
pub async fn list(sup: &Super, args: &ListArgs) -> Result<()> {
    let vcs: Api<VirtualCluster> = if args.all_namespaces {
        Api::all(sup.client.clone())
    } else {
        Api::namespaced(sup.client.clone(), &args.namespace)
    };
    let list = vcs.list(&ListParams::default()).await.context("listing VirtualClusters")?;
    if list.items.is_empty() {
        if args.all_namespaces {
            eprintln!("No VirtualClusters found.");
        } else {
            eprintln!("No VirtualClusters found in {} namespace.", args.namespace);
        }
        return Ok(());
    }
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let mut rows = vec![];
    let mut header = vec!["NAME", "PHASE", "KEY", "ENDPOINT", "AGE"];
    if args.all_namespaces {
        header.insert(0, "NAMESPACE");
    }
    rows.push(header.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    for vc in &list.items {
        let status = vc.status.clone().unwrap_or_default();
        let endpoint = status.in_cluster_endpoint.map(|e| format!("{}:{}", e.host, e.port)).unwrap_or("<none>".into());
        let age = vc.creation_timestamp().map(|t| age(now - t.0.as_second())).unwrap_or("<unknown>".into());
        let mut row = vec![
            vc.name_any(),
            phase_name(status.phase).to_string(),
            status.cluster_key.unwrap_or("<none>".into()),
            endpoint,
            age,
        ];
        if args.all_namespaces {
            row.insert(0, vc.namespace().unwrap_or_default());
        }
        rows.push(row);
    }
    crate::out!("{}", table(&rows));
    Ok(())
}

/// Columns padded as kubectl pads them: three spaces after the widest cell.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..columns).map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.len()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// An age in seconds as kubectl shows it: `45s`, `3m12s`, `5h`, `2d`.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..120 => format!("{s}s"),
        120..600 => format!("{}m{}s", s / 60, s % 60),
        600..10_800 => format!("{}m", s / 60),
        10_800..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// `kubectl-vc kubeconfig`.
pub async fn kubeconfig(sup: &Super, args: &KubeconfigArgs) -> Result<()> {
    let vcs: Api<VirtualCluster> = Api::namespaced(sup.client.clone(), &args.namespace);
    let vc = vcs
        .get_opt(&args.name)
        .await
        .context("reading the VirtualCluster")?
        .with_context(|| format!("VirtualCluster {}/{} not found", args.namespace, args.name))?;
    let status = vc.status.unwrap_or_default();
    let Some(secret_name) = status.kubeconfig_secret else {
        bail!(
            "VirtualCluster {}/{} has no kubeconfig yet (phase {}); try `kubectl vc create {} --wait`",
            args.namespace,
            args.name,
            phase_name(status.phase),
            args.name
        );
    };
    let secrets: Api<Secret> = Api::namespaced(sup.client.clone(), &args.namespace);
    let secret = secrets.get(&secret_name).await.with_context(|| format!("reading the Secret {secret_name}"))?;
    let bytes = secret
        .data
        .and_then(|d| d.get("kubeconfig").cloned())
        .with_context(|| format!("the Secret {secret_name} has no key `kubeconfig`"))?;
    let text = String::from_utf8(bytes.0).context("the kubeconfig is not UTF-8")?;
    match (&args.merge, &args.context) {
        (None, None) => {
            crate::out!("{text}");
            Ok(())
        }
        (None, Some(context)) => {
            crate::out!("{}", rename(&text, context)?);
            Ok(())
        }
        (Some(file), context) => {
            let context = context.clone().unwrap_or_else(|| format!("vc-{}", args.name));
            merge(file, &rename(&text, &context)?, &context)?;
            crate::outln!("merged the kubeconfig of {} into {} as context {context}", args.name, file.display());
            crate::outln!("  kubectl --kubeconfig {} --context {context} get namespaces", file.display());
            Ok(())
        }
    }
}

/// The tenant kubeconfig with its one cluster, user and context named `name`.
pub fn rename(text: &str, name: &str) -> Result<String> {
    let mut config: serde_json::Value = serde_saphyr::from_str(text).context("the kubeconfig is not YAML")?;
    for (list, field) in [("clusters", "name"), ("users", "name"), ("contexts", "name")] {
        if let Some(items) = config.get_mut(list).and_then(|v| v.as_array_mut()) {
            for item in items {
                item[field] = name.into();
            }
        }
    }
    if let Some(items) = config.get_mut("contexts").and_then(|v| v.as_array_mut()) {
        for item in items {
            item["context"]["cluster"] = name.into();
            item["context"]["user"] = name.into();
        }
    }
    config["current-context"] = name.into();
    Ok(serde_saphyr::to_string(&config)?)
}

/// Merges a renamed tenant kubeconfig into `file`: entries of the same names are replaced,
/// the others kept; the current context is set only when the file had none.
pub fn merge(file: &Path, tenant: &str, context: &str) -> Result<()> {
    let tenant: serde_json::Value = serde_saphyr::from_str(tenant)?;
    let mut target: serde_json::Value = match std::fs::read_to_string(file) {
        Ok(text) if !text.trim().is_empty() => {
            serde_saphyr::from_str(&text).with_context(|| format!("{} is not a kubeconfig", file.display()))?
        }
        Ok(_) => serde_json::json!({}),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    if !target.is_object() {
        bail!("{} is not a kubeconfig", file.display());
    }
    target["apiVersion"] = "v1".into();
    target["kind"] = "Config".into();
    for list in ["clusters", "users", "contexts"] {
        let mut items: Vec<serde_json::Value> = target[list].as_array().cloned().unwrap_or_default();
        items.retain(|item| item["name"] != context);
        items.extend(tenant[list].as_array().cloned().unwrap_or_default());
        target[list] = items.into();
    }
    if target["current-context"].as_str().is_none_or(str::is_empty) {
        target["current-context"] = context.into();
    }
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    crate::state::write_file(file, serde_saphyr::to_string(&target)?.as_bytes(), true)
}

/// `kubectl-vc delete`.
pub async fn delete(sup: &Super, args: &DeleteArgs) -> Result<()> {
    let vcs: Api<VirtualCluster> = Api::namespaced(sup.client.clone(), &args.namespace);
    match vcs.delete(&args.name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {
            bail!("VirtualCluster {}/{} not found", args.namespace, args.name)
        }
        Err(e) => return Err(e).context("deleting the VirtualCluster"),
    }
    crate::outln!("virtualcluster {}/{} deleted", args.namespace, args.name);
    if !args.wait {
        return Ok(());
    }
    let started = Instant::now();
    let mut shown = false;
    loop {
        let Some(vc) = vcs.get_opt(&args.name).await.context("reading the VirtualCluster")? else {
            crate::outln!("  {:<13} {:>6.1}s", "Gone", started.elapsed().as_secs_f64());
            return Ok(());
        };
        if !shown && vc.status.as_ref().and_then(|s| s.phase) == Some(Phase::Deleting) {
            shown = true;
            crate::outln!("  {:<13} {:>6.1}s", "Deleting", started.elapsed().as_secs_f64());
        }
        if started.elapsed() >= args.timeout {
            bail!("VirtualCluster {}/{} is still there after {:?}", args.namespace, args.name, args.timeout);
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tables_and_ages() {
        let rows = vec![vec!["NAME".to_string(), "PHASE".into()], vec!["blue".into(), "Running".into()]];
        assert_eq!(table(&rows), "NAME   PHASE\nblue   Running\n");
        assert_eq!(age(45), "45s");
        assert_eq!(age(200), "3m20s");
        assert_eq!(age(7200), "120m");
        assert_eq!(age(3 * 86_400), "3d");
    }

    #[test]
    fn kubeconfigs_rename_and_merge() {
        let pair = nestor_api::pki::Pair { cert_pem: "c".into(), key_pem: "k".into() };
        let tenant = nestor_api::pki::kubeconfig("https://127.0.0.1:1", "tenant", "ca", &pair);
        let renamed = rename(&tenant, "vc-blue").unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&renamed).unwrap();
        assert_eq!(value["contexts"][0]["context"]["user"], "vc-blue");
        assert_eq!(value["current-context"], "vc-blue");

        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("config");
        merge(&file, &renamed, "vc-blue").unwrap();
        merge(&file, &rename(&tenant, "vc-green").unwrap(), "vc-green").unwrap();
        merge(&file, &renamed, "vc-blue").unwrap();
        let merged: serde_json::Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(merged["contexts"].as_array().unwrap().len(), 2);
        assert_eq!(merged["current-context"], "vc-blue", "the first one merged stays current");
    }
}
