//! Pure conversions of nestor-syncer: tenant objects to the super objects they ask for, super
//! objects merged with those, and status, events and nodes back up. JSON in, JSON out, no I/O.
//!
//! Ownership decides every rule: the tenant owns spec and metadata, the super cluster owns status
//! and whatever its API server and controllers assign (uid, clusterIP, nodeName, node ports,
//! volumeName, admission defaults).

use std::collections::BTreeMap;

use serde_json::Value;

mod event;
mod json;
mod meta;
mod node;
mod pod;
mod service;
mod simple;
mod status;

pub use event::{event_up, Involved};
pub use node::{merge_virtual_node, virtual_node, virtual_node_in_line, virtual_node_status, visible_change};

use json::Map;

/// The kinds synced downward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Namespace,
    Pod,
    Service,
    Endpoints,
    ConfigMap,
    Secret,
    ServiceAccount,
    PersistentVolumeClaim,
    Custom,
}

/// What the runtime knows when it turns a tenant object into a super object.
pub struct Downward<'a> {
    /// Name of the super object (already mapped by the naming module).
    pub name: &'a str,
    /// Super namespace; None for cluster-scoped objects (Namespace, cluster-scoped custom resources).
    pub namespace: Option<&'a str>,
    /// Labels and annotations the runtime adds (the marks, all under `nestor.dev/`).
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
    /// Host and port at which pods on the super cluster's nodes reach the tenant API server.
    pub apiserver: Option<(&'a str, i32)>,
    /// Maps a referenced tenant object name of a kind ("ConfigMap", "ServiceAccount", "Secret")
    /// to its super name; None when it is not synced (then leave the reference unchanged).
    pub rename: &'a dyn Fn(&str, &str) -> Option<String>,
    /// Name of a super Secret that holds the tenant service-account token for this pod under key
    /// `token`, when the runtime has one.
    pub token_secret: Option<&'a str>,
}

impl Downward<'_> {
    /// The super name of a referenced tenant object (unchanged when the runtime does not map it).
    fn renamed(&self, kind: &str, name: &str) -> String {
        (self.rename)(kind, name).unwrap_or_else(|| name.to_string())
    }
}

