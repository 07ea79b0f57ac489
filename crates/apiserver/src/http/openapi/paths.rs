//! The `paths` of the OpenAPI documents: the operations of every served resource, with the
//! group-version-kind extension kubectl finds kinds by (`explain`) and the query parameters it
//! reads to learn what the server does itself (`fieldValidation` on PATCH).

use serde_json::{json, Map, Value};

use super::definitions::{kind_name, Flavor};
use crate::registry::resources::{ResourceDef, Snapshot};

/// One operation's facts, rendered for either flavor.
struct Operation<'a> {
    def: &'a ResourceDef,
    version: &'a str,
    /// kube's `x-kubernetes-action`: get, list, post, put, patch, delete, deletecollection.
    action: &'static str,
    query: &'a [&'a str],
    /// The definition a request body holds, for post and put.
    body: Option<&'a str>,
    /// The definition a 200 answer holds.
    response: Option<String>,
}

/// `CoreV1`, `AppsV1`, `RbacAuthorizationV1`: the group-version part of kube's operation ids.
fn id_part(group: &str, version: &str) -> String {
    let group = if group.is_empty() { "core" } else { group.trim_end_matches(".k8s.io") };
    let mut out: String = group.split(['.', '-']).map(capitalize).collect();
    out.push_str(&capitalize(version));
    out
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn parameter(flavor: Flavor, name: &str, place: &str) -> Value {
    match flavor {
        Flavor::V2 => json!({"name": name, "in": place, "type": "string", "uniqueItems": true}),
        Flavor::V3 => json!({"name": name, "in": place, "schema": {"type": "string", "uniqueItems": true}}),
    }
}

impl Operation<'_> {
    fn render(&self, flavor: Flavor) -> Value {
        let def = self.def;
        let verb = match self.action {
            "get" => "read",
            "post" => "create",
            "put" => "replace",
            "deletecollection" => "deleteCollection",
            other => other,
        };
        let scope = if def.namespaced { "Namespaced" } else { "" };
        let mut operation = json!({
            "operationId": format!("{verb}{}{scope}{}", id_part(&def.group, self.version), def.kind),
            "x-kubernetes-action": self.action,
            "x-kubernetes-group-version-kind": {"group": def.group, "kind": def.kind, "version": self.version},
            "parameters": self.query.iter().map(|p| parameter(flavor, p, "query")).collect::<Vec<_>>(),
            "tags": [format!("{}_{}", if def.group.is_empty() { "core" } else { &def.group }, self.version)],
        });
        let ok = match (&self.response, flavor) {
            (Some(name), Flavor::V2) => json!({"description": "OK", "schema": flavor.reference(name)}),
            (Some(name), Flavor::V3) => {
                json!({"description": "OK", "content": {"application/json": {"schema": flavor.reference(name)}}})
            }
            (None, _) => json!({"description": "OK"}),
        };
        operation["responses"] = json!({"200": ok, "401": {"description": "Unauthorized"}});
        if let Some(body) = self.body {
            match flavor {
                Flavor::V2 => {
                    if let Some(Value::Array(params)) = operation.get_mut("parameters") {
                        params.insert(
                            0,
                            json!({"name": "body", "in": "body", "required": true, "schema": flavor.reference(body)}),
                        );
                    }
                }
                Flavor::V3 => {
                    operation["requestBody"] =
                        json!({"required": true, "content": {"*/*": {"schema": flavor.reference(body)}}});
                }
            }
        }
        if self.action == "patch" {
            let types = [
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
                "application/apply-patch+yaml",
            ];
            match flavor {
                Flavor::V2 => {
                    operation["consumes"] = json!(types);
                    if let Some(Value::Array(params)) = operation.get_mut("parameters") {
                        params.insert(
                            0,
                            json!({"name": "body", "in": "body", "required": true, "schema": {"type": "object"}}),
                        );
                    }
                }
                Flavor::V3 => {
                    let content: Map<String, Value> =
                        types.iter().map(|t| (t.to_string(), json!({"schema": {"type": "object"}}))).collect();
                    operation["requestBody"] = json!({"required": true, "content": content});
                }
            }
        }
        if flavor == Flavor::V2 {
            operation["schemes"] = json!(["https"]);
            operation["produces"] =
                json!(["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]);
            if operation.get("consumes").is_none() {
                operation["consumes"] = json!(["*/*"]);
            }
        }
        operation
    }
}

/// The paths of the resources served in `only` (every group-version when `None`).
pub fn paths(snapshot: &Snapshot, only: Option<(&str, &str)>, flavor: Flavor) -> Map<String, Value> {
    let mut paths = Map::new();
    let write = ["dryRun", "fieldManager", "fieldValidation", "pretty"];
    let patch = ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"];
    let list = [
        "allowWatchBookmarks",
        "continue",
        "fieldSelector",
        "labelSelector",
        "limit",
        "resourceVersion",
        "timeoutSeconds",
        "watch",
    ];
    for def in &snapshot.all {
        for version in &def.versions {
            if only.is_some_and(|(g, v)| g != def.group || v != version) || def.kind.is_empty() {
                continue;
            }
            let kind = kind_name(def, version);
            let prefix =
                if def.group.is_empty() { format!("/api/{version}") } else { format!("/apis/{}/{version}", def.group) };
            let collection = if def.namespaced {
                format!("{prefix}/namespaces/{{namespace}}/{}", def.resource)
            } else {
                format!("{prefix}/{}", def.resource)
            };
            let item = format!("{collection}/{{name}}");
            let op = |action, query, body: Option<&str>, response: Option<String>| {
                Operation { def, version, action, query, body, response }.render(flavor)
            };
            let mut on_collection = Map::new();
            if def.supports("list") {
                on_collection
                    .insert("get".into(), op("list", &list[..], None, kind.as_ref().map(|k| format!("{k}List"))));
            }
            if def.supports("create") {
                on_collection.insert("post".into(), op("post", &write[..], kind.as_deref(), kind.clone()));
            }
            if def.supports("deletecollection") {
                on_collection.insert(
                    "delete".into(),
                    op("deletecollection", &["dryRun", "fieldSelector", "labelSelector"][..], None, None),
                );
            }
            let mut on_item = Map::new();
            if def.supports("get") {
                on_item.insert("get".into(), op("get", &["pretty"][..], None, kind.clone()));
            }
            if def.supports("update") {
                on_item.insert("put".into(), op("put", &write[..], kind.as_deref(), kind.clone()));
            }
            if def.supports("patch") {
                on_item.insert("patch".into(), op("patch", &patch[..], None, kind.clone()));
            }
            if def.supports("delete") {
                on_item.insert(
                    "delete".into(),
                    op("delete", &["dryRun", "gracePeriodSeconds", "propagationPolicy"][..], None, None),
                );
            }
            for (path, mut ops, names) in
                [(collection, on_collection, &["namespace"][..]), (item, on_item, &["name", "namespace"][..])]
            {
                if ops.is_empty() {
                    continue;
                }
                let params: Vec<Value> = names
                    .iter()
                    .filter(|n| **n == "name" || def.namespaced)
                    .map(|n| {
                        let mut p = parameter(flavor, n, "path");
                        p["required"] = json!(true);
                        p
                    })
                    .collect();
                ops.insert("parameters".into(), Value::Array(params));
                paths.insert(path, Value::Object(ops));
            }
        }
    }
    paths
}
