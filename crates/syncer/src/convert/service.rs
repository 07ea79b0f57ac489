//! Services: the tenant's spec minus what the super cluster allocates itself (cluster IPs, IP
//! families, node ports), because the tenant's allocations come from another IP range and
//! would collide between tenants.

use serde_json::Value;

use super::json::{obj_mut, objs_mut, Map};

/// Spec fields the super API server allocates; never taken from the tenant.
const ALLOCATED: &[&str] = &["clusterIP", "clusterIPs", "ipFamilies", "healthCheckNodePort"];

fn headless(spec: &Map) -> bool {
    spec.get("clusterIP").and_then(Value::as_str) == Some("None")
}

pub(super) fn desired(out: &mut Map, tenant: &Value) {
    let Some(mut spec) = tenant.get("spec").and_then(Value::as_object).cloned() else {
        return;
    };
    let keep_ips = headless(&spec);
    for key in ALLOCATED {
        // "None" is the tenant's choice of a headless service, not an allocation.
        if !(keep_ips && (*key == "clusterIP" || *key == "clusterIPs")) {
            spec.shift_remove(*key);
        }
    }
    for port in objs_mut(&mut spec, "ports") {
        port.shift_remove("nodePort");
    }
    out.insert("spec".into(), Value::Object(spec));
}

/// (port, protocol) of a service port; protocol defaults to TCP as in the API.
fn port_key(port: &Map) -> (Option<i64>, String) {
    let number = port.get("port").and_then(Value::as_i64);
    let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string();
    (number, protocol)
}

/// Whether the service type asks for node ports.
fn uses_node_ports(spec: &Map) -> bool {
    matches!(spec.get("type").and_then(Value::as_str), Some("NodePort" | "LoadBalancer"))
}

