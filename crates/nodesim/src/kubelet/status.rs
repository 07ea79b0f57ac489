//! The pod status a kubelet would post, computed from the pod alone and the time: containers
//! start, turn ready, run to completion or restart according to the pod's restart policy and
//! its `nestor.dev/sim-*` annotations. Every step reads the times already in the status
//! (`startedAt`, `finishedAt`), so a restarted nodesim carries on where the last one stopped.
//!
//! Conditions and their reasons follow kubelet's `pkg/kubelet/status/generate.go`.

use std::net::Ipv4Addr;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus,
    HostIP, Pod, PodCondition, PodIP, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::sim::Sim;
use crate::quantity::parse_milli;
use crate::time::{add, truncate};

/// Where a pod runs: its node's address and its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub host_ip: Ipv4Addr,
    pub pod_ip: Ipv4Addr,
}

/// The status to post and when to look at the pod again.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: PodStatus,
    /// The next moment the status changes by itself (a container turns ready or exits).
    pub wake: Option<Timestamp>,
    /// Containers started (or restarted) by this step, for events.
    pub started: Vec<String>,
    /// Containers that entered a crash-loop back-off in this step, for events.
    pub backed_off: Vec<String>,
}

/// Whether a pod has finished for good.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

/// The ID of a simulated container: stable for a pod, container and restart.
pub fn container_id(uid: &str, name: &str, restart: i32) -> String {
    format!("nestor-sim://{:x}", Sha256::digest(format!("{uid}/{name}/{restart}").as_bytes()))
}

/// The image as a runtime reports it (`docker.io/library/nginx:latest`) and its image ID.
pub fn image_ref(image: &str) -> (String, String) {
    let (repo, reference) = match image.split_once('@') {
        Some((r, d)) => (r.to_string(), format!("@{d}")),
        None => {
            let slash = image.rfind('/').map_or(0, |i| i + 1);
            match image[slash..].rfind(':') {
                Some(i) => (image[..slash + i].to_string(), image[slash + i..].to_string()),
                None => (image.to_string(), ":latest".to_string()),
            }
        }
    };
    let first = repo.split('/').next().unwrap_or("");
    let has_domain = repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let repo = if has_domain {
        repo
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    let full = format!("{repo}{reference}");
    let id = match reference.strip_prefix('@') {
        Some(digest) => format!("{repo}@{digest}"),
        None => format!("{repo}@sha256:{:x}", Sha256::digest(full.as_bytes())),
    };
    (full, id)
}

/// kube's QoS class of a pod (`GetPodQOS`): only cpu and memory count.
pub fn qos_class(spec: &PodSpec) -> &'static str {
    let mut best_effort = true;
    let mut guaranteed = true;
    for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
        let res = c.resources.as_ref();
        let value = |list: Option<
            &std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
        >,
                     r: &str| {
            list.and_then(|l| l.get(r)).and_then(|q| parse_milli(&q.0).ok()).filter(|v| *v != 0)
        };
        for r in ["cpu", "memory"] {
            let limit = value(res.and_then(|x| x.limits.as_ref()), r);
            let request = value(res.and_then(|x| x.requests.as_ref()), r).or(limit);
            if limit.is_some() || request.is_some() {
                best_effort = false;
            }
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if best_effort {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn running(started: Timestamp) -> ContainerState {
    ContainerState { running: Some(ContainerStateRunning { started_at: Some(Time(started)) }), ..Default::default() }
}

fn terminated(code: i32, started: Option<Time>, finished: Timestamp, id: Option<String>) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: code,
            reason: Some(if code == 0 { "Completed" } else { "Error" }.into()),
            started_at: started,
            finished_at: Some(Time(finished)),
            container_id: id,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn soonest(wake: &mut Option<Timestamp>, at: Timestamp) {
    if wake.is_none_or(|w| at < w) {
        *wake = Some(at);
    }
}

fn fresh_status(c: &Container, uid: &str, restart: i32) -> ContainerStatus {
    let (image, image_id) = image_ref(c.image.as_deref().unwrap_or(""));
    ContainerStatus {
        name: c.name.clone(),
        image,
        image_id,
        container_id: Some(container_id(uid, &c.name, restart)),
        restart_count: restart,
        ..Default::default()
    }
}

/// kubelet's longest crash-loop back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The wait before restart number `restarts + 1` of a failed container: none for the first
/// restart, then the base doubling up to five minutes, as kubelet's back-off does.
pub fn backoff(base: Duration, restarts: i32) -> Duration {
    if restarts <= 0 {
        return Duration::ZERO;
    }
    let factor = 1u32 << (restarts - 1).min(16) as u32;
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

fn waiting(reason: &str, message: String) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), message: Some(message) }),
        ..Default::default()
    }
}

