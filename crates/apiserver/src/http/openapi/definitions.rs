//! The schemas of served kinds, as the `definitions` of `/openapi/v2` and the
//! `components.schemas` of `/openapi/v3`.
//!
//! Built-in kinds take k8s-openapi's schema of their type (descriptions, types, formats,
//! required fields, named as kube names its definitions). What kube's OpenAPI has beyond the
//! type, the patch strategies, merge keys, list and map types, comes from `extensions.txt`.
//! Custom kinds take their CRD's schema, with the standard `apiVersion`, `kind` and `metadata`
//! added as kube's CRD OpenAPI builder adds them.

use std::collections::BTreeMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use k8s_openapi::schemars::Schema;
use serde_json::{json, Map, Value};

use crate::kinds::typed;
use crate::registry::resources::{ResourceDef, Snapshot};

/// Which OpenAPI version a document is for: they differ in where definitions live and in how
/// a reference with its own description is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Swagger 2.0: `#/definitions/...`, a description beside `$ref`.
    V2,
    /// OpenAPI 3.0: `#/components/schemas/...`, a described reference wrapped in `allOf`.
    V3,
}

impl Flavor {
    pub fn reference(self, name: &str) -> Value {
        match self {
            Flavor::V2 => json!({"$ref": format!("#/definitions/{name}")}),
            Flavor::V3 => json!({"$ref": format!("#/components/schemas/{name}")}),
        }
    }
}

/// The definition name of a kind served by `def` in `version`: the built-in type's name,
/// or for a custom kind its group reversed, the version and the kind, as kube names them
/// (`com.example.v1.Widget`).
pub fn kind_name(def: &ResourceDef, version: &str) -> Option<String> {
    if def.crd.is_some() {
        let reversed: Vec<&str> = def.group.split('.').rev().collect();
        return Some(format!("{}.{version}.{}", reversed.join("."), def.kind));
    }
    typed::find(&def.api_version(version), &def.kind).map(|t| (t.name)())
}

/// The definitions of every kind served in the group-version `only` (every group-version
/// when `None`), with all the definitions they refer to.
pub fn definitions(snapshot: &Snapshot, only: Option<(&str, &str)>, flavor: Flavor) -> Map<String, Value> {
    let mut generator = SchemaSettings::draft07()
        .with(|s| {
            s.meta_schema = None;
            s.transforms = Vec::new();
        })
        .into_generator();
    let mut kinds: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut custom = Map::new();
    for def in &snapshot.all {
        for version in &def.versions {
            if only.is_some_and(|(g, v)| g != def.group || v != version) {
                continue;
            }
            if def.crd.is_some() {
                add_custom(&mut generator, &mut custom, &mut kinds, def, version, flavor);
                continue;
            }
            let mut add = |api_version: &str, kind: &str| {
                if let Some(t) = typed::find(api_version, kind) {
                    (t.schema)(&mut generator);
                    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
                    let gvk = json!({"group": group, "kind": kind, "version": version});
                    let entry = kinds.entry((t.name)()).or_default();
                    if !entry.contains(&gvk) {
                        entry.push(gvk);
                    }
                }
            };
            if def.kind.is_empty() {
                continue;
            }
            add(&def.api_version(version), &def.kind);
            for sub in &def.subresources {
                let group = sub.group.as_deref().unwrap_or(&def.group);
                let version = sub.version.as_deref().unwrap_or(version);
                let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
                add(&api_version, &sub.kind);
            }
            if def.supports("list") {
                if let Some(name) = kind_name(def, version) {
                    generator.subschema_for::<ListMeta>();
                    list_kind(&mut custom, &mut kinds, def, version, &name);
                }
            }
        }
    }
    let mut out = generator.take_definitions(false);
    out.extend(custom);
    for (name, gvks) in kinds {
        if let Some(Value::Object(schema)) = out.get_mut(&name) {
            // k8s-openapi requires `metadata` because its Rust field is not optional; kube does not.
            if let Some(Value::Array(required)) = schema.get_mut("required") {
                required.retain(|r| r != "metadata");
                if required.is_empty() {
                    schema.remove("required");
                }
            }
            schema.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks));
        }
    }
    add_extensions(&mut out);
    if flavor == Flavor::V3 {
        for schema in out.values_mut() {
            to_v3(schema);
        }
    }
    out
}

/// Definitions with only what describes structure (properties, items, maps, references and
/// the list and map types), for server-side apply. Filled per type on its first write, so a
/// server keeps only what its writes need; types share the definitions they refer to.
static STRUCTURE: LazyLock<RwLock<Map<String, Value>>> = LazyLock::new(|| RwLock::new(Map::new()));

