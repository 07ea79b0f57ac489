//! `apps` printers: printers.go `printDeployment`, `printReplicaSet`,
//! `printStatefulSet`, `printDaemonSet`, `printControllerRevision`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{
    age, arr_at, format_label_selector, format_labels, get, int_at, layout_containers, n, name, obj_at, opt_bool,
    opt_int, s, selector_string, str_at,
};
use super::{col, Column, Printer, AGE_COLUMN, CONTAINERS_DESC, IMAGES_DESC, NAME_COLUMN};

/// `spec.replicas`, which apps/v1 defaulting sets to 1 when absent.
fn desired_replicas(obj: &Value) -> i64 {
    opt_int(obj, &["spec", "replicas"]).unwrap_or(1)
}

fn template_containers(obj: &Value) -> (String, String) {
    layout_containers(arr_at(obj, &["spec", "template", "spec", "containers"]))
}

const DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Ready", "string", "Number of the pod with ready state", 0),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        0,
    ),
    col(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        0,
    ),
    AGE_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 1),
    col("Images", "string", IMAGES_DESC, 1),
    col("Selector", "string", "Label selector for pods.", 1),
];

/// `printDeployment`.
pub static DEPLOYMENT: Printer = Printer { columns: DEPLOYMENT_COLUMNS, row: deployment_row };

fn deployment_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    // Unlike most printers this one prints selector.String() without "<none>".
    let selector = selector_string(get(obj, &["spec", "selector"])).unwrap_or_else(|_| "<invalid>".to_string());
    vec![
        s(name(obj)),
        s(format!("{}/{}", int_at(obj, &["status", "readyReplicas"]), desired_replicas(obj))),
        n(int_at(obj, &["status", "updatedReplicas"])),
        n(int_at(obj, &["status", "availableReplicas"])),
        s(age(obj, now)),
        s(names),
        s(images),
        s(selector),
    ]
}

const REPLICA_SET_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Desired", "integer", "Replicas is the number of desired replicas.", 0),
    col("Current", "integer", "Replicas is the most recently observed number of replicas.", 0),
    col("Ready", "integer", "The number of ready replicas for this replica set.", 0),
    AGE_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 1),
    col("Images", "string", IMAGES_DESC, 1),
    col("Selector", "string", "Selector is a label query over pods that should match the replica count.", 1),
];

/// `printReplicaSet`.
pub static REPLICA_SET: Printer = Printer { columns: REPLICA_SET_COLUMNS, row: replica_set_row };

fn replica_set_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    vec![
        s(name(obj)),
        n(desired_replicas(obj)),
        n(int_at(obj, &["status", "replicas"])),
        n(int_at(obj, &["status", "readyReplicas"])),
        s(age(obj, now)),
        s(names),
        s(images),
        s(format_label_selector(get(obj, &["spec", "selector"]))),
    ]
}

const STATEFUL_SET_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Ready", "string", "Number of the pod with ready state", 0),
    AGE_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 1),
    col("Images", "string", IMAGES_DESC, 1),
];

/// `printStatefulSet`.
pub static STATEFUL_SET: Printer = Printer { columns: STATEFUL_SET_COLUMNS, row: stateful_set_row };

fn stateful_set_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    vec![
        s(name(obj)),
        s(format!("{}/{}", int_at(obj, &["status", "readyReplicas"]), desired_replicas(obj))),
        s(age(obj, now)),
        s(names),
        s(images),
    ]
}

const DAEMON_SET_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Desired", "integer", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).", 0),
    col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.", 0),
    col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", 0),
    col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod", 0),
    col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)", 0),
    col("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node.", 0),
    AGE_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 1),
    col("Images", "string", IMAGES_DESC, 1),
    col("Selector", "string", "A label query over pods that are managed by the daemon set.", 1),
];

/// `printDaemonSet`.
pub static DAEMON_SET: Printer = Printer { columns: DAEMON_SET_COLUMNS, row: daemon_set_row };

fn daemon_set_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    vec![
        s(name(obj)),
        n(int_at(obj, &["status", "desiredNumberScheduled"])),
        n(int_at(obj, &["status", "currentNumberScheduled"])),
        n(int_at(obj, &["status", "numberReady"])),
        n(int_at(obj, &["status", "updatedNumberScheduled"])),
        n(int_at(obj, &["status", "numberAvailable"])),
        s(format_labels(obj_at(obj, &["spec", "template", "spec", "nodeSelector"]))),
        s(age(obj, now)),
        s(names),
        s(images),
        s(format_label_selector(get(obj, &["spec", "selector"]))),
    ]
}

const CONTROLLER_REVISION_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Controller", "string", "Controller of the object", 0),
    col("Revision", "string", "Revision indicates the revision of the state represented by Data.", 0),
    AGE_COLUMN,
];

/// `printControllerRevision`.
pub static CONTROLLER_REVISION: Printer =
    Printer { columns: CONTROLLER_REVISION_COLUMNS, row: controller_revision_row };