/// Starts a new instance of a container that ran before, keeping its last state.
fn restarted(
    c: &Container,
    uid: &str,
    old: &ContainerStatus,
    last: Option<ContainerState>,
    stamp: Timestamp,
) -> ContainerStatus {
    let mut cs = fresh_status(c, uid, old.restart_count + 1);
    cs.last_state = last;
    cs.state = Some(running(stamp));
    cs
}

/// Steps one app container: start it, keep it running, end it, back it off or restart it.
/// `pod` names the pod as kubelet's messages do (`name_namespace(uid)`).
#[allow(clippy::too_many_arguments)]
fn step_container(
    c: &Container,
    old: Option<&ContainerStatus>,
    uid: &str,
    pod: &str,
    policy: &str,
    sim: &Sim,
    now: Timestamp,
    out: &mut Outcome,
) -> ContainerStatus {
    let stamp = truncate(now);
    let old_state = old.and_then(|s| s.state.as_ref());
    let started_at = old_state.and_then(|s| s.running.as_ref()).and_then(|r| r.started_at.as_ref()).map(|t| t.0);
    let ended = old_state.and_then(|s| s.terminated.as_ref());
    let backing_off =
        old_state.and_then(|s| s.waiting.as_ref()).is_some_and(|w| w.reason.as_deref() == Some("CrashLoopBackOff"));
    if let (Some(old), Some(_)) = (old, ended) {
        if policy != "Always" {
            return ContainerStatus { ready: false, started: Some(false), ..old.clone() };
        }
    }
    let (mut cs, mut since) = match (old, started_at) {
        (Some(old), Some(since)) => (old.clone(), since),
        (Some(old), None) if backing_off => {
            let finished = old
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .and_then(|t| t.finished_at.as_ref())
                .map_or(stamp, |t| t.0);
            let at = add(finished, backoff(sim.backoff, old.restart_count));
            if now < at {
                soonest(&mut out.wake, at);
                return ContainerStatus { ready: false, started: Some(false), ..old.clone() };
            }
            out.started.push(c.name.clone());
            (restarted(c, uid, old, old.last_state.clone(), stamp), stamp)
        }
        (Some(old), None) if ended.is_some() => {
            // restartPolicy Always and the container exited: it starts again.
            out.started.push(c.name.clone());
            (restarted(c, uid, old, old_state.cloned(), stamp), stamp)
        }
        _ => {
            let mut cs = fresh_status(c, uid, old.map_or(0, |o| o.restart_count));
            cs.state = Some(running(stamp));
            out.started.push(c.name.clone());
            (cs, stamp)
        }
    };
    if policy != "Always" {
        let finish = add(since, sim.duration);
        if now >= finish {
            let finished = truncate(finish).max(since);
            let end = terminated(sim.exit_code, Some(Time(since)), finished, cs.container_id.clone());
            if sim.exit_code == 0 || policy == "Never" {
                cs.state = Some(end);
                cs.ready = false;
                cs.started = Some(false);
                return cs;
            }
            // OnFailure with a failing exit: restarted at once the first time, then after a
            // growing back-off, shown as CrashLoopBackOff meanwhile.
            let delay = backoff(sim.backoff, cs.restart_count);
            if !delay.is_zero() {
                let message = format!(
                    "back-off {} restarting failed container={} pod={pod}",
                    nestor_api::duration::format(delay),
                    c.name
                );
                cs.state = Some(waiting("CrashLoopBackOff", message));
                cs.last_state = Some(end);
                cs.ready = false;
                cs.started = Some(false);
                soonest(&mut out.wake, add(finished, delay));
                out.backed_off.push(c.name.clone());
                return cs;
            }
            let old = cs.clone();
            cs = restarted(c, uid, &old, Some(end), stamp);
            out.started.push(c.name.clone());
            since = stamp;
        }
        soonest(&mut out.wake, add(since, sim.duration));
    }
    let ready_at = add(since, sim.ready_after);
    cs.ready = now >= ready_at;
    if !cs.ready {
        soonest(&mut out.wake, ready_at);
    }
    cs.started = Some(true);
    cs
}

