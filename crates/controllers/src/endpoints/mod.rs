//! The Endpoints controller: for every Service with a selector, an Endpoints object of the same
//! name listing its pods' addresses (ready ones under `addresses`, others under
//! `notReadyAddresses`) on the ports the Service targets.

pub mod addresses;
pub mod subsets;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::json;
use tracing::debug;

use crate::controller::{drive, Context};
use crate::informers::Informer;

/// The label kube puts on the Endpoints of a headless Service.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// The label kube (1.33) puts on the Endpoints its controller manages, and its value.
pub const MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";
pub const CONTROLLER_NAME: &str = "endpoint-controller";
/// Endpoints kept by leader election (old-style), never deleted as leftovers.
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";

/// Why a Service's sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create endpoints: {0}")]
    Create(#[source] kube::Error),
    #[error("failed to update endpoints: {0}")]
    Update(#[source] kube::Error),
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    pods: Arc<Informer<Pod>>,
    endpoints: Arc<Informer<Endpoints>>,
}

/// The Services of `pod`'s namespace that select it.
pub fn services_of(services: &Store<Service>, pod: &Pod) -> Vec<ObjectRef<Service>> {
    services.state().iter().filter(|s| addresses::selects(s, pod)).map(|s| ObjectRef::from_obj(s.as_ref())).collect()
}

/// Deletes an object in the background; a controller's stream mappers cannot wait.
fn delete_later(client: &kube::Client, namespace: &str, name: &str) {
    let api: Api<Endpoints> = Api::namespaced(client.clone(), namespace);
    let name = name.to_string();
    tokio::spawn(async move {
        if let Err(e) = api.delete(&name, &DeleteParams::default()).await {
            debug!(endpoints = %name, error = %e, "leftover endpoints not deleted");
        }
    });
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let services = ctx.informers.get::<Service>();
    let pods = ctx.informers.get::<Pod>();
    let endpoints = ctx.informers.get::<Endpoints>();
    let svc_store = services.store.clone();
    let ep_store = endpoints.store.clone();
    // A pod that stops matching is found through the Endpoints that still list it.
    let pod_to_services = move |pod: Arc<Pod>| {
        let mut refs = services_of(&svc_store, &pod);
        let ns = pod.metadata.namespace.clone();
        for ep in ep_store.state().iter().filter(|e| e.metadata.namespace == ns) {
            let lists = ep.subsets.iter().flatten().any(|s| {
                s.addresses
                    .iter()
                    .chain(s.not_ready_addresses.iter())
                    .flatten()
                    .any(|a| a.target_ref.as_ref().and_then(|r| r.uid.as_ref()) == pod.metadata.uid.as_ref())
            });
            if lists {
                let r = ObjectRef::<Service>::new(ep.metadata.name.as_deref().unwrap_or_default())
                    .within(ns.as_deref().unwrap_or_default());
                if !refs.contains(&r) {
                    refs.push(r);
                }
            }
        }
        refs
    };
    // Endpoints whose Service is gone are deleted, as kube does for leftovers after a restart.
    let (svc_store, client) = (services.store.clone(), ctx.client.clone());
    let endpoints_to_service = move |ep: Arc<Endpoints>| {
        let ns = ep.metadata.namespace.clone().unwrap_or_default();
        let name = ep.metadata.name.clone().unwrap_or_default();
        let r = ObjectRef::<Service>::new(&name).within(&ns);
        let leader = ep.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(LEADER_ANNOTATION));
        if svc_store.get(&r).is_none() && !leader && ep.metadata.deletion_timestamp.is_none() {
            delete_later(&client, &ns, &name);
        }
        Some(r)
    };
    // A deleted Service takes its Endpoints along.
    let (svc_store, client) = (services.store.clone(), ctx.client.clone());
    let trigger = services.subscribe().filter_map(move |svc: Arc<Service>| {
        let gone = svc_store.get(&ObjectRef::from_obj(svc.as_ref())).is_none();
        if gone && addresses::has_selector(&svc) {
            delete_later(
                &client,
                svc.metadata.namespace.as_deref().unwrap_or_default(),
                svc.metadata.name.as_deref().unwrap_or_default(),
            );
        }
        futures::future::ready((!gone).then_some(svc))
    });
    let controller = Controller::for_shared_stream(trigger, services.store.clone())
        .watches_shared_stream(pods.subscribe(), pod_to_services)
        .watches_shared_stream(endpoints.subscribe(), endpoints_to_service);
    let state = Arc::new(State { client: ctx.client, pods, endpoints });
    drive("endpoint", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

/// The labels of a Service's Endpoints: the Service's own, the headless mark and the manager.
fn labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    labels.insert(MANAGED_BY.into(), CONTROLLER_NAME.into());
    if addresses::headless(svc) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
    labels
}

async fn reconcile(svc: Arc<Service>, st: Arc<State>) -> Result<Action, Error> {
    if !addresses::has_selector(&svc) || svc.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let subsets = subsets::compute(&svc, &st.pods.in_namespace(&ns));
    let labels = labels(&svc);
    let api: Api<Endpoints> = Api::namespaced(st.client.clone(), &ns);
    let Some(current) = st.endpoints.get(Some(&ns), &name) else {
        let ep = Endpoints {
            metadata: ObjectMeta { name: Some(name), namespace: Some(ns), labels: Some(labels), ..Default::default() },
            subsets: (!subsets.is_empty()).then_some(subsets),
        };
        return match api.create(&PostParams::default(), &ep).await {
            Ok(_) => Ok(Action::await_change()),
            // Created meanwhile; the watch brings it and the next sync compares.
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Action::await_change()),
            Err(e) => Err(Error::Create(e)),
        };
    };
    let same_subsets = current.subsets.clone().unwrap_or_default() == subsets;
    let same_labels = current.metadata.labels.clone().unwrap_or_default() == labels;
    if same_subsets && same_labels {
        return Ok(Action::await_change());
    }
    // Labels the Service dropped are removed; subsets are replaced whole by a merge patch.
    let mut label_patch: serde_json::Map<String, serde_json::Value> =
        current.metadata.labels.iter().flatten().map(|(k, _)| (k.clone(), serde_json::Value::Null)).collect();
    for (k, v) in &labels {
        label_patch.insert(k.clone(), json!(v));
    }
    let patch = json!({
        "metadata": { "resourceVersion": current.metadata.resource_version, "labels": label_patch },
        "subsets": if subsets.is_empty() { serde_json::Value::Null } else { json!(subsets) },
    });
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.map_err(Error::Update)?;
    Ok(Action::await_change())
}
