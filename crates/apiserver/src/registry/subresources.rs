//! Subresources and virtual resources served beside the generic store: `scale`,
//! `pods/binding` (and `bindings`), `namespaces/finalize`, and the review kinds.

use serde_json::{json, Value};

use crate::error::{ApiError, Result};
use crate::http::authn::User;
use crate::rbac::Authorizer;
use crate::registry::meta::{self, meta_str};
use crate::registry::resources::ResourceDef;
use crate::registry::store::{PatchType, Store, WriteOptions};

/// JSON pointers to a scalable object's replicas and selector.
struct ScalePaths {
    spec: String,
    status: String,
    selector: Option<String>,
}

fn dotted_to_pointer(path: &str) -> String {
    path.trim_start_matches('.').split('.').fold(String::new(), |acc, p| format!("{acc}/{p}"))
}

fn scale_paths(def: &ResourceDef, version: &str) -> ScalePaths {
    if let Some(scale) = def.crd_version(version).and_then(|v| v.scale.as_ref()) {
        let get = |k: &str| scale.get(k).and_then(Value::as_str).map(dotted_to_pointer);
        return ScalePaths {
            spec: get("specReplicasPath").unwrap_or_else(|| "/spec/replicas".into()),
            status: get("statusReplicasPath").unwrap_or_else(|| "/status/replicas".into()),
            selector: get("labelSelectorPath"),
        };
    }
    let selector = if def.resource == "replicationcontrollers" { "/spec/selector" } else { "/status/selector" };
    let selector = if def.group == "apps" { "/spec/selector" } else { selector };
    ScalePaths { spec: "/spec/replicas".into(), status: "/status/replicas".into(), selector: Some(selector.into()) }
}

/// A label selector (object or RC-style map, or already a string) in its string form,
/// requirements sorted by key as kube prints them.
pub fn selector_string(sel: &Value) -> String {
    if let Some(s) = sel.as_str() {
        return s.to_string();
    }
    let mut terms: Vec<(String, String)> = Vec::new();
    let labels = sel.get("matchLabels").or(if sel.get("matchExpressions").is_none() { Some(sel) } else { None });
    if let Some(m) = labels.and_then(Value::as_object) {
        for (k, v) in m {
            terms.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or_default())));
        }
    }
    for e in sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let k = e.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut values: Vec<String> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        values.sort();
        let t = match e.get("operator").and_then(Value::as_str) {
            Some("In") => format!("{k} in ({})", values.join(",")),
            Some("NotIn") => format!("{k} notin ({})", values.join(",")),
            Some("Exists") => k.clone(),
            Some("DoesNotExist") => format!("!{k}"),
            _ => continue,
        };
        terms.push((k, t));
    }
    terms.sort();
    terms.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(",")
}

fn scale_of(def: &ResourceDef, version: &str, obj: &Value) -> Value {
    let paths = scale_paths(def, version);
    let mut scale = json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta_str(obj, "name"),
            "namespace": meta_str(obj, "namespace"),
            "uid": meta_str(obj, "uid"),
            "resourceVersion": meta_str(obj, "resourceVersion"),
            "creationTimestamp": meta_str(obj, "creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer(&paths.spec).and_then(Value::as_i64).unwrap_or(0)},
        "status": {"replicas": obj.pointer(&paths.status).and_then(Value::as_i64).unwrap_or(0)},
    });
    if let Some(sel) = paths.selector.and_then(|p| obj.pointer(&p).cloned()) {
        let s = selector_string(&sel);
        if !s.is_empty() {
            scale["status"]["selector"] = json!(s);
        }
    }
    scale
}

/// GET `.../scale`.
pub async fn get_scale(store: &Store, def: &ResourceDef, version: &str, ns: &str, name: &str) -> Result<Value> {
    let obj = store.get(def, version, ns, name).await?;
    Ok(scale_of(def, version, &obj))
}

