//! ObjectMeta, label, annotation and label-selector validation
//! (apimachinery `api/validation/objectmeta.go` and `apis/meta/v1/validation`).

use serde_json::Value;

use super::field::{child, go_string_slice, index, invalid_raw, render_opt};
use super::names::{is_qualified_name, is_valid_label_value, NameRule};
use crate::error::Cause;
use crate::kinds::defaults::json::{get_str, is_nil};

/// Total size allowed for all annotation keys and values.
pub(crate) const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// `ValidateLabelName`: label keys, taint keys, topology keys.
pub(crate) fn validate_label_name(name: &str, path: &str, out: &mut Vec<Cause>) {
    for msg in is_qualified_name(name) {
        out.push(Cause::invalid(path, &Value::from(name), &msg));
    }
}

/// `ValidateLabels`: every error is reported at the map's path, with the key or value as bad value.
pub(crate) fn validate_labels(labels: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    if let Some(Value::Object(m)) = labels {
        for (k, v) in m {
            validate_label_name(k, path, out);
            let v = v.as_str().unwrap_or_default();
            for msg in is_valid_label_value(v) {
                out.push(Cause::invalid(path, &Value::from(v), &msg));
            }
        }
    }
}

/// `ValidateAnnotations`: keys are qualified names compared case-insensitively, and the
/// total size of keys and values is capped at 256 KiB.
pub(crate) fn validate_annotations(annotations: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    let Some(Value::Object(m)) = annotations else {
        return;
    };
    let mut total = 0usize;
    for (k, v) in m {
        for msg in is_qualified_name(&k.to_lowercase()) {
            out.push(Cause::invalid(path, &Value::from(k.as_str()), &msg));
        }
        total += k.len() + v.as_str().map(str::len).unwrap_or(0);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        out.push(Cause::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
}

/// `ValidateLabelSelector` (with AllowInvalidLabelValueInSelector = false).
pub(crate) fn validate_label_selector(sel: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    let Some(sel) = sel.filter(|v| v.is_object()) else {
        return;
    };
    validate_labels(sel.get("matchLabels"), &child(path, "matchLabels"), out);
    if let Some(Value::Array(exprs)) = sel.get("matchExpressions") {
        for (i, e) in exprs.iter().enumerate() {
            let p = index(&child(path, "matchExpressions"), i);
            let values = e.get("values").and_then(Value::as_array);
            let n_values = values.map(Vec::len).unwrap_or(0);
            match get_str(e, "operator") {
                "In" | "NotIn" => {
                    if n_values == 0 {
                        out.push(Cause::required(
                            child(&p, "values"),
                            "must be specified when `operator` is 'In' or 'NotIn'",
                        ));
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if n_values > 0 {
                        out.push(Cause::forbidden(
                            child(&p, "values"),
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                        ));
                    }
                }
                op => {
                    out.push(Cause::invalid(child(&p, "operator"), &Value::from(op), "not a valid selector operator"))
                }
            }
            validate_label_name(get_str(e, "key"), &child(&p, "key"), out);
            for (j, v) in values.into_iter().flatten().enumerate() {
                let v = v.as_str().unwrap_or_default();
                for msg in is_valid_label_value(v) {
                    out.push(Cause::invalid(index(&child(&p, "values"), j), &Value::from(v), &msg));
                }
            }
        }
    }
}

/// True when a selector matches labels (`LabelSelectorAsSelector(...).Matches`).
/// A nil selector matches nothing and an empty one matches everything.
pub(crate) fn selector_matches(sel: Option<&Value>, labels: Option<&Value>) -> bool {
    let Some(sel) = sel.filter(|v| v.is_object()) else {
        return false;
    };
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(Value::Object(m)) = sel.get("matchLabels") {
        for (k, v) in m {
            if get(k) != v.as_str() {
                return false;
            }
        }
    }
    if let Some(Value::Array(exprs)) = sel.get("matchExpressions") {
        for e in exprs {
            let key = get_str(e, "key");
            let values: Vec<&str> =
                e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            let ok = match get_str(e, "operator") {
                "In" => get(key).map(|v| values.contains(&v)).unwrap_or(false),
                "NotIn" => get(key).map(|v| !values.contains(&v)).unwrap_or(true),
                "Exists" => get(key).is_some(),
                "DoesNotExist" => get(key).is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

/// True when the selector has no requirements (`selector.Empty()`).
pub(crate) fn selector_is_empty(sel: Option<&Value>) -> bool {
    let n = |k: &str| {
        sel.and_then(|s| s.get(k))
            .map(|v| v.as_object().map(|m| m.len()).or(v.as_array().map(Vec::len)).unwrap_or(0))
            .unwrap_or(0)
    };
    n("matchLabels") + n("matchExpressions") == 0
}

fn validate_owner_references(refs: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    let Some(Value::Array(refs)) = refs else {
        return;
    };
    let mut first_controller: Option<String> = None;
    for r in refs {
        let api_version = get_str(r, "apiVersion");
        // schema.FromAPIVersionAndKind: an unparsable apiVersion yields an empty version.
        let version = match api_version.split('/').collect::<Vec<_>>().as_slice() {
            [v] => *v,
            [_, v] => *v,
            _ => "",
        };
        if version.is_empty() {
            out.push(Cause::invalid(child(path, "apiVersion"), &Value::from(api_version), "version must not be empty"));
        }
        if get_str(r, "kind").is_empty() {
            out.push(Cause::invalid(child(path, "kind"), &Value::from(get_str(r, "kind")), "must not be empty"));
        }
        if get_str(r, "name").is_empty() {
            out.push(Cause::invalid(child(path, "name"), &Value::from(get_str(r, "name")), "must not be empty"));
        }
        if get_str(r, "uid").is_empty() {
            out.push(Cause::invalid(child(path, "uid"), &Value::from(get_str(r, "uid")), "must not be empty"));
        }
        if api_version == "v1" && get_str(r, "kind") == "Event" {
            out.push(invalid_raw(path, "v1.OwnerReference{...}", "/v1, Kind=Event is disallowed from being an owner"));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let cur = format!("{}/{}", get_str(r, "kind"), get_str(r, "name"));
            match &first_controller {
                Some(first) => out.push(invalid_raw(
                    path,
                    "[]v1.OwnerReference{...}",
                    &format!("Only one reference can have Controller set to true. Found \"true\" in references for {first} and {cur}"),
                )),
                None => first_controller = Some(cur),
            }
        }
    }
}

fn validate_finalizers(finalizers: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    let Some(Value::Array(list)) = finalizers else {
        return;
    };
    let (mut orphan, mut foreground) = (false, false);
    for f in list {
        let f = f.as_str().unwrap_or_default();
        for msg in is_qualified_name(f) {
            out.push(Cause::invalid(path, &Value::from(f), &msg));
        }
        orphan |= f == "orphan";
        foreground |= f == "foregroundDeletion";
    }
    if orphan && foreground {
        out.push(invalid_raw(
            path,
            &go_string_slice(finalizers),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
}

fn validate_managed_fields(mf: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    let Some(Value::Array(list)) = mf else { return };
    for (i, e) in list.iter().enumerate() {
        let p = index(path, i);
        let op = get_str(e, "operation");
        if op != "Apply" && op != "Update" {
            out.push(Cause::invalid(child(&p, "operation"), &Value::from(op), "must be `Apply` or `Update`"));
        }
        let ft = get_str(e, "fieldsType");
        if !ft.is_empty() && ft != "FieldsV1" {
            out.push(Cause::invalid(child(&p, "fieldsType"), &Value::from(ft), "must be `FieldsV1`"));
        }
    }
}

/// apimachinery's `ValidateObjectMetaAccessor`; `meta` is the object's `metadata`.
pub(crate) fn validate_object_meta_generic(meta: &Value, namespaced: bool, rule: NameRule, path: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    let generate_name = get_str(meta, "generateName");
    if !generate_name.is_empty() {
        for msg in rule.check(generate_name, true) {
            out.push(Cause::invalid(child(path, "generateName"), &Value::from(generate_name), &msg));
        }
    }
    let name = get_str(meta, "name");
    if name.is_empty() {
        out.push(Cause::required(child(path, "name"), "name or generateName is required"));
    } else {
        for msg in rule.check(name, false) {
            out.push(Cause::invalid(child(path, "name"), &Value::from(name), &msg));
        }
    }
    let ns = get_str(meta, "namespace");
    if namespaced {
        if ns.is_empty() {
            out.push(Cause::required(child(path, "namespace"), ""));
        } else {
            for msg in NameRule::Label.check(ns, false) {
                out.push(Cause::invalid(child(path, "namespace"), &Value::from(ns), &msg));
            }
        }
    } else if !ns.is_empty() {
        out.push(Cause::forbidden(child(path, "namespace"), "not allowed on this type"));
    }
    if let Some(g) = meta.get("generation").and_then(Value::as_i64) {
        if g < 0 {
            out.push(Cause::invalid(child(path, "generation"), &Value::from(g), "must be greater than or equal to 0"));
        }
    }
    validate_labels(meta.get("labels"), &child(path, "labels"), &mut out);
    validate_annotations(meta.get("annotations"), &child(path, "annotations"), &mut out);
    validate_owner_references(meta.get("ownerReferences"), &child(path, "ownerReferences"), &mut out);
    validate_finalizers(meta.get("finalizers"), &child(path, "finalizers"), &mut out);
    validate_managed_fields(meta.get("managedFields"), &child(path, "managedFields"), &mut out);
    out
}

/// Finalizers core kinds accept without a '/' (`IsStandardFinalizerName`).
const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

fn validate_kube_finalizer_names(meta: &Value, path: &str, out: &mut Vec<Cause>) {
    if let Some(Value::Array(list)) = meta.get("finalizers") {
        for (i, f) in list.iter().enumerate() {
            let f = f.as_str().unwrap_or_default();
            if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f) {
                out.push(Cause::invalid(
                    index(&child(path, "finalizers"), i),
                    &Value::from(f),
                    "name is neither a standard finalizer name nor is it fully qualified",
                ));
            }
        }
    }
}

/// core's `ValidateObjectMeta`: the generic checks plus kube's finalizer-name rule.
pub(crate) fn validate_object_meta(obj: &Value, namespaced: bool, rule: NameRule) -> Vec<Cause> {
    let meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
    let mut out = validate_object_meta_generic(&meta, namespaced, rule, "metadata");
    validate_kube_finalizer_names(&meta, "metadata", &mut out);
    out
}

fn immutable(new: &Value, old: &Value, k: &str, path: &str, out: &mut Vec<Cause>) {
    let (n, o) = (new.get(k).filter(|v| !v.is_null()), old.get(k).filter(|v| !v.is_null()));
    // Go compares zero values: an empty string equals an unset one.
    let norm = |v: Option<&Value>| match v {
        Some(Value::String(s)) if s.is_empty() => None,
        other => other.cloned(),
    };
    if norm(n) != norm(o) {
        let rendered = match n {
            Some(v) => crate::error::render(v),
            None if matches!(o, Some(Value::String(_))) => "\"\"".to_string(),
            None => render_opt(None),
        };
        out.push(invalid_raw(child(path, k), &rendered, "field is immutable"));
    }
}

/// apimachinery's `ValidateObjectMetaAccessorUpdate` (without the resourceVersion check,
/// which the lead performs as a precondition; kube's store fills a missing resourceVersion
/// for unconditional updates before validation).
pub(crate) fn validate_object_meta_update_generic(new: &Value, old: &Value, path: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    if !is_nil(old, "deletionTimestamp") {
        let old_f: Vec<&str> =
            old.get("finalizers").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let mut extra: Vec<&str> = new
            .get("finalizers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        if !extra.is_empty() {
            let list: Vec<String> = extra.iter().map(|f| format!("{f:?}")).collect();
            out.push(Cause::forbidden(
                child(path, "finalizers"),
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    list.join(", ")
                ),
            ));
        }
    }
    // kube's BeforeUpdate copies generation, creationTimestamp and the deletion fields from
    // the stored object and fills a missing uid before validating, so only a changed name,
    // namespace or an explicitly different uid can fail here.
    immutable(new, old, "name", path, &mut out);
    immutable(new, old, "namespace", path, &mut out);
    if !get_str(new, "uid").is_empty() {
        immutable(new, old, "uid", path, &mut out);
    }
    validate_labels(new.get("labels"), &child(path, "labels"), &mut out);
    validate_annotations(new.get("annotations"), &child(path, "annotations"), &mut out);
    validate_owner_references(new.get("ownerReferences"), &child(path, "ownerReferences"), &mut out);
    validate_managed_fields(new.get("managedFields"), &child(path, "managedFields"), &mut out);
    out
}

/// core's `ValidateObjectMetaUpdate` on whole objects.
pub(crate) fn validate_object_meta_update(new: &Value, old: &Value) -> Vec<Cause> {
    let nm = new.get("metadata").cloned().unwrap_or(Value::Null);
    let om = old.get("metadata").cloned().unwrap_or(Value::Null);
    let mut out = validate_object_meta_update_generic(&nm, &om, "metadata");
    validate_kube_finalizer_names(&nm, "metadata", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selector_matching() {
        let sel = json!({"matchLabels":{"app":"a"},"matchExpressions":[{"key":"tier","operator":"In","values":["x"]}]});
        assert!(selector_matches(Some(&sel), Some(&json!({"app":"a","tier":"x"}))));
        assert!(!selector_matches(Some(&sel), Some(&json!({"app":"a"}))));
        assert!(selector_matches(Some(&json!({})), None));
        assert!(!selector_matches(None, Some(&json!({}))));
    }

    #[test]
    fn annotation_size() {
        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        let mut out = Vec::new();
        validate_annotations(Some(&json!({ "a": big })), "metadata.annotations", &mut out);
        assert_eq!(out[0].to_line(), "metadata.annotations: Too long: may not be more than 262144 bytes");
    }

    #[test]
    fn meta_basics() {
        let out = validate_object_meta(
            &json!({"metadata":{"name":"Bad_Name","namespace":"default"}}),
            true,
            NameRule::Subdomain,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].field, "metadata.name");
        let out = validate_object_meta(&json!({"metadata":{}}), true, NameRule::Subdomain);
        assert_eq!(out[0].to_line(), "metadata.name: Required value: name or generateName is required");
        assert_eq!(out[1].to_line(), "metadata.namespace: Required value");
        let out = validate_object_meta(&json!({"metadata":{"name":"n","namespace":"x"}}), false, NameRule::Label);
        assert_eq!(out[0].to_line(), "metadata.namespace: Forbidden: not allowed on this type");
    }
}
