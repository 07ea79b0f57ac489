//! The EndpointSlice controller: for every Service with a selector, EndpointSlices
//! (`discovery.k8s.io/v1`) labelled `kubernetes.io/service-name`, owned by the Service (so they
//! go with it) and marked as managed by `endpointslice-controller.k8s.io`, as kube-proxy and
//! DNS servers read them.

pub mod desired;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use serde_json::json;

use crate::controller::{drive, Context};
use crate::endpoints::{self, addresses};
use crate::informers::Informer;

/// The label naming a slice's Service.
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
/// The label naming a slice's manager.
pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's value of [`MANAGED_BY`], kube's.
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";

/// Why a Service's sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create an endpoint slice: {0}")]
    Create(#[source] kube::Error),
    #[error("failed to update endpoint slice {0}: {1}")]
    Update(String, #[source] kube::Error),
    #[error("failed to delete endpoint slice {0}: {1}")]
    Delete(String, #[source] kube::Error),
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    pods: Arc<Informer<Pod>>,
    slices: Arc<Informer<EndpointSlice>>,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let services = ctx.informers.get::<Service>();
    let pods = ctx.informers.get::<Pod>();
    // Only our own slices are cached; slices of other managers are none of our business.
    let slices = ctx
        .informers
        .get_with::<EndpointSlice>(watcher::Config::default().labels(&format!("{MANAGED_BY}={CONTROLLER_NAME}")));
    let svc_store = services.store.clone();
    let slice_store = slices.store.clone();
    let pod_to_services = move |pod: Arc<Pod>| {
        let mut refs = endpoints::services_of(&svc_store, &pod);
        // A pod that stopped matching is found through the slices that still list it.
        for slice in slice_store.state().iter().filter(|s| s.metadata.namespace == pod.metadata.namespace) {
            let lists = slice
                .endpoints
                .iter()
                .any(|e| e.target_ref.as_ref().and_then(|r| r.uid.as_ref()) == pod.metadata.uid.as_ref());
            let service = slice.metadata.labels.as_ref().and_then(|l| l.get(SERVICE_NAME));
            if let (true, Some(service)) = (lists, service) {
                let r =
                    ObjectRef::<Service>::new(service).within(pod.metadata.namespace.as_deref().unwrap_or_default());
                if !refs.contains(&r) {
                    refs.push(r);
                }
            }
        }
        refs
    };
    let controller = Controller::for_shared_stream(services.subscribe(), services.store.clone())
        .watches_shared_stream(pods.subscribe(), pod_to_services)
        .watches_shared_stream(slices.subscribe(), |slice: Arc<EndpointSlice>| {
            let service = slice.metadata.labels.as_ref()?.get(SERVICE_NAME)?;
            Some(ObjectRef::<Service>::new(service).within(slice.metadata.namespace.as_deref()?))
        });
    let state = Arc::new(State { client: ctx.client, pods, slices });
    drive("endpointslice", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

fn labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    if addresses::headless(svc) {
        labels.insert(endpoints::HEADLESS_LABEL.into(), String::new());
    }
    labels.insert(SERVICE_NAME.into(), svc.metadata.name.clone().unwrap_or_default());
    labels.insert(MANAGED_BY.into(), CONTROLLER_NAME.into());
    labels
}

async fn reconcile(svc: Arc<Service>, st: Arc<State>) -> Result<Action, Error> {
    if !addresses::has_selector(&svc) || svc.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let want = desired::compute(&svc, &st.pods.in_namespace(&ns));
    let labels = labels(&svc);
    let mut existing: Vec<Arc<EndpointSlice>> = st
        .slices
        .in_namespace(&ns)
        .into_iter()
        .filter(|s| s.metadata.labels.as_ref().and_then(|l| l.get(SERVICE_NAME)) == Some(&name))
        .filter(|s| s.metadata.deletion_timestamp.is_none())
        .collect();
    existing.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let api: Api<EndpointSlice> = Api::namespaced(st.client.clone(), &ns);
    let mut unused: Vec<Arc<EndpointSlice>> = existing;
    for slice in want {
        // Reuse a slice with the same ports first, else any left over, else create one.
        let same_ports = unused.iter().position(|s| s.ports.clone().unwrap_or_default() == slice.ports);
        let reuse = same_ports.or(if unused.is_empty() { None } else { Some(0) }).map(|i| unused.remove(i));
        match reuse {
            Some(current) => update(&api, &current, &slice, &labels).await?,
            None => {
                let obj = EndpointSlice {
                    metadata: ObjectMeta {
                        generate_name: Some(format!("{name}-")),
                        namespace: Some(ns.clone()),
                        labels: Some(labels.clone()),
                        owner_references: Some(vec![OwnerReference {
                            api_version: "v1".into(),
                            kind: "Service".into(),
                            name: name.clone(),
                            uid: svc.metadata.uid.clone().unwrap_or_default(),
                            controller: Some(true),
                            block_owner_deletion: Some(true),
                        }]),
                        ..Default::default()
                    },
                    address_type: "IPv4".into(),
                    endpoints: slice.endpoints,
                    ports: (!slice.ports.is_empty()).then_some(slice.ports),
                };
                api.create(&PostParams::default(), &obj).await.map_err(Error::Create)?;
            }
        }
    }
    for extra in unused {
        let slice_name = extra.metadata.name.clone().unwrap_or_default();
        match api.delete(&slice_name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(Error::Delete(slice_name, e)),
        }
    }
    Ok(Action::await_change())
}

/// Brings one existing slice to `slice`, if it differs.
async fn update(
    api: &Api<EndpointSlice>,
    current: &EndpointSlice,
    slice: &desired::Slice,
    labels: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let same = current.endpoints == slice.endpoints
        && current.ports.clone().unwrap_or_default() == slice.ports
        && current.metadata.labels.as_ref() == Some(labels);
    if same {
        return Ok(());
    }
    let mut label_patch: serde_json::Map<String, serde_json::Value> =
        current.metadata.labels.iter().flatten().map(|(k, _)| (k.clone(), serde_json::Value::Null)).collect();
    for (k, v) in labels {
        label_patch.insert(k.clone(), json!(v));
    }
    let patch = json!({
        "metadata": { "resourceVersion": current.metadata.resource_version, "labels": label_patch },
        "endpoints": slice.endpoints,
        "ports": if slice.ports.is_empty() { serde_json::Value::Null } else { json!(slice.ports) },
    });
    let name = current.metadata.name.clone().unwrap_or_default();
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::Update(name.clone(), e))?;
    Ok(())
}
