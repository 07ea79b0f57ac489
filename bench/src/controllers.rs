//! nestor-controllers: a Deployment scaled from 0 to 1,000 pods against the same pods created
//! directly, and its memory idle and with 10,000 pods in its caches.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams, PostParams};
use nestor_testkit::tenancy::{self, http_get, metric_sum};
use nestor_testkit::{binary, eventually, Cluster, Process};
use serde_json::json;

use crate::measure::{anonymous, memory, size};
use crate::pods::{all_running, create, namespace, watch, Clock, Milestone};

/// The Deployment `bench` in namespace `deploy` with `replicas` pods shaped like the direct ones.
fn deployment(replicas: usize) -> Result<Deployment> {
    Ok(serde_json::from_value(json!({
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"bench": "pods"}},
            "template": {
                "metadata": {"labels": {"bench": "pods"}},
                "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]},
            },
        },
    }))?)
}

async fn scale(client: &kube::Client, replicas: usize) -> Result<()> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), "deploy");
    api.patch("bench", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": replicas}}))).await?;
    Ok(())
}

/// Pods in the controllers' cache, from their metrics.
async fn cached_pods(addr: &str) -> f64 {
    let text = http_get(addr, "/metrics").await.unwrap_or_default();
    metric_sum(&text, "nestor_controllers_cached_objects", &["kind=\"pods\""])
}

pub async fn run(report: &mut String) -> Result<()> {
    let pods = size("NESTOR_BENCH_DEPLOY_PODS", 1000);
    let cached = size("NESTOR_BENCH_CACHED_PODS", 10_000);
    let concurrency = 64;
    println!("controllers bench: {pods} pods, then {cached} cached");

    let cluster = Cluster::start().await?;
    let nodes = cached.div_ceil(200).max(3);
    let _nodesim = tenancy::spawn_nodesim(&cluster, u32::try_from(nodes)?, &["--max-pods=250"])?;
    let client = cluster.client().await?;
    let log = cluster.dir().join("controllers.log");
    let args = [
        format!("--kubeconfig={}", cluster.kubeconfig().display()),
        "--metrics-addr=127.0.0.1:0".to_string(),
        format!("--root-ca-file={}", cluster.dir().join("ca.crt").display()),
    ];
    let bin = binary("nestor-controllers")?;
    // The cargo profile it was built with, from the folder cargo put it in.
    let profile = bin.parent().and_then(|d| d.file_name()).map_or("unknown".into(), |d| d.to_string_lossy());
    let controllers = Process::spawn("nestor-controllers", &bin, &args, &log)?;
    let pid = controllers.pid().context("controllers pid")?;
    let addr = tenancy::logged_addr(&log, "serving metrics").await?;
    let clock = Clock::default();

    // 1. Idle: caches synced, one Deployment at 0 replicas, before any pod came and went (the
    //    allocator keeps memory it once used).
    namespace(&client, "deploy").await?;
    Api::<Deployment>::namespaced(client.clone(), "deploy").create(&PostParams::default(), &deployment(0)?).await?;
    eventually(Duration::from_secs(60), "the controllers' caches synced", || async {
        std::fs::read_to_string(&log).ok()?.contains("caches synced").then_some(())
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle, _) = memory(pid);
    let idle_anon = anonymous(pid);

    // 2. The pods created directly, as many concurrent clients would.
    namespace(&client, "direct").await?;
    watch(client.clone(), Some("direct".into()), "direct".into(), clock.clone(), Milestone::Ready).await?;
    let jobs =
        (0..pods).map(|p| (client.clone(), "direct".to_string(), "direct".to_string(), format!("p{p}"))).collect();
    create(jobs, concurrency, &clock).await?;
    all_running(&clock, "direct/", pods, "direct pods Ready").await?;
    let (_, direct) = clock.latencies("direct/");
    println!("direct: {pods} pods Ready in {:.1}s", direct.as_secs_f64());
    Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone()).delete("direct", &Default::default()).await?;

    eventually(Duration::from_secs(60), "the direct pods gone from the caches", || async {
        (cached_pods(&addr).await == 0.0).then_some(())
    })
    .await?;

    // 3. The Deployment scaled from 0.
    watch(client.clone(), Some("deploy".into()), "deploy".into(), clock.clone(), Milestone::Ready).await?;
    clock.mark("deploy/scaled");
    scale(&client, pods).await?;
    all_running(&clock, "deploy/", pods, "the Deployment's pods Ready").await?;
    let (_, through) = clock.latencies("deploy/");
    println!("deployment: {pods} pods Ready in {:.1}s", through.as_secs_f64());

    // 4. Memory with many pods in the caches.
    let started = Instant::now();
    scale(&client, cached).await?;
    eventually(Duration::from_secs(900), "the pods cached", || async {
        (cached_pods(&addr).await >= cached as f64).then_some(())
    })
    .await?;
    all_running(&clock, "deploy/", cached, "every pod Ready").await?;
    let full_scale = started.elapsed();
    let (full, peak) = memory(pid);
    println!("{cached} pods: RSS {full:.1} MiB (peak {peak:.1}), scaled in {:.1}s", full_scale.as_secs_f64());
    drop(controllers);

    let ratio = through.as_secs_f64() / direct.as_secs_f64().max(f64::EPSILON);
    writeln!(
        report,
        "## nestor-controllers\n\nOne nestor-apiserver with etcd, nestor-nodesim with {nodes} nodes, nestor-controllers (cargo profile `{profile}`; the others release builds). Ready is when a pod watch first shows its Ready condition True.\n\n\
| {pods} pods | all Ready after |\n|---|---|\n\
| created directly ({concurrency} concurrent clients) | {:.1} s |\n\
| a Deployment scaled 0 → {pods} | {:.1} s |\n\
| ratio | **{ratio:.2}** |\n\n\
| nestor-controllers | figure | goal |\n|---|---|---|\n\
| RSS idle (one Deployment, {nodes} nodes, caches synced) | **{idle:.1} MiB**, of which {idle_anon:.1} MiB its own (the rest: pages of the binary, shared by every nestor-controllers on the machine) | < 15 MiB (kube-controller-manager: about 100 MiB) |\n\
| RSS with {cached} pods in its caches (all Ready) | {full:.1} MiB (peak {peak:.1} MiB) | |\n\
| RSS per cached pod | {:.2} KiB | |\n\
| the Deployment scaled {pods} → {cached}, all Ready | {:.1} s | |\n",
        direct.as_secs_f64(),
        through.as_secs_f64(),
        (full - idle).max(0.0) * 1024.0 / cached as f64,
        full_scale.as_secs_f64(),
    )?;
    Ok(())
}
