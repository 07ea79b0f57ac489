//! CustomResourceDefinitions: checking a definition, serving it at once (kube's
//! establishing controller, done inline), and admitting custom objects through their schema.

pub mod defaulting;
pub mod pruning;
pub mod schema;

use serde_json::{json, Value};

use crate::error::{ApiError, Cause, Result};
use crate::registry::meta::{self, meta_str};
use crate::registry::resources::{key_prefix, CrdVersion, ResourceDef, Resources, SubresourceDef};

/// The finalizer kube puts on every CRD so its objects are removed before it goes.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn is_dns_label(x: &str) -> bool {
    !x.is_empty()
        && x.len() <= 63
        && x.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !x.starts_with('-')
        && !x.ends_with('-')
}

/// Checks a CRD, fills in its defaulted names and sets the status that makes it served
/// (NamesAccepted and Established, storedVersions).
pub fn admit_definition(crd: &mut Value, old: Option<&Value>) -> Result<()> {
    let name = meta_str(crd, "name").to_string();
    let group = s(crd, "/spec/group").to_string();
    let plural = s(crd, "/spec/names/plural").to_string();
    let kind = s(crd, "/spec/names/kind").to_string();
    let mut causes = Vec::new();
    if group.is_empty() {
        causes.push(Cause::required("spec.group", ""));
    } else if !group.contains('.') {
        causes.push(Cause::invalid("spec.group", &json!(group), "should be a domain with at least one dot"));
    }
    if plural.is_empty() {
        causes.push(Cause::required("spec.names.plural", ""));
    } else if !is_dns_label(&plural) {
        causes.push(Cause::invalid("spec.names.plural", &json!(plural), "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
    }
    if kind.is_empty() {
        causes.push(Cause::required("spec.names.kind", ""));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push(Cause::invalid("metadata.name", &json!(name), "must be spec.names.plural+\".\"+spec.group"));
    }
    let scope = s(crd, "/spec/scope").to_string();
    if scope != "Namespaced" && scope != "Cluster" {
        causes.push(Cause::not_supported("spec.scope", &json!(scope), &["Cluster", "Namespaced"]));
    }
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    if versions.is_empty() {
        causes.push(Cause::invalid(
            "spec.versions",
            &Value::Null,
            "must have exactly one version marked as storage version",
        ));
    } else if versions.iter().filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true)).count() != 1 {
        causes.push(Cause::invalid(
            "spec.versions",
            &json!(versions.iter().map(|v| v.get("name").cloned().unwrap_or(Value::Null)).collect::<Vec<_>>()),
            "must have exactly one version marked as storage version",
        ));
    }
    for (i, v) in versions.iter().enumerate() {
        if let Some(sch) = v.pointer("/schema/openAPIV3Schema") {
            causes.extend(schema::check_structural_at(sch, &format!("spec.versions[{i}].schema.openAPIV3Schema")));
        } else {
            causes.push(Cause::required(format!("spec.versions[{i}].schema.openAPIV3Schema"), "schemas are required"));
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid("apiextensions.k8s.io", "CustomResourceDefinition", &name, causes));
    }
    if let Some(old) = old {
        if s(old, "/spec/group") != group || s(old, "/spec/names/plural") != plural {
            let field = if s(old, "/spec/group") != group { "spec.group" } else { "spec.names.plural" };
            return Err(ApiError::invalid(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                &name,
                vec![Cause::invalid(
                    field,
                    &json!(if field == "spec.group" { &group } else { &plural }),
                    "field is immutable",
                )],
            ));
        }
    }
    // Defaulted names, as kube's CRD defaulting writes them.
    let names = &mut crd["spec"]["names"];
    if s(names, "/singular").is_empty() {
        names["singular"] = json!(kind.to_lowercase());
    }
    if s(names, "/listKind").is_empty() {
        names["listKind"] = json!(format!("{kind}List"));
    }
    if crd.pointer("/spec/conversion").is_none() {
        crd["spec"]["conversion"] = json!({"strategy": "None"});
    }
    let storage = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut stored: Vec<Value> =
        old.and_then(|o| o.pointer("/status/storedVersions")).and_then(Value::as_array).cloned().unwrap_or_default();
    if !stored.contains(&storage) {
        stored.push(storage);
    }
    let now = meta::now();
    let condition = |t: &str, reason: &str, message: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    crd["status"] = json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": crd["spec"]["names"].clone(),
        "storedVersions": stored,
    });
    if old.is_none() {
        let mut finalizers = meta::finalizers(crd);
        if !finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
            finalizers.push(CLEANUP_FINALIZER.into());
        }
        meta::metadata_mut(crd).insert("finalizers".into(), json!(finalizers));
    }
    Ok(())
}

