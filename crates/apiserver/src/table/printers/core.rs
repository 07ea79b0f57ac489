//! Core (`""` group) printers other than pods and events: printers.go
//! `printReplicationController`, `printService`, `printEndpoints`, `printNode`,
//! `printNamespace`, `printSecret`, `printServiceAccount`, `printPersistentVolume`,
//! `printPersistentVolumeClaim`, `printComponentStatus`, `printConfigMap`,
//! `printResourceQuota`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{
    age, arr_at, format_labels, get, int_at, is_deleting, layout_containers, len_at, n, name, obj_at, opt_int, opt_str,
    quantity, s, str_at,
};
use super::{col, Column, Printer, AGE_COLUMN, CONTAINERS_DESC, IMAGES_DESC, NAME_COLUMN};

const RC_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Desired", "integer", "Replicas is the number of desired replicas.", 0),
    col("Current", "integer", "Replicas is the most recently observed number of replicas.", 0),
    col("Ready", "integer", "The number of ready replicas for this replication controller.", 0),
    AGE_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 1),
    col("Images", "string", IMAGES_DESC, 1),
    col("Selector", "string", "Selector is a label query over pods that should match the Replicas count.", 1),
];

/// `printReplicationController`.
pub static REPLICATION_CONTROLLER: Printer = Printer { columns: RC_COLUMNS, row: rc_row };

fn rc_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = layout_containers(arr_at(obj, &["spec", "template", "spec", "containers"]));
    vec![
        s(name(obj)),
        // v1 defaulting sets spec.replicas to 1, so an absent value reads as 1.
        n(opt_int(obj, &["spec", "replicas"]).unwrap_or(1)),
        n(int_at(obj, &["status", "replicas"])),
        n(int_at(obj, &["status", "readyReplicas"])),
        s(age(obj, now)),
        s(names),
        s(images),
        s(format_labels(obj_at(obj, &["spec", "selector"]))),
    ]
}

const SERVICE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Type", "string", "type determines how the Service is exposed.", 0),
    col("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly.", 0),
    col("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.", 0),
    col("Port(s)", "string", "The list of ports that are exposed by this service.", 0),
    AGE_COLUMN,
    col("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", 1),
];

/// `printService`.
pub static SERVICE: Printer = Printer { columns: SERVICE_COLUMNS, row: service_row };

