//! The mutating admission plugins that need other objects, run on create after defaulting
//! and validation, as kube-apiserver's admission chain runs them before storing:
//! - ServiceAccount: a pod gets its token, the cluster CA and its namespace in a projected
//!   `kube-api-access-*` volume, unless the pod or its ServiceAccount opts out;
//! - LimitRanger: a namespace's LimitRanges default container requests and limits and
//!   refuse containers outside their min and max;
//! - DefaultStorageClass: a claim without `storageClassName` gets the default StorageClass;
//! - Priority: a pod's `priorityClassName` becomes its `priority`, and a pod without one
//!   takes the `globalDefault` PriorityClass.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::error::{ApiError, Result};
use crate::kinds::defaults::add_service_account_token_volume;
use crate::kinds::defaults::quantity::Quantity;
use crate::registry::meta::{generate_name, meta_str};
use crate::registry::resources::ResourceDef;
use crate::registry::store::{ListOptions, Store};

/// How long a live read of a namespace's LimitRanges stands in for the cache's answer that
/// it has none: kube's LimitRanger keeps such a read 30 s.
const LIVE_LOOKUP_TTL: Duration = Duration::from_secs(30);

/// The objects the plugins read, kept from the server's own watch as kube's plugins read
/// their informers: a pod create then costs its write, not three etcd reads more. Kept in
/// their stored form (these kinds have one version).
#[derive(Default)]
pub struct AdmissionCache(RwLock<Cached>);

#[derive(Default)]
struct Cached {
    /// The first list is in: from then on what is missing here is missing in etcd too.
    listed: bool,
    /// (namespace, name) -> `automountServiceAccountToken`.
    service_accounts: HashMap<(String, String), Option<bool>>,
    priority_classes: BTreeMap<String, Value>,
    storage_classes: BTreeMap<String, Value>,
    limit_ranges: HashMap<String, BTreeMap<String, Value>>,
    /// Namespaces the cache shows no LimitRange in, read from etcd, and when.
    looked_up: HashMap<String, (Instant, Vec<Value>)>,
}

impl AdmissionCache {
    /// Takes in a change under `key` (after the root prefix); `obj` decodes the object (None:
    /// deleted) and is called only for the kinds kept. Every write in the server passes here:
    /// other keys take no lock.
    pub fn note(&self, key: &str, obj: impl FnOnce() -> Option<Value>) {
        enum Kept {
            Account(String, String),
            Range(String, String),
            Priority(String),
            Storage(String),
        }
        let split = |rest: &str| rest.split_once('/').map(|(ns, name)| (ns.to_string(), name.to_string()));
        let kept = if let Some((ns, name)) = key.strip_prefix("serviceaccounts/").and_then(split) {
            Kept::Account(ns, name)
        } else if let Some((ns, name)) = key.strip_prefix("limitranges/").and_then(split) {
            Kept::Range(ns, name)
        } else if let Some(name) = key.strip_prefix("priorityclasses/") {
            Kept::Priority(name.to_string())
        } else if let Some(name) = key.strip_prefix("storageclasses/") {
            Kept::Storage(name.to_string())
        } else {
            return;
        };
        let obj = obj();
        let Ok(mut cached) = self.0.write() else { return };
        match kept {
            Kept::Account(ns, name) => {
                match obj {
                    Some(sa) => {
                        cached.service_accounts.insert((ns, name), sa["automountServiceAccountToken"].as_bool())
                    }
                    None => cached.service_accounts.remove(&(ns, name)),
                };
            }
            Kept::Range(ns, name) => {
                cached.looked_up.remove(&ns);
                let ranges = cached.limit_ranges.entry(ns.clone()).or_default();
                set(ranges, name, obj);
                if ranges.is_empty() {
                    cached.limit_ranges.remove(&ns);
                }
            }
            Kept::Priority(name) => set(&mut cached.priority_classes, name, obj),
            Kept::Storage(name) => set(&mut cached.storage_classes, name, obj),
        }
    }

    /// The server's watch starts over: what it lists next is all there is.
    pub fn relist(&self) {
        if let Ok(mut cached) = self.0.write() {
            *cached = Cached::default();
        }
    }

    /// The first list is in.
    pub fn listed(&self) {
        if let Ok(mut cached) = self.0.write() {
            cached.listed = true;
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Cached) -> Option<T>) -> Option<T> {
        self.0.read().ok().filter(|c| c.listed).and_then(|c| f(&c))
    }

