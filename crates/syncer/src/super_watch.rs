//! Watchers of the super cluster, shared by all tenants: every synced kind (only objects that
//! carry the cluster label), nodes and events. A change queues the key of the tenant object it
//! belongs to, read from the marks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::TryStreamExt;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Node};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::ResourceExt;
use nestor_api::types::{Condition, CONDITION_CRD_SYNCED};
use nestor_api::{keys, Marks, VirtualCluster};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::convert::Kind;
use crate::lean::{map_event, Lean};
use crate::pacing;
use crate::resources::Synced;
use crate::tenant::Side;
use crate::{Item, Shared};

/// Super namespace -> (cluster key, tenant namespace), from the marks of super namespaces.
#[derive(Default)]
pub struct NamespaceMap(RwLock<HashMap<String, (String, String)>>);

impl NamespaceMap {
    pub fn get(&self, super_ns: &str) -> Option<(String, String)> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).get(super_ns).cloned()
    }

    /// The super namespaces of one tenant.
    pub fn of_tenant(&self, key: &str) -> Vec<String> {
        let map = self.0.read().unwrap_or_else(|e| e.into_inner());
        map.iter().filter(|(_, (k, _))| k == key).map(|(ns, _)| ns.clone()).collect()
    }

    fn set(&self, super_ns: String, owner: Option<(String, String)>) {
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        match owner {
            Some(owner) => map.insert(super_ns, owner),
            None => map.remove(&super_ns),
        };
    }
}

/// The super namespaces where each synced kind has had objects, from the super watches. A
/// tenant's comparison lists its super copies only there: in the bench, more than 30 of each
/// tenant's 35 super lists (5 namespaces, 7 kinds) were of namespaces holding nothing of the kind.
#[derive(Default)]
pub struct Occupancy(RwLock<OccupancyState>);

#[derive(Default)]
struct OccupancyState {
    /// Kinds (labels) whose super watch has listed.
    listed: HashSet<String>,
    /// Kind -> super namespaces where the watch saw an object of it.
    seen: HashMap<String, HashSet<String>>,
}

impl OccupancyState {
    fn seen(&self, label: &str, namespace: &str) -> bool {
        self.seen.get(label).is_some_and(|namespaces| namespaces.contains(namespace))
    }
}

impl Occupancy {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, OccupancyState> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, OccupancyState> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    fn saw(&self, label: &str, namespace: &str) {
        if !self.read().seen(label, namespace) {
            self.write().seen.entry(label.to_string()).or_default().insert(namespace.to_string());
        }
    }

    fn listed(&self, label: &str) {
        if !self.read().listed.contains(label) {
            self.write().listed.insert(label.to_string());
        }
    }

    fn forget_namespace(&self, namespace: &str) {
        for namespaces in self.write().seen.values_mut() {
            namespaces.remove(namespace);
        }
    }

    /// Whether `namespace` may hold super objects of kind `label`: not when the kind's watch
    /// has listed and never saw one there.
    pub fn may_hold(&self, label: &str, namespace: &str) -> bool {
        let state = self.read();
        !state.listed.contains(label) || state.seen(label, namespace)
    }
}

/// Super pod UID -> the tenant pod it copies, so events about super pods find their tenant
/// pod without a request.
#[derive(Default)]
pub struct PodIndex(RwLock<HashMap<String, TenantPod>>);

/// A tenant pod as events point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPod {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl PodIndex {
    pub fn get(&self, super_uid: &str) -> Option<TenantPod> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).get(super_uid).cloned()
    }

    fn set(&self, super_uid: String, pod: Option<TenantPod>) {
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        match pod {
            Some(pod) => map.insert(super_uid, pod),
            None => map.remove(&super_uid),
        };
    }
}

/// The custom resources with a running super watcher, by label (`widgets.example.com`).
#[derive(Default)]
pub struct CustomWatchers(Mutex<HashMap<String, Synced>>);