/// The super object `tenant` asks for.
pub fn desired(kind: Kind, tenant: &Value, ctx: &Downward) -> Value {
    let mut out = Map::new();
    for key in ["apiVersion", "kind"] {
        if let Some(v) = tenant.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("metadata".into(), Value::Object(meta::desired(kind, tenant, ctx)));
    match kind {
        Kind::Namespace => {}
        Kind::Pod => pod::desired(&mut out, tenant, ctx),
        Kind::Service => service::desired(&mut out, tenant),
        Kind::Endpoints => simple::endpoints_desired(&mut out, tenant),
        Kind::ConfigMap => simple::configmap_desired(&mut out, tenant),
        Kind::Secret => simple::secret_desired(&mut out, tenant),
        Kind::ServiceAccount => simple::serviceaccount_desired(&mut out, tenant, ctx),
        Kind::PersistentVolumeClaim => simple::pvc_desired(&mut out, tenant),
        Kind::Custom => simple::custom_desired(&mut out, tenant),
    }
    Value::Object(out)
}

/// `actual` (the super object as stored) with every tenant-owned field set from `desired`, or
/// `None` when that changes nothing; fields the super cluster owns or assigns (status, uid,
/// resourceVersion, clusterIP, nodeName, node ports, volumeName, admission defaults ...) are
/// kept from `actual`. The result is a valid PUT body for the super API server (immutable pod
/// spec fields unchanged except those kube allows to change).
pub fn changes(kind: Kind, actual: &Value, desired: &Value) -> Option<Value> {
    let actual_map = actual.as_object()?;
    let mut out = actual_map.clone();
    meta::merge(kind, &mut out, desired);
    match kind {
        Kind::Namespace => {}
        Kind::Pod => pod::merge(&mut out, desired),
        Kind::Service => service::merge(&mut out, desired),
        Kind::Endpoints => simple::endpoints_merge(&mut out, desired),
        Kind::ConfigMap => simple::configmap_merge(&mut out, desired),
        Kind::Secret => simple::secret_merge(&mut out, desired),
        Kind::ServiceAccount => simple::serviceaccount_merge(&mut out, desired),
        Kind::PersistentVolumeClaim => simple::pvc_merge(&mut out, desired),
        Kind::Custom => simple::custom_merge(&mut out, desired),
    }
    (&out != actual_map).then_some(Value::Object(out))
}

/// What [`changes`] makes of `actual`: `actual` itself when nothing changes.
#[cfg(test)]
pub fn merge(kind: Kind, actual: &Value, desired: &Value) -> Value {
    changes(kind, actual, desired).unwrap_or_else(|| actual.clone())
}

/// The tenant status that the super object's status asks for; None when the tenant's status
/// already says the same, when the super object has no status yet, or when the kind has no
/// status flowing up (Namespace, ConfigMap, Secret, ServiceAccount, Endpoints).
pub fn status_up(kind: Kind, super_obj: &Value, tenant_obj: &Value) -> Option<Value> {
    status::up(kind, super_obj, tenant_obj)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KINDS: [Kind; 9] = [
        Kind::Namespace,
        Kind::Pod,
        Kind::Service,
        Kind::Endpoints,
        Kind::ConfigMap,
        Kind::Secret,
        Kind::ServiceAccount,
        Kind::PersistentVolumeClaim,
        Kind::Custom,
    ];

    #[test]
    fn malformed_objects_never_panic() {
        let labels = BTreeMap::new();
        let annotations = BTreeMap::new();
        let rename = |_: &str, _: &str| None;
        let ctx = Downward {
            name: "x",
            namespace: Some("k-x"),
            labels: &labels,
            annotations: &annotations,
            apiserver: Some(("10.0.0.1", 443)),
            rename: &rename,
            token_secret: Some("t"),
        };
        let odd = [
            json!(null),
            json!([]),
            json!({"metadata": 3, "spec": "x"}),
            json!({"spec": {"containers": [1, {"env": "x"}], "volumes": [{"projected": {"sources": [2]}}]}}),
        ];
        for kind in KINDS {
            for v in &odd {
                let d = desired(kind, v, &ctx);
                assert_eq!(d["metadata"]["name"], "x");
                let _ = merge(kind, v, &d);
                let _ = merge(kind, &d, v);
                let _ = status_up(kind, v, &d);
            }
        }
        assert_eq!(merge(Kind::Pod, &json!("not an object"), &json!({})), json!("not an object"));
        let _ = virtual_node(&json!([]));
        let _ = merge_virtual_node(&json!({"spec": 1}), &json!(null));
        let _ = event_up(&json!(7), &Involved { api_version: "v1", kind: "Pod", namespace: "a", name: "b", uid: "c" });
    }

    #[test]
    fn merge_of_desired_onto_itself_is_stable_for_every_kind() {
        let labels = BTreeMap::from([("nestor.dev/cluster".to_string(), "k".to_string())]);
        let annotations = BTreeMap::new();
        let rename = |_: &str, _: &str| None;
        let ctx = Downward {
            name: "x",
            namespace: Some("k-x"),
            labels: &labels,
            annotations: &annotations,
            apiserver: None,
            rename: &rename,
            token_secret: None,
        };
        let tenant = json!({"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "x", "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "i"}], "ports": [{"port": 80}], "resources": {}},
            "data": {"k": "v"}, "subsets": []});
        for kind in KINDS {
            let d = desired(kind, &tenant, &ctx);
            assert_eq!(changes(kind, &d, &d), None, "{kind:?}");
            let mut edited = d.clone();
            edited["metadata"]["labels"]["a"] = json!("edited by hand");
            assert_eq!(changes(kind, &edited, &d), Some(d.clone()), "{kind:?}");
        }
    }
}
