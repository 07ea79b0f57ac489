//! Pruning of custom resources: dropping every field the structural schema does not
//! specify, as kube-apiserver v1.32 does when it decodes a custom resource from a request or
//! from etcd (`apiserver/schema/pruning/algorithm.go`, then
//! `defaulting/prunenulls.go` and `schema/objectmeta/coerce.go` for embedded resources).
//!
//! Order of the decode steps in kube (`unstructuredSchemaCoercer.apply`, then the versioning
//! codec's defaulter), which callers must follow on writes and on reads from storage:
//! 1. [`prune`] (structural pruning, non-nullable nulls, embedded ObjectMeta),
//! 2. `defaulting::default`,
//! 3. on writes only, `schema::validate`.

use super::schema::{additional_properties, child, default_of, flag, index, items, key, property};
use serde_json::{Map, Value};

const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];

/// Prunes `obj` (a whole custom resource) against a CRD version's `openAPIV3Schema` and
/// returns the pruned field paths, which kube reports with `fieldValidation=Warn` as
/// `unknown field "<path>"` (and rejects with `Strict`).
///
/// Like kube, it:
/// - keeps the root `apiVersion`, `kind` and `metadata` untouched (the root ObjectMeta is the
///   caller's: kube coerces it separately and reports `metadata.*` unknowns first);
/// - keeps everything under `x-kubernetes-preserve-unknown-fields: true`, while still pruning
///   below specified properties there;
/// - removes `null` values of fields that are neither nullable nor defaulted;
/// - reduces the `metadata` of `x-kubernetes-embedded-resource` objects to the fields of an
///   ObjectMeta, re-encoded as kube does (empty fields dropped, timestamps in UTC).
///
/// The paths of the structural pruning come sorted, then those of embedded metadata.
pub fn prune(schema: &Value, obj: &mut Value) -> Vec<String> {
    let mut unknown = prune_structural(Some(schema), obj, true);
    prune_non_nullable_nulls(obj, Some(schema));
    let mut meta_unknown = Vec::new();
    coerce_embedded(obj, Some(schema), "", &mut meta_unknown);
    meta_unknown.sort();
    unknown.extend(meta_unknown);
    unknown
}

/// kube's `PruneWithOptions` with unknown-field tracking: `schema` `None` is kube's nil
/// structural schema, which prunes every object field below it. With `is_resource_root`
/// the root's `apiVersion`, `kind` and `metadata` are left alone.
pub(crate) fn prune_structural(schema: Option<&Value>, obj: &mut Value, is_resource_root: bool) -> Vec<String> {
    let empty = Value::Object(Map::new());
    let root = match (schema, is_resource_root) {
        (None, true) => Some(&empty),
        (s, _) => s,
    };
    let mut out = Vec::new();
    prune_node(obj, root, is_resource_root, "", &mut out);
    out.sort();
    out
}

fn is_meta(k: &str) -> bool {
    META_FIELDS.contains(&k)
}