/// Starts the super watchers and waits (up to a bound) until each has listed once, so the
/// namespace map and node tracker are filled before tenants start.
pub async fn start(shared: &Arc<Shared>, tasks: &mut tokio::task::JoinSet<()>) {
    let builtins = Synced::builtins();
    let (listed, mut done) = mpsc::channel(builtins.len() + 1);
    for synced in builtins {
        tasks.spawn(watch_kind(Arc::clone(shared), synced, Some(listed.clone())));
    }
    // Nodes too: a tenant's start compares its virtual nodes with them.
    tasks.spawn(watch_nodes(Arc::clone(shared), listed));
    let all_listed = async { while done.recv().await.is_some() {} };
    let started = std::time::Instant::now();
    match tokio::time::timeout(Duration::from_secs(30), all_listed).await {
        Ok(()) => info!(took = ?started.elapsed(), "super cluster listed; starting tenants"),
        Err(_) => warn!("the super cluster's first lists are slow; starting tenants anyway"),
    }
    shared.super_listed.send_replace(true);
    tasks.spawn(watch_events(Arc::clone(shared)));
}

/// What a super watch event says about a synced object: its metadata (the marks) and, for
/// pods, the node it runs on and the whole pod.
struct Seen {
    meta: ObjectMeta,
    node: Option<String>,
    /// A pod waiting for the scheduler.
    waiting: bool,
    object: Option<DynamicObject>,
}

async fn watch_kind(shared: Arc<Shared>, synced: Synced, listed: Option<mpsc::Sender<()>>) {
    let client = shared.super_client.clone();
    let config = watcher::Config::default().labels(keys::CLUSTER);
    // Pods are watched whole for their node; every other kind needs only its marks.
    let mut stream = if synced.kind == Kind::Pod {
        watcher(Api::<Lean>::all_with(client, &synced.resource), config)
            .map_ok(|e| {
                map_event(e, |Lean(o)| Seen {
                    node: o.data["spec"]["nodeName"].as_str().map(str::to_string),
                    waiting: pacing::waits_for_scheduler(&o.data, o.metadata.deletion_timestamp.is_some()),
                    meta: o.metadata.clone(),
                    object: Some(o),
                })
            })
            .default_backoff()
            .boxed()
    } else {
        watcher(Api::<PartialObjectMeta<DynamicObject>>::all_with(client, &synced.resource), config)
            .map_ok(|e| map_event(e, |o| Seen { meta: o.metadata, node: None, waiting: false, object: None }))
            .default_backoff()
            .boxed()
    };
    let mut listed = listed;
    let mut first_list = true;
    let label = synced.label();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => {
                if synced.kind == Kind::Pod {
                    shared.nodes.relist_start();
                    shared.pacing.relist_start();
                }
            }
            Ok(Event::InitApply(obj)) => {
                observe(&shared, &synced, &obj, false);
                if !first_list {
                    queue(&shared, &synced, obj, false);
                } else if let (Some(marks), Some(pod)) = (Marks::read(&obj.meta), obj.object) {
                    // Kept for the tenant's first comparison, which then lists no super pods.
                    shared.listed_pods.keep(&marks.cluster_key, pod);
                }
            }
            Ok(Event::Apply(obj)) => {
                observe(&shared, &synced, &obj, false);
                queue(&shared, &synced, obj, false);
            }
            Ok(Event::Delete(obj)) => {
                observe(&shared, &synced, &obj, true);
                queue(&shared, &synced, obj, true);
            }
            Ok(Event::InitDone) => {
                shared.occupancy.listed(label);
                if synced.kind == Kind::Pod {
                    if first_list {
                        let shared = Arc::clone(&shared);
                        tokio::spawn(async move {
                            tokio::time::sleep(crate::listed_pods::KEEP_FOR).await;
                            shared.listed_pods.close();
                        });
                    }
                    for (key, node) in shared.nodes.relist_done() {
                        queue_virtual_node(&shared, &key, node);
                    }
                    for (key, item) in shared.pacing.relist_done() {
                        shared.queue.add(&key, item);
                    }
                }
                first_list = false;
                if let Some(tx) = listed.take() {
                    let _ = tx.send(()).await;
                }
            }
            Err(e) => debug!(resource = %label, error = %e, "super watch failed; retrying"),
        }
    }
}

