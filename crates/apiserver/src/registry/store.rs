//! The generic store: create, get, list, update, patch and delete for every resource,
//! built-in or custom, over etcd (kube's generic/registry/store.go). What differs per kind
//! comes from `kinds::strategy`, `kinds::defaults`, `kinds::validation` and the CRD schema.

use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::error::{ApiError, Result};
use crate::fieldmanager::{self, Manager};
use crate::kinds::unknown_fields::{self, FieldValidation, Warnings};
use crate::kinds::{self, podsecurity, strategy, strategy::Propagation};
use crate::rbac::policy::Policy;
use crate::registry::meta::{self, meta_str};
use crate::registry::quota::{self, QuotaCache};
use crate::registry::resources::{ResourceDef, Resources};
use crate::registry::selector::{FieldSelector, LabelSelector};
use crate::registry::services::Allocator;
use crate::storage::{Kv, Storage, StorageError};

/// How many times an unconditional update or patch is retried after losing a race.
const UPDATE_RETRIES: usize = 16;

/// Options of a list (and of a watch's selectors).
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: i64,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
}

/// Options of a create, update or patch.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_validation: FieldValidation,
    /// Where the write leaves its warnings (unknown fields) for the response's headers.
    pub warnings: Arc<Warnings>,
    /// Set by `patch`: a patched object's strict error is the bare decoder message, a whole
    /// object's names its kind, as kube's handlers word them.
    pub patched: bool,
    /// What the writer's own rights require of the object it would store, checked after
    /// defaulting and validation (RBAC's escalation check).
    pub check: Option<WriteCheck>,
    /// Who writes, for `managedFields`; writes of the server itself have none.
    pub manager: Option<Manager>,
    /// Keys the request body repeated (JSON bodies of creates and updates), reported with
    /// the unknown fields.
    pub duplicates: Vec<String>,
}

/// A check of the object a write would store, on behalf of whoever writes it.
#[derive(Clone)]
pub struct WriteCheck(pub Arc<CheckFn>);

pub type CheckFn = dyn Fn(&ResourceDef, &Value) -> Result<()> + Send + Sync;

impl std::fmt::Debug for WriteCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteCheck")
    }
}

/// Options of a delete (query parameters and the DeleteOptions body together).
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub dry_run: bool,
    pub grace_period: Option<i64>,
    pub propagation: Option<Propagation>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// The kinds of patch kube-apiserver takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// The continue token of a paginated list, in kube's format.
#[derive(Debug, Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(key_suffix: &str, rv: i64) -> String {
    let token = ContinueToken { v: "meta.k8s.io/v1".into(), rv, start: format!("{key_suffix}\u{0}") };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// A decoded object as an item of its list: typed lists of kube-apiserver carry no
/// apiVersion/kind on their items (removed keeping the order of the other fields).
fn list_item(def: &ResourceDef, mut obj: Value) -> Value {
    if def.crd.is_none() {
        if let Some(m) = obj.as_object_mut() {
            m.shift_remove("apiVersion");
            m.shift_remove("kind");
        }
    }
    obj
}

/// The metadata of a list.
fn list_metadata(rv: i64, cont: Option<String>, remaining: Option<i64>) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        metadata["continue"] = json!(c);
    }
    if let Some(r) = remaining {
        metadata["remainingItemCount"] = json!(r);
    }
    metadata
}

fn decode_continue(token: &str) -> Result<ContinueToken> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).map_err(|_| bad())?;
    let t: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if t.v != "meta.k8s.io/v1" || t.start.contains("..") || t.start.starts_with('/') {
        return Err(bad());
    }
    Ok(t)
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Compacted { requested, compacted } => {
                ApiError::gone(format!("too old resource version: {requested} ({compacted})"))
            }
            // etcd out of reach: 503 so clients retry, as they do for an overloaded server.
            StorageError::Connect(e) | StorageError::Request(e) if e.to_string().contains("unavailable") => {
                let mut err = ApiError::unavailable(format!("etcd is unavailable: {e}"));
                err.details =
                    Some(Box::new(crate::error::Details { retry_after_seconds: Some(1), ..Default::default() }));
                err
            }
            StorageError::Connect(e) | StorageError::Request(e) => ApiError::internal(e),
            StorageError::Corrupt(k) => ApiError::internal(format!("stored object under {k} cannot be decoded")),
        }
    }
}

/// Admission webhooks and ValidatingAdmissionPolicies are stored but not called yet: every
/// write of one says so in a warning rather than pretending they are in force.
fn not_enforced_notice(def: &ResourceDef, opts: &WriteOptions) {
    if def.group == "admissionregistration.k8s.io" {
        opts.warnings.add(format!(
            "nestor-apiserver stores {} but does not call admission webhooks or evaluate admission policies yet: this one is not enforced",
            def.resource
        ));
    }
}

