//! The small HTTP server every Nestor process runs beside its work: `/metrics` (Prometheus
//! text), `/healthz` and `/livez` (the process runs) and `/readyz`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use tracing::debug;

/// The latency histogram of Nestor's processes: 1 ms to about 16 s.
pub fn histogram() -> prometheus_client::metrics::histogram::Histogram {
    prometheus_client::metrics::histogram::Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 15,
    ))
}

/// A registry in the OpenMetrics text format (empty if encoding fails).
pub fn encode(registry: &prometheus_client::registry::Registry) -> String {
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, registry).is_err() {
        out.clear();
    }
    out
}

/// What a process exposes on its health and metrics server.
pub trait Exposition: Send + Sync + 'static {
    /// The metrics in the OpenMetrics text format.
    fn metrics(&self) -> String;

    /// Whether `/readyz` answers 200 (the default: always).
    fn ready(&self) -> bool {
        true
    }
}

/// The health and metrics server of a process, stopped when dropped.
pub struct Serving {
    /// Where it listens (a free port when asked for port 0).
    pub addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `addr` and serves `source` there in the background; logs `serving metrics addr=...`
/// (tests and tools read the port from that line).
pub async fn start(addr: std::net::SocketAddr, source: Arc<dyn Exposition>) -> std::io::Result<Serving> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(addr = %addr, "serving metrics");
    Ok(Serving { addr, task: tokio::spawn(serve(listener, source)) })
}

/// Serves `/metrics`, `/healthz`, `/livez` and `/readyz` on `listener` until dropped.
pub async fn serve(listener: tokio::net::TcpListener, source: Arc<dyn Exposition>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let source = Arc::clone(&source);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let source = Arc::clone(&source);
                async move { Ok::<_, Infallible>(answer(source.as_ref(), req.uri().path())) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                debug!(error = %e, "metrics connection ended");
            }
        });
    }
}

fn answer(source: &dyn Exposition, path: &str) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/metrics" => (StatusCode::OK, "application/openmetrics-text; version=1.0.0; charset=utf-8", source.metrics()),
        "/healthz" | "/livez" => (StatusCode::OK, "text/plain", "ok".to_string()),
        "/readyz" if source.ready() => (StatusCode::OK, "text/plain", "ok".to_string()),
        "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, "text/plain", "not ready".to_string()),
        _ => (StatusCode::NOT_FOUND, "text/plain", "404 page not found\n".to_string()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}
