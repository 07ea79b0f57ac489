//! List items as JSON text made from the stored text, without decoding objects into JSON trees
//! and encoding them again (most of what a LIST of 10,000 pods cost). The stored text is split
//! into its top-level fields and those of its metadata; the resourceVersion is added, and the
//! apiVersion and kind are set as a decoded item would have them.

use std::fmt::Write;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use super::selector::LabelSelector;

/// The fields of a JSON object in their order, the values left as text.
struct Fields<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Collect;
        impl<'de> Visitor<'de> for Collect {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                // Keys are borrowed: one with escapes fails, and the caller decodes instead.
                while let Some(entry) = map.next_entry::<&'de str, &'de RawValue>()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Collect)
    }
}

/// What a list item is made with.
pub struct Item<'a> {
    /// `apiVersion` and `kind` to set first; `None` for typed lists, whose items carry neither.
    pub type_meta: Option<(&'a str, &'a str)>,
    pub labels: &'a LabelSelector,
}

/// The list item of a stored object at `revision`: `Ok(None)` when the label selector leaves
/// it out, `Err(())` when the text is not one this can edit (then decode it).
#[allow(clippy::result_unit_err)]
pub fn item(stored: &[u8], revision: i64, how: &Item) -> Result<Option<String>, ()> {
    let top: Fields = serde_json::from_slice(stored).map_err(|_| ())?;
    let mut out = String::with_capacity(stored.len() + 64);
    out.push('{');
    if let Some((api_version, kind)) = how.type_meta {
        let _ = write!(out, "\"apiVersion\":{},\"kind\":{},", quote(api_version), quote(kind));
    }
    let mut has_metadata = false;
    for (key, value) in &top.0 {
        if matches!(*key, "apiVersion" | "kind") {
            continue;
        }
        let _ = write!(out, "{}:", quote(key));
        if *key == "metadata" {
            has_metadata = true;
            let meta: Fields = serde_json::from_str(value.get()).map_err(|_| ())?;
            if !how.labels.is_empty() && !selected(&meta, how.labels)? {
                return Ok(None);
            }
            metadata(&mut out, &meta, revision);
        } else {
            out.push_str(value.get());
        }
        out.push(',');
    }
    if !has_metadata {
        if !how.labels.is_empty() && !how.labels.matches(&Value::Null) {
            return Ok(None);
        }
        let _ = write!(out, "\"metadata\":{{\"resourceVersion\":\"{revision}\"}},");
    }
    out.pop(); // the comma after the last field (there is always metadata)
    out.push('}');
    Ok(Some(out))
}

/// The metadata with `resourceVersion` last, where a decoded object has it.
fn metadata(out: &mut String, meta: &Fields, revision: i64) {
    out.push('{');
    for (key, value) in meta.0.iter().filter(|(k, _)| *k != "resourceVersion") {
        let _ = write!(out, "{}:{},", quote(key), value.get());
    }
    let _ = write!(out, "\"resourceVersion\":\"{revision}\"}}");
}

fn selected(meta: &Fields, labels: &LabelSelector) -> Result<bool, ()> {
    let object = match meta.0.iter().find(|(k, _)| *k == "labels") {
        Some((_, raw)) => {
            let labels: Value = serde_json::from_str(raw.get()).map_err(|_| ())?;
            serde_json::json!({"metadata": {"labels": labels}})
        }
        None => Value::Null,
    };
    Ok(labels.matches(&object))
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selector(text: &str) -> LabelSelector {
        LabelSelector::parse(text).unwrap()
    }

    #[test]
    fn items_are_the_stored_text_with_their_resource_version_and_type() {
        let stored = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "prod", "uid": "u1", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Running"},
        });
        let bytes = serde_json::to_vec(&stored).unwrap();
        let none = selector("");
        let typed = item(&bytes, 42, &Item { type_meta: None, labels: &none }).unwrap().unwrap();
        let mut want = stored.clone();
        want.as_object_mut().unwrap().shift_remove("apiVersion");
        want.as_object_mut().unwrap().shift_remove("kind");
        want["metadata"]["resourceVersion"] = json!("42");
        assert_eq!(typed, serde_json::to_string(&want).unwrap(), "same text, same order as a decoded item");

        let custom = Item { type_meta: Some(("example.com/v2", "Widget")), labels: &none };
        let text = item(&bytes, 7, &custom).unwrap().unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["apiVersion"], "example.com/v2");
        assert_eq!(value["kind"], "Widget");
        assert_eq!(value["metadata"]["resourceVersion"], "7");
        assert!(text.starts_with("{\"apiVersion\":\"example.com/v2\",\"kind\":\"Widget\",\"metadata\""));
    }

    #[test]
    fn label_selectors_choose_items_and_odd_text_is_left_to_the_decoder() {
        let bytes = serde_json::to_vec(&json!({"metadata": {"name": "a", "labels": {"app": "web"}}})).unwrap();
        let unlabeled = serde_json::to_vec(&json!({"metadata": {"name": "b"}})).unwrap();
        for (text, object, wanted) in [
            ("app=web", &bytes, true),
            ("app!=web", &bytes, false),
            ("app", &unlabeled, false),
            ("!app", &unlabeled, true),
        ] {
            let labels = selector(text);
            let got = item(object, 1, &Item { type_meta: None, labels: &labels }).unwrap();
            assert_eq!(got.is_some(), wanted, "{text}");
        }
        let none = selector("");
        let stale = serde_json::to_vec(&json!({"metadata": {"name": "c", "resourceVersion": "3"}})).unwrap();
        let text = item(&stale, 9, &Item { type_meta: None, labels: &none }).unwrap().unwrap();
        assert_eq!(text, r#"{"metadata":{"name":"c","resourceVersion":"9"}}"#);
        let escaped = br#"{"metadata":{"name":"d"},"we\"ird":1}"#;
        assert!(item(escaped, 1, &Item { type_meta: None, labels: &none }).is_err());
        assert!(item(b"[1,2]", 1, &Item { type_meta: None, labels: &none }).is_err());
    }
}
