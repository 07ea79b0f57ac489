//! Which pods back a Service, on which ports: kube's rules shared by the Endpoints and
//! EndpointSlice controllers.

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::{pods, selector};

/// Whether `pod` is selected by `svc` (a Service without a selector manages no endpoints).
pub fn selects(svc: &Service, pod: &Pod) -> bool {
    let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()) else { return false };
    pod.metadata.namespace == svc.metadata.namespace && selector::matches_map(sel, pod.metadata.labels.as_ref())
}

/// Whether the Service has a selector, i.e. whether its endpoints are managed here.
pub fn has_selector(svc: &Service) -> bool {
    svc.spec.as_ref().is_some_and(|s| s.selector.is_some())
}

/// The pod's IP, if it has one.
pub fn pod_ip(pod: &Pod) -> Option<&str> {
    let status = pod.status.as_ref()?;
    status
        .pod_ip
        .as_deref()
        .filter(|ip| !ip.is_empty())
        .or_else(|| status.pod_ips.as_ref()?.first().map(|p| p.ip.as_str()))
}

/// kube's `ShouldPodBeInEndpoints`: not terminal, has an IP, and (unless `include_terminating`)
/// not being deleted.
pub fn should_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    !pods::is_terminal(pod)
        && pod_ip(pod).is_some()
        && (include_terminating || pod.metadata.deletion_timestamp.is_none())
}

/// Whether a not-ready pod is listed as not ready at all: a pod that will not restart and has
/// finished is left out (kube's `shouldPodBeInEndpoints` of the Endpoints controller).
pub fn listed_when_not_ready(pod: &Pod) -> bool {
    let policy = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always");
    match policy {
        "Never" => !pods::is_terminal(pod),
        "OnFailure" => pods::phase(pod) != "Succeeded",
        _ => true,
    }
}

/// The container port a Service port targets on `pod` (kube's `FindPort`): a number as is, a
/// name looked up among the containers' ports of the same protocol.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match port.target_port.as_ref() {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            pod.spec.as_ref()?.containers.iter().flat_map(|c| c.ports.iter().flatten()).find_map(|p| {
                (p.name.as_deref() == Some(name.as_str()) && p.protocol.as_deref().unwrap_or("TCP") == protocol)
                    .then_some(p.container_port)
            })
        }
    }
}

/// Whether the pod's hostname goes on its address: it names one and its subdomain is this
/// Service (the DNS records of a headless Service).
pub fn hostname(pod: &Pod, svc: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let name = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == svc.metadata.name.as_deref() && pod.metadata.namespace == svc.metadata.namespace)
        .then(|| name.to_string())
}

/// Whether the Service is headless.
pub fn headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec};

    fn pod_with_port(name: &str, port: i32) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some(name.into()),
                        container_port: port,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn ports_by_name_or_number() {
        let pod = pod_with_port("http", 8080);
        let by_name =
            ServicePort { port: 80, target_port: Some(IntOrString::String("http".into())), ..Default::default() };
        assert_eq!(find_port(&pod, &by_name), Some(8080));
        let by_number = ServicePort { port: 80, target_port: Some(IntOrString::Int(9090)), ..Default::default() };
        assert_eq!(find_port(&pod, &by_number), Some(9090));
        let missing =
            ServicePort { port: 80, target_port: Some(IntOrString::String("grpc".into())), ..Default::default() };
        assert_eq!(find_port(&pod, &missing), None);
        let udp = ServicePort {
            port: 80,
            protocol: Some("UDP".into()),
            target_port: Some(IntOrString::String("http".into())),
            ..Default::default()
        };
        assert_eq!(find_port(&pod, &udp), None);
    }
}