/// PUT `.../scale`: sets replicas, honouring the Scale's resourceVersion.
pub async fn update_scale(
    store: &Store,
    def: &ResourceDef,
    version: &str,
    ns: &str,
    name: &str,
    scale: &Value,
    opts: &WriteOptions,
) -> Result<Value> {
    let replicas = scale.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![crate::error::Cause::invalid("spec.replicas", &json!(replicas), "must be greater than or equal to 0")],
        ));
    }
    let paths = scale_paths(def, version);
    let mut patch_obj = json!({});
    let mut cursor = &mut patch_obj;
    let segments: Vec<&str> = paths.spec.trim_start_matches('/').split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if i + 1 == segments.len() {
            cursor[*seg] = json!(replicas);
        } else {
            cursor[*seg] = json!({});
            cursor = &mut cursor[*seg];
        }
    }
    let rv = meta_str(scale, "resourceVersion");
    if !rv.is_empty() {
        patch_obj["metadata"] = json!({"resourceVersion": rv});
    }
    let updated = store.patch(def, version, ns, name, PatchType::Merge, &patch_obj, None, opts).await?;
    Ok(scale_of(def, version, &updated))
}

/// PATCH `.../scale`: the patch applies to the Scale object.
#[allow(clippy::too_many_arguments)]
pub async fn patch_scale(
    store: &Store,
    def: &ResourceDef,
    version: &str,
    ns: &str,
    name: &str,
    patch_type: PatchType,
    patch: &Value,
    opts: &WriteOptions,
) -> Result<Value> {
    let current = get_scale(store, def, version, ns, name).await?;
    let scale_def = store
        .resources
        .snapshot()
        .lookup("autoscaling", "v1", "horizontalpodautoscalers")
        .cloned()
        .ok_or_else(|| ApiError::internal("autoscaling is not served"))?;
    let pt = if patch_type == PatchType::Strategic { PatchType::Merge } else { patch_type };
    let patched = crate::patch::apply(&scale_def, &current, pt, patch)?;
    update_scale(store, def, version, ns, name, &patched, opts).await
}

/// POST `pods/<name>/binding` or `bindings`: assigns a pod to a node once.
pub async fn bind(store: &Store, ns: &str, binding: &Value, opts: &WriteOptions) -> Result<Value> {
    let name = meta_str(binding, "name").to_string();
    let node = binding.pointer("/target/name").and_then(Value::as_str).unwrap_or("").to_string();
    if node.is_empty() {
        return Err(ApiError::invalid("", "Binding", &name, vec![crate::error::Cause::required("target.name", "")]));
    }
    let pods = store
        .resources
        .snapshot()
        .lookup("", "v1", "pods")
        .cloned()
        .ok_or_else(|| ApiError::internal("pods are not served"))?;
    let (current_kv, pod) = store.get_kv(&pods, "v1", ns, &name).await?;
    // kube binds only the pod the scheduler looked at: a Binding's uid and resourceVersion are
    // preconditions, so a pod deleted and recreated under the same name is not bound blindly.
    let non_empty = |field: &str| Some(meta_str(binding, field)).filter(|v| !v.is_empty());
    crate::registry::store::check_preconditions(
        &pods,
        &name,
        &pod,
        current_kv.mod_revision,
        non_empty("uid"),
        non_empty("resourceVersion"),
    )?;
    if let Some(current) = pod.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        return Err(ApiError::conflict(
            "",
            "pods/binding",
            &name,
            &format!("pod {name} is already assigned to node {current:?}"),
        ));
    }
    if meta::is_deleting(&pod) {
        return Err(ApiError::conflict(
            "",
            "pods/binding",
            &name,
            &format!("pod {name} is being deleted, cannot be assigned to a host"),
        ));
    }
    if pod.pointer("/spec/schedulingGates").and_then(Value::as_array).is_some_and(|g| !g.is_empty()) {
        return Err(ApiError::conflict(
            "",
            "pods/binding",
            &name,
            &format!("pod {name} has non-empty .spec.schedulingGates"),
        ));
    }
    let mut conditions: Vec<Value> =
        pod.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    conditions.retain(|c| c.get("type") != Some(&json!("PodScheduled")));
    conditions.push(
        json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": meta::now()}),
    );
    let mut updated = pod.clone();
    updated["spec"]["nodeName"] = json!(node);
    // The Binding's annotations are copied onto the pod, as kube-apiserver does.
    if let Some(annotations) = binding.pointer("/metadata/annotations").and_then(Value::as_object) {
        if !updated["metadata"]["annotations"].is_object() {
            updated["metadata"]["annotations"] = json!({});
        }
        for (key, value) in annotations {
            updated["metadata"]["annotations"][key] = value.clone();
        }
    }
    updated["status"]["conditions"] = json!(conditions);
    if !opts.dry_run {
        let key = store.object_key(&pods, ns, &name);
        match store.storage.update(&key, Store::encode(&updated), current_kv.mod_revision).await? {
            Ok(_) => {}
            Err(_) => return Err(ApiError::modified("", "pods", &name)),
        }
    }
    Ok(json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}))
}

