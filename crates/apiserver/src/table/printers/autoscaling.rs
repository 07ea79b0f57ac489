//! `autoscaling` printer: printers.go `printHorizontalPodAutoscaler` / `formatHPAMetrics`.
//!
//! kube prints from the internal (autoscaling/v2-shaped) object. A stored
//! autoscaling/v1 object only has `targetCPUUtilizationPercentage`, which the
//! conversion turns into one CPU Resource metric; this printer does the same.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::helpers::{age, arr_at, get, int_at, n, name, opt_int, quantity, quantity_ptr, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const HPA_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Reference", "string", "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.", 0),
    col("Targets", "string", "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).", 0),
    col("MinPods", "string", "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.", 0),
    col("MaxPods", "string", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.", 0),
    col("Replicas", "string", "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.", 0),
    AGE_COLUMN,
];

/// `printHorizontalPodAutoscaler`.
pub static HPA: Printer = Printer { columns: HPA_COLUMNS, row: hpa_row };

/// (spec metrics, status current metrics), converting the autoscaling/v1 shape.
fn metrics(hpa: &Value) -> (Vec<Value>, Vec<Value>) {
    if get(hpa, &["spec", "metrics"]).is_some() {
        return (arr_at(hpa, &["spec", "metrics"]).to_vec(), arr_at(hpa, &["status", "currentMetrics"]).to_vec());
    }
    let Some(target) = opt_int(hpa, &["spec", "targetCPUUtilizationPercentage"]) else {
        return (Vec::new(), Vec::new());
    };
    let spec = vec![json!({
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}
    })];
    let status = match opt_int(hpa, &["status", "currentCPUUtilizationPercentage"]) {
        Some(cur) => vec![json!({
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageUtilization": cur}}
        })],
        None => Vec::new(),
    };
    (spec, status)
}

/// One "current/target" entry for the External, Object, Resource and
/// ContainerResource metric sources.
fn format_metric(spec: &Value, status: Option<&Value>) -> String {
    // The status entry at the same index, if it is of the same source kind.
    let cur = |source: &str| status.and_then(|st| get(st, &[source])).filter(|v| v.is_object());
    let unknown = || "<unknown>".to_string();
    match str_at(spec, &["type"]) {
        source @ ("External" | "Object") => {
            let key = if source == "External" { "external" } else { "object" };
            let target = get(spec, &[key, "target"]);
            if let Some(avg) = target.and_then(|t| get(t, &["averageValue"])).filter(|q| !q.is_null()) {
                let current = cur(key)
                    .and_then(|c| get(c, &["current", "averageValue"]))
                    .filter(|q| !q.is_null())
                    .map(|q| quantity(Some(q)))
                    .unwrap_or_else(unknown);
                format!("{current}/{} (avg)", quantity(Some(avg)))
            } else {
                let current = cur(key).map(|c| quantity_ptr(get(c, &["current", "value"]))).unwrap_or_else(unknown);
                format!("{current}/{}", quantity_ptr(target.and_then(|t| get(t, &["value"]))))
            }
        }
        "Pods" => {
            let current =
                cur("pods").map(|c| quantity_ptr(get(c, &["current", "averageValue"]))).unwrap_or_else(unknown);
            format!("{current}/{}", quantity_ptr(get(spec, &["pods", "target", "averageValue"])))
        }
        source @ ("Resource" | "ContainerResource") => {
            let key = if source == "Resource" { "resource" } else { "containerResource" };
            let resource_name = str_at(spec, &[key, "name"]);
            if let Some(avg) = get(spec, &[key, "target", "averageValue"]).filter(|q| !q.is_null()) {
                let current =
                    cur(key).map(|c| quantity_ptr(get(c, &["current", "averageValue"]))).unwrap_or_else(unknown);
                format!("{resource_name}: {current}/{}", quantity(Some(avg)))
            } else {
                let current = cur(key)
                    .and_then(|c| opt_int(c, &["current", "averageUtilization"]))
                    .map(|u| format!("{u}%"))
                    .unwrap_or_else(unknown);
                let target = opt_int(spec, &[key, "target", "averageUtilization"])
                    .map(|u| format!("{u}%"))
                    .unwrap_or_else(|| "<auto>".to_string());
                format!("{resource_name}: {current}/{target}")
            }
        }
        _ => "<unknown type>".to_string(),
    }
}

