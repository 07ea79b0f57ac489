//! Small readers over stored v1 JSON and the formatting helpers printers.go shares
//! (labels, label selectors, container lists, timestamps).
//!
//! kube prints from typed internal objects, where a missing field is its Go zero
//! value. These readers give the same zero values ("" / 0 / false / empty list) so
//! each printer can follow printers.go line by line.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::{Map, Value};

use super::duration;

/// Follows `path` through nested objects.
pub fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur.as_object()?.get(*key)?;
    }
    Some(cur)
}

/// The string at `path`, or "" (Go's zero value).
pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    get(v, path).and_then(Value::as_str).unwrap_or("")
}

/// The string at `path` if present and a string (a Go `*string`).
pub fn opt_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

/// The integer at `path`, or 0.
pub fn int_at(v: &Value, path: &[&str]) -> i64 {
    opt_int(v, path).unwrap_or(0)
}

/// The integer at `path` if present (a Go `*int32`).
pub fn opt_int(v: &Value, path: &[&str]) -> Option<i64> {
    let n = get(v, path)?;
    n.as_i64()
        .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| n.as_f64().map(|f| f as i64))
}

/// The bool at `path`, or false.
pub fn bool_at(v: &Value, path: &[&str]) -> bool {
    opt_bool(v, path).unwrap_or(false)
}

/// The bool at `path` if present (a Go `*bool`).
pub fn opt_bool(v: &Value, path: &[&str]) -> Option<bool> {
    get(v, path).and_then(Value::as_bool)
}

/// The array at `path`, or an empty slice.
pub fn arr_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The object at `path` if present.
pub fn obj_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    get(v, path).and_then(Value::as_object)
}

