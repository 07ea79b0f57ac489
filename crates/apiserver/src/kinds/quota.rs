//! ResourceQuota accounting, as kube's quota evaluators count: what one object uses of a
//! namespace's quota (`usage`), whether a quota lets it in (`admit`, with kube's
//! "exceeded quota" and "must specify" words), and the usage of a set of objects (the quota
//! controller's recalculation).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::defaults::quantity::Quantity;

/// Resource name → amount.
pub(crate) type Usage = BTreeMap<String, Quantity>;

/// The resources a pod must name in every container when a quota limits them.
const COMPUTE: &[(&str, &str)] = &[
    ("cpu", "requests"),
    ("memory", "requests"),
    ("requests.cpu", "requests"),
    ("requests.memory", "requests"),
    ("limits.cpu", "limits"),
    ("limits.memory", "limits"),
];

fn add(usage: &mut Usage, key: &str, amount: Quantity) {
    let sum = usage.get(key).map_or(amount, |q| q.add(&amount));
    usage.insert(key.to_string(), sum);
}

fn one() -> Quantity {
    Quantity::from_int(1)
}

/// A container's request or limit of a resource.
fn amount(container: &Value, kind: &str, resource: &str) -> Option<Quantity> {
    container.pointer(&format!("/resources/{kind}/{resource}")).and_then(|v| Quantity::from_json(v).ok())
}

/// What `obj` of `resource` (in `group`) uses: its `count/` and, for the kinds kube counts
/// by name, the object count, a pod's compute requests and limits, a claim's storage, a
/// service's node ports and load balancers. Finished pods use nothing.
pub(crate) fn usage(group: &str, resource: &str, obj: &Value) -> Usage {
    let mut usage = Usage::new();
    let phase = obj.pointer("/status/phase").and_then(Value::as_str);
    if group.is_empty() && resource == "pods" && matches!(phase, Some("Succeeded" | "Failed")) {
        return usage;
    }
    let count = if group.is_empty() { format!("count/{resource}") } else { format!("count/{resource}.{group}") };
    add(&mut usage, &count, one());
    if !group.is_empty() {
        return usage;
    }
    match resource {
        "pods"
        | "services"
        | "configmaps"
        | "secrets"
        | "persistentvolumeclaims"
        | "replicationcontrollers"
        | "resourcequotas" => add(&mut usage, resource, one()),
        _ => {}
    }
    match resource {
        "pods" => {
            let spec = obj.get("spec").unwrap_or(&Value::Null);
            let list = |field: &str| spec.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
            for (kind, resource_name, keys) in [
                ("requests", "cpu", ["requests.cpu", "cpu"]),
                ("requests", "memory", ["requests.memory", "memory"]),
                ("limits", "cpu", ["limits.cpu", ""]),
                ("limits", "memory", ["limits.memory", ""]),
            ] {
                let sum = list("containers")
                    .iter()
                    .filter_map(|c| amount(c, kind, resource_name))
                    .fold(Quantity::zero(), |a, b| a.add(&b));
                let init = list("initContainers").iter().filter_map(|c| amount(c, kind, resource_name)).fold(
                    Quantity::zero(),
                    |a, b| {
                        if b.cmp_value(&a).is_gt() {
                            b
                        } else {
                            a
                        }
                    },
                );
                let total = if init.cmp_value(&sum).is_gt() { init } else { sum };
                for key in keys.iter().filter(|k| !k.is_empty()) {
                    add(&mut usage, key, total);
                }
            }
        }
        "persistentvolumeclaims" => {
            if let Some(q) = obj.pointer("/spec/resources/requests/storage").and_then(|v| Quantity::from_json(v).ok()) {
                add(&mut usage, "requests.storage", q);
            }
        }
        "services" => {
            let kind = obj.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
            if kind == "LoadBalancer" {
                add(&mut usage, "services.loadbalancers", one());
            }
            if kind == "NodePort" || kind == "LoadBalancer" {
                let ports = obj.pointer("/spec/ports").and_then(Value::as_array).map_or(0, Vec::len);
                add(&mut usage, "services.nodeports", Quantity::from_int(ports as i64));
            }
        }
        _ => {}
    }
    usage
}

fn quantities(v: Option<&Value>) -> Usage {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), Quantity::from_json(v).ok()?))).collect())
        .unwrap_or_default()
}

/// `a=1,b=2`, as kube prints resource lists in quota errors.
fn pretty(list: &Usage) -> String {
    list.iter().map(|(k, v)| format!("{k}={}", v.canonical())).collect::<Vec<_>>().join(",")
}

