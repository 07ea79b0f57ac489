//! What every controller shares: its context, and the loop that drives a kube-runtime
//! `Controller` with metrics and a small error policy.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::Resource;
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

use nestor_api::runtime::errors::is_conflict;

use crate::informers::Informers;
use crate::metrics::Metrics;

/// What a controller is started with.
#[derive(Clone)]
pub struct Context {
    pub client: kube::Client,
    pub informers: Arc<Informers>,
    pub metrics: Arc<Metrics>,
    pub concurrency: u16,
}

/// How long a failed reconcile waits before it is retried. kube-controller-manager's work queues
/// back off exponentially from 5 ms; a fixed short delay is enough here since every failure
/// also comes back through the watch.
const RETRY: Duration = Duration::from_secs(2);

/// How long a sync that lost an optimistic-concurrency race waits.
const CONFLICT_RETRY: Duration = Duration::from_millis(200);

/// Runs `controller` with `reconcile` until its trigger streams end, counting each reconcile
/// in the metrics of controller `name`.
pub async fn drive<K, S, F, Fut, E>(
    name: &'static str,
    controller: Controller<K>,
    state: Arc<S>,
    metrics: Arc<Metrics>,
    concurrency: u16,
    reconcile: F,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    S: Send + Sync + 'static,
    F: Fn(Arc<K>, Arc<S>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let reconcile = Arc::new(reconcile);
    let run_metrics = Arc::clone(&metrics);
    let wrapped = move |obj: Arc<K>, state: Arc<S>| {
        let reconcile = Arc::clone(&reconcile);
        let metrics = Arc::clone(&run_metrics);
        async move {
            let started = Instant::now();
            let _guard = metrics.in_flight(name);
            let result = reconcile(obj, state).await;
            metrics.reconciled(name, started.elapsed(), result.is_ok());
            result
        }
    };
    let error_policy = move |obj: Arc<K>, error: &E, _: Arc<S>| {
        let name_of = obj.meta().name.clone().unwrap_or_default();
        let namespace = obj.meta().namespace.clone().unwrap_or_default();
        if is_conflict(error) {
            // A write carried a resourceVersion the cache had not caught up with: the watch
            // event that brings the newer one is on its way. Routine, not worth a warning.
            debug!(controller = name, %namespace, name = %name_of, "stale cache; retrying");
            return Action::requeue(CONFLICT_RETRY);
        }
        warn!(controller = name, %namespace, name = %name_of, error = %error, "sync failed; retrying");
        Action::requeue(RETRY)
    };
    controller
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .run(wrapped, error_policy, state)
        .for_each(|result| async move {
            if let Err(e) = result {
                debug!(controller = name, error = %e, "reconcile not run");
            }
        })
        .await;
}
