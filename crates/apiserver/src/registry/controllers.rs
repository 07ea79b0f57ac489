//! The controllers that live inside the server: garbage collection of `ownerReferences`
//! (background, foreground, orphan), namespace deletion, and removal of a deleted CRD's
//! objects. One etcd watch over the whole prefix keeps an owner index; level-triggered work
//! runs after changes and on a short tick, so a restart converges from current state.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tracing::{debug, warn};

use crate::error::ApiError;
use crate::kinds::crd::CLEANUP_FINALIZER;
use crate::kinds::strategy::Propagation;
use crate::registry::meta::{self, meta_str};
use crate::registry::resources::ResourceDef;
use crate::registry::store::{DeleteOptions, ListOptions, Store, WriteOptions};
use crate::storage::{EventKind, Kv};

/// What the index keeps of each object.
#[derive(Debug, Clone)]
struct Entry {
    uid: String,
    owners: Vec<String>,
    deleting: bool,
    finalizers: Vec<String>,
}

/// The part of a stored object the index reads.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(default)]
    metadata: HeadMeta,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HeadMeta {
    #[serde(default)]
    uid: String,
    #[serde(default)]
    owner_references: Vec<OwnerUid>,
    deletion_timestamp: Option<String>,
    finalizers: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct OwnerUid {
    uid: Option<String>,
}

/// Objects by key, keys by uid, and dependents by owner uid.
#[derive(Default)]
struct Index {
    entries: HashMap<String, Entry>,
    by_uid: HashMap<String, String>,
    dependents: HashMap<String, HashSet<String>>,
    /// Keys of objects being deleted that still have finalizers: the only ones `finalize`
    /// looks at, so a change costs nothing per stored object.
    finalizing: HashSet<String>,
}

impl Index {
    fn put(&mut self, kv: &Kv) {
        // Every write in the server passes here: only the fields the index keeps are read,
        // without building the whole object.
        let Ok(Head { metadata }) = serde_json::from_slice::<Head>(&kv.value) else { return };
        let uid = metadata.uid;
        if uid.is_empty() {
            return;
        }
        self.remove(&kv.key);
        let owners: Vec<String> = metadata.owner_references.into_iter().filter_map(|r| r.uid).collect();
        for o in &owners {
            self.dependents.entry(o.clone()).or_default().insert(kv.key.clone());
        }
        self.by_uid.insert(uid.clone(), kv.key.clone());
        let deleting = metadata.deletion_timestamp.is_some();
        let entry = Entry { uid, owners, deleting, finalizers: metadata.finalizers.unwrap_or_default() };
        if entry.deleting && !entry.finalizers.is_empty() {
            self.finalizing.insert(kv.key.clone());
        }
        self.entries.insert(kv.key.clone(), entry);
    }

    fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        self.by_uid.remove(&entry.uid);
        self.finalizing.remove(key);
        for o in &entry.owners {
            if let Some(set) = self.dependents.get_mut(o) {
                set.remove(key);
                if set.is_empty() {
                    self.dependents.remove(o);
                }
            }
        }
        Some(entry)
    }

    fn dependents_of(&self, uid: &str) -> Vec<String> {
        self.dependents.get(uid).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }
}