/// Whether `quota` admits an object of `usage` (a pod also needs every container to name
/// the compute resources the quota limits). `Ok(Some(used))` is the quota's new
/// `status.used` when the object counts against it; `Err` is kube's refusal, the text after
/// `<kind> "name" is forbidden: `.
pub(crate) fn admit(quota: &Value, usage: &Usage, pod_spec: Option<&Value>) -> Result<Option<Value>, String> {
    let name = quota.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let hard = quantities(quota.pointer("/spec/hard"));
    if let Some(spec) = pod_spec {
        let mut missing: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (resource, kind) in COMPUTE.iter().filter(|(r, _)| hard.contains_key(*r)) {
            let bare = resource.rsplit('.').next().unwrap_or(resource);
            for list in ["initContainers", "containers"] {
                for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
                    if amount(c, kind, bare).is_none() {
                        missing
                            .entry(resource)
                            .or_default()
                            .push(c.get("name").and_then(Value::as_str).unwrap_or("").to_string());
                    }
                }
            }
        }
        if !missing.is_empty() {
            let parts: Vec<String> = missing
                .iter_mut()
                .map(|(r, names)| {
                    names.sort();
                    names.dedup();
                    format!("{r} for: {}", names.join(","))
                })
                .collect();
            return Err(format!("failed quota: {name}: must specify {}", parts.join("; ")));
        }
    }
    let charged: Usage = usage.iter().filter(|(k, _)| hard.contains_key(*k)).map(|(k, v)| (k.clone(), *v)).collect();
    if charged.is_empty() {
        return Ok(None);
    }
    let used = quantities(quota.pointer("/status/used"));
    let mut next = used.clone();
    let (mut requested, mut was, mut limited) = (Usage::new(), Usage::new(), Usage::new());
    for (resource, amount) in &charged {
        let before = used.get(resource).copied().unwrap_or_else(Quantity::zero);
        let after = before.add(amount);
        if after.cmp_value(&hard[resource]).is_gt() {
            requested.insert(resource.clone(), *amount);
            was.insert(resource.clone(), before);
            limited.insert(resource.clone(), hard[resource]);
        }
        next.insert(resource.clone(), after);
    }
    if !requested.is_empty() {
        return Err(format!(
            "exceeded quota: {name}, requested: {}, used: {}, limited: {}",
            pretty(&requested),
            pretty(&was),
            pretty(&limited)
        ));
    }
    Ok(Some(Value::Object(next.iter().map(|(k, v)| (k.clone(), json!(v.canonical()))).collect::<Map<_, _>>())))
}

/// The `status` a quota should show for objects using `total` in its namespace: its hard
/// limits and, for each, what is used.
pub(crate) fn status(quota: &Value, total: &Usage) -> Value {
    let hard = quota.pointer("/spec/hard").cloned().unwrap_or_else(|| json!({}));
    let used: Map<String, Value> = quantities(Some(&hard))
        .keys()
        .map(|k| (k.clone(), json!(total.get(k).copied().unwrap_or_else(Quantity::zero).canonical())))
        .collect();
    json!({"hard": hard, "used": used})
}

/// Adds one object's usage into a namespace total.
pub(crate) fn accumulate(total: &mut Usage, usage: &Usage) {
    for (k, v) in usage {
        add(total, k, *v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(cpu: &str) -> Value {
        json!({"spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}}]}})
    }

    #[test]
    fn pods_count_and_request_and_exceed_in_kube_words() {
        let quota = json!({"metadata": {"name": "compute"}, "spec": {"hard": {"pods": "2", "requests.cpu": "1"}},
            "status": {"used": {"pods": "1", "requests.cpu": "600m"}}});
        let small = usage("", "pods", &pod("300m"));
        assert_eq!(small["count/pods"].canonical(), "1");
        let next = admit(&quota, &small, pod("300m").get("spec")).unwrap().unwrap();
        assert_eq!(next, json!({"pods": "2", "requests.cpu": "900m"}));
        let big = usage("", "pods", &pod("500m"));
        assert_eq!(
            admit(&quota, &big, pod("500m").get("spec")).unwrap_err(),
            "exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1"
        );
        let bare = json!({"spec": {"containers": [{"name": "app"}]}});
        assert_eq!(
            admit(&quota, &usage("", "pods", &bare), bare.get("spec")).unwrap_err(),
            "failed quota: compute: must specify requests.cpu for: app"
        );
        assert!(usage("", "pods", &json!({"status": {"phase": "Succeeded"}})).is_empty());
        assert_eq!(usage("apps", "deployments", &json!({})).keys().collect::<Vec<_>>(), ["count/deployments.apps"]);
    }
}
