//! nestor-apiserver against etcd: idle memory, create throughput, GET latency, lists and
//! watch fan-out.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use futures::StreamExt;
use nestor_testkit::{raw, Cluster, ADMIN_TOKEN};
use serde_json::{json, Value};

use crate::measure::{memory, ms, percentile};

/// h2load's "finished in Xs, Y req/s" line and its status counts.
fn h2load(args: &[&str]) -> Result<(f64, String)> {
    let out = std::process::Command::new("h2load")
        .args(args)
        .output()
        .context("h2load is not installed (apt-get install nghttp2-client)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rate = text
        .lines()
        .find(|l| l.starts_with("finished in"))
        .and_then(|l| l.split(',').nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<f64>().ok())
        .with_context(|| format!("cannot read h2load output:\n{text}"))?;
    let status = text.lines().find(|l| l.starts_with("status codes:")).unwrap_or("").to_string();
    Ok((rate, status))
}

/// The same number of puts straight into etcd, from the same number of concurrent clients.
async fn etcd_puts(endpoint: &str, total: usize, concurrency: usize, value: &[u8], round: usize) -> Result<f64> {
    let client = etcd_client::Client::connect([endpoint], None).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let mut kv = client.kv_client();
        let value = value.to_vec();
        tasks.push(tokio::spawn(async move {
            for i in (w..total).step_by(concurrency) {
                kv.put(format!("/bench/direct/{round}/cm-{i}"), value.clone(), None).await?;
            }
            Ok::<_, etcd_client::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

async fn create_many(client: &kube::Client, ns: &str, count: usize, concurrency: usize) -> Result<()> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, ns) = (client.clone(), next.clone(), ns.to_string());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                let body = json!({"metadata": {"name": format!("cm-{i:05}")}, "data": {"k": "v"}}).to_string();
                let r = raw(
                    &client,
                    "POST",
                    &format!("/api/v1/namespaces/{ns}/configmaps"),
                    &[("Content-Type", "application/json")],
                    Bytes::from(body),
                )
                .await?;
                if r.status != 201 {
                    bail!("create answered {}: {}", r.status, r.text());
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Sequential GETs of `bench/probe`, sorted.
async fn get_latencies(client: &kube::Client, count: usize) -> Result<Vec<Duration>> {
    let mut lat = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        let r = raw(client, "GET", "/api/v1/namespaces/bench/configmaps/probe", &[], Bytes::new()).await?;
        lat.push(t.elapsed());
        if r.status != 200 {
            bail!("get answered {}: {}", r.status, r.text());
        }
    }
    lat.sort();
    Ok(lat)
}

/// What RBAC costs a request: the same GETs by a user whom a RoleBinding to `view` allows,
/// among 200 bindings of other users, against the admin (system:masters, allowed before
/// RBAC is consulted, as on kube), in alternating rounds.
async fn rbac_cost(cluster: &Cluster, admin: &kube::Client, report: &mut String) -> Result<()> {
    let post = |path: &'static str, body: Value| {
        let admin = admin.clone();
        async move {
            let r = raw(&admin, "POST", path, &[("Content-Type", "application/json")], Bytes::from(body.to_string()))
                .await?;
            if r.status != 201 {
                bail!("{path} answered {}: {}", r.status, r.text());
            }
            Ok(())
        }
    };
    for i in 0..100 {
        let subjects = json!([{"kind": "User", "name": format!("someone-{i}")}]);
        post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json!({"metadata": {"name": format!("noise-{i}")}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": subjects})).await?;
        post("/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings", json!({"metadata": {"name": format!("noise-{i}")}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}, "subjects": subjects})).await?;
    }
    post("/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings", json!({"metadata": {"name": "reader"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "User", "name": "reader"}]})).await?;
    let reader = cluster.client_as("reader", &[]).await?;
    nestor_testkit::eventually(Duration::from_secs(30), "the reader's binding", || async {
        let r = raw(&reader, "GET", "/api/v1/namespaces/bench/configmaps/probe", &[], Bytes::new()).await.ok()?;
        (r.status == 200).then_some(())
    })
    .await?;
    let (mut masters, mut rbac) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        masters.extend(get_latencies(admin, 1000).await?);
        rbac.extend(get_latencies(&reader, 1000).await?);
    }
    masters.sort();
    rbac.sort();
    let (m50, r50) = (percentile(&masters, 0.5), percentile(&rbac, 0.5));
    writeln!(report, "## RBAC's cost on GET\n\nThe GET above by a user whom a RoleBinding to `view` allows, with 100 ClusterRoleBindings and 100 RoleBindings of other users in place, against the admin (`system:masters`, allowed before RBAC is read, as on kube); three alternating rounds of 1,000.\n\n| user | p50 | p99 |\n|---|---|---|\n| admin (masters) | {} | {} |\n| RBAC user | {} | {} |\n| ratio of p50 | **{:.2}** | |\n", ms(m50), ms(percentile(&masters, 0.99)), ms(r50), ms(percentile(&rbac, 0.99)), r50.as_secs_f64() / m50.as_secs_f64())?;
    println!("rbac: masters p50 {}, RBAC user p50 {}", ms(m50), ms(r50));
    Ok(())
}

/// Server-side apply against part 1's merge patch: the same change to one ConfigMap, as an
/// apply (`application/apply-patch+yaml`, managedFields computed) and as a merge patch, from
/// 8 concurrent HTTP/2 clients, alternating rounds.
fn apply_cost(cluster: &Cluster, report: &mut String) -> Result<()> {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "labels": {"bench": "apply"}}, "data": {"k": "v", "applied": "yes"}}).to_string();
    let body_file = cluster.dir().join("apply.json");
    std::fs::write(&body_file, &body)?;
    let url = format!("{}/api/v1/namespaces/bench/configmaps/probe?fieldManager=bench", cluster.url());
    let auth = format!("authorization: Bearer {ADMIN_TOKEN}");
    let run = |content_type: &str| {
        h2load(&[
            "-n",
            "2000",
            "-c",
            "8",
            "-m",
            "1",
            "-d",
            body_file.to_str().unwrap_or_default(),
            "-H",
            ":method: PATCH",
            "-H",
            &format!("content-type: {content_type}"),
            "-H",
            &auth,
            &url,
        ])
    };
    let (mut applies, mut merges, mut statuses) = (Vec::new(), Vec::new(), String::new());
    for _ in 0..3 {
        let (rate, status) = run("application/apply-patch+yaml")?;
        applies.push(rate);
        statuses = status;
        merges.push(run("application/merge-patch+json")?.0);
    }
    applies.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    merges.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let (apply, merge) = (applies[1], merges[1]);
    writeln!(report, "## Server-side apply\n\n2,000 PATCHes of one ConfigMap from 8 concurrent HTTP/2 clients (`h2load -n 2000 -c 8 -m 1`), as a server-side apply (managedFields tracked, `fieldManager=bench`) and as part 1's merge patch of the same body; after the first, both leave the object as it is, as kube skips no-op writes, so this is the cost of the apply itself. Three alternating rounds, medians.\n\n| patch | patches/s |\n|---|---|\n| apply | {apply:.0} |\n| merge patch | {merge:.0} |\n| ratio | **{:.2}** |\n\nh2load (apply) {statuses}\n", apply / merge)?;
    println!("apply {apply:.0}/s, merge patch {merge:.0}/s, ratio {:.2}", apply / merge);
    Ok(())
}