/// Runs `f` over the structure definitions, after adding those of the type named `name`
/// (whose schema `schema` gives) if it is the first time.
pub fn with_structure<T>(
    name: &str,
    schema: fn(&mut SchemaGenerator) -> Schema,
    f: impl FnOnce(&Map<String, Value>) -> T,
) -> T {
    let known = STRUCTURE.read().unwrap_or_else(PoisonError::into_inner).contains_key(name);
    if !known {
        let mut generator = SchemaSettings::draft07()
            .with(|s| {
                s.meta_schema = None;
                s.transforms = Vec::new();
            })
            .into_generator();
        schema(&mut generator);
        let mut found = generator.take_definitions(false);
        add_extensions(&mut found);
        let mut all = STRUCTURE.write().unwrap_or_else(PoisonError::into_inner);
        for (key, mut value) in found {
            keep_structure(&mut value);
            all.entry(key).or_insert(value);
        }
    }
    f(&STRUCTURE.read().unwrap_or_else(PoisonError::into_inner))
}

/// Drops descriptions and everything else that says nothing of a value's shape.
fn keep_structure(schema: &mut Value) {
    let Value::Object(fields) = schema else { return };
    fields.retain(|k, _| {
        matches!(k.as_str(), "properties" | "items" | "additionalProperties" | "$ref" | "type")
            || k.starts_with("x-kubernetes-")
    });
    for (key, value) in fields.iter_mut() {
        match (key.as_str(), value) {
            ("properties", Value::Object(named)) => named.values_mut().for_each(keep_structure),
            ("items" | "additionalProperties", value) => keep_structure(value),
            _ => {}
        }
    }
}

/// A custom kind's definition from its CRD schema, and its list.
fn add_custom(
    generator: &mut SchemaGenerator,
    out: &mut Map<String, Value>,
    kinds: &mut BTreeMap<String, Vec<Value>>,
    def: &ResourceDef,
    version: &str,
    flavor: Flavor,
) {
    let Some(name) = kind_name(def, version) else { return };
    let mut schema = def
        .crd_version(version)
        .and_then(|v| v.schema.clone())
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if flavor == Flavor::V2 {
        to_v2_structural(&mut schema);
    }
    if let Value::Object(fields) = &mut schema {
        let properties = fields.entry("properties").or_insert_with(|| json!({}));
        if let Value::Object(properties) = properties {
            let object_meta = generator.subschema_for::<ObjectMeta>();
            properties.insert("apiVersion".into(), standard("apiVersion"));
            properties.insert("kind".into(), standard("kind"));
            let mut meta = object_meta.to_value();
            meta["description"] = json!(METADATA_DESCRIPTION);
            properties.insert("metadata".into(), meta);
        }
    }
    out.insert(name.clone(), schema);
    kinds.insert(name.clone(), vec![json!({"group": def.group, "kind": def.kind, "version": version})]);
    if def.supports("list") {
        generator.subschema_for::<ListMeta>();
        list_kind(out, kinds, def, version, &name);
    }
}

const METADATA_DESCRIPTION: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The `apiVersion` and `kind` properties every kind has, with kube's descriptions.
fn standard(field: &str) -> Value {
    let description = match field {
        "apiVersion" => {
            "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
        }
        _ => {
            "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
        }
    };
    json!({"description": description, "type": "string"})
}

/// `<Kind>List`: apiVersion, kind, list metadata and the items.
fn list_kind(
    out: &mut Map<String, Value>,
    kinds: &mut BTreeMap<String, Vec<Value>>,
    def: &ResourceDef,
    version: &str,
    item: &str,
) {
    let name = format!("{item}List");
    let kind = format!("{}List", def.kind);
    let mut items = json!({"type": "array", "items": Flavor::V2.reference(item)});
    items["description"] = json!(format!("List of {}.", def.resource));
    let mut metadata = Flavor::V2.reference("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta");
    metadata["description"] = json!("Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds");
    out.insert(
        name.clone(),
        json!({
            "description": format!("{kind} is a list of {}.", def.kind),
            "type": "object",
            "properties": {"apiVersion": standard("apiVersion"), "items": items, "kind": standard("kind"), "metadata": metadata},
            "required": ["items"],
        }),
    );
    kinds.insert(name, vec![json!({"group": def.group, "kind": kind, "version": version})]);
}

/// What kube's OpenAPI says of fields beyond their type, read once from `extensions.txt`:
/// per definition, the extensions of the definition itself (`.`) and of its properties.
type Extensions = BTreeMap<&'static str, BTreeMap<&'static str, Map<String, Value>>>;