/// `formatHPAMetrics`: at most two metrics, then "+ N more...".
fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 2;
    let mut list: Vec<String> =
        specs.iter().enumerate().map(|(i, spec)| format_metric(spec, statuses.get(i))).collect();
    let count = list.len();
    if count > MAX {
        list.truncate(MAX);
        return format!("{} + {} more...", list.join(", "), count - MAX);
    }
    list.join(", ")
}

fn hpa_row(hpa: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (specs, statuses) = metrics(hpa);
    let reference = format!(
        "{}/{}",
        str_at(hpa, &["spec", "scaleTargetRef", "kind"]),
        str_at(hpa, &["spec", "scaleTargetRef", "name"])
    );
    let min_pods =
        opt_int(hpa, &["spec", "minReplicas"]).map(|m| m.to_string()).unwrap_or_else(|| "<unset>".to_string());
    vec![
        s(name(hpa)),
        s(reference),
        s(format_hpa_metrics(&specs, &statuses)),
        s(min_pods),
        n(int_at(hpa, &["spec", "maxReplicas"])),
        n(int_at(hpa, &["status", "currentReplicas"])),
        s(age(hpa, now)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(metrics: Value, current: Value) -> Value {
        json!({
            "metadata": {"name": "some-hpa"},
            "spec": {
                "scaleTargetRef": {"kind": "ReplicationController", "name": "some-rc"},
                "minReplicas": 2,
                "maxReplicas": 10,
                "metrics": metrics
            },
            "status": {"currentReplicas": 4, "desiredReplicas": 5, "currentMetrics": current}
        })
    }

    // Expected cells: printers_test.go TestPrintHPA.
    #[test]
    fn hpa_targets() {
        let now = Utc::now();
        let unset = json!({
            "metadata": {"name": "some-hpa"},
            "spec": {"scaleTargetRef": {"kind": "ReplicationController", "name": "some-rc"}, "maxReplicas": 10},
            "status": {"currentReplicas": 4}
        });
        assert_eq!(
            hpa_row(&unset, now),
            vec![
                json!("some-hpa"),
                json!("ReplicationController/some-rc"),
                json!("<none>"),
                json!("<unset>"),
                json!(10),
                json!(4),
                json!("<unknown>")
            ]
        );

        let ext = json!([{"type": "External", "external": {"metric": {"name": "m"}, "target": {"type": "AverageValue", "averageValue": "100m"}}}]);
        assert_eq!(hpa_row(&hpa(ext.clone(), json!([])), now)[2], json!("<unknown>/100m (avg)"));
        let ext_cur =
            json!([{"type": "External", "external": {"metric": {"name": "m"}, "current": {"averageValue": "50m"}}}]);
        assert_eq!(hpa_row(&hpa(ext, ext_cur), now)[2], json!("50m/100m (avg)"));

        let cpu = json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]);
        let cpu_cur = json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 50}}}]);
        assert_eq!(hpa_row(&hpa(cpu.clone(), json!([])), now)[2], json!("cpu: <unknown>/80%"));
        assert_eq!(hpa_row(&hpa(cpu, cpu_cur), now)[2], json!("cpu: 50%/80%"));

        let three = json!([
            {"type": "Pods", "pods": {"target": {"averageValue": "100m"}}},
            {"type": "Resource", "resource": {"name": "memory", "target": {"averageValue": "1Gi"}}},
            {"type": "Object", "object": {"target": {"value": "5"}}}
        ]);
        assert_eq!(hpa_row(&hpa(three, json!([])), now)[2], json!("<unknown>/100m, memory: <unknown>/1Gi + 1 more..."));
    }

    // autoscaling/v1 objects convert their CPU target into a Resource metric.
    #[test]
    fn hpa_v1_shape() {
        let v1 = json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 60},
            "status": {"currentReplicas": 2, "currentCPUUtilizationPercentage": 12}
        });
        assert_eq!(
            hpa_row(&v1, Utc::now())[..6],
            [json!("web"), json!("Deployment/web"), json!("cpu: 12%/60%"), json!("1"), json!(5), json!(2)]
        );
    }
}
