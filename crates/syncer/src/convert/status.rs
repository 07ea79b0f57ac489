//! Status upward: the super cluster owns the status of what it runs, so the tenant object's
//! status is made to say what the super object's says.

use serde_json::Value;

use super::json::{same, Map};
use super::Kind;

/// Condition the kubelet computes from containers and readiness gates.
const READY: &str = "Ready";

pub(super) fn up(kind: Kind, super_obj: &Value, tenant_obj: &Value) -> Option<Value> {
    // A super object without status yet (just created) says nothing; the tenant's stays.
    let status = super_obj.get("status").filter(|s| !s.is_null())?;
    let want = match kind {
        Kind::Namespace | Kind::ConfigMap | Kind::Secret | Kind::ServiceAccount | Kind::Endpoints => return None,
        Kind::Pod => pod(status, tenant_obj),
        Kind::Service => {
            let mut out = Map::new();
            for key in ["loadBalancer", "conditions"] {
                if let Some(v) = status.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            Value::Object(out)
        }
        Kind::PersistentVolumeClaim | Kind::Custom => status.clone(),
    };
    (!same(Some(&want), tenant_obj.get("status"))).then_some(want)
}

/// The super pod's status, except what is the tenant's:
/// - `qosClass` (immutable on the tenant pod, computed by the tenant API server),
/// - `observedGeneration` (generations count the tenant pod's own updates),
/// - statuses of containers the tenant pod does not have (injected by super-side webhooks),
/// - readiness-gate conditions, which tenant controllers write; Ready also requires them, as the
///   kubelet would require them (the super pod has no readiness gates).
fn pod(status: &Value, tenant: &Value) -> Value {
    let mut out = status.as_object().cloned().unwrap_or_default();
    let tenant_status = tenant.get("status");
    for key in ["qosClass", "observedGeneration"] {
        match tenant_status.and_then(|s| s.get(key)) {
            Some(v) => out.insert(key.into(), v.clone()),
            None => out.shift_remove(key),
        };
    }
    for (list, statuses) in [
        ("containers", "containerStatuses"),
        ("initContainers", "initContainerStatuses"),
        ("ephemeralContainers", "ephemeralContainerStatuses"),
    ] {
        let names: Vec<&str> = tenant
            .get("spec")
            .and_then(|s| s.get(list))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .collect();
        if let Some(Value::Array(items)) = out.get_mut(statuses) {
            items.retain(|s| s.get("name").and_then(Value::as_str).is_some_and(|n| names.contains(&n)));
        }
    }
    let gates: Vec<&str> = tenant
        .get("spec")
        .and_then(|s| s.get("readinessGates"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("conditionType").and_then(Value::as_str))
        .collect();
    if !gates.is_empty() {
        apply_gates(&mut out, tenant_status, &gates);
    }
    Value::Object(out)
}

fn condition_type(c: &Value) -> Option<&str> {
    c.get("type").and_then(Value::as_str)
}

fn apply_gates(out: &mut Map, tenant_status: Option<&Value>, gates: &[&str]) {
    let tenant_conditions: Vec<Value> = tenant_status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| condition_type(c).is_some_and(|t| gates.contains(&t)))
        .cloned()
        .collect();
    let mut conditions: Vec<Value> = out
        .get("conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| !condition_type(c).is_some_and(|t| gates.contains(&t)))
        .cloned()
        .collect();
    let missing: Vec<&str> = gates
        .iter()
        .copied()
        .filter(|g| {
            !tenant_conditions
                .iter()
                .any(|c| condition_type(c) == Some(*g) && c.get("status").and_then(Value::as_str) == Some("True"))
        })
        .collect();
    if let Some(first) = missing.first() {
        let tenant_ready = tenant_status
            .and_then(|s| s.get("conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| condition_type(c) == Some(READY)));
        for c in conditions.iter_mut().filter(|c| condition_type(c) == Some(READY)) {
            if c.get("status").and_then(Value::as_str) != Some("True") {
                continue;
            }
            // Same words as the kubelet; the transition time is the tenant's when it already said so.
            let since = tenant_ready
                .filter(|r| r.get("status").and_then(Value::as_str) == Some("False"))
                .and_then(|r| r.get("lastTransitionTime"))
                .or_else(|| c.get("lastTransitionTime"))
                .cloned();
            if let Some(c) = c.as_object_mut() {
                c.insert("status".into(), "False".into());
                c.insert("reason".into(), "ReadinessGatesNotReady".into());
                c.insert(
                    "message".into(),
                    format!("corresponding condition of pod readiness gate \"{first}\" does not exist.").into(),
                );
                if let Some(since) = since {
                    c.insert("lastTransitionTime".into(), since);
                }
            }
        }
    }
    conditions.extend(tenant_conditions);
    out.insert("conditions".into(), Value::Array(conditions));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tenant_pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "prod"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "nginx"}],
                "initContainers": [{"name": "init", "image": "busybox"}]},
            "status": {"phase": "Pending", "qosClass": "Burstable"}})
    }

    fn super_pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "k-prod"},
            "spec": {"nodeName": "node-1"},
            "status": {"phase": "Running", "qosClass": "BestEffort", "observedGeneration": 3,
                "hostIP": "10.0.0.9", "hostIPs": [{"ip": "10.0.0.9"}],
                "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}], "startTime": "2025-01-01T00:00:02Z",
                "conditions": [
                    {"type": "Initialized", "status": "True", "lastTransitionTime": "2025-01-01T00:00:03Z"},
                    {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:05Z"},
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-01-01T00:00:01Z"}],
                "containerStatuses": [
                    {"name": "app", "ready": true, "restartCount": 0, "image": "nginx", "state": {"running": {}}},
                    {"name": "mesh-proxy", "ready": true, "restartCount": 0, "image": "envoy", "state": {"running": {}}}],
                "initContainerStatuses": [{"name": "init", "ready": true, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0}}}]}})
    }

    #[test]
    fn pod_status_comes_up_with_the_tenant_qos_class() {
        let up = up(Kind::Pod, &super_pod(), &tenant_pod()).unwrap();
        assert_eq!(up["phase"], "Running");
        assert_eq!(up["podIP"], "10.244.1.5");
        assert_eq!(up["hostIPs"], json!([{"ip": "10.0.0.9"}]));
        assert_eq!(up["qosClass"], "Burstable");
        assert!(up.get("observedGeneration").is_none());
        assert_eq!(up["containerStatuses"].as_array().unwrap().len(), 1, "injected sidecar hidden");
        assert_eq!(up["initContainerStatuses"][0]["name"], "init");
        assert_eq!(up["conditions"], super_pod()["status"]["conditions"]);

        let mut t = tenant_pod();
        t["status"] = up;
        assert_eq!(super::up(Kind::Pod, &super_pod(), &t), None);
    }

    #[test]
    fn readiness_gates_hold_ready_until_the_tenant_condition_is_true() {
        let mut t = tenant_pod();
        t["spec"]["readinessGates"] = json!([{"conditionType": "example.com/lb-ready"}]);
        let first = up(Kind::Pod, &super_pod(), &t).unwrap();
        let ready = first["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Ready").unwrap().clone();
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["reason"], "ReadinessGatesNotReady");
        t["status"] = first;
        assert_eq!(up(Kind::Pod, &super_pod(), &t), None, "stable once written");

        // a tenant controller sets the gate: Ready follows the super pod again, the gate stays
        let gate =
            json!({"type": "example.com/lb-ready", "status": "True", "lastTransitionTime": "2025-01-01T00:01:00Z"});
        t["status"]["conditions"].as_array_mut().unwrap().push(gate.clone());
        let second = up(Kind::Pod, &super_pod(), &t).unwrap();
        let conditions = second["conditions"].as_array().unwrap();
        assert_eq!(conditions.iter().find(|c| c["type"] == "Ready").unwrap()["status"], "True");
        assert!(conditions.contains(&gate));
    }

    #[test]
    fn kinds_without_upward_status() {
        for kind in [Kind::Namespace, Kind::ConfigMap, Kind::Secret, Kind::ServiceAccount, Kind::Endpoints] {
            assert_eq!(up(kind, &json!({"status": {"phase": "Active"}}), &json!({})), None);
        }
    }

    #[test]
    fn empty_and_missing_status_are_the_same() {
        let s = json!({"status": {"loadBalancer": {}}});
        assert_eq!(up(Kind::Service, &s, &json!({"status": {"loadBalancer": {}}})), None);
        assert_eq!(up(Kind::Custom, &json!({"status": {}}), &json!({})), None);
        assert_eq!(up(Kind::Custom, &json!({}), &json!({"status": {"x": 1}})), None);
    }
}
