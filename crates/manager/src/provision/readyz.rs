//! Asking a tenant API server whether it is ready (`GET /readyz` over HTTPS, verified against
//! the tenant CA, as the tenant's admin), as kubeadm waits for a control plane before it calls
//! it up.
//!
//! One small HTTP/1.1 request on rustls rather than a kube client: a kube client logs every
//! refused connection and every 500 as an error, and a starting API server answers with
//! plenty of both.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tracing::debug;

use super::{Error, Result};
use crate::pki::TenantPki;

/// How often readiness is asked while waiting: a local API server is up in well under a
/// second, so a coarse poll would dominate the create-to-Running time.
const POLL: Duration = Duration::from_millis(50);
/// How long one question may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// Asks one tenant API server whether it is ready.
pub struct Probe {
    /// `host:port` to connect to.
    addr: String,
    server_name: ServerName<'static>,
    connector: TlsConnector,
}

impl Probe {
    /// A probe of the API server at `server` (an `https://host:port` URL).
    pub fn new(server: &str, pki: &TenantPki) -> Result<Probe> {
        let bad = |what: &str, e: &dyn std::fmt::Display| Error::Client(format!("{what}: {e}"));
        let uri = server.parse::<http::Uri>().map_err(|e| bad("server URL", &e))?;
        let host = uri.host().ok_or_else(|| Error::Client(format!("server URL {server} has no host")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let addr = format!("{}:{}", uri.host().unwrap_or_default(), uri.port_u16().unwrap_or(443));
        let server_name = ServerName::try_from(host).map_err(|e| bad("server name", &e))?;

        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pki.ca.cert_pem.as_bytes()) {
            roots.add(cert.map_err(|e| bad("tenant CA", &e))?).map_err(|e| bad("tenant CA", &e))?;
        }
        let chain = CertificateDer::pem_slice_iter(pki.admin.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad("admin certificate", &e))?;
        let key = PrivateKeyDer::from_pem_slice(pki.admin.key_pem.as_bytes()).map_err(|e| bad("admin key", &e))?;
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("TLS", &e))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| bad("admin certificate", &e))?;
        Ok(Probe { addr, server_name, connector: TlsConnector::from(Arc::new(config)) })
    }

    /// Whether `/readyz` answers 200 now.
    pub async fn is_ready(&self) -> bool {
        matches!(tokio::time::timeout(ASK_TIMEOUT, self.ask()).await, Ok(Ok(200)))
    }

    async fn ask(&self) -> std::io::Result<u16> {
        let tcp = tokio::net::TcpStream::connect(self.addr.as_str()).await?;
        let mut tls = self.connector.connect(self.server_name.clone(), tcp).await?;
        let request = format!("GET /readyz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        tls.write_all(request.as_bytes()).await?;
        // The status line is all we need: "HTTP/1.1 200 OK".
        let mut head = Vec::with_capacity(64);
        let mut buf = [0u8; 256];
        while !head.contains(&b'\n') && head.len() < 1024 {
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        Ok(line.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0))
    }

    /// Polls `/readyz` until it answers 200 (true) or `timeout` passes (false); stops early,
    /// with false, once `gone` says the server's process is dead.
    pub async fn wait(&self, timeout: Duration, mut gone: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let answer = tokio::time::timeout(ASK_TIMEOUT, self.ask()).await;
            if matches!(answer, Ok(Ok(200))) {
                return true;
            }
            if gone() || Instant::now() >= deadline {
                let last = match answer {
                    Ok(Ok(code)) => format!("status {code}"),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "no answer in time".to_string(),
                };
                debug!(server = %self.addr, last, "/readyz did not pass");
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
