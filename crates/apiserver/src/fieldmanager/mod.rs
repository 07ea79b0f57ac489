//! Server-side apply and `managedFields`, as kube-apiserver's field manager keeps them:
//! - every write records which fields its manager set (`operation: Update`, the fields it
//!   added or changed; fields it removed leave every manager);
//! - an apply (`application/apply-patch+yaml`) merges the configuration into the live object,
//!   removes what the same manager applied before and no manager holds now, and becomes the
//!   owner of exactly the configuration's fields (`operation: Apply`);
//! - an apply that would change a field another manager owns is a 409 listing the conflicts,
//!   unless `force=true`, which takes the fields over.
//!
//! Status is tracked separately from the rest, as kube's reset fields do: writes to the main
//! resource own no `status` fields and writes to `/status` own nothing else.

pub mod set;
pub mod typed;

use serde_json::{json, Value};

use crate::error::{ApiError, Cause, Result};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::schemars::SchemaGenerator;

use crate::http::openapi::with_structure;
use crate::kinds::typed as builtin;
use crate::registry::meta;
use crate::registry::resources::ResourceDef;
use set::FieldSet;
use typed::Schema;

/// Who writes and how: the `fieldManager`, whether the write is an apply, and `force`.
#[derive(Debug, Clone, Default)]
pub struct Manager {
    pub name: String,
    pub apply: bool,
    pub force: bool,
}

/// One `managedFields` entry.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: String,
    set: FieldSet,
}

impl Entry {
    /// kube's manager identity: appliers are one manager whatever version they applied in.
    fn same_manager(&self, manager: &str, operation: &str, api_version: &str, subresource: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource == subresource
            && (operation == "Apply" || self.api_version == api_version)
    }

    fn describe(&self) -> String {
        let mut out = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            out.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == "Update" {
            out.push_str(&format!(" using {}", self.api_version));
            if !self.time.is_empty() {
                out.push_str(&format!(" at {}", self.time));
            }
        }
        out
    }
}

fn read(obj: &Value) -> Vec<Entry> {
    let text = |e: &Value, f: &str| e.get(f).and_then(Value::as_str).unwrap_or("").to_string();
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| Entry {
                    manager: text(e, "manager"),
                    operation: text(e, "operation"),
                    api_version: text(e, "apiVersion"),
                    time: text(e, "time"),
                    subresource: text(e, "subresource"),
                    set: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the entries in kube's order: appliers first, then updaters by time, each by name.
fn write(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|a, b| {
        (a.operation != "Apply", &a.time, &a.manager).cmp(&(b.operation != "Apply", &b.time, &b.manager))
    });
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut v = json!({"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version});
            if !e.time.is_empty() {
                v["time"] = json!(e.time);
            }
            v["fieldsType"] = json!("FieldsV1");
            v["fieldsV1"] = e.set.to_fields_v1();
            if !e.subresource.is_empty() {
                v["subresource"] = json!(e.subresource);
            }
            v
        })
        .collect();
    let metadata = meta::metadata_mut(obj);
    if list.is_empty() {
        metadata.remove("managedFields");
    } else {
        metadata.insert("managedFields".into(), Value::Array(list));
    }
}

/// The object without what no manager owns: identity, system metadata and managedFields.
fn stripped(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Value::Object(fields) = &mut out {
        fields.remove("apiVersion");
        fields.remove("kind");
    }
    let metadata = meta::metadata_mut(&mut out);
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    ] {
        metadata.remove(field);
    }
    if metadata.is_empty() {
        if let Value::Object(fields) = &mut out {
            fields.remove("metadata");
        }
    }
    out
}

/// The part of a field set a write may own: status on `/status`, everything else elsewhere.
fn owned_part(set: FieldSet, subresource: &str, has_status: bool) -> FieldSet {
    match subresource {
        "status" => set.only("f:status"),
        _ if has_status => set.without("f:status"),
        _ => set,
    }
}

/// The schema of `def`'s objects in `version`, with its definitions.
fn with_schema<T>(def: &ResourceDef, version: &str, f: impl FnOnce(Schema) -> T) -> T {
    const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    if let Some(crd) = def.crd_version(version).and_then(|v| v.schema.clone()) {
        let mut root = crd;
        if let Some(Value::Object(properties)) = root.get_mut("properties") {
            properties.insert("metadata".into(), json!({"$ref": format!("#/definitions/{OBJECT_META}")}));
        }
        let object_meta = |g: &mut SchemaGenerator| g.subschema_for::<ObjectMeta>();
        return with_structure(OBJECT_META, object_meta, |definitions| f(Schema::new(Some(&root), definitions)));
    }
    match builtin::find(&def.api_version(version), &def.kind) {
        Some(t) => {
            let name = (t.name)();
            let root = json!({"$ref": format!("#/definitions/{name}")});
            with_structure(&name, t.schema, |definitions| f(Schema::new(Some(&root), definitions)))
        }
        None => f(Schema::new(None, &serde_json::Map::new())),
    }
}

