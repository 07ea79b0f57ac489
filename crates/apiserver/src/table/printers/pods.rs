//! Pods and pod templates: `printPod` / `printPodTemplate` in printers.go.
//!
//! The pod STATUS cell is kube's most intricate one: it starts from the phase (or
//! `status.reason`), is overridden by the first unfinished init container
//! ("Init:0/2", "Init:CrashLoopBackOff", "Init:ExitCode:1"), then by the *first*
//! container with a waiting/terminated reason (containers are walked last to first,
//! so the first one wins), and finally by "Terminating" / "Unknown" for pods being
//! deleted.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::duration;
use super::helpers::{
    arr_at, bool_at, format_labels, int_at, is_deleting, layout_containers, name, obj_at, opt_bool, s, str_at, time_at,
};
use super::{col, Column, Printer, AGE_COLUMN, CONTAINERS_DESC, IMAGES_DESC, NAME_COLUMN};

const POD_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
    col("Status", "string", "The aggregate status of the containers in this pod.", 0),
    col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
    AGE_COLUMN,
    col("IP", "string", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
    col("Node", "string", "NodeName indicates in which node this pod is scheduled.", 1),
    col("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.", 1),
    col("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
];

/// `printPod`.
pub static POD: Printer = Printer { columns: POD_COLUMNS, row: pod_row };

const POD_TEMPLATE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 0),
    col("Images", "string", IMAGES_DESC, 0),
    col("Pod Labels", "string", "The labels for the pod template.", 0),
];

/// `printPodTemplate`.
pub static POD_TEMPLATE: Printer = Printer { columns: POD_TEMPLATE_COLUMNS, row: pod_template_row };

/// Moves `cur` forward to `t` when `t` is later (Go: `if cur.Before(&t) { cur = t }`,
/// where an unset time is the zero time and never later than anything).
fn keep_latest(cur: &mut Option<DateTime<Utc>>, t: Option<DateTime<Utc>>) {
    if let Some(t) = t {
        if cur.is_none_or(|c| c < t) {
            *cur = Some(t);
        }
    }
}

/// `lastState.terminated.finishedAt`, if the container has a last termination.
fn last_termination(status: &Value) -> Option<Option<DateTime<Utc>>> {
    obj_at(status, &["lastState", "terminated"])?;
    Some(time_at(status, &["lastState", "terminated", "finishedAt"]))
}

/// `podutil.IsRestartableInitContainer`: a sidecar (`restartPolicy: Always`) init container.
fn is_restartable(init_containers: &[Value], container_name: &str) -> bool {
    // Go builds a name->container map, so a later duplicate name wins.
    init_containers
        .iter()
        .rev()
        .find(|c| str_at(c, &["name"]) == container_name)
        .is_some_and(|c| str_at(c, &["restartPolicy"]) == "Always")
}