/// Keeps the namespace map, pod index and node tracker up to date.
fn observe(shared: &Shared, synced: &Synced, obj: &Seen, deleted: bool) {
    let marks = Marks::read(&obj.meta);
    if let Some(namespace) = obj.meta.namespace.as_deref().filter(|_| !deleted) {
        shared.occupancy.saw(synced.label(), namespace);
    }
    match synced.kind {
        Kind::Namespace => {
            let name = obj.meta.name.clone().unwrap_or_default();
            if deleted {
                shared.occupancy.forget_namespace(&name);
            }
            let owner = marks.filter(|_| !deleted).map(|m| (m.cluster_key, m.name));
            shared.namespaces.set(name, owner);
        }
        Kind::Pod => {
            let uid = obj.meta.uid.clone().unwrap_or_default();
            let node = obj.node.as_deref().unwrap_or_default();
            let tenant_pod = marks.as_ref().filter(|_| !deleted).map(|m| TenantPod {
                namespace: m.namespace.clone(),
                name: m.name.clone(),
                uid: m.uid.clone(),
            });
            shared.pods.set(uid.clone(), tenant_pod);
            if let Some(m) = &marks {
                for item in shared.pacing.observe(&m.cluster_key, &uid, obj.waiting && !deleted) {
                    shared.queue.add(&m.cluster_key, item);
                }
            }
            let placed = marks.filter(|_| !deleted && !node.is_empty()).map(|m| (m.cluster_key, node.to_string()));
            for (key, node) in shared.nodes.place(&uid, placed) {
                queue_virtual_node(shared, &key, node);
            }
        }
        _ => {}
    }
}

fn queue(shared: &Shared, synced: &Synced, seen: Seen, deleted: bool) {
    let Some(marks) = Marks::read(&seen.meta) else { return };
    if synced.kind == Kind::Pod {
        let (namespace, name) = (seen.meta.namespace.as_deref(), seen.meta.name.as_deref());
        let pod = seen.object.as_ref().filter(|_| !deleted);
        shared.listed_pods.update(&marks.cluster_key, namespace.unwrap_or_default(), name.unwrap_or_default(), pod);
    }
    let Some(tenant) = shared.tenant(&marks.cluster_key) else { return };
    if tenant.owns(&marks) {
        let item = Item::Object { resource: synced.label().to_string(), namespace: marks.namespace, name: marks.name };
        let watched = if deleted { Some(None) } else { seen.object.map(Some) };
        tenant.queue_unless_echo(shared, Side::Super, item, seen.meta.resource_version.as_deref(), watched);
    }
}

/// Watches super nodes: a change tenants see is queued for every tenant with pods on the node.
/// A node's status post that only moves heartbeat times is passed on at most every
/// [`NODE_STATUS_REPORT`], as a kubelet reports an unchanged status: with 100 tenants on each
/// node, copying every heartbeat was a hundred tenant writes per node per post.
async fn watch_nodes(shared: Arc<Shared>, listed: mpsc::Sender<()>) {
    let mut listed = Some(listed);
    let api: Api<Node> = Api::all(shared.super_client.clone());
    let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
    // Per node: when it was last queued. Every visible change is queued, so what tenants saw
    // last is what the node's previous event showed.
    let mut queued: HashMap<String, Instant> = HashMap::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Apply(node) | Event::InitApply(node)) => {
                let name = node.name_any();
                let visible = crate::convert::visible_change;
                let whole = serde_json::to_value(&node).unwrap_or_default();
                let now_visible = visible(&whole);
                let last = shared.super_nodes.put(&name, Some(whole));
                let unchanged = last.is_some_and(|last| visible(&last) == now_visible)
                    && queued.get(&name).is_some_and(|at| at.elapsed() < NODE_STATUS_REPORT);
                if !unchanged {
                    queued.insert(name.clone(), Instant::now());
                    queue_node(&shared, name);
                }
            }
            Ok(Event::Delete(node)) => {
                let name = node.name_any();
                queued.remove(&name);
                shared.super_nodes.put(&name, None);
                queue_node(&shared, name);
            }
            Ok(Event::InitDone) => {
                if let Some(tx) = listed.take() {
                    let _ = tx.send(()).await;
                }
            }
            Ok(_) => {}
            Err(e) => debug!(error = %e, "super node watch failed; retrying"),
        }
    }
}

/// The super nodes as their watch last brought them: a virtual node's sync reads its super
/// node here, not from the API server (a restart syncs thousands of virtual nodes).
#[derive(Default)]
pub struct SuperNodes(RwLock<HashMap<String, serde_json::Value>>);

