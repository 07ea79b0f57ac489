//! TLS: the serving certificate (given, or self-signed into `--cert-dir`), client
//! certificate verification against `--client-ca-file`, ALPN for HTTP/2 and HTTP/1.1.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Writes a self-signed serving certificate for `hosts` into `dir` unless one is there,
/// as kube-apiserver does with `--cert-dir`; answers the (cert, key) paths.
pub fn self_signed(dir: &Path, hosts: &[String]) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cert_path = dir.join("apiserver.crt");
    let key_path = dir.join("apiserver.key");
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create cert dir {}", dir.display()))?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(hosts.to_vec())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "nestor-apiserver");
    let cert = params.self_signed(&key)?;
    std::fs::write(&cert_path, cert.pem())?;
    std::fs::write(&key_path, key.serialize_pem())?;
    Ok((cert_path, key_path))
}

/// The names a serving certificate covers by default.
pub fn default_hosts(bind: IpAddr, service_ip: IpAddr) -> Vec<String> {
    let mut hosts: Vec<String> = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    hosts.push("127.0.0.1".into());
    hosts.push(service_ip.to_string());
    if !bind.is_unspecified() && !bind.is_loopback() {
        hosts.push(bind.to_string());
    }
    hosts
}

/// Builds the rustls server configuration.
pub fn server_config(cert: &Path, key: &Path, client_ca: Option<&Path>) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("failed to read {}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("bad certificate in {}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow!("bad private key in {}: {e}", key.display()))?;
    let builder =
        rustls::ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca).with_context(|| format!("failed to read {}", ca.display()))? {
                roots.add(c.map_err(|e| anyhow!("bad CA certificate in {}: {e}", ca.display()))?)?;
            }
            // Client certificates are optional: requests without one use tokens or anonymous.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
