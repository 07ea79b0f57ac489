//! Service update handling from pkg/registry/core/service/strategy.go: allocated values
//! survive a resubmitted manifest, and switching type drops what the new type cannot use.

use super::json::*;
use serde_json::{json, Value};

fn needs_cluster_ip(s: &Value) -> bool {
    get_str(s, "type") != "ExternalName"
}

fn needs_node_port(s: &Value) -> bool {
    match get_str(s, "type") {
        "NodePort" => true,
        "LoadBalancer" => s.get("allocateLoadBalancerNodePorts").and_then(Value::as_bool).unwrap_or(true),
        _ => false,
    }
}

fn needs_hc_node_port(s: &Value) -> bool {
    get_str(s, "type") == "LoadBalancer" && get_str(s, "externalTrafficPolicy") == "Local"
}

fn node_ports(s: &Value) -> Vec<i64> {
    get_arr(s, "ports").into_iter().flatten().filter_map(|p| get_i64(p, "nodePort")).filter(|n| *n != 0).collect()
}

fn same(a: &Value, b: &Value, k: &str) -> bool {
    a.get(k) == b.get(k)
}

fn remove(v: &mut Value, k: &str) {
    if let Some(m) = v.as_object_mut() {
        m.remove(k);
    }
}

/// patchAllocatedValues, NormalizeClusterIPs (update) and dropTypeDependentFields.
pub(crate) fn prepare(obj: &mut Value, old: &Value) {
    let Some(os) = old.get("spec").cloned() else {
        return;
    };
    let Some(ns) = ensure_obj(obj, "spec") else {
        return;
    };
    // patchAllocatedValues: a resubmitted manifest keeps what was allocated.
    if needs_cluster_ip(&os) && needs_cluster_ip(ns) {
        if get_str(ns, "clusterIP").is_empty() && !get_str(&os, "clusterIP").is_empty() {
            set(ns, "clusterIP", os.get("clusterIP").cloned().unwrap_or(Value::Null));
        }
        if map_empty(ns, "clusterIPs") && !map_empty(&os, "clusterIPs") {
            set(ns, "clusterIPs", os.get("clusterIPs").cloned().unwrap_or(Value::Null));
        }
    }
    if needs_node_port(&os) && needs_node_port(ns) {
        let used_new = node_ports(ns);
        let used: Vec<i64> = node_ports(&os).into_iter().filter(|p| used_new.contains(p)).collect();
        let by_name: Vec<(String, i64)> = get_arr(&os, "ports")
            .into_iter()
            .flatten()
            .map(|p| (get_str(p, "name").to_string(), get_i64(p, "nodePort").unwrap_or(0)))
            .collect();
        each_mut(ns, "ports", |p| {
            if get_i64(p, "nodePort").unwrap_or(0) == 0 {
                let name = get_str(p, "name").to_string();
                let old_val = by_name.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or(0);
                if old_val != 0 && !used.contains(&old_val) {
                    set(p, "nodePort", json!(old_val));
                }
            }
        });
    }
    if needs_hc_node_port(&os) && needs_hc_node_port(ns) && get_i64(ns, "healthCheckNodePort").unwrap_or(0) == 0 {
        if let Some(v) = os.get("healthCheckNodePort").cloned() {
            set(ns, "healthCheckNodePort", v);
        }
    }
    // NormalizeClusterIPs on update: keep clusterIP and clusterIPs in step for old clients.
    let (oc, nc) = (get_str(&os, "clusterIP").to_string(), get_str(ns, "clusterIP").to_string());
    let same_ips = ns.get("clusterIPs") == os.get("clusterIPs");
    if !oc.is_empty() && nc.is_empty() && same_ips {
        remove(ns, "clusterIPs");
    } else if !oc.is_empty() && !nc.is_empty() && oc != nc && same_ips {
        set(ns, "clusterIPs", json!([nc]));
    }
    // dropTypeDependentFields: switching type wipes what the new type cannot use, unless
    // the client also changed it (then validation decides).
    if !needs_cluster_ip(ns) && needs_cluster_ip(&os) {
        if same(ns, &os, "clusterIP") && same(ns, &os, "clusterIPs") {
            remove(ns, "clusterIP");
            remove(ns, "clusterIPs");
        }
        if same(ns, &os, "ipFamilies") {
            remove(ns, "ipFamilies");
        }
        if same(ns, &os, "ipFamilyPolicy") {
            remove(ns, "ipFamilyPolicy");
        }
    }
    if !needs_node_port(ns) && needs_node_port(&os) && node_ports(ns) == node_ports(&os) {
        each_mut(ns, "ports", |p| remove(p, "nodePort"));
    }
    if !needs_hc_node_port(ns) && needs_hc_node_port(&os) && same(ns, &os, "healthCheckNodePort") {
        remove(ns, "healthCheckNodePort");
    }
    let was_lb = get_str(&os, "type") == "LoadBalancer";
    let is_lb = get_str(ns, "type") == "LoadBalancer";
    if was_lb && !is_lb {
        if same(ns, &os, "allocateLoadBalancerNodePorts") {
            remove(ns, "allocateLoadBalancerNodePorts");
        }
        if same(ns, &os, "loadBalancerClass") {
            remove(ns, "loadBalancerClass");
        }
    }
    let ext = |s: &Value| match get_str(s, "type") {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => !map_empty(s, "externalIPs"),
        _ => false,
    };
    if ext(&os) && !ext(ns) && same(ns, &os, "externalTrafficPolicy") {
        remove(ns, "externalTrafficPolicy");
    }
    if !is_lb {
        if let Some(status) = ensure_obj(obj, "status") {
            set(status, "loadBalancer", json!({}));
        }
    }
}
