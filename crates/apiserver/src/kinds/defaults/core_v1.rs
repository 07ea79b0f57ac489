//! Defaults for the core ("") API group: pkg/apis/core/v1/defaults.go, the v1 conversion
//! quirks a client can observe (Secret `stringData`), the Service IP-family defaults of the
//! service REST allocator, and the zero-valued structs Go always prints.

use serde_json::{json, Map, Value};

use super::json::*;
use super::podspec::{default_pod, default_pod_template, default_pvc_spec};
use super::quantity::canonicalize_resource_list;

/// Pods: `SetDefaults_Pod` + pod spec defaults; status always has a phase.
pub(crate) fn pod(obj: &mut Value) {
    ensure_obj(obj, "spec");
    default_pod(obj);
    if let Some(status) = ensure_obj(obj, "status") {
        default_str(status, "phase", "Pending");
    }
}

/// PodTemplates.
pub(crate) fn pod_template(obj: &mut Value) {
    super::podspec::default_pod_template_struct(obj, "template");
}

/// ReplicationControllers: selector and labels fall back to the template's labels.
pub(crate) fn replication_controller(obj: &mut Value) {
    let tmpl_labels = at(obj, &["spec", "template", "metadata", "labels"]).filter(|v| v.is_object()).cloned();
    if let Some(spec) = ensure_obj(obj, "spec") {
        if let Some(labels) = &tmpl_labels {
            if map_empty(spec, "selector") {
                set(spec, "selector", labels.clone());
            }
        }
        default_ptr(spec, "replicas", json!(1));
        default_pod_template(child_mut(spec, "template"));
    }
    if let Some(labels) = tmpl_labels {
        if let Some(meta) = ensure_obj(obj, "metadata") {
            if map_empty(meta, "labels") {
                set(meta, "labels", labels);
            }
        }
    }
    if let Some(status) = ensure_obj(obj, "status") {
        default_ptr(status, "replicas", json!(0));
    }
}

fn externally_accessible(spec: &Value) -> bool {
    match get_str(spec, "type") {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => !map_empty(spec, "externalIPs"),
        _ => false,
    }
}

fn family_of(ip: &str) -> &'static str {
    if ip.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// `SetDefaults_Service` plus the IP-family fields kube's allocator fills in. This server is