/// The generic store over etcd for every resource.
pub struct Store {
    pub storage: Storage,
    prefix: String,
    pub resources: Arc<Resources>,
    pub services: Allocator,
    /// Woken after deletes so the garbage collector and namespace controller look again.
    pub changed: Arc<Notify>,
    /// Namespaces and whether they are terminating, kept by the in-server watch.
    pub namespaces: NamespaceCache,
    /// Roles, ClusterRoles and their bindings, kept by the in-server watch for authorization.
    pub rbac: Arc<Policy>,
    /// The ResourceQuotas of each namespace, kept by the in-server watch for admission.
    pub quotas: QuotaCache,
    /// What the admission plugins read, from the server's watch.
    pub admission: crate::registry::admission::AdmissionCache,
}

/// Whether a namespace object is being deleted.
pub fn namespace_terminating(ns: &Value) -> bool {
    meta::is_deleting(ns) || ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
}

/// Known namespaces, whether each is terminating, and the `pod-security.kubernetes.io/`
/// labels of those that have some (what Pod Security admission reads).
#[derive(Default)]
pub struct NamespaceCache(
    std::sync::RwLock<std::collections::HashMap<String, bool>>,
    std::sync::RwLock<std::collections::HashMap<String, Value>>,
);

impl NamespaceCache {
    pub fn get(&self, name: &str) -> Option<bool> {
        self.0.read().ok()?.get(name).copied()
    }

    /// The namespace as Pod Security admission needs it (its pod-security labels), if it has
    /// any such label.
    pub fn pod_security(&self, name: &str) -> Option<Value> {
        self.1.read().ok()?.get(name).cloned()
    }

    /// Whether any known namespace is terminating.
    pub fn any_terminating(&self) -> bool {
        self.0.read().is_ok_and(|map| map.values().any(|t| *t))
    }