/// PUT `namespaces/<name>/finalize`: replaces `spec.finalizers` only; a terminating
/// namespace with no finalizers left is removed.
pub async fn finalize_namespace(
    store: &Store,
    def: &ResourceDef,
    name: &str,
    body: &Value,
    opts: &WriteOptions,
) -> Result<Value> {
    let mut ns = store.get(def, "v1", "", name).await?;
    ns["spec"]["finalizers"] = body.pointer("/spec/finalizers").cloned().unwrap_or_else(|| json!([]));
    let rv: i64 = meta_str(&ns, "resourceVersion").parse().unwrap_or(0);
    if opts.dry_run {
        return Ok(ns);
    }
    let key = store.object_key(def, "", name);
    let done = meta::is_deleting(&ns)
        && ns.pointer("/spec/finalizers").and_then(Value::as_array).is_none_or(Vec::is_empty)
        && meta::finalizers(&ns).is_empty();
    let result = if done {
        store.storage.delete(&key, rv).await?
    } else {
        store.storage.update(&key, Store::encode(&ns), rv).await?
    };
    match result {
        Ok(rev) => {
            meta::set_resource_version(&mut ns, rev);
            store.namespaces.set(name, (!done).then_some(&ns));
            store.changed.notify_waiters();
            Ok(ns)
        }
        Err(_) => Err(ApiError::modified("", "namespaces", name)),
    }
}

/// The create-only review kinds, answered for the requesting user. Authorization is
/// all-or-nothing until RBAC lands: masters may do everything, others nothing.
/// Answers a review kind: who the asker is (SelfSubjectReview), or what the authorizer says
/// (the access and rules reviews).
pub fn review(
    authorizer: &Authorizer,
    def: &ResourceDef,
    user: &User,
    namespace: &str,
    mut obj: Value,
) -> Result<Value> {
    if def.kind != "SelfSubjectReview" {
        return authorizer.review(&def.kind, user, namespace, obj);
    }
    obj["status"] = json!({"userInfo": {"username": user.name, "uid": user.uid, "groups": user.groups}});
    if obj.get("metadata").is_none() {
        obj["metadata"] = json!({});
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_strings_like_kube() {
        assert_eq!(selector_string(&json!({"matchLabels": {"b": "2", "a": "1"}})), "a=1,b=2");
        assert_eq!(selector_string(&json!({"app": "web"})), "app=web");
        assert_eq!(
            selector_string(
                &json!({"matchExpressions": [{"key": "t", "operator": "In", "values": ["y", "x"]}, {"key": "a", "operator": "DoesNotExist"}]})
            ),
            "!a,t in (x,y)"
        );
    }
}
