//! nestor-manager with the local provisioner: how long a VirtualCluster takes from creation to
//! `Running` (its etcd, nestor-apiserver and nestor-controllers started, `/readyz` answered, the
//! kubeconfig written), what one idle tenant control plane costs in memory, and many tenants
//! created at once.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::StreamExt;
use kube::api::{Api, ListParams, PostParams};
use nestor_api::{Phase, VirtualCluster, VirtualClusterSpec};
use nestor_manager::provision::local::process;
use nestor_testkit::tenancy::{self, TENANTS_NAMESPACE};
use nestor_testkit::{binary, eventually, Cluster, Process};

use crate::measure::{anonymous, meminfo_mib, memory, size};

/// Tenants created one after the other, for the creation time.
const ONE_BY_ONE: usize = 5;

/// The live processes working on `dir`, with their program name and a pid for `measure`.
fn processes_in(dir: &Path) -> Vec<(String, u32)> {
    process::processes_in(dir)
        .into_iter()
        .filter_map(|(program, pid)| Some((program, u32::try_from(pid).ok()?)))
        .collect()
}

fn running(vc: &VirtualCluster) -> bool {
    vc.status.as_ref().and_then(|s| s.phase) == Some(Phase::Running)
}

/// Creates VirtualCluster `name` and answers how long it took to be `Running`.
async fn create_and_wait(vcs: &Api<VirtualCluster>, name: &str) -> Result<Duration> {
    let started = Instant::now();
    vcs.create(&PostParams::default(), &VirtualCluster::new(name, VirtualClusterSpec::default())).await?;
    eventually(Duration::from_secs(120), &format!("{name} to be Running"), || async {
        vcs.get(name).await.ok().filter(running).map(|_| ())
    })
    .await?;
    Ok(started.elapsed())
}

/// Sum of RSS and of private (anonymous) memory of processes, in MiB.
fn memory_of(pids: &[u32]) -> (f64, f64) {
    pids.iter().fold((0.0, 0.0), |(rss, anon), pid| (rss + memory(*pid).0, anon + anonymous(*pid)))
}