impl SuperNodes {
    pub fn get(&self, name: &str) -> Option<serde_json::Value> {
        self.0.read().ok()?.get(name).cloned()
    }

    /// Keeps `node` (None: deleted); answers the node as it was before.
    fn put(&self, name: &str, node: Option<serde_json::Value>) -> Option<serde_json::Value> {
        let mut nodes = self.0.write().unwrap_or_else(|e| e.into_inner());
        match node {
            Some(n) => nodes.insert(name.to_string(), n),
            None => nodes.remove(name),
        }
    }
}

/// kubelet's `nodeStatusReportFrequency`: how often an unchanged status is posted.
const NODE_STATUS_REPORT: Duration = Duration::from_secs(300);

fn queue_node(shared: &Shared, name: String) {
    for key in shared.nodes.tenants_on(&name) {
        queue_virtual_node(shared, &key, name.clone());
    }
}

/// Queues a tenant's virtual node; a tenant not started yet compares all its virtual nodes
/// when it starts (`nodes::compare`).
fn queue_virtual_node(shared: &Shared, key: &str, name: String) {
    if shared.tenant(key).is_some() {
        shared.queue.add(key, Item::Node { name });
    }
}

/// Watches super Events: each change of one in a tenant's super namespace is queued for that
/// tenant. A (re)list queues nothing one by one: once it is done, each tenant's copies are
/// compared with the index in one list (`events::compare`), which is how a restart converges
/// quickly.
async fn watch_events(shared: Arc<Shared>) {
    let api: Api<CoreEvent> = Api::all(shared.super_client.clone());
    let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => shared.event_index.relist_start(),
            Ok(Event::InitApply(ev)) => {
                shared.event_index.put(&shared, &ev);
            }
            Ok(Event::Apply(ev)) => {
                if let Some((key, item)) = shared.event_index.put(&shared, &ev) {
                    shared.events.put(&key, Side::Super, &item, crate::tenant::lean(ev));
                    shared.queue.add(&key, item);
                }
            }
            Ok(Event::Delete(ev)) => shared.event_index.remove(&ev),
            Ok(Event::InitDone) => {
                shared.event_index.relist_done();
                let tenants = shared.tenants().into_iter().filter(|t| t.compared());
                futures::future::join_all(tenants.map(|t| {
                    let shared = Arc::clone(&shared);
                    async move { crate::events::compare(&shared, &t).await }
                }))
                .await;
            }
            Err(e) => debug!(error = %e, "super event watch failed; retrying"),
        }
    }
}

/// Each super Event in a tenant's super namespace, in short: a digest of what its tenant copy
/// must show, by super namespace and name; the tenant and its namespace are kept once per super
/// namespace. About fifty bytes per event (an index keyed by five strings per event took 250).
#[derive(Default)]
pub struct EventIndex(Mutex<EventIndexState>);

#[derive(Default)]
struct EventIndexState {
    namespaces: HashMap<String, NamespaceEvents>,
    /// Whether a first list is complete (a relist keeps the old entries until it is done).
    listed: bool,
    /// Events seen by a relist in progress: super namespace -> names.
    relisted: Option<HashMap<String, HashSet<String>>>,
}

/// The events of one super namespace.
struct NamespaceEvents {
    /// The cluster key and tenant namespace the super namespace belongs to.
    key: String,
    tenant_ns: String,
    digests: HashMap<Box<str>, u64>,
}

impl EventIndex {
    fn lock(&self) -> std::sync::MutexGuard<'_, EventIndexState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an event; answers its tenant and queue item when it is about a tenant's object.
    fn put(&self, shared: &Shared, event: &CoreEvent) -> Option<(String, Item)> {
        let namespace = event.namespace().unwrap_or_default();
        let (key, tenant_ns) = shared.namespaces.get(&namespace)?;
        let name = event.name_any();
        let digest = crate::events::digest(event);
        let mut state = self.lock();
        if let Some(seen) = state.relisted.as_mut() {
            seen.entry(namespace.clone()).or_default().insert(name.clone());
        }
        let events = state.namespaces.entry(namespace.clone()).or_insert_with(|| NamespaceEvents {
            key: key.clone(),
            tenant_ns: tenant_ns.clone(),
            digests: HashMap::new(),
        });
        if events.key != key || events.tenant_ns != tenant_ns {
            (events.key, events.tenant_ns) = (key.clone(), tenant_ns);
        }
        events.digests.insert(name.as_str().into(), digest);
        Some((key, Item::Event { namespace, name }))
    }

