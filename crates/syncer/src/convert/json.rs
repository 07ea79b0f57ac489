//! Small helpers over `serde_json` values: objects arrive as the API servers return them, so any
//! field may be missing or of an unexpected type, and every helper tolerates that.

use serde_json::Value;

/// A JSON object.
pub(super) type Map = serde_json::Map<String, Value>;

/// The value at `path` (object keys only).
pub(super) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, key| v.get(key))
}

/// The object at `path`, cloned; empty when missing or not an object.
pub(super) fn obj_at(v: &Value, path: &[&str]) -> Map {
    at(v, path).and_then(Value::as_object).cloned().unwrap_or_default()
}

/// The existing object under `key`.
pub(super) fn obj_mut<'a>(m: &'a mut Map, key: &str) -> Option<&'a mut Map> {
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// The objects of the existing array under `key` (non-objects skipped).
pub(super) fn objs_mut<'a>(m: &'a mut Map, key: &str) -> impl Iterator<Item = &'a mut Map> {
    m.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten().filter_map(Value::as_object_mut)
}

/// Sets `key` to `value`, or removes it when `value` is None.
pub(super) fn set_or_remove(m: &mut Map, key: &str, value: Option<&Value>) {
    match value {
        Some(v) => {
            m.insert(key.to_string(), v.clone());
        }
        None => {
            m.shift_remove(key);
        }
    }
}

/// Copies `keys` from `from` into `to` (missing ones removed from `to`).
pub(super) fn copy_keys(to: &mut Map, from: &Value, keys: &[&str]) {
    for key in keys {
        set_or_remove(to, key, from.get(key));
    }
}

/// Two optional values equal, a missing value counting as an empty object or null: the API
/// servers omit empty structs, so `{}` and "absent" mean the same.
pub(super) fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    fn empty(v: Option<&Value>) -> bool {
        match v {
            None | Some(Value::Null) => true,
            Some(Value::Object(m)) => m.is_empty(),
            Some(_) => false,
        }
    }
    match (a, b) {
        (Some(a), Some(b)) if a == b => true,
        _ => empty(a) && empty(b),
    }
}
