//! The type checks kube-apiserver gets from decoding into Go structs: a body whose metadata,
//! spec or data have the wrong JSON type is a 400 with Go's decoding message, before any
//! defaulting or validation sees it. (Full per-field typing of built-ins comes with their
//! OpenAPI schemas; this covers ObjectMeta and the top-level sections every kind shares.)

use serde_json::Value;

use crate::error::ApiError;

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn mismatch(v: &Value, go_struct: &str, field: &str, go_type: &str) -> ApiError {
    ApiError::bad_request(format!(
        "json: cannot unmarshal {} into Go struct field {go_struct}.{field} of type {go_type}",
        json_type(v)
    ))
}

fn string_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.values().all(|x| x.is_string() || x.is_null()))
}

/// Checks the shared shape of an object of `kind` (nulls are allowed: they decode as empty).
pub fn check(kind: &str, obj: &Value) -> Result<(), ApiError> {
    let Some(meta) = obj.get("metadata").filter(|m| !m.is_null()) else { return Ok(()) };
    let Some(map) = meta.as_object() else { return Err(mismatch(meta, kind, "metadata", "v1.ObjectMeta")) };
    for (field, v) in map {
        if v.is_null() {
            continue;
        }
        let ok = match field.as_str() {
            "name" | "generateName" | "namespace" | "uid" | "resourceVersion" | "selfLink" | "creationTimestamp"
            | "deletionTimestamp" => v.is_string(),
            "labels" | "annotations" => string_map(v),
            "finalizers" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "ownerReferences" | "managedFields" => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
            "generation" | "deletionGracePeriodSeconds" => v.is_i64(),
            _ => true,
        };
        if !ok {
            let go_type = match field.as_str() {
                "labels" | "annotations" => "map[string]string",
                "finalizers" => "[]string",
                "ownerReferences" => "[]v1.OwnerReference",
                "managedFields" => "[]v1.ManagedFieldsEntry",
                "generation" | "deletionGracePeriodSeconds" => "int64",
                _ => "string",
            };
            return Err(mismatch(v, "ObjectMeta", &format!("metadata.{field}"), go_type));
        }
    }
    Ok(())
}

/// Built-in kinds: `spec` and `status` are structs, and ConfigMap/Secret data are string maps.
pub fn check_builtin(kind: &str, obj: &Value) -> Result<(), ApiError> {
    check(kind, obj)?;
    for field in ["spec", "status"] {
        if let Some(v) = obj.get(field).filter(|v| !v.is_null() && !v.is_object()) {
            return Err(mismatch(
                v,
                kind,
                field,
                &format!("v1.{kind}{}", if field == "spec" { "Spec" } else { "Status" }),
            ));
        }
    }
    if matches!(kind, "ConfigMap" | "Secret") {
        for field in ["data", "binaryData", "stringData"] {
            if let Some(v) = obj.get(field).filter(|v| !v.is_null() && !string_map(v)) {
                let go_type = if kind == "Secret" && field == "data" || field == "binaryData" {
                    "map[string][]uint8"
                } else {
                    "map[string]string"
                };
                return Err(mismatch(v, kind, field, go_type));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_decoding_messages() {
        let e = check_builtin("ConfigMap", &json!({"metadata": {"labels": "x"}})).unwrap_err();
        assert_eq!(
            e.message,
            "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string"
        );
        assert_eq!(e.code.as_u16(), 400);
        assert!(check_builtin("Deployment", &json!({"spec": "x"})).is_err());
        assert!(check_builtin("ConfigMap", &json!({"data": {"a": 1}})).is_err());
        assert!(check_builtin("Pod", &json!({"metadata": {"name": "p", "labels": null}, "spec": {}})).is_ok());
        assert!(check("CronTab", &json!({"metadata": 5})).is_err());
    }
}
