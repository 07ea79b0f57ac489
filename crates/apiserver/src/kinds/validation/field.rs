//! Field paths and the bits of `field.Error` rendering that `crate::error::Cause` does not
//! cover: kube prints non-scalar bad values with Go's `%#v`, e.g.
//! `map[string]string{"app":"web"}` or `v1.LabelSelector{MatchLabels:...}`.

use serde_json::Value;

use crate::error::{render, Cause};

/// `path.Child(name)`.
pub(crate) fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// `path.Index(i)`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// `path.Key(k)`.
pub(crate) fn key(path: &str, k: &str) -> String {
    format!("{path}[{k}]")
}

/// An Invalid cause whose bad value is already rendered (Go `%#v` output).
pub(crate) fn invalid_raw(field: impl Into<String>, rendered: &str, detail: &str) -> Cause {
    let message = if detail.is_empty() {
        format!("Invalid value: {rendered}")
    } else {
        format!("Invalid value: {rendered}: {detail}")
    };
    Cause { reason: "FieldValueInvalid".to_string(), message, field: field.into() }
}

/// `field.NotFound`: "Not found: <value>".
pub(crate) fn not_found(field: impl Into<String>, value: &Value) -> Cause {
    Cause {
        reason: "FieldValueNotFound".to_string(),
        message: format!("Not found: {}", render(value)),
        field: field.into(),
    }
}

/// `field.Duplicate` with an already rendered value.
pub(crate) fn duplicate_raw(field: impl Into<String>, rendered: &str) -> Cause {
    Cause {
        reason: "FieldValueDuplicate".to_string(),
        message: format!("Duplicate value: {rendered}"),
        field: field.into(),
    }
}

/// `field.NotSupported` with an already rendered value.
pub(crate) fn not_supported_raw(field: impl Into<String>, rendered: &str, valid: &[&str]) -> Cause {
    let list: Vec<String> = valid.iter().map(|v| format!("{v:?}")).collect();
    Cause {
        reason: "FieldValueNotSupported".to_string(),
        message: format!("Unsupported value: {rendered}: supported values: {}", list.join(", ")),
        field: field.into(),
    }
}

/// `field.Invalid(path, -1, "must be greater than or equal to 0")` when negative.
pub(crate) fn nonnegative(v: &Value, key_name: &str, path: &str, out: &mut Vec<Cause>) {
    if let Some(n) = v.get(key_name).and_then(Value::as_i64) {
        if n < 0 {
            out.push(Cause::invalid(child(path, key_name), &Value::from(n), "must be greater than or equal to 0"));
        }
    }
}

/// Go `%q` of a string.
pub(crate) fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// `%#v` of a `map[string]string`; nil prints as `map[string]string(nil)`. Go sorts map keys.
pub(crate) fn go_string_map(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(m)) => {
            let mut pairs: Vec<(&String, String)> =
                m.iter().map(|(k, v)| (k, go_quote(v.as_str().unwrap_or_default()))).collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{}:{v}", go_quote(k))).collect();
            format!("map[string]string{{{}}}", body.join(", "))
        }
        _ => "map[string]string(nil)".to_string(),
    }
}

/// `%#v` of a `[]string`; nil prints as `[]string(nil)`.
pub(crate) fn go_string_slice(v: Option<&Value>) -> String {
    match v {
        Some(Value::Array(a)) => {
            let items: Vec<String> = a.iter().map(|x| go_quote(x.as_str().unwrap_or_default())).collect();
            format!("[]string{{{}}}", items.join(", "))
        }
        _ => "[]string(nil)".to_string(),
    }
}

/// `%#v` of a `metav1.LabelSelector` value, as in the famous
/// "spec.selector: Invalid value: v1.LabelSelector{...}: field is immutable".
pub(crate) fn go_label_selector(v: &Value) -> String {
    let exprs = match v.get("matchExpressions") {
        Some(Value::Array(a)) => {
            let items: Vec<String> = a
                .iter()
                .map(|e| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(e.get("key").and_then(Value::as_str).unwrap_or_default()),
                        go_quote(e.get("operator").and_then(Value::as_str).unwrap_or_default()),
                        go_string_slice(e.get("values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
        _ => "[]v1.LabelSelectorRequirement(nil)".to_string(),
    };
    format!("v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{exprs}}}", go_string_map(v.get("matchLabels")))
}

/// Renders a bad value the way `field.Error` does for a pointer that may be nil:
/// nil becomes the quoted string "null".
pub(crate) fn render_opt(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "\"null\"".to_string(),
        Some(v) => render(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_renderings() {
        assert_eq!(go_string_map(Some(&json!({"b":"2","a":"1"}))), r#"map[string]string{"a":"1", "b":"2"}"#);
        assert_eq!(go_string_map(None), "map[string]string(nil)");
        assert_eq!(
            go_label_selector(&json!({"matchLabels":{"app":"nginx2"}})),
            r#"v1.LabelSelector{MatchLabels:map[string]string{"app":"nginx2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"#
        );
        assert_eq!(
            go_label_selector(&json!({"matchExpressions":[{"key":"a","operator":"In","values":["x"]}]})),
            r#"v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"a", Operator:"In", Values:[]string{"x"}}}}"#
        );
    }
}
