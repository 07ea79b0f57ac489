//! What is particular to each kind: the catalog of built-in resources, strategies,
//! defaulting, validation, selectable fields, and CustomResourceDefinitions.

pub mod catalog;
pub mod conversion;
pub mod crd;
pub mod defaults;
pub mod events;
pub mod fields;
pub mod hpa;
pub mod podsecurity;
pub mod quota;
pub mod shape;
pub mod strategy;
pub mod typed;
pub mod unknown_fields;
pub mod validation;

use serde_json::Value;

use crate::error::{ApiError, Result};
use crate::registry::meta::meta_str;
use crate::registry::resources::ResourceDef;
use crate::registry::store::Store;

/// Defaulting, schema handling and validation before a write, as kube's create and update
/// strategies and admission run them. `old` is the stored object on update. Unknown fields
/// are removed first and handed to `unknown` (which may fail the write), as kube's decoding
/// drops them before anything else looks at the object.
pub fn admit(
    def: &ResourceDef,
    version: &str,
    obj: &mut Value,
    old: Option<&Value>,
    unknown: impl FnOnce(Vec<String>) -> Result<()>,
) -> Result<()> {
    if def.crd.is_some() {
        shape::check(&def.kind, obj)?;
        return crd::admit_custom(def, version, obj, old, unknown);
    }
    shape::check_builtin(&def.kind, obj)?;
    unknown(unknown_fields::remove(&def.api_version(version), &def.kind, obj))?;
    match old {
        None => defaults::prepare_for_create(&def.group, &def.resource, obj),
        Some(old) => defaults::prepare_for_update(&def.group, &def.resource, obj, old),
    }
    let causes = validation::validate(&def.group, &def.resource, obj, old);
    if !causes.is_empty() {
        return Err(ApiError::invalid(&def.group, &def.kind, meta_str(obj, "name"), causes));
    }
    if def.group == "apiextensions.k8s.io" && def.resource == "customresourcedefinitions" {
        crd::admit_definition(obj, old)?;
    }
    Ok(())
}

/// Work that follows a successful write: CRDs become served.
pub async fn after_write(store: &Store, def: &ResourceDef, obj: &Value) {
    if def.group.is_empty() && def.resource == "namespaces" {
        // Our own writes reach the namespace cache at once, not only through the watch.
        store.namespaces.set(meta_str(obj, "name"), Some(obj));
    }
    if def.group == "apiextensions.k8s.io" && def.resource == "customresourcedefinitions" {
        crd::register(&store.resources, obj);
    }
}

/// Work that follows a deletion: CRDs stop being served.
pub async fn after_delete(store: &Store, def: &ResourceDef, obj: &Value) {
    if def.group.is_empty() && def.resource == "namespaces" {
        store.namespaces.set(meta_str(obj, "name"), None);
    }
    if def.group == "apiextensions.k8s.io" && def.resource == "customresourcedefinitions" {
        store.resources.set_crd(meta_str(obj, "name"), None);
    }
}
