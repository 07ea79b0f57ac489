//! Sets of field paths, as `managedFields[].fieldsV1` writes them (structured-merge-diff's
//! `fieldpath.Set`): a tree whose keys are path elements (`f:name`, `k:{"name":"web"}`,
//! `v:"value"`, `i:0`) and whose nodes may themselves be members (`.`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// The node itself is in the set (`.` in fieldsV1, or a leaf).
    pub member: bool,
    pub children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    pub fn child(&mut self, element: &str) -> &mut FieldSet {
        self.children.entry(element.to_string()).or_default()
    }

    /// Adds the member at `path`.
    pub fn insert(&mut self, path: &[String]) {
        match path.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.child(first).insert(rest),
        }
    }

    pub fn contains(&self, path: &[String]) -> bool {
        match path.split_first() {
            None => self.member,
            Some((first, rest)) => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    /// Every member's path.
    pub fn members(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        for path in other.members() {
            out.insert(&path);
        }
        out
    }

    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::default();
        for path in self.members() {
            if !other.contains(&path) {
                out.insert(&path);
            }
        }
        out
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::default();
        for path in self.members() {
            if other.contains(&path) {
                out.insert(&path);
            }
        }
        out
    }

    /// Drops the subtree under the first element `element` (e.g. `f:status`).
    pub fn without(mut self, element: &str) -> FieldSet {
        self.children.remove(element);
        self
    }

    /// Only the subtree under `element`, kept at its place.
    pub fn only(&self, element: &str) -> FieldSet {
        let mut out = FieldSet::default();
        if let Some(child) = self.children.get(element) {
            out.children.insert(element.to_string(), child.clone());
        }
        out
    }

    /// The fieldsV1 JSON: `{"f:spec":{"f:replicas":{}}}`, `.` for a member with children.
    pub fn to_fields_v1(&self) -> Value {
        let mut out = Map::new();
        if self.member && !self.children.is_empty() {
            out.insert(".".into(), Value::Object(Map::new()));
        }
        for (element, child) in &self.children {
            if !child.is_empty() {
                out.insert(element.clone(), child.to_fields_v1());
            }
        }
        Value::Object(out)
    }

    /// Reads fieldsV1; anything unreadable is left out.
    pub fn from_fields_v1(value: &Value) -> FieldSet {
        let mut out = FieldSet::default();
        let Some(fields) = value.as_object() else { return out };
        if fields.is_empty() {
            out.member = true;
        }
        for (element, child) in fields {
            if element == "." {
                out.member = true;
            } else {
                out.children.insert(element.clone(), FieldSet::from_fields_v1(child));
            }
        }
        out
    }
}

/// A path as kube prints it in conflicts: `.spec.containers[name="web"].image`.
pub fn display(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(name) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(name);
        } else if let Some(key) = element.strip_prefix("k:") {
            let fields: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(value) = element.strip_prefix("v:") {
            out.push_str(&format!("[={value}]"));
        } else if let Some(index) = element.strip_prefix("i:") {
            out.push_str(&format!("[{index}]"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trips_and_sets_combine() {
        let v = json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}}}}});
        let set = FieldSet::from_fields_v1(&v);
        assert_eq!(set.to_fields_v1(), v);
        let image: Vec<String> =
            ["f:spec", "f:containers", "k:{\"name\":\"web\"}", "f:image"].map(String::from).to_vec();
        assert!(set.contains(&image));
        assert_eq!(display(&image), r#".spec.containers[name="web"].image"#);
        let mut other = FieldSet::default();
        other.insert(&image);
        let rest = set.difference(&other);
        assert!(!rest.contains(&image) && rest.members().len() == 3);
        assert_eq!(set.intersection(&other).members(), vec![image.clone()]);
        assert_eq!(rest.union(&other), set);
    }
}
