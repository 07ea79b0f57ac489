//! One tenant being synced: its client, what is synced, and the watchers of its control plane.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use nestor_api::types::Endpoint;
use nestor_api::Marks;
use tracing::{debug, info, Instrument};

use crate::echoes::Echoes;
use crate::lean::{map_event, Lean};
use crate::resources::Synced;
use crate::{Item, Shared};

/// The VirtualCluster a tenant comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcRef {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// A tenant being synced.
pub struct Tenant {
    pub key: String,
    pub vc: VcRef,
    pub client: kube::Client,
    /// Where pods reach the tenant API server.
    pub endpoint: Option<Endpoint>,
    pub synced: Vec<Synced>,
    /// Carries the tenant key into every log line of the tenant's work.
    pub span: tracing::Span,
    /// What the tenant was started from; a change restarts it.
    pub fingerprint: String,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    failures: Mutex<HashMap<Item, u32>>,
    /// Kinds whose first list has been compared with the super cluster.
    kinds_compared: AtomicUsize,
    /// The syncer's own writes whose watch events are still to come.
    pub echoes: Echoes,
    /// Set once the first request to the tenant's API server has been answered (or timed out).
    connected: tokio::sync::OnceCell<()>,
}

/// Which cluster an object or event is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Tenant,
    Super,
}

impl Tenant {
    pub fn new(
        key: String,
        vc: VcRef,
        client: kube::Client,
        endpoint: Option<Endpoint>,
        synced: Vec<Synced>,
        fingerprint: String,
    ) -> Tenant {
        let span = tracing::info_span!("tenant", tenant = %key);
        Tenant {
            key,
            vc,
            client,
            endpoint,
            synced,
            span,
            fingerprint,
            tasks: Mutex::new(vec![]),
            failures: Mutex::new(HashMap::new()),
            kinds_compared: AtomicUsize::new(0),
            echoes: Echoes::default(),
            connected: tokio::sync::OnceCell::new(),
        }
    }

    /// The synced kind with this label (`pods`, `widgets.example.com`).
    pub fn synced(&self, label: &str) -> Option<&Synced> {
        self.synced.iter().find(|s| s.label() == label)
    }

    /// The marks of a super object copying the tenant object `namespace`/`name` with `uid`.
    pub fn marks(&self, namespace: &str, name: &str, uid: &str) -> Marks {
        Marks {
            cluster_key: self.key.clone(),
            vc_namespace: self.vc.namespace.clone(),
            vc_name: self.vc.name.clone(),
            vc_uid: self.vc.uid.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            uid: uid.to_string(),
        }
    }

    /// True when a super object's marks say it belongs to this tenant (this incarnation of
    /// the VirtualCluster).
    pub fn owns(&self, marks: &Marks) -> bool {
        marks.cluster_key == self.key && marks.vc_uid == self.vc.uid
    }

    /// Starts a watcher per synced kind: each change queues the object's key. The first list
    /// of each kind is not queued item by item: a patrol of that kind compares both sides in
    /// one pass once the list is done, which is how a restart converges quickly.
    pub fn start(self: &Arc<Self>, shared: &Arc<Shared>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        for synced in &self.synced {
            let tenant = Arc::clone(self);
            let shared = Arc::clone(shared);
            let synced = synced.clone();
            let span = self.span.clone();
            tasks.push(tokio::spawn(async move { tenant.watch(shared, synced).await }.instrument(span)));
        }
    }

    /// One request before the watches start: they then share its HTTP/2 connection instead of
    /// each opening one while none is established yet. Made from the watch tasks, so that a
    /// restart's start slots are not held by TLS handshakes. A failure or a silent server is
    /// the watches' to report.
    async fn connect(&self) {
        let version = tokio::time::timeout(Duration::from_secs(5), self.client.apiserver_version());
        self.connected.get_or_init(|| async { drop(version.await) }).await;
    }