/// `loadBalancerStatusStringer` with `wide` set (the server always prints wide, so
/// the 16-byte elision never applies): distinct IPs/hostnames, sorted.
pub(crate) fn load_balancer_string(ingress: &[Value]) -> String {
    let set: BTreeSet<&str> = ingress
        .iter()
        .filter_map(|i| {
            let ip = str_at(i, &["ip"]);
            let host = str_at(i, &["hostname"]);
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

fn service_type(svc: &Value) -> &str {
    // v1 defaulting sets spec.type to ClusterIP.
    opt_str(svc, &["spec", "type"]).unwrap_or("ClusterIP")
}

/// `getServiceExternalIP`.
fn service_external_ip(svc: &Value) -> String {
    let external: Vec<&str> = arr_at(svc, &["spec", "externalIPs"]).iter().filter_map(Value::as_str).collect();
    match service_type(svc) {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_string(arr_at(svc, &["status", "loadBalancer", "ingress"]));
            if !external.is_empty() {
                let mut results: Vec<&str> = Vec::new();
                if !lb.is_empty() {
                    results.extend(lb.split(','));
                }
                results.extend(external);
                return results.join(",");
            }
            if !lb.is_empty() {
                return lb;
            }
            "<pending>".to_string()
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// `makePortString`: "80/TCP", "80:30080/TCP", joined by ",".
fn service_ports(svc: &Value) -> String {
    arr_at(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int_at(p, &["port"]);
            // v1 defaulting sets the protocol to TCP.
            let proto = opt_str(p, &["protocol"]).unwrap_or("TCP");
            let node_port = int_at(p, &["nodePort"]);
            if node_port > 0 {
                format!("{port}:{node_port}/{proto}")
            } else {
                format!("{port}/{proto}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn service_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    // kube prints clusterIPs[0]; defaulting fills clusterIPs from the legacy clusterIP.
    let cluster_ip = arr_at(obj, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .or_else(|| opt_str(obj, &["spec", "clusterIP"]).filter(|ip| !ip.is_empty()))
        .unwrap_or("<none>");
    let mut ports = service_ports(obj);
    if ports.is_empty() {
        ports = "<none>".to_string();
    }
    vec![
        s(name(obj)),
        s(service_type(obj)),
        s(cluster_ip),
        s(service_external_ip(obj)),
        s(ports),
        s(age(obj, now)),
        s(format_labels(obj_at(obj, &["spec", "selector"]))),
    ]
}

const ENDPOINTS_COLUMNS: &[Column] =
    &[NAME_COLUMN, col("Endpoints", "string", "The set of all endpoints is the union of all subsets.", 0), AGE_COLUMN];

/// `printEndpoints`.
pub static ENDPOINTS: Printer = Printer { columns: ENDPOINTS_COLUMNS, row: endpoints_row };

/// Go's `net.JoinHostPort`: IPv6 hosts get brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints(endpoints, nil)`: at most three addresses, then "+ N more...".
fn format_endpoints(obj: &Value) -> String {
    let subsets = arr_at(obj, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = arr_at(ss, &["addresses"]);
        let ports = arr_at(ss, &["ports"]);
        if ports.is_empty() {
            // Headless services may have no ports.
            count += addresses.len();
            for addr in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_at(addr, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for addr in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(str_at(addr, &["ip"]), int_at(port, &["port"])));
            }
        }
    }
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count.saturating_sub(MAX));
    }
    ret
}

fn endpoints_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(format_endpoints(obj)), s(age(obj, now))]
}

const NODE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Status", "string", "The status of the node", 0),
    col("Roles", "string", "The roles of the node", 0),
    AGE_COLUMN,
    col("Version", "string", "Kubelet Version reported by the node.", 0),
    col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
    col("External-IP", "string", "List of addresses reachable to the node.", 1),
    col(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        1,
    ),
    col(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
    ),
    col(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        1,
    ),
];

/// `printNode`.
pub static NODE: Printer = Printer { columns: NODE_COLUMNS, row: node_row };

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` label keys plus the value of a
/// `kubernetes.io/role` label, sorted and de-duplicated.
fn node_roles(node: &Value) -> Vec<String> {
    const PREFIX: &str = "node-role.kubernetes.io/";
    let mut roles = BTreeSet::new();
    if let Some(labels) = obj_at(node, &["metadata", "labels"]) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix(PREFIX) {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role" {
                let v = v.as_str().unwrap_or("");
                if !v.is_empty() {
                    roles.insert(v.to_string());
                }
            }
        }
    }
    roles.into_iter().collect()
}

/// The first address of `type_` or "<none>" (`getNodeInternalIP` / `getNodeExternalIP`).
fn node_address(node: &Value, type_: &str) -> String {
    arr_at(node, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == type_)
        .map(|a| str_at(a, &["address"]).to_string())
        .unwrap_or_else(|| "<none>".to_string())
}

fn node_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    // Only the Ready condition is reported; Go keeps the last condition of each type.
    let mut status: Vec<String> = Vec::new();
    if let Some(ready) = arr_at(obj, &["status", "conditions"]).iter().rev().find(|c| str_at(c, &["type"]) == "Ready") {
        if str_at(ready, &["status"]) == "True" {
            status.push("Ready".to_string());
        } else {
            status.push("NotReady".to_string());
        }
    }
    if status.is_empty() {
        status.push("Unknown".to_string());
    }
    if super::helpers::bool_at(obj, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled".to_string());
    }
    let mut roles = node_roles(obj).join(",");
    if roles.is_empty() {
        roles = "<none>".to_string();
    }
    let unknown_if_empty = |path: &[&str]| {
        let v = str_at(obj, path);
        if v.is_empty() {
            "<unknown>".to_string()
        } else {
            v.to_string()
        }
    };
    vec![
        s(name(obj)),
        s(status.join(",")),
        s(roles),
        s(age(obj, now)),
        s(str_at(obj, &["status", "nodeInfo", "kubeletVersion"])),
        s(node_address(obj, "InternalIP")),
        s(node_address(obj, "ExternalIP")),
        s(unknown_if_empty(&["status", "nodeInfo", "osImage"])),
        s(unknown_if_empty(&["status", "nodeInfo", "kernelVersion"])),
        s(unknown_if_empty(&["status", "nodeInfo", "containerRuntimeVersion"])),
    ]
}

const NAMESPACE_COLUMNS: &[Column] =
    &[NAME_COLUMN, col("Status", "string", "The status of the namespace", 0), AGE_COLUMN];

/// `printNamespace`.
pub static NAMESPACE: Printer = Printer { columns: NAMESPACE_COLUMNS, row: namespace_row };

fn namespace_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(str_at(obj, &["status", "phase"])), s(age(obj, now))]
}

const SECRET_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Type", "string", "Used to facilitate programmatic handling of secret data.", 0),
    col("Data", "string", "Data contains the secret data.", 0),
    AGE_COLUMN,
];

/// `printSecret`.
pub static SECRET: Printer = Printer { columns: SECRET_COLUMNS, row: secret_row };

fn secret_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(str_at(obj, &["type"])), n(len_at(obj, &["data"])), s(age(obj, now))]
}

const SERVICE_ACCOUNT_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Secrets", "string", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", 0),
    AGE_COLUMN,
];

/// `printServiceAccount`.
pub static SERVICE_ACCOUNT: Printer = Printer { columns: SERVICE_ACCOUNT_COLUMNS, row: service_account_row };

fn service_account_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), n(len_at(obj, &["secrets"])), s(age(obj, now))]
}

const PV_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity.", 0),
    col("Access Modes", "string", "accessModes contains all ways the volume can be mounted.", 0),
    col("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.", 0),
    col("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0),
    col("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.", 0),
    col("StorageClass", "string", "StorageClass of the pv", 0),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv", 0),
    col("Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.", 0),
    AGE_COLUMN,
    col("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", 1),
];

/// `printPersistentVolume`.
pub static PERSISTENT_VOLUME: Printer = Printer { columns: PV_COLUMNS, row: pv_row };

/// `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that fixed order.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        .iter()
        .filter(|(mode, _)| has(mode))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

/// The beta storage-class annotation still wins over `spec.storageClassName`.
fn storage_class(obj: &Value) -> String {
    if let Some(class) = opt_str(obj, &["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"]) {
        return class.to_string();
    }
    str_at(obj, &["spec", "storageClassName"]).to_string()
}

fn unset_if_missing(obj: &Value, path: &[&str]) -> String {
    opt_str(obj, path).unwrap_or("<unset>").to_string()
}

fn pv_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let claim = match get(obj, &["spec", "claimRef"]) {
        Some(r) if r.is_object() => {
            format!("{}/{}", str_at(r, &["namespace"]), str_at(r, &["name"]))
        }
        _ => String::new(),
    };
    let phase = if is_deleting(obj) { "Terminating" } else { str_at(obj, &["status", "phase"]) };
    vec![
        s(name(obj)),
        s(quantity(get(obj, &["spec", "capacity", "storage"]))),
        s(access_modes(arr_at(obj, &["spec", "accessModes"]))),
        s(str_at(obj, &["spec", "persistentVolumeReclaimPolicy"])),
        s(phase),
        s(claim),
        s(storage_class(obj)),
        s(unset_if_missing(obj, &["spec", "volumeAttributesClassName"])),
        s(str_at(obj, &["status", "reason"])),
        s(age(obj, now)),
        s(unset_if_missing(obj, &["spec", "volumeMode"])),
    ]
}

const PVC_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Status", "string", "phase represents the current phase of PersistentVolumeClaim.", 0),
    col("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim.", 0),
    col("Capacity", "string", "capacity represents the actual resources of the underlying volume.", 0),
    col("Access Modes", "string", "accessModes contains the actual access modes the volume backing the PVC has.", 0),
    col("StorageClass", "string", "StorageClass of the pvc", 0),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc", 0),
    AGE_COLUMN,
    col("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim.", 1),
];

/// `printPersistentVolumeClaim`.
pub static PERSISTENT_VOLUME_CLAIM: Printer = Printer { columns: PVC_COLUMNS, row: pvc_row };

fn pvc_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let phase = if is_deleting(obj) { "Terminating" } else { str_at(obj, &["status", "phase"]) };
    let volume = str_at(obj, &["spec", "volumeName"]);
    // Capacity and modes are only shown once the claim is bound to a volume.
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (quantity(get(obj, &["status", "capacity", "storage"])), access_modes(arr_at(obj, &["status", "accessModes"])))
    };
    let class = match opt_str(obj, &["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"]) {
        Some(c) => c.to_string(),
        None => str_at(obj, &["spec", "storageClassName"]).to_string(),
    };
    vec![
        s(name(obj)),
        s(phase),
        s(volume),
        s(capacity),
        s(modes),
        s(class),
        s(unset_if_missing(obj, &["spec", "volumeAttributesClassName"])),
        s(age(obj, now)),
        s(unset_if_missing(obj, &["spec", "volumeMode"])),
    ]
}

