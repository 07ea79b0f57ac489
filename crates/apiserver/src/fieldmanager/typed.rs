//! Objects seen through their schema, as structured-merge-diff sees them: which fields an
//! object sets (`field_set`), what changed between two (`compare`), an applied configuration
//! merged over a live object (`merge`), and fields taken out (`remove`). Lists merge by their
//! `x-kubernetes-list-type` (`map` by keys, `set` by value, anything else atomic) and maps are
//! granular unless `x-kubernetes-map-type: atomic`.

use serde_json::{Map, Value};

use super::set::FieldSet;

/// A place in a schema: the node (if known) and the definitions its `$ref`s point into.
#[derive(Clone, Copy)]
pub struct Schema<'a> {
    node: Option<&'a Value>,
    definitions: &'a Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

impl<'a> Schema<'a> {
    pub fn new(node: Option<&'a Value>, definitions: &'a Map<String, Value>) -> Self {
        Schema { node, definitions }
    }

    /// The node with `$ref` (or a lone `allOf` reference) followed.
    fn resolved(self) -> Option<&'a Value> {
        let mut node = self.node?;
        for _ in 0..8 {
            let reference = node
                .get("$ref")
                .or_else(|| node.pointer("/allOf/0/$ref"))
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next());
            match reference.and_then(|name| self.definitions.get(name)) {
                Some(target) => node = target,
                None => break,
            }
        }
        Some(node)
    }

    fn extension(self, name: &str) -> Option<&'a Value> {
        self.node.and_then(|n| n.get(name)).or_else(|| self.resolved().and_then(|n| n.get(name)))
    }

    /// A field's schema, and whether it is a declared property (a struct field) rather than a
    /// key of a map.
    fn field(self, name: &str) -> (Schema<'a>, bool) {
        let node = self.resolved();
        if let Some(property) = node.and_then(|n| n.get("properties")).and_then(|p| p.get(name)) {
            return (Schema { node: Some(property), ..self }, true);
        }
        let values = node.and_then(|n| n.get("additionalProperties")).filter(|v| v.is_object());
        (Schema { node: values, ..self }, false)
    }

    fn items(self) -> Schema<'a> {
        Schema { node: self.resolved().and_then(|n| n.get("items")), ..self }
    }

    fn list_type(self) -> ListType {
        match self.extension("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => {
                let keys = self.extension("x-kubernetes-list-map-keys").and_then(Value::as_array);
                ListType::Map(keys.into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect())
            }
            Some("set") => ListType::Set,
            _ => ListType::Atomic,
        }
    }

    fn atomic_map(self) -> bool {
        self.extension("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
    }

    /// A struct (declared properties) rather than a map of values.
    fn is_struct(self) -> bool {
        self.resolved().and_then(|n| n.get("properties")).is_some()
    }
}

/// The path element of a list item: `k:{"name":"web"}` by the list's keys (in name order),
/// `v:<json>` in a set, `i:<index>` otherwise.
fn item_element(list_type: &ListType, item: &Value, index: usize) -> String {
    match list_type {
        ListType::Map(keys) => {
            let mut sorted: Vec<&String> = keys.iter().collect();
            sorted.sort();
            let mut fields = Map::new();
            for key in sorted {
                if let Some(v) = item.get(key.as_str()) {
                    fields.insert(key.clone(), v.clone());
                }
            }
            if fields.is_empty() {
                format!("i:{index}")
            } else {
                format!("k:{}", Value::Object(fields))
            }
        }
        ListType::Set => format!("v:{item}"),
        ListType::Atomic => format!("i:{index}"),
    }
}

/// The fields `value` sets: its leaves, list items, empty or null values and map entries.
pub fn field_set(value: &Value, schema: Schema) -> FieldSet {
    let mut out = FieldSet::default();
    walk_set(value, schema, false, &mut Vec::new(), &mut out);
    out
}

