//! The subsets of an Endpoints object in kube's canonical ("repacked") form: one subset per
//! distinct set of addresses, ports grouped under it, addresses sorted by IP, so that two
//! computations of the same state compare equal.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset, ObjectReference, Pod, Service};

use super::addresses;
use crate::pods;

/// Sort key of an address: IP, then the pod's UID.
type AddrKey = (String, String);
/// Sort key of a port: name, number, protocol.
type PortKey = (String, i32, String);

/// The Endpoints subsets of `svc` over the pods of its namespace.
pub fn compute(svc: &Service, all_pods: &[Arc<Pod>]) -> Vec<EndpointSubset> {
    let spec = svc.spec.clone().unwrap_or_default();
    let publish_not_ready = spec.publish_not_ready_addresses.unwrap_or(false);
    let ports = spec.ports.clone().unwrap_or_default();
    // For every port (None: a headless Service without ports), its ready and not-ready addresses.
    type Sides = (BTreeMap<AddrKey, EndpointAddress>, BTreeMap<AddrKey, EndpointAddress>);
    let mut by_port: BTreeMap<Option<PortKey>, (Option<EndpointPort>, Sides)> = BTreeMap::new();
    for pod in all_pods.iter().filter(|p| addresses::selects(svc, p)) {
        if !addresses::should_be_in_endpoints(pod, publish_not_ready) {
            continue;
        }
        let Some(ip) = addresses::pod_ip(pod) else { continue };
        let address = EndpointAddress {
            ip: ip.to_string(),
            hostname: addresses::hostname(pod, svc),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                namespace: pod.metadata.namespace.clone(),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            }),
        };
        let key = (ip.to_string(), pod.metadata.uid.clone().unwrap_or_default());
        let ready = publish_not_ready || pods::is_ready(pod);
        if !ready && !addresses::listed_when_not_ready(pod) {
            continue;
        }
        let mut place = |port: Option<EndpointPort>| {
            let pkey = port
                .as_ref()
                .map(|p| (p.name.clone().unwrap_or_default(), p.port, p.protocol.clone().unwrap_or_default()));
            let entry = by_port.entry(pkey).or_insert_with(|| (port, Default::default()));
            let (ready_side, not_ready_side) = &mut entry.1;
            if ready {
                not_ready_side.remove(&key);
                ready_side.insert(key.clone(), address.clone());
            } else if !ready_side.contains_key(&key) {
                not_ready_side.insert(key.clone(), address.clone());
            }
        };
        if ports.is_empty() {
            if addresses::headless(svc) {
                place(None);
            }
            continue;
        }
        for sp in &ports {
            let Some(number) = addresses::find_port(pod, sp) else { continue };
            place(Some(EndpointPort {
                name: sp.name.clone().filter(|n| !n.is_empty()),
                port: number,
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            }));
        }
    }
    // Ports with the same addresses share a subset.
    let mut grouped: BTreeMap<(Vec<AddrKey>, Vec<AddrKey>), EndpointSubset> = BTreeMap::new();
    for (_, (port, (ready, not_ready))) in by_port {
        let key = (ready.keys().cloned().collect(), not_ready.keys().cloned().collect());
        let subset = grouped.entry(key).or_insert_with(|| EndpointSubset {
            addresses: (!ready.is_empty()).then(|| ready.into_values().collect()),
            not_ready_addresses: (!not_ready.is_empty()).then(|| not_ready.into_values().collect()),
            ports: None,
        });
        if let Some(port) = port {
            subset.ports.get_or_insert_with(Vec::new).push(port);
        }
    }
    grouped.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus, ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn svc() -> Service {
        Service {
            metadata: ObjectMeta { name: Some("web".into()), namespace: Some("ns".into()), ..Default::default() },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "web".to_string())].into()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    target_port: Some(IntOrString::Int(8080)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(name: &str, ip: &str, ready: bool) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("u-{name}")),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec { node_name: Some("n1".into()), ..Default::default() }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                pod_ip: Some(ip.into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    #[test]
    fn ready_and_not_ready_in_one_subset() {
        let subsets =
            compute(&svc(), &[pod("b", "10.0.0.2", true), pod("a", "10.0.0.1", true), pod("c", "10.0.0.3", false)]);
        assert_eq!(subsets.len(), 1);
        let s = &subsets[0];
        let ips: Vec<&str> = s.addresses.iter().flatten().map(|a| a.ip.as_str()).collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(s.not_ready_addresses.as_ref().map(Vec::len), Some(1));
        assert_eq!(s.ports.as_ref().map(|p| p[0].port), Some(8080));
        assert_eq!(s.addresses.as_ref().and_then(|a| a[0].node_name.as_deref()), Some("n1"));
    }

    #[test]
    fn pods_without_ip_are_left_out() {
        assert!(compute(&svc(), &[pod("a", "", true)]).is_empty());
    }
}
