//! The ReplicationController controller: a ReplicationController is read as the ReplicaSet it
//! is equivalent to (its selector map becomes `matchLabels`; its status has the same fields)
//! and synced by the ReplicaSet logic, with owner references, events and status written as
//! `v1` ReplicationController, component `replication-controller`.

use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::runtime::controller::{Action, Controller};
use serde_json::json;

use super::{Error, Flavor, State};
use crate::controller::{drive, Context};
use crate::events;
use crate::expectations::Expectations;

/// ReplicationControllers (`v1`).
pub const REPLICATION_CONTROLLER: Flavor = Flavor {
    about: events::About { component: "replication-controller", kind: "ReplicationController", api_version: "v1" },
};

/// The ReplicaSet a ReplicationController is equivalent to, if it reads as one.
pub fn as_replica_set(rc: &ReplicationController) -> Option<ReplicaSet> {
    let mut v = serde_json::to_value(rc).ok()?;
    // The API server defaults a missing selector to the template's labels.
    let selector = rc
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone().or_else(|| s.template.as_ref()?.metadata.as_ref()?.labels.clone()))
        .unwrap_or_default();
    v["apiVersion"] = json!("apps/v1");
    v["kind"] = json!("ReplicaSet");
    v["spec"]["selector"] = json!({ "matchLabels": selector });
    if v["status"].is_null() {
        v["status"] = json!({ "replicas": 0 });
    }
    serde_json::from_value(v).ok()
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let controllers = ctx.informers.get::<ReplicationController>();
    let pods = ctx.informers.get::<Pod>();
    let controller = Controller::for_shared_stream(controllers.subscribe(), controllers.store.clone())
        .owns_shared_stream(pods.subscribe());
    let state = Arc::new(State {
        client: ctx.client,
        pods,
        replicasets: None,
        expectations: Expectations::default(),
        flavor: REPLICATION_CONTROLLER,
    });
    drive("replicationcontroller", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

async fn reconcile(rc: Arc<ReplicationController>, st: Arc<State>) -> Result<Action, Error> {
    match as_replica_set(&rc) {
        Some(rs) => super::reconcile(Arc::new(rs), st).await,
        None => Ok(Action::await_change()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodTemplateSpec, ReplicationControllerSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn reads_as_a_replica_set() {
        let rc = ReplicationController {
            metadata: ObjectMeta { name: Some("rc".into()), generation: Some(2), ..Default::default() },
            spec: Some(ReplicationControllerSpec {
                replicas: Some(2),
                selector: None,
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("app".to_string(), "x".to_string())].into()),
                        ..Default::default()
                    }),
                    spec: None,
                }),
                ..Default::default()
            }),
            status: None,
        };
        let rs = as_replica_set(&rc).unwrap_or_default();
        let spec = rs.spec.unwrap_or_default();
        assert_eq!(spec.replicas, Some(2));
        assert_eq!(spec.selector.match_labels.unwrap_or_default()["app"], "x");
        assert_eq!(rs.metadata.generation, Some(2));
    }
}