    /// Records a namespace's state (None: it is gone).
    pub fn set(&self, name: &str, state: Option<&Value>) {
        if let Ok(mut map) = self.0.write() {
            match state {
                Some(ns) => map.insert(name.to_string(), namespace_terminating(ns)),
                None => map.remove(name),
            };
        }
        let labels: serde_json::Map<String, Value> = state
            .and_then(|ns| ns.pointer("/metadata/labels"))
            .and_then(Value::as_object)
            .map(|l| {
                l.iter()
                    .filter(|(k, _)| k.starts_with("pod-security.kubernetes.io/"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if let Ok(mut map) = self.1.write() {
            if labels.is_empty() {
                map.remove(name);
            } else {
                map.insert(name.to_string(), json!({"metadata": {"labels": labels}}));
            }
        }
    }
}

impl Store {
    pub fn new(storage: Storage, prefix: &str, resources: Arc<Resources>, services: Allocator) -> Self {
        Store {
            storage,
            prefix: prefix.trim_end_matches('/').to_string(),
            resources,
            services,
            changed: Arc::new(Notify::new()),
            namespaces: NamespaceCache::default(),
            rbac: Arc::new(Policy::default()),
            quotas: QuotaCache::default(),
            admission: Default::default(),
        }
    }

    /// The resource served as `resource` in `group`/`version`, for the server's own reads and
    /// writes of a kind it knows.
    pub fn def(&self, group: &str, version: &str, resource: &str) -> Result<Arc<ResourceDef>> {
        self.resources
            .snapshot()
            .lookup(group, version, resource)
            .cloned()
            .ok_or_else(|| ApiError::internal(format!("{resource} are not served")))
    }

    /// `/registry/<resource>/` or, for a namespace of a namespaced resource, `.../<ns>/`.
    pub fn collection_key(&self, def: &ResourceDef, namespace: Option<&str>) -> String {
        match namespace.filter(|ns| def.namespaced && !ns.is_empty()) {
            Some(ns) => format!("{}/{}/{}/", self.prefix, def.key_prefix, ns),
            None => format!("{}/{}/", self.prefix, def.key_prefix),
        }
    }

    pub fn object_key(&self, def: &ResourceDef, namespace: &str, name: &str) -> String {
        if def.namespaced {
            format!("{}/{}/{}/{}", self.prefix, def.key_prefix, namespace, name)
        } else {
            format!("{}/{}/{}", self.prefix, def.key_prefix, name)
        }
    }

    /// The etcd prefix every object lives under (for the server-wide watch).
    pub fn root_prefix(&self) -> String {
        format!("{}/", self.prefix)
    }

    /// Decodes a stored object and stamps it with its resourceVersion and the asked version.
    pub fn decode(&self, def: &ResourceDef, version: &str, kv: &Kv) -> Result<Value> {
        let mut obj: Value = serde_json::from_slice(&kv.value)
            .map_err(|_| ApiError::internal(format!("object under {} cannot be decoded", kv.key)))?;
        meta::set_resource_version(&mut obj, kv.mod_revision);
        kinds::conversion::from_storage(def, version, &mut obj);
        if let Some(map) = obj.as_object_mut() {
            map.insert("apiVersion".into(), Value::String(def.api_version(version)));
            map.insert("kind".into(), Value::String(def.kind.clone()));
            // Keep apiVersion and kind first, as kube's encoder writes them.
            let mut ordered = serde_json::Map::new();
            for k in ["apiVersion", "kind"] {
                if let Some(v) = map.remove(k) {
                    ordered.insert(k.into(), v);
                }
            }
            ordered.append(map);
            *map = ordered;
        }
        Ok(obj)
    }

    /// The bytes stored for an object of a resource, in its storage version's shape; the
    /// object's own apiVersion says which version it is in.
    fn encode_for(def: &ResourceDef, obj: &Value) -> Vec<u8> {
        let version = obj.get("apiVersion").and_then(Value::as_str).map(|av| av.rsplit('/').next().unwrap_or(av));
        let version = version.unwrap_or_else(|| def.storage_version());
        let mut stored = obj.clone();
        kinds::conversion::to_storage(def, version, &mut stored);
        let stored_version = kinds::conversion::storage_api_version(def);
        if let Some(m) = stored.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(stored_version));
        }
        Self::encode(&stored)
    }

    /// The bytes stored in etcd for an object: JSON without resourceVersion and selfLink.
    pub fn encode(obj: &Value) -> Vec<u8> {
        let mut stored = obj.clone();
        if let Some(meta) = stored.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            meta.remove("selfLink");
        }
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    /// GET one object.
    pub async fn get(&self, def: &ResourceDef, version: &str, namespace: &str, name: &str) -> Result<Value> {
        let (_, obj) = self.get_kv(def, version, namespace, name).await?;
        Ok(obj)
    }

    pub(crate) async fn get_kv(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: &str,
        name: &str,
    ) -> Result<(Kv, Value)> {
        let key = self.object_key(def, namespace, name);
        let kv = self.storage.get(&key).await?.ok_or_else(|| ApiError::not_found(&def.group, &def.resource, name))?;
        let obj = self.decode(def, version, &kv)?;
        Ok((kv, obj))
    }

    /// LIST with selectors and pagination; answers the `<Kind>List`.
    pub async fn list(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<Value> {
        let (items, rv, cont, remaining) = self.list_items(def, version, namespace, opts).await?;
        let metadata = list_metadata(rv, cont, remaining);
        let items: Vec<Value> = items.into_iter().map(|o| list_item(def, o)).collect();
        Ok(json!({
            "kind": format!("{}List", def.kind),
            "apiVersion": def.api_version(version),
            "metadata": metadata,
            "items": items,
        }))
    }

    /// A LIST as JSON text made from the stored text (`raw`), when the request asks for
    /// nothing a stored object must be decoded for: no field selector, no conversion. `None`:
    /// answer it with [`Store::list`].
    pub async fn list_json(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<Option<Vec<u8>>> {
        if !opts.fields.is_empty() || !kinds::conversion::stored_as_served(def, version) {
            return Ok(None);
        }
        let api_version = def.api_version(version);
        // As `list_item` has them: apiVersion and kind on custom resources only.
        let type_meta = def.crd.is_some().then_some((api_version.as_str(), def.kind.as_str()));
        let how = super::raw::Item { type_meta, labels: &opts.labels };
        let (items, rv, cont, remaining) = self
            .list_with(def, namespace, opts, |kv| match super::raw::item(&kv.value, kv.mod_revision, &how) {
                Ok(item) => Ok(item),
                // Text the splitter cannot take (an escaped key): decoded as before.
                Err(()) => {
                    let obj = self.decode(def, version, kv)?;
                    Ok(self.matches(def, &obj, opts).then(|| list_item(def, obj).to_string()))
                }
            })
            .await?;
        let mut body = format!(
            "{{\"kind\":{},\"apiVersion\":{},\"metadata\":{},\"items\":[",
            json!(format!("{}List", def.kind)),
            json!(api_version),
            list_metadata(rv, cont, remaining)
        )
        .into_bytes();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item.as_bytes());
        }
        body.extend_from_slice(b"]}");
        Ok(Some(body))
    }

    /// The objects of a list, its revision, the next continue token and the remaining count.
    pub async fn list_items(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<(Vec<Value>, i64, Option<String>, Option<i64>)> {
        self.list_with(def, namespace, opts, |kv| {
            let obj = self.decode(def, version, kv)?;
            Ok(self.matches(def, &obj, opts).then_some(obj))
        })
        .await
    }

    /// The items of a list made by `item` from each stored object (`None`: not selected), its
    /// revision, the next continue token and the remaining count.
    async fn list_with<T>(
        &self,
        def: &ResourceDef,
        namespace: Option<&str>,
        opts: &ListOptions,
        item: impl Fn(&Kv) -> Result<Option<T>>,
    ) -> Result<(Vec<T>, i64, Option<String>, Option<i64>)> {
        for (field, _, _) in &opts.fields.0 {
            if !kinds::fields::supported(&def.group, &def.resource, def.namespaced, field) {
                return Err(ApiError::bad_request(format!("field label not supported: {field}")));
            }
        }
        if opts.resource_version_match.is_some() && opts.resource_version.is_none() {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "ListOptions",
                "",
                vec![crate::error::Cause::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                )],
            ));
        }
        let prefix = self.collection_key(def, namespace);
        let mut start = String::new();
        let mut revision = 0i64;
        if let Some(token) = &opts.continue_token {
            if opts.resource_version.as_deref().is_some_and(|rv| rv != "0") {
                return Err(ApiError::bad_request("specifying resource version is not allowed when using continue"));
            }
            let t = decode_continue(token)?;
            // A token made inside a namespace is relative to the resource root.
            start = format!("{}{}", self.collection_key(def, None), t.start);
            if !start.starts_with(&prefix) {
                return Err(ApiError::bad_request(format!("continue key is not valid: {token:?}")));
            }
            revision = t.rv.max(0);
        } else if let Some(rv) = opts.resource_version.as_deref().filter(|rv| !rv.is_empty() && *rv != "0") {
            let wanted: i64 =
                rv.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?;
            let current = self.storage.current_revision().await?;
            if wanted > current {
                let mut err = ApiError::timeout(format!("Too large resource version: {wanted}, current: {current}"));
                err.details = Some(Box::new(crate::error::Details {
                    causes: vec![crate::error::Cause {
                        reason: "ResourceVersionTooLarge".into(),
                        message: "Too large resource version".into(),
                        field: String::new(),
                    }],
                    retry_after_seconds: Some(1),
                    ..Default::default()
                }));
                return Err(err);
            }
            if opts.resource_version_match.as_deref() == Some("Exact") {
                revision = wanted;
            }
        }
        let filtering = !opts.labels.is_empty() || !opts.fields.is_empty();
        let limit = opts.limit.max(0);
        let mut items = Vec::new();
        let root = self.collection_key(def, None);
        loop {
            // Ask etcd for one more than wanted so "more" is known without a second read.
            let page = match self
                .storage
                .list(&prefix, &start, revision, if limit > 0 { limit.max(1) + 1 } else { 0 })
                .await
            {
                Err(StorageError::Compacted { .. }) if opts.continue_token.is_some() => {
                    let mut err = ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
                    err.details = None;
                    return Err(err);
                }
                Err(StorageError::Compacted { .. }) => {
                    return Err(ApiError::gone(format!("resourceVersion: {revision} is too old")));
                }
                other => other?,
            };
            if revision == 0 {
                revision = page.revision;
            }
            let total_in_range = page.count;
            let mut last_key = None;
            let mut taken = 0i64;
            for kv in &page.kvs {
                if limit > 0 && items.len() as i64 >= limit {
                    break;
                }
                taken += 1;
                last_key = Some(kv.key.clone());
                if let Some(made) = item(kv)? {
                    items.push(made);
                }
            }
            let more_in_range = (page.kvs.len() as i64) > taken || page.more;
            if limit == 0 || !more_in_range {
                return Ok((items, revision, None, None));
            }
            let Some(last) = last_key else { return Ok((items, revision, None, None)) };
            if items.len() as i64 >= limit {
                let suffix = last.strip_prefix(&root).unwrap_or(&last).to_string();
                let remaining = if filtering { None } else { Some(total_in_range - taken) };
                return Ok((items, revision, Some(encode_continue(&suffix, revision)), remaining));
            }
            // Filtering dropped objects: read on from after the last key, at the same revision.
            start = format!("{last}\u{0}");
        }
    }