    fn remove(&self, event: &CoreEvent) {
        let namespace = event.namespace().unwrap_or_default();
        let mut state = self.lock();
        if let Some(events) = state.namespaces.get_mut(&namespace) {
            events.digests.remove(event.name_any().as_str());
            if events.digests.is_empty() {
                state.namespaces.remove(&namespace);
            }
        }
    }

    fn relist_start(&self) {
        self.lock().relisted = Some(Default::default());
    }

    /// Forgets the events the relist did not see again (deleted while the watch was down).
    fn relist_done(&self) {
        let mut state = self.lock();
        if let Some(seen) = state.relisted.take() {
            state.namespaces.retain(|namespace, events| {
                let names = seen.get(namespace);
                events.digests.retain(|name, _| names.is_some_and(|names| names.contains(&**name)));
                !events.digests.is_empty()
            });
        }
        state.listed = true;
    }

    /// The super Events of tenant `key` by (tenant namespace, name), with their super namespace
    /// and digest; `None` until the first list is done.
    pub fn of_tenant(&self, key: &str) -> Option<HashMap<(String, String), (String, u64)>> {
        let state = self.lock();
        state.listed.then(|| {
            let mut events = HashMap::new();
            for (super_ns, of_ns) in state.namespaces.iter().filter(|(_, e)| e.key == key) {
                for (name, digest) in &of_ns.digests {
                    events.insert((of_ns.tenant_ns.clone(), name.to_string()), (super_ns.clone(), *digest));
                }
            }
            events
        })
    }
}

/// The custom resources a VirtualCluster lists for downward sync that can be synced: the
/// tenant has the CRD, and the super cluster has the same one or none (then it is created from
/// the tenant's). A conflict is a condition and an event on the VirtualCluster, never an
/// overwrite.
/// Answers the resources to sync and whether that is every one listed.
pub async fn custom_resources(shared: &Arc<Shared>, tenant: &kube::Client, vc: &VirtualCluster) -> (Vec<Synced>, bool) {
    let mut synced = vec![];
    let mut problems = vec![];
    for name in &vc.spec.sync.custom_resources {
        match custom_resource(shared, tenant, name).await {
            Ok(s) => synced.push(s),
            Err(problem) => problems.push(format!("{name}: {problem}")),
        }
    }
    if !vc.spec.sync.custom_resources.is_empty() {
        report(shared, vc, &problems).await;
    }
    (synced, problems.is_empty())
}

async fn custom_resource(shared: &Arc<Shared>, tenant: &kube::Client, name: &str) -> Result<Synced, String> {
    let tenant_crds: Api<CustomResourceDefinition> = Api::all(tenant.clone());
    let super_crds: Api<CustomResourceDefinition> = Api::all(shared.super_client.clone());
    let crd = match tenant_crds.get_opt(name).await {
        Ok(Some(crd)) => crd,
        Ok(None) => return Err("the tenant has no such CustomResourceDefinition".into()),
        Err(e) => return Err(format!("reading the tenant's CustomResourceDefinition: {e}")),
    };
    let Some(version) = crd.spec.versions.iter().find(|v| v.storage).or(crd.spec.versions.first()) else {
        return Err("the CustomResourceDefinition has no version".into());
    };
    match super_crds.get_opt(name).await {
        Ok(Some(existing)) => {
            let same = existing.spec.names.kind == crd.spec.names.kind
                && existing.spec.scope == crd.spec.scope
                && existing
                    .spec
                    .versions
                    .iter()
                    .any(|v| v.name == version.name && v.served && v.schema == version.schema);
            if !same {
                return Err(format!(
                    "the super cluster's CustomResourceDefinition differs (kind, scope, or version {} and its schema); it is left as it is",
                    version.name
                ));
            }
        }
        Ok(None) => {
            let mut copy = CustomResourceDefinition { spec: crd.spec.clone(), ..Default::default() };
            copy.metadata.name = Some(name.to_string());
            copy.metadata.annotations = Some([(keys::VC_NAME.to_string(), "shared".to_string())].into());
            if let Err(e) = super_crds.create(&PostParams::default(), &copy).await {
                return Err(format!("creating the CustomResourceDefinition in the super cluster: {e}"));
            }
            info!(crd = %name, "created CustomResourceDefinition in the super cluster");
        }
        Err(e) => return Err(format!("reading the super cluster's CustomResourceDefinition: {e}")),
    }
    let synced = Synced::custom(
        &crd.spec.group,
        &version.name,
        &crd.spec.names.kind,
        &crd.spec.names.plural,
        crd.spec.scope == "Namespaced",
    );
    let mut watchers = shared.custom.0.lock().unwrap_or_else(|e| e.into_inner());
    if let std::collections::hash_map::Entry::Vacant(slot) = watchers.entry(synced.label().to_string()) {
        slot.insert(synced.clone());
        tokio::spawn(watch_kind(Arc::clone(shared), synced.clone(), None));
    }
    Ok(synced)
}

