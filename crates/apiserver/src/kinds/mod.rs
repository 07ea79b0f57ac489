//! What is particular to each kind: the catalog of built-in resources, strategies,
//! defaulting, validation, selectable fields, and CustomResourceDefinitions.

pub mod catalog;
pub mod crd;
pub mod defaults;
pub mod fields;
pub mod strategy;
pub mod validation;

use serde_json::Value;

use crate::error::{ApiError, Result};
use crate::registry::meta::meta_str;
use crate::registry::resources::ResourceDef;
use crate::registry::store::Store;

/// Defaulting, schema handling and validation before a write, as kube's create and update
/// strategies and admission run them. `old` is the stored object on update.
pub fn admit(def: &ResourceDef, version: &str, obj: &mut Value, old: Option<&Value>) -> Result<()> {
    if def.crd.is_some() {
        return crd::admit_custom(def, version, obj, old);
    }
    if let Some(old) = old {
        keep_allocated(def, obj, old);
    }
    defaults::apply(&def.group, &def.resource, obj);
    let causes = validation::validate(&def.group, &def.resource, obj, old);
    if !causes.is_empty() {
        return Err(ApiError::invalid(&def.group, &def.kind, meta_str(obj, "name"), causes));
    }
    if def.group == "apiextensions.k8s.io" && def.resource == "customresourcedefinitions" {
        crd::admit_definition(obj, old)?;
    }
    Ok(())
}

/// A Service update that leaves out its cluster IPs or node ports keeps the allocated ones
/// (kube's service strategy `patchAllocatedValues`).
fn keep_allocated(def: &ResourceDef, obj: &mut Value, old: &Value) {
    if !(def.group.is_empty() && def.resource == "services") {
        return;
    }
    for field in ["clusterIP", "clusterIPs"] {
        let missing = obj.pointer(&format!("/spec/{field}")).is_none_or(|v| v.is_null() || v == "");
        if missing {
            if let Some(v) = old.pointer(&format!("/spec/{field}")) {
                obj["spec"][field] = v.clone();
            }
        }
    }
    let old_ports = old.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(ports) = obj.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut() {
            if port.get("nodePort").is_some() {
                continue;
            }
            let same = old_ports.iter().find(|o| {
                o.get("port") == port.get("port")
                    && o.get("protocol").unwrap_or(&Value::Null) == port.get("protocol").unwrap_or(&Value::Null)
            });
            if let Some(np) = same.and_then(|o| o.get("nodePort")) {
                port["nodePort"] = np.clone();
            }
        }
    }
}

/// Work that follows a successful write: CRDs become served.
pub async fn after_write(store: &Store, def: &ResourceDef, obj: &Value) {
    if def.group == "apiextensions.k8s.io" && def.resource == "customresourcedefinitions" {
        crd::register(&store.resources, obj);
    }
}

/// Work that follows a deletion: CRDs stop being served.
pub async fn after_delete(store: &Store, def: &ResourceDef, obj: &Value) {
    if def.group == "apiextensions.k8s.io" && def.resource == "customresourcedefinitions" {
        store.resources.set_crd(meta_str(obj, "name"), None);
    }
}
