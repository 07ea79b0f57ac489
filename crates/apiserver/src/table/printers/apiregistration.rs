//! `apiregistration.k8s.io` printer: the aggregator's APIService `ConvertToTable`
//! (kube-aggregator `pkg/registry/apiservice/etcd/etcd.go`), not printers.go.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, get, name, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const API_SERVICE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Service", "string", "The reference to the service that hosts this API endpoint.", 0),
    col("Available", "string", "Whether this service is available.", 0),
    AGE_COLUMN,
];

/// The APIService table convertor.
pub static API_SERVICE: Printer = Printer { columns: API_SERVICE_COLUMNS, row: api_service_row };

fn api_service_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let service = match get(obj, &["spec", "service"]) {
        Some(svc) if svc.is_object() => {
            format!("{}/{}", str_at(svc, &["namespace"]), str_at(svc, &["name"]))
        }
        _ => "Local".to_string(),
    };
    // "True", "False (MissingEndpoints)", or "Unknown" without an Available condition.
    let available = match arr_at(obj, &["status", "conditions"]).iter().find(|c| str_at(c, &["type"]) == "Available") {
        None => "Unknown".to_string(),
        Some(c) => {
            let status = str_at(c, &["status"]);
            let reason = str_at(c, &["reason"]);
            if status == "True" || reason.is_empty() {
                status.to_string()
            } else {
                format!("{status} ({reason})")
            }
        }
    };
    vec![s(name(obj)), s(service), s(available), s(age(obj, now))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_services() {
        let now = Utc::now();
        let local = json!({"metadata": {"name": "v1.apps"}, "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}});
        assert_eq!(
            api_service_row(&local, now),
            vec![json!("v1.apps"), json!("Local"), json!("True"), json!("<unknown>")]
        );
        let remote = json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}
        });
        assert_eq!(
            api_service_row(&remote, now)[1..3],
            [json!("kube-system/metrics-server"), json!("False (MissingEndpoints)")]
        );
    }
}