fn has_status(def: &ResourceDef) -> bool {
    def.has_subresource("status")
}

/// Records an Update by `manager` (a create when `old` is None) in `new`'s managedFields.
pub fn update(
    def: &ResourceDef,
    version: &str,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
) {
    let subresource = subresource.unwrap_or("");
    let api_version = def.api_version(version);
    // managedFields the client sent are the starting point (kubectl rewrites them when it
    // moves an object from client-side to server-side apply); without them, the stored ones.
    let sent = read(new);
    let mut entries = if !sent.is_empty() && subresource.is_empty() { sent } else { old.map(read).unwrap_or_default() };
    let empty = json!({});
    let (before, after) = (stripped(old.unwrap_or(&empty)), stripped(new));
    let diff = with_schema(def, version, |schema| typed::compare(&before, &after, schema));
    let status = has_status(def);
    let changed = owned_part(diff.added.union(&diff.modified), subresource, status);
    let removed = diff.removed;
    for e in entries.iter_mut() {
        if !e.same_manager(manager, "Update", &api_version, subresource) {
            e.set = e.set.difference(&changed).difference(&removed);
        }
    }
    match entries.iter_mut().find(|e| e.same_manager(manager, "Update", &api_version, subresource)) {
        Some(e) => {
            let owned = e.set.difference(&removed).union(&changed);
            if owned != e.set {
                e.set = owned;
                e.time = meta::now();
            }
        }
        None => entries.push(Entry {
            manager: manager.to_string(),
            operation: "Update".into(),
            api_version,
            time: meta::now(),
            subresource: subresource.to_string(),
            set: changed,
        }),
    }
    write(new, entries);
}

/// Applies `config` by `manager` over `live` (None when the object does not exist yet) and
/// answers the object to store, managedFields included, or kube's 409 listing conflicts.
pub fn apply(
    def: &ResourceDef,
    version: &str,
    live: Option<&Value>,
    config: &Value,
    manager: &Manager,
    subresource: Option<&str>,
) -> Result<Value> {
    if config.pointer("/metadata/managedFields").is_some_and(|m| !m.is_null()) {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let subresource = subresource.unwrap_or("");
    let api_version = def.api_version(version);
    let status = has_status(def);
    let mut entries = live.map(read).unwrap_or_default();
    let empty = json!({});
    let live_value = live.unwrap_or(&empty);
    let (before, applied) = (stripped(live_value), stripped(config));
    let is_me = |e: &Entry| e.same_manager(&manager.name, "Apply", &api_version, subresource);
    let (mut merged, new_set, diff) = with_schema(def, version, |schema| {
        let new_set = owned_part(typed::field_set(&applied, schema), subresource, status);
        let mut merged = typed::merge(Some(live_value), config, schema);
        // What this manager applied before and nobody holds now leaves the object.
        if let Some(last) = entries.iter().find(|e| is_me(e)) {
            let held = entries.iter().filter(|e| !is_me(e)).fold(new_set.clone(), |all, e| all.union(&e.set));
            typed::remove(&mut merged, &last.set.difference(&held), schema);
        }
        let diff = typed::compare(&before, &stripped(&merged), schema);
        (merged, new_set, diff)
    });
    let changed = diff.added.union(&diff.modified);
    let mut conflicts: Vec<(String, Vec<String>)> = Vec::new();
    for e in entries.iter().filter(|e| !is_me(e)) {
        for path in e.set.intersection(&changed).members() {
            conflicts.push((e.describe(), path));
        }
    }
    if !conflicts.is_empty() && !manager.force {
        return Err(conflict_error(&conflicts));
    }
    for e in entries.iter_mut().filter(|e| !is_me(e)) {
        e.set = e.set.difference(&changed).difference(&diff.removed);
    }
    entries.retain(|e| !is_me(e));
    entries.push(Entry {
        manager: manager.name.clone(),
        operation: "Apply".into(),
        api_version,
        time: meta::now(),
        subresource: subresource.to_string(),
        set: new_set,
    });
    write(&mut merged, entries);
    Ok(merged)
}

/// kube's 409 for apply conflicts: one cause per field, the message grouped by manager.
fn conflict_error(conflicts: &[(String, Vec<String>)]) -> ApiError {
    let message = if let [(manager, path)] = conflicts {
        format!("Apply failed with 1 conflict: conflict with {manager}: {}", set::display(path))
    } else {
        let mut managers: Vec<&String> = conflicts.iter().map(|(m, _)| m).collect();
        managers.sort();
        managers.dedup();
        let mut lines = Vec::new();
        for manager in managers {
            lines.push(format!("conflicts with {manager}:"));
            for (_, path) in conflicts.iter().filter(|(m, _)| m == manager) {
                lines.push(format!("- {}", set::display(path)));
            }
        }
        format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
    };
    let causes = conflicts
        .iter()
        .map(|(manager, path)| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with {manager}"),
            field: set::display(path),
        })
        .collect();
    let mut err = ApiError::new(http::StatusCode::CONFLICT, "Conflict", message);
    err.details = Some(Box::new(crate::error::Details { causes, ..Default::default() }));
    err
}