fn append_key(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn prune_node(x: &mut Value, s: Option<&Value>, root_embedded: bool, path: &str, out: &mut Vec<String>) {
    if let Some(schema) = s {
        if flag(schema, "x-kubernetes-preserve-unknown-fields") {
            skip_prune(x, schema, root_embedded, path, out);
            return;
        }
    }
    match x {
        Value::Object(m) => {
            let Some(schema) = s else {
                for k in m.keys() {
                    out.push(append_key(path, k));
                }
                m.clear();
                return;
            };
            let embedded = root_embedded || flag(schema, "x-kubernetes-embedded-resource");
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if embedded && is_meta(&k) {
                    continue;
                }
                if let Some(prop) = property(schema, &k) {
                    if let Some(v) = m.get_mut(&k) {
                        prune_node(v, Some(prop), false, &append_key(path, &k), out);
                    }
                } else if let Some(addl) = additional_properties(schema) {
                    if let Some(v) = m.get_mut(&k) {
                        prune_node(v, addl.schema(), false, &append_key(path, &k), out);
                    }
                } else {
                    // Unknown TypeMeta/ObjectMeta names are reported below the root only.
                    if !is_meta(&k) || !path.is_empty() {
                        out.push(append_key(path, &k));
                    }
                    m.shift_remove(&k);
                }
            }
        }
        Value::Array(a) => {
            let it = s.and_then(items);
            for (i, v) in a.iter_mut().enumerate() {
                prune_node(v, it, false, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Below `x-kubernetes-preserve-unknown-fields`: unknown fields stay, specified ones are
/// still pruned. Array items inherit the preservation, as in kube's `skipPrune`.
fn skip_prune(x: &mut Value, s: &Value, root_embedded: bool, path: &str, out: &mut Vec<String>) {
    match x {
        Value::Object(m) => {
            let embedded = root_embedded || flag(s, "x-kubernetes-embedded-resource");
            for (k, v) in m.iter_mut() {
                if embedded && is_meta(k) {
                    continue;
                }
                if let Some(prop) = property(s, k) {
                    prune_node(v, Some(prop), false, &append_key(path, k), out);
                } else if let Some(addl) = additional_properties(s) {
                    prune_node(v, addl.schema(), false, &append_key(path, k), out);
                }
            }
        }
        Value::Array(a) => {
            if let Some(it) = items(s) {
                for (i, v) in a.iter_mut().enumerate() {
                    skip_prune(v, it, false, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// `PruneNonNullableNullsWithoutDefaults`: a `null` for a field that is neither nullable nor
/// defaulted is dropped (a defaulted one is left for defaulting to replace).
fn prune_non_nullable_nulls(x: &mut Value, s: Option<&Value>) {
    match x {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let field_schema =
                    s.and_then(|s| property(s, &k).or_else(|| additional_properties(s).and_then(|a| a.schema())));
                let drop = matches!(m.get(&k), Some(Value::Null))
                    && field_schema.is_some_and(|fs| !flag(fs, "nullable") && default_of(fs).is_none());
                if drop {
                    m.shift_remove(&k);
                } else if let Some(v) = m.get_mut(&k) {
                    prune_non_nullable_nulls(v, field_schema);
                }
            }
        }
        Value::Array(a) => {
            let it = s.and_then(items);
            for v in a.iter_mut() {
                prune_non_nullable_nulls(v, it);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// ObjectMeta of embedded resources (schema/objectmeta/coerce.go)
// ---------------------------------------------------------------------------------------

/// `CoerceWithOptions(nil, obj, schema, isResourceRoot=false)`: every embedded resource's
/// metadata goes through a `metav1.ObjectMeta` round trip. Metadata that would not decode is
/// left alone; validation reports it.
fn coerce_embedded(x: &mut Value, s: Option<&Value>, path: &str, out: &mut Vec<String>) {
    let Some(s) = s else {
        return;
    };
    match x {
        Value::Object(m) => {
            if flag(s, "x-kubernetes-embedded-resource") {
                if let Some(meta) = m.get_mut("metadata") {
                    let meta_path = child(path, "metadata");
                    if super::schema::object_meta_decode_error(meta).is_none() {
                        coerce_object_meta(meta, &meta_path, out);
                        if meta.is_null() {
                            m.shift_remove("metadata");
                        }
                    }
                }
            }
            for (k, v) in m.iter_mut() {
                if let Some(prop) = property(s, k) {
                    coerce_embedded(v, Some(prop), &child(path, k), out);
                } else if let Some(addl) = additional_properties(s) {
                    coerce_embedded(v, addl.schema(), &key(path, k), out);
                }
            }
        }
        Value::Array(a) => {
            let it = items(s);
            for (i, v) in a.iter_mut().enumerate() {
                coerce_embedded(v, it, &index(path, i), out);
            }
        }
        _ => {}
    }
}

/// Keeps the ObjectMeta fields, as `ToUnstructured(ObjectMeta)` writes them back: omitempty
/// fields that are empty disappear, a zero creationTimestamp is removed.
fn coerce_object_meta(meta: &mut Value, path: &str, out: &mut Vec<String>) {
    let Value::Object(m) = meta else {
        // metadata: null decodes to an empty ObjectMeta, which encodes to {}.
        *meta = Value::Object(Map::new());
        return;
    };
    let mut result = Map::new();
    for (k, v) in m.iter() {
        let p = format!("{path}.{k}");
        match k.as_str() {
            "name" | "generateName" | "namespace" | "selfLink" | "uid" | "resourceVersion" => {
                if v.as_str().is_some_and(|s| !s.is_empty()) {
                    result.insert(k.clone(), v.clone());
                }
            }
            // generation is an omitempty int64, deletionGracePeriodSeconds a pointer
            "generation" => {
                if v.as_i64().is_some_and(|n| n != 0) {
                    result.insert(k.clone(), v.clone());
                }
            }
            "deletionGracePeriodSeconds" => {
                if !v.is_null() {
                    result.insert(k.clone(), v.clone());
                }
            }
            "creationTimestamp" | "deletionTimestamp" => {
                if let Some(t) = v.as_str().and_then(normalize_time) {
                    result.insert(k.clone(), Value::String(t));
                }
            }
            "labels" | "annotations" => {
                if v.as_object().is_some_and(|o| !o.is_empty()) {
                    // null values decode to "" in a map[string]string
                    let cleaned: Map<String, Value> = v
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(lk, lv)| {
                            (lk.clone(), if lv.is_null() { Value::String(String::new()) } else { lv.clone() })
                        })
                        .collect();
                    result.insert(k.clone(), Value::Object(cleaned));
                }
            }
            "finalizers" => {
                if let Some(a) = v.as_array().filter(|a| !a.is_empty()) {
                    let cleaned =
                        a.iter().map(|f| if f.is_null() { Value::String(String::new()) } else { f.clone() }).collect();
                    result.insert(k.clone(), Value::Array(cleaned));
                }
            }
            "ownerReferences" => {
                if let Some(a) = v.as_array().filter(|a| !a.is_empty()) {
                    let refs =
                        a.iter().enumerate().map(|(i, r)| owner_reference(r, &format!("{p}[{i}]"), out)).collect();
                    result.insert(k.clone(), Value::Array(refs));
                }
            }
            "managedFields" => {
                if let Some(a) = v.as_array().filter(|a| !a.is_empty()) {
                    let entries =
                        a.iter().enumerate().map(|(i, e)| managed_fields_entry(e, &format!("{p}[{i}]"), out)).collect();
                    result.insert(k.clone(), Value::Array(entries));
                }
            }
            _ => out.push(p),
        }
    }
    *m = result;
}

/// `metav1.OwnerReference`: apiVersion, kind, name and uid are always written.
fn owner_reference(r: &Value, path: &str, out: &mut Vec<String>) -> Value {
    let empty = Map::new();
    let src = r.as_object().unwrap_or(&empty);
    let mut o = Map::new();
    for k in ["apiVersion", "kind", "name", "uid"] {
        let v = src.get(k).filter(|v| v.is_string()).cloned().unwrap_or_else(|| Value::String(String::new()));
        o.insert(k.to_string(), v);
    }
    for k in ["controller", "blockOwnerDeletion"] {
        if let Some(v) = src.get(k).filter(|v| v.is_boolean()) {
            o.insert(k.to_string(), v.clone());
        }
    }
    for k in src.keys() {
        if !["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"].contains(&k.as_str()) {
            out.push(format!("{path}.{k}"));
        }
    }
    Value::Object(o)
}

/// `metav1.ManagedFieldsEntry`, every field omitempty.
fn managed_fields_entry(e: &Value, path: &str, out: &mut Vec<String>) -> Value {
    let empty = Map::new();
    let src = e.as_object().unwrap_or(&empty);
    let mut o = Map::new();
    for (k, v) in src {
        match k.as_str() {
            "manager" | "operation" | "apiVersion" | "fieldsType" | "subresource" => {
                if v.as_str().is_some_and(|s| !s.is_empty()) {
                    o.insert(k.clone(), v.clone());
                }
            }
            "time" => {
                if let Some(t) = v.as_str().and_then(normalize_time) {
                    o.insert(k.clone(), Value::String(t));
                }
            }
            "fieldsV1" => {
                if !v.is_null() {
                    o.insert(k.clone(), v.clone());
                }
            }
            _ => out.push(format!("{path}.{k}")),
        }
    }
    Value::Object(o)
}

/// metav1.Time round trip: RFC 3339 in, UTC seconds out.
fn normalize_time(t: &str) -> Option<String> {
    let parsed = chrono::DateTime::parse_from_rfc3339(t).ok()?;
    Some(parsed.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn structural(schema: Value, obj: Value, root: bool) -> (Value, Vec<String>) {
        let mut obj = obj;
        let paths = prune_structural(Some(&schema), &mut obj, root);
        (obj, paths)
    }

    // Ported from pruning/algorithm_test.go: `{}` schemas there are kube structural schemas
    // with nothing set, which prune every object field below them.

    #[test]
    fn object_array() {
        let schema = json!({"items": {"properties": {"a": {}, "c": {}}}});
        let (obj, paths) = structural(schema, json!([{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}]), false);
        assert_eq!(obj, json!([{"a": 1}, {}, {"a": 1, "c": 3}]));
        assert_eq!(paths, vec!["[1].b", "[2].b"]);
    }

    #[test]
    fn object_array_with_nil_schema() {
        let mut obj = json!([{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}]);
        let paths = prune_structural(None, &mut obj, false);
        assert_eq!(obj, json!([{}, {}, {}]));
        assert_eq!(paths, vec!["[0].a", "[1].b", "[2].a", "[2].b", "[2].c"]);
    }

    #[test]
    fn object_array_object() {
        let schema = json!({"properties": {
            "array": {"items": {"properties": {"a": {}, "c": {}}}},
            "specified": {"properties": {"a": {}, "c": {}}}
        }});
        let (obj, paths) = structural(
            schema,
            json!({"array": [{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}], "unspecified": {"a": 1}, "specified": {"a": 1, "b": 2, "c": 3}}),
            false,
        );
        assert_eq!(obj, json!({"array": [{"a": 1}, {}, {"a": 1, "c": 3}], "specified": {"a": 1, "c": 3}}));
        assert_eq!(paths, vec!["array[1].b", "array[2].b", "specified.b", "unspecified"]);
    }

    #[test]
    fn nested_preserve_unknown_fields() {
        let schema = json!({
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true,
            "properties": {
                "alpha": {"type": "string"},
                "beta": {"type": "number"},
                "pruning": {"type": "object", "properties": {
                    "preserving": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "pruning": {"type": "object"}
                }},
                "preserving": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {
                    "preserving": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "pruning": {"type": "object"}
                }},
                "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                    "additionalProperties": {"type": "object", "properties": {"specified": {"type": "object"}}}
                },
                "preservingAdditionalPropertiesKeyPruneValues": {
                    "type": "object",
                    "additionalProperties": {"type": "object", "properties": {"specified": {"type": "object"}}}
                }
            }
        });
        let input = json!({
            "unspecified": "bar",
            "alpha": "abc",
            "beta": 42.0,
            "unspecifiedObject": {"unspecified": "bar"},
            "pruning": {
                "unspecified": "bar",
                "unspecifiedObject": {"unspecified": "bar"},
                "pruning": {"unspecified": "bar"},
                "apiVersion": "unknown",
                "preserving": {"unspecified": "bar"}
            },
            "preserving": {
                "unspecified": "bar",
                "unspecifiedObject": {"unspecified": "bar"},
                "pruning": {"unspecified": "bar"},
                "preserving": {"unspecified": "bar"}
            },
            "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields": {
                "foo": {"specified": {"unspecified": "bar"}, "unspecified": "bar"}
            },
            "preservingAdditionalPropertiesKeyPruneValues": {
                "foo": {"specified": {"unspecified": "bar"}, "unspecified": "bar"}
            }
        });
        let (obj, paths) = structural(schema, input, false);
        assert_eq!(
            obj,
            json!({
                "unspecified": "bar",
                "alpha": "abc",
                "beta": 42.0,
                "unspecifiedObject": {"unspecified": "bar"},
                "pruning": {"pruning": {}, "preserving": {"unspecified": "bar"}},
                "preserving": {
                    "unspecified": "bar",
                    "unspecifiedObject": {"unspecified": "bar"},
                    "pruning": {},
                    "preserving": {"unspecified": "bar"}
                },
                "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields": {"foo": {"specified": {}}},
                "preservingAdditionalPropertiesKeyPruneValues": {"foo": {"specified": {}}}
            })
        );
        assert_eq!(
            paths,
            vec![
                "preserving.pruning.unspecified",
                "preservingAdditionalPropertiesKeyPruneValues.foo.specified.unspecified",
                "preservingAdditionalPropertiesKeyPruneValues.foo.unspecified",
                "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.specified.unspecified",
                "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.unspecified",
                "pruning.apiVersion",
                "pruning.pruning.unspecified",
                "pruning.unspecified",
                "pruning.unspecifiedObject",
            ]
        );
    }

    #[test]
    fn additional_properties_schema_and_bool() {
        let schema = json!({"properties": {"a": {}, "c": {"additionalProperties": {"type": "integer"}}}});
        let (obj, paths) = structural(schema, json!({"a": 1, "b": 1, "c": {"a": 1, "b": 2, "c": {"a": 1}}}), false);
        assert_eq!(obj, json!({"a": 1, "c": {"a": 1, "b": 2, "c": {}}}));
        assert_eq!(paths, vec!["b", "c.c.a"]);

        let schema = json!({"properties": {"a": {}, "c": {"additionalProperties": false}}});
        let (obj, paths) = structural(
            schema,
            json!({"a": 1, "b": 1, "c": {"a": 1, "b": 2, "c": {"a": 1, "apiVersion": "unknown"}}}),
            false,
        );
        assert_eq!(obj, json!({"a": 1, "c": {"a": 1, "b": 2, "c": {}}}));
        assert_eq!(paths, vec!["b", "c.c.a", "c.c.apiVersion"]);
    }

    fn embedded_schema() -> Value {
        json!({"type": "object", "properties": {
            "pruned": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}},
            "preserving": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
            "nested": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "properties": {
                "embedded": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}}
            }}}}
        }})
    }

    fn embedded_input() -> Value {
        let res = json!({
            "apiVersion": "foo/v1", "kind": "Foo", "unspecified": "bar",
            "metadata": {"name": "instance", "unspecified": "bar"},
            "spec": {"unspecified": "bar"}
        });
        let mut nested = res.clone();
        nested["spec"]["embedded"] = res.clone();
        json!({
            "apiVersion": "foo/v1", "kind": "Foo",
            "metadata": {"name": "instance", "unspecified": "bar"},
            "unspecified": "bar",
            "pruned": res.clone(),
            "preserving": res,
            "nested": nested
        })
    }

    #[test]
    fn embedded_resource_structural_pruning() {
        let expected_paths = vec![
            "nested.spec.embedded.spec.unspecified",
            "nested.spec.embedded.unspecified",
            "nested.spec.unspecified",
            "nested.unspecified",
            "pruned.spec.unspecified",
            "pruned.unspecified",
            "unspecified",
        ];
        let (obj, paths) = structural(embedded_schema(), embedded_input(), true);
        assert_eq!(paths, expected_paths);
        assert_eq!(obj["metadata"], json!({"name": "instance", "unspecified": "bar"}));
        assert_eq!(
            obj["pruned"],
            json!({"apiVersion": "foo/v1", "kind": "Foo", "metadata": {"name": "instance", "unspecified": "bar"}, "spec": {}})
        );
        assert_eq!(obj["preserving"], embedded_input()["preserving"]);
        assert_eq!(obj["nested"]["spec"]["embedded"]["spec"], json!({}));
        // without the resource root, root metadata is pruned like any unknown field (but not reported)
        let (obj, paths) = structural(embedded_schema(), embedded_input(), false);
        assert_eq!(paths, expected_paths);
        assert!(obj.get("metadata").is_none() && obj.get("apiVersion").is_none());
    }

    #[test]
    fn prune_coerces_embedded_metadata_and_drops_nulls() {
        let mut obj = embedded_input();
        obj["spec"] = json!(null);
        let mut schema = embedded_schema();
        schema["properties"]["spec"] = json!({"type": "object"});
        let paths = prune(&schema, &mut obj);
        assert_eq!(
            paths,
            vec![
                "nested.spec.embedded.spec.unspecified",
                "nested.spec.embedded.unspecified",
                "nested.spec.unspecified",
                "nested.unspecified",
                "pruned.spec.unspecified",
                "pruned.unspecified",
                "unspecified",
                "nested.metadata.unspecified",
                "nested.spec.embedded.metadata.unspecified",
                "preserving.metadata.unspecified",
                "pruned.metadata.unspecified",
            ]
        );
        // the root metadata is the caller's
        assert_eq!(obj["metadata"], json!({"name": "instance", "unspecified": "bar"}));
        assert_eq!(obj["pruned"]["metadata"], json!({"name": "instance"}));
        assert_eq!(obj["preserving"]["unspecified"], json!("bar"));
        assert!(obj.get("spec").is_none(), "non-nullable null without default is dropped");
    }

    #[test]
    fn object_meta_round_trip() {
        let mut meta = json!({
            "name": "", "namespace": "ns", "generation": 0, "labels": {}, "annotations": {"a": null},
            "creationTimestamp": "2024-01-02T03:04:05+02:00", "deletionTimestamp": null,
            "ownerReferences": [{"name": "o", "extra": 1}], "finalizers": [],
            "managedFields": [{"manager": "m", "time": "2024-01-02T03:04:05Z", "x": 1}]
        });
        let mut out = Vec::new();
        coerce_object_meta(&mut meta, "spec.t.metadata", &mut out);
        assert_eq!(
            meta,
            json!({
                "namespace": "ns", "annotations": {"a": ""},
                "creationTimestamp": "2024-01-02T01:04:05Z",
                "ownerReferences": [{"apiVersion": "", "kind": "", "name": "o", "uid": ""}],
                "managedFields": [{"manager": "m", "time": "2024-01-02T03:04:05Z"}]
            })
        );
        assert_eq!(out, vec!["spec.t.metadata.ownerReferences[0].extra", "spec.t.metadata.managedFields[0].x"]);
    }

    #[test]
    fn additional_properties_true_keeps_only_scalars() {
        // kube's StructuralOrBool{Bool: true} has no schema, so object values are emptied.
        let schema = json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": true}}});
        let mut obj = json!({"apiVersion": "v1", "m": {"a": 1, "b": {"c": 2}}});
        assert_eq!(prune(&schema, &mut obj), vec!["m.b.c"]);
        assert_eq!(obj, json!({"apiVersion": "v1", "m": {"a": 1, "b": {}}}));
    }

    #[test]
    fn nulls_kept_when_nullable_or_defaulted() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"type": "string", "default": "x"},
            "c": {"type": "string"},
            "m": {"type": "object", "additionalProperties": {"type": "string"}},
            "l": {"type": "array", "items": {"type": "string"}}
        }});
        let mut obj = json!({"a": null, "b": null, "c": null, "m": {"k": null}, "l": [null], "u": null});
        let paths = prune(&schema, &mut obj);
        assert_eq!(paths, vec!["u"]);
        assert_eq!(obj, json!({"a": null, "b": null, "m": {}, "l": [null]}));
    }
}