/// Number of entries of the map (or list) at `path`; Go's `len()` of a nil map is 0.
pub fn len_at(v: &Value, path: &[&str]) -> i64 {
    let n = match get(v, path) {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `metadata.name`.
pub fn name(obj: &Value) -> &str {
    str_at(obj, &["metadata", "name"])
}

/// Whether `metadata.deletionTimestamp` is set (Go: `DeletionTimestamp != nil`).
pub fn is_deleting(obj: &Value) -> bool {
    matches!(get(obj, &["metadata", "deletionTimestamp"]), Some(v) if !v.is_null())
}

/// Parses a `metav1.Time` / `metav1.MicroTime` string. An absent, unparseable or
/// zero time (`0001-01-01T00:00:00Z`) is `None`, which is what Go's `IsZero` sees.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    let zero = t.year() == 1
        && t.month() == 1
        && t.day() == 1
        && t.hour() == 0
        && t.minute() == 0
        && t.second() == 0
        && t.nanosecond() == 0;
    (!zero).then_some(t)
}

/// The time at `path` (see [`parse_time`]).
pub fn time_at(v: &Value, path: &[&str]) -> Option<DateTime<Utc>> {
    opt_str(v, path).and_then(parse_time)
}

/// kube's `translateTimestampSince(obj.CreationTimestamp)`.
pub fn age(obj: &Value, now: DateTime<Utc>) -> String {
    duration::since(time_at(obj, &["metadata", "creationTimestamp"]), now)
}

/// kube's `translateTimestampSince` for the time at `path`.
pub fn since_at(v: &Value, path: &[&str], now: DateTime<Utc>) -> String {
    duration::since(time_at(v, path), now)
}

/// A JSON string cell.
pub fn s(x: impl Into<String>) -> Value {
    Value::String(x.into())
}

/// A JSON integer cell.
pub fn n(x: i64) -> Value {
    Value::from(x)
}

/// A JSON bool cell.
pub fn b(x: bool) -> Value {
    Value::Bool(x)
}

/// `labels.Set(m).String()`: sorted `k=v` pairs joined by ",", "" when empty.
pub fn labels_string(m: Option<&Map<String, Value>>) -> String {
    let Some(m) = m else { return String::new() };
    let mut pairs: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// `labels.FormatLabels`: like [`labels_string`] but "<none>" when empty.
pub fn format_labels(m: Option<&Map<String, Value>>) -> String {
    let l = labels_string(m);
    if l.is_empty() {
        "<none>".to_string()
    } else {
        l
    }
}

/// A label selector kube's `LabelSelectorAsSelector` rejects (unknown operator,
/// values missing for In/NotIn or present for Exists/DoesNotExist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidSelector;

/// `metav1.LabelSelectorAsSelector(sel).String()`.
///
/// A nil selector selects nothing and an empty one everything; both print as "".
pub fn selector_string(sel: Option<&Value>) -> Result<String, InvalidSelector> {
    let Some(sel) = sel.filter(|v| v.is_object()) else {
        return Ok(String::new());
    };
    // (key, rendered requirement); kube sorts requirements by key.
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(ml) = obj_at(sel, &["matchLabels"]) {
        for (k, v) in ml {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for expr in arr_at(sel, &["matchExpressions"]) {
        let key = str_at(expr, &["key"]).to_string();
        let mut values: Vec<&str> = arr_at(expr, &["values"]).iter().filter_map(Value::as_str).collect();
        let rendered = match str_at(expr, &["operator"]) {
            op @ ("In" | "NotIn") => {
                if values.is_empty() {
                    return Err(InvalidSelector);
                }
                values.sort_unstable();
                let word = if op == "In" { "in" } else { "notin" };
                format!("{key} {word} ({})", values.join(","))
            }
            "Exists" if values.is_empty() => key.clone(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return Err(InvalidSelector),
        };
        reqs.push((key, rendered));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(reqs.into_iter().map(|(_, r)| r).collect::<Vec<_>>().join(","))
}

/// `metav1.FormatLabelSelector`: "<none>" when empty, "<error>" when invalid.
pub fn format_label_selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        Err(InvalidSelector) => "<error>".to_string(),
        Ok(l) if l.is_empty() => "<none>".to_string(),
        Ok(l) => l,
    }
}

/// `layoutContainerCells`: container names and images, each joined by ",".
pub fn layout_containers(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// Whether `conditions` holds a condition of `type_` (the first one wins) with status "True".
pub fn condition_true(conditions: &[Value], type_: &str) -> bool {
    conditions.iter().find(|c| str_at(c, &["type"]) == type_).is_some_and(|c| str_at(c, &["status"]) == "True")
}

/// A `resource.Quantity` as kube prints it. Stored quantities are kept as written,
/// so this echoes the string; a missing quantity is Go's zero Quantity, "0".
pub fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(q)) => q.clone(),
        Some(Value::Number(num)) => num.to_string(),
        _ => "0".to_string(),
    }
}

/// A `*resource.Quantity` as kube prints it: like [`quantity`], but a nil pointer
/// prints as "<nil>" (`Quantity.String` on nil).
pub fn quantity_ptr(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<nil>".to_string(),
        some => quantity(some),
    }
}

/// `intstr.IntOrString.String()`.
pub fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Number(num) => num.to_string(),
        _ => String::new(),
    }
}

/// `listWithMoreString` from printers.go.
pub fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count.saturating_sub(max));
    }
    if ret.is_empty() {
        return "<unset>".to_string();
    }
    ret
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selector_formats_like_kube() {
        let sel = json!({
            "matchLabels": {"b": "2", "a": "1"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "tier", "operator": "DoesNotExist"},
                {"key": "c", "operator": "Exists"},
                {"key": "d", "operator": "NotIn", "values": ["x"]}
            ]
        });
        assert_eq!(format_label_selector(Some(&sel)), "a=1,b=2,c,d notin (x),env in (dev,prod),!tier");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(None), "<none>");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
    }

    #[test]
    fn labels_sorted_or_none() {
        let m = json!({"z": "1", "a": "2"});
        assert_eq!(format_labels(m.as_object()), "a=2,z=1");
        assert_eq!(format_labels(None), "<none>");
    }

    #[test]
    fn zero_time_is_unset() {
        assert!(parse_time("0001-01-01T00:00:00Z").is_none());
        assert!(parse_time("garbage").is_none());
        assert!(parse_time("2024-05-01T10:00:00Z").is_some());
        assert!(parse_time("2024-05-01T10:00:00.123456Z").is_some());
    }
}
