//! Label and field selectors, parsed from their query-string forms
//! (k8s.io/apimachinery/pkg/labels/selector.go, pkg/fields/selector.go).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ApiError;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            // kube: `!=` also matches objects that lack the key.
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        }
    }
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(pub Vec<Requirement>);

/// A parsed field selector: `(field, value, equal?)` terms; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(pub Vec<(String, String, bool)>);

/// Splits on commas that are not inside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn bad_label(s: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!("unable to parse requirement: {why}: {s:?}"))
}

fn check_key(key: &str, term: &str) -> Result<String, ApiError> {
    if key.is_empty() || key.chars().any(|c| !(c.is_ascii_alphanumeric() || "-_./".contains(c))) {
        return Err(bad_label(term, "invalid label key"));
    }
    Ok(key.to_string())
}

fn check_value(value: &str, term: &str) -> Result<String, ApiError> {
    if value.len() > 63 || value.chars().any(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(c))) {
        return Err(bad_label(term, "invalid label value"));
    }
    Ok(value.to_string())
}

fn parse_set(rest: &str, term: &str) -> Result<Vec<String>, ApiError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad_label(term, "expected a parenthesized set of values"))?;
    inner.split(',').map(|v| check_value(v.trim(), term)).collect()
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector(reqs));
        }
        for term in split_terms(s) {
            let t = term.trim();
            if t.is_empty() {
                return Err(bad_label(s, "found '', expected: identifier"));
            }
            if let Some(key) = t.strip_prefix('!') {
                reqs.push(Requirement::NotExists(check_key(key.trim(), t)?));
            } else if let Some((k, v)) = t.split_once("!=") {
                reqs.push(Requirement::NotEquals(check_key(k.trim(), t)?, check_value(v.trim(), t)?));
            } else if let Some((k, v)) = t.split_once("==") {
                reqs.push(Requirement::Equals(check_key(k.trim(), t)?, check_value(v.trim(), t)?));
            } else if let Some((k, v)) = t.split_once('=') {
                reqs.push(Requirement::Equals(check_key(k.trim(), t)?, check_value(v.trim(), t)?));
            } else if let Some((k, rest)) = t.split_once(" notin ") {
                reqs.push(Requirement::NotIn(check_key(k.trim(), t)?, parse_set(rest, t)?));
            } else if let Some((k, rest)) = t.split_once(" in ") {
                reqs.push(Requirement::In(check_key(k.trim(), t)?, parse_set(rest, t)?));
            } else if t.contains(' ') || t.contains('(') {
                return Err(bad_label(t, "found unexpected token"));
            } else {
                reqs.push(Requirement::Exists(check_key(t, t)?));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// Builds the selector of a `metav1.LabelSelector` object (matchLabels, matchExpressions).
    pub fn from_object(sel: &Value) -> Self {
        let mut reqs = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                reqs.push(Requirement::Equals(k.clone(), v.as_str().unwrap_or_default().to_string()));
            }
        }
        for expr in sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
            let key = expr.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
            let values: Vec<String> = expr
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| vs.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            match expr.get("operator").and_then(Value::as_str) {
                Some("In") => reqs.push(Requirement::In(key, values)),
                Some("NotIn") => reqs.push(Requirement::NotIn(key, values)),
                Some("Exists") => reqs.push(Requirement::Exists(key)),
                Some("DoesNotExist") => reqs.push(Requirement::NotExists(key)),
                _ => {}
            }
        }
        LabelSelector(reqs)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let labels = labels_of(obj);
        self.0.iter().all(|r| r.matches(&labels))
    }
}

/// An object's labels as a map (empty when it has none).
pub fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

impl FieldSelector {
    /// Parses `a=b,c!=d,e==f`; values may escape `\,` `\=` `\\` as kube allows.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector(terms));
        }
        for term in split_unescaped(s, ',') {
            let (field, value, equal) = if let Some(i) = find_unescaped(&term, "!=") {
                (&term[..i], &term[i + 2..], false)
            } else if let Some(i) = find_unescaped(&term, "==") {
                (&term[..i], &term[i + 2..], true)
            } else if let Some(i) = find_unescaped(&term, "=") {
                (&term[..i], &term[i + 1..], true)
            } else {
                return Err(ApiError::bad_request(format!("invalid selector: '{s}'; can't understand '{term}'")));
            };
            terms.push((field.trim().to_string(), unescape(value), equal));
        }
        Ok(FieldSelector(terms))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a field set (from `kinds::fields`) satisfies every term.
    pub fn matches(&self, fields: &BTreeMap<&'static str, String>) -> bool {
        self.0.iter().all(|(f, v, equal)| (fields.get(f.as_str()).map(String::as_str).unwrap_or("") == v) == *equal)
    }

    /// The value the selector requires for a field with `=`, if any (e.g. `metadata.name`).
    pub fn required(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _, eq)| *eq && f == field).map(|(_, v, _)| v.as_str())
    }
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut escaped) = (Vec::new(), String::new(), false);
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn find_unescaped(s: &str, pat: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..s.len()).find(|&i| s[i..].starts_with(pat) && (i == 0 || bytes[i - 1] != b'\\'))
}

fn unescape(s: &str) -> String {
    let (mut out, mut escaped) = (String::new(), false);
    for c in s.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web,db)", true),
            ("app notin (web)", false),
            ("tier,app", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier in (back)", false),
            ("", true),
        ];
        for (sel, want) in cases {
            assert_eq!(LabelSelector::parse(sel).unwrap().matches(&o), want, "{sel}");
        }
    }

    #[test]
    fn bad_label_selector_is_400() {
        let err = LabelSelector::parse("app in web").unwrap_err();
        assert_eq!(err.code.as_u16(), 400);
        assert!(LabelSelector::parse("a=b=c").is_err());
    }

    #[test]
    fn field_selector_with_escapes() {
        let sel = FieldSelector::parse(r"metadata.name=a\,b,status.phase!=Running").unwrap();
        let mut fields = BTreeMap::new();
        fields.insert("metadata.name", "a,b".to_string());
        fields.insert("status.phase", "Pending".to_string());
        assert!(sel.matches(&fields));
        fields.insert("status.phase", "Running".to_string());
        assert!(!sel.matches(&fields));
        assert_eq!(sel.required("metadata.name"), Some("a,b"));
    }

    #[test]
    fn match_expressions_from_object() {
        let sel = LabelSelector::from_object(
            &json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}),
        );
        assert!(sel.matches(&obj(json!({"app": "web"}))));
        assert!(!sel.matches(&obj(json!({"app": "web", "tier": "db"}))));
    }
}