const COMPONENT_STATUS_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Status", "string", "Status of the component conditions", 0),
    col("Message", "string", "Message of the component conditions", 0),
    col("Error", "string", "Error of the component conditions", 0),
];

/// `printComponentStatus`.
pub static COMPONENT_STATUS: Printer = Printer { columns: COMPONENT_STATUS_COLUMNS, row: component_status_row };

fn component_status_row(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let (mut status, mut message, mut error) = ("Unknown", "", "");
    if let Some(c) = arr_at(obj, &["conditions"]).iter().find(|c| str_at(c, &["type"]) == "Healthy") {
        status = if str_at(c, &["status"]) == "True" { "Healthy" } else { "Unhealthy" };
        message = str_at(c, &["message"]);
        error = str_at(c, &["error"]);
    }
    vec![s(name(obj)), s(status), s(message), s(error)]
}

const CONFIG_MAP_COLUMNS: &[Column] =
    &[NAME_COLUMN, col("Data", "string", "Data contains the configuration data.", 0), AGE_COLUMN];

/// `printConfigMap`.
pub static CONFIG_MAP: Printer = Printer { columns: CONFIG_MAP_COLUMNS, row: config_map_row };

fn config_map_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    // DATA counts both data and binaryData keys.
    let count = len_at(obj, &["data"]) + len_at(obj, &["binaryData"]);
    vec![s(name(obj)), n(count), s(age(obj, now))]
}

