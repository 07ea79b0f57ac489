//! WATCH: a stream of ADDED/MODIFIED/DELETED events from a resourceVersion, filtered by
//! selectors, with bookmarks, timeouts and the 410 answer for compacted history
//! (kube's etcd3/watcher.go and cacher's event conversion).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tracing::debug;

use crate::error::{ApiError, Result};
use crate::registry::resources::ResourceDef;
use crate::registry::store::{ListOptions, Store};
use crate::storage::{EventKind, Kv, StorageError};

/// Options of one watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub list: ListOptions,
    pub allow_bookmarks: bool,
    pub send_initial_events: Option<bool>,
    pub timeout: Duration,
    pub bookmark_every: Duration,
}

/// One watch event, as sent on the wire: `{"type": ..., "object": ...}`.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    pub kind: &'static str,
    pub object: Value,
}

impl WatchEvent {
    fn new(kind: &'static str, object: Value) -> Self {
        WatchEvent { kind, object }
    }

    /// The ERROR event that ends a watch.
    pub fn error(err: &ApiError) -> Self {
        WatchEvent::new("ERROR", err.to_status())
    }
}

/// Starts a watch; events arrive on the receiver until the timeout or an error.
pub async fn start(
    store: Arc<Store>,
    def: Arc<ResourceDef>,
    version: String,
    namespace: Option<String>,
    opts: WatchOptions,
) -> Result<mpsc::Receiver<WatchEvent>> {
    for (field, _, _) in &opts.list.fields.0 {
        if !crate::kinds::fields::supported(&def.group, &def.resource, def.namespaced, field) {
            return Err(ApiError::bad_request(format!("field label not supported: {field}")));
        }
    }
    let rv = opts.list.resource_version.clone().unwrap_or_default();
    let mut initial = Vec::new();
    let from = if rv.is_empty() || rv == "0" || opts.send_initial_events == Some(true) {
        // Start at the current state: every existing object is sent as ADDED first.
        let list_opts = ListOptions {
            limit: 0,
            continue_token: None,
            resource_version: None,
            resource_version_match: None,
            ..opts.list.clone()
        };
        let (items, revision, _, _) = store.list_items(&def, &version, namespace.as_deref(), &list_opts).await?;
        initial = items;
        revision
    } else {
        rv.parse::<i64>().map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?
    };
    let prefix = store.collection_key(&def, namespace.as_deref());
    let mut stream = match store.storage.watch(&prefix, from + 1, true).await {
        Ok(s) => s,
        Err(e) => return Err(e.into()),
    };
    let (tx, rx) = mpsc::channel(256);
    let initial_end = opts.send_initial_events == Some(true) && opts.allow_bookmarks;
    tokio::spawn(async move {
        for obj in initial {
            if tx.send(WatchEvent::new("ADDED", obj)).await.is_err() {
                return;
            }
        }
        let api_version = def.api_version(&version);
        let bookmark = |rv: i64, end: bool| {
            let mut meta = json!({"resourceVersion": rv.to_string()});
            if end {
                meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            }
            WatchEvent::new("BOOKMARK", json!({"kind": def.kind, "apiVersion": api_version, "metadata": meta}))
        };
        if initial_end && tx.send(bookmark(from, true)).await.is_err() {
            return;
        }
        let deadline = tokio::time::sleep(opts.timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(opts.bookmark_every);
        ticker.tick().await;
        let mut last_sent = from;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = ticker.tick(), if opts.allow_bookmarks => {
                    let _ = stream.request_progress().await;
                    let progress = stream.progress().max(last_sent);
                    if tx.send(bookmark(progress, false)).await.is_err() { return; }
                }
                next = stream.next() => match next {
                    Ok(Some(events)) => {
                        for ev in events {
                            last_sent = last_sent.max(ev.kv.mod_revision);
                            if let Some(out) = convert(&store, &def, &version, &opts.list, ev.kind, &ev.kv, ev.prev.as_ref()) {
                                if tx.send(out).await.is_err() { return; }
                            }
                        }
                    }
                    Ok(None) => return,
                    Err(StorageError::Compacted { compacted, .. }) => {
                        let err = ApiError::gone(format!("too old resource version: {from} ({compacted})"));
                        let _ = tx.send(WatchEvent::error(&err)).await;
                        return;
                    }
                    Err(e) => {
                        debug!(error = %e, "watch ended by storage error");
                        let _ = tx.send(WatchEvent::error(&ApiError::internal(e))).await;
                        return;
                    }
                }
            }
        }
    });
    Ok(rx)
}

/// Turns one storage change into the event this watcher sees, if any.
fn convert(
    store: &Store,
    def: &ResourceDef,
    version: &str,
    opts: &ListOptions,
    kind: EventKind,
    kv: &Kv,
    prev: Option<&Kv>,
) -> Option<WatchEvent> {
    let decode = |kv: &Kv| store.decode(def, version, kv).ok();
    // Without selectors a change needs the previous object only when it is a deletion.
    let selects = !opts.labels.is_empty() || !opts.fields.is_empty();
    let prev_obj = prev.filter(|_| selects || kind == EventKind::Delete).and_then(decode);
    let prev_passes = match &prev_obj {
        Some(o) => store.matches(def, o, opts),
        None => prev.is_some() && !selects,
    };
    match kind {
        EventKind::Delete => {
            let mut obj = prev_obj?;
            crate::registry::meta::set_resource_version(&mut obj, kv.mod_revision);
            prev_passes.then(|| WatchEvent::new("DELETED", obj))
        }
        EventKind::Put => {
            let obj = decode(kv)?;
            let passes = store.matches(def, &obj, opts);
            let created = kv.create_revision == kv.mod_revision || prev.is_none();
            match (passes, prev_passes && !created) {
                (true, false) => Some(WatchEvent::new("ADDED", obj)),
                (true, true) => Some(WatchEvent::new("MODIFIED", obj)),
                (false, true) => {
                    // Left the selection: DELETED with the previous content at the new revision.
                    let mut old = prev_obj?;
                    crate::registry::meta::set_resource_version(&mut old, kv.mod_revision);
                    Some(WatchEvent::new("DELETED", old))
                }
                (false, false) => None,
            }
        }
    }
}