pub async fn run(report: &mut String) -> Result<()> {
    let at_once = size("NESTOR_BENCH_VCS", 50);
    println!("manager bench: {ONE_BY_ONE} tenants one by one, then {at_once} at once");
    let super_cluster = Cluster::start().await?;
    tenancy::install_crds(&super_cluster).await?;
    let client = super_cluster.client().await?;
    let state = super_cluster.dir().join("manager-state");
    std::fs::create_dir_all(&state)?;
    let apiserver = std::env::var_os("NESTOR_APISERVER_BIN")
        .map(std::path::PathBuf::from)
        .map_or_else(|| binary("nestor-apiserver"), Ok)?;
    let args = vec![
        format!("--kubeconfig={}", super_cluster.kubeconfig().display()),
        format!("--state-dir={}", state.display()),
        format!("--apiserver-bin={}", apiserver.display()),
        format!("--controllers-bin={}", binary("nestor-controllers")?.display()),
        "--metrics-addr=127.0.0.1:0".to_string(),
        "--identity=bench".to_string(),
    ];
    // Tenant processes are detached from the manager (they outlive it by design): every one
    // left is killed when the bench ends, however it ends, after the manager has stopped.
    let _cleanup = KillOnDrop(state.clone());
    let log = super_cluster.dir().join("manager.log");
    let manager = Process::spawn("nestor-manager", &binary("nestor-manager")?, &args, &log)?;
    let vcs: Api<VirtualCluster> = Api::namespaced(client.clone(), TENANTS_NAMESPACE);

    // The first one also waits for the manager to lead; it is not counted.
    let warm = create_and_wait(&vcs, "warm-up").await.context("the first tenant")?;
    println!("warm-up tenant Running after {:.2}s", warm.as_secs_f64());
    let mut times = Vec::with_capacity(ONE_BY_ONE);
    for i in 0..ONE_BY_ONE {
        times.push(create_and_wait(&vcs, &format!("one-{i}")).await?);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!("one by one: median {:.2}s", median.as_secs_f64());

    // One tenant's processes, idle for a while after their start.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let vc = vcs.get("one-0").await?;
    let key = vc.status.and_then(|s| s.cluster_key).context("cluster key of one-0")?;
    let tenant = processes_in(&state.join("tenants").join(&key));
    let pids_of = |programs: &[&str]| -> Vec<u32> {
        tenant.iter().filter(|(p, _)| programs.contains(&p.as_str())).map(|(_, pid)| *pid).collect()
    };
    let (plane_rss, plane_anon) = memory_of(&pids_of(&["etcd", "nestor-apiserver"]));
    let (controllers_rss, controllers_anon) = memory_of(&pids_of(&["nestor-controllers"]));
    println!("one idle tenant: etcd + apiserver {plane_rss:.1} MiB, controllers {controllers_rss:.1} MiB");

    // Many at once.
    let available_before = meminfo_mib("MemAvailable:");
    let started = Instant::now();
    let created = futures::stream::iter(0..at_once)
        .map(|i| {
            let vcs = vcs.clone();
            async move {
                let vc = VirtualCluster::new(&format!("many-{i}"), VirtualClusterSpec::default());
                vcs.create(&PostParams::default(), &vc).await.map(|_| ())
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    created.into_iter().collect::<Result<Vec<_>, _>>()?;
    let all = eventually(Duration::from_secs(900), "every tenant created at once to be Running", || async {
        let list = vcs.list(&ListParams::default()).await.ok()?;
        let many = list.items.iter().filter(|v| v.metadata.name.as_deref().is_some_and(|n| n.starts_with("many-")));
        (many.filter(|v| running(v)).count() == at_once).then_some(())
    })
    .await;
    let many_time = started.elapsed();
    let many_text = match all {
        Ok(()) => format!("{:.1} s", many_time.as_secs_f64()),
        Err(_) => format!("not all Running after {:.0} s", many_time.as_secs_f64()),
    };
    tokio::time::sleep(Duration::from_secs(10)).await;
    let everything: Vec<u32> = processes_in(&state.join("tenants")).into_iter().map(|(_, pid)| pid).collect();
    let (all_rss, all_anon) = memory_of(&everything);
    let used = (available_before - meminfo_mib("MemAvailable:")).max(0.0);
    let (manager_rss, _) = memory(manager.pid().unwrap_or_default());
    let tenants_total = ONE_BY_ONE + 1 + at_once;
    println!("{at_once} at once: {many_text}; {} processes, RSS {all_rss:.0} MiB", everything.len());

    writeln!(
        report,
        "## The manager (local provisioner)\n\nnestor-manager on a super cluster (nestor-apiserver, etcd); each VirtualCluster becomes an etcd, a nestor-apiserver and a nestor-controllers process on this machine. Creation time is from the create request until the VirtualCluster's `status.phase` is `Running` (processes started, `/readyz` answered, kubeconfig Secret written), read by polling.\n\n\
| figure | value | goal |\n|---|---|---|\n\
| one tenant, create → Running (median of {ONE_BY_ONE}, one after the other) | **{:.2} s** (fastest {:.2} s, slowest {:.2} s) | < 2 s |\n\
| one idle tenant: etcd + nestor-apiserver RSS | **{plane_rss:.1} MiB** ({plane_anon:.1} MiB private) | < 60 MiB |\n\
| one idle tenant: nestor-controllers RSS | {controllers_rss:.1} MiB ({controllers_anon:.1} MiB private) | |\n\
| {at_once} tenants created at once, until all Running | **{many_text}** | |\n\
| {tenants_total} tenants: sum of their processes' RSS ({} processes) | {all_rss:.0} MiB ({all_anon:.0} MiB private, {:.1} MiB a tenant) | |\n\
| memory the machine lost while {at_once} tenants started (MemAvailable) | {used:.0} MiB | |\n\
| nestor-manager RSS with {tenants_total} tenants | {manager_rss:.1} MiB | |\n",
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        everything.len(),
        all_anon / tenants_total as f64,
    )?;
    Ok(())
}

/// Kills every process working in a state directory when dropped.
struct KillOnDrop(std::path::PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for (_, pid) in processes_in(&self.0) {
            let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}
