//! HorizontalPodAutoscalers are stored as `autoscaling/v2` and also served as `autoscaling/v1`,
//! converted as kube does (pkg/apis/autoscaling/v1/conversion.go): v1's CPU target is the v2
//! CPU utilization metric; v2 details v1 cannot say travel in `autoscaling.alpha.kubernetes.io/*`
//! annotations.

use serde_json::{json, Value};

const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";

fn is_cpu_utilization(metric: &Value) -> bool {
    metric.get("type") == Some(&json!("Resource"))
        && metric.pointer("/resource/name") == Some(&json!("cpu"))
        && metric.pointer("/resource/target/type") == Some(&json!("Utilization"))
}

fn take(obj: &mut Value, pointer: &str, field: &str) -> Option<Value> {
    obj.pointer_mut(pointer)?.as_object_mut()?.remove(field)
}

/// The object at `field` of `obj`, made an object if it is missing or of another type.
fn object_at<'a>(obj: &'a mut Value, field: &str) -> Option<&'a mut serde_json::Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let entry = map.entry(field).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut()
}

fn annotate(obj: &mut Value, key: &str, value: &Value) {
    if let (Ok(text), Some(meta)) = (serde_json::to_string(value), object_at(obj, "metadata")) {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(key.to_string(), json!(text));
        }
    }
}

fn set(obj: &mut Value, field: &str, key: &str, value: Value) {
    if let Some(map) = object_at(obj, field) {
        map.insert(key.to_string(), value);
    }
}

fn take_annotation(obj: &mut Value, key: &str) -> Option<Value> {
    let text = take(obj, "/metadata/annotations", key)?;
    if obj.pointer("/metadata/annotations").and_then(Value::as_object).is_some_and(|a| a.is_empty()) {
        take(obj, "/metadata", "annotations");
    }
    serde_json::from_str(text.as_str()?).ok()
}

/// The stored (v2) shape of an autoscaling/v1 HorizontalPodAutoscaler.
pub fn v1_to_v2(obj: &mut Value) {
    let mut metrics: Vec<Value> = take_annotation(obj, METRICS).and_then(|m| m.as_array().cloned()).unwrap_or_default();
    if let Some(cpu) = take(obj, "/spec", "targetCPUUtilizationPercentage") {
        metrics.insert(0, json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}}));
    }
    if !metrics.is_empty() {
        set(obj, "spec", "metrics", json!(metrics));
    }
    if let Some(behavior) = take_annotation(obj, BEHAVIOR) {
        set(obj, "spec", "behavior", behavior);
    }
    let mut current: Vec<Value> =
        take_annotation(obj, CURRENT_METRICS).and_then(|m| m.as_array().cloned()).unwrap_or_default();
    if let Some(cpu) = take(obj, "/status", "currentCPUUtilizationPercentage") {
        current.insert(
            0,
            json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cpu}}}),
        );
    }
    if !current.is_empty() {
        set(obj, "status", "currentMetrics", json!(current));
    }
    if let Some(conditions) = take_annotation(obj, CONDITIONS) {
        set(obj, "status", "conditions", conditions);
    }
}

/// The autoscaling/v1 shape of a stored (v2) HorizontalPodAutoscaler.
pub fn v2_to_v1(obj: &mut Value) {
    if let Some(Value::Array(metrics)) = take(obj, "/spec", "metrics") {
        let (cpu, others): (Vec<Value>, Vec<Value>) = metrics.into_iter().partition(is_cpu_utilization);
        if let Some(target) = cpu.first().and_then(|m| m.pointer("/resource/target/averageUtilization")) {
            set(obj, "spec", "targetCPUUtilizationPercentage", target.clone());
        }
        if !others.is_empty() {
            annotate(obj, METRICS, &json!(others));
        }
    }
    if let Some(behavior) = take(obj, "/spec", "behavior") {
        annotate(obj, BEHAVIOR, &behavior);
    }
    if let Some(Value::Array(current)) = take(obj, "/status", "currentMetrics") {
        let (cpu, others): (Vec<Value>, Vec<Value>) = current.into_iter().partition(|m| {
            m.get("type") == Some(&json!("Resource")) && m.pointer("/resource/name") == Some(&json!("cpu"))
        });
        if let Some(now) = cpu.first().and_then(|m| m.pointer("/resource/current/averageUtilization")) {
            set(obj, "status", "currentCPUUtilizationPercentage", now.clone());
        }
        if !others.is_empty() {
            annotate(obj, CURRENT_METRICS, &json!(others));
        }
    }
    if let Some(conditions) = take(obj, "/status", "conditions") {
        annotate(obj, CONDITIONS, &conditions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_target_round_trips_and_other_metrics_ride_in_annotations() {
        let v2 = json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 3,
                     "metrics": [
                         {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                         {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}
                     ]},
            "status": {"currentReplicas": 1, "desiredReplicas": 1}
        });
        let mut v1 = v2.clone();
        v2_to_v1(&mut v1);
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50);
        assert!(v1["spec"].get("metrics").is_none());
        assert!(v1["metadata"]["annotations"][METRICS].as_str().unwrap().contains("qps"));
        v1_to_v2(&mut v1);
        assert_eq!(v1, v2);
    }
}