pub(super) fn merge(out: &mut Map, desired: &Value) {
    let Some(want) = desired.get("spec").and_then(Value::as_object) else {
        return;
    };
    let Some(spec) = obj_mut(out, "spec") else {
        return;
    };
    let old_ports: Vec<Map> = spec
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_object().cloned())
        .collect();
    for (key, value) in want {
        if !ALLOCATED.contains(&key.as_str()) {
            spec.insert(key.clone(), value.clone());
        }
    }
    // A port keeps the node port the super cluster gave it, as long as the type still uses
    // node ports (else the API server would reject or drop it anyway).
    if uses_node_ports(spec) {
        for port in objs_mut(spec, "ports") {
            if port.contains_key("nodePort") {
                continue;
            }
            let key = port_key(port);
            if let Some(node_port) = old_ports.iter().find(|p| port_key(p) == key).and_then(|p| p.get("nodePort")) {
                port.insert("nodePort".into(), node_port.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::super::{desired, merge, status_up, Downward, Kind};

    fn down(t: &Value) -> Value {
        let labels = BTreeMap::from([("nestor.dev/cluster".to_string(), "blue-1a2b3c4d".to_string())]);
        let annotations = BTreeMap::new();
        let rename = |_: &str, _: &str| None;
        let ctx = Downward {
            name: "web",
            namespace: Some("blue-1a2b3c4d-prod"),
            labels: &labels,
            annotations: &annotations,
            apiserver: None,
            rename: &rename,
            token_secret: None,
        };
        desired(Kind::Service, t, &ctx)
    }

    use serde_json::Value;

    fn tenant_lb() -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "prod", "uid": "t-uid", "resourceVersion": "3",
                "labels": {"app": "web"}},
            "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"], "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack", "externalTrafficPolicy": "Local", "healthCheckNodePort": 31999,
                "sessionAffinity": "None", "internalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": true,
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30080},
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53, "nodePort": 30053}]},
            "status": {"loadBalancer": {}}})
    }

    /// The super API server allocates its own IPs and ports for a created service.
    fn stored(d: &Value) -> Value {
        let mut s = d.clone();
        s["metadata"]["uid"] = json!("s-uid");
        s["metadata"]["resourceVersion"] = json!("77");
        s["spec"]["clusterIP"] = json!("10.0.5.5");
        s["spec"]["clusterIPs"] = json!(["10.0.5.5"]);
        s["spec"]["ipFamilies"] = json!(["IPv4"]);
        s["spec"]["healthCheckNodePort"] = json!(32111);
        s["spec"]["ports"][0]["nodePort"] = json!(31080);
        s["spec"]["ports"][1]["nodePort"] = json!(31053);
        s["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7", "ipMode": "VIP"}]}});
        s
    }

    #[test]
    fn allocated_fields_are_left_to_the_super_cluster() {
        let d = down(&tenant_lb());
        let spec = &d["spec"];
        for key in ["clusterIP", "clusterIPs", "ipFamilies", "healthCheckNodePort"] {
            assert!(spec.get(key).is_none(), "{key}");
        }
        assert!(spec["ports"][0].get("nodePort").is_none());
        assert_eq!(spec["ports"][0]["targetPort"], 8080);
        assert_eq!(spec["externalTrafficPolicy"], "Local");
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
        assert!(d.get("status").is_none());
    }

    #[test]
    fn headless_stays_headless() {
        let t = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
            "spec": {"clusterIP": "None", "clusterIPs": ["None"], "ipFamilies": ["IPv4"], "selector": {"app": "db"},
                "ports": [{"port": 5432, "protocol": "TCP", "targetPort": 5432}]}});
        let d = down(&t);
        assert_eq!(d["spec"]["clusterIP"], "None");
        assert_eq!(d["spec"]["clusterIPs"], json!(["None"]));
        assert!(d["spec"].get("ipFamilies").is_none());
    }

    #[test]
    fn merge_keeps_allocations_and_is_stable() {
        let d = down(&tenant_lb());
        let actual = stored(&d);
        assert_eq!(merge(Kind::Service, &actual, &d), actual);
        let once = merge(Kind::Service, &actual, &d);
        assert_eq!(merge(Kind::Service, &once, &d), once);
    }

    #[test]
    fn merge_takes_tenant_spec_changes() {
        let d = down(&tenant_lb());
        let actual = stored(&d);
        let mut t2 = tenant_lb();
        t2["spec"]["selector"] = json!({"app": "web", "track": "canary"});
        // a port removed, one added, and the UDP port's target changed
        t2["spec"]["ports"] = json!([{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353, "nodePort": 30053},
            {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443, "nodePort": 30443}]);
        let d2 = down(&t2);
        let m = merge(Kind::Service, &actual, &d2);
        assert_eq!(m["spec"]["selector"], json!({"app": "web", "track": "canary"}));
        assert_eq!(
            m["spec"]["ports"],
            json!([{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353, "nodePort": 31053},
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}])
        );
        assert_eq!(m["spec"]["clusterIP"], "10.0.5.5");
        assert_eq!(m["spec"]["healthCheckNodePort"], 32111);
        assert_eq!(m["metadata"]["resourceVersion"], "77");
        assert_eq!(merge(Kind::Service, &m, &d2), m);
    }

    #[test]
    fn node_ports_go_when_the_type_no_longer_uses_them() {
        let d = down(&tenant_lb());
        let actual = stored(&d);
        let mut t2 = tenant_lb();
        t2["spec"]["type"] = json!("ClusterIP");
        let m = merge(Kind::Service, &actual, &down(&t2));
        assert_eq!(m["spec"]["type"], "ClusterIP");
        assert!(m["spec"]["ports"][0].get("nodePort").is_none());
    }

    #[test]
    fn status_up_carries_the_load_balancer() {
        let t = tenant_lb();
        let actual = stored(&down(&t));
        let up = status_up(Kind::Service, &actual, &t);
        assert_eq!(up, Some(json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7", "ipMode": "VIP"}]}})));
        let mut t2 = t.clone();
        t2["status"] = up.unwrap();
        assert_eq!(status_up(Kind::Service, &actual, &t2), None);
    }
}