/// `added` marks a value that did not exist before: then each map in it (not a struct) is a
/// member too, as structured-merge-diff's comparison reports new maps.
fn walk_set(value: &Value, schema: Schema, added: bool, path: &mut Vec<String>, out: &mut FieldSet) {
    match value {
        Value::Object(fields) if !schema.atomic_map() => {
            if added && !path.is_empty() && !schema.is_struct() {
                out.insert(path);
            }
            for (name, v) in fields {
                let (child, declared) = schema.field(name);
                path.push(format!("f:{name}"));
                walk_set(v, child, added, path, out);
                if v.is_null() || v.as_object().is_some_and(Map::is_empty) || !declared {
                    out.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let list_type = schema.list_type();
            if list_type == ListType::Atomic {
                out.insert(path);
                return;
            }
            for (i, item) in items.iter().enumerate() {
                path.push(item_element(&list_type, item, i));
                if matches!(list_type, ListType::Map(_)) {
                    walk_set(item, schema.items(), added, path, out);
                }
                out.insert(path);
                path.pop();
            }
        }
        _ => out.insert(path),
    }
}

/// What changed from `old` to `new`, as structured-merge-diff's Compare finds it.
#[derive(Debug, Default)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

pub fn compare(old: &Value, new: &Value, schema: Schema) -> Comparison {
    let mut out = Comparison::default();
    walk_compare(Some(old), Some(new), schema, &mut Vec::new(), &mut out);
    out
}

/// Adds `value`'s fields under `path` to `set`, and `path` itself when the value is an entry
/// of its own (a map, not a struct).
fn insert_subtree(value: &Value, schema: Schema, path: &[String], set: &mut FieldSet) {
    let mut sub = FieldSet::default();
    walk_set(value, schema, true, &mut Vec::new(), &mut sub);
    for member in sub.members() {
        let mut full = path.to_vec();
        full.extend(member);
        set.insert(&full);
    }
    if !path.is_empty() && (!value.is_object() || !schema.is_struct()) {
        set.insert(path);
    }
}

fn walk_compare(
    old: Option<&Value>,
    new: Option<&Value>,
    schema: Schema,
    path: &mut Vec<String>,
    out: &mut Comparison,
) {
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => insert_subtree(n, schema, path, &mut out.added),
        (Some(o), None) => insert_subtree(o, schema, path, &mut out.removed),
        (Some(Value::Object(o)), Some(Value::Object(n))) if !schema.atomic_map() => {
            for name in o.keys().chain(n.keys().filter(|k| !o.contains_key(*k))) {
                let (child, _) = schema.field(name);
                path.push(format!("f:{name}"));
                walk_compare(o.get(name), n.get(name), child, path, out);
                path.pop();
            }
        }
        (Some(Value::Array(o)), Some(Value::Array(n))) if schema.list_type() != ListType::Atomic => {
            let list_type = schema.list_type();
            let index = |items: &'_ Vec<Value>| -> Vec<(String, usize)> {
                items.iter().enumerate().map(|(i, item)| (item_element(&list_type, item, i), i)).collect()
            };
            let (old_items, new_items) = (index(o), index(n));
            let find =
                |items: &[(String, usize)], element: &str| items.iter().find(|(e, _)| e == element).map(|(_, i)| *i);
            let elements = old_items
                .iter()
                .map(|(e, _)| e)
                .chain(new_items.iter().map(|(e, _)| e).filter(|e| find(&old_items, e).is_none()));
            let item_schema = schema.items();
            for element in elements.cloned().collect::<Vec<_>>() {
                path.push(element.clone());
                let (before, after) =
                    (find(&old_items, &element).map(|i| &o[i]), find(&new_items, &element).map(|i| &n[i]));
                match (before, after) {
                    (Some(b), Some(a)) if matches!(list_type, ListType::Map(_)) => {
                        walk_compare(Some(b), Some(a), item_schema, path, out)
                    }
                    (Some(_), Some(_)) => {}
                    (None, Some(a)) => {
                        insert_subtree(a, item_schema, path, &mut out.added);
                        out.added.insert(path);
                    }
                    (Some(b), None) => {
                        insert_subtree(b, item_schema, path, &mut out.removed);
                        out.removed.insert(path);
                    }
                    (None, None) => {}
                }
                path.pop();
            }
        }
        (Some(o), Some(n)) => {
            if o != n {
                out.modified.insert(path);
            }
        }
    }
}

