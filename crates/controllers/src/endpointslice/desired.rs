//! The EndpointSlices a Service should have: its pods grouped by the ports they resolve to, at
//! most 100 endpoints a slice (kube's default `--max-endpoints-per-slice`), each endpoint with
//! the ready, serving and terminating conditions.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

use crate::endpoints::addresses;
use crate::pods;

/// Endpoints in one slice at most.
pub const MAX_PER_SLICE: usize = 100;

/// One desired slice: its ports and endpoints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Slice {
    pub ports: Vec<EndpointPort>,
    pub endpoints: Vec<Endpoint>,
}

/// The slices of `svc` over `all_pods`; one empty slice when no pod backs it, as kube keeps a
/// placeholder so that consumers can tell "no endpoints" from "not yet computed".
pub fn compute(svc: &Service, all_pods: &[Arc<Pod>]) -> Vec<Slice> {
    let spec = svc.spec.clone().unwrap_or_default();
    let publish_not_ready = spec.publish_not_ready_addresses.unwrap_or(false);
    let service_ports = spec.ports.clone().unwrap_or_default();
    let mut groups: BTreeMap<String, (Vec<EndpointPort>, Vec<Endpoint>)> = BTreeMap::new();
    let mut selected: Vec<&Arc<Pod>> = all_pods.iter().filter(|p| addresses::selects(svc, p)).collect();
    selected.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    for pod in selected {
        // Slices include terminating pods, marked so.
        if !addresses::should_be_in_endpoints(pod, true) {
            continue;
        }
        let Some(ip) = addresses::pod_ip(pod) else { continue };
        let ports: Vec<EndpointPort> = service_ports
            .iter()
            .filter_map(|sp| {
                addresses::find_port(pod, sp).map(|n| EndpointPort {
                    name: Some(sp.name.clone().unwrap_or_default()),
                    port: Some(n),
                    protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                    app_protocol: sp.app_protocol.clone(),
                })
            })
            .collect();
        let terminating = pod.metadata.deletion_timestamp.is_some();
        let serving = pods::is_ready(pod);
        let ready = publish_not_ready || (serving && !terminating);
        let endpoint = Endpoint {
            addresses: vec![ip.to_string()],
            conditions: Some(EndpointConditions {
                ready: Some(ready),
                serving: Some(serving || publish_not_ready),
                terminating: Some(terminating),
            }),
            hostname: addresses::hostname(pod, svc),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                namespace: pod.metadata.namespace.clone(),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let key = serde_json::to_string(&ports).unwrap_or_default();
        groups.entry(key).or_insert_with(|| (ports, Vec::new())).1.push(endpoint);
    }
    let mut out = Vec::new();
    for (_, (ports, endpoints)) in groups {
        for chunk in endpoints.chunks(MAX_PER_SLICE) {
            out.push(Slice { ports: ports.clone(), endpoints: chunk.to_vec() });
        }
    }
    if out.is_empty() {
        out.push(Slice::default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus, ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    fn pod(i: usize, ready: bool, deleting: bool) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(format!("p{i:03}")),
                namespace: Some("ns".into()),
                labels: Some([("app".to_string(), "x".to_string())].into()),
                deletion_timestamp: deleting.then_some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)),
                ..Default::default()
            },
            spec: Some(PodSpec::default()),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                pod_ip: Some(format!("10.0.{}.{}", i / 200, i % 200 + 1)),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    fn svc() -> Service {
        Service {
            metadata: ObjectMeta { name: Some("s".into()), namespace: Some("ns".into()), ..Default::default() },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "x".to_string())].into()),
                ports: Some(vec![ServicePort { port: 80, ..Default::default() }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn chunks_and_conditions() {
        let pods: Vec<Arc<Pod>> = (0..250).map(|i| pod(i, i % 2 == 0, i == 1)).collect();
        let slices = compute(&svc(), &pods);
        assert_eq!(slices.iter().map(|s| s.endpoints.len()).collect::<Vec<_>>(), [100, 100, 50]);
        let first = &slices[0].endpoints;
        let c0 = first[0].conditions.clone().unwrap_or_default();
        assert_eq!((c0.ready, c0.serving, c0.terminating), (Some(true), Some(true), Some(false)));
        let c1 = first[1].conditions.clone().unwrap_or_default();
        assert_eq!((c1.ready, c1.serving, c1.terminating), (Some(false), Some(false), Some(true)));
        assert_eq!(slices[0].ports[0].port, Some(80));
    }

    #[test]
    fn placeholder_when_empty() {
        assert_eq!(compute(&svc(), &[]), vec![Slice::default()]);
    }
}