pub async fn run(report: &mut String) -> Result<()> {
    let cluster = Cluster::start().await?;
    let client = cluster.raw_client().await?;
    nestor_testkit::eventually(Duration::from_secs(30), "readyz", || async {
        let r = raw(&client, "GET", "/readyz", &[], Bytes::new()).await.ok()?;
        (r.status == 200).then_some(())
    })
    .await?;
    let api_pid = cluster.apiserver.pid().context("no apiserver pid")?;
    let etcd_pid = cluster.etcd.process.pid().context("no etcd pid")?;

    // 1. Idle memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (api_idle, _) = memory(api_pid);
    let (etcd_idle, _) = memory(etcd_pid);
    writeln!(report, "## Idle memory\n\n| process | RSS |\n|---|---|\n| nestor-apiserver | {api_idle:.1} MiB |\n| etcd (3.4) | {etcd_idle:.1} MiB |\n")?;
    println!("idle RSS: apiserver {api_idle:.1} MiB, etcd {etcd_idle:.1} MiB");

    // 2. Create throughput over HTTP/2 against the same puts straight into etcd.
    for ns in ["bench", "lists"] {
        raw(
            &client,
            "POST",
            "/api/v1/namespaces",
            &[("Content-Type", "application/json")],
            Bytes::from(json!({"metadata": {"name": ns}}).to_string()),
        )
        .await?;
    }
    let body =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cm-"}, "data": {"k": "v"}})
            .to_string();
    let body_file = cluster.dir().join("cm.json");
    std::fs::write(&body_file, &body)?;
    let url = format!("{}/api/v1/namespaces/bench/configmaps", cluster.url());
    let auth = format!("authorization: Bearer {ADMIN_TOKEN}");
    // Three alternating rounds, medians reported: etcd's own pace varies from run to run.
    let (mut api_rates, mut etcd_rates, mut statuses) = (Vec::new(), Vec::new(), String::new());
    for round in 0..3 {
        let (rate, status) = h2load(&[
            "-n",
            "5000",
            "-c",
            "32",
            "-m",
            "1",
            "-d",
            body_file.to_str().unwrap_or_default(),
            "-H",
            "content-type: application/json",
            "-H",
            &auth,
            &url,
        ])?;
        api_rates.push(rate);
        statuses = status;
        let stored = serde_json::to_vec(
            &json!({"metadata": {"name": "cm-abcde", "namespace": "bench", "uid": "00000000-0000-0000-0000-000000000000", "creationTimestamp": "2026-01-01T00:00:00Z"}, "data": {"k": "v"}}),
        )?;
        etcd_rates.push(etcd_puts(&cluster.etcd.endpoint, 5000, 32, &stored, round).await?);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        v[v.len() / 2]
    };
    let (api_rate, etcd_rate) = (median(&mut api_rates), median(&mut etcd_rates));
    writeln!(report, "## Create throughput\n\n5,000 ConfigMaps from 32 concurrent HTTP/2 clients (`h2load -n 5000 -c 32 -m 1`, POST with generateName), against 5,000 puts of the same JSON straight into etcd from 32 concurrent etcd-client tasks; three alternating rounds, medians. All three processes (load generator, apiserver, etcd) share the machine's cores.\n\n| path | creates/s |\n|---|---|\n| nestor-apiserver (HTTPS, h2) | {api_rate:.0} |\n| etcd directly | {etcd_rate:.0} |\n| ratio | **{:.2}** (goal ≥ 0.7) |\n\nh2load {statuses}\n", api_rate / etcd_rate)?;
    println!(
        "create: apiserver {api_rate:.0}/s, etcd {etcd_rate:.0}/s, ratio {:.2} ({statuses})",
        api_rate / etcd_rate
    );

    // 3. GET latency, one client, sequential.
    raw(
        &client,
        "POST",
        "/api/v1/namespaces/bench/configmaps",
        &[("Content-Type", "application/json")],
        Bytes::from(json!({"metadata": {"name": "probe"}, "data": {"k": "v"}}).to_string()),
    )
    .await?;
    let lat = get_latencies(&client, 2000).await?;
    writeln!(report, "## GET latency\n\n2,000 sequential GETs of one ConfigMap over one HTTP/2 connection (client-side time).\n\n| p50 | p99 |\n|---|---|\n| {} | {} |\n", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)))?;
    println!("get: p50 {} p99 {}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
    rbac_cost(&cluster, &client, report).await?;
    apply_cost(&cluster, report)?;

    // 4. Lists of 10,000 objects.
    create_many(&client, "lists", 10_000, 32).await?;
    let (_, peak_before) = memory(api_pid);
    let t = Instant::now();
    let r = raw(&client, "GET", "/api/v1/namespaces/lists/configmaps", &[], Bytes::new()).await?;
    let full = t.elapsed();
    let items = r.json()["items"].as_array().map_or(0, Vec::len);
    let (_, peak_full) = memory(api_pid);
    let t = Instant::now();
    let mut paged = 0;
    let mut token = String::new();
    loop {
        let path = format!(
            "/api/v1/namespaces/lists/configmaps?limit=500{}",
            if token.is_empty() { String::new() } else { format!("&continue={token}") }
        );
        let page = raw(&client, "GET", &path, &[], Bytes::new()).await?.json();
        paged += page["items"].as_array().map_or(0, Vec::len);
        match page["metadata"]["continue"].as_str() {
            Some(c) if !c.is_empty() => token = c.to_string(),
            _ => break,
        }
    }
    let pages = t.elapsed();
    let (_, peak_paged) = memory(api_pid);
    writeln!(report, "## Lists of 10,000 ConfigMaps\n\n| list | items | time | apiserver peak RSS (VmHWM) after |\n|---|---|---|---|\n| full | {items} | {} | {peak_full:.1} MiB (before: {peak_before:.1} MiB) |\n| paginated, limit=500 | {paged} | {} | {peak_paged:.1} MiB |\n", ms(full), ms(pages))?;
    println!("list: full {items} in {}, paged {paged} in {}; peak {peak_full:.1} MiB", ms(full), ms(pages));

    // 5. 100 watchers, 10,000 events.
    raw(
        &client,
        "POST",
        "/api/v1/namespaces",
        &[("Content-Type", "application/json")],
        Bytes::from(json!({"metadata": {"name": "watched"}}).to_string()),
    )
    .await?;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::new(Mutex::new(Vec::new()));
    let events = 10_000usize;
    let mut watchers = Vec::new();
    for _ in 0..100 {
        let mut stream =
            nestor_testkit::watch_lines(&client, "/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion=0")
                .await?;
        let (sent, latencies) = (sent.clone(), latencies.clone());
        watchers.push(tokio::spawn(async move {
            let mut seen = 0;
            while seen < events {
                let Some(ev) = stream.next().await else { break };
                let Some(name) = ev["object"]["metadata"]["name"].as_str() else { continue };
                let at = sent.lock().ok().and_then(|s| s.get(name).copied());
                if let (Some(at), Ok(mut l)) = (at, latencies.lock()) {
                    l.push(at.elapsed());
                }
                seen += 1;
            }
            seen
        }));
    }
    let t = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = Vec::new();
    for _ in 0..16 {
        let (client, next, sent) = (client.clone(), next.clone(), sent.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= events {
                    return Ok::<_, anyhow::Error>(());
                }
                let name = format!("w-{i:05}");
                if let Ok(mut s) = sent.lock() {
                    s.insert(name.clone(), Instant::now());
                }
                let body = json!({"metadata": {"name": name}}).to_string();
                raw(
                    &client,
                    "POST",
                    "/api/v1/namespaces/watched/configmaps",
                    &[("Content-Type", "application/json")],
                    Bytes::from(body),
                )
                .await?;
            }
        }));
    }
    for w in writers {
        w.await??;
    }
    let mut delivered = 0;
    for w in watchers {
        delivered += tokio::time::timeout(Duration::from_secs(300), w).await??;
    }
    let total = t.elapsed();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort();
    let (_, peak_watch) = memory(api_pid);
    writeln!(report, "## Watch fan-out\n\n100 watchers on one namespace; 10,000 ConfigMaps created by 16 writers. Latency is from just before the create request to the watcher reading the event.\n\n| events delivered | total time | p50 | p99 | apiserver peak RSS |\n|---|---|---|---|---|\n| {delivered} | {:.1} s | {} | {} | {peak_watch:.1} MiB |\n", total.as_secs_f64(), ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)))?;
    println!(
        "watch: {delivered} events in {:.1}s, p50 {} p99 {}",
        total.as_secs_f64(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99))
    );

    Ok(())
}