/// `config` merged over `live`: maps key by key, associative lists item by item (live items
/// keep their places, new ones follow in the configuration's order), sets as a union, and
/// everything else replaced.
pub fn merge(live: Option<&Value>, config: &Value, schema: Schema) -> Value {
    match (live, config) {
        (Some(Value::Object(l)), Value::Object(c)) if !schema.atomic_map() => {
            let mut out = l.clone();
            for (name, value) in c {
                let (child, _) = schema.field(name);
                out.insert(name.clone(), merge(l.get(name), value, child));
            }
            Value::Object(out)
        }
        (Some(Value::Array(l)), Value::Array(c)) => {
            let list_type = schema.list_type();
            if list_type == ListType::Atomic {
                return config.clone();
            }
            let element = |item: &Value, i: usize| item_element(&list_type, item, i);
            let configured: Vec<String> = c.iter().enumerate().map(|(i, item)| element(item, i)).collect();
            let mut out = Vec::new();
            let mut emitted = vec![false; c.len()];
            for (i, item) in l.iter().enumerate() {
                let e = element(item, i);
                match configured.iter().position(|x| *x == e) {
                    None => out.push(item.clone()),
                    Some(at) => {
                        // Configured items up to this one come here, in the configuration's order.
                        for j in 0..=at {
                            if !emitted[j] {
                                emitted[j] = true;
                                let live_item =
                                    l.iter().enumerate().find(|(k, x)| element(x, *k) == configured[j]).map(|(_, x)| x);
                                out.push(merge(live_item, &c[j], schema.items()));
                            }
                        }
                    }
                }
            }
            for (j, item) in c.iter().enumerate() {
                if !emitted[j] {
                    out.push(merge(None, item, schema.items()));
                }
            }
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// Takes the members of `set` out of `value` (a field, a list item), leaving the rest.
pub fn remove(value: &mut Value, set: &FieldSet, schema: Schema) {
    for (element, child) in &set.children {
        if let Some(name) = element.strip_prefix("f:") {
            let Value::Object(fields) = value else { continue };
            if child.member {
                fields.remove(name);
            } else if let Some(v) = fields.get_mut(name) {
                remove(v, child, schema.field(name).0);
            }
        } else if let Value::Array(items) = value {
            let list_type = schema.list_type();
            let Some(i) = items.iter().enumerate().position(|(i, item)| item_element(&list_type, item, i) == *element)
            else {
                continue;
            };
            if child.member {
                items.remove(i);
            } else {
                remove(&mut items[i], child, schema.items());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema_doc() -> (Value, Map<String, Value>) {
        let definitions = json!({
            "Spec": {"properties": {
                "replicas": {"type": "integer"},
                "containers": {"type": "array", "items": {"$ref": "#/definitions/Container"}, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
                "finalizers": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "args": {"type": "array", "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "selector": {"$ref": "#/definitions/Selector"},
            }},
            "Selector": {"properties": {"matchLabels": {"type": "object"}}, "x-kubernetes-map-type": "atomic"},
            "Container": {"properties": {"name": {"type": "string"}, "image": {"type": "string"}}},
        });
        let root = json!({"properties": {"spec": {"$ref": "#/definitions/Spec"}}});
        (root, definitions.as_object().unwrap().clone())
    }

    #[test]
    fn field_sets_follow_list_and_map_types() {
        let (root, defs) = schema_doc();
        let schema = Schema::new(Some(&root), &defs);
        let obj = json!({"spec": {"replicas": 2, "containers": [{"name": "web", "image": "nginx"}], "finalizers": ["a"],
            "args": ["x"], "labels": {"app": "web"}, "selector": {"matchLabels": {"a": "b"}}}});
        assert_eq!(
            field_set(&obj, schema).to_fields_v1(),
            json!({"f:spec": {
                "f:args": {},
                "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}},
                "f:finalizers": {"v:\"a\"": {}},
                "f:labels": {"f:app": {}},
                "f:replicas": {},
                "f:selector": {},
            }})
        );
    }

    #[test]
    fn merge_compare_and_remove() {
        let (root, defs) = schema_doc();
        let schema = Schema::new(Some(&root), &defs);
        let live = json!({"spec": {"replicas": 1, "containers": [{"name": "side", "image": "envoy"}, {"name": "web", "image": "nginx:1"}], "args": ["a", "b"]}});
        let config = json!({"spec": {"containers": [{"name": "web", "image": "nginx:2"}], "args": ["c"]}});
        let merged = merge(Some(&live), &config, schema);
        assert_eq!(
            merged,
            json!({"spec": {"replicas": 1, "containers": [{"name": "side", "image": "envoy"}, {"name": "web", "image": "nginx:2"}], "args": ["c"]}})
        );
        let diff = compare(&live, &merged, schema);
        let modified: Vec<String> = diff.modified.members().iter().map(|p| super::super::set::display(p)).collect();
        assert_eq!(modified, [".spec.args", r#".spec.containers[name="web"].image"#]);
        assert!(diff.added.is_empty() && diff.removed.is_empty());
        let mut pruned = merged.clone();
        let mut side = FieldSet::default();
        side.insert(&["f:spec".to_string(), "f:containers".to_string(), "k:{\"name\":\"side\"}".to_string()]);
        side.insert(&["f:spec".to_string(), "f:replicas".to_string()]);
        remove(&mut pruned, &side, schema);
        assert_eq!(pruned, json!({"spec": {"containers": [{"name": "web", "image": "nginx:2"}], "args": ["c"]}}));
    }
}
