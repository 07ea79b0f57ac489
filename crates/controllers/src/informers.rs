//! One watch and one cache per kind, shared by every controller. Each change is applied to the
//! cache first, then handed to every subscriber (the `Controller`s' trigger streams), deletions
//! included: a ReplicaSet must hear that its pod is gone.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

use crate::metrics::Metrics;
use crate::trim::Trim;

/// The cache of one kind and the subscribers of its changes.
pub struct Informer<K: Resource<DynamicType = ()> + Clone + 'static> {
    /// The cache: every object of the kind, trimmed.
    pub store: Store<K>,
    subscribers: Mutex<Vec<UnboundedSender<Arc<K>>>>,
}

impl<K> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    /// A stream of every object that changes (or is deleted), and of all of them after each
    /// full list. Subscribe before [`Informers::start`].
    pub fn subscribe(&self) -> UnboundedReceiver<Arc<K>> {
        let (tx, rx) = unbounded();
        if let Ok(mut subscribers) = self.subscribers.lock() {
            subscribers.push(tx);
        }
        rx
    }

    /// Every cached object in `namespace`.
    pub fn in_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.store.state().into_iter().filter(|o| o.meta().namespace.as_deref() == Some(namespace)).collect()
    }

    /// The cached object `namespace`/`name`.
    pub fn get(&self, namespace: Option<&str>, name: &str) -> Option<Arc<K>> {
        let mut key = ObjectRef::<K>::new(name);
        if let Some(ns) = namespace {
            key = key.within(ns);
        }
        self.store.get(&key)
    }

    fn send(&self, obj: &Arc<K>) {
        if let Ok(mut subscribers) = self.subscribers.lock() {
            subscribers.retain(|tx| tx.unbounded_send(Arc::clone(obj)).is_ok());
        }
    }
}

/// The informers of this process, created on first use.
pub struct Informers {
    client: kube::Client,
    metrics: Arc<Metrics>,
    kinds: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    watches: Mutex<Vec<(&'static str, BoxFuture<'static, ()>)>>,
    readiness: Mutex<Vec<BoxFuture<'static, ()>>>,
}

impl Informers {
    pub fn new(client: kube::Client, metrics: Arc<Metrics>) -> Informers {
        Informers {
            client,
            metrics,
            kinds: Mutex::new(HashMap::new()),
            watches: Mutex::new(Vec::new()),
            readiness: Mutex::new(Vec::new()),
        }
    }

    /// The informer of kind `K` over all namespaces.
    pub fn get<K>(&self) -> Arc<Informer<K>>
    where
        K: Resource<DynamicType = ()> + Trim + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    {
        self.get_with(watcher::Config::default())
    }

    /// The informer of kind `K`; `config` (selectors) applies when this call creates it.
    pub fn get_with<K>(&self, config: watcher::Config) -> Arc<Informer<K>>
    where
        K: Resource<DynamicType = ()> + Trim + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    {
        let Ok(mut kinds) = self.kinds.lock() else { return self.detached() };
        if let Some(existing) = kinds.get(&TypeId::of::<K>()) {
            if let Ok(informer) = Arc::clone(existing).downcast::<Informer<K>>() {
                return informer;
            }
        }
        let (store, writer) = reflector::store::<K>();
        let informer = Arc::new(Informer { store: store.clone(), subscribers: Mutex::new(Vec::new()) });
        kinds.insert(TypeId::of::<K>(), Arc::clone(&informer) as Arc<dyn Any + Send + Sync>);
        let kind: &'static str = kind_name::<K>();
        let counted = store.clone();
        self.metrics.count_cached(kind, Box::new(move || counted.state().len()));
        let api: Api<K> = Api::all(self.client.clone());
        let watch = run(api, config, writer, Arc::clone(&informer), Arc::clone(&self.metrics), kind).boxed();
        if let Ok(mut watches) = self.watches.lock() {
            watches.push((kind, watch));
        }
        if let Ok(mut readiness) = self.readiness.lock() {
            readiness.push(
                async move {
                    let _ = store.wait_until_ready().await;
                }
                .boxed(),
            );
        }
        informer
    }

    /// An informer that never fills, for the impossible case of a poisoned lock.
    fn detached<K>(&self) -> Arc<Informer<K>>
    where
        K: Resource<DynamicType = ()> + Clone + 'static,
    {
        let (store, _) = reflector::store::<K>();
        Arc::new(Informer { store, subscribers: Mutex::new(Vec::new()) })
    }

    /// The watches to run, one per kind asked for so far.
    pub fn start(&self) -> Vec<(&'static str, BoxFuture<'static, ()>)> {
        self.watches.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default()
    }

    /// Waits until every cache holds its first full list.
    pub async fn wait_ready(&self) {
        let waits = self.readiness.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
        futures::future::join_all(waits).await;
    }
}

fn kind_name<K: Resource<DynamicType = ()>>() -> &'static str {
    // The plural is a static string for k8s-openapi types.
    match K::plural(&()) {
        std::borrow::Cow::Borrowed(s) => s,
        std::borrow::Cow::Owned(_) => "unknown",
    }
}

async fn run<K>(
    api: Api<K>,
    config: watcher::Config,
    mut writer: reflector::store::Writer<K>,
    informer: Arc<Informer<K>>,
    metrics: Arc<Metrics>,
    kind: &'static str,
) where
    K: Resource<DynamicType = ()> + Trim + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let mut events = std::pin::pin!(watcher(api, config).default_backoff());
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                metrics.watch_error(kind);
                warn!(kind, error = %e, "watch failed; retrying");
                continue;
            }
        };
        match event {
            Event::Apply(mut obj) => {
                obj.trim();
                let key = ObjectRef::from_obj(&obj);
                writer.apply_watcher_event(&Event::Apply(obj));
                if let Some(cached) = informer.store.get(&key) {
                    informer.send(&cached);
                }
            }
            Event::Delete(mut obj) => {
                obj.trim();
                writer.apply_watcher_event(&Event::Delete(obj.clone()));
                informer.send(&Arc::new(obj));
            }
            Event::InitApply(mut obj) => {
                obj.trim();
                writer.apply_watcher_event(&Event::InitApply(obj));
            }
            Event::Init => writer.apply_watcher_event(&Event::Init),
            Event::InitDone => {
                writer.apply_watcher_event(&Event::InitDone);
                // A full list may follow a lost watch: every object is handed out again, so
                // whatever changed meanwhile (deletions included, through their owners) is seen.
                let all = informer.store.state();
                debug!(kind, objects = all.len(), "listed");
                for obj in &all {
                    informer.send(obj);
                }
            }
        }
    }
}

fn watcher<K>(api: Api<K>, config: watcher::Config) -> impl futures::Stream<Item = watcher::Result<Event<K>>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
{
    watcher::watcher(api, config)
}
