//! The two Secrets of a tenant, in its VirtualCluster's namespace and owned by it (garbage
//! collection removes them with it): `<name>-pki`, made once and renewed, and
//! `<name>-kubeconfig`, the admin kubeconfig the syncer and users read under `kubeconfig`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams, Preconditions};
use kube::{Resource, ResourceExt};
use nestor_api::VirtualCluster;
use tracing::info;

use crate::pki::{self, TenantPki};
use crate::COMPONENT;

/// The label on every Secret the manager writes; its watch selects on it.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The selector of the Secrets the manager writes.
pub fn managed_selector() -> String {
    format!("{MANAGED_BY_LABEL}={COMPONENT}")
}

/// The Secret key of the admin kubeconfig, the one the syncer reads.
pub const KUBECONFIG_KEY: &str = "kubeconfig";

/// Why a Secret could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read Secret {0}: {1}")]
    Read(String, #[source] kube::Error),
    #[error("failed to create Secret {0}: {1}")]
    Create(String, #[source] kube::Error),
    #[error("failed to update Secret {0}: {1}")]
    Update(String, #[source] kube::Error),
    #[error("failed to delete the stale Secret {0}: {1}")]
    DeleteStale(String, #[source] kube::Error),
    #[error("Secret {0} exists and is not managed by {COMPONENT}; delete or rename it")]
    NotManaged(String),
    #[error(transparent)]
    Pki(#[from] pki::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The name of the PKI Secret of VirtualCluster `name`.
pub fn pki_secret_name(name: &str) -> String {
    format!("{name}-pki")
}

/// The name of the kubeconfig Secret of VirtualCluster `name`.
pub fn kubeconfig_secret_name(name: &str) -> String {
    format!("{name}-kubeconfig")
}

/// The tenant's PKI: read from its Secret, made and stored when there is none (or it is
/// incomplete), and renewed there when a certificate is due.
pub async fn ensure_pki(client: &kube::Client, vc: &VirtualCluster, key: &str) -> Result<TenantPki> {
    let name = pki_secret_name(&vc.name_any());
    let api = api(client, vc);
    let existing = owned(&api, &name, vc).await?;
    let stored = existing.as_ref().and_then(|s| s.data.as_ref()).and_then(TenantPki::from_data);
    match (existing, stored) {
        (Some(secret), Some(pki)) => match pki.renewed(key, SystemTime::now())? {
            None => Ok(pki),
            Some(renewed) => {
                info!(tenant = %key, "renewing certificates that are due");
                replace(&api, secret, renewed.to_data()).await?;
                Ok(renewed)
            }
        },
        (Some(secret), None) => {
            let pki = TenantPki::generate(key)?;
            replace(&api, secret, pki.to_data()).await?;
            Ok(pki)
        }
        (None, _) => {
            let pki = TenantPki::generate(key)?;
            // A 409 means another writer got there first (a manager that just stopped): the
            // retry reads theirs, so a tenant never has two CAs.
            api.create(&PostParams::default(), &new_secret(vc, &name, pki.to_data()))
                .await
                .map_err(|e| Error::Create(name, e))?;
            Ok(pki)
        }
    }
}

/// Writes the admin kubeconfig into `<name>-kubeconfig` unless it already holds exactly that.
pub async fn ensure_kubeconfig(client: &kube::Client, vc: &VirtualCluster, kubeconfig: &str) -> Result<String> {
    let name = kubeconfig_secret_name(&vc.name_any());
    let api = api(client, vc);
    let data: BTreeMap<String, ByteString> =
        [(KUBECONFIG_KEY.to_string(), ByteString(kubeconfig.as_bytes().to_vec()))].into();
    match owned(&api, &name, vc).await? {
        Some(secret) if secret.data.as_ref() == Some(&data) => {}
        Some(secret) => replace(&api, secret, data).await?,
        None => {
            api.create(&PostParams::default(), &new_secret(vc, &name, data))
                .await
                .map_err(|e| Error::Create(name.clone(), e))?;
        }
    }
    Ok(name)
}

fn api(client: &kube::Client, vc: &VirtualCluster) -> Api<Secret> {
    Api::namespaced(client.clone(), &vc.namespace().unwrap_or_default())
}

/// The Secret `name` if it belongs to `vc`. One of ours left by a deleted VirtualCluster of the
/// same name (garbage collection has not got to it yet) is deleted, so the new tenant never
/// inherits its predecessor's CA; one that is not ours is an error.
async fn owned(api: &Api<Secret>, name: &str, vc: &VirtualCluster) -> Result<Option<Secret>> {
    let Some(secret) = api.get_opt(name).await.map_err(|e| Error::Read(name.to_string(), e))? else {
        return Ok(None);
    };
    let ours = secret.labels().get(MANAGED_BY_LABEL).map(String::as_str) == Some(COMPONENT);
    if !ours {
        return Err(Error::NotManaged(name.to_string()));
    }
    let uid = vc.uid().unwrap_or_default();
    if secret.owner_references().iter().any(|o| o.uid == uid) {
        return Ok(Some(secret));
    }
    info!(secret = %name, "deleting a Secret left by an earlier VirtualCluster of the same name");
    let params = DeleteParams {
        preconditions: Some(Preconditions { uid: secret.uid(), resource_version: None }),
        ..Default::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(None),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
        Err(e) => Err(Error::DeleteStale(name.to_string(), e)),
    }
}

fn new_secret(vc: &VirtualCluster, name: &str, data: BTreeMap<String, ByteString>) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: vc.namespace(),
            labels: Some([(MANAGED_BY_LABEL.to_string(), COMPONENT.to_string())].into()),
            owner_references: vc.controller_owner_ref(&()).map(|o| vec![o]),
            ..Default::default()
        },
        type_: Some("Opaque".to_string()),
        data: Some(data),
        ..Default::default()
    }
}

/// Replaces a Secret's data; its resourceVersion makes a concurrent change fail (409) rather
/// than be lost.
async fn replace(api: &Api<Secret>, mut secret: Secret, data: BTreeMap<String, ByteString>) -> Result<()> {
    let name = secret.name_any();
    secret.data = Some(data);
    secret.string_data = None;
    api.replace(&name, &PostParams::default(), &secret).await.map_err(|e| Error::Update(name, e))?;
    Ok(())
}
