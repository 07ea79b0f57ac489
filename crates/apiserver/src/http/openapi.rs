//! `/openapi/v3`: the root index of group-versions and one OpenAPI 3.0 document per
//! group-version, with the operations of every served resource (kubectl reads the PATCH
//! operations' parameters to learn that the server validates fields itself, `fieldValidation`).
//! CRDs carry their schemas; built-in type schemas come with part 2 of the server.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::registry::resources::{ResourceDef, Snapshot};

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The root document: every group-version and where its document is.
pub fn root(snapshot: &Snapshot) -> Value {
    let mut paths = Map::new();
    for (group, versions) in snapshot.groups() {
        for version in versions {
            let path = gv_path(&group, &version);
            let doc = group_version(snapshot, &group, &version);
            let hash = hex(&Sha256::digest(serde_json::to_vec(&doc).unwrap_or_default()));
            paths
                .insert(path.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", &hash[..32])}));
        }
    }
    json!({"paths": paths})
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn query_param(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(def: &ResourceDef, version: &str, action: &str, params: &[&str]) -> Value {
    let kind = if def.kind.is_empty() {
        Value::Null
    } else {
        json!({"group": def.group, "version": version, "kind": def.kind})
    };
    json!({
        "operationId": format!("{action}{}", def.kind),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": kind,
        "parameters": params.iter().map(|p| query_param(p)).collect::<Vec<_>>(),
        "responses": {"200": {"description": "OK"}},
    })
}

/// One group-version's document, or an empty one when nothing is served there.
pub fn group_version(snapshot: &Snapshot, group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let prefix = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
    let write_params = ["dryRun", "fieldManager", "fieldValidation", "pretty"];
    let patch_params = ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"];
    for def in snapshot.all.iter().filter(|d| d.group == group && d.versions.iter().any(|v| v == version)) {
        let collection = if def.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", def.resource)
        } else {
            format!("{prefix}/{}", def.resource)
        };
        let item = format!("{collection}/{{name}}");
        let mut coll_ops = Map::new();
        if def.supports("list") {
            coll_ops.insert(
                "get".into(),
                operation(
                    def,
                    version,
                    "list",
                    &["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch"],
                ),
            );
        }
        if def.supports("create") {
            coll_ops.insert("post".into(), operation(def, version, "post", &write_params));
        }
        if def.supports("deletecollection") {
            coll_ops.insert(
                "delete".into(),
                operation(def, version, "deletecollection", &["labelSelector", "fieldSelector"]),
            );
        }
        if !coll_ops.is_empty() {
            paths.insert(collection.clone(), Value::Object(coll_ops));
        }
        let mut item_ops = Map::new();
        if def.supports("get") {
            item_ops.insert("get".into(), operation(def, version, "get", &["pretty"]));
        }
        if def.supports("update") {
            item_ops.insert("put".into(), operation(def, version, "put", &write_params));
        }
        if def.supports("patch") {
            item_ops.insert("patch".into(), operation(def, version, "patch", &patch_params));
        }
        if def.supports("delete") {
            item_ops.insert(
                "delete".into(),
                operation(def, version, "delete", &["dryRun", "gracePeriodSeconds", "propagationPolicy"]),
            );
        }
        if !item_ops.is_empty() {
            paths.insert(item, Value::Object(item_ops));
        }
        if let Some(schema) = def.crd_version(version).and_then(|v| v.schema.clone()) {
            let mut schema = schema;
            schema["x-kubernetes-group-version-kind"] =
                json!([{"group": def.group, "version": version, "kind": def.kind}]);
            let reversed: Vec<&str> = def.group.split('.').rev().collect();
            schemas.insert(format!("{}.{version}.{}", reversed.join("."), def.kind), schema);
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}
