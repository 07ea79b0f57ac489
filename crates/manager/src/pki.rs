//! A tenant's PKI: the CA, the API server's serving certificate, the admin client certificate
//! and the service-account signing key pair, made with `nestor_api::pki`, kept in the Secret
//! `<name>-pki` and renewed in the last third of their lives.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use k8s_openapi::ByteString;
use nestor_api::pki::{self as certs, Authority, Pair};

/// Why a tenant's PKI could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to generate the tenant CA: {0}")]
    GenerateCa(#[source] certs::Error),
    #[error("failed to generate the API server's serving certificate: {0}")]
    GenerateServing(#[source] certs::Error),
    #[error("failed to generate the admin client certificate: {0}")]
    GenerateAdmin(#[source] certs::Error),
    #[error("failed to generate the service-account signing key: {0}")]
    GenerateSigningKey(#[source] certs::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long the tenant CA is valid; renewing it replaces every certificate and kubeconfig.
pub const CA_VALIDITY: Duration = Duration::from_secs(3_650 * 86_400);
/// How long the serving and admin certificates are valid.
pub const LEAF_VALIDITY: Duration = Duration::from_secs(365 * 86_400);
/// The admin user of every tenant, in the group kube's authorizers let do anything.
pub const ADMIN_USER: &str = "nestor-admin";
pub const ADMIN_GROUP: &str = "system:masters";

/// The names the API server of tenant `key` answers to: on this machine, as the `kubernetes`
/// Service pods use in a cluster, and as the Service `apiserver` the native provisioner puts in
/// the namespace named after the key.
pub fn serving_names(key: &str) -> Vec<String> {
    let native = [
        "apiserver".to_string(),
        format!("apiserver.{key}"),
        format!("apiserver.{key}.svc"),
        format!("apiserver.{key}.svc.cluster.local"),
    ];
    [
        "127.0.0.1",
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    .into_iter()
    .map(str::to_string)
    .chain(native)
    .collect()
}

/// The keys of the PKI Secret.
mod key {
    pub const CA_CERT: &str = "ca.crt";
    pub const CA_KEY: &str = "ca.key";
    pub const SERVING_CERT: &str = "apiserver.crt";
    pub const SERVING_KEY: &str = "apiserver.key";
    pub const ADMIN_CERT: &str = "admin.crt";
    pub const ADMIN_KEY: &str = "admin.key";
    pub const SA_PUBLIC: &str = "sa.pub";
    pub const SA_KEY: &str = "sa.key";
}

/// The certificates and keys of one tenant control plane (all PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPki {
    pub ca: Pair,
    pub serving: Pair,
    pub admin: Pair,
    /// `cert_pem` holds the public key.
    pub service_account: Pair,
}

impl TenantPki {
    /// A new PKI for the tenant with cluster key `key`.
    pub fn generate(key: &str) -> Result<TenantPki> {
        let ca = Authority::generate(&format!("{key}-ca"), CA_VALIDITY).map_err(Error::GenerateCa)?;
        let serving = serving(&ca, key)?;
        let admin = admin(&ca)?;
        let service_account = certs::signing_key().map_err(Error::GenerateSigningKey)?;
        Ok(TenantPki { ca: ca.pair, serving, admin, service_account })
    }

    /// The PKI stored in a Secret's data; None when a piece is missing or not UTF-8.
    pub fn from_data(data: &BTreeMap<String, ByteString>) -> Option<TenantPki> {
        let get = |k: &str| data.get(k).and_then(|v| String::from_utf8(v.0.clone()).ok()).filter(|s| !s.is_empty());
        let pair = |cert: &str, key: &str| Some(Pair { cert_pem: get(cert)?, key_pem: get(key)? });
        Some(TenantPki {
            ca: pair(key::CA_CERT, key::CA_KEY)?,
            serving: pair(key::SERVING_CERT, key::SERVING_KEY)?,
            admin: pair(key::ADMIN_CERT, key::ADMIN_KEY)?,
            service_account: pair(key::SA_PUBLIC, key::SA_KEY)?,
        })
    }

    /// The Secret data holding this PKI.
    pub fn to_data(&self) -> BTreeMap<String, ByteString> {
        let entries = [
            (key::CA_CERT, &self.ca.cert_pem),
            (key::CA_KEY, &self.ca.key_pem),
            (key::SERVING_CERT, &self.serving.cert_pem),
            (key::SERVING_KEY, &self.serving.key_pem),
            (key::ADMIN_CERT, &self.admin.cert_pem),
            (key::ADMIN_KEY, &self.admin.key_pem),
            (key::SA_PUBLIC, &self.service_account.cert_pem),
            (key::SA_KEY, &self.service_account.key_pem),
        ];
        entries.into_iter().map(|(k, v)| (k.to_string(), ByteString(v.clone().into_bytes()))).collect()
    }

    /// This PKI with what is due for renewal at `now` made anew, or None when nothing is due.
    /// A new CA means new leaf certificates too; the service-account key stays, so tokens
    /// issued before stay valid.
    pub fn renewed(&self, key: &str, now: SystemTime) -> Result<Option<TenantPki>> {
        if certs::due_for_renewal(&self.ca.cert_pem, CA_VALIDITY, now) {
            let fresh = TenantPki::generate(key)?;
            return Ok(Some(TenantPki { service_account: self.service_account.clone(), ..fresh }));
        }
        let serving_due = certs::due_for_renewal(&self.serving.cert_pem, LEAF_VALIDITY, now);
        let admin_due = certs::due_for_renewal(&self.admin.cert_pem, LEAF_VALIDITY, now);
        if !serving_due && !admin_due {
            return Ok(None);
        }
        let ca = Authority::from_pair(self.ca.clone());
        let mut next = self.clone();
        if serving_due {
            next.serving = serving(&ca, key)?;
        }
        if admin_due {
            next.admin = admin(&ca)?;
        }
        Ok(Some(next))
    }

    /// The admin kubeconfig for the API server at `server`; cluster, user and context are named
    /// after `name`.
    pub fn kubeconfig(&self, server: &str, name: &str) -> String {
        certs::kubeconfig(server, name, &self.ca.cert_pem, &self.admin)
    }
}

fn serving(ca: &Authority, key: &str) -> Result<Pair> {
    ca.serving("nestor-apiserver", &serving_names(key), LEAF_VALIDITY).map_err(Error::GenerateServing)
}

fn admin(ca: &Authority) -> Result<Pair> {
    ca.client(ADMIN_USER, &[ADMIN_GROUP], LEAF_VALIDITY).map_err(Error::GenerateAdmin)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn days(n: u64) -> Duration {
        Duration::from_secs(n * 86_400)
    }

    #[test]
    fn round_trips_through_secret_data() {
        let pki = TenantPki::generate("blue-1234abcd").unwrap();
        let data = pki.to_data();
        assert_eq!(data.len(), 8);
        assert_eq!(TenantPki::from_data(&data), Some(pki.clone()));
        let mut incomplete = data.clone();
        incomplete.remove("admin.key");
        assert_eq!(TenantPki::from_data(&incomplete), None);
        assert!(pki.service_account.cert_pem.contains("PUBLIC KEY"));
    }

    #[test]
    fn renews_only_what_is_due() {
        let pki = TenantPki::generate("blue-1234abcd").unwrap();
        let now = SystemTime::now();
        assert_eq!(pki.renewed("blue-1234abcd", now).unwrap(), None);

        // Nine months on, the one-year leaves are in their last third; the CA is not.
        let later = pki.renewed("blue-1234abcd", now + days(270)).unwrap().unwrap();
        assert_eq!(later.ca, pki.ca);
        assert_ne!(later.serving, pki.serving);
        assert_ne!(later.admin, pki.admin);
        assert_eq!(later.service_account, pki.service_account);

        // Seven years on, the CA itself is due: everything signed anew, the signing key kept.
        let much_later = pki.renewed("blue-1234abcd", now + days(7 * 365)).unwrap().unwrap();
        assert_ne!(much_later.ca, pki.ca);
        assert_ne!(much_later.admin, pki.admin);
        assert_eq!(much_later.service_account, pki.service_account);
    }

    #[test]
    fn kubeconfig_names_the_server() {
        let pki = TenantPki::generate("k").unwrap();
        let text = pki.kubeconfig("https://127.0.0.1:7443", "blue");
        assert!(text.contains("server: https://127.0.0.1:7443"));
        assert!(text.contains("current-context: blue"));
    }
}