const RESOURCE_QUOTA_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume.", 0),
    col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.", 0),
    AGE_COLUMN,
];

/// `printResourceQuota`.
pub static RESOURCE_QUOTA: Printer = Printer { columns: RESOURCE_QUOTA_COLUMNS, row: resource_quota_row };

fn resource_quota_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut resources: Vec<&String> = obj_at(obj, &["status", "hard"]).map(|m| m.keys().collect()).unwrap_or_default();
    resources.sort();
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    for r in resources {
        let used = quantity(get(obj, &["status", "used", r]));
        let hard = quantity(get(obj, &["status", "hard", r]));
        let entry = format!("{r}: {used}/{hard}");
        // "limits.cpu" and the like go to the LIMIT column.
        let mut pieces = r.split('.');
        if pieces.next() == Some("limits") && pieces.next().is_some() {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![s(name(obj)), s(requests.join(", ")), s(limits.join(", ")), s(age(obj, now))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn soon(now: DateTime<Utc>) -> String {
        (now + chrono::TimeDelta::milliseconds(1900)).to_rfc3339()
    }

    // Expected cells: printers_test.go TestPrintServiceLoadBalancer (wide, which is
    // what the server always sends, so the external IPs are never elided).
    #[test]
    fn load_balancer_services() {
        let now = Utc::now();
        let svc = |name: &str, ports: Value, ingress: Value| {
            json!({
                "metadata": {"name": name},
                "spec": {"clusterIPs": ["1.2.3.4"], "type": "LoadBalancer", "ports": ports, "selector": {"foo": "bar"}},
                "status": {"loadBalancer": {"ingress": ingress}}
            })
        };
        let tcp80 = json!([{"port": 80, "protocol": "TCP"}]);
        assert_eq!(
            service_row(&svc("service1", tcp80.clone(), json!([{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}])), now),
            vec![
                json!("service1"),
                json!("LoadBalancer"),
                json!("1.2.3.4"),
                json!("2.3.4.5,3.4.5.6"),
                json!("80/TCP"),
                json!("<unknown>"),
                json!("foo=bar")
            ]
        );
        let many = json!([{"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"}, {"port": 8000, "protocol": "TCP"}, {"port": 7777, "protocol": "SCTP"}]);
        let pending = service_row(&svc("service2", many, json!([])), now);
        assert_eq!(pending[3], json!("<pending>"));
        assert_eq!(pending[4], json!("80/TCP,8090/UDP,8000/TCP,7777/SCTP"));
        let three = service_row(
            &svc(
                "service4",
                tcp80,
                json!([{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}, {"ip": "5.6.7.8", "hostname": "host5678"}]),
            ),
            now,
        );
        assert_eq!(three[3], json!("2.3.4.5,3.4.5.6,5.6.7.8"));
    }

    // `kubectl get svc` staples: the kubernetes service, a NodePort, headless and
    // ExternalName services.
    #[test]
    fn cluster_services() {
        let now = Utc::now();
        let kubernetes = json!({
            "metadata": {"name": "kubernetes", "creationTimestamp": (now - chrono::TimeDelta::days(2) - chrono::TimeDelta::hours(3)).to_rfc3339()},
            "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}
        });
        assert_eq!(
            service_row(&kubernetes, now),
            vec![
                json!("kubernetes"),
                json!("ClusterIP"),
                json!("10.96.0.1"),
                json!("<none>"),
                json!("443/TCP"),
                json!("2d3h"),
                json!("<none>")
            ]
        );
        let node_port = json!({
            "metadata": {"name": "web"},
            "spec": {"clusterIP": "10.96.12.7", "type": "NodePort", "externalIPs": ["192.0.2.10"],
                     "ports": [{"port": 80, "nodePort": 30080}], "selector": {"app": "web"}}
        });
        let cells = service_row(&node_port, now);
        assert_eq!(cells[1..5], [json!("NodePort"), json!("10.96.12.7"), json!("192.0.2.10"), json!("80:30080/TCP")]);
        let headless =
            json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"], "ports": []}});
        assert_eq!(
            service_row(&headless, now)[1..5],
            [json!("ClusterIP"), json!("None"), json!("<none>"), json!("<none>")]
        );
        let external =
            json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "example.com"}});
        assert_eq!(
            service_row(&external, now)[1..5],
            [json!("ExternalName"), json!("<none>"), json!("example.com"), json!("<none>")]
        );
    }

    // Expected cells: printers_test.go TestPrintNodeStatus / TestPrintNodeRole /
    // TestPrintNodeExternalIP / TestPrintNodeInternalIP / TestPrintNodeOSImage.
    #[test]
    fn nodes() {
        let now = Utc::now();
        let node = |name: &str, spec: Value, status: Value| json!({"metadata": {"name": name}, "spec": spec, "status": status});
        let ready = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        let not_ready = json!({"conditions": [{"type": "Ready", "status": "False"}]});
        let cordoned = json!({"unschedulable": true});
        let status = |n: &Value| node_row(n, now)[1].clone();
        assert_eq!(
            node_row(&node("foo1", json!({}), ready.clone()), now)[..5],
            [json!("foo1"), json!("Ready"), json!("<none>"), json!("<unknown>"), json!("")]
        );
        assert_eq!(status(&node("foo2", cordoned.clone(), ready)), json!("Ready,SchedulingDisabled"));
        assert_eq!(status(&node("foo4", json!({}), not_ready.clone())), json!("NotReady"));
        assert_eq!(status(&node("foo5", cordoned.clone(), not_ready)), json!("NotReady,SchedulingDisabled"));
        assert_eq!(
            status(&node("foo6", json!({}), json!({"conditions": [{"type": "InvalidValue", "status": "True"}]}))),
            json!("Unknown")
        );
        assert_eq!(status(&node("foo9", cordoned, json!({"conditions": [{}]}))), json!("Unknown,SchedulingDisabled"));

        let roles = json!({"metadata": {"name": "foo10", "labels": {
            "node-role.kubernetes.io/master": "", "node-role.kubernetes.io/control-plane": "",
            "node-role.kubernetes.io/proxy": "", "kubernetes.io/role": "node"
        }}});
        assert_eq!(node_row(&roles, now)[2], json!("control-plane,master,node,proxy"));

        let addrs = node(
            "foo3",
            json!({}),
            json!({
                "addresses": [{"type": "ExternalIP", "address": "2.2.2.2"}, {"type": "InternalIP", "address": "3.3.3.3"}, {"type": "ExternalIP", "address": "4.4.4.4"}],
                "nodeInfo": {"osImage": "fake-os-image"}
            }),
        );
        assert_eq!(
            node_row(&addrs, now)[5..],
            [json!("3.3.3.3"), json!("2.2.2.2"), json!("fake-os-image"), json!("<unknown>"), json!("<unknown>")]
        );

        // A kind control-plane node as `kubectl get nodes -o wide` shows it.
        let kind = json!({
            "metadata": {"name": "kind-control-plane", "creationTimestamp": (now - chrono::TimeDelta::minutes(10)).to_rfc3339(),
                         "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "kind-control-plane"}},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "kind-control-plane"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                             "kernelVersion": "6.1.0-18-amd64", "containerRuntimeVersion": "containerd://1.7.24"}
            }
        });
        assert_eq!(
            node_row(&kind, now),
            vec![
                json!("kind-control-plane"),
                json!("Ready"),
                json!("control-plane"),
                json!("10m"),
                json!("v1.32.0"),
                json!("172.18.0.2"),
                json!("<none>"),
                json!("Debian GNU/Linux 12 (bookworm)"),
                json!("6.1.0-18-amd64"),
                json!("containerd://1.7.24")
            ]
        );
    }

    // Expected cells: printers_test.go TestPrintConfigMap.
    #[test]
    fn config_maps() {
        let now = Utc::now();
        let cm = |data: Value| {
            let mut v = json!({"metadata": {"name": "configmap", "creationTimestamp": soon(now)}});
            if let (Some(o), Some(d)) = (v.as_object_mut(), data.as_object()) {
                o.extend(d.clone());
            }
            config_map_row(&v, now)
        };
        assert_eq!(cm(json!({})), vec![json!("configmap"), json!(0), json!("0s")]);
        assert_eq!(cm(json!({"data": {"foo": "bar"}}))[1], json!(1));
        assert_eq!(cm(json!({"data": {"foo": "bar"}, "binaryData": {"bin": "YmluYXJ5IGRhdGE="}}))[1], json!(2));
    }

    // Expected cells: printers_test.go TestPrintSecret / TestPrintNamespace /
    // TestPrintServiceAccount.
    #[test]
    fn secrets_namespaces_service_accounts() {
        let now = Utc::now();
        let secret = json!({"metadata": {"name": "secret1", "creationTimestamp": soon(now)},
                            "type": "kubernetes.io/service-account-token", "data": {"token": "c2VjcmV0IGRhdGE="}});
        assert_eq!(
            secret_row(&secret, now),
            vec![json!("secret1"), json!("kubernetes.io/service-account-token"), json!(1), json!("0s")]
        );
        let empty = json!({"metadata": {"name": "secret1", "creationTimestamp": soon(now)}, "type": "Opaque"});
        assert_eq!(secret_row(&empty, now)[2], json!(0));

        let ns = json!({"metadata": {"name": "namespace1", "creationTimestamp": soon(now)}, "status": {"phase": "FooStatus"}});
        assert_eq!(namespace_row(&ns, now), vec![json!("namespace1"), json!("FooStatus"), json!("0s")]);
        assert_eq!(
            namespace_row(&json!({"metadata": {"name": "namespace2"}}), now),
            vec![json!("namespace2"), json!(""), json!("<unknown>")]
        );

        let sa = json!({"metadata": {"name": "sa1", "creationTimestamp": soon(now)}, "secrets": [{"name": "Secret1"}, {"name": "Secret2"}]});
        assert_eq!(service_account_row(&sa, now), vec![json!("sa1"), json!(2), json!("0s")]);
    }

    // Expected cells: printers_test.go TestPrintReplicationController.
    #[test]
    fn replication_controllers() {
        let now = Utc::now();
        let rc = json!({
            "metadata": {"name": "rc1", "namespace": "test-namespace"},
            "spec": {"replicas": 5, "selector": {"a": "b"}, "template": {"metadata": {"labels": {"a": "b"}},
                     "spec": {"containers": [{"name": "test", "image": "test_image"}]}}},
            "status": {"replicas": 3, "readyReplicas": 1}
        });
        assert_eq!(
            rc_row(&rc, now),
            vec![
                json!("rc1"),
                json!(5),
                json!(3),
                json!(1),
                json!("<unknown>"),
                json!("test"),
                json!("test_image"),
                json!("a=b")
            ]
        );
    }

    // Expected cells derived from printers.go formatEndpoints.
    #[test]
    fn endpoints() {
        let now = Utc::now();
        let ep = json!({"metadata": {"name": "web"}, "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 8080}, {"port": 8443}]},
            {"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}
        ]});
        assert_eq!(endpoints_row(&ep, now)[1], json!("10.0.0.1:8080,10.0.0.2:8080,10.0.0.1:8443 + 2 more..."));
        let v6 = json!({"metadata": {"name": "v6"}, "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]});
        assert_eq!(endpoints_row(&v6, now)[1], json!("[fd00::1]:80"));
        let headless = json!({"metadata": {"name": "h"}, "subsets": [{"addresses": [{"ip": "10.0.0.9"}]}]});
        assert_eq!(endpoints_row(&headless, now)[1], json!("10.0.0.9"));
        assert_eq!(endpoints_row(&json!({"metadata": {"name": "none"}}), now)[1], json!("<none>"));
    }

    // Expected cells derived from printers.go printPersistentVolume / printPersistentVolumeClaim.
    #[test]
    fn volumes_and_claims() {
        let now = Utc::now();
        let pv = json!({
            "metadata": {"name": "pv-1"},
            "spec": {"capacity": {"storage": "4Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "claimRef": {"namespace": "default", "name": "claim"},
                     "storageClassName": "standard", "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}
        });
        assert_eq!(
            pv_row(&pv, now),
            vec![
                json!("pv-1"),
                json!("4Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("default/claim"),
                json!("standard"),
                json!("<unset>"),
                json!(""),
                json!("<unknown>"),
                json!("Filesystem")
            ]
        );
        let pending = json!({"metadata": {"name": "claim"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "standard"},
                             "status": {"phase": "Pending"}});
        assert_eq!(
            pvc_row(&pending, now),
            vec![
                json!("claim"),
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("standard"),
                json!("<unset>"),
                json!("<unknown>"),
                json!("<unset>")
            ]
        );
        let bound = json!({"metadata": {"name": "claim", "deletionTimestamp": "2024-01-01T00:00:00Z"},
                           "spec": {"volumeName": "pv-1", "volumeMode": "Block"},
                           "status": {"phase": "Bound", "capacity": {"storage": "4Gi"}, "accessModes": ["ReadWriteOnce"]}});
        assert_eq!(pvc_row(&bound, now)[1..5], [json!("Terminating"), json!("pv-1"), json!("4Gi"), json!("RWO")]);
    }

    // Expected cells derived from printers.go printResourceQuota / printComponentStatus.
    #[test]
    fn quotas_and_component_statuses() {
        let now = Utc::now();
        let rq = json!({"metadata": {"name": "quota"}, "status": {
            "hard": {"cpu": "100", "limits.memory": "2Gi", "pods": "10", "services.nodeports": "2"},
            "used": {"cpu": "10", "limits.memory": "1Gi", "pods": "1"}
        }});
        assert_eq!(
            resource_quota_row(&rq, now),
            vec![
                json!("quota"),
                json!("cpu: 10/100, pods: 1/10, services.nodeports: 0/2"),
                json!("limits.memory: 1Gi/2Gi"),
                json!("<unknown>")
            ]
        );
        let cs = json!({"metadata": {"name": "etcd-0"}, "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]});
        assert_eq!(component_status_row(&cs, now), vec![json!("etcd-0"), json!("Healthy"), json!("ok"), json!("")]);
        let bad = json!({"metadata": {"name": "scheduler"}, "conditions": [{"type": "Healthy", "status": "False", "error": "connection refused"}]});
        assert_eq!(component_status_row(&bad, now)[1..], [json!("Unhealthy"), json!(""), json!("connection refused")]);
    }
}
