//! `admissionregistration.k8s.io` printers: printers.go `printMutatingWebhook`,
//! `printValidatingWebhook`, `printValidatingAdmissionPolicy(Binding)` and
//! `printMutatingAdmissionPolicy(Binding)`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, get, len_at, n, name, obj_at, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const WEBHOOK_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration", 0),
    AGE_COLUMN,
];

/// `printMutatingWebhook`.
pub static MUTATING_WEBHOOK: Printer = Printer { columns: WEBHOOK_COLUMNS, row: webhook_row };

/// `printValidatingWebhook`.
pub static VALIDATING_WEBHOOK: Printer = Printer { columns: WEBHOOK_COLUMNS, row: webhook_row };

fn webhook_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), n(len_at(obj, &["webhooks"])), s(age(obj, now))]
}

const PARAM_KIND_DESC: &str = "ParamKind specifies the kind of resources used to parameterize this policy";

const VALIDATING_POLICY_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col(
        "Validations",
        "integer",
        "Validations indicates the number of validation rules defined in this configuration",
        0,
    ),
    col("ParamKind", "string", PARAM_KIND_DESC, 0),
    AGE_COLUMN,
];

/// `printValidatingAdmissionPolicy`.
pub static VALIDATING_ADMISSION_POLICY: Printer =
    Printer { columns: VALIDATING_POLICY_COLUMNS, row: validating_policy_row };

const MUTATING_POLICY_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Mutations", "integer", "Mutation indicates the number of mutations rules defined in this configuration", 0),
    col("ParamKind", "string", PARAM_KIND_DESC, 0),
    AGE_COLUMN,
];

/// `printMutatingAdmissionPolicy`.
pub static MUTATING_ADMISSION_POLICY: Printer = Printer { columns: MUTATING_POLICY_COLUMNS, row: mutating_policy_row };

/// "apiVersion/Kind", or "<unset>" without a paramKind.
fn param_kind(obj: &Value) -> String {
    match obj_at(obj, &["spec", "paramKind"]) {
        Some(_) => format!(
            "{}/{}",
            str_at(obj, &["spec", "paramKind", "apiVersion"]),
            str_at(obj, &["spec", "paramKind", "kind"])
        ),
        None => "<unset>".to_string(),
    }
}

fn validating_policy_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), n(len_at(obj, &["spec", "validations"])), s(param_kind(obj)), s(age(obj, now))]
}

fn mutating_policy_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), n(len_at(obj, &["spec", "mutations"])), s(param_kind(obj)), s(age(obj, now))]
}

const BINDING_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to", 0),
    col("ParamRef", "string", "ParamRef indicates the param resource which sets the configration param", 0),
    AGE_COLUMN,
];

/// `printValidatingAdmissionPolicyBinding`.
pub static VALIDATING_ADMISSION_POLICY_BINDING: Printer = Printer { columns: BINDING_COLUMNS, row: binding_row };

/// `printMutatingAdmissionPolicyBinding`.
pub static MUTATING_ADMISSION_POLICY_BINDING: Printer = Printer { columns: BINDING_COLUMNS, row: binding_row };

/// The gogo-protobuf `String()` of a `*metav1.LabelSelector`, which kube prints
/// verbatim for a selector-based paramRef.
fn go_label_selector_string(sel: &Value) -> String {
    let mut keys: Vec<(&String, &Value)> =
        obj_at(sel, &["matchLabels"]).map(|m| m.iter().collect()).unwrap_or_default();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let labels: String = keys.iter().map(|(k, v)| format!("{k}: {},", v.as_str().unwrap_or(""))).collect();
    let exprs: String = arr_at(sel, &["matchExpressions"])
        .iter()
        .map(|e| {
            let values: Vec<&str> = arr_at(e, &["values"]).iter().filter_map(Value::as_str).collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                str_at(e, &["key"]),
                str_at(e, &["operator"]),
                values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )
}

fn binding_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let param = match obj_at(obj, &["spec", "paramRef"]) {
        None => "<unset>".to_string(),
        Some(_) => {
            let pr_name = str_at(obj, &["spec", "paramRef", "name"]);
            let pr_ns = str_at(obj, &["spec", "paramRef", "namespace"]);
            match get(obj, &["spec", "paramRef", "selector"]) {
                _ if !pr_name.is_empty() && !pr_ns.is_empty() => format!("{pr_ns}/{pr_name}"),
                // Cluster-scoped or not, a name without a namespace prints as "*/name".
                _ if !pr_name.is_empty() => format!("*/{pr_name}"),
                Some(sel) if sel.is_object() => go_label_selector_string(sel),
                _ => "<unset>".to_string(),
            }
        }
    };
    vec![s(name(obj)), s(str_at(obj, &["spec", "policyName"])), s(param), s(age(obj, now))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_and_bindings() {
        let now = Utc::now();
        let vap = json!({
            "metadata": {"name": "demo"},
            "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}, "validations": [{"expression": "true"}]}
        });
        assert_eq!(
            validating_policy_row(&vap, now),
            vec![json!("demo"), json!(1), json!("v1/ConfigMap"), json!("<unknown>")]
        );
        let named = json!({"metadata": {"name": "b"}, "spec": {"policyName": "demo", "paramRef": {"name": "cfg", "namespace": "ns"}}});
        assert_eq!(binding_row(&named, now)[2], json!("ns/cfg"));
        let any_ns = json!({"metadata": {"name": "b"}, "spec": {"policyName": "demo", "paramRef": {"name": "cfg"}}});
        assert_eq!(binding_row(&any_ns, now)[2], json!("*/cfg"));
        let sel = json!({"metadata": {"name": "b"}, "spec": {"paramRef": {"selector": {
            "matchLabels": {"b": "2", "a": "1"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["x", "y"]}]
        }}}});
        assert_eq!(
            binding_row(&sel, now)[2],
            json!("&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:env,Operator:In,Values:[x y],},},}")
        );
        let wh = json!({"metadata": {"name": "w"}, "webhooks": [{}, {}]});
        assert_eq!(webhook_row(&wh, now)[1], json!(2));
    }
}