/// The manager of a write: `fieldManager`, or for other than apply the User-Agent's
/// program name (kube's default). Apply requires one; `force` is for apply only.
pub fn manager(
    field_manager: Option<&str>,
    user_agent: Option<&str>,
    apply: bool,
    force: Option<&str>,
) -> Result<Manager> {
    let invalid = |field: &str, value: Value, detail: &str| {
        ApiError::invalid("meta.k8s.io", "PatchOptions", "", vec![Cause::invalid(field, &value, detail)])
    };
    let force = match force {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::bad_request(format!("invalid boolean value for force: {other:?}"))),
    };
    if force && !apply {
        return Err(invalid("force", json!(true), "may not be specified for non-apply patch"));
    }
    let name = match field_manager.filter(|m| !m.is_empty()) {
        Some(m) if m.len() > 128 => return Err(invalid("fieldManager", json!(m), "must be at most 128 characters")),
        Some(m) => m.to_string(),
        None if apply => {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                vec![Cause::required("fieldManager", "is required for apply patch")],
            ))
        }
        None => {
            user_agent.and_then(|ua| ua.split('/').next()).filter(|p| !p.is_empty()).unwrap_or("unknown").to_string()
        }
    };
    Ok(Manager { name, apply, force })
}

/// The names of managers an object records, for tests and tools.
pub fn managers(obj: &Value) -> Vec<String> {
    read(obj).into_iter().map(|e| e.manager).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment_def() -> ResourceDef {
        crate::registry::resources::Resources::new()
            .snapshot()
            .lookup("apps", "v1", "deployments")
            .cloned()
            .map(|d| (*d).clone())
            .unwrap()
    }

    #[test]
    fn updaters_own_what_they_change_and_appliers_conflict_with_them() {
        let def = deployment_def();
        let created = json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}}});
        let mut stored = created.clone();
        update(&def, "v1", None, &mut stored, "kubectl-create", None);
        let fields = &stored["metadata"]["managedFields"][0];
        assert_eq!(fields["manager"], "kubectl-create");
        assert_eq!(fields["operation"], "Update");
        assert_eq!(fields["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
        assert_eq!(fields["fieldsV1"]["f:metadata"]["f:labels"], json!({".": {}, "f:app": {}}));
        assert_eq!(
            fields["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"],
            json!({".": {}, "f:image": {}, "f:name": {}})
        );

        let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
        let ci = Manager { name: "ci".into(), apply: true, force: false };
        let err = apply(&def, "v1", Some(&stored), &config, &ci, None).unwrap_err();
        assert_eq!(err.code.as_u16(), 409);
        assert!(
            err.message
                .starts_with(r#"Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1 at "#),
            "{}",
            err.message
        );
        assert!(err.message.ends_with(": .spec.replicas"), "{}", err.message);
        // The same value is shared, not a conflict; force takes the field over.
        let same = json!({"metadata": {"name": "web"}, "spec": {"replicas": 1}});
        let shared = apply(&def, "v1", Some(&stored), &same, &ci, None).unwrap();
        assert_eq!(managers(&shared), ["ci", "kubectl-create"]);
        let forced = apply(&def, "v1", Some(&stored), &config, &Manager { force: true, ..ci.clone() }, None).unwrap();
        assert_eq!(forced["spec"]["replicas"], 3);
        let create_fields = &forced["metadata"]["managedFields"][1]["fieldsV1"]["f:spec"];
        assert!(create_fields.get("f:replicas").is_none(), "{create_fields}");

        // Applying again without replicas removes them: ci owned them alone.
        let without = json!({"metadata": {"name": "web", "labels": {"team": "a"}}});
        let pruned = apply(&def, "v1", Some(&forced), &without, &ci, None).unwrap();
        assert!(pruned["spec"].get("replicas").is_none(), "{pruned}");
        assert_eq!(pruned["metadata"]["labels"], json!({"app": "web", "team": "a"}));
    }

    #[test]
    fn manager_options_are_checked() {
        assert_eq!(manager(None, Some("kubectl/v1.32.0 (linux/amd64)"), false, None).unwrap().name, "kubectl");
        assert_eq!(manager(None, None, true, None).unwrap_err().code.as_u16(), 422);
        assert_eq!(manager(Some("m"), None, false, Some("true")).unwrap_err().code.as_u16(), 422);
        assert!(manager(Some("m"), None, true, Some("true")).unwrap().force);
    }
}
