//! The controllers' Prometheus metrics (`nestor_controllers_*`), served with `/healthz` and
//! `/readyz` by the shared server of `nestor_api::runtime::health`.

use std::sync::Mutex;
use std::time::Duration;

use nestor_api::runtime::health::{self, histogram};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Counts cached objects of a kind at scrape time.
type Counting = Box<dyn Fn() -> usize + Send + Sync>;

/// The registry and every metric in it.
pub struct Metrics {
    registry: Registry,
    sync_duration: Family<Labels, Histogram>,
    sync_errors: Family<Labels, Counter>,
    in_flight: Family<Labels, Gauge>,
    watch_errors: Family<Labels, Counter>,
    cached: Family<Labels, Gauge>,
    leader: Gauge,
    counters: Mutex<Vec<(&'static str, Counting)>>,
}

/// Lowers a controller's in-flight gauge when its reconcile ends, however it ends.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("nestor_controllers");
        let m = Metrics {
            registry: Registry::default(),
            sync_duration: Family::new_with_constructor(histogram),
            sync_errors: Family::default(),
            in_flight: Family::default(),
            watch_errors: Family::default(),
            cached: Family::default(),
            leader: Gauge::default(),
            counters: Mutex::new(Vec::new()),
        };
        registry.register(
            "sync_duration_seconds",
            "Time to reconcile one object, per controller.",
            m.sync_duration.clone(),
        );
        registry.register(
            "sync_errors",
            "Reconciles that failed and were retried, per controller.",
            m.sync_errors.clone(),
        );
        registry.register(
            "workqueue_in_flight",
            "Objects being reconciled now, per controller (kube-runtime does not expose its queue length).",
            m.in_flight.clone(),
        );
        registry.register("watch_errors", "Failed or restarted watches, per kind.", m.watch_errors.clone());
        registry.register("cached_objects", "Objects in the shared cache, per kind.", m.cached.clone());
        registry.register("leader", "1 while this process holds the leader Lease.", m.leader.clone());
        Metrics { registry, ..m }
    }

    /// Counts one reconcile of `controller` now running, until the guard drops.
    pub fn in_flight(&self, controller: &'static str) -> InFlight {
        let gauge = self.in_flight.get_or_create(&vec![("controller", controller.to_string())]).clone();
        gauge.inc();
        InFlight(gauge)
    }

    /// Records one finished reconcile.
    pub fn reconciled(&self, controller: &'static str, took: Duration, ok: bool) {
        let labels = vec![("controller", controller.to_string())];
        self.sync_duration.get_or_create(&labels).observe(took.as_secs_f64());
        if !ok {
            self.sync_errors.get_or_create(&labels).inc();
        }
    }

    /// Records a failed watch of `kind`.
    pub fn watch_error(&self, kind: &'static str) {
        self.watch_errors.get_or_create(&vec![("kind", kind.to_string())]).inc();
    }

    /// Reports the size of `kind`'s cache at every scrape.
    pub fn count_cached(&self, kind: &'static str, count: Counting) {
        if let Ok(mut counters) = self.counters.lock() {
            counters.push((kind, count));
        }
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    fn encode(&self) -> String {
        if let Ok(counters) = self.counters.lock() {
            for (kind, count) in counters.iter() {
                let n = i64::try_from(count()).unwrap_or(i64::MAX);
                self.cached.get_or_create(&vec![("kind", kind.to_string())]).set(n);
            }
        }
        health::encode(&self.registry)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl nestor_api::runtime::Exposition for Metrics {
    fn metrics(&self) -> String {
        self.encode()
    }
}
