//! Resource amounts by name and what a pod requests of a node, with kube's rule for init and
//! sidecar containers and pod overhead (`k8s.io/component-helpers/resource.PodRequests`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use tracing::warn;

use crate::quantity::parse_milli;

/// Resource amounts in milli-units by resource name (`cpu`, `memory`, extended resources).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources(BTreeMap<String, i128>);

impl Resources {
    /// Amounts from a Kubernetes resource list; unparsable quantities count as zero (the API
    /// server validates them, so this only guards against surprises).
    pub fn from_list(list: Option<&BTreeMap<String, Quantity>>) -> Self {
        let mut out = BTreeMap::new();
        for (name, q) in list.into_iter().flatten() {
            match parse_milli(&q.0) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(e) => warn!(resource = %name, error = %e, "ignoring unparsable quantity"),
            }
        }
        Resources(out)
    }

    /// Builds amounts from `(name, milli-units)` pairs.
    pub fn of(pairs: &[(&str, i128)]) -> Self {
        Resources(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }

    /// The amount of one resource (zero when absent).
    pub fn get(&self, name: &str) -> i128 {
        self.0.get(name).copied().unwrap_or(0)
    }

    /// Adds `other` to these amounts.
    pub fn add(&mut self, other: &Resources) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// Subtracts `other` from these amounts.
    pub fn sub(&mut self, other: &Resources) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_insert(0) -= v;
        }
    }

    /// Raises each amount to at least the one in `other`.
    pub fn max(&mut self, other: &Resources) {
        for (k, v) in &other.0 {
            let e = self.0.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    /// The resources with a non-zero amount.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i128)> {
        self.0.iter().filter(|(_, v)| **v != 0).map(|(k, v)| (k.as_str(), *v))
    }
}

/// What one container requests: its requests, or its limits where a request is missing (the
/// API server defaults requests to limits, but a pod written before that rule may lack them).
pub fn container_requests(c: &Container) -> Resources {
    let res = c.resources.as_ref();
    let mut out = Resources::from_list(res.and_then(|r| r.limits.as_ref()));
    let requests = Resources::from_list(res.and_then(|r| r.requests.as_ref()));
    for (k, v) in requests.0 {
        out.0.insert(k, v);
    }
    out
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// What a pod requests of a node: the larger of the app containers plus sidecars and each
/// init container plus the sidecars started before it, plus the pod overhead.
pub fn pod_requests(spec: &PodSpec) -> Resources {
    let mut apps = Resources::default();
    for c in &spec.containers {
        apps.add(&container_requests(c));
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let req = container_requests(c);
        if is_sidecar(c) {
            sidecars.add(&req);
            init_peak.max(&sidecars);
        } else {
            let mut peak = req;
            peak.add(&sidecars);
            init_peak.max(&peak);
        }
    }
    apps.add(&sidecars);
    apps.max(&init_peak);
    apps.add(&Resources::from_list(spec.overhead.as_ref()));
    apps
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;

    fn container(name: &str, cpu: &str, mem: &str) -> Container {
        Container {
            name: name.into(),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([
                    ("cpu".to_string(), Quantity(cpu.into())),
                    ("memory".to_string(), Quantity(mem.into())),
                ])),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn sums_containers_and_takes_init_max() {
        let spec = PodSpec {
            containers: vec![container("a", "100m", "1Mi"), container("b", "200m", "1Mi")],
            init_containers: Some(vec![container("i1", "500m", "1Ki"), container("i2", "100m", "3Mi")]),
            overhead: Some(BTreeMap::from([("cpu".to_string(), Quantity("10m".into()))])),
            ..Default::default()
        };
        let r = pod_requests(&spec);
        assert_eq!(r.get("cpu"), 510);
        assert_eq!(r.get("memory"), 3 * 1024 * 1024 * 1000);
    }

    #[test]
    fn sidecars_add_to_apps_and_later_inits() {
        let mut sidecar = container("s", "100m", "0");
        sidecar.restart_policy = Some("Always".into());
        let spec = PodSpec {
            containers: vec![container("a", "200m", "0")],
            init_containers: Some(vec![sidecar, container("i", "250m", "0")]),
            ..Default::default()
        };
        // apps + sidecar = 300m; init after sidecar = 350m.
        assert_eq!(pod_requests(&spec).get("cpu"), 350);
    }

    #[test]
    fn limits_stand_in_for_missing_requests() {
        let c = Container {
            name: "a".into(),
            resources: Some(ResourceRequirements {
                limits: Some(BTreeMap::from([("cpu".to_string(), Quantity("2".into()))])),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(container_requests(&c).get("cpu"), 2000);
    }
}
