//! Unknown fields of built-in objects, and the `fieldValidation` query parameter.
//!
//! kube-apiserver decodes a built-in object into its Go struct, which drops every field the
//! type does not have; `fieldValidation` says what the client hears of them: `Strict` fails the
//! request with 400, `Warn` (the default) answers a `Warning` header per field, `Ignore` says
//! nothing. Here the Go struct is k8s-openapi's type of the same group, version and kind: the
//! object is decoded into it and encoded again, and every non-null field of the request that
//! did not come back is unknown. An object the type cannot decode (a wrong JSON type deep
//! inside) is left to validation, unchecked. Custom objects get the same treatment from their
//! schema's pruning (`crd::pruning`).

use std::sync::Mutex;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::error::{ApiError, Cause, Result};
use crate::kinds::typed::{self, round_trip};

/// What a write does with unknown fields (`?fieldValidation=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

impl FieldValidation {
    /// Parses the query value; `options` names the options kind in the error
    /// (`CreateOptions`, `UpdateOptions`, `PatchOptions`), as kube's options validation does.
    pub fn parse(value: Option<&str>, options: &str) -> Result<Self> {
        match value.unwrap_or("") {
            "" | "Warn" => Ok(Self::Warn),
            "Ignore" => Ok(Self::Ignore),
            "Strict" => Ok(Self::Strict),
            other => Err(ApiError::invalid(
                "meta.k8s.io",
                options,
                "",
                vec![Cause::not_supported(
                    "fieldValidation",
                    &Value::String(other.into()),
                    &["", "Ignore", "Strict", "Warn"],
                )],
            )),
        }
    }
}

/// The unknown fields a write found, for its `Warning` headers; shared by the handler and the
/// store, which finds them while it admits the object.
#[derive(Debug, Default)]
pub struct Warnings(Mutex<Vec<String>>);

impl Warnings {
    pub fn add(&self, text: String) {
        if let Ok(mut list) = self.0.lock() {
            if !list.contains(&text) {
                list.push(text);
            }
        }
    }

    pub fn take(&self) -> Vec<String> {
        self.0.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
    }
}

/// Removes the fields of a built-in object (in `api_version`, of `kind`) that its type does
/// not have, and answers their paths as kube writes them (`spec.containers[0].imagex`).
/// Kinds without a known type answer nothing.
pub fn remove(api_version: &str, kind: &str, obj: &mut Value) -> Vec<String> {
    let Some(typed) = typed::find(api_version, kind) else { return Vec::new() };
    let Some(known) = (typed.round_trip)(obj) else { return Vec::new() };
    let mut found = Vec::new();
    walk(obj, &known, "", &mut found);
    found
}

/// Removes the fields of an object's `metadata` that ObjectMeta does not have (custom objects,
/// whose schema leaves metadata to the server).
pub fn remove_from_metadata(obj: &mut Value) -> Vec<String> {
    let Some(meta) = obj.get_mut("metadata").filter(|m| m.is_object()) else { return Vec::new() };
    let Some(known) = round_trip::<ObjectMeta>(meta) else { return Vec::new() };
    let mut found = Vec::new();
    walk(meta, &known, "metadata", &mut found);
    found
}