/// The served resource of a CRD, or None when it is not (yet) valid.
pub fn resource_def(crd: &Value) -> Option<ResourceDef> {
    let spec = crd.get("spec")?;
    let group = s(spec, "/group").to_string();
    let names = spec.get("names")?;
    let plural = s(names, "/plural").to_string();
    let kind = s(names, "/kind").to_string();
    if group.is_empty() || plural.is_empty() || kind.is_empty() {
        return None;
    }
    let versions: Vec<CrdVersion> = spec
        .get("versions")?
        .as_array()?
        .iter()
        .map(|v| CrdVersion {
            name: s(v, "/name").to_string(),
            served: v.get("served").and_then(Value::as_bool).unwrap_or(false),
            storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
            schema: v.pointer("/schema/openAPIV3Schema").cloned(),
            printer_columns: v.get("additionalPrinterColumns").cloned(),
            status: v.pointer("/subresources/status").is_some(),
            scale: v.pointer("/subresources/scale").cloned(),
        })
        .collect();
    let mut served: Vec<String> = versions.iter().filter(|v| v.served).map(|v| v.name.clone()).collect();
    served.sort_by(|a, b| {
        crate::registry::resources::version_priority(b).cmp(&crate::registry::resources::version_priority(a))
    });
    if served.is_empty() {
        return None;
    }
    let mut subresources = Vec::new();
    if versions.iter().any(|v| v.status) {
        subresources.push(SubresourceDef {
            name: "status".into(),
            group: None,
            version: None,
            kind: kind.clone(),
            verbs: strings(&["get", "patch", "update"]),
        });
    }
    if versions.iter().any(|v| v.scale.is_some()) {
        subresources.push(SubresourceDef {
            name: "scale".into(),
            group: Some("autoscaling".into()),
            version: Some("v1".into()),
            kind: "Scale".into(),
            verbs: strings(&["get", "patch", "update"]),
        });
    }
    let list = |ptr: &str| -> Vec<String> {
        names
            .pointer(ptr)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    Some(ResourceDef {
        key_prefix: key_prefix(&group, &plural, true),
        group,
        versions: served,
        singular: names
            .get("singular")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase()),
        resource: plural,
        kind,
        namespaced: s(spec, "/scope") == "Namespaced",
        verbs: strings(&["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]),
        short_names: list("/shortNames"),
        categories: list("/categories"),
        subresources,
        crd: Some(versions),
    })
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

/// Serves (or stops serving) the resource of a stored CRD.
pub fn register(resources: &Resources, crd: &Value) {
    let name = meta_str(crd, "name");
    resources.set_crd(name, resource_def(crd));
}

/// Pruning, defaulting and validation of a custom object through its version's schema; the
/// pruned fields (and unknown ones of its metadata) go to `unknown` before defaulting.
pub fn admit_custom(
    def: &ResourceDef,
    version: &str,
    obj: &mut Value,
    old: Option<&Value>,
    unknown: impl FnOnce(Vec<String>) -> Result<()>,
) -> Result<()> {
    let name = meta_str(obj, "name").to_string();
    let has_status = def.crd_version(version).is_some_and(|v| v.status);
    if old.is_none() && has_status {
        // With a status subresource, status is not set on create (kube's CR strategy).
        if let Some(m) = obj.as_object_mut() {
            m.remove("status");
        }
    }
    let mut pruned = crate::kinds::unknown_fields::remove_from_metadata(obj);
    let schema = def.crd_version(version).and_then(|v| v.schema.as_ref());
    if let Some(sch) = schema {
        pruned.extend(pruning::prune(sch, obj));
    }
    unknown(pruned)?;
    let mut causes = validate_name(&name, meta_str(obj, "generateName"));
    if let Some(sch) = schema {
        // kube's order: prune unknown fields, then default, then validate.
        defaulting::default(sch, obj);
        causes.extend(schema::validate(sch, obj));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&def.group, &def.kind, &name, causes))
    }
}

/// Custom objects must have DNS-1123 subdomain names, as kube's ObjectMeta validation checks.
fn validate_name(name: &str, generate_name: &str) -> Vec<Cause> {
    if name.is_empty() {
        if generate_name.is_empty() {
            return vec![Cause::required("metadata.name", "name or generateName is required")];
        }
        return vec![];
    }
    let valid = name.len() <= 253 && name.split('.').all(is_dns_label);
    if valid {
        vec![]
    } else {
        vec![Cause::invalid("metadata.name", &json!(name), "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    }
}
