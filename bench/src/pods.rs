//! Pods in benchmarks: creating them, and clocking when each one is asked for and when it is
//! first seen Running (or Ready).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use nestor_testkit::eventually;
use serde_json::json;

/// When each pod was asked for and when it was first seen Running, by "<tenant>/<ns>/<name>".
#[derive(Default, Clone)]
pub struct Clock {
    created: Arc<Mutex<HashMap<String, Instant>>>,
    running: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Clock {
    /// Per-pod create-to-Running times of the pods whose key starts with `prefix`, sorted,
    /// and the time from the first create to the last Running.
    pub fn latencies(&self, prefix: &str) -> (Vec<Duration>, Duration) {
        let created = self.created.lock().map(|c| c.clone()).unwrap_or_default();
        let running = self.running.lock().map(|r| r.clone()).unwrap_or_default();
        let mut lat: Vec<Duration> = created
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .filter_map(|(k, at)| running.get(k).map(|r| r.saturating_duration_since(*at)))
            .collect();
        lat.sort();
        let first = created.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, t)| *t).min();
        let last = running.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, t)| *t).max();
        let total = match (first, last) {
            (Some(f), Some(l)) => l.saturating_duration_since(f),
            _ => Duration::ZERO,
        };
        (lat, total)
    }

    /// Marks `key` as asked for now: for pods a controller creates, the moment it was asked to.
    pub fn mark(&self, key: &str) {
        if let Ok(mut created) = self.created.lock() {
            created.insert(key.to_string(), Instant::now());
        }
    }

    /// When the pod `name` was first seen at the milestone watched under `tag`, in any namespace.
    pub fn reached(&self, tag: &str, name: &str) -> Option<Instant> {
        let running = self.running.lock().ok()?;
        running
            .iter()
            .find(|(k, _)| k.starts_with(&format!("{tag}/")) && k.ends_with(&format!("/{name}")))
            .map(|(_, t)| *t)
    }

    /// When `key` was asked for.
    pub fn asked(&self, key: &str) -> Option<Instant> {
        self.created.lock().ok()?.get(key).copied()
    }

    pub fn running_count(&self, prefix: &str) -> usize {
        self.running.lock().map(|r| r.keys().filter(|k| k.starts_with(prefix)).count()).unwrap_or(0)
    }
}

pub fn pod(name: &str) -> Pod {
    let value = json!({
        "metadata": {"name": name, "labels": {"bench": "pods"}},
        "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]},
    });
    serde_json::from_value(value).unwrap_or_default()
}

pub async fn namespace(client: &kube::Client, name: &str) -> Result<()> {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}}))?;
    match Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The moment of a pod's life a benchmark clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// The pod exists.
    Seen,
    /// The pod has a node (`spec.nodeName`).
    Bound,
    /// `status.phase` is Running.
    Running,
    /// The Ready condition is True.
    Ready,
}

impl Milestone {
    fn reached(self, pod: &serde_json::Value) -> bool {
        match self {
            Milestone::Seen => true,
            Milestone::Bound => pod["spec"]["nodeName"].as_str().is_some_and(|n| !n.is_empty()),
            Milestone::Running => pod["status"]["phase"] == "Running",
            Milestone::Ready => pod["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True")),
        }
    }
}

/// Records when pods of one namespace (`None`: all) turn Running, keyed under `tag`.
pub async fn watch_running(client: kube::Client, namespace: Option<String>, tag: String, clock: Clock) -> Result<()> {
    watch(client, namespace, tag, clock, Milestone::Running).await
}

/// Records when pods labelled `bench=pods` of one namespace (`None`: all) reach `milestone`,
/// keyed under `tag`.
pub async fn watch(
    client: kube::Client,
    namespace: Option<String>,
    tag: String,
    clock: Clock,
    milestone: Milestone,
) -> Result<()> {
    let path = match &namespace {
        Some(ns) => format!("/api/v1/namespaces/{ns}/pods?watch=true&labelSelector=bench%3Dpods&resourceVersion=0"),
        None => "/api/v1/pods?watch=true&labelSelector=bench%3Dpods&resourceVersion=0".to_string(),
    };
    let mut lines = nestor_testkit::watch_lines(&client, &path).await?;
    tokio::spawn(async move {
        while let Some(event) = lines.next().await {
            let object = &event["object"];
            if milestone.reached(object) {
                let key = format!(
                    "{tag}/{}/{}",
                    object["metadata"]["namespace"].as_str().unwrap_or_default(),
                    object["metadata"]["name"].as_str().unwrap_or_default()
                );
                if let Ok(mut running) = clock.running.lock() {
                    running.entry(key).or_insert_with(Instant::now);
                }
            }
        }
    });
    Ok(())
}

/// Creates `(client, tag, namespace, name)` pods with `concurrency` requests in flight.
pub async fn create(
    jobs: Vec<(kube::Client, String, String, String)>,
    concurrency: usize,
    clock: &Clock,
) -> Result<()> {
    let results: Vec<Result<()>> = futures::stream::iter(jobs)
        .map(|(client, tag, ns, name)| {
            let clock = clock.clone();
            async move {
                let key = format!("{tag}/{ns}/{name}");
                if let Ok(mut created) = clock.created.lock() {
                    created.insert(key, Instant::now());
                }
                Api::<Pod>::namespaced(client, &ns).create(&PostParams::default(), &pod(&name)).await?;
                Ok(())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.into_iter().collect()
}

pub async fn all_running(clock: &Clock, prefix: &str, count: usize, what: &str) -> Result<()> {
    eventually(Duration::from_secs(900), what, || async { (clock.running_count(prefix) >= count).then_some(()) }).await
}