    /// Keeps what etcd answered for a namespace the cache showed no LimitRange in.
    fn looked_up(&self, namespace: &str, ranges: &[Value]) {
        if let Ok(mut cached) = self.0.write() {
            cached.looked_up.insert(namespace.to_string(), (Instant::now(), ranges.to_vec()));
        }
    }
}

fn set(map: &mut BTreeMap<String, Value>, name: String, obj: Option<Value>) {
    match obj {
        Some(o) => map.insert(name, o),
        None => map.remove(&name),
    };
}

/// All objects of a resource (core unless `group`), in `namespace` (None: everywhere).
async fn list(store: &Store, group: &str, resource: &str, namespace: Option<&str>) -> Vec<Value> {
    let Ok(def) = store.def(group, "v1", resource) else { return Vec::new() };
    store.list_items(&def, "v1", namespace, &ListOptions::default()).await.map(|(items, ..)| items).unwrap_or_default()
}

/// Runs the plugins that apply to `obj` of `def`.
pub async fn mutate(store: &Store, def: &ResourceDef, namespace: &str, obj: &mut Value) -> Result<()> {
    match (def.group.as_str(), def.resource.as_str()) {
        ("", "pods") => {
            service_account(store, namespace, obj).await;
            limit_ranger(store, def, namespace, obj).await?;
            priority(store, def, obj).await
        }
        ("", "persistentvolumeclaims") => {
            default_storage_class(store, obj).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A ServiceAccount that does not exist is not refused here (kube refuses it until the
/// ServiceAccount controller has made `default`).
async fn service_account(store: &Store, namespace: &str, pod: &mut Value) {
    let account = pod.pointer("/spec/serviceAccountName").and_then(Value::as_str).unwrap_or("default").to_string();
    let pod_says = pod.pointer("/spec/automountServiceAccountToken").and_then(Value::as_bool);
    if pod_says.is_none() {
        let key = (namespace.to_string(), account.clone());
        // Not in the cache: read it, as kube does (the account may be brand new).
        let account_says = match store.admission.read(|c| c.service_accounts.get(&key).copied()) {
            Some(says) => says,
            None => match store.def("", "v1", "serviceaccounts") {
                Ok(def) => store
                    .get(&def, "v1", namespace, &account)
                    .await
                    .ok()
                    .and_then(|sa| sa.get("automountServiceAccountToken").and_then(Value::as_bool)),
                Err(_) => None,
            },
        };
        if account_says == Some(false) {
            return;
        }
    }
    add_service_account_token_volume(pod, &generate_name(""));
}

async fn priority(store: &Store, def: &ResourceDef, pod: &mut Value) -> Result<()> {
    let class = pod.pointer("/spec/priorityClassName").and_then(Value::as_str).unwrap_or("").to_string();
    if class.starts_with("system-") {
        return Ok(());
    }
    let named = |classes: &[Value]| classes.iter().any(|pc| meta_str(pc, "name") == class);
    let classes = match store.admission.read(|c| Some(c.priority_classes.values().cloned().collect::<Vec<_>>())) {
        // A class made a moment ago may not be in memory yet: etcd decides before a 403.
        Some(classes) if class.is_empty() || named(&classes) => classes,
        _ => list(store, "scheduling.k8s.io", "priorityclasses", None).await,
    };
    let value = |pc: &Value| pc.get("value").and_then(Value::as_i64).unwrap_or(0);
    let chosen = if class.is_empty() {
        // The lowest of the global defaults, as kube picks when there are several.
        let defaults = classes.iter().filter(|pc| pc.get("globalDefault") == Some(&Value::Bool(true)));
        match defaults.min_by_key(|pc| value(pc)) {
            Some(pc) => pc,
            None => return Ok(()),
        }
    } else {
        match classes.iter().find(|pc| meta_str(pc, "name") == class) {
            Some(pc) => pc,
            None => {
                return Err(ApiError::forbidden(
                    &def.group,
                    &def.resource,
                    meta_str(pod, "name"),
                    &format!("no PriorityClass with name {class} was found"),
                ))
            }
        }
    };
    let spec = &mut pod["spec"];
    spec["priorityClassName"] = json!(meta_str(chosen, "name"));
    spec["priority"] = json!(value(chosen));
    spec["preemptionPolicy"] = chosen.get("preemptionPolicy").cloned().unwrap_or_else(|| json!("PreemptLowerPriority"));
    Ok(())
}

async fn default_storage_class(store: &Store, claim: &mut Value) {
    if claim.pointer("/spec/storageClassName").is_some_and(|c| !c.is_null()) {
        return;
    }
    let is_default = |sc: &Value| {
        ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"].iter().any(
            |a| sc.pointer("/metadata/annotations").and_then(|m| m.get(*a)).and_then(Value::as_str) == Some("true"),
        )
    };
    let classes = match store.admission.read(|c| Some(c.storage_classes.values().cloned().collect::<Vec<_>>())) {
        Some(classes) => classes,
        None => list(store, "storage.k8s.io", "storageclasses", None).await,
    };
    // The newest default wins, as kube picks since 1.26.
    let newest = classes
        .iter()
        .filter(|sc| is_default(sc))
        .max_by_key(|sc| (meta_str(sc, "creationTimestamp").to_string(), meta_str(sc, "name").to_string()));
    if let Some(sc) = newest {
        claim["spec"]["storageClassName"] = json!(meta_str(sc, "name"));
    }
}

/// A namespace's LimitRanges: from the cache, or, when it shows none, read from etcd at most
/// once per [`LIVE_LOOKUP_TTL`] (a LimitRange made a moment ago may not be in the cache yet).
async fn limit_ranges(store: &Store, namespace: &str) -> Vec<Value> {
    let cached = store.admission.read(|c| match c.limit_ranges.get(namespace) {
        Some(ranges) => Some(ranges.values().cloned().collect()),
        None => c.looked_up.get(namespace).filter(|(at, _)| at.elapsed() < LIVE_LOOKUP_TTL).map(|(_, r)| r.clone()),
    });
    if let Some(ranges) = cached {
        return ranges;
    }
    let ranges = list(store, "", "limitranges", Some(namespace)).await;
    store.admission.looked_up(namespace, &ranges);
    ranges
}

async fn limit_ranger(store: &Store, def: &ResourceDef, namespace: &str, pod: &mut Value) -> Result<()> {
    let ranges = limit_ranges(store, namespace).await;
    let limits: Vec<&Value> = ranges
        .iter()
        .flat_map(|lr| lr.pointer("/spec/limits").and_then(Value::as_array).into_iter().flatten())
        .filter(|l| l.get("type").and_then(Value::as_str) == Some("Container"))
        .collect();
    if limits.is_empty() {
        return Ok(());
    }
    let mut errors = Vec::new();
    for list_name in ["initContainers", "containers"] {
        let Some(Value::Array(containers)) = pod.pointer_mut(&format!("/spec/{list_name}")) else { continue };
        for container in containers.iter_mut() {
            for limit in &limits {
                for (from, into) in [("default", "limits"), ("defaultRequest", "requests")] {
                    for (resource, amount) in limit.get(from).and_then(Value::as_object).into_iter().flatten() {
                        let resources =
                            container.as_object_mut().map(|c| c.entry("resources").or_insert_with(|| json!({})));
                        if let Some(Value::Object(resources)) = resources {
                            let list = resources.entry(into).or_insert_with(|| json!({}));
                            if list.get(resource).is_none() {
                                list[resource] = amount.clone();
                            }
                        }
                    }
                }
                let observed = |kind: &str, resource: &str| {
                    container
                        .pointer(&format!("/resources/{kind}/{resource}"))
                        .and_then(|v| Quantity::from_json(v).ok())
                };
                for (resource, max) in limit.get("max").and_then(Value::as_object).into_iter().flatten() {
                    let Ok(max) = Quantity::from_json(max) else { continue };
                    match observed("limits", resource) {
                        Some(l) if l.cmp_value(&max).is_gt() => errors.push(format!(
                            "maximum {resource} usage per Container is {}, but limit is {}",
                            max.canonical(),
                            l.canonical()
                        )),
                        None => errors.push(format!(
                            "maximum {resource} usage per Container is {}.  No limit is specified",
                            max.canonical()
                        )),
                        _ => {}
                    }
                }
                for (resource, min) in limit.get("min").and_then(Value::as_object).into_iter().flatten() {
                    let Ok(min) = Quantity::from_json(min) else { continue };
                    match observed("requests", resource) {
                        Some(r) if r.cmp_value(&min).is_lt() => errors.push(format!(
                            "minimum {resource} usage per Container is {}, but request is {}",
                            min.canonical(),
                            r.canonical()
                        )),
                        None => errors.push(format!(
                            "minimum {resource} usage per Container is {}.  No request is specified",
                            min.canonical()
                        )),
                        _ => {}
                    }
                }
            }
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(ApiError::forbidden(&def.group, &def.resource, meta_str(pod, "name"), &errors[0])),
        _ => Err(ApiError::forbidden(
            &def.group,
            &def.resource,
            meta_str(pod, "name"),
            &format!("[{}]", errors.join(", ")),
        )),
    }
}
