//! A throw-away PKI: a CA, a serving certificate for 127.0.0.1, and client certificates.

use std::path::{Path, PathBuf};

use anyhow::Result;
use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// The CA and serving certificate of one test cluster.
pub struct Pki {
    dir: PathBuf,
    ca_pem: String,
    ca_key_pem: String,
}

impl Pki {
    /// Reuses the CA in `dir` when there is one (so kubeconfigs stay valid across runs),
    /// else generates a new PKI.
    pub fn load_or_generate(dir: &Path) -> Result<Self> {
        let (ca, key) = (dir.join("ca.crt"), dir.join("ca.key"));
        if ca.is_file() && key.is_file() && dir.join("serving.crt").is_file() {
            let ca_pem = std::fs::read_to_string(ca)?;
            let ca_key_pem = std::fs::read_to_string(key)?;
            return Ok(Pki { dir: dir.to_path_buf(), ca_pem, ca_key_pem });
        }
        Self::generate(dir)
    }

    /// Writes `ca.crt`, `ca.key`, `serving.crt` and `serving.key` into `dir`.
    pub fn generate(dir: &Path) -> Result<Self> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.distinguished_name.push(DnType::CommonName, "nestor-test-ca");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let pki = Pki { dir: dir.to_path_buf(), ca_pem: ca_cert.pem(), ca_key_pem: ca_key.serialize_pem() };
        std::fs::write(dir.join("ca.crt"), &pki.ca_pem)?;
        std::fs::write(dir.join("ca.key"), &pki.ca_key_pem)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
        params.distinguished_name.push(DnType::CommonName, "nestor-apiserver");
        let cert = params.signed_by(&key, &pki.issuer()?)?;
        std::fs::write(dir.join("serving.crt"), cert.pem())?;
        std::fs::write(dir.join("serving.key"), key.serialize_pem())?;
        Ok(pki)
    }

    fn issuer(&self) -> Result<Issuer<'_, KeyPair>> {
        Ok(Issuer::from_ca_cert_pem(&self.ca_pem, KeyPair::from_pem(&self.ca_key_pem)?)?)
    }

    /// The CA certificate (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The folder the PKI is written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A client certificate (PEM cert, PEM key) for `user` in `groups`.
    pub fn client(&self, user: &str, groups: &[&str]) -> Result<(String, String)> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        for g in groups {
            params.distinguished_name.push(DnType::OrganizationName, *g);
        }
        let cert = params.signed_by(&key, &self.issuer()?)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// A kubeconfig with embedded certificates.
    pub fn kubeconfig(&self, server: &str, name: &str, cert: &str, key: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let user = format!("client-certificate-data: {}\n    client-key-data: {}", b64(cert), b64(key));
        self.kubeconfig_with(server, name, &user)
    }

    /// A kubeconfig whose user presents a bearer token.
    pub fn token_kubeconfig(&self, server: &str, name: &str, token: &str) -> String {
        self.kubeconfig_with(server, name, &format!("token: {token}"))
    }

    fn kubeconfig_with(&self, server: &str, name: &str, user: &str) -> String {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {name}-admin\n  user:\n    {user}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}-admin\ncurrent-context: {name}\n"
        )
    }
}
