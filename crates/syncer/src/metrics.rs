//! The syncer's Prometheus metrics, served with `/healthz` and `/readyz` by the shared server
//! of `nestor_api::runtime::health`.

use std::time::Duration;

use nestor_api::runtime::health::{self, histogram};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::Shared;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Registry,
    queue_depth: Family<Labels, Gauge>,
    pods_held: Family<Labels, Gauge>,
    queue_wait: Family<Labels, Histogram>,
    sync_duration: Family<Labels, Histogram>,
    objects: Family<Labels, Gauge>,
    repairs: Family<Labels, Counter>,
    conflicts: Family<Labels, Counter>,
    watch_errors: Family<Labels, Counter>,
    leader: Gauge,
    tenants: Family<Labels, Gauge>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("nestor_syncer");
        let m = Metrics {
            queue_depth: Family::default(),
            pods_held: Family::default(),
            queue_wait: Family::new_with_constructor(histogram),
            sync_duration: Family::new_with_constructor(histogram),
            objects: Family::default(),
            repairs: Family::default(),
            conflicts: Family::default(),
            watch_errors: Family::default(),
            leader: Gauge::default(),
            tenants: Family::default(),
            registry: Registry::default(),
        };
        registry.register("queue_depth", "Items waiting in a tenant's queue.", m.queue_depth.clone());
        registry.register(
            "pods_held",
            "New pods of a tenant held back while its pods waiting for the super scheduler are at the limit.",
            m.pods_held.clone(),
        );
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
        registry.register(
            "tenants",
            "Tenants being synced; state=\"compared\": every kind listed and compared since the tenant started.",
            m.tenants.clone(),
        );
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
        let tenants = shared.tenants();
        let compared = tenants.iter().filter(|t| t.compared()).count();
        self.pods_held.clear();
        for tenant in &tenants {
            let held = shared.pacing.held(&tenant.key);
            self.pods_held.get_or_create(&vec![("tenant", tenant.key.clone())]).set(i64::try_from(held).unwrap_or(0));
        }
        self.tenants
            .get_or_create(&vec![("state", "running".to_string())])
            .set(i64::try_from(tenants.len()).unwrap_or(0));
        self.tenants.get_or_create(&vec![("state", "compared".to_string())]).set(i64::try_from(compared).unwrap_or(0));
        health::encode(&self.registry)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// `/metrics` and health through the shared server of `nestor_api::runtime::health`; `/readyz`
/// is always ready: a syncer that stands by is ready to lead.
impl nestor_api::runtime::Exposition for Shared {
    fn metrics(&self) -> String {
        self.metrics.encode(self)
    }
}