/// Steps one init container: regular ones complete at once, sidecars keep running.
fn step_init_container(c: &Container, old: Option<&ContainerStatus>, uid: &str, now: Timestamp) -> ContainerStatus {
    if let Some(old) = old {
        return old.clone();
    }
    let stamp = truncate(now);
    let mut cs = fresh_status(c, uid, 0);
    if c.restart_policy.as_deref() == Some("Always") {
        cs.state = Some(running(stamp));
        cs.ready = true;
        cs.started = Some(true);
    } else {
        let id = cs.container_id.clone();
        cs.state = Some(terminated(0, Some(Time(stamp)), stamp, id));
        // kubelet reports a successful init container as ready.
        cs.ready = true;
        cs.started = Some(false);
    }
    cs
}

/// Ends a still-running container at `stamp` with exit code 0, as a container that handles
/// SIGTERM does.
fn stop(cs: &ContainerStatus, stamp: Timestamp) -> ContainerStatus {
    let Some(since) = cs.state.as_ref().and_then(|s| s.running.as_ref()).map(|r| r.started_at.clone()) else {
        return cs.clone();
    };
    ContainerStatus {
        state: Some(terminated(0, since, stamp, cs.container_id.clone())),
        ready: false,
        started: Some(false),
        ..cs.clone()
    }
}

fn exit_code(cs: &ContainerStatus) -> Option<i32> {
    cs.state.as_ref().and_then(|s| s.terminated.as_ref()).map(|t| t.exit_code)
}

fn condition(kind: &str, status: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: kind.into(),
        status: if status { "True" } else { "False" }.into(),
        reason: reason.map(str::to_string),
        message,
        ..Default::default()
    }
}

/// The conditions kubelet owns, in kubelet's order, then PodScheduled and any others kept.
fn conditions(
    pod: &Pod,
    old: &[PodCondition],
    statuses: &[ContainerStatus],
    phase: &str,
    now: Timestamp,
) -> Vec<PodCondition> {
    let spec = pod.spec.as_ref();
    let terminal = phase == "Succeeded" || phase == "Failed";
    let terminal_reason = if phase == "Failed" { "PodFailed" } else { "PodCompleted" };
    let sidecars: Vec<&str> = spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name.as_str())
        .collect();
    let apps = spec.map(|s| s.containers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()).unwrap_or_default();
    let unready: Vec<&str> = sidecars
        .iter()
        .chain(apps.iter())
        .copied()
        .filter(|n| !statuses.iter().any(|s| s.name == *n && s.ready))
        .collect();
    let containers_ready = if terminal {
        condition("ContainersReady", false, Some(terminal_reason), None)
    } else if !unready.is_empty() {
        let msg = format!("containers with unready status: [{}]", unready.join(" "));
        condition("ContainersReady", false, Some("ContainersNotReady"), Some(msg))
    } else {
        condition("ContainersReady", true, None, None)
    };
    let mut ready = PodCondition { type_: "Ready".into(), ..containers_ready.clone() };
    if ready.status == "True" {
        let mut gates = Vec::new();
        for g in spec.and_then(|s| s.readiness_gates.as_ref()).into_iter().flatten() {
            match old.iter().find(|c| c.type_ == g.condition_type) {
                None => gates.push(format!(
                    "corresponding condition of pod readiness gate {:?} does not exist.",
                    g.condition_type
                )),
                Some(c) if c.status != "True" => gates.push(format!(
                    "the status of pod readiness gate {:?} is not \"True\", but {}",
                    g.condition_type, c.status
                )),
                Some(_) => {}
            }
        }
        if !gates.is_empty() {
            ready = condition("Ready", false, Some("ReadinessGatesNotReady"), Some(gates.join(", ")));
        }
    }
    let initialized = if phase == "Succeeded" {
        condition("Initialized", true, Some("PodCompleted"), None)
    } else {
        condition("Initialized", true, None, None)
    };
    let scheduled = old
        .iter()
        .find(|c| c.type_ == "PodScheduled")
        .cloned()
        .unwrap_or_else(|| condition("PodScheduled", true, None, None));
    let ours = [condition("PodReadyToStartContainers", !terminal, None, None), initialized, ready, containers_ready];
    let mut out: Vec<PodCondition> = ours
        .into_iter()
        .map(|mut c| {
            // Transition times move only when the status does.
            let since = old
                .iter()
                .find(|o| o.type_ == c.type_ && o.status == c.status)
                .and_then(|o| o.last_transition_time.clone());
            c.last_transition_time = Some(since.unwrap_or(Time(truncate(now))));
            c
        })
        .collect();
    out.push(scheduled);
    let owned = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
    out.extend(old.iter().filter(|c| !owned.contains(&c.type_.as_str())).cloned());
    out
}