    /// Whether an object satisfies the label and field selectors.
    pub fn matches(&self, def: &ResourceDef, obj: &Value, opts: &ListOptions) -> bool {
        opts.labels.matches(obj)
            && (opts.fields.is_empty()
                || opts.fields.matches(&kinds::fields::selectable(&def.group, &def.resource, def.namespaced, obj)))
    }

    /// Checks the namespace a new object goes into: 404 when missing, 403 when terminating.
    async fn check_namespace(&self, def: &ResourceDef, namespace: &str, name: &str) -> Result<()> {
        if !def.namespaced {
            return Ok(());
        }
        // Like kube's NamespaceLifecycle admission: answer from the watch-fed cache, and read
        // etcd only when the cache does not know the namespace (it may be brand new).
        let terminating = match self.namespaces.get(namespace) {
            Some(terminating) => terminating,
            None => match self.storage.get(&format!("{}/namespaces/{namespace}", self.prefix)).await? {
                None => return Err(ApiError::not_found("", "namespaces", namespace)),
                Some(kv) => namespace_terminating(&serde_json::from_slice(&kv.value).unwrap_or_default()),
            },
        };
        if terminating {
            return Err(ApiError::namespace_terminating(&def.group, &def.resource, name, namespace));
        }
        Ok(())
    }

