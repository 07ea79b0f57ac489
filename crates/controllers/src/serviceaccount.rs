//! The ServiceAccounts controller: a `default` ServiceAccount in every namespace, recreated
//! when deleted, since pods that name no service account are admitted with it.

use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;

use crate::controller::{drive, Context};
use crate::informers::Informer;

/// The ServiceAccount every namespace gets.
pub const DEFAULT: &str = "default";

/// Why a namespace's sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create the default service account: {0}")]
    Create(#[source] kube::Error),
}

/// What the reconciler reads.
pub struct State {
    client: kube::Client,
    accounts: Arc<Informer<ServiceAccount>>,
}

/// Whether a namespace is being deleted: nothing may be created in it.
pub fn terminating(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating")
}

/// The controller, subscribed to its caches at once; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let namespaces = ctx.informers.get::<Namespace>();
    let accounts = ctx.informers.get::<ServiceAccount>();
    let controller = Controller::for_shared_stream(namespaces.subscribe(), namespaces.store.clone())
        .watches_shared_stream(accounts.subscribe(), |sa: Arc<ServiceAccount>| {
            (sa.metadata.name.as_deref() == Some(DEFAULT))
                .then(|| sa.metadata.namespace.as_deref().map(ObjectRef::<Namespace>::new))
                .flatten()
        });
    let state = Arc::new(State { client: ctx.client, accounts });
    drive("serviceaccount", controller, state, ctx.metrics, ctx.concurrency, reconcile)
}

async fn reconcile(ns: Arc<Namespace>, st: Arc<State>) -> Result<Action, Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    if terminating(&ns) || st.accounts.get(Some(&name), DEFAULT).is_some() {
        return Ok(Action::await_change());
    }
    let sa = ServiceAccount {
        metadata: ObjectMeta { name: Some(DEFAULT.into()), namespace: Some(name.clone()), ..Default::default() },
        ..Default::default()
    };
    match Api::<ServiceAccount>::namespaced(st.client.clone(), &name).create(&PostParams::default(), &sa).await {
        Ok(_) => Ok(Action::await_change()),
        // Already there (the cache lags), or the namespace began terminating meanwhile.
        Err(kube::Error::Api(e))
            if e.code == 409 || (e.code == 403 && e.reason == "Forbidden" && e.message.contains("terminat")) =>
        {
            Ok(Action::await_change())
        }
        Err(e) => Err(Error::Create(e)),
    }
}