/// Runs until `shutdown` flips; restarts its watch after errors.
pub async fn run(store: Arc<Store>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            result = watch_loop(&store) => {
                if let Err(e) = result {
                    warn!(error = %e, "in-server controllers lost their watch; restarting");
                }
            }
            _ = shutdown.wait_for(|d| *d) => return,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn watch_loop(store: &Arc<Store>) -> Result<(), ApiError> {
    let root = store.root_prefix();
    let page = store.storage.list(&root, "", 0, 0).await?;
    let mut index = Index::default();
    let ns_prefix = format!("{root}namespaces/");
    let crd_prefix = format!("{root}apiextensions.k8s.io/customresourcedefinitions/");
    // Namespaces feed the admission cache; CRDs written through another server sharing this
    // etcd become served here too.
    let note_shared_state = |key: &str, value: Option<&[u8]>| {
        let obj = || value.and_then(|v| serde_json::from_slice::<Value>(v).ok());
        if let Some(rest) = key.strip_prefix(&root) {
            if crate::rbac::policy::Policy::concerns(rest) {
                store.rbac.note(rest, obj().as_ref());
            }
            store.admission.note(rest, obj);
            if let Some((ns, name)) = rest.strip_prefix("resourcequotas/").and_then(|r| r.split_once('/')) {
                store.quotas.note(ns, name, value.is_some());
            }
        }
        if let Some(name) = key.strip_prefix(&ns_prefix) {
            store.namespaces.set(name, obj().as_ref());
        } else if let Some(name) = key.strip_prefix(&crd_prefix) {
            match obj() {
                Some(crd) => crate::kinds::crd::register(&store.resources, &crd),
                None => store.resources.set_crd(name, None),
            }
        }
    };
    store.admission.relist();
    for kv in &page.kvs {
        index.put(kv);
        note_shared_state(&kv.key, Some(&kv.value));
    }
    store.admission.listed();
    crate::rbac::aggregate(store).await;
    // Namespaces whose quotas need recalculating, done on the tick.
    let mut quota_dirty: HashSet<String> = page
        .kvs
        .iter()
        .filter(|kv| kv.key.contains("/resourcequotas/"))
        .filter_map(|kv| locate(store, &kv.key))
        .map(|(_, ns, _)| ns)
        .collect();
    // Dependents whose owners went away while no server watched are collected at start.
    let keys: Vec<String> = index.entries.keys().cloned().collect();
    for key in keys {
        collect_if_orphaned(store, &index, &key).await;
    }
    let mut stream = store.storage.watch(&root, page.revision + 1, false).await?;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            next = stream.next() => {
                let Some(events) = next? else { return Ok(()) };
                let mut gone = Vec::new();
                let mut written = Vec::new();
                let roles_changed = events
                    .iter()
                    .any(|ev| ev.kv.key.strip_prefix(&root).is_some_and(crate::rbac::policy::Policy::is_cluster_role));
                let keys: Vec<String> = events.iter().map(|ev| ev.kv.key.clone()).collect();
                for ev in events {
                    match ev.kind {
                        EventKind::Put => {
                            index.put(&ev.kv);
                            note_shared_state(&ev.kv.key, Some(&ev.kv.value));
                            written.push(ev.kv.key.clone());
                        }
                        EventKind::Delete => {
                            note_shared_state(&ev.kv.key, None);
                            if let Some(entry) = index.remove(&ev.kv.key) {
                                gone.push(entry.uid);
                            }
                        }
                    }
                }
                for uid in gone {
                    collect_dependents(store, &index, &uid).await;
                }
                for key in written {
                    collect_if_orphaned(store, &index, &key).await;
                }
                // After the events are noted: a new quota makes its namespace one with quotas.
                for key in keys.iter().filter(|_| store.quotas.any()) {
                    if let Some((_, ns, _)) = locate(store, key).filter(|(_, ns, _)| store.quotas.has(ns)) {
                        quota_dirty.insert(ns);
                    }
                }
                finalize(store, &index).await;
                if roles_changed {
                    crate::rbac::aggregate(store).await;
                }
            }
            _ = tick.tick() => {
                for ns in std::mem::take(&mut quota_dirty) {
                    crate::registry::quota::recalculate(store, &ns).await;
                }
                finalize(store, &index).await;
                delete_namespaces(store).await;
            }
        }
    }
}

/// The resource, namespace and name stored under a key.
fn locate(store: &Store, key: &str) -> Option<(Arc<ResourceDef>, String, String)> {
    let rest = key.strip_prefix(&store.root_prefix())?;
    let snapshot = store.resources.snapshot();
    let def = snapshot
        .all
        .iter()
        .filter(|d| d.is_stored() && rest.starts_with(&format!("{}/", d.key_prefix)))
        .max_by_key(|d| d.key_prefix.len())?
        .clone();
    let tail = &rest[def.key_prefix.len() + 1..];
    let (ns, name) = if def.namespaced { tail.split_once('/')? } else { ("", tail) };
    Some((def, ns.to_string(), name.to_string()))
}

async fn delete_key(store: &Store, key: &str, propagation: Propagation) {
    let Some((def, ns, name)) = locate(store, key) else { return };
    let opts = DeleteOptions { propagation: Some(propagation), ..Default::default() };
    match store.delete(&def, def.storage_version(), &ns, &name, &opts).await {
        Ok(_) => debug!(%key, "garbage collected"),
        Err(e) if e.code == http::StatusCode::NOT_FOUND => {}
        Err(e) => warn!(%key, error = %e, "garbage collection failed"),
    }
}

/// After an owner is gone: dependents with no remaining owner are deleted.
async fn collect_dependents(store: &Store, index: &Index, owner_uid: &str) {
    for key in index.dependents_of(owner_uid) {
        collect_if_orphaned(store, index, &key).await;
    }
}

/// A dependent none of whose owners exist is deleted, as kube's garbage collector deletes
/// objects with dangling owner references (owners are written before their dependents, so
/// the watch has seen a live owner by the time it sees the dependent).
async fn collect_if_orphaned(store: &Store, index: &Index, key: &str) {
    let Some(entry) = index.entries.get(key) else { return };
    if entry.owners.is_empty() || entry.deleting {
        return;
    }
    if entry.owners.iter().all(|o| !index.by_uid.contains_key(o)) {
        delete_key(store, key, Propagation::Background).await;
    }
}