fn pod_row(pod: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let containers = arr_at(pod, &["spec", "containers"]);
    let init_containers = arr_at(pod, &["spec", "initContainers"]);
    let conditions = arr_at(pod, &["status", "conditions"]);

    let mut restarts = 0i64;
    let mut restartable_init_restarts = 0i64;
    let mut total = containers.len();
    let mut ready = 0usize;
    let mut last_restart: Option<DateTime<Utc>> = None;
    let mut last_restartable_init_restart: Option<DateTime<Utc>> = None;

    let phase = str_at(pod, &["status", "phase"]);
    let mut reason = phase.to_string();
    let status_reason = str_at(pod, &["status", "reason"]);
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    // A scheduling-gated pod says so instead of "Pending".
    for c in conditions {
        if str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated" {
            reason = "SchedulingGated".to_string();
        }
    }

    // Sidecars count towards the READY denominator.
    total += init_containers.iter().filter(|c| str_at(c, &["restartPolicy"]) == "Always").count();

    let mut initializing = false;
    for (i, c) in arr_at(pod, &["status", "initContainerStatuses"]).iter().enumerate() {
        let count = int_at(c, &["restartCount"]);
        restarts += count;
        if let Some(finished) = last_termination(c) {
            keep_latest(&mut last_restart, finished);
        }
        let restartable = is_restartable(init_containers, str_at(c, &["name"]));
        if restartable {
            restartable_init_restarts += count;
            if let Some(finished) = last_termination(c) {
                keep_latest(&mut last_restartable_init_restart, finished);
            }
        }
        let terminated = obj_at(c, &["state", "terminated"]).is_some();
        let exit_code = int_at(c, &["state", "terminated", "exitCode"]);
        let waiting_reason = str_at(c, &["state", "waiting", "reason"]);
        if terminated && exit_code == 0 {
            continue;
        } else if restartable && opt_bool(c, &["started"]) == Some(true) {
            if bool_at(c, &["ready"]) {
                ready += 1;
            }
            continue;
        } else if terminated {
            // Initialization failed.
            let term_reason = str_at(c, &["state", "terminated", "reason"]);
            let signal = int_at(c, &["state", "terminated", "signal"]);
            reason = if !term_reason.is_empty() {
                format!("Init:{term_reason}")
            } else if signal != 0 {
                format!("Init:Signal:{signal}")
            } else {
                format!("Init:ExitCode:{exit_code}")
            };
        } else if obj_at(c, &["state", "waiting"]).is_some()
            && !waiting_reason.is_empty()
            && waiting_reason != "PodInitializing"
        {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .find(|c| str_at(c, &["type"]) == "Initialized")
        .is_some_and(|c| str_at(c, &["status"]) == "True");
    if !initializing || initialized {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        for c in arr_at(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int_at(c, &["restartCount"]);
            if let Some(finished) = last_termination(c) {
                keep_latest(&mut last_restart, finished);
            }
            let waiting_reason = str_at(c, &["state", "waiting", "reason"]);
            let terminated = obj_at(c, &["state", "terminated"]).is_some();
            let term_reason = str_at(c, &["state", "terminated", "reason"]);
            if obj_at(c, &["state", "waiting"]).is_some() && !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if terminated && !term_reason.is_empty() {
                reason = term_reason.to_string();
            } else if terminated {
                let signal = int_at(c, &["state", "terminated", "signal"]);
                reason = if signal != 0 {
                    format!("Signal:{signal}")
                } else {
                    format!("ExitCode:{}", int_at(c, &["state", "terminated", "exitCode"]))
                };
            } else if bool_at(c, &["ready"]) && obj_at(c, &["state", "running"]).is_some() {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose last container exited but another still runs is not "Completed".
        if reason == "Completed" && has_running {
            let pod_ready =
                conditions.iter().any(|c| str_at(c, &["type"]) == "Ready" && str_at(c, &["status"]) == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }

    if is_deleting(pod) && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if is_deleting(pod) && phase != "Failed" && phase != "Succeeded" {
        reason = "Terminating".to_string();
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => {
            format!("{restarts} ({} ago)", duration::since(Some(t), now))
        }
        _ => restarts.to_string(),
    };

    // Wide columns. Stored v1 pods may carry only the legacy singular podIP.
    let mut pod_ip = arr_at(pod, &["status", "podIPs"])
        .first()
        .map(|ip| str_at(ip, &["ip"]))
        .unwrap_or_else(|| str_at(pod, &["status", "podIP"]));
    if pod_ip.is_empty() {
        pod_ip = "<none>";
    }
    let none_if_empty = |v: &str| {
        if v.is_empty() {
            "<none>".to_string()
        } else {
            v.to_string()
        }
    };
    let gates = arr_at(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_conditions = gates
            .iter()
            .filter(|g| {
                let t = str_at(g, &["conditionType"]);
                conditions.iter().find(|c| str_at(c, &["type"]) == t).is_some_and(|c| str_at(c, &["status"]) == "True")
            })
            .count();
        format!("{true_conditions}/{}", gates.len())
    };

    vec![
        s(name(pod)),
        s(format!("{ready}/{total}")),
        s(reason),
        s(restarts_cell),
        s(duration::since(time_at(pod, &["metadata", "creationTimestamp"]), now)),
        s(pod_ip),
        s(none_if_empty(str_at(pod, &["spec", "nodeName"]))),
        s(none_if_empty(str_at(pod, &["status", "nominatedNodeName"]))),
        s(readiness_gates),
    ]
}

/// Row conditions for finished pods, as printers.go attaches them.
pub fn row_conditions(pod: &Value) -> Option<Value> {
    match str_at(pod, &["status", "phase"]) {
        "Succeeded" => Some(json!([{
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully."
        }])),
        "Failed" => Some(json!([{
            "type": "Completed",
            "status": "True",
            "reason": "Failed",
            "message": "The pod failed."
        }])),
        _ => None,
    }
}

fn pod_template_row(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = layout_containers(arr_at(obj, &["template", "spec", "containers"]));
    vec![s(name(obj)), s(names), s(images), s(format_labels(obj_at(obj, &["template", "metadata", "labels"])))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ago(now: DateTime<Utc>, secs: i64) -> String {
        (now - chrono::TimeDelta::seconds(secs)).to_rfc3339()
    }

    fn pod(name: &str, spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": name}, "spec": spec, "status": status})
    }

    fn two_containers() -> Value {
        json!({"containers": [{"name": "a"}, {"name": "b"}]})
    }

    /// The five default-view cells.
    fn cells(p: &Value, now: DateTime<Utc>) -> Vec<Value> {
        pod_row(p, now)[..5].to_vec()
    }

    fn row5(name: &str, ready: &str, status: &str, restarts: &str) -> Vec<Value> {
        vec![json!(name), json!(ready), json!(status), json!(restarts), json!("<unknown>")]
    }

    // Expected cells: printers_test.go TestPrintPod, test1..test6.
    #[test]
    fn container_reasons_override_phase() {
        let now = Utc::now();
        let running = json!({"ready": true, "restartCount": 3, "state": {"running": {}}});
        let p1 = pod(
            "test1",
            two_containers(),
            json!({"phase": "podPhase", "containerStatuses": [running, {"restartCount": 3, "state": {}}]}),
        );
        assert_eq!(cells(&p1, now), row5("test1", "1/2", "podPhase", "6"));

        let waiting = json!({"restartCount": 3, "state": {"waiting": {"reason": "ContainerWaitingReason"}}});
        let p2 = pod("test2", two_containers(), json!({"phase": "podPhase", "containerStatuses": [running, waiting]}));
        assert_eq!(cells(&p2, now), row5("test2", "1/2", "ContainerWaitingReason", "6"));

        // The first container wins: statuses are walked last to first.
        let terminated =
            json!({"restartCount": 3, "state": {"terminated": {"reason": "ContainerTerminatedReason", "exitCode": 0}}});
        let p3 =
            pod("test3", two_containers(), json!({"phase": "podPhase", "containerStatuses": [waiting, terminated]}));
        assert_eq!(cells(&p3, now), row5("test3", "0/2", "ContainerWaitingReason", "6"));

        let ready_not_running = json!({"ready": true, "restartCount": 3, "state": {}});
        let p4 = pod(
            "test4",
            two_containers(),
            json!({"phase": "podPhase", "containerStatuses": [running, ready_not_running]}),
        );
        assert_eq!(cells(&p4, now), row5("test4", "1/2", "podPhase", "6"));

        let p5 = pod(
            "test5",
            two_containers(),
            json!({"reason": "podReason", "phase": "podPhase", "containerStatuses": [running, ready_not_running]}),
        );
        assert_eq!(cells(&p5, now), row5("test5", "1/2", "podReason", "6"));

        let completed =
            json!({"ready": true, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}});
        let p6 = pod("test6", two_containers(), json!({"phase": "Running", "containerStatuses": [completed, running]}));
        assert_eq!(cells(&p6, now), row5("test6", "1/2", "NotReady", "6"));
        let p6r = pod(
            "test6",
            two_containers(),
            json!({
                "phase": "Running",
                "containerStatuses": [completed, running],
                "conditions": [{"type": "Ready", "status": "True"}]
            }),
        );
        assert_eq!(cells(&p6r, now), row5("test6", "1/2", "Running", "6"));
    }

    // Expected cells: printers_test.go TestPrintPod, test7..test14.
    #[test]
    fn init_containers_and_restart_ages() {
        let now = Utc::now();
        let restarting = |n: i64, secs: i64| json!({"restartCount": n, "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, secs)}}});
        let waiting = json!({"state": {"waiting": {}}});
        let one_init = json!({"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]});
        let two_inits = json!({"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "c"}]});

        let p7 = pod(
            "test7",
            one_init.clone(),
            json!({"phase": "podPhase", "initContainerStatuses": [restarting(3, 10)], "containerStatuses": [waiting]}),
        );
        assert_eq!(cells(&p7, now), row5("test7", "0/1", "Init:0/1", "3 (10s ago)"));

        let p8 = pod(
            "test8",
            two_inits.clone(),
            json!({"phase": "podPhase", "initContainerStatuses": [restarting(3, 10), waiting], "containerStatuses": [waiting]}),
        );
        assert_eq!(cells(&p8, now), row5("test8", "0/1", "Init:0/2", "3 (10s ago)"));

        let done = json!({"state": {"terminated": {"exitCode": 0}}});
        let p9 = pod(
            "test9",
            two_inits.clone(),
            json!({"phase": "podPhase", "initContainerStatuses": [done, restarting(3, 10)], "containerStatuses": [waiting]}),
        );
        assert_eq!(cells(&p9, now), row5("test9", "0/1", "Init:1/2", "3 (10s ago)"));

        let done_with_restarts = json!({"restartCount": 2, "state": {"terminated": {"exitCode": 0}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, 120)}}});
        let p10 = pod(
            "test10",
            two_inits,
            json!({"phase": "podPhase", "initContainerStatuses": [done_with_restarts, restarting(3, 10)], "containerStatuses": [waiting]}),
        );
        assert_eq!(cells(&p10, now), row5("test10", "0/1", "Init:1/2", "5 (10s ago)"));

        // Once initialized, only the app containers' restarts count.
        let not_ready_running = json!({"ready": false, "restartCount": 4, "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, 20)}}});
        let p11 = pod(
            "test11",
            one_init,
            json!({"phase": "Running", "initContainerStatuses": [done_with_restarts], "containerStatuses": [not_ready_running]}),
        );
        assert_eq!(cells(&p11, now), row5("test11", "0/1", "Running", "4 (20s ago)"));

        let ready_restarted = |n: i64, secs: i64| json!({"ready": true, "restartCount": n, "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, secs)}}});
        let day = 24 * 3600;
        let p12 = pod(
            "test12",
            json!({"containers": [{"name": "c"}]}),
            json!({"phase": "Running", "containerStatuses": [ready_restarted(3, 5 * day)]}),
        );
        assert_eq!(cells(&p12, now), row5("test12", "1/1", "Running", "3 (5d ago)"));
        let never = json!({"ready": true, "restartCount": 0, "state": {"running": {}}});
        let p13 = pod(
            "test13",
            two_containers(),
            json!({"phase": "Running", "containerStatuses": [never, ready_restarted(3, 10 * day)]}),
        );
        assert_eq!(cells(&p13, now), row5("test13", "2/2", "Running", "3 (10d ago)"));
        let p14 = pod(
            "test14",
            two_containers(),
            json!({"phase": "Running", "containerStatuses": [ready_restarted(6, 5 * day), ready_restarted(3, 20 * day)]}),
        );
        assert_eq!(cells(&p14, now), row5("test14", "2/2", "Running", "9 (5d ago)"));
    }

    // Expected cells: printers_test.go TestPrintPod, test15..test20, plus NodeLost.
    #[test]
    fn gated_finished_and_terminating_pods() {
        let now = Utc::now();
        let p15 = pod(
            "test15",
            two_containers(),
            json!({"phase": "podPhase", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
        );
        assert_eq!(cells(&p15, now), row5("test15", "0/2", "SchedulingGated", "0"));

        let one = json!({"containers": [{"name": "c"}]});
        let completed =
            json!({"ready": false, "restartCount": 0, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}});
        let p16 = pod("test16", one.clone(), json!({"phase": "Succeeded", "containerStatuses": [completed]}));
        assert_eq!(cells(&p16, now), row5("test16", "0/1", "Completed", "0"));
        assert_eq!(
            row_conditions(&p16),
            Some(
                json!([{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}])
            )
        );

        let error =
            json!({"ready": false, "restartCount": 0, "state": {"terminated": {"reason": "Error", "exitCode": 1}}});
        let p17 = pod("test17", one.clone(), json!({"phase": "Failed", "containerStatuses": [error]}));
        assert_eq!(cells(&p17, now), row5("test17", "0/1", "Error", "0"));
        assert_eq!(row_conditions(&p17).map(|c| c[0]["reason"].clone()), Some(json!("Failed")));

        let deleted = |name: &str, status: Value| json!({"metadata": {"name": name, "deletionTimestamp": ago(now, 10)}, "spec": {"containers": [{"name": "c"}]}, "status": status});
        let p18 = deleted("test18", json!({"phase": "Succeeded", "containerStatuses": [completed]}));
        assert_eq!(cells(&p18, now), row5("test18", "0/1", "Completed", "0"));
        let p19 = deleted(
            "test19",
            json!({"phase": "Running", "containerStatuses": [{"ready": false, "state": {"running": {}}}]}),
        );
        assert_eq!(cells(&p19, now), row5("test19", "0/1", "Terminating", "0"));
        assert_eq!(row_conditions(&p19), None);
        let p20 = deleted("test20", json!({"phase": "Pending"}));
        assert_eq!(cells(&p20, now), row5("test20", "0/1", "Terminating", "0"));
        let lost = deleted("lost", json!({"phase": "Running", "reason": "NodeLost"}));
        assert_eq!(cells(&lost, now), row5("lost", "0/1", "Unknown", "0"));
    }

    // Expected cells: printers_test.go TestPrintPodWithRestartableInitContainer.
    #[test]
    fn sidecar_init_containers() {
        let now = Utc::now();
        let spec = json!({
            "initContainers": [
                {"name": "restartable-init-1", "restartPolicy": "Always"},
                {"name": "restartable-init-2", "restartPolicy": "Always"}
            ],
            "containers": [{"name": "c"}]
        });
        let init1 = |started: bool| {
            json!({
                "name": "restartable-init-1", "ready": false, "restartCount": 3, "state": {"running": {}}, "started": started,
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, 10)}}
            })
        };
        let waiting_main = json!({"ready": false, "restartCount": 0, "state": {"waiting": {}}});

        let p1 = pod(
            "test1",
            spec.clone(),
            json!({
                "phase": "Pending",
                "initContainerStatuses": [init1(false), {"name": "restartable-init-2", "ready": false, "state": {"waiting": {}}, "started": false}],
                "containerStatuses": [waiting_main],
                "conditions": [{"type": "Initialized", "status": "False"}]
            }),
        );
        assert_eq!(cells(&p1, now), row5("test1", "0/3", "Init:0/2", "3 (10s ago)"));

        let p1b = pod(
            "test1",
            spec.clone(),
            json!({
                "phase": "Pending",
                "initContainerStatuses": [init1(true), {"name": "restartable-init-2", "ready": false, "state": {"running": {}}, "started": false}],
                "containerStatuses": [waiting_main],
                "conditions": [{"type": "Initialized", "status": "False"}]
            }),
        );
        assert_eq!(cells(&p1b, now), row5("test1", "0/3", "Init:1/2", "3 (10s ago)"));

        let p2 = pod(
            "test2",
            spec.clone(),
            json!({
                "phase": "Running",
                "initContainerStatuses": [init1(true), {"name": "restartable-init-2", "ready": false, "state": {"running": {}}, "started": true}],
                "containerStatuses": [{"ready": true, "restartCount": 4, "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, 20)}}}],
                "conditions": [{"type": "Initialized", "status": "True"}]
            }),
        );
        assert_eq!(cells(&p2, now), row5("test2", "1/3", "Running", "7 (10s ago)"));

        let p3 = pod(
            "test3",
            spec,
            json!({
                "phase": "Succeeded",
                "initContainerStatuses": [
                    {"name": "restartable-init-1", "ready": false, "restartCount": 3, "state": {"terminated": {"reason": "Error", "exitCode": 137}}, "started": false,
                     "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, 10)}}},
                    {"name": "restartable-init-2", "ready": false, "state": {"terminated": {"reason": "Error", "exitCode": 137}}, "started": false}
                ],
                "containerStatuses": [{"ready": false, "restartCount": 4, "state": {"terminated": {"reason": "Completed", "exitCode": 0}},
                                       "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(now, 20)}}}],
                "conditions": [{"type": "Initialized", "status": "True"}]
            }),
        );
        assert_eq!(cells(&p3, now), row5("test3", "0/3", "Completed", "7 (10s ago)"));

        // Statuses for containers the spec does not have.
        let p4 = pod(
            "test4",
            json!({
                "initContainers": [{"name": "init1", "image": "initimage"}, {"name": "sidecar1", "image": "sidecarimage", "restartPolicy": "Always"}],
                "containers": [{"name": "container1", "image": "containerimage"}]
            }),
            json!({
                "phase": "Running",
                "initContainerStatuses": [{"name": "initinvalid"}, {"name": "init1"}, {"name": "sidecar1"}],
                "containerStatuses": [{"name": "containerinvalid"}, {"name": "container1"}]
            }),
        );
        assert_eq!(cells(&p4, now), row5("test4", "0/2", "Init:0/2", "0"));
    }

    // Init failures and crash loops as kubelet reports them.
    #[test]
    fn init_failures_and_crash_loops() {
        let now = Utc::now();
        let one_init = json!({"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]});
        let crash = pod(
            "crash",
            one_init.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [{"name": "i", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
        );
        assert_eq!(cells(&crash, now), row5("crash", "0/1", "Init:CrashLoopBackOff", "2"));
        let exit = pod(
            "exit",
            one_init.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"terminated": {"exitCode": 2}}}]}),
        );
        assert_eq!(cells(&exit, now)[2], json!("Init:ExitCode:2"));
        let signal = pod(
            "sig",
            one_init.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}),
        );
        assert_eq!(cells(&signal, now)[2], json!("Init:Signal:9"));
        // PodInitializing is not a reason worth showing.
        let init = pod(
            "pi",
            one_init,
            json!({"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"waiting": {"reason": "PodInitializing"}}}]}),
        );
        assert_eq!(cells(&init, now)[2], json!("Init:0/1"));

        let created = ago(now, 3 * 60 + 2);
        let app = json!({
            "metadata": {"name": "web-7d4b9c-xyz", "creationTimestamp": created},
            "spec": {"nodeName": "kind-worker", "containers": [{"name": "web"}]},
            "status": {
                "phase": "Running",
                "podIP": "10.244.1.5",
                "podIPs": [{"ip": "10.244.1.5"}],
                "containerStatuses": [{"name": "web", "ready": false, "restartCount": 5,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(now, 42)}}}]
            }
        });
        assert_eq!(
            pod_row(&app, now),
            vec![
                json!("web-7d4b9c-xyz"),
                json!("0/1"),
                json!("CrashLoopBackOff"),
                json!("5 (42s ago)"),
                json!("3m2s"),
                json!("10.244.1.5"),
                json!("kind-worker"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let bare_exit = pod(
            "x",
            json!({"containers": [{"name": "c"}]}),
            json!({"phase": "Running", "containerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]}),
        );
        assert_eq!(cells(&bare_exit, now)[2], json!("ExitCode:3"));
    }

    // Expected cells: printers_test.go TestPrintPodwide.
    #[test]
    fn wide_columns() {
        let now = Utc::now();
        let p = pod(
            "test1",
            json!({
                "containers": [{"name": "a"}, {"name": "b"}],
                "nodeName": "test1",
                "readinessGates": [{"conditionType": "condition1"}, {"conditionType": "condition2"}, {"conditionType": "condition3"}]
            }),
            json!({
                "conditions": [{"type": "condition1", "status": "False"}, {"type": "condition2", "status": "True"}],
                "phase": "podPhase",
                "podIPs": [{"ip": "1.1.1.1"}, {"ip": "2001:db8::"}],
                "containerStatuses": [{"ready": true, "restartCount": 3, "state": {"running": {}}}, {"restartCount": 3}],
                "nominatedNodeName": "node1"
            }),
        );
        assert_eq!(
            pod_row(&p, now),
            vec![
                json!("test1"),
                json!("1/2"),
                json!("podPhase"),
                json!("6"),
                json!("<unknown>"),
                json!("1.1.1.1"),
                json!("test1"),
                json!("node1"),
                json!("1/3")
            ]
        );
        let bare = pod("test2", two_containers(), json!({"phase": "podPhase"}));
        assert_eq!(pod_row(&bare, now)[5..], [json!("<none>"), json!("<none>"), json!("<none>"), json!("<none>")]);
    }

    // Expected cells: printers_test.go TestPrintPodTemplate.
    #[test]
    fn pod_templates() {
        let now = Utc::now();
        let t1 = json!({"metadata": {"name": "pod-template-1"}, "template": {"metadata": {"name": "pod-template-1"}, "spec": {"containers": []}}});
        assert_eq!(pod_template_row(&t1, now), vec![json!("pod-template-1"), json!(""), json!(""), json!("<none>")]);
        let t2 = json!({"metadata": {"name": "pod-template-2"}, "template": {"spec": {"containers": [
            {"name": "fake-container1", "image": "fake-image1"}, {"name": "fake-container2", "image": "fake-image2"}
        ]}}});
        assert_eq!(
            pod_template_row(&t2, now),
            vec![
                json!("pod-template-2"),
                json!("fake-container1,fake-container2"),
                json!("fake-image1,fake-image2"),
                json!("<none>")
            ]
        );
        let t3 = json!({"metadata": {"name": "pod-template-3"}, "template": {"metadata": {"labels": {"foo": "bar"}}, "spec": {"containers": []}}});
        assert_eq!(pod_template_row(&t3, now)[3], json!("foo=bar"));
    }
}