/// a single-stack IPv4 cluster, so the default family is IPv4. ClusterIP allocation itself is
/// the caller's; `clusterIPs` only mirrors a `clusterIP` the object already has.
pub(crate) fn service(obj: &mut Value) {
    let Some(spec) = ensure_obj(obj, "spec") else {
        return;
    };
    default_str(spec, "sessionAffinity", "None");
    match get_str(spec, "sessionAffinity") {
        // kube drops a config that does not apply.
        "None" => {
            if let Some(m) = spec.as_object_mut() {
                m.remove("sessionAffinityConfig");
            }
        }
        "ClientIP" => {
            let has_timeout =
                at(spec, &["sessionAffinityConfig", "clientIP", "timeoutSeconds"]).is_some_and(|v| !v.is_null());
            if !has_timeout {
                set(spec, "sessionAffinityConfig", json!({"clientIP": {"timeoutSeconds": 10800}}));
            }
        }
        _ => {}
    }
    default_str(spec, "type", "ClusterIP");
    each_mut(spec, "ports", |p| {
        if !p.is_object() {
            return;
        }
        default_str(p, "protocol", "TCP");
        let unset = match p.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(n) => n.as_i64() == Some(0),
        };
        if unset {
            let port = p.get("port").cloned().unwrap_or(json!(0));
            set(p, "targetPort", port);
        }
    });
    if externally_accessible(spec) {
        default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    let ty = get_str(spec, "type").to_string();
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        default_ptr(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        default_ptr(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if ty != "ExternalName" {
        // Strategy normalizeClusterIPs (create): an old client sets only the singular field.
        let cip = get_str(spec, "clusterIP").to_string();
        if !cip.is_empty() && map_empty(spec, "clusterIPs") {
            set(spec, "clusterIPs", json!([cip]));
        }
        default_ip_families(spec);
    }
    let is_lb = ty == "LoadBalancer";
    if let Some(status) = ensure_obj(obj, "status") {
        if let Some(lb) = ensure_obj(status, "loadBalancer") {
            if is_lb {
                each_mut(lb, "ingress", |ing| {
                    if !get_str(ing, "ip").is_empty() {
                        default_ptr(ing, "ipMode", json!("VIP"));
                    }
                });
            }
        }
    }
}

/// The allocator's `initIPFamilyFields` for a single-stack IPv4 cluster.
fn default_ip_families(spec: &mut Value) {
    let cluster_ips: Vec<String> =
        get_arr(spec, "clusterIPs").into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
    let mut families: Vec<String> =
        get_arr(spec, "ipFamilies").into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
    if is_nil(spec, "ipFamilyPolicy") && (cluster_ips.len() == 2 || families.len() == 2) {
        set(spec, "ipFamilyPolicy", json!("RequireDualStack"));
    }
    for (i, ip) in cluster_ips.iter().enumerate() {
        if ip == "None" {
            break;
        }
        if i >= families.len() {
            families.push(family_of(ip).to_string());
        }
    }
    let headless_selectorless = get_str(spec, "clusterIP") == "None" && map_empty(spec, "selector");
    if headless_selectorless {
        // Documented special case: headless services without selectors default to
        // RequireDualStack and list both families, even on a single-stack cluster.
        default_ptr(spec, "ipFamilyPolicy", json!("RequireDualStack"));
        if families.is_empty() {
            families.push("IPv4".to_string());
        }
        if families.len() < 2 && get_str(spec, "ipFamilyPolicy") != "SingleStack" {
            let alt = if families[0] == "IPv4" { "IPv6" } else { "IPv4" };
            families.push(alt.to_string());
        }
    } else {
        default_ptr(spec, "ipFamilyPolicy", json!("SingleStack"));
        if families.is_empty() {
            families.push("IPv4".to_string());
        }
    }
    set(spec, "ipFamilies", json!(families));
}

/// Namespaces: the immutable `kubernetes.io/metadata.name` label (always overwritten, as kube
/// does) and phase Active. NamespaceSpec is a struct, so `spec: {}` is always printed.
pub(crate) fn namespace(obj: &mut Value) {
    let name = at(obj, &["metadata", "name"]).and_then(Value::as_str).unwrap_or_default().to_string();
    if !name.is_empty() {
        if let Some(meta) = ensure_obj(obj, "metadata") {
            if let Some(labels) = ensure_obj(meta, "labels") {
                set(labels, "kubernetes.io/metadata.name", json!(name));
            }
        }
    }
    ensure_obj(obj, "spec");
    if let Some(status) = ensure_obj(obj, "status") {
        default_str(status, "phase", "Active");
    }
}

/// Secrets: v1 `stringData` is merged into `data` (base64) by conversion and never stored;
/// type defaults to Opaque.
pub(crate) fn secret(obj: &mut Value) {
    if let Some(Value::Object(sd)) = obj.as_object_mut().and_then(|m| m.remove("stringData")) {
        if !sd.is_empty() {
            if let Some(data) = ensure_obj(obj, "data").and_then(Value::as_object_mut) {
                for (k, v) in sd {
                    data.insert(k, Value::String(base64_encode(v.as_str().unwrap_or_default().as_bytes())));
                }
            }
        }
    }
    default_str(obj, "type", "Opaque");
}

/// Standard base64 with padding, as Go's encoding/json prints []byte.
pub(crate) fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; None when malformed.
pub(crate) fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = input.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad { 0 } else { val(c)? };
            n = (n << 6) | v;
        }
        let b = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&b[..3 - pad]);
    }
    Some(out)
}

/// PersistentVolumeClaims.
pub(crate) fn pvc(obj: &mut Value) {
    if let Some(spec) = ensure_obj(obj, "spec") {
        default_pvc_spec(spec);
    }
    if let Some(status) = ensure_obj(obj, "status") {
        default_str(status, "phase", "Pending");
        canonicalize_resource_list(child_mut(status, "capacity"));
    }
}

/// A PVC embedded in a StatefulSet's volumeClaimTemplates gets the full PVC defaults.
pub(crate) fn pvc_template(obj: &mut Value) {
    super::podspec::template_metadata(obj);
    pvc(obj);
}

