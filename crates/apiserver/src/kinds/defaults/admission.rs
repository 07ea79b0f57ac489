//! What kube-apiserver's default admission plugins and the pod registry strategy add to a
//! Pod on create: these are not in defaults.go, but every `kubectl create --dry-run=server`
//! shows them. Only Pod objects get them, never pod templates.

use serde_json::{json, Value};

use super::json::*;
use super::quantity::Quantity;

/// DefaultTolerationSeconds admission plugin: tolerate not-ready/unreachable for 300s unless
/// the pod already tolerates them (an empty key or empty effect counts as tolerating).
pub(crate) fn default_toleration_seconds(pod: &mut Value) {
    let Some(spec) = child_mut(pod, "spec").filter(|v| v.is_object()) else {
        return;
    };
    let tolerates = |spec: &Value, taint: &str| {
        get_arr(spec, "tolerations").into_iter().flatten().any(|t| {
            let k = get_str(t, "key");
            let e = get_str(t, "effect");
            (k == taint || k.is_empty()) && (e == "NoExecute" || e.is_empty())
        })
    };
    let mut add = Vec::new();
    for taint in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        if !tolerates(spec, taint) {
            add.push(json!({"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    if add.is_empty() {
        return;
    }
    if is_nil(spec, "tolerations") {
        set(spec, "tolerations", json!([]));
    }
    if let Some(Value::Array(list)) = child_mut(spec, "tolerations") {
        list.extend(add);
    }
}

/// The built-in PriorityClasses every cluster has.
fn system_priority(name: &str) -> Option<i64> {
    match name {
        "system-node-critical" => Some(2_000_001_000),
        "system-cluster-critical" => Some(2_000_000_000),
        _ => None,
    }
}

/// Priority admission plugin on create. Without a priorityClassName (and with no
/// globalDefault PriorityClass, which the caller must look up) the pod gets priority 0 and
/// PreemptLowerPriority. Other class names need a PriorityClass lookup and are left to the
/// caller; system classes are resolved here.
pub(crate) fn default_priority(pod: &mut Value) {
    let Some(spec) = child_mut(pod, "spec").filter(|v| v.is_object()) else {
        return;
    };
    let class = get_str(spec, "priorityClassName").to_string();
    let value = if class.is_empty() { Some(0) } else { system_priority(&class) };
    if let Some(v) = value {
        default_ptr(spec, "priority", json!(v));
        default_ptr(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
}

/// ServiceAccount admission plugin: pods run as "default" unless told otherwise (mirror
/// pods excepted). Checking that the ServiceAccount exists is the caller's job.
pub(crate) fn default_service_account(pod: &mut Value) {
    let mirror = at(pod, &["metadata", "annotations", "kubernetes.io/config.mirror"]).is_some();
    let Some(spec) = child_mut(pod, "spec").filter(|v| v.is_object()) else {
        return;
    };
    if !mirror && get_str(spec, "serviceAccountName").is_empty() {
        set(spec, "serviceAccountName", json!("default"));
        set(spec, "serviceAccount", json!("default"));
    }
}

/// Adds the projected `kube-api-access-<suffix>` volume and its mounts, as the ServiceAccount
/// admission plugin does when the pod and its ServiceAccount do not opt out of automounting.
/// kube picks `suffix` as 5 random characters from "bcdfghjklmnpqrstvwxz2456789".
pub fn add_service_account_token_volume(pod: &mut Value, suffix: &str) {
    const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
    let Some(spec) = child_mut(pod, "spec").filter(|v| v.is_object()) else {
        return;
    };
    if spec.get("automountServiceAccountToken").and_then(Value::as_bool) == Some(false) {
        return;
    }
    // A container that already mounts something at the token path keeps its own.
    let already = ["containers", "initContainers"].iter().any(|l| {
        get_arr(spec, l)
            .into_iter()
            .flatten()
            .any(|c| get_arr(c, "volumeMounts").into_iter().flatten().any(|m| get_str(m, "mountPath") == MOUNT_PATH))
    });
    if already {
        return;
    }
    let name = format!("kube-api-access-{suffix}");
    let volume = json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                // 3607 is kube's "warn after 1h" expiration, not a typo.
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]
        }
    });
    if is_nil(spec, "volumes") {
        set(spec, "volumes", json!([]));
    }
    if let Some(Value::Array(v)) = child_mut(spec, "volumes") {
        v.push(volume);
    }
    for list in ["initContainers", "containers"] {
        each_mut(spec, list, |c| {
            if is_nil(c, "volumeMounts") {
                set(c, "volumeMounts", json!([]));
            }
            if let Some(Value::Array(m)) = child_mut(c, "volumeMounts") {
                m.push(json!({"name": name, "readOnly": true, "mountPath": MOUNT_PATH}));
            }
        });
    }
}

/// `qos.ComputePodQOS`: Guaranteed, Burstable or BestEffort from cpu/memory of all
/// regular and init containers.
pub(crate) fn qos_class(pod: &Value) -> String {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let mut requests: Vec<(String, Quantity)> = Vec::new();
    let mut limits: Vec<(String, Quantity)> = Vec::new();
    let mut guaranteed = true;
    let add = |acc: &mut Vec<(String, Quantity)>, k: &str, q: Quantity| match acc.iter_mut().find(|(n, _)| n == k) {
        Some((_, sum)) => *sum = sum.add(&q),
        None => acc.push((k.to_string(), q)),
    };
    let zero = Quantity::zero();
    for list in ["containers", "initContainers"] {
        for c in get_arr(&spec, list).into_iter().flatten() {
            let res = c.get("resources").cloned().unwrap_or(Value::Null);
            for (k, v) in get_obj(&res, "requests").into_iter().flatten() {
                if k != "cpu" && k != "memory" {
                    continue;
                }
                if let Ok(q) = Quantity::from_json(v) {
                    if q.cmp_value(&zero).is_gt() {
                        add(&mut requests, k, q);
                    }
                }
            }
            let mut found = Vec::new();
            for (k, v) in get_obj(&res, "limits").into_iter().flatten() {
                if k != "cpu" && k != "memory" {
                    continue;
                }
                if let Ok(q) = Quantity::from_json(v) {
                    if q.cmp_value(&zero).is_gt() {
                        found.push(k.as_str());
                        add(&mut limits, k, q);
                    }
                }
            }
            if !(found.contains(&"cpu") && found.contains(&"memory")) {
                guaranteed = false;
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort".to_string();
    }
    if guaranteed {
        for (k, req) in &requests {
            match limits.iter().find(|(n, _)| n == k) {
                Some((_, lim)) if lim.cmp_value(req).is_eq() => {}
                _ => {
                    guaranteed = false;
                    break;
                }
            }
        }
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed".to_string()
    } else {
        "Burstable".to_string()
    }
}

/// The pod strategy's PrepareForCreate: status is replaced by {phase: Pending, qosClass},
/// gated pods get a PodScheduled=False condition, and pod (anti-)affinity
/// matchLabelKeys/mismatchLabelKeys are folded into the label selector
/// (MatchLabelKeysInPodAffinity is beta and on in 1.32).
pub(crate) fn pod_prepare_for_create(pod: &mut Value) {
    mutate_pod_affinity(pod);
    let qos = qos_class(pod);
    let gated = at(pod, &["spec", "schedulingGates"]).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let mut status = json!({"phase": "Pending", "qosClass": qos});
    if gated {
        set(
            &mut status,
            "conditions",
            json!([{
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": null,
                "lastTransitionTime": null,
                "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates"
            }]),
        );
    }
    set(pod, "status", status);
}

fn mutate_pod_affinity(pod: &mut Value) {
    let labels = at(pod, &["metadata", "labels"]).cloned().unwrap_or(Value::Null);
    let Some(aff) = child_mut(pod, "spec").and_then(|s| child_mut(s, "affinity")).filter(|v| v.is_object()) else {
        return;
    };
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pa) = child_mut(aff, kind).filter(|v| v.is_object()) else {
            continue;
        };
        each_mut(pa, "requiredDuringSchedulingIgnoredDuringExecution", |t| apply_label_keys(t, &labels));
        each_mut(pa, "preferredDuringSchedulingIgnoredDuringExecution", |w| {
            if let Some(t) = child_mut(w, "podAffinityTerm") {
                apply_label_keys(t, &labels);
            }
        });
    }
}

fn apply_label_keys(term: &mut Value, labels: &Value) {
    let keys = |k: &str| -> Vec<String> {
        get_arr(term, k).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
    };
    let (matching, mismatching) = (keys("matchLabelKeys"), keys("mismatchLabelKeys"));
    if matching.is_empty() && mismatching.is_empty() {
        return;
    }
    // A nil selector matches nothing, so there is nothing to narrow.
    let Some(sel) = child_mut(term, "labelSelector").filter(|v| v.is_object()) else {
        return;
    };
    let mut add = Vec::new();
    for (list, op) in [(&matching, "In"), (&mismatching, "NotIn")] {
        for k in list {
            if let Some(v) = labels.get(k.as_str()).and_then(Value::as_str) {
                add.push(json!({"key": k, "operator": op, "values": [v]}));
            }
        }
    }
    if add.is_empty() {
        return;
    }
    if is_nil(sel, "matchExpressions") {
        set(sel, "matchExpressions", json!([]));
    }
    if let Some(Value::Array(e)) = child_mut(sel, "matchExpressions") {
        e.extend(add);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_with(resources: Value) -> Value {
        json!({"spec": {"containers": [{"name": "c", "resources": resources}]}})
    }

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&pod_with(json!({}))), "BestEffort");
        assert_eq!(qos_class(&pod_with(json!({"requests": {"cpu": "100m"}}))), "Burstable");
        assert_eq!(
            qos_class(&pod_with(
                json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}})
            )),
            "Guaranteed"
        );
        assert_eq!(
            qos_class(&pod_with(
                json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}})
            )),
            "Burstable"
        );
    }

    #[test]
    fn tolerations_respect_existing_ones() {
        let mut pod = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        default_toleration_seconds(&mut pod);
        assert_eq!(pod["spec"]["tolerations"].as_array().map(Vec::len), Some(1));
        let mut pod = json!({"spec": {"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]}});
        default_toleration_seconds(&mut pod);
        assert_eq!(pod["spec"]["tolerations"][1]["key"], "node.kubernetes.io/unreachable");
    }

    #[test]
    fn affinity_label_keys() {
        let mut pod = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "kubernetes.io/hostname", "labelSelector": {}, "matchLabelKeys": ["app"]}]
        }}}});
        pod_prepare_for_create(&mut pod);
        assert_eq!(
            pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
                ["labelSelector"],
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]})
        );
    }
}
