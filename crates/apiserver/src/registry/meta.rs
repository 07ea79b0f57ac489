//! Object metadata as kube-apiserver keeps it: system fields on create, what survives an
//! update, and small accessors over `serde_json::Value` objects.

use rand::Rng;
use serde_json::{json, Map, Value};

/// The current time as kube writes timestamps (RFC 3339, seconds, UTC).
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A string field of the object's metadata, or "".
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or("")
}

/// The object's metadata as a mutable map, created if missing.
pub fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("object ensured above");
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut().expect("object ensured above")
}

/// Sets `metadata.resourceVersion`.
pub fn set_resource_version(obj: &mut Value, revision: i64) {
    metadata_mut(obj).insert("resourceVersion".into(), Value::String(revision.to_string()));
}

/// Characters of generated name suffixes: kube leaves out vowels and look-alikes so that
/// generated names never spell words (k8s.io/apimachinery/pkg/util/rand).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `generateName` plus five random characters, the base cut so the name fits 63 characters.
pub fn generate_name(base: &str) -> String {
    let mut rng = rand::rng();
    let suffix: String = (0..5).map(|_| ALPHANUMS[rng.random_range(0..ALPHANUMS.len())] as char).collect();
    let base = if base.len() > 58 { &base[..58] } else { base };
    format!("{base}{suffix}")
}

/// The finalizers of an object.
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Whether the object is being deleted (held by finalizers).
pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
}

/// Everything but metadata and status: what a change to bumps `metadata.generation`.
pub fn spec_part(obj: &Value) -> Map<String, Value> {
    obj.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Fields a client may not change with an update: kube copies them from the stored object.
const SYSTEM_FIELDS: &[&str] =
    &["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink"];

/// Copies the system-owned metadata of `old` over `new`.
pub fn keep_system_fields(new: &mut Value, old: &Value) {
    let old_meta = old.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    let meta = metadata_mut(new);
    for field in SYSTEM_FIELDS {
        match old_meta.get(*field) {
            Some(v) => meta.insert(field.to_string(), v.clone()),
            None => meta.remove(*field),
        };
    }
}

/// Drops empty metadata maps and lists the way Go's omitempty does, so stored objects and
/// answers carry no `labels: {}` a client did not mean.
pub fn drop_empty_metadata(obj: &mut Value) {
    let meta = metadata_mut(obj);
    meta.retain(|k, v| match v {
        Value::Null => false,
        Value::Object(m) => !m.is_empty() || k == "metadata",
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        _ => true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_use_kube_alphabet() {
        let n = generate_name("web-");
        assert_eq!(n.len(), 9);
        assert!(n[4..].bytes().all(|b| ALPHANUMS.contains(&b)));
        assert_eq!(generate_name(&"a".repeat(70)).len(), 63);
    }

    #[test]
    fn system_fields_survive_updates() {
        let old = json!({"metadata": {"uid": "u1", "creationTimestamp": "t", "generation": 3}});
        let mut new = json!({"metadata": {"uid": "forged", "labels": {}}});
        keep_system_fields(&mut new, &old);
        drop_empty_metadata(&mut new);
        assert_eq!(new, json!({"metadata": {"uid": "u1", "creationTimestamp": "t", "generation": 3}}));
    }
}
