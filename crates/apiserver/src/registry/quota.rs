//! ResourceQuota in the server: admission charges each create against the quotas of its
//! namespace (kube's ResourceQuota plugin, which also raises `status.used` at once), and the
//! in-server controllers recalculate `status` from the objects themselves when a namespace
//! with quotas changes (kube's quota controller), so deletes and finished pods give usage
//! back.

use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

use serde_json::Value;

use crate::error::{ApiError, Result};
use crate::kinds::quota::{self, Usage};
use crate::registry::meta::meta_str;
use crate::registry::resources::ResourceDef;
use crate::registry::store::{ListOptions, Store, WriteOptions};

/// The quotas of each namespace that has some, by name; kept by the in-server watch.
#[derive(Default)]
pub struct QuotaCache(RwLock<HashMap<String, BTreeSet<String>>>);

impl QuotaCache {
    pub fn names(&self, namespace: &str) -> Vec<String> {
        self.0.read().ok().and_then(|m| m.get(namespace).map(|s| s.iter().cloned().collect())).unwrap_or_default()
    }

    /// Whether any namespace has a quota (most servers have none: nothing to track then).
    pub fn any(&self) -> bool {
        self.0.read().is_ok_and(|m| !m.is_empty())
    }

    pub fn has(&self, namespace: &str) -> bool {
        self.0.read().is_ok_and(|m| m.contains_key(namespace))
    }

    /// Notes a ResourceQuota under `namespace/name` that exists or (`false`) is gone.
    pub fn note(&self, namespace: &str, name: &str, exists: bool) {
        let Ok(mut map) = self.0.write() else { return };
        if exists {
            map.entry(namespace.to_string()).or_default().insert(name.to_string());
        } else if let Some(names) = map.get_mut(namespace) {
            names.remove(name);
            if names.is_empty() {
                map.remove(namespace);
            }
        }
    }
}

/// Charges the create of `obj` against every quota of `namespace`: kube's 403 when one is
/// exceeded, else each quota's `status.used` raised (not for a dry run).
pub async fn charge(store: &Store, def: &ResourceDef, namespace: &str, obj: &Value, dry_run: bool) -> Result<()> {
    if !def.namespaced || !store.quotas.has(namespace) {
        return Ok(());
    }
    let Ok(rq) = store.def("", "v1", "resourcequotas") else { return Ok(()) };
    let usage = quota::usage(&def.group, &def.resource, obj);
    let pod_spec = if def.group.is_empty() && def.resource == "pods" { obj.get("spec") } else { None };
    for name in store.quotas.names(namespace) {
        // Another create may raise the same quota at once: read again on conflict.
        for _ in 0..8 {
            let Ok(current) = store.get(&rq, "v1", namespace, &name).await else { break };
            let used = match quota::admit(&current, &usage, pod_spec) {
                Err(why) => return Err(ApiError::forbidden(&def.group, &def.resource, meta_str(obj, "name"), &why)),
                Ok(None) => break,
                Ok(Some(used)) => used,
            };
            if dry_run {
                break;
            }
            let mut raised = current.clone();
            raised["status"]["hard"] = current.pointer("/spec/hard").cloned().unwrap_or(Value::Null);
            raised["status"]["used"] = used;
            match store.update(&rq, "v1", namespace, &name, raised, Some("status"), &WriteOptions::default()).await {
                Ok(_) => break,
                Err(e) if e.code == http::StatusCode::CONFLICT => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// The resource (group, plural) a quota's hard key counts.
fn counted(key: &str) -> Option<(String, String)> {
    if let Some(rest) = key.strip_prefix("count/") {
        return Some(match rest.split_once('.') {
            Some((resource, group)) => (group.to_string(), resource.to_string()),
            None => (String::new(), rest.to_string()),
        });
    }
    let resource = match key {
        "pods" | "cpu" | "memory" => "pods",
        k if k.starts_with("requests.") && k != "requests.storage" => "pods",
        k if k.starts_with("limits.") => "pods",
        "services" | "services.nodeports" | "services.loadbalancers" => "services",
        "persistentvolumeclaims" | "requests.storage" => "persistentvolumeclaims",
        "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas" => key,
        _ => return None,
    };
    Some((String::new(), resource.to_string()))
}

/// Sets each quota of `namespace` to what its objects use now.
pub async fn recalculate(store: &Store, namespace: &str) {
    let Ok(rq) = store.def("", "v1", "resourcequotas") else { return };
    let snapshot = store.resources.snapshot();
    for name in store.quotas.names(namespace) {
        let Ok(current) = store.get(&rq, "v1", namespace, &name).await else { continue };
        let keys: Vec<String> = current
            .pointer("/spec/hard")
            .and_then(Value::as_object)
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default();
        let resources: BTreeSet<(String, String)> = keys.iter().filter_map(|k| counted(k)).collect();
        let mut total = Usage::new();
        for (group, resource) in resources {
            let Some(def) = snapshot.all.iter().find(|d| d.group == group && d.resource == resource && d.namespaced)
            else {
                continue;
            };
            let version = def.versions.first().cloned().unwrap_or_default();
            let Ok((items, ..)) = store.list_items(def, &version, Some(namespace), &ListOptions::default()).await
            else {
                continue;
            };
            for item in &items {
                quota::accumulate(&mut total, &quota::usage(&group, &resource, item));
            }
        }
        let status = quota::status(&current, &total);
        if current.get("status") == Some(&status) {
            continue;
        }
        let mut updated = current.clone();
        updated["status"] = status;
        if let Err(e) =
            store.update(&rq, "v1", namespace, &name, updated, Some("status"), &WriteOptions::default()).await
        {
            tracing::debug!(quota = %name, error = %e.message, "quota recalculation deferred");
        }
    }
}
