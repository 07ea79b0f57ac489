//! Events about pods (`Scheduled`, `FailedScheduling`, `Started`, ...), so `kubectl describe`
//! tells the same story it tells on a real cluster. Recording is best effort: an event that
//! cannot be written is logged and dropped, never retried, as client-go's recorder does.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tracing::debug;

use crate::key::PodKey;
use crate::time::now_secs;

/// Writes events for one component (`default-scheduler`, `kubelet`).
#[derive(Clone)]
pub struct Recorder {
    client: kube::Client,
    component: String,
}

impl Recorder {
    /// A recorder reporting as `component`.
    pub fn new(client: kube::Client, component: &str) -> Self {
        Recorder { client, component: component.to_string() }
    }

    /// Records an event about a pod in the background; `host` is the node for kubelet events.
    pub fn pod(&self, key: &PodKey, uid: &str, kind: &str, reason: &str, message: String, host: Option<&str>) {
        let now = now_secs();
        let event = Event {
            metadata: ObjectMeta {
                // kube names events `<object>.<unique hex>`.
                name: Some(format!("{}.{:x}", key.name, Timestamp::now().as_nanosecond())),
                namespace: Some(key.namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(key.name.clone()),
                namespace: Some(key.namespace.clone()),
                uid: Some(uid.to_string()),
                ..Default::default()
            },
            reason: Some(reason.to_string()),
            message: Some(message),
            type_: Some(kind.to_string()),
            source: Some(EventSource { component: Some(self.component.clone()), host: host.map(str::to_string) }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            count: Some(1),
            reporting_component: Some(self.component.clone()),
            reporting_instance: Some(host.unwrap_or(&self.component).to_string()),
            ..Default::default()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &key.namespace);
        let pod = key.to_string();
        tokio::spawn(async move {
            if let Err(e) = api.create(&PostParams::default(), &event).await {
                debug!(%pod, error = %e, "event not recorded");
            }
        });
    }
}