/// PersistentVolumes.
pub(crate) fn pv(obj: &mut Value) {
    if let Some(spec) = ensure_obj(obj, "spec") {
        default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        default_ptr(spec, "volumeMode", json!("Filesystem"));
        canonicalize_resource_list(child_mut(spec, "capacity"));
        if let Some(h) = child_mut(spec, "hostPath").filter(|v| v.is_object()) {
            default_ptr(h, "type", json!(""));
        }
    }
    if let Some(status) = ensure_obj(obj, "status") {
        default_str(status, "phase", "Pending");
    }
}

/// Endpoints: port protocol.
pub(crate) fn endpoints(obj: &mut Value) {
    each_mut(obj, "subsets", |s| {
        each_mut(s, "ports", |p| {
            if p.is_object() {
                default_str(p, "protocol", "TCP");
            }
        });
    });
}

/// Nodes: allocatable falls back to capacity; NodeSpec, NodeDaemonEndpoints and
/// NodeSystemInfo are structs whose zero values Go prints.
pub(crate) fn node(obj: &mut Value) {
    ensure_obj(obj, "spec");
    let Some(status) = ensure_obj(obj, "status") else {
        return;
    };
    canonicalize_resource_list(child_mut(status, "capacity"));
    canonicalize_resource_list(child_mut(status, "allocatable"));
    if is_nil(status, "allocatable") && !is_nil(status, "capacity") {
        let cap = status.get("capacity").cloned().unwrap_or(Value::Null);
        set(status, "allocatable", cap);
    }
    if let Some(de) = ensure_obj(status, "daemonEndpoints") {
        if let Some(ke) = ensure_obj(de, "kubeletEndpoint") {
            default_ptr(ke, "Port", json!(0));
        }
    }
    if let Some(info) = ensure_obj(status, "nodeInfo") {
        for k in [
            "machineID",
            "systemUUID",
            "bootID",
            "kernelVersion",
            "osImage",
            "containerRuntimeVersion",
            "kubeletVersion",
            "kubeProxyVersion",
            "operatingSystem",
            "architecture",
        ] {
            default_ptr(info, k, json!(""));
        }
    }
}

/// LimitRanges: container defaults derive from max and min (`SetDefaults_LimitRangeItem`).
pub(crate) fn limit_range(obj: &mut Value) {
    let Some(spec) = child_mut(obj, "spec") else {
        return;
    };
    each_mut(spec, "limits", |item| {
        for k in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
            canonicalize_resource_list(child_mut(item, k));
        }
        if get_str(item, "type") != "Container" {
            return;
        }
        let get_map = |v: &Value, k: &str| v.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
        let max = get_map(item, "max");
        let min = get_map(item, "min");
        let mut default: Map<String, Value> = get_map(item, "default");
        let mut default_request: Map<String, Value> = get_map(item, "defaultRequest");
        for (k, v) in &max {
            default.entry(k.clone()).or_insert(v.clone());
        }
        for (k, v) in &default {
            default_request.entry(k.clone()).or_insert(v.clone());
        }
        for (k, v) in &min {
            default_request.entry(k.clone()).or_insert(v.clone());
        }
        // Empty maps are omitted by Go's omitempty.
        if !default.is_empty() {
            set(item, "default", Value::Object(default));
        }
        if !default_request.is_empty() {
            set(item, "defaultRequest", Value::Object(default_request));
        }
    });
}

/// ResourceQuotas: quantities in canonical form.
pub(crate) fn resource_quota(obj: &mut Value) {
    if let Some(spec) = child_mut(obj, "spec") {
        canonicalize_resource_list(child_mut(spec, "hard"));
    }
    if let Some(status) = child_mut(obj, "status") {
        canonicalize_resource_list(child_mut(status, "hard"));
        canonicalize_resource_list(child_mut(status, "used"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_roundtrip() {
        assert_eq!(base64_encode(b"admin"), "YWRtaW4=");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_decode("YWRtaW4=").as_deref(), Some(&b"admin"[..]));
        assert_eq!(base64_decode("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64_decode("!!!!"), None);
    }
}
