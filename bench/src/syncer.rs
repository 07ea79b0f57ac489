//! The syncer: pods created through tenant control planes against the same pods created
//! straight in the super cluster, its memory per synced pod, how fast a restarted syncer
//! converges, and how a quiet tenant fares next to flooding ones.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use nestor_testkit::tenancy::{self, http_get, metric_sum};
use nestor_testkit::{eventually, Cluster, Etcd, Options, Process};

use crate::measure::{memory, ms, percentile, size, CpuGroups};
use crate::pods::{all_running, create, namespace, watch, watch_running, Clock, Milestone};

/// Sizes, from the environment so a quick run can be smaller.
struct Sizes {
    tenants: usize,
    pods: usize,
    flooders: usize,
    flood: usize,
    quiet: usize,
}

async fn syncer_metrics(log: &std::path::Path) -> Result<String> {
    let addr = tenancy::logged_addr(log, "serving metrics").await?;
    http_get(&addr, "/metrics").await
}

pub async fn run(report: &mut String) -> Result<()> {
    let sizes = Sizes {
        tenants: size("NESTOR_BENCH_TENANTS", 100),
        pods: size("NESTOR_BENCH_PODS", 100),
        flooders: size("NESTOR_BENCH_FLOODERS", 10),
        flood: size("NESTOR_BENCH_FLOOD", 900),
        quiet: size("NESTOR_BENCH_QUIET", 100),
    };
    let total = sizes.tenants * sizes.pods;
    let concurrency = 64;
    println!("syncer bench: {} tenants x {} pods", sizes.tenants, sizes.pods);

    // The super cluster with simulated nodes; room for every phase's pods.
    let super_cluster = Cluster::start().await?;
    tenancy::install_crds(&super_cluster).await?;
    let nodes = (total + sizes.flooders * sizes.flood + sizes.quiet).div_ceil(200).max(3);
    // Extra nodesim flags, for comparing settings in one place (`--workers=64`).
    let nodesim_args = std::env::var("NESTOR_BENCH_NODESIM_ARGS").unwrap_or_default();
    let nodesim_args: Vec<&str> = ["--max-pods=250"].into_iter().chain(nodesim_args.split_whitespace()).collect();
    let _nodesim = tenancy::spawn_nodesim(&super_cluster, u32::try_from(nodes)?, &nodesim_args)?;
    let super_client = super_cluster.client().await?;

    // Tenant control planes: an API server each, over one shared etcd (prefix per tenant) to
    // spare the machine a hundred etcds. The quiet tenant has its own, as every tenant has in
    // Nestor: in a shared one, its writes would queue behind the flooding tenants'.
    let tenant_etcd = Arc::new(Etcd::start().await?);
    let quiet_etcd = Arc::new(Etcd::start().await?);
    let mut tenants = Vec::with_capacity(sizes.tenants + 1);
    let mut keys = Vec::with_capacity(sizes.tenants + 1);
    for i in 0..=sizes.tenants {
        // Run as the manager runs tenant API servers (local provisioner): one worker thread.
        let options = Options {
            etcd_prefix: Some(format!("/t{i}")),
            extra_args: vec!["--worker-threads=1".into()],
            ..Default::default()
        };
        let etcd = if i == sizes.tenants { &quiet_etcd } else { &tenant_etcd };
        let cluster = Cluster::start_on(Arc::clone(etcd), options).await?;
        keys.push(tenancy::register(&super_cluster, &cluster, &format!("t{i}"), &[]).await?);
        tenants.push(cluster);
    }
    let mut clients = Vec::with_capacity(tenants.len());
    for t in &tenants {
        clients.push(t.client().await?);
    }
    let clock = Clock::default();
    let pid_of = |p: &Process| p.pid().unwrap_or_default();
    let mut cpu = CpuGroups::default();
    cpu.add("super nestor-apiserver", vec![pid_of(&super_cluster.apiserver)]);
    cpu.add("super etcd", vec![pid_of(&super_cluster.etcd.process)]);
    cpu.add("nestor-nodesim", vec![pid_of(&_nodesim)]);
    cpu.add("tenant nestor-apiservers", tenants.iter().map(|t| pid_of(&t.apiserver)).collect());
    cpu.add(
        "tenant etcd (shared, and the quiet tenant's)",
        vec![pid_of(&tenant_etcd.process), pid_of(&quiet_etcd.process)],
    );
    cpu.add("the bench's clients", vec![std::process::id()]);

    // 1. Directly in the super cluster.
    for i in 0..sizes.tenants {
        namespace(&super_client, &format!("direct-{i}")).await?;
    }
    watch_running(super_client.clone(), None, "direct".into(), clock.clone()).await?;
    let jobs = (0..sizes.tenants)
        .flat_map(|i| (0..sizes.pods).map(move |p| (i, p)))
        .map(|(i, p)| (super_client.clone(), "direct".to_string(), format!("direct-{i}"), format!("p{p}")))
        .collect();
    let direct_cpu = cpu.sample();
    create(jobs, concurrency, &clock).await?;
    all_running(&clock, "direct/", total, "direct pods Running").await?;
    let direct_cpu = (direct_cpu, cpu.sample());
    let (direct_lat, direct_total) = clock.latencies("direct/");
    println!("direct: {total} pods Running in {:.1}s", direct_total.as_secs_f64());
    for i in 0..sizes.tenants {
        Api::<Namespace>::all(super_client.clone()).delete(&format!("direct-{i}"), &Default::default()).await?;
    }
    // The next phase starts on a quiet super cluster, not one still deleting these pods.
    let namespaces: Api<Namespace> = Api::all(super_client.clone());
    eventually(Duration::from_secs(600), "the direct namespaces to be deleted", || async {
        let left = namespaces.list(&Default::default()).await.ok()?.items;
        (!left.iter().any(|n| n.metadata.name.as_deref().is_some_and(|n| n.starts_with("direct-")))).then_some(())
    })
    .await?;

    // 2. Through Nestor: the same pods, created in the tenants.
    let log = super_cluster.dir().join("syncer-1.log");
    // Extra syncer flags, for comparing settings in one place (`--tenant-pending-pods=0`).
    let extra = std::env::var("NESTOR_BENCH_SYNCER_ARGS").unwrap_or_default();
    let extra: Vec<&str> = extra.split_whitespace().collect();
    let mut syncer = tenancy::spawn_syncer(&super_cluster, "1", &extra)?;
    let pid = syncer.pid().context("syncer pid")?;
    cpu.add("nestor-syncer", vec![pid]);
    let metrics = syncer_metrics(&log).await?;
    eventually(Duration::from_secs(120), "every tenant compared", || async {
        let text = syncer_metrics(&log).await.ok()?;
        (metric_sum(&text, "nestor_syncer_tenants", &["state=\"compared\""]) as usize >= tenants.len()).then_some(())
    })
    .await?;
    drop(metrics);
    let (idle_rss, _) = memory(pid);
    for (i, client) in clients.iter().enumerate().take(sizes.tenants) {
        namespace(client, "bench").await?;
        watch_running(client.clone(), Some("bench".into()), format!("nestor-t{i}"), clock.clone()).await?;
    }
    let jobs = (0..sizes.tenants)
        .flat_map(|i| (0..sizes.pods).map(move |p| (i, p)))
        .map(|(i, p)| (clients[i].clone(), format!("nestor-t{i}"), "bench".to_string(), format!("p{p}")))
        .collect();
    let nestor_cpu = cpu.sample();
    create(jobs, concurrency, &clock).await?;
    all_running(&clock, "nestor-", total, "pods through Nestor Running").await?;
    let nestor_cpu = (nestor_cpu, cpu.sample());
    let (nestor_lat, nestor_total) = clock.latencies("nestor-");
    println!("through Nestor: {total} pods Running in {:.1}s", nestor_total.as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Ok(path) = std::env::var("NESTOR_BENCH_DUMP") {
        // For looking into a run: the syncer's and the super cluster's metrics.
        let super_metrics = nestor_testkit::raw(&super_client, "GET", "/metrics", &[], Default::default()).await?;
        let tenant_metrics = nestor_testkit::raw(&clients[0], "GET", "/metrics", &[], Default::default()).await?;
        std::fs::write(&path, syncer_metrics(&log).await? + &super_metrics.text())?;
        std::fs::write(format!("{path}.tenant-0"), tenant_metrics.text())?;
    }
    // Memory is read twice: when every pod runs (event copies still queued), and once the
    // queue is empty, when every pod is synced; the figure per synced pod is the second.
    let (running_rss, _) = memory(pid);

    // 3. A restart with every pod synced (SIGTERM: the Lease is released, as in a rolling
    //    update): time until every tenant is compared again and the queue is empty. The old
    //    syncer first finishes what it has queued (copies of events come last), so that the
    //    new one is timed on the restart alone.
    let drained = Instant::now();
    let idle = eventually(Duration::from_secs(600), "the syncer's queue to drain", || async {
        let text = syncer_metrics(&log).await.ok()?;
        (metric_sum(&text, "nestor_syncer_queue_depth", &[]) == 0.0).then_some(())
    })
    .await;
    let (synced_rss, _) = memory(pid);
    let drain_text = match idle {
        Ok(()) => format!("{:.1} s", drained.elapsed().as_secs_f64()),
        Err(_) => format!("more than {:.0} s", drained.elapsed().as_secs_f64()),
    };
    println!("restart: the queue drained {drain_text} after every pod ran");
    // Settled: the stashes keep the objects of the last syncs until two sweeps have passed
    // (STASH_SWEEP in the syncer, 10 s); what stays after that is what synced pods cost.
    tokio::time::sleep(SETTLE).await;
    let (settled_rss, _) = memory(pid);
    let per_pod = (settled_rss - idle_rss).max(0.0) * 1024.0 / total as f64;
    let mut restarts = Vec::with_capacity(RESTARTS);
    for run in 0..RESTARTS {
        let stopping = Instant::now();
        syncer.stop();
        println!("restart: the old syncer stopped in {:.2}s", stopping.elapsed().as_secs_f64());
        let tag = (run + 2).to_string();
        let (restarted, figures) = restart(&super_cluster, &mut cpu, &tag, &extra, tenants.len()).await?;
        println!("restart {}: converged in {}, {} repairs", run + 1, figures.text(), figures.repairs);
        syncer = restarted;
        restarts.push(figures);
    }
    // The median run: runs of the same code differ by a few tenths of a second.
    restarts.sort_by_key(|r| r.took);
    let all_runs: Vec<String> = restarts.iter().map(|r| format!("{:.2}", r.took.as_secs_f64())).collect();
    let median = restarts.swap_remove(RESTARTS / 2);
    let converge_text = format!("{} (runs: {} s)", median.text(), all_runs.join(", "));
    let (restart_cpu, repairs) = ((median.cpu_before, median.cpu_after), median.repairs);

    // 4. Fairness: flooding tenants and one quiet tenant creating a pod every 20 ms. Beside
    //    each quiet pod, one is created directly in the super cluster: the floor the flood
    //    leaves any path through the super cluster.
    let quiet = sizes.tenants; // the extra tenant, idle until now
    for (i, client) in clients.iter().enumerate().take(sizes.flooders.min(sizes.tenants)) {
        namespace(client, "flood").await?;
        watch_running(client.clone(), Some("flood".into()), format!("flood-t{i}"), clock.clone()).await?;
    }
    namespace(&clients[quiet], "quiet").await?;
    watch_running(clients[quiet].clone(), Some("quiet".into()), "quiet".into(), clock.clone()).await?;
    watch(clients[quiet].clone(), Some("quiet".into()), "tenant-seen".into(), clock.clone(), Milestone::Seen).await?;
    namespace(&super_client, "quiet-direct").await?;
    watch_running(super_client.clone(), Some("quiet-direct".into()), "quiet-direct".into(), clock.clone()).await?;
    let quiet_super = keys[quiet].super_namespace("quiet");
    for (tag, milestone) in
        [("super-seen", Milestone::Seen), ("super-bound", Milestone::Bound), ("super-running", Milestone::Running)]
    {
        watch(super_client.clone(), Some(quiet_super.clone()), tag.into(), clock.clone(), milestone).await?;
    }
    let jobs: Vec<_> = (0..sizes.flooders.min(sizes.tenants))
        .flat_map(|i| (0..sizes.flood).map(move |p| (i, p)))
        .map(|(i, p)| (clients[i].clone(), format!("flood-t{i}"), "flood".to_string(), format!("f{p}")))
        .collect();
    let flood = {
        let clock = clock.clone();
        tokio::spawn(async move { create(jobs, concurrency, &clock).await })
    };
    for p in 0..sizes.quiet {
        let quiet_pod = (clients[quiet].clone(), "quiet".into(), "quiet".into(), format!("q{p}"));
        let direct_pod = (super_client.clone(), "quiet-direct".into(), "quiet-direct".into(), format!("d{p}"));
        create(vec![quiet_pod, direct_pod], 2, &clock).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    flood.await??;
    all_running(&clock, "quiet/", sizes.quiet, "the quiet tenant's pods Running").await?;
    all_running(&clock, "quiet-direct/", sizes.quiet, "the quiet pods created directly Running").await?;
    let (quiet_lat, _) = clock.latencies("quiet/");
    let (quiet_direct_lat, _) = clock.latencies("quiet-direct/");
    let stages = stages(&clock, sizes.quiet);
    all_running(&clock, "flood-", sizes.flooders.min(sizes.tenants) * sizes.flood, "the flood Running").await?;
    let (_, flood_total) = clock.latencies("flood-");
    println!(
        "fairness: quiet p50 {} p99 {} (directly in the super cluster: p50 {} p99 {}); flood done in {:.1}s",
        ms(percentile(&quiet_lat, 0.5)),
        ms(percentile(&quiet_lat, 0.99)),
        ms(percentile(&quiet_direct_lat, 0.5)),
        ms(percentile(&quiet_direct_lat, 0.99)),
        flood_total.as_secs_f64()
    );
    if let Ok(path) = std::env::var("NESTOR_BENCH_DUMP") {
        let log = super_cluster.dir().join(format!("syncer-{}.log", RESTARTS + 1));
        std::fs::write(format!("{path}.syncer-fairness.metrics"), syncer_metrics(&log).await?)?;
    }
    drop(syncer);

    let settle = SETTLE.as_secs();
    let ratio = nestor_total.as_secs_f64() / direct_total.as_secs_f64().max(f64::EPSILON);
    let cpu_table = cpu.table(&[
        ("direct", &direct_cpu.0, &direct_cpu.1),
        ("through Nestor", &nestor_cpu.0, &nestor_cpu.1),
        ("syncer restart (the median run)", &restart_cpu.0, &restart_cpu.1),
    ]);
    writeln!(
        report,
        "## The syncer\n\n{} tenants (one nestor-apiserver each, over one shared etcd with a prefix per tenant, but for the quiet tenant's own etcd) on one super cluster (nestor-apiserver, etcd, nestor-nodesim with {nodes} nodes), all release builds on this machine. Pods are created by {concurrency} concurrent clients; Running is when a watch (super cluster for direct pods, the tenant for pods through Nestor) first shows `phase: Running`.\n\n\
| {total} pods | all Running after | p50 create-to-Running | p99 |\n|---|---|---|---|\n\
| directly in the super cluster | {:.1} s | {} | {} |\n\
| through Nestor ({} tenants x {} pods) | {:.1} s | {} | {} |\n\
| ratio | **{ratio:.2}** (goal ≤ 1.10) | | |\n\n\
| syncer | figure | goal |\n|---|---|---|\n\
| RSS idle with {} tenants | {idle_rss:.1} MiB | |\n\
| RSS when all {total} pods run (event copies still queued) | {running_rss:.1} MiB | |\n\
| RSS with {total} pods synced (queue empty) | {synced_rss:.1} MiB | |\n\
| RSS with {total} pods synced, {settle} s later (the stashes swept) | {settled_rss:.1} MiB | |\n\
| RSS per synced pod (settled RSS less idle RSS) | **{per_pod:.2} KiB** | ≤ 4 KiB |\n\
| queue empty (event copies included) after every pod ran | {drain_text} | |\n\
| restart with {total} pods: every tenant compared, queue empty | **{converge_text}** ({repairs} repairs) | ≤ 3 s |\n\
| quiet tenant's p99 create-to-Running while {} tenants flood {} pods each | **{}** (p50 {}) | ≤ 250 ms |\n\
| the same, for pods created directly in the super cluster beside the quiet tenant's (the floor) | {} (p50 {}) | |\n\n\
Where the quiet tenant's pods spend that time (p50 / p99 of each step):\n\n{stages}\nWhere the CPU went while the {total} pods were created and became Running, and during the restart (every process shares the machine's cores):\n\n{cpu_table}",
        sizes.tenants + 1,
        direct_total.as_secs_f64(),
        ms(percentile(&direct_lat, 0.5)),
        ms(percentile(&direct_lat, 0.99)),
        sizes.tenants,
        sizes.pods,
        nestor_total.as_secs_f64(),
        ms(percentile(&nestor_lat, 0.5)),
        ms(percentile(&nestor_lat, 0.99)),
        sizes.tenants + 1,
        sizes.flooders.min(sizes.tenants),
        sizes.flood,
        ms(percentile(&quiet_lat, 0.99)),
        ms(percentile(&quiet_lat, 0.5)),
        ms(percentile(&quiet_direct_lat, 0.99)),
        ms(percentile(&quiet_direct_lat, 0.5)),
    )?;
    Ok(())
}

/// How long the synced syncer is left alone before its memory is read again.
const SETTLE: Duration = Duration::from_secs(25);

/// Restarts of the syncer timed; the median is reported.
const RESTARTS: usize = 3;

/// How one restart went.
struct Restart {
    took: Duration,
    converged: bool,
    repairs: f64,
    cpu_before: Vec<f64>,
    cpu_after: Vec<f64>,
}

impl Restart {
    fn text(&self) -> String {
        match self.converged {
            true => format!("{:.2} s", self.took.as_secs_f64()),
            false => format!("more than {:.0} s (the queue was not empty yet)", self.took.as_secs_f64()),
        }
    }
}

/// Starts syncer `tag` (the previous one stopped) and times it until every tenant is compared
/// again and its queue is empty.
async fn restart(
    super_cluster: &Cluster,
    cpu: &mut CpuGroups,
    tag: &str,
    extra: &[&str],
    tenants: usize,
) -> Result<(Process, Restart)> {
    let cpu_before = cpu.sample();
    let started = Instant::now();
    let log = super_cluster.dir().join(format!("syncer-{tag}.log"));
    let syncer: Process = tenancy::spawn_syncer(super_cluster, tag, extra)?;
    cpu.add_to("nestor-syncer (restarted)", syncer.pid().context("syncer pid")?);
    // A bench reports rather than fails: a syncer that does not converge in time is a figure too.
    let converged = eventually(Duration::from_secs(120), "the restarted syncer to converge", || async {
        let text = syncer_metrics(&log).await.ok()?;
        let compared = metric_sum(&text, "nestor_syncer_tenants", &["state=\"compared\""]) as usize;
        let depth = metric_sum(&text, "nestor_syncer_queue_depth", &[]);
        (compared >= tenants && depth == 0.0).then_some(())
    })
    .await
    .is_ok();
    let took = started.elapsed();
    let cpu_after = cpu.sample();
    if let Ok(path) = std::env::var("NESTOR_BENCH_DUMP") {
        std::fs::copy(&log, format!("{path}.syncer-{tag}.log"))?;
        std::fs::write(format!("{path}.syncer-{tag}.metrics"), syncer_metrics(&log).await?)?;
    }
    let repairs = metric_sum(&syncer_metrics(&log).await?, "nestor_syncer_patrol_repairs_total", &[]);
    Ok((syncer, Restart { took, converged, repairs, cpu_before, cpu_after }))
}

/// The quiet tenant's pods, step by step: created in the tenant → seen by a tenant watch →
/// copied to the super cluster (syncer) → bound to a node (scheduler) → Running in the super
/// cluster (kubelet) → Running in the tenant (syncer), as a markdown table.
fn stages(clock: &Clock, quiet: usize) -> String {
    let steps = [
        ("tenant create → seen by a tenant watch (tenant API server)", None, "tenant-seen"),
        ("seen in the tenant → super copy (syncer, down)", Some("tenant-seen"), "super-seen"),
        ("super copy → bound (scheduler)", Some("super-seen"), "super-bound"),
        ("bound → Running in the super cluster (kubelet)", Some("super-bound"), "super-running"),
        ("super Running → tenant Running (syncer, up)", Some("super-running"), "quiet"),
    ];
    let mut table = "| step | p50 | p99 |\n|---|---|---|\n".to_string();
    for (what, from, to) in steps {
        let mut lat: Vec<Duration> = (0..quiet)
            .filter_map(|p| {
                let name = format!("q{p}");
                let start = match from {
                    Some(tag) => clock.reached(tag, &name)?,
                    None => clock.asked(&format!("quiet/quiet/{name}"))?,
                };
                Some(clock.reached(to, &name)?.saturating_duration_since(start))
            })
            .collect();
        lat.sort();
        println!("  {what}: p50 {} p99 {}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
        table.push_str(&format!("| {what} | {} | {} |\n", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99))));
    }
    table
}
