//! Small helpers to read and default fields of `serde_json::Value` objects the way Go's
//! zero values behave: a missing key, `null` and (for strings) `""` all mean "unset".

use serde_json::{Map, Value};

/// `v[key]` as an object, if present and an object.
pub(crate) fn get_obj<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

/// `v[key]` as an array, if present and an array.
pub(crate) fn get_arr<'a>(v: &'a Value, key: &str) -> Option<&'a Vec<Value>> {
    v.get(key).and_then(Value::as_array)
}

/// `v[key]` as a string; missing, null or non-string read as "" like a Go zero value.
pub(crate) fn get_str<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `v[key]` as an i64 if it is an integer.
pub(crate) fn get_i64(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// `v[key]` as a bool; missing or null read as false.
pub(crate) fn get_bool(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// True when `v[key]` is absent or `null` (a nil pointer in Go).
pub(crate) fn is_nil(v: &Value, key: &str) -> bool {
    matches!(v.get(key), None | Some(Value::Null))
}

/// Follows a chain of object keys.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    Some(cur)
}

/// Mutable access to `v[key]` when `v` is an object holding that key.
pub(crate) fn child_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    v.as_object_mut().and_then(|m| m.get_mut(key))
}

/// Mutable access to the object at `v[key]`, creating `{}` when the key is absent or null.
/// Returns None when `v` is not an object or the existing value is not an object
/// (a malformed request we leave for validation or decoding to reject).
pub(crate) fn ensure_obj<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    let m = v.as_object_mut()?;
    let slot = m.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    if slot.is_object() {
        Some(slot)
    } else {
        None
    }
}

/// Sets `v[key] = value` when `v` is an object (overwriting).
pub(crate) fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(m) = v.as_object_mut() {
        m.insert(key.to_string(), value);
    }
}

/// Defaults a Go string field: set when absent, null or "".
pub(crate) fn default_str(v: &mut Value, key: &str, value: &str) {
    // A non-string value is left alone: kube rejects it while decoding, not here.
    let unset = match v.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if unset {
        set(v, key, Value::String(value.to_string()));
    }
}

/// Defaults a Go pointer field: set when absent or null.
pub(crate) fn default_ptr(v: &mut Value, key: &str, value: Value) {
    if is_nil(v, key) {
        set(v, key, value);
    }
}

/// Defaults a Go non-pointer number: set when absent, null or 0.
pub(crate) fn default_nonzero(v: &mut Value, key: &str, value: i64) {
    let unset = match v.get(key) {
        None | Some(Value::Null) => true,
        Some(n) => n.as_f64() == Some(0.0),
    };
    if unset {
        set(v, key, Value::from(value));
    }
}

/// Runs `f` on every element of the array at `v[key]`.
pub(crate) fn each_mut(v: &mut Value, key: &str, mut f: impl FnMut(&mut Value)) {
    if let Some(Value::Array(items)) = child_mut(v, key) {
        for item in items.iter_mut() {
            f(item);
        }
    }
}

/// True when the map at `v[key]` is absent, null or empty (Go's `len(map) == 0`).
pub(crate) fn map_empty(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => true,
    }
}

/// Removes what Go's semantic equality does not distinguish: nulls, empty strings,
/// and empty lists or maps (nil and empty compare equal).
pub(crate) fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let n = normalize(v);
                let empty = match &n {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty(),
                    _ => false,
                };
                if !empty {
                    out.insert(k.clone(), n);
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        other => other.clone(),
    }
}