fn walk(obj: &mut Value, known: &Value, path: &str, found: &mut Vec<String>) {
    match (obj, known) {
        (Value::Object(fields), Value::Object(kept)) => {
            fields.retain(|name, value| {
                let here = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                match kept.get(name) {
                    Some(k) => {
                        walk(value, k, &here, found);
                        true
                    }
                    // An explicit null decodes as "not set" whether the field exists or not.
                    None if value.is_null() => true,
                    None => {
                        found.push(here);
                        false
                    }
                }
            });
        }
        (Value::Array(items), Value::Array(kept)) => {
            for (i, (item, k)) in items.iter_mut().zip(kept).enumerate() {
                walk(item, k, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// Applies `mode` to the unknown fields `found` in a write: Strict fails with kube's
/// "strict decoding error", Warn records one warning each, Ignore does nothing. `context`
/// starts the message (`Pod in version "v1" cannot be handled as a Pod: `, or empty for a patch).
pub fn enforce(
    mode: FieldValidation,
    duplicated: &[String],
    found: &[String],
    context: &str,
    warnings: &Warnings,
) -> Result<()> {
    if found.is_empty() && duplicated.is_empty() {
        return Ok(());
    }
    let each: Vec<String> = duplicated
        .iter()
        .map(|f| format!("duplicate field {f:?}"))
        .chain(found.iter().map(|f| format!("unknown field {f:?}")))
        .collect();
    match mode {
        FieldValidation::Strict => {
            Err(ApiError::bad_request(format!("{context}strict decoding error: {}", each.join(", "))))
        }
        FieldValidation::Warn => {
            each.into_iter().for_each(|w| warnings.add(w));
            Ok(())
        }
        FieldValidation::Ignore => Ok(()),
    }
}

/// The paths of keys a JSON body repeats within one object (`metadata.name`,
/// `spec.containers[0].image`): kube's strict decoder names them, where a plain decode keeps
/// the last value.
pub fn duplicates(body: &[u8]) -> Vec<String> {
    use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;
    use std::collections::HashSet;

    struct Walk<'a> {
        path: String,
        out: &'a RefCell<Vec<String>>,
    }
    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> std::result::Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
            let mut i = 0;
            while seq.next_element_seed(Walk { path: format!("{}[{i}]", self.path), out: self.out })?.is_some() {
                i += 1;
            }
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
                if !seen.insert(key) {
                    self.out.borrow_mut().push(path.clone());
                }
                map.next_value_seed(Walk { path, out: self.out })?;
            }
            Ok(())
        }
    }
    let out = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = Walk { path: String::new(), out: &out }.deserialize(&mut de);
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repeated_keys_are_found_with_their_paths() {
        let body =
            br#"{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"image":"x","image":"y"}]},"data":{"k":1}}"#;
        assert_eq!(duplicates(body), ["metadata.name", "spec.containers[0].image"]);
        assert!(duplicates(br#"{"a":{"b":1},"c":{"b":2}}"#).is_empty());
        assert!(duplicates(b"not json").is_empty());
    }

    #[test]
    fn unknown_fields_are_removed_and_named_with_their_paths() {
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "colour": "red", "labels": {"any.key/x": "y"}},
            "spec": {
                "containers": [
                    {"name": "a", "image": "nginx"},
                    {"name": "b", "image": "nginx", "imagex": "typo", "ports": [{"containerPort": 80, "hostx": 1}]}
                ],
                "nodeName": null,
                "bogus": {"deep": true}
            },
            "status": {}
        });
        let found = remove("v1", "Pod", &mut pod);
        // In the order of the document, as kube's decoder meets them.
        assert_eq!(
            found,
            ["metadata.colour", "spec.containers[1].imagex", "spec.containers[1].ports[0].hostx", "spec.bogus"]
        );
        assert!(pod["spec"].get("bogus").is_none() && pod["spec"]["containers"][1].get("imagex").is_none());
        assert_eq!(pod["metadata"]["labels"]["any.key/x"], "y");
        assert_eq!(pod["spec"]["containers"][1]["ports"][0], json!({"containerPort": 80}));
        assert!(pod["spec"]["nodeName"].is_null(), "an explicit null is not unknown");
        // Free-form parts stay as they are.
        let mut revision = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "r"},
            "revision": 1, "data": {"anything": {"goes": 1}}});
        assert!(remove("apps/v1", "ControllerRevision", &mut revision).is_empty());
        // Unknown kinds and undecodable objects are not checked.
        let mut other = json!({"apiVersion": "example.com/v1", "kind": "Thing", "x": 1});
        assert!(remove("example.com/v1", "Thing", &mut other).is_empty());
        let mut wrong = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": "no"}, "x": 1});
        assert!(remove("v1", "Pod", &mut wrong).is_empty());
    }

    #[test]
    fn modes() {
        let found = vec!["spec.x".to_string(), "spec.y".to_string()];
        let warnings = Warnings::default();
        let err = enforce(
            FieldValidation::Strict,
            &[],
            &found,
            "Pod in version \"v1\" cannot be handled as a Pod: ",
            &warnings,
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            r#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.x", unknown field "spec.y""#
        );
        enforce(FieldValidation::Warn, &[], &found, "", &warnings).unwrap();
        enforce(FieldValidation::Ignore, &[], &found, "", &warnings).unwrap();
        assert_eq!(warnings.take(), [r#"unknown field "spec.x""#, r#"unknown field "spec.y""#]);
        assert_eq!(FieldValidation::parse(None, "CreateOptions").unwrap(), FieldValidation::Warn);
        let err = FieldValidation::parse(Some("Loud"), "CreateOptions").unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            r#"CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn""#
        );
    }
}
