//! `meta.k8s.io/v1` Table and PartialObjectMetadata answers, built from the printers in
//! `crate::table` (built-ins) or a CRD's `additionalPrinterColumns`.

use serde_json::{json, Value};

use crate::registry::resources::ResourceDef;
use crate::table;

/// What each row carries in `object` (`?includeObject=`), kube's default being Metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// The PartialObjectMetadata of an object.
pub fn partial(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A PartialObjectMetadataList of objects.
pub fn partial_list(list_meta: Value, items: &[Value]) -> Value {
    let items: Vec<Value> = items.iter().map(partial).collect();
    json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "items": items})
}

/// The column definitions and row cells for a resource.
fn columns_and_rows(def: &ResourceDef, version: &str, items: &[Value]) -> (Vec<Value>, Vec<Vec<Value>>) {
    let now = chrono::Utc::now();
    if let Some(crd) = def.crd_version(version) {
        // A CRD version without printer columns still prints Name and Age, as kube does.
        let columns = table::default::crd_columns(crd.printer_columns.as_ref().unwrap_or(&Value::Null));
        let defs = columns.iter().map(|c| c.to_json()).collect();
        let rows = items.iter().map(|o| table::default::crd_row(&columns, o, now)).collect();
        return (defs, rows);
    }
    if def.crd.is_none() {
        if let Some(printer) = table::printers::printer(&def.group, &def.resource) {
            let defs = printer
                .columns
                .iter()
                .map(|c| json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}))
                .collect();
            let rows = items.iter().map(|o| (printer.row)(o, now)).collect();
            return (defs, rows);
        }
    }
    let columns = table::default::default_columns();
    let defs = columns.iter().map(|c| c.to_json()).collect();
    let rows = items.iter().map(table::default::default_row).collect();
    (defs, rows)
}

/// A Table of objects; `headers` false leaves out the column definitions (watch events
/// after the first).
pub fn to_table(
    def: &ResourceDef,
    version: &str,
    table_version: &str,
    list_meta: Value,
    items: &[Value],
    include: IncludeObject,
    headers: bool,
) -> Value {
    let (defs, cells) = columns_and_rows(def, version, items);
    let rows: Vec<Value> = items
        .iter()
        .zip(cells)
        .map(|(obj, cells)| {
            let object = match include {
                IncludeObject::None => Value::Null,
                IncludeObject::Metadata => partial(obj),
                IncludeObject::Object => {
                    // Items of typed lists carry no apiVersion/kind; rows must, so clients decode them.
                    let mut full = obj.clone();
                    if let Some(m) = full.as_object_mut() {
                        m.entry("apiVersion").or_insert_with(|| json!(def.api_version(version)));
                        m.entry("kind").or_insert_with(|| json!(def.kind));
                    }
                    full
                }
            };
            let mut row = json!({"cells": cells, "object": object});
            if let Some(conditions) = table::printers::row_conditions(&def.group, &def.resource, obj) {
                row["conditions"] = conditions;
            }
            row
        })
        .collect();
    let mut t = json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{table_version}"),
        "metadata": list_meta,
        "columnDefinitions": if headers { Value::Array(defs) } else { Value::Null },
        "rows": rows,
    });
    if !headers {
        if let Some(m) = t.as_object_mut() {
            m.remove("columnDefinitions");
        }
    }
    t
}