/// Edits an object by key with a function; conflicts are left for the next round.
async fn edit(store: &Store, key: &str, f: impl FnOnce(&mut Value)) {
    let Some((def, ns, name)) = locate(store, key) else { return };
    let version = def.storage_version().to_string();
    let Ok(mut obj) = store.get(&def, &version, &ns, &name).await else { return };
    f(&mut obj);
    let subresource = None;
    if let Err(e) = store.update(&def, &version, &ns, &name, obj, subresource, &WriteOptions::default()).await {
        debug!(%key, error = %e, "edit deferred");
    }
}

fn drop_finalizer(obj: &mut Value, finalizer: &str) {
    let rest: Vec<String> = meta::finalizers(obj).into_iter().filter(|f| f != finalizer).collect();
    meta::metadata_mut(obj).insert("finalizers".into(), json!(rest));
}

/// Level-triggered handling of the orphan, foregroundDeletion and CRD cleanup finalizers.
async fn finalize(store: &Store, index: &Index) {
    let pending: Vec<(String, Entry)> =
        index.finalizing.iter().filter_map(|k| Some((k.clone(), index.entries.get(k)?.clone()))).collect();
    for (key, entry) in pending {
        let dependents = index.dependents_of(&entry.uid);
        if entry.finalizers.iter().any(|f| f == "orphan") {
            for dep in &dependents {
                let uid = entry.uid.clone();
                edit(store, dep, move |obj| {
                    if let Some(refs) = obj.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                    }
                })
                .await;
            }
            if dependents.is_empty() {
                edit(store, &key, |obj| drop_finalizer(obj, "orphan")).await;
            }
        }
        if entry.finalizers.iter().any(|f| f == "foregroundDeletion") {
            if dependents.is_empty() {
                edit(store, &key, |obj| drop_finalizer(obj, "foregroundDeletion")).await;
            } else {
                for dep in &dependents {
                    if index.entries.get(dep).is_some_and(|d| !d.deleting) {
                        delete_key(store, dep, Propagation::Foreground).await;
                    }
                }
            }
        }
        if entry.finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
            cleanup_crd(store, &key).await;
        }
    }
}

/// Deletes every object of a CRD being deleted, then lets the CRD go.
async fn cleanup_crd(store: &Store, key: &str) {
    let Some((def, _, name)) = locate(store, key) else { return };
    let Ok(crd) = store.get(&def, "v1", "", &name).await else { return };
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or("");
    let plural = crd.pointer("/spec/names/plural").and_then(Value::as_str).unwrap_or("");
    let snapshot = store.resources.snapshot();
    let custom = snapshot.all.iter().find(|d| d.crd.is_some() && d.group == group && d.resource == plural).cloned();
    if let Some(custom) = custom {
        let version = custom.storage_version().to_string();
        let opts = DeleteOptions { propagation: Some(Propagation::Background), ..Default::default() };
        if let Err(e) = store.delete_collection(&custom, &version, None, &ListOptions::default(), &opts).await {
            warn!(crd = %name, error = %e, "failed to delete custom objects");
            return;
        }
        match store.storage.list(&store.collection_key(&custom, None), "", 0, 1).await {
            Ok(page) if page.kvs.is_empty() => {}
            _ => return,
        }
    }
    edit(store, key, |obj| drop_finalizer(obj, CLEANUP_FINALIZER)).await;
}

/// Empties terminating namespaces, then removes them (kube's namespace controller).
async fn delete_namespaces(store: &Store) {
    // The watch-fed cache says when there is work; an idle server reads nothing each tick.
    if !store.namespaces.any_terminating() {
        return;
    }
    let snapshot = store.resources.snapshot();
    let Some(ns_def) = snapshot.lookup("", "v1", "namespaces").cloned() else { return };
    let Ok((namespaces, _, _, _)) = store.list_items(&ns_def, "v1", None, &ListOptions::default()).await else {
        return;
    };
    for ns in namespaces.into_iter().filter(meta::is_deleting) {
        let name = meta_str(&ns, "name").to_string();
        let mut remaining = 0usize;
        for def in snapshot.all.iter().filter(|d| d.namespaced && d.is_stored()) {
            let version = def.storage_version().to_string();
            let opts = DeleteOptions { propagation: Some(Propagation::Background), ..Default::default() };
            let _ = store.delete_collection(def, &version, Some(&name), &ListOptions::default(), &opts).await;
            if let Ok(page) = store.storage.list(&store.collection_key(def, Some(&name)), "", 0, 1).await {
                remaining += page.kvs.len();
            }
        }
        if remaining > 0 {
            continue;
        }
        let finalizers: Vec<Value> = ns
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .map(|f| f.iter().filter(|x| x.as_str() != Some("kubernetes")).cloned().collect())
            .unwrap_or_default();
        let body = json!({"spec": {"finalizers": finalizers}});
        if let Err(e) =
            crate::registry::subresources::finalize_namespace(store, &ns_def, &name, &body, &WriteOptions::default())
                .await
        {
            debug!(namespace = %name, error = %e, "namespace finalize deferred");
        }
    }
}