    async fn watch(self: Arc<Self>, shared: Arc<Shared>, synced: Synced) {
        self.connect().await;
        let api: Api<Lean> = Api::all_with(self.client.clone(), &synced.resource);
        let label = synced.label();
        // The first list, kept until it is compared with the super cluster in one pass.
        let mut first_list = Some(vec![]);
        // Whole objects: the worker takes the one its event brought instead of reading it.
        let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
        while let Some(event) = stream.next().await {
            match event.map(|e| map_event(e, |o| o.0)) {
                Ok(Event::Apply(obj)) => self.queue_object(&shared, label, obj),
                Ok(Event::InitApply(obj)) => match first_list.as_mut() {
                    Some(listed) => listed.push(obj),
                    None => self.queue_object(&shared, label, obj),
                },
                Ok(Event::Delete(obj)) => {
                    let item = object_item(label, &obj.metadata);
                    self.queue_unless_echo(&shared, Side::Tenant, item, None, Some(None));
                }
                Ok(Event::Init) => {
                    // A relist that began before the first one ended starts the first list over.
                    if let Some(listed) = first_list.as_mut() {
                        listed.clear();
                    }
                }
                Ok(Event::InitDone) if first_list.is_some() => {
                    let listed = first_list.take();
                    crate::patrol::tenant_kind(&shared, &self, &synced, listed).await;
                    if self.kinds_compared.fetch_add(1, Ordering::Relaxed) + 1 == self.synced.len() {
                        info!("every kind listed and compared with the super cluster");
                        crate::nodes::compare(&shared, &self).await;
                        crate::events::compare(&shared, &self).await;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    shared.metrics.watch_error(&self.key);
                    debug!(resource = %label, error = %e, "tenant watch failed; retrying");
                }
            }
        }
    }

    fn queue_object(&self, shared: &Shared, label: &str, obj: DynamicObject) {
        let item = object_item(label, &obj.metadata);
        let rv = obj.metadata.resource_version.clone();
        self.queue_unless_echo(shared, Side::Tenant, item, rv.as_deref(), Some(Some(obj)));
    }

    /// Remembers that the syncer wrote `item` on `side` at `resource_version`: the watch event
    /// of that write brings nothing new and is not queued.
    pub fn expect_echo(&self, side: Side, item: Item, resource_version: Option<String>) {
        if let Some(rv) = resource_version {
            self.echoes.expect(side, item, rv);
        }
    }

    /// Queues `item` after a watch event at `resource_version`, unless the event is the echo
    /// of the syncer's own write (see [`Echoes`]). `watched` is the object the event brought
    /// (`Some(None)`: deleted), when the watch carries whole objects: it is stashed for the
    /// worker, the echo of an own write too (it is the newest version).
    pub fn queue_unless_echo(
        &self,
        shared: &Shared,
        side: Side,
        item: Item,
        resource_version: Option<&str>,
        watched: Option<Option<DynamicObject>>,
    ) {
        // Stashed before the item can be queued, so that its worker finds it.
        match watched {
            Some(object) => shared.objects.put(&self.key, side, &item, object),
            // What is stashed is older than this event.
            None => drop(shared.objects.take(&self.key, side, &item)),
        }
        let in_flight = || shared.queue.in_flight(&self.key, &item);
        if self.echoes.event(side, item.clone(), resource_version, in_flight) {
            shared.queue.add(&self.key, item);
        }
    }

    /// True once every kind has been listed and compared with the super cluster: from then on
    /// only differences are left in the queue.
    pub fn compared(&self) -> bool {
        self.kinds_compared.load(Ordering::Relaxed) >= self.synced.len()
    }

    /// Stops the tenant's watchers.
    pub fn stop(&self) {
        for task in self.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }

    /// How long to wait before retrying an item that failed: doubling from 200 ms to 30 s.
    pub fn backoff(&self, item: &Item) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(item.clone()).or_insert(0);
        *n = n.saturating_add(1);
        Duration::from_millis(200u64.saturating_mul(1 << (*n - 1).min(8))).min(Duration::from_secs(30))
    }

    pub fn forget_failures(&self, item: &Item) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(item);
    }
}

/// A watched object without its managedFields: the syncer never reads them, and they were
/// most of what it copied and kept of a pod. An update without them keeps the server's.
pub fn lean<K: kube::Resource>(mut obj: K) -> K {
    obj.meta_mut().managed_fields = None;
    obj
}

/// The queue item of a synced object of kind `label`.
pub fn object_item(label: &str, meta: &ObjectMeta) -> Item {
    Item::Object {
        resource: label.to_string(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
    }
}

impl Drop for Tenant {
    fn drop(&mut self) {
        self.stop();
    }
}
