//! The syncer's Prometheus metrics, and the small HTTP server of `/metrics`, `/healthz` and
//! `/readyz`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tracing::debug;

use crate::Shared;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Registry,
    queue_depth: Family<Labels, Gauge>,
    queue_wait: Family<Labels, Histogram>,
    sync_duration: Family<Labels, Histogram>,
    objects: Family<Labels, Gauge>,
    repairs: Family<Labels, Counter>,
    conflicts: Family<Labels, Counter>,
    watch_errors: Family<Labels, Counter>,
    leader: Gauge,
}

fn histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("nestor_syncer");
        let m = Metrics {
            queue_depth: Family::default(),
            queue_wait: Family::new_with_constructor(histogram),
            sync_duration: Family::new_with_constructor(histogram),
            objects: Family::default(),
            repairs: Family::default(),
            conflicts: Family::default(),
            watch_errors: Family::default(),
            leader: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("queue_depth", "Items waiting in a tenant's queue.", m.queue_depth.clone());
        registry.register("queue_wait_seconds", "Time items waited in a tenant's queue.", m.queue_wait.clone());
        registry.register(
            "sync_duration_seconds",
            "Time to sync one item, per tenant and resource.",
            m.sync_duration.clone(),
        );
        registry.register(
            "objects",
            "Tenant objects of a synced resource, as the last patrol counted.",
            m.objects.clone(),
        );
        registry.register("patrol_repairs", "Differences the patrol found and queued, per reason.", m.repairs.clone());
        registry.register(
            "ownership_conflicts",
            "Super objects left alone because they are not the tenant's.",
            m.conflicts.clone(),
        );
        registry.register("watch_errors", "Failed watches of a tenant's control plane.", m.watch_errors.clone());
        registry.register("leader", "1 while this syncer holds the leader Lease.", m.leader.clone());
        Metrics { registry, ..m }
    }

    pub fn queue_wait(&self, tenant: &str, waited: Duration) {
        self.queue_wait.get_or_create(&vec![("tenant", tenant.to_string())]).observe(waited.as_secs_f64());
    }

    pub fn synced(&self, tenant: &str, resource: &str, took: Duration) {
        let labels = vec![("tenant", tenant.to_string()), ("resource", resource.to_string())];
        self.sync_duration.get_or_create(&labels).observe(took.as_secs_f64());
    }

    pub fn objects(&self, tenant: &str, resource: &str, count: usize) {
        let labels = vec![("tenant", tenant.to_string()), ("resource", resource.to_string())];
        self.objects.get_or_create(&labels).set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub fn repair(&self, tenant: &str, resource: &str, reason: &str) {
        let labels =
            vec![("tenant", tenant.to_string()), ("resource", resource.to_string()), ("reason", reason.to_string())];
        self.repairs.get_or_create(&labels).inc();
    }

    pub fn conflict(&self, tenant: &str) {
        self.conflicts.get_or_create(&vec![("tenant", tenant.to_string())]).inc();
    }

    pub fn watch_error(&self, tenant: &str) {
        self.watch_errors.get_or_create(&vec![("tenant", tenant.to_string())]).inc();
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    fn encode(&self, shared: &Shared) -> String {
        self.queue_depth.clear();
        for (tenant, depth) in shared.queue.depths() {
            self.queue_depth.get_or_create(&vec![("tenant", tenant)]).set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Serves `/metrics`, `/healthz` (the process runs) and `/readyz` (it leads, or stands by
/// ready to).
pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(answer(&shared, req.uri().path())) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                debug!(error = %e, "metrics connection ended");
            }
        });
    }
}

fn answer(shared: &Shared, path: &str) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/metrics" => (
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            shared.metrics.encode(shared),
        ),
        "/healthz" | "/livez" | "/readyz" => (StatusCode::OK, "text/plain", "ok".to_string()),
        _ => (StatusCode::NOT_FOUND, "text/plain", "404 page not found\n".to_string()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}
