//! The certificates and keys of a control plane, generated in memory (no I/O): an ECDSA P-256
//! CA, serving certificates for the API server, client certificates (the admin one in
//! `system:masters`), the service-account signing key pair, and kubeconfigs that embed them.
//! The manager stores them in Secrets; the test harness writes them to files.

use std::time::{Duration, SystemTime};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// Why a certificate could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("not a PEM certificate: {0}")]
    Parse(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A certificate (or public key) and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A certificate authority that signs the other certificates.
#[derive(Debug, Clone)]
pub struct Authority {
    pub pair: Pair,
}

fn not_after(validity: Duration) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + validity
}

fn not_before() -> time::OffsetDateTime {
    // A little in the past: clocks of the machines that check it may lag.
    time::OffsetDateTime::now_utc() - Duration::from_secs(300)
}

impl Authority {
    /// A new self-signed CA named `common_name`, valid for `validity`.
    pub fn generate(common_name: &str, validity: Duration) -> Result<Authority> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.not_before = not_before();
        params.not_after = not_after(validity);
        let cert = params.self_signed(&key)?;
        Ok(Authority { pair: Pair { cert_pem: cert.pem(), key_pem: key.serialize_pem() } })
    }

    /// The CA of an existing certificate and key.
    pub fn from_pair(pair: Pair) -> Authority {
        Authority { pair }
    }

    fn issuer(&self) -> Result<Issuer<'static, KeyPair>> {
        Ok(Issuer::from_ca_cert_pem(&self.pair.cert_pem, KeyPair::from_pem(&self.pair.key_pem)?)?)
    }

    /// A serving certificate for `names` (DNS names or IP addresses), valid for `validity`.
    pub fn serving(&self, common_name: &str, names: &[String], validity: Duration) -> Result<Pair> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = not_before();
        params.not_after = not_after(validity);
        let cert = params.signed_by(&key, &self.issuer()?)?;
        Ok(Pair { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// A client certificate for `user` in `groups` (the organizations, as kube reads them),
    /// valid for `validity`.
    pub fn client(&self, user: &str, groups: &[&str], validity: Duration) -> Result<Pair> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params.distinguished_name.push(DnType::OrganizationName, *group);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = not_before();
        params.not_after = not_after(validity);
        let cert = params.signed_by(&key, &self.issuer()?)?;
        Ok(Pair { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

/// A key pair for signing service-account tokens: `cert_pem` holds the public key (PEM
/// `PUBLIC KEY`), `key_pem` the private key.
pub fn signing_key() -> Result<Pair> {
    let key = KeyPair::generate()?;
    Ok(Pair { cert_pem: key.public_key_pem(), key_pem: key.serialize_pem() })
}

/// When the first certificate in `pem` expires.
pub fn expires(pem: &str) -> Result<SystemTime> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| Error::Parse(e.to_string()))?;
    let cert = parsed.parse_x509().map_err(|e| Error::Parse(e.to_string()))?;
    let seconds = u64::try_from(cert.validity().not_after.timestamp()).unwrap_or(0);
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

/// Whether a certificate is in the last third of its life (or unreadable), the point at which
/// it is renewed, as kubelet renews its own.
pub fn due_for_renewal(pem: &str, validity: Duration, now: SystemTime) -> bool {
    match expires(pem) {
        Ok(at) => at.duration_since(now).map(|left| left < validity / 3).unwrap_or(true),
        Err(_) => true,
    }
}

/// A kubeconfig for `server` whose cluster, user and context are all named after `name`,
/// with the CA and the client certificate embedded.
pub fn kubeconfig(server: &str, name: &str, ca_pem: &str, client: &Pair) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {name}-admin\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}-admin\ncurrent-context: {name}\n",
        ca = b64(ca_pem),
        cert = b64(&client.cert_pem),
        key = b64(&client.key_pem),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn certificates_chain_to_the_authority_and_carry_names() {
        let ca = Authority::generate("tenant-ca", 365 * DAY).unwrap();
        let serving =
            ca.serving("apiserver", &["127.0.0.1".into(), "kubernetes.default.svc".into()], 30 * DAY).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(serving.cert_pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        let (_, ca_pem) = x509_parser::pem::parse_x509_pem(ca.pair.cert_pem.as_bytes()).unwrap();
        let ca_cert = ca_pem.parse_x509().unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
        let sans = format!("{:?}", cert.subject_alternative_name().unwrap().unwrap().value.general_names);
        assert!(
            sans.contains("DNSName(\"kubernetes.default.svc\")") && sans.contains("IPAddress([127, 0, 0, 1])"),
            "{sans}"
        );

        let admin = ca.client("nestor-admin", &["system:masters"], 30 * DAY).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(admin.cert_pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        assert_eq!(cert.subject().iter_common_name().next().unwrap().as_str().unwrap(), "nestor-admin");
        assert_eq!(cert.subject().iter_organization().next().unwrap().as_str().unwrap(), "system:masters");
    }

    #[test]
    fn renewal_in_the_last_third() {
        let ca = Authority::generate("ca", 30 * DAY).unwrap();
        let now = SystemTime::now();
        assert!(!due_for_renewal(&ca.pair.cert_pem, 30 * DAY, now));
        assert!(due_for_renewal(&ca.pair.cert_pem, 30 * DAY, now + 21 * DAY));
        assert!(due_for_renewal("garbage", 30 * DAY, now));
        let left = expires(&ca.pair.cert_pem).unwrap().duration_since(now).unwrap();
        assert!(left > 29 * DAY && left <= 30 * DAY);
    }

    #[test]
    fn kubeconfig_embeds_everything() {
        let ca = Authority::generate("ca", DAY).unwrap();
        let admin = ca.client("admin", &["system:masters"], DAY).unwrap();
        let text = kubeconfig("https://127.0.0.1:6443", "blue", &ca.pair.cert_pem, &admin);
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(value["clusters"][0]["cluster"]["server"], "https://127.0.0.1:6443");
        assert_eq!(value["current-context"], "blue");
        let b64 = value["users"][0]["user"]["client-certificate-data"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), admin.cert_pem);
    }
}
