//! The manager's Prometheus metrics, served with `/healthz` and `/readyz` by the shared server
//! of `nestor_api::runtime::health`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use nestor_api::runtime::health;
use nestor_api::Phase;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Every phase, so that a phase nobody is in reads 0 rather than vanishing.
const PHASES: [Phase; 5] = [Phase::Pending, Phase::Provisioning, Phase::Running, Phase::Failed, Phase::Deleting];

/// What the manager counts.
pub struct Metrics {
    registry: Registry,
    provisioning: Histogram,
    tenants: Family<Labels, Gauge>,
    restarts: Family<Labels, Counter>,
    reconcile_errors: Counter,
    leader: Gauge,
    /// The phase of each VirtualCluster by UID, from which `tenants` is counted.
    phases: Mutex<HashMap<String, Phase>>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("nestor_manager");
        let provisioning = Histogram::new(
            // Local tenants start in about a second; StatefulSets with image pulls take minutes.
            prometheus_client::metrics::histogram::exponential_buckets(0.05, 2.0, 14),
        );
        let m = Metrics {
            registry: Registry::default(),
            provisioning,
            tenants: Family::default(),
            restarts: Family::default(),
            reconcile_errors: Counter::default(),
            leader: Gauge::default(),
            phases: Mutex::new(HashMap::new()),
        };
        registry.register(
            "provisioning_duration_seconds",
            "Time from the start of provisioning a VirtualCluster until its API server was ready.",
            m.provisioning.clone(),
        );
        registry.register("tenants", "VirtualClusters by phase.", m.tenants.clone());
        registry.register(
            "process_restarts",
            "Tenant processes found dead and started again, per component.",
            m.restarts.clone(),
        );
        registry.register("reconcile_errors", "Reconciles that failed and were retried.", m.reconcile_errors.clone());
        registry.register("leader", "1 while this manager holds the leader Lease.", m.leader.clone());
        for phase in PHASES {
            m.tenants.get_or_create(&phase_labels(phase)).set(0);
        }
        Metrics { registry, ..m }
    }

    /// A tenant's API server became ready `took` after its provisioning began.
    pub fn provisioned(&self, took: Duration) {
        self.provisioning.observe(took.as_secs_f64());
    }

    /// Records the phase of VirtualCluster `uid` (None: it is gone).
    pub fn set_phase(&self, uid: &str, phase: Option<Phase>) {
        let mut phases = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        match phase {
            Some(p) => phases.insert(uid.to_string(), p),
            None => phases.remove(uid),
        };
        for phase in PHASES {
            let count = phases.values().filter(|p| **p == phase).count();
            self.tenants.get_or_create(&phase_labels(phase)).set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    /// A tenant process of `component` was found dead and started again.
    pub fn restarted(&self, component: &str) {
        self.restarts.get_or_create(&vec![("component", component.to_string())]).inc();
    }

    pub fn reconcile_failed(&self) {
        self.reconcile_errors.inc();
    }

    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn phase_labels(phase: Phase) -> Labels {
    vec![("phase", format!("{phase:?}"))]
}

impl nestor_api::runtime::Exposition for Metrics {
    fn metrics(&self) -> String {
        health::encode(&self.registry)
    }
}
