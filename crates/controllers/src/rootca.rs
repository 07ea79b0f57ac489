//! The root CA publisher: ConfigMap `kube-root-ca.crt` (key `ca.crt`) in every namespace, so
//! pods can verify the API server, as kube-controller-manager's root-ca-cert-publisher does.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use serde_json::json;

use crate::controller::{drive, Context};
use crate::informers::Informer;
use crate::serviceaccount::terminating;

/// The ConfigMap's name.
pub const NAME: &str = "kube-root-ca.crt";
/// Its key holding the PEM bundle.
pub const KEY: &str = "ca.crt";
const DESCRIPTION_KEY: &str = "kubernetes.io/description";
/// The description kube writes on the ConfigMap.
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// Why a namespace's sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create {NAME}: {0}")]
    Create(#[source] kube::Error),
    #[error("failed to update {NAME}: {0}")]
    Update(#[source] kube::Error),
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    configmaps: Arc<Informer<ConfigMap>>,
    ca: String,
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context, ca: String) -> impl Future<Output = ()> {
    let namespaces = ctx.informers.get::<Namespace>();
    // Only this one ConfigMap per namespace is cached, not every ConfigMap of the cluster.
    let configmaps =
        ctx.informers.get_with::<ConfigMap>(watcher::Config::default().fields(&format!("metadata.name={NAME}")));
    let controller = Controller::for_shared_stream(namespaces.subscribe(), namespaces.store.clone())
        .watches_shared_stream(configmaps.subscribe(), |cm: Arc<ConfigMap>| {
            (cm.metadata.name.as_deref() == Some(NAME))
                .then(|| cm.metadata.namespace.as_deref().map(ObjectRef::<Namespace>::new))
                .flatten()
        });
    let state = Arc::new(State { client: ctx.client, configmaps, ca });
    drive("root-ca-cert-publisher", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

async fn reconcile(ns: Arc<Namespace>, st: Arc<State>) -> Result<Action, Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    if terminating(&ns) {
        return Ok(Action::await_change());
    }
    let api: Api<ConfigMap> = Api::namespaced(st.client.clone(), &name);
    let Some(existing) = st.configmaps.get(Some(&name), NAME) else {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(NAME.into()),
                namespace: Some(name.clone()),
                annotations: Some(BTreeMap::from([(DESCRIPTION_KEY.to_string(), DESCRIPTION.to_string())])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(KEY.to_string(), st.ca.clone())])),
            ..Default::default()
        };
        return match api.create(&PostParams::default(), &cm).await {
            Ok(_) => Ok(Action::await_change()),
            Err(kube::Error::Api(e)) if e.code == 409 || e.code == 403 => Ok(Action::await_change()),
            Err(e) => Err(Error::Create(e)),
        };
    };
    let data_ok = existing.data.as_ref().and_then(|d| d.get(KEY)) == Some(&st.ca)
        && existing.data.as_ref().is_some_and(|d| d.len() == 1);
    let described = existing.metadata.annotations.as_ref().and_then(|a| a.get(DESCRIPTION_KEY)).is_some();
    if data_ok && described {
        return Ok(Action::await_change());
    }
    // The publisher owns the data: any other key under it is removed.
    let mut data: serde_json::Map<String, serde_json::Value> =
        existing.data.iter().flatten().map(|(k, _)| (k.clone(), serde_json::Value::Null)).collect();
    data.insert(KEY.into(), json!(st.ca));
    let patch = json!({
        "metadata": { "resourceVersion": existing.metadata.resource_version, "annotations": { DESCRIPTION_KEY: DESCRIPTION } },
        "data": data,
    });
    api.patch(NAME, &PatchParams::default(), &Patch::Merge(&patch)).await.map_err(Error::Update)?;
    Ok(Action::await_change())
}