fn with_network(status: &mut PodStatus, at: Placement) {
    status.host_ip = Some(at.host_ip.to_string());
    status.host_ips = Some(vec![HostIP { ip: at.host_ip.to_string() }]);
    status.pod_ip = Some(at.pod_ip.to_string());
    status.pod_ips = Some(vec![PodIP { ip: at.pod_ip.to_string() }]);
}

/// The status of a pod that runs on its node now: containers started, ready, exited or
/// restarted as its restart policy and `sim` say.
pub fn running_status(pod: &Pod, at: Placement, sim: &Sim, now: Timestamp) -> Outcome {
    let old = pod.status.clone().unwrap_or_default();
    let mut out = Outcome { status: old.clone(), wake: None, started: Vec::new(), backed_off: Vec::new() };
    let Some(spec) = pod.spec.as_ref() else { return out };
    if is_terminal(pod) {
        return out;
    }
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let who = format!(
        "{}_{}({uid})",
        pod.metadata.name.as_deref().unwrap_or(""),
        pod.metadata.namespace.as_deref().unwrap_or("")
    );
    let policy = spec.restart_policy.as_deref().unwrap_or("Always");
    let find = |list: &Option<Vec<ContainerStatus>>, name: &str| {
        list.as_ref().and_then(|l| l.iter().find(|s| s.name == name)).cloned()
    };
    let mut inits: Vec<ContainerStatus> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| step_init_container(c, find(&old.init_container_statuses, &c.name).as_ref(), uid, now))
        .collect();
    let apps: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| {
            step_container(c, find(&old.container_statuses, &c.name).as_ref(), uid, &who, policy, sim, now, &mut out)
        })
        .collect();
    let all_ended = policy != "Always" && !apps.is_empty() && apps.iter().all(|s| exit_code(s).is_some());
    let phase = if all_ended {
        if apps.iter().all(|s| exit_code(s) == Some(0)) {
            "Succeeded"
        } else {
            "Failed"
        }
    } else {
        "Running"
    };
    if all_ended {
        // Sidecars are stopped once the app containers are done.
        let stamp = truncate(now);
        inits = inits.iter().map(|s| stop(s, stamp)).collect();
        out.wake = None;
    }
    let mut st = old.clone();
    with_network(&mut st, at);
    st.start_time = old.start_time.clone().or(Some(Time(truncate(now))));
    st.qos_class = old.qos_class.clone().or_else(|| Some(qos_class(spec).to_string()));
    st.phase = Some(phase.into());
    let all: Vec<ContainerStatus> = inits.iter().chain(apps.iter()).cloned().collect();
    st.conditions = Some(conditions(pod, old.conditions.as_deref().unwrap_or_default(), &all, phase, now));
    st.init_container_statuses = if inits.is_empty() { old.init_container_statuses } else { Some(inits) };
    st.container_statuses = Some(apps);
    out.status = st;
    out
}