    /// Checks that a body is an object whose apiVersion and kind (when given) fit the endpoint,
    /// and sets them (clients may leave them out): the version an object is written in
    /// decides its conversion to the storage version.
    fn typed_body(def: &ResourceDef, version: &str, mut obj: Value) -> Result<Value> {
        let Some(map) = obj.as_object_mut() else {
            return Err(ApiError::bad_request("the body of the request must be an object"));
        };
        let expected = def.api_version(version);
        if let Some(av) = map.get("apiVersion").and_then(Value::as_str) {
            if av != expected {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({av}) does not match the expected API version ({expected})"
                )));
            }
        }
        if let Some(k) = map.get("kind").and_then(Value::as_str) {
            if k != def.kind {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    def.kind
                )));
            }
        }
        map.insert("apiVersion".into(), Value::String(expected));
        map.insert("kind".into(), Value::String(def.kind.clone()));
        Ok(obj)
    }

    /// Runs defaulting, schema handling and validation of a built-in or custom object, and
    /// `opts.field_validation` on its unknown fields.
    fn admit(
        &self,
        def: &ResourceDef,
        version: &str,
        obj: &mut Value,
        old: Option<&Value>,
        opts: &WriteOptions,
    ) -> Result<()> {
        let context = if opts.patched {
            String::new()
        } else {
            format!("{kind} in version {version:?} cannot be handled as a {kind}: ", kind = def.kind)
        };
        kinds::admit(def, version, obj, old, |unknown| {
            unknown_fields::enforce(opts.field_validation, &opts.duplicates, &unknown, &context, &opts.warnings)
        })?;
        match &opts.check {
            Some(check) => (check.0)(def, obj),
            None => Ok(()),
        }
    }

    /// Pod Security admission on a pod (refused when its namespace's enforce level says so)
    /// and on the pod templates of workloads (warnings only), from the namespace's labels.
    fn pod_security(&self, def: &ResourceDef, namespace: &str, obj: &Value, opts: &WriteOptions) -> Result<()> {
        let (holder, enforce) = match (def.group.as_str(), def.resource.as_str()) {
            ("", "pods") => (Some(obj), true),
            ("", "podtemplates") => (obj.get("template"), false),
            ("", "replicationcontrollers")
            | ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets")
            | ("batch", "jobs") => (obj.pointer("/spec/template"), false),
            ("batch", "cronjobs") => (obj.pointer("/spec/jobTemplate/spec/template"), false),
            _ => (None, false),
        };
        let Some(holder) = holder else { return Ok(()) };
        let (Some(spec), Some(ns)) = (holder.get("spec"), self.namespaces.pod_security(namespace)) else {
            return Ok(());
        };
        let mut warnings = Vec::new();
        match podsecurity::check(&ns, holder, spec, enforce, &mut warnings) {
            podsecurity::Verdict::Refused(why) => Err(ApiError::forbidden("", "pods", meta_str(obj, "name"), &why)),
            podsecurity::Verdict::Allowed => {
                for w in warnings {
                    opts.warnings.add(w);
                }
                Ok(())
            }
        }
    }

    /// CREATE. `namespace` is the URL's (empty for cluster-scoped resources).
    pub async fn create(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: &str,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Value> {
        let mut obj = Self::typed_body(def, version, obj)?;
        let body_ns = meta_str(&obj, "namespace").to_string();
        if def.namespaced {
            if !body_ns.is_empty() && body_ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            meta::metadata_mut(&mut obj).insert("namespace".into(), json!(namespace));
        } else {
            meta::metadata_mut(&mut obj).remove("namespace");
        }
        if !meta_str(&obj, "resourceVersion").is_empty() {
            return Err(ApiError::internal("resourceVersion should not be set on objects to be created"));
        }
        let generate = meta_str(&obj, "generateName").to_string();
        if meta_str(&obj, "name").is_empty() && !generate.is_empty() {
            meta::metadata_mut(&mut obj).insert("name".into(), json!(meta::generate_name(&generate)));
        }
        {
            let m = meta::metadata_mut(&mut obj);
            m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            m.insert("creationTimestamp".into(), json!(meta::now()));
            m.remove("deletionTimestamp");
            m.remove("deletionGracePeriodSeconds");
            m.remove("selfLink");
            if strategy::tracks_generation(def) {
                m.insert("generation".into(), json!(1));
            } else {
                m.remove("generation");
            }
        }
        meta::drop_empty_metadata(&mut obj);
        let name = meta_str(&obj, "name").to_string();
        self.check_namespace(def, namespace, &name).await?;
        self.admit(def, version, &mut obj, None, opts)?;
        crate::registry::admission::mutate(self, def, namespace, &mut obj).await?;
        self.pod_security(def, namespace, &obj, opts)?;
        not_enforced_notice(def, opts);
        // Boxed: charging updates quotas, and an update may create.
        Box::pin(quota::charge(self, def, namespace, &obj, opts.dry_run)).await?;
        if let Some(m) = opts.manager.as_ref().filter(|m| !m.apply) {
            fieldmanager::update(def, version, None, &mut obj, &m.name, None);
        }
        let name = meta_str(&obj, "name").to_string();
        if opts.dry_run {
            return Ok(obj);
        }
        if self.services.allocates(def)
            && generate.is_empty()
            && self.storage.get(&self.object_key(def, namespace, &name)).await?.is_some()
        {
            // Answer AlreadyExists before an allocation could fail on the existing object's IP.
            return Err(ApiError::already_exists(&def.group, &def.resource, &name));
        }
        self.services.allocate(def, &mut obj).await?;
        for attempt in 0..8 {
            let key = self.object_key(def, namespace, &name_of(&obj));
            match self.storage.create(&key, Self::encode_for(def, &obj)).await {
                Ok(Ok(rev)) => {
                    meta::set_resource_version(&mut obj, rev);
                    kinds::after_write(self, def, &obj).await;
                    return Ok(obj);
                }
                Ok(Err(())) if !generate.is_empty() && attempt < 7 && meta_str(&obj, "generateName") == generate => {
                    // kube retries a generated name that collided.
                    meta::metadata_mut(&mut obj).insert("name".into(), json!(meta::generate_name(&generate)));
                }
                Ok(Err(())) => {
                    self.services.release(def, &obj).await;
                    return Err(ApiError::already_exists(&def.group, &def.resource, &name_of(&obj)));
                }
                Err(e) => {
                    self.services.release(def, &obj).await;
                    return Err(e.into());
                }
            }
        }
        Err(ApiError::already_exists(&def.group, &def.resource, &name))
    }

    /// Creates or replaces an object without admission, for objects the server itself owns
    /// and kube's own reconcilers write straight to storage (the `kubernetes` Endpoints,
    /// whose loopback address validation would refuse).
    pub async fn write_system(&self, def: &ResourceDef, namespace: &str, mut obj: Value) -> Result<()> {
        let name = meta_str(&obj, "name").to_string();
        let key = self.object_key(def, namespace, &name);
        for _ in 0..UPDATE_RETRIES {
            let current = self.storage.get(&key).await?;
            {
                let m = meta::metadata_mut(&mut obj);
                if def.namespaced {
                    m.insert("namespace".into(), json!(namespace));
                }
                let old: Option<Value> = current.as_ref().and_then(|kv| serde_json::from_slice(&kv.value).ok());
                let keep = |field: &str| old.as_ref().and_then(|o| o.pointer(&format!("/metadata/{field}")).cloned());
                m.insert("uid".into(), keep("uid").unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())));
                m.insert("creationTimestamp".into(), keep("creationTimestamp").unwrap_or_else(|| json!(meta::now())));
            }
            let done = match &current {
                None => self.storage.create(&key, Self::encode_for(def, &obj)).await?.is_ok(),
                Some(kv) => {
                    let stored: Value = serde_json::from_slice(&kv.value).unwrap_or_default();
                    stored == obj
                        || self.storage.update(&key, Self::encode_for(def, &obj), kv.mod_revision).await?.is_ok()
                }
            };
            if done {
                return Ok(());
            }
        }
        Err(ApiError::modified(&def.group, &def.resource, &name))
    }

    /// UPDATE (PUT) of the main resource or its `status`.
    #[allow(clippy::too_many_arguments)]
    pub async fn update(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: &str,
        name: &str,
        obj: Value,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Value> {
        let obj = Self::typed_body(def, version, obj)?;
        let body_name = meta_str(&obj, "name");
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if def.namespaced {
            let body_ns = meta_str(&obj, "namespace");
            if !body_ns.is_empty() && body_ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        let wanted_rv = meta_str(&obj, "resourceVersion").to_string();
        let key = self.object_key(def, namespace, name);
        for _ in 0..UPDATE_RETRIES {
            let Some(current) = self.storage.get(&key).await? else {
                if strategy::allow_create_on_update(def) && subresource.is_none() {
                    let mut fresh = obj.clone();
                    meta::metadata_mut(&mut fresh).remove("resourceVersion");
                    return self.create(def, version, namespace, fresh, opts).await;
                }
                return Err(ApiError::not_found(&def.group, &def.resource, name));
            };
            let old = self.decode(def, version, &current)?;
            if !wanted_rv.is_empty() && wanted_rv != current.mod_revision.to_string() {
                return Err(ApiError::modified(&def.group, &def.resource, name));
            }
            let new = self.prepare_update(def, version, &old, obj.clone(), subresource, opts)?;
            match self.write_update(def, &key, &old, new, current.mod_revision, opts).await? {
                Some(done) => return Ok(done),
                None if !wanted_rv.is_empty() => return Err(ApiError::modified(&def.group, &def.resource, name)),
                None => continue,
            }
        }
        Err(ApiError::modified(&def.group, &def.resource, name))
    }

    /// Merges a client's new object with the stored one as kube's update strategies do.
    fn prepare_update(
        &self,
        def: &ResourceDef,
        version: &str,
        old: &Value,
        mut new: Value,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Value> {
        let old_uid = meta_str(old, "uid");
        let new_uid = meta_str(&new, "uid");
        if !new_uid.is_empty() && new_uid != old_uid {
            return Err(ApiError::conflict(
                &def.group,
                &def.resource,
                meta_str(old, "name"),
                &format!("Precondition failed: UID in precondition: {new_uid}, UID in object meta: {old_uid}"),
            ));
        }
        if subresource == Some("status") {
            // The status subresource changes status only (metav1.ResetObjectMetaForStatus),
            // and the managedFields an apply computed.
            let mut merged = old.clone();
            match new.get("status") {
                Some(status) => merged["status"] = status.clone(),
                None => {
                    if let Some(m) = merged.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            if opts.manager.as_ref().is_some_and(|m| m.apply) {
                if let Some(fields) = new.pointer("/metadata/managedFields") {
                    meta::metadata_mut(&mut merged).insert("managedFields".into(), fields.clone());
                }
            }
            new = merged;
        } else {
            if strategy::has_status(def) {
                match old.get("status") {
                    Some(status) => new["status"] = status.clone(),
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            meta::keep_system_fields(&mut new, old);
            if def.namespaced {
                meta::metadata_mut(&mut new).insert("namespace".into(), json!(meta_str(old, "namespace")));
            }
            meta::drop_empty_metadata(&mut new);
            self.admit(def, version, &mut new, Some(old), opts)?;
            not_enforced_notice(def, opts);
        }
        if let Some(m) = opts.manager.as_ref().filter(|m| !m.apply) {
            fieldmanager::update(def, version, Some(old), &mut new, &m.name, subresource);
        }
        // Built-ins bump generation in their update strategy (kinds::defaults); custom
        // objects bump it on any change outside metadata and status.
        if def.crd.is_some() && meta::spec_part(&new) != meta::spec_part(old) {
            let generation = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0) + 1;
            meta::metadata_mut(&mut new).insert("generation".into(), json!(generation));
        }
        Ok(new)
    }

    /// Writes a prepared update with compare-and-swap. `None` when another writer won.
    async fn write_update(
        &self,
        def: &ResourceDef,
        key: &str,
        old: &Value,
        mut new: Value,
        revision: i64,
        opts: &WriteOptions,
    ) -> Result<Option<Value>> {
        let mut comparable = new.clone();
        meta::set_resource_version(&mut comparable, revision);
        if comparable == *old {
            // kube skips the write of a no-op update: the resourceVersion does not move.
            return Ok(Some(old.clone()));
        }
        if opts.dry_run {
            meta::set_resource_version(&mut new, revision);
            return Ok(Some(new));
        }
        // Removing the last finalizer of an object being deleted completes the deletion.
        if meta::is_deleting(&new) && meta::finalizers(&new).is_empty() {
            return match self.storage.delete(key, revision).await? {
                Ok(rev) => {
                    meta::set_resource_version(&mut new, rev);
                    self.after_delete(def, &new).await;
                    Ok(Some(new))
                }
                Err(_) => Ok(None),
            };
        }
        match self.storage.update(key, Self::encode_for(def, &new), revision).await? {
            Ok(rev) => {
                meta::set_resource_version(&mut new, rev);
                kinds::after_write(self, def, &new).await;
                Ok(Some(new))
            }
            Err(_) => Ok(None),
        }
    }

    /// PATCH of the main resource or a subresource, retried while other writers race.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Value> {
        let key = self.object_key(def, namespace, name);
        let patch_opts = WriteOptions { patched: true, ..opts.clone() };
        for _ in 0..UPDATE_RETRIES {
            let current = match self.storage.get(&key).await? {
                Some(kv) => kv,
                None if patch_type == PatchType::Apply && subresource.is_none() => {
                    // Server-side apply creates what does not exist yet.
                    let mut obj = match &opts.manager {
                        Some(m) => fieldmanager::apply(def, version, None, patch, m, None)?,
                        None => patch.clone(),
                    };
                    if meta_str(&obj, "name").is_empty() {
                        meta::metadata_mut(&mut obj).insert("name".into(), json!(name));
                    }
                    return self.create(def, version, namespace, obj, opts).await;
                }
                None => return Err(ApiError::not_found(&def.group, &def.resource, name)),
            };
            let old = self.decode(def, version, &current)?;
            let patched = match (&opts.manager, patch_type) {
                (Some(m), PatchType::Apply) => fieldmanager::apply(def, version, Some(&old), patch, m, subresource)?,
                _ => crate::patch::apply(def, &old, patch_type, patch)?,
            };
            let patched_rv = meta_str(&patched, "resourceVersion").to_string();
            if !patched_rv.is_empty() && patched_rv != current.mod_revision.to_string() {
                return Err(ApiError::modified(&def.group, &def.resource, name));
            }
            if meta_str(&patched, "name") != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    meta_str(&patched, "name")
                )));
            }
            let new = self.prepare_update(def, version, &old, patched, subresource, &patch_opts)?;
            if let Some(done) = self.write_update(def, &key, &old, new, current.mod_revision, opts).await? {
                return Ok(done);
            }
            let explicit_rv = patch.pointer("/metadata/resourceVersion").is_some();
            if explicit_rv {
                return Err(ApiError::modified(&def.group, &def.resource, name));
            }
        }
        Err(ApiError::modified(&def.group, &def.resource, name))
    }

    /// DELETE: immediate, graceful (pods on nodes), or held by finalizers.
    /// Answers the object (or a Success Status) and whether it is gone from storage.
    pub async fn delete(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value> {
        let key = self.object_key(def, namespace, name);
        for _ in 0..UPDATE_RETRIES {
            let (current, mut obj) = self.get_kv(def, version, namespace, name).await?;
            check_preconditions(
                def,
                name,
                &obj,
                current.mod_revision,
                opts.uid.as_deref(),
                opts.resource_version.as_deref(),
            )?;
            let propagation = opts.propagation.unwrap_or_else(|| strategy::default_propagation(def));
            let mut finalizers = meta::finalizers(&obj);
            match propagation {
                Propagation::Orphan if !finalizers.iter().any(|f| f == "orphan") => finalizers.push("orphan".into()),
                Propagation::Foreground if !finalizers.iter().any(|f| f == "foregroundDeletion") => {
                    finalizers.push("foregroundDeletion".into())
                }
                _ => {}
            }
            // Dependents are only orphaned or waited for when there are any; kube adds the
            // finalizer regardless, and the garbage collector removes it.
            let grace = if def.group.is_empty() && def.resource == "pods" {
                strategy::pod_grace_period(&obj, opts.grace_period)
            } else {
                0
            };
            let already_deleting = meta::is_deleting(&obj);
            let is_namespace = def.group.is_empty() && def.resource == "namespaces";
            if is_namespace && matches!(name, "default" | "kube-system" | "kube-public") {
                return Err(ApiError::forbidden("", "namespaces", name, "this namespace may not be deleted"));
            }
            // A namespace with spec.finalizers is emptied by the namespace controller first.
            let held_by_spec = is_namespace
                && obj.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
            if finalizers.is_empty()
                && !held_by_spec
                && (grace == 0 || already_deleting && opts.grace_period == Some(0))
            {
                if opts.dry_run {
                    return Ok(self.delete_answer(def, obj));
                }
                match self.storage.delete(&key, current.mod_revision).await? {
                    Ok(rev) => {
                        meta::set_resource_version(&mut obj, rev);
                        self.after_delete(def, &obj).await;
                        return Ok(self.delete_answer(def, obj));
                    }
                    Err(_) => continue,
                }
            }
            if already_deleting && meta::finalizers(&obj) == finalizers {
                // A second delete of an object already being deleted changes nothing.
                return Ok(obj);
            }
            {
                let m = meta::metadata_mut(&mut obj);
                if !already_deleting {
                    m.insert("deletionTimestamp".into(), json!(deletion_time(grace)));
                    m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                }
                m.insert("finalizers".into(), json!(finalizers));
                meta::drop_empty_metadata(&mut obj);
            }
            if is_namespace {
                obj["status"]["phase"] = json!("Terminating");
            }
            if opts.dry_run {
                return Ok(obj);
            }
            match self.storage.update(&key, Self::encode_for(def, &obj), current.mod_revision).await? {
                Ok(rev) => {
                    meta::set_resource_version(&mut obj, rev);
                    kinds::after_write(self, def, &obj).await;
                    self.changed.notify_waiters();
                    return Ok(obj);
                }
                Err(_) => continue,
            }
        }
        Err(ApiError::modified(&def.group, &def.resource, name))
    }

    fn delete_answer(&self, def: &ResourceDef, obj: Value) -> Value {
        if strategy::returns_deleted_object(def) {
            return obj;
        }
        let mut details = json!({"name": meta_str(&obj, "name"), "kind": def.resource, "uid": meta_str(&obj, "uid")});
        if !def.group.is_empty() {
            details["group"] = json!(def.group);
        }
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
    }

    async fn after_delete(&self, def: &ResourceDef, obj: &Value) {
        self.services.release(def, obj).await;
        kinds::after_delete(self, def, obj).await;
        self.changed.notify_waiters();
    }

    /// DELETECOLLECTION: deletes each object the selectors match; answers the list of what
    /// was deleted, as kube does.
    pub async fn delete_collection(
        &self,
        def: &ResourceDef,
        version: &str,
        namespace: Option<&str>,
        list: &ListOptions,
        opts: &DeleteOptions,
    ) -> Result<Value> {
        let (items, rv, _, _) = self
            .list_items(def, version, namespace, &ListOptions { limit: 0, continue_token: None, ..list.clone() })
            .await?;
        let mut deleted = Vec::new();
        for item in items {
            let ns = meta_str(&item, "namespace").to_string();
            let name = meta_str(&item, "name").to_string();
            match self.delete(def, version, &ns, &name, opts).await {
                Ok(_) => deleted.push(item),
                Err(e) if e.code == http::StatusCode::NOT_FOUND => {}
                Err(e) => return Err(e),
            }
        }
        Ok(json!({
            "kind": format!("{}List", def.kind),
            "apiVersion": def.api_version(version),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": deleted,
        }))
    }
}

fn name_of(obj: &Value) -> String {
    meta_str(obj, "name").to_string()
}

fn deletion_time(grace: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(grace)).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// kube's storage preconditions: the UID and resourceVersion a client expects the object to
/// have (delete options, a Binding's metadata), answered 409 with kube's message.
pub fn check_preconditions(
    def: &ResourceDef,
    name: &str,
    obj: &Value,
    mod_revision: i64,
    uid: Option<&str>,
    resource_version: Option<&str>,
) -> Result<()> {
    if let Some(uid) = uid {
        let actual = meta_str(obj, "uid");
        if uid != actual {
            return Err(ApiError::conflict(
                &def.group,
                &def.resource,
                name,
                &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
            ));
        }
    }
    if let Some(rv) = resource_version {
        if rv != mod_revision.to_string() {
            return Err(ApiError::conflict(
                &def.group,
                &def.resource,
                name,
                &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {mod_revision}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue("default/cm-42", 77);
        let back = decode_continue(&t).unwrap();
        assert_eq!(back.rv, 77);
        assert_eq!(back.start, "default/cm-42\u{0}");
        assert_eq!(decode_continue("%%%").unwrap_err().code.as_u16(), 400);
        let escaping =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"v":"meta.k8s.io/v1","rv":1,"start":"../x"}"#);
        assert!(decode_continue(&escaping).is_err());
    }
}