/// `metav1.GetControllerOf` rendered by `formatResourceName(gvk.GroupKind(), name, true)`:
/// "daemonset.apps/foo", or "<none>" without a controller owner.
fn controller_name(obj: &Value) -> String {
    let Some(owner) =
        arr_at(obj, &["metadata", "ownerReferences"]).iter().find(|r| opt_bool(r, &["controller"]) == Some(true))
    else {
        return "<none>".to_string();
    };
    let api_version = str_at(owner, &["apiVersion"]);
    // schema.ParseGroupVersion: "v1" has no group, "apps/v1" has group "apps".
    let group = match api_version.split_once('/') {
        Some((g, _)) => g,
        None => "",
    };
    let kind = str_at(owner, &["kind"]);
    let owner_name = str_at(owner, &["name"]);
    let group_kind = match (kind.is_empty(), group.is_empty()) {
        (true, true) => return owner_name.to_string(),
        (_, true) => kind.to_string(),
        _ => format!("{kind}.{group}"),
    };
    format!("{}/{owner_name}", group_kind.to_lowercase())
}

fn controller_revision_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(controller_name(obj)), n(int_at(obj, &["revision"])), s(age(obj, now))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now_plus_1_9s() -> (DateTime<Utc>, String) {
        let now = Utc::now();
        (now, (now + chrono::TimeDelta::milliseconds(1900)).to_rfc3339())
    }

    // Expected cells: printers_test.go TestPrintDeployment (wide).
    #[test]
    fn deployment() {
        let (now, created) = now_plus_1_9s();
        let d = json!({
            "metadata": {"name": "test1", "creationTimestamp": created},
            "spec": {
                "replicas": 5,
                "template": {"spec": {"containers": [
                    {"name": "fake-container1", "image": "fake-image1"},
                    {"name": "fake-container2", "image": "fake-image2"}
                ]}},
                "selector": {"matchLabels": {"foo": "bar"}}
            },
            "status": {"replicas": 10, "updatedReplicas": 2, "availableReplicas": 1, "unavailableReplicas": 4}
        });
        assert_eq!(
            deployment_row(&d, now),
            vec![
                json!("test1"),
                json!("0/5"),
                json!(2),
                json!(1),
                json!("0s"),
                json!("fake-container1,fake-container2"),
                json!("fake-image1,fake-image2"),
                json!("foo=bar")
            ]
        );
    }

    // A typical `kubectl create deployment nginx --replicas=3` two minutes after creation.
    #[test]
    fn deployment_ready_two_of_three() {
        let now = Utc::now();
        let d = json!({
            "metadata": {"name": "nginx", "creationTimestamp": (now - chrono::TimeDelta::seconds(150)).to_rfc3339()},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
                     "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        let cells = deployment_row(&d, now);
        assert_eq!(cells[..5], [json!("nginx"), json!("2/3"), json!(3), json!(2), json!("2m30s")]);
        assert_eq!(cells[7], json!("app=nginx"));
    }

    // Expected cells: printers_test.go TestPrintDaemonSet (wide).
    #[test]
    fn daemon_set() {
        let (now, created) = now_plus_1_9s();
        let ds = json!({
            "metadata": {"name": "test1", "creationTimestamp": created},
            "spec": {
                "template": {"spec": {"containers": [
                    {"name": "fake-container1", "image": "fake-image1"},
                    {"name": "fake-container2", "image": "fake-image2"}
                ]}},
                "selector": {"matchLabels": {"foo": "bar"}}
            },
            "status": {"currentNumberScheduled": 2, "desiredNumberScheduled": 3, "numberReady": 1, "updatedNumberScheduled": 2, "numberAvailable": 0}
        });
        assert_eq!(
            daemon_set_row(&ds, now),
            vec![
                json!("test1"),
                json!(3),
                json!(2),
                json!(1),
                json!(2),
                json!(0),
                json!("<none>"),
                json!("0s"),
                json!("fake-container1,fake-container2"),
                json!("fake-image1,fake-image2"),
                json!("foo=bar")
            ]
        );
    }

    // Expected cells: printers_test.go TestPrintControllerRevision.
    #[test]
    fn controller_revision() {
        let (now, created) = now_plus_1_9s();
        let owned = json!({
            "metadata": {"name": "test1", "creationTimestamp": created, "ownerReferences": [
                {"controller": true, "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "foo"}
            ]},
            "revision": 1
        });
        assert_eq!(
            controller_revision_row(&owned, now),
            vec![json!("test1"), json!("daemonset.apps/foo"), json!(1), json!("0s")]
        );
        let not_controller = json!({
            "metadata": {"name": "test2", "creationTimestamp": created, "ownerReferences": [
                {"controller": false, "kind": "ABC", "name": "foo"}
            ]},
            "revision": 2
        });
        assert_eq!(controller_revision_row(&not_controller, now)[1], json!("<none>"));
    }

    // Expected cells derived from printers.go printStatefulSet / printReplicaSet.
    #[test]
    fn stateful_set_and_replica_set() {
        let now = Utc::now();
        let sts = json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}},
            "status": {"readyReplicas": 3}
        });
        assert_eq!(
            stateful_set_row(&sts, now),
            vec![json!("web"), json!("3/3"), json!("<unknown>"), json!("nginx"), json!("nginx")]
        );
        let rs = json!({
            "metadata": {"name": "web-5d"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d"}}},
            "status": {"replicas": 2, "readyReplicas": 1}
        });
        assert_eq!(
            replica_set_row(&rs, now),
            vec![
                json!("web-5d"),
                json!(2),
                json!(2),
                json!(1),
                json!("<unknown>"),
                json!(""),
                json!(""),
                json!("app=web,pod-template-hash=5d")
            ]
        );
    }
}
