//! Events as kube's controllers record them (core/v1, `source.component` the controller's
//! name), so `kubectl describe` shows them. An event that cannot be written is logged and
//! dropped: events are best effort.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::Resource;
use serde_json::json;
use tracing::debug;

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Normal,
    Warning,
}

/// What an event is about.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    /// The controller, e.g. `deployment-controller`.
    pub component: &'a str,
    pub kind: &'a str,
    pub api_version: &'a str,
}

/// Records an event about `obj` in the background, as client-go's broadcaster does: a
/// controller never waits for its events.
pub fn record<K>(client: &kube::Client, about: About<'_>, obj: &K, type_: Type, reason: &str, message: &str)
where
    K: Resource,
{
    let About { component, kind, api_version } = about;
    let meta = obj.meta();
    let namespace = meta.namespace.clone().unwrap_or_else(|| "default".to_string());
    let name = meta.name.clone().unwrap_or_default();
    let now = Timestamp::now();
    let stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            // client-go names events `<object>.<nanoseconds in hex>`.
            "name": format!("{}.{:x}", name, now.as_nanosecond()),
            "namespace": namespace,
        },
        "involvedObject": {
            "apiVersion": api_version,
            "kind": kind,
            "namespace": meta.namespace,
            "name": name,
            "uid": meta.uid,
            "resourceVersion": meta.resource_version,
        },
        "reason": reason,
        "message": message,
        "type": match type_ { Type::Normal => "Normal", Type::Warning => "Warning" },
        "source": { "component": component },
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "reportingComponent": component,
        "reportingInstance": "",
    });
    let Ok(event) = serde_json::from_value::<Event>(event) else { return };
    let api: Api<Event> = Api::namespaced(client.clone(), &namespace);
    let reason = reason.to_string();
    tokio::spawn(async move {
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            debug!(error = %e, reason, "event not recorded");
        }
    });
}