/// Sets the CustomResourcesSynced condition and, on problems, a Warning event.
async fn report(shared: &Shared, vc: &VirtualCluster, problems: &[String]) {
    let namespace = vc.namespace().unwrap_or_default();
    let api: Api<VirtualCluster> = Api::namespaced(shared.super_client.clone(), &namespace);
    let (status, reason, message) = if problems.is_empty() {
        ("True", "Synced", "every listed custom resource is synced".to_string())
    } else {
        ("False", "Conflict", problems.join("; "))
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for _ in 0..3 {
        let Ok(mut current) = api.get_status(&vc.name_any()).await else { return };
        let mut st = current.status.clone().unwrap_or_default();
        let old = st.conditions.iter().find(|c| c.type_ == CONDITION_CRD_SYNCED).cloned();
        if old.as_ref().is_some_and(|c| c.status == status && c.message == message) {
            return;
        }
        let transition = match &old {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => Some(now.clone()),
        };
        st.conditions.retain(|c| c.type_ != CONDITION_CRD_SYNCED);
        st.conditions.push(Condition {
            type_: CONDITION_CRD_SYNCED.into(),
            status: status.into(),
            reason: reason.into(),
            message: message.clone(),
            last_transition_time: transition,
            observed_generation: current.metadata.generation,
        });
        current.status = Some(st);
        match api.replace_status(&vc.name_any(), &PostParams::default(), &current).await {
            Ok(_) => break,
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => {
                warn!(error = %e, "setting the VirtualCluster condition failed");
                return;
            }
        }
    }
    if !problems.is_empty() {
        warn!(vc = %vc.name_any(), %message, "custom resources cannot be synced");
        crate::events::warn_on_vc(shared, vc, "CustomResourceConflict", &message);
    }
}

/// Deletes the cluster-scoped custom resources of one tenant (`selector` selects its key).
pub async fn delete_custom_cluster_scoped(shared: &Shared, selector: &str) -> anyhow::Result<()> {
    let kinds: Vec<Synced> = shared.custom.0.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
    for synced in kinds.iter().filter(|s| !s.namespaced) {
        let api: Api<DynamicObject> = Api::all_with(shared.super_client.clone(), &synced.resource);
        api.delete_collection(&DeleteParams::default(), &ListParams::default().labels(selector)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_namespaces_a_listed_kind_was_seen_in_are_listed() {
        let occupancy = Occupancy::default();
        assert!(occupancy.may_hold("pods", "t1-prod"), "before its watch listed, any namespace may hold a kind");
        occupancy.saw("pods", "t1-prod");
        occupancy.listed("pods");
        assert!(occupancy.may_hold("pods", "t1-prod"));
        assert!(!occupancy.may_hold("pods", "t1-dev"));
        assert!(occupancy.may_hold("configmaps", "t1-dev"), "another kind not listed yet");
        occupancy.saw("pods", "t1-dev");
        assert!(occupancy.may_hold("pods", "t1-dev"), "seen after the list");
        occupancy.forget_namespace("t1-prod");
        assert!(!occupancy.may_hold("pods", "t1-prod"), "a deleted namespace holds nothing");
    }
}