static EXTENSIONS: LazyLock<Extensions> = LazyLock::new(|| {
    let mut out: Extensions = BTreeMap::new();
    for line in include_str!("extensions.txt").lines() {
        let mut words = line.split_whitespace();
        let (Some(definition), Some(property)) = (words.next(), words.next()) else { continue };
        if definition.starts_with('#') {
            continue;
        }
        let mut extensions = Map::new();
        for word in words {
            let Some((key, value)) = word.split_once('=') else { continue };
            let (name, value) = match key {
                "patch" => ("x-kubernetes-patch-strategy", json!(value)),
                "key" => ("x-kubernetes-patch-merge-key", json!(value)),
                "list" => ("x-kubernetes-list-type", json!(value)),
                "keys" => ("x-kubernetes-list-map-keys", json!(value.split(',').collect::<Vec<_>>())),
                "map" => ("x-kubernetes-map-type", json!(value)),
                _ => continue,
            };
            extensions.insert(name.into(), value);
        }
        out.entry(definition).or_default().insert(property, extensions);
    }
    out
});

fn add_extensions(definitions: &mut Map<String, Value>) {
    for (name, schema) in definitions.iter_mut() {
        let Some(per_property) = EXTENSIONS.get(name.as_str()) else { continue };
        for (property, extensions) in per_property {
            let target = if *property == "." {
                Some(&mut *schema)
            } else {
                schema.pointer_mut(&format!("/properties/{property}"))
            };
            if let Some(Value::Object(target)) = target {
                target.extend(extensions.clone());
            }
        }
    }
}

/// Rewrites a v2-form schema for OpenAPI 3.0: references point into `components/schemas`, and
/// a reference with siblings (a field's own description) becomes `allOf: [ref]` beside them,
/// since 3.0 ignores what stands next to `$ref`.
fn to_v3(schema: &mut Value) {
    match schema {
        Value::Object(fields) => {
            if let Some(Value::String(target)) = fields.get_mut("$ref") {
                if let Some(name) = target.strip_prefix("#/definitions/") {
                    *target = format!("#/components/schemas/{name}");
                }
                if fields.len() > 1 {
                    if let Some(reference) = fields.remove("$ref") {
                        fields.insert("allOf".into(), json!([{"$ref": reference}]));
                    }
                }
            }
            fields.values_mut().for_each(to_v3);
        }
        Value::Array(items) => items.iter_mut().for_each(to_v3),
        _ => {}
    }
}

/// What kube drops from a CRD schema for Swagger 2.0, which has no way to say it (and whose
/// clients, kubectl's among them, would fail to parse it).
fn to_v2_structural(schema: &mut Value) {
    let Value::Object(fields) = schema else { return };
    for key in ["nullable", "oneOf", "anyOf", "not"] {
        fields.remove(key);
    }
    if fields.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        fields.remove("type");
    }
    for (key, value) in fields.iter_mut() {
        match (key.as_str(), value) {
            ("properties" | "patternProperties", Value::Object(named)) => {
                named.values_mut().for_each(to_v2_structural);
            }
            ("allOf", Value::Array(list)) => list.iter_mut().for_each(to_v2_structural),
            ("items" | "additionalProperties", value) => to_v2_structural(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_drops_what_swagger_cannot_say_but_keeps_fields_of_those_names() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "not": {"type": "string", "nullable": true},
                "port": {"x-kubernetes-int-or-string": true, "type": "string", "anyOf": [{"type": "integer"}]},
                "list": {"type": "array", "items": {"type": "object", "oneOf": [{"required": ["a"]}]}},
            },
        });
        to_v2_structural(&mut schema);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "not": {"type": "string"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "list": {"type": "array", "items": {"type": "object"}},
                },
            })
        );
    }

    #[test]
    fn v3_points_into_components_and_wraps_described_references() {
        let mut schema = json!({"properties": {
            "spec": {"$ref": "#/definitions/io.k8s.api.core.v1.PodSpec", "description": "Spec."},
            "items": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.core.v1.Pod"}},
        }});
        to_v3(&mut schema);
        assert_eq!(
            schema,
            json!({"properties": {
                "spec": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}], "description": "Spec."},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Pod"}},
            }})
        );
    }

    #[test]
    fn every_extension_row_names_a_definition_of_the_served_kinds() {
        let resources = crate::registry::resources::Resources::new();
        let defs = definitions(&resources.snapshot(), None, Flavor::V2);
        let missing: Vec<&str> = EXTENSIONS.keys().copied().filter(|name| !defs.contains_key(*name)).collect();
        assert!(missing.is_empty(), "{missing:?}");
        let unknown: Vec<String> = EXTENSIONS
            .iter()
            .flat_map(|(name, rows)| rows.keys().map(move |p| (*name, *p)))
            .filter(|(name, p)| *p != "." && defs[*name].pointer(&format!("/properties/{p}")).is_none())
            .map(|(name, p)| format!("{name}.{p}"))
            .collect();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(
            defs["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"]["x-kubernetes-patch-strategy"],
            "merge,retainKeys"
        );
    }
}