/// The status of a pod being deleted once its containers have stopped (they exit at once on
/// SIGTERM): terminal, Succeeded when every container exited 0. None when nothing ran yet.
pub fn stopped_status(pod: &Pod, now: Timestamp) -> Option<PodStatus> {
    let old = pod.status.clone()?;
    if is_terminal(pod) {
        return None;
    }
    let apps = old.container_statuses.clone().filter(|a| !a.is_empty())?;
    let stamp = truncate(now);
    let apps: Vec<ContainerStatus> = apps.iter().map(|s| stop(s, stamp)).collect();
    let inits: Option<Vec<ContainerStatus>> =
        old.init_container_statuses.as_ref().map(|l| l.iter().map(|s| stop(s, stamp)).collect());
    let phase = if apps.iter().all(|s| exit_code(s) == Some(0)) { "Succeeded" } else { "Failed" };
    let all: Vec<ContainerStatus> = inits.iter().flatten().chain(apps.iter()).cloned().collect();
    let mut st = old.clone();
    st.phase = Some(phase.into());
    st.conditions = Some(conditions(pod, old.conditions.as_deref().unwrap_or_default(), &all, phase, now));
    st.container_statuses = Some(apps);
    st.init_container_statuses = inits;
    Some(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(policy: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container { name: "app".into(), image: Some("nginx".into()), ..Default::default() }],
                restart_policy: Some(policy.into()),
                ..Default::default()
            }),
            status: Some(PodStatus { phase: Some("Pending".into()), ..Default::default() }),
        }
    }

    const AT: Placement = Placement { host_ip: Ipv4Addr::new(172, 18, 0, 2), pod_ip: Ipv4Addr::new(10, 244, 0, 2) };

    fn sim(ms: u64, code: i32, ready_ms: u64) -> Sim {
        Sim {
            duration: Duration::from_millis(ms),
            exit_code: code,
            ready_after: Duration::from_millis(ready_ms),
            backoff: Duration::from_secs(10),
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn cond<'a>(st: &'a PodStatus, kind: &str) -> &'a PodCondition {
        st.conditions.as_ref().unwrap().iter().find(|c| c.type_ == kind).unwrap()
    }

    fn step(p: &mut Pod, s: &Sim, now: Timestamp) -> Outcome {
        let out = running_status(p, AT, s, now);
        p.status = Some(out.status.clone());
        out
    }

    #[test]
    fn always_pods_run_and_turn_ready() {
        let mut p = pod("Always");
        let out = step(&mut p, &sim(1000, 0, 0), t(100));
        let st = &out.status;
        assert_eq!(st.phase.as_deref(), Some("Running"));
        assert_eq!(st.pod_ip.as_deref(), Some("10.244.0.2"));
        assert_eq!(st.host_ip.as_deref(), Some("172.18.0.2"));
        assert_eq!(st.qos_class.as_deref(), Some("BestEffort"));
        assert_eq!(cond(st, "Ready").status, "True");
        let cs = &st.container_statuses.as_ref().unwrap()[0];
        assert!(cs.ready);
        assert_eq!(cs.image, "docker.io/library/nginx:latest");
        assert!(cs.container_id.as_ref().unwrap().starts_with("nestor-sim://"));
        assert_eq!(out.wake, None, "Always pods run forever");
        assert_eq!(out.started, vec!["app".to_string()]);
        // Nothing changes later: the status is a fixed point.
        let again = step(&mut p, &sim(1000, 0, 0), t(500));
        assert_eq!(Some(again.status), p.status);
    }

    #[test]
    fn ready_after_delays_readiness() {
        let mut p = pod("Always");
        let out = step(&mut p, &sim(1000, 0, 5000), t(100));
        assert_eq!(cond(&out.status, "Ready").status, "False");
        assert_eq!(cond(&out.status, "Ready").reason.as_deref(), Some("ContainersNotReady"));
        assert_eq!(cond(&out.status, "Ready").message.as_deref(), Some("containers with unready status: [app]"));
        assert_eq!(out.wake, Some(t(105)));
        let out = step(&mut p, &sim(1000, 0, 5000), t(105));
        assert_eq!(cond(&out.status, "Ready").status, "True");
        assert_eq!(cond(&out.status, "Ready").last_transition_time, Some(Time(t(105))));
        assert_eq!(cond(&out.status, "Initialized").last_transition_time, Some(Time(t(100))));
    }

    #[test]
    fn never_pods_succeed_or_fail() {
        let mut p = pod("Never");
        let out = step(&mut p, &sim(2000, 0, 0), t(100));
        assert_eq!(out.wake, Some(t(102)));
        let out = step(&mut p, &sim(2000, 0, 0), t(102));
        assert_eq!(out.status.phase.as_deref(), Some("Succeeded"));
        let term =
            out.status.container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().terminated.clone().unwrap();
        assert_eq!((term.exit_code, term.reason.as_deref()), (0, Some("Completed")));
        assert_eq!(cond(&out.status, "Ready").reason.as_deref(), Some("PodCompleted"));
        assert_eq!(cond(&out.status, "PodReadyToStartContainers").status, "False");

        let mut p = pod("Never");
        step(&mut p, &sim(2000, 1, 0), t(100));
        let out = step(&mut p, &sim(2000, 1, 0), t(103));
        assert_eq!(out.status.phase.as_deref(), Some("Failed"));
        let term =
            out.status.container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().terminated.clone().unwrap();
        assert_eq!((term.exit_code, term.reason.as_deref()), (1, Some("Error")));
        assert_eq!(term.finished_at, Some(Time(t(102))));
        assert_eq!(cond(&out.status, "Ready").reason.as_deref(), Some("PodFailed"));
    }

    #[test]
    fn on_failure_restarts_failing_containers() {
        let mut p = pod("OnFailure");
        step(&mut p, &sim(1000, 2, 0), t(100));
        let out = step(&mut p, &sim(1000, 2, 0), t(101));
        let cs = &out.status.container_statuses.as_ref().unwrap()[0];
        assert_eq!(out.status.phase.as_deref(), Some("Running"));
        assert_eq!(cs.restart_count, 1);
        assert_eq!(cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap().exit_code, 2);
        assert!(cs.state.as_ref().unwrap().running.is_some());
        assert_eq!(out.wake, Some(t(102)));
        assert_ne!(cs.container_id, Some(container_id("u1", "app", 0)));
        // The second failure backs off 10 s, shown as CrashLoopBackOff.
        let out = step(&mut p, &sim(1000, 2, 0), t(102));
        let cs = &out.status.container_statuses.as_ref().unwrap()[0];
        let w = cs.state.as_ref().unwrap().waiting.as_ref().unwrap();
        assert_eq!(w.reason.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(w.message.as_deref(), Some("back-off 10s restarting failed container=app pod=p_ns(u1)"));
        assert_eq!((cs.restart_count, cs.ready), (1, false));
        assert_eq!(cond(&out.status, "Ready").status, "False");
        assert_eq!(out.wake, Some(t(112)));
        let out = step(&mut p, &sim(1000, 2, 0), t(111));
        assert_eq!(out.wake, Some(t(112)), "still backing off");
        let out = step(&mut p, &sim(1000, 2, 0), t(112));
        let cs = &out.status.container_statuses.as_ref().unwrap()[0];
        assert_eq!(cs.restart_count, 2);
        assert!(cs.state.as_ref().unwrap().running.is_some());
        assert_eq!(backoff(Duration::from_secs(10), 3), Duration::from_secs(40));
        assert_eq!(backoff(Duration::from_secs(10), 30), Duration::from_secs(300));
    }

    #[test]
    fn init_containers_complete_first_and_sidecars_run() {
        let mut p = pod("Always");
        let spec = p.spec.as_mut().unwrap();
        spec.init_containers = Some(vec![
            Container { name: "setup".into(), image: Some("busybox".into()), ..Default::default() },
            Container {
                name: "proxy".into(),
                image: Some("envoy".into()),
                restart_policy: Some("Always".into()),
                ..Default::default()
            },
        ]);
        let out = step(&mut p, &sim(1000, 0, 0), t(100));
        let inits = out.status.init_container_statuses.as_ref().unwrap();
        assert_eq!(inits[0].state.as_ref().unwrap().terminated.as_ref().unwrap().reason.as_deref(), Some("Completed"));
        assert!(inits[1].state.as_ref().unwrap().running.is_some());
        assert_eq!(cond(&out.status, "Initialized").status, "True");
        assert_eq!(cond(&out.status, "Ready").status, "True");
    }

    #[test]
    fn stopping_ends_containers_with_zero() {
        let mut p = pod("Always");
        step(&mut p, &sim(1000, 0, 0), t(100));
        let st = stopped_status(&p, t(200)).unwrap();
        assert_eq!(st.phase.as_deref(), Some("Succeeded"));
        let term = st.container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().terminated.clone().unwrap();
        assert_eq!(term.finished_at, Some(Time(t(200))));
        assert!(stopped_status(&pod("Always"), t(200)).is_none(), "nothing ran yet");
    }

    #[test]
    fn qos_and_images() {
        use k8s_openapi::api::core::v1::ResourceRequirements;
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        let q = |pairs: &[(&str, &str)]| {
            Some(pairs.iter().map(|(k, v)| (k.to_string(), Quantity(v.to_string()))).collect())
        };
        let mut spec = pod("Always").spec.unwrap();
        spec.containers[0].resources =
            Some(ResourceRequirements { limits: q(&[("cpu", "1"), ("memory", "1Gi")]), ..Default::default() });
        assert_eq!(qos_class(&spec), "Guaranteed");
        spec.containers[0].resources =
            Some(ResourceRequirements { requests: q(&[("cpu", "100m")]), ..Default::default() });
        assert_eq!(qos_class(&spec), "Burstable");
        assert_eq!(image_ref("nginx:1.27").0, "docker.io/library/nginx:1.27");
        assert_eq!(image_ref("bitnami/redis").0, "docker.io/bitnami/redis:latest");
        assert_eq!(image_ref("registry.k8s.io/pause:3.10").0, "registry.k8s.io/pause:3.10");
        assert_eq!(image_ref("localhost:5000/app").0, "localhost:5000/app:latest");
        assert!(image_ref("nginx").1.starts_with("docker.io/library/nginx@sha256:"));
        assert_eq!(image_ref("quay.io/x/y@sha256:abc").1, "quay.io/x/y@sha256:abc");
    }
}
