//! Defaulting of built-in objects, faithful to kube-apiserver v1.32, on the v1 JSON a
//! client sends.
//!
//! kube-apiserver changes an object in three places, and this module mirrors each:
//! - [`apply`]: the scheme defaults run when a request body (or a stored object) is decoded
//!   (`SetDefaults_*` and `+default=` markers), plus v1 conversion quirks (Secret
//!   `stringData`, Pod `serviceAccount`), canonical quantities, and the zero-valued structs
//!   Go always prints (`resources: {}`, template `creationTimestamp: null`, `status: {}`).
//!   Idempotent, never overwrites what the client set (except where kube itself does, e.g. the
//!   namespace name label), safe on create, update and read.
//! - [`prepare_for_create`]: the registry strategy's PrepareForCreate plus the default
//!   admission plugins' mutations (Pod tolerations, priority, service account, status,
//!   generation 1, Job selector, Namespace finalizer).
//! - [`prepare_for_update`]: PrepareForUpdate (status and generation handling, Service
//!   allocated-value patching, DaemonSet template generation).
//!
//! Call order on create: `apply`, fill `metadata.name` (generateName), `namespace`, `uid`,
//! then `prepare_for_create`, then `validation::validate`. On update: `apply`, then
//! `prepare_for_update`, then `validation::validate`.

mod admission;
mod apps;
mod batch;
mod core_v1;
pub(crate) mod json;
mod podspec;
pub(crate) mod quantity;
mod service_update;

use serde_json::{json, Value};

pub use admission::add_service_account_token_volume;
pub(crate) use admission::qos_class;

pub(crate) use core_v1::base64_decode;
use json::*;

/// Applies kube's decode-time defaults for `group`/`resource` (plural, lowercase) to `obj`.
/// Unknown resources are left untouched.
pub fn apply(group: &str, resource: &str, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (group, resource) {
        ("", "pods") => {
            core_v1::pod(obj);
            // Admission additions are idempotent and also right on update (DefaultTolerationSeconds
            // runs on update; priority and service account only fill what is unset), so they are
            // applied here as well as in prepare_for_create.
            admission::default_service_account(obj);
            admission::default_toleration_seconds(obj);
            admission::default_priority(obj);
            if let Some(status) = ensure_obj(obj, "status") {
                if get_str(status, "qosClass").is_empty() {
                    let qos = admission::qos_class(&status_free(obj));
                    if let Some(status) = child_mut(obj, "status") {
                        set(status, "qosClass", json!(qos));
                    }
                }
            }
        }
        ("", "podtemplates") => core_v1::pod_template(obj),
        ("", "replicationcontrollers") => core_v1::replication_controller(obj),
        ("", "services") => core_v1::service(obj),
        ("", "namespaces") => core_v1::namespace(obj),
        ("", "secrets") => core_v1::secret(obj),
        ("", "persistentvolumeclaims") => core_v1::pvc(obj),
        ("", "persistentvolumes") => core_v1::pv(obj),
        ("", "endpoints") => core_v1::endpoints(obj),
        ("", "nodes") => core_v1::node(obj),
        ("", "limitranges") => core_v1::limit_range(obj),
        ("", "resourcequotas") => core_v1::resource_quota(obj),
        ("apps", "deployments") => apps::deployment(obj),
        ("apps", "daemonsets") => apps::daemon_set(obj),
        ("apps", "statefulsets") => apps::stateful_set(obj),
        ("apps", "replicasets") => apps::replica_set(obj),
        ("batch", "jobs") => {
            batch::job(obj);
            // The strategy generates the selector on create; doing it whenever the uid is known
            // keeps a caller that only runs `apply` working (it is a no-op once generated).
            if at(obj, &["metadata", "uid"]).and_then(Value::as_str).is_some_and(|u| !u.is_empty()) {
                batch::job_generate_selector(obj);
            }
        }
        ("batch", "cronjobs") => batch::cron_job(obj),
        ("policy", "poddisruptionbudgets") => pdb_status(obj),
        // SetDefaults_PriorityClass.
        ("scheduling.k8s.io", "priorityclasses") => default_ptr(obj, "preemptionPolicy", json!("PreemptLowerPriority")),
        _ => {}
    }
}

/// The object without its status (QoS only looks at the spec; avoids cloning status).
fn status_free(obj: &Value) -> Value {
    json!({"spec": obj.get("spec").cloned().unwrap_or(Value::Null)})
}

/// PodDisruptionBudgetStatus has four counters without omitempty.
fn pdb_status(obj: &mut Value) {
    if let Some(status) = ensure_obj(obj, "status") {
        for k in ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"] {
            default_ptr(status, k, json!(0));
        }
    }
}

/// Kinds whose strategy sets `metadata.generation = 1` on create and bumps it when the spec
/// changes.
pub(crate) fn tracks_generation(group: &str, resource: &str) -> bool {
    matches!(
        (group, resource),
        ("", "replicationcontrollers")
            | ("apps", "deployments" | "daemonsets" | "statefulsets" | "replicasets")
            | ("batch", "jobs" | "cronjobs")
            | ("networking.k8s.io", "networkpolicies" | "ingresses")
            | ("policy", "poddisruptionbudgets")
            | ("autoscaling", "horizontalpodautoscalers")
            | ("apiextensions.k8s.io", "customresourcedefinitions")
            | (
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations"
                    | "mutatingwebhookconfigurations"
                    | "validatingadmissionpolicies"
                    | "validatingadmissionpolicybindings"
            )
            | ("flowcontrol.apiserver.k8s.io", "flowschemas" | "prioritylevelconfigurations")
    )
}

/// Kinds with a status subresource: the main resource never writes status (kube resets it on
/// create and keeps the stored one on update).
pub(crate) fn has_status(group: &str, resource: &str) -> bool {
    // The catalog is the one list of which built-ins have a status subresource.
    crate::kinds::catalog::RESOURCES
        .iter()
        .any(|r| r.group == group && r.resource == resource && r.subresources.iter().any(|s| s.name == "status"))
}

/// The spec-like part whose change bumps the generation.
fn generation_source<'a>(group: &str, resource: &str, obj: &'a Value) -> Vec<Option<&'a Value>> {
    match (group, resource) {
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations" | "mutatingwebhookconfigurations") => {
            vec![obj.get("webhooks")]
        }
        // Deployment annotations are copied to ReplicaSets, so they bump the generation too.
        ("apps", "deployments") => vec![obj.get("spec"), at(obj, &["metadata", "annotations"])],
        _ => vec![obj.get("spec")],
    }
}

/// Current time as metav1.Time prints it (RFC 3339, seconds, UTC).
fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Applies the create-time changes kube's strategy and default admission plugins make, then
/// re-applies [`apply`] (kube decodes the stored object again, with defaults).
/// Expects `metadata.name`, `metadata.namespace` and `metadata.uid` to be set already.
///
/// Not done here (they need the store): the `kube-api-access-*` token volume (the store adds
/// it, see [`add_service_account_token_volume`]), resolving a non-system
/// `priorityClassName` or a globalDefault PriorityClass, LimitRanger defaults.
pub fn prepare_for_create(group: &str, resource: &str, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    // Nodes are created by kubelets with their status, which kube keeps.
    if has_status(group, resource) && resource != "nodes" {
        set(obj, "status", json!({}));
    }
    if tracks_generation(group, resource) {
        if let Some(meta) = ensure_obj(obj, "metadata") {
            set(meta, "generation", json!(1));
        }
    }
    match (group, resource) {
        ("", "pods") => {
            admission::default_service_account(obj);
            admission::default_toleration_seconds(obj);
            admission::default_priority(obj);
            apply(group, resource, obj);
            admission::pod_prepare_for_create(obj);
        }
        ("", "namespaces") => {
            set(obj, "status", json!({"phase": "Active"}));
            if let Some(spec) = ensure_obj(obj, "spec") {
                let has = get_arr(spec, "finalizers").into_iter().flatten().any(|f| f.as_str() == Some("kubernetes"));
                if !has {
                    if is_nil(spec, "finalizers") {
                        set(spec, "finalizers", json!([]));
                    }
                    if let Some(Value::Array(f)) = child_mut(spec, "finalizers") {
                        f.push(json!("kubernetes"));
                    }
                }
            }
        }
        ("", "persistentvolumes") => {
            set(obj, "status", json!({"phase": "Pending", "lastPhaseTransitionTime": now()}));
        }
        ("", "nodes") => {
            if let Some(spec) = child_mut(obj, "spec").and_then(Value::as_object_mut) {
                spec.remove("configSource");
            }
            if let Some(status) = child_mut(obj, "status").and_then(Value::as_object_mut) {
                status.remove("config");
            }
        }
        ("apps", "daemonsets") => {
            if let Some(meta) = ensure_obj(obj, "metadata") {
                if let Some(a) = ensure_obj(meta, "annotations") {
                    // The internal spec.templateGeneration, carried by this annotation in v1.
                    set(a, DS_TEMPLATE_GENERATION, json!("1"));
                }
            }
        }
        ("batch", "jobs") => {
            apply(group, resource, obj);
            batch::job_generate_selector(obj);
        }
        _ => {}
    }
    apply(group, resource, obj);
}

const DS_TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// Applies the update-time changes of kube's strategies (`obj` is the new object, `old` the
/// stored one), then re-applies [`apply`]:
/// generation cannot be set by clients and is bumped when the spec changes, the main resource
/// cannot change status, namespace finalizers only change through `/finalize`, Services keep
/// their allocated IPs/ports when the client omits them, DaemonSets track template changes.
pub fn prepare_for_update(group: &str, resource: &str, obj: &mut Value, old: &Value) {
    if !obj.is_object() {
        return;
    }
    let old_gen = at(old, &["metadata", "generation"]).and_then(Value::as_i64);
    if let Some(meta) = ensure_obj(obj, "metadata") {
        match old_gen {
            Some(g) => set(meta, "generation", json!(g)),
            None => {
                if let Some(m) = meta.as_object_mut() {
                    m.remove("generation");
                }
            }
        }
    }
    if has_status(group, resource) {
        match old.get("status") {
            Some(s) => set(obj, "status", s.clone()),
            None => {
                if let Some(m) = obj.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    match (group, resource) {
        ("", "namespaces") => {
            let fin = at(old, &["spec", "finalizers"]).cloned();
            if let Some(spec) = ensure_obj(obj, "spec") {
                match fin {
                    Some(f) => set(spec, "finalizers", f),
                    None => {
                        if let Some(m) = spec.as_object_mut() {
                            m.remove("finalizers");
                        }
                    }
                }
            }
        }
        ("", "services") => service_update::prepare(obj, old),
        ("", "pods") => {
            // Priority admission keeps the priority it resolved on create.
            for k in ["priority", "preemptionPolicy"] {
                if at(obj, &["spec", k]).is_none_or(Value::is_null) {
                    if let (Some(v), Some(spec)) = (at(old, &["spec", k]).cloned(), child_mut(obj, "spec")) {
                        set(spec, k, v);
                    }
                }
            }
            admission::default_toleration_seconds(obj);
        }
        ("apps", "daemonsets") => {
            apply(group, resource, obj);
            let old_tg = at(old, &["metadata", "annotations", DS_TEMPLATE_GENERATION])
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0);
            let changed = normal(at(obj, &["spec", "template"])) != normal(at(old, &["spec", "template"]));
            let tg = if changed { old_tg + 1 } else { old_tg };
            if let Some(meta) = ensure_obj(obj, "metadata") {
                if let Some(a) = ensure_obj(meta, "annotations") {
                    set(a, DS_TEMPLATE_GENERATION, json!(tg.to_string()));
                }
            }
        }
        _ => {}
    }
    if tracks_generation(group, resource) {
        apply(group, resource, obj);
        let mut old_d = old.clone();
        apply(group, resource, &mut old_d);
        let new_src: Vec<Value> = generation_source(group, resource, obj).into_iter().map(normal).collect();
        let old_src: Vec<Value> = generation_source(group, resource, &old_d).into_iter().map(normal).collect();
        if new_src != old_src {
            if let Some(meta) = ensure_obj(obj, "metadata") {
                set(meta, "generation", json!(old_gen.unwrap_or(0) + 1));
            }
        }
    }
    apply(group, resource, obj);
}

/// Go's semantic equality ignores nil-vs-empty differences; compare normalized JSON.
fn normal(v: Option<&Value>) -> Value {
    v.map(json::normalize).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    // Expected objects are what `kubectl create ... --dry-run=server -o yaml` prints against a
    // v1.32 kube-apiserver, minus the fields the caller owns (creationTimestamp, uid,
    // namespace, resourceVersion, allocated cluster IPs and node ports). Inputs are the bodies
    // kubectl sends for the same commands.

    use super::*;
    use serde_json::json;

    const UID: &str = "0b7a9a4e-1111-4c2f-9a53-2f0d9c4e5a10";

    /// What the server does to a create body: defaults, then name/namespace/uid, then the
    /// create-time strategy and admission changes.
    fn create(group: &str, resource: &str, mut obj: Value, namespaced: bool) -> Value {
        apply(group, resource, &mut obj);
        if let Some(meta) = ensure_obj(&mut obj, "metadata") {
            if namespaced {
                set(meta, "namespace", json!("default"));
            }
            set(meta, "uid", json!(UID));
        }
        prepare_for_create(group, resource, &mut obj);
        obj
    }

    fn container(name: &str, image: &str, pull: &str) -> Value {
        json!({
            "image": image,
            "imagePullPolicy": pull,
            "name": name,
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"
        })
    }

    fn template_spec(containers: Vec<Value>, restart: &str) -> Value {
        json!({
            "containers": containers,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": restart,
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30
        })
    }

    #[test]
    fn pod_from_kubectl_run() {
        // kubectl run nginx --image=nginx --dry-run=server -o yaml (v1.32), without the
        // kube-api-access volume (tested separately: its name is random).
        let body = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"creationTimestamp": null, "labels": {"run": "nginx"}, "name": "nginx"},
            "spec": {"containers": [{"image": "nginx", "name": "nginx", "resources": {}}], "dnsPolicy": "ClusterFirst", "restartPolicy": "Always"},
            "status": {}});
        let pod = create("", "pods", body, true);
        assert_eq!(
            pod["spec"],
            json!({
                "containers": [container("nginx", "nginx", "Always")],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "preemptionPolicy": "PreemptLowerPriority",
                "priority": 0,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "serviceAccount": "default",
                "serviceAccountName": "default",
                "terminationGracePeriodSeconds": 30,
                "tolerations": [
                    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
                ]
            })
        );
        assert_eq!(pod["status"], json!({"phase": "Pending", "qosClass": "BestEffort"}));
        assert!(pod["metadata"].get("generation").is_none());
    }

    #[test]
    fn pod_service_account_volume() {
        // The projected volume and mount the ServiceAccount admission plugin adds (v1.32 output).
        let mut pod = create(
            "",
            "pods",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}),
            true,
        );
        add_service_account_token_volume(&mut pod, "x7k2b");
        assert_eq!(
            pod["spec"]["volumes"],
            json!([{"name": "kube-api-access-x7k2b", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
            ]}}])
        );
        assert_eq!(
            pod["spec"]["containers"][0]["volumeMounts"],
            json!([{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-x7k2b", "readOnly": true}])
        );
        // IfNotPresent because the image has a tag other than latest.
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
        let mut opted_out = json!({"spec": {"automountServiceAccountToken": false, "containers": [{"name": "c"}]}});
        add_service_account_token_volume(&mut opted_out, "x7k2b");
        assert!(opted_out["spec"].get("volumes").is_none());
    }

    #[test]
    fn pod_resources_qos_and_nested_defaults() {
        // Requests copy limits (SetDefaults_Pod), quantities are canonical, probes and volumes
        // get their defaults: as `kubectl get pod -o yaml` shows for such a manifest.
        let pod = create(
            "",
            "pods",
            json!({"metadata": {"name": "p"}, "spec": {
                "containers": [{"name": "c", "image": "app:v1",
                    "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}},
                    "ports": [{"containerPort": 8080}],
                    "livenessProbe": {"httpGet": {"port": 8080}},
                    "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}]}],
                "volumes": [{"name": "cfg", "configMap": {"name": "c"}}, {"name": "scratch"}, {"name": "host", "hostPath": {"path": "/tmp"}}]
            }}),
            true,
        );
        let c = &pod["spec"]["containers"][0];
        assert_eq!(
            c["resources"],
            json!({"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}})
        );
        assert_eq!(c["ports"][0], json!({"containerPort": 8080, "protocol": "TCP"}));
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"}, "failureThreshold": 3, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1})
        );
        assert_eq!(c["env"][0]["valueFrom"]["fieldRef"], json!({"apiVersion": "v1", "fieldPath": "metadata.name"}));
        assert_eq!(c["env"][1]["valueFrom"]["resourceFieldRef"], json!({"divisor": "0", "resource": "limits.cpu"}));
        assert_eq!(pod["spec"]["volumes"][0], json!({"name": "cfg", "configMap": {"defaultMode": 420, "name": "c"}}));
        assert_eq!(pod["spec"]["volumes"][1], json!({"name": "scratch", "emptyDir": {}}));
        assert_eq!(pod["spec"]["volumes"][2], json!({"name": "host", "hostPath": {"path": "/tmp", "type": ""}}));
        // Only a cpu/memory limit on every container with equal requests is Guaranteed.
        assert_eq!(pod["status"]["qosClass"], "Guaranteed");
    }

    #[test]
    fn pod_create_replaces_client_status_and_gates() {
        let pod = create(
            "",
            "pods",
            json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "x"}], "schedulingGates": [{"name": "example.com/gate"}]},
            "status": {"phase": "Running"}}),
            true,
        );
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort", "conditions": [{"type": "PodScheduled", "status": "False",
                "lastProbeTime": null, "lastTransitionTime": null, "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates"}]})
        );
    }

    #[test]
    fn system_priority_classes_resolve() {
        let pod = create(
            "",
            "pods",
            json!({"metadata": {"name": "p"}, "spec": {"priorityClassName": "system-node-critical", "containers": [{"name": "c", "image": "x"}]}}),
            true,
        );
        assert_eq!(pod["spec"]["priority"], 2_000_001_000);
        // A user PriorityClass needs a lookup: left for the caller.
        let pod = create(
            "",
            "pods",
            json!({"metadata": {"name": "p"}, "spec": {"priorityClassName": "high", "containers": [{"name": "c", "image": "x"}]}}),
            true,
        );
        assert!(pod["spec"].get("priority").is_none());
    }

    #[test]
    fn deployment_from_kubectl_create() {
        // kubectl create deployment nginx --image=nginx --dry-run=server -o yaml (v1.32).
        let body = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"creationTimestamp": null, "labels": {"app": "nginx"}, "name": "nginx"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}}, "strategy": {},
                "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "nginx"}},
                    "spec": {"containers": [{"image": "nginx", "name": "nginx", "resources": {}}]}}},
            "status": {}});
        let d = create("apps", "deployments", body, true);
        assert_eq!(d["metadata"]["generation"], 1);
        assert_eq!(
            d["spec"],
            json!({
                "progressDeadlineSeconds": 600,
                "replicas": 1,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app": "nginx"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "nginx"}},
                    "spec": template_spec(vec![container("nginx", "nginx", "Always")], "Always")}
            })
        );
        assert_eq!(d["status"], json!({}));
    }

    #[test]
    fn templates_do_not_get_pod_only_defaults() {
        let d = create(
            "apps",
            "deployments",
            json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x", "resources": {"limits": {"cpu": "1"}}}]}}}}),
            true,
        );
        let spec = &d["spec"]["template"]["spec"];
        for k in ["enableServiceLinks", "tolerations", "priority", "preemptionPolicy", "serviceAccountName"] {
            assert!(spec.get(k).is_none(), "{k} must not be defaulted in templates");
        }
        // Requests are not copied from limits in templates.
        assert_eq!(spec["containers"][0]["resources"], json!({"limits": {"cpu": "1"}}));
    }

    #[test]
    fn replicaset_daemonset_statefulset() {
        // kubectl create -f of minimal manifests, --dry-run=server -o yaml (v1.32).
        let tmpl = json!({"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}});
        let rs = create(
            "apps",
            "replicasets",
            json!({"metadata": {"name": "rs"}, "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": tmpl}}),
            true,
        );
        assert_eq!(rs["spec"]["replicas"], 1);
        assert_eq!(rs["status"], json!({"replicas": 0}));
        assert_eq!(rs["metadata"]["generation"], 1);

        let ds = create(
            "apps",
            "daemonsets",
            json!({"metadata": {"name": "ds"}, "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": tmpl}}),
            true,
        );
        assert_eq!(
            ds["spec"]["updateStrategy"],
            json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"})
        );
        assert_eq!(ds["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(ds["metadata"]["annotations"], json!({"deprecated.daemonset.template.generation": "1"}));
        assert_eq!(
            ds["status"],
            json!({"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0})
        );

        let sts = create(
            "apps",
            "statefulsets",
            json!({"metadata": {"name": "web"}, "spec": {"serviceName": "web",
            "selector": {"matchLabels": {"app": "a"}}, "template": tmpl,
            "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
            true,
        );
        let spec = &sts["spec"];
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(spec["updateStrategy"], json!({"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"}));
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(
            spec["volumeClaimTemplates"][0],
            json!({"metadata": {"creationTimestamp": null, "name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
                "status": {"phase": "Pending"}})
        );
        assert_eq!(sts["status"], json!({"availableReplicas": 0, "replicas": 0}));
        // OnDelete keeps no rollingUpdate.
        let sts = create(
            "apps",
            "statefulsets",
            json!({"metadata": {"name": "w"}, "spec": {"updateStrategy": {"type": "OnDelete"}}}),
            true,
        );
        assert_eq!(sts["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
    }

    #[test]
    fn job_from_kubectl_create() {
        // kubectl create job pi --image=perl --dry-run=server -o yaml (v1.32).
        let body = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"creationTimestamp": null, "name": "pi"},
            "spec": {"template": {"metadata": {"creationTimestamp": null},
                "spec": {"containers": [{"image": "perl", "name": "pi", "resources": {}}], "restartPolicy": "Never"}}},
            "status": {}});
        let job = create("batch", "jobs", body, true);
        let labels = json!({"batch.kubernetes.io/controller-uid": UID, "batch.kubernetes.io/job-name": "pi", "controller-uid": UID, "job-name": "pi"});
        assert_eq!(job["metadata"]["labels"], labels);
        assert_eq!(job["metadata"]["generation"], 1);
        assert_eq!(
            job["spec"],
            json!({
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "completions": 1,
                "manualSelector": false,
                "parallelism": 1,
                "podReplacementPolicy": "TerminatingOrFailed",
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}},
                "suspend": false,
                "template": {"metadata": {"creationTimestamp": null, "labels": labels},
                    "spec": template_spec(vec![container("pi", "perl", "Always")], "Never")}
            })
        );
        assert_eq!(job["status"], json!({}));
    }

    #[test]
    fn job_keeps_own_labels_and_manual_selector() {
        let job = create(
            "batch",
            "jobs",
            json!({"metadata": {"name": "j", "labels": {"team": "a"}},
            "spec": {"parallelism": 3, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}}),
            true,
        );
        assert_eq!(job["metadata"]["labels"], json!({"team": "a"}));
        // completions stays unset when only parallelism is given.
        assert!(job["spec"].get("completions").is_none());
        assert_eq!(job["spec"]["template"]["metadata"]["labels"]["app"], "x");
        let job = create(
            "batch",
            "jobs",
            json!({"metadata": {"name": "m"}, "spec": {"manualSelector": true,
            "selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}}),
            true,
        );
        assert_eq!(job["spec"]["selector"], json!({"matchLabels": {"app": "x"}}));
        assert_eq!(job["metadata"]["labels"], json!({"app": "x"}));
        // A pod failure policy switches the replacement policy to Failed.
        let job = create(
            "batch",
            "jobs",
            json!({"metadata": {"name": "f"}, "spec": {"podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}}}),
            true,
        );
        assert_eq!(job["spec"]["podReplacementPolicy"], "Failed");
        assert_eq!(job["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"], "True");
    }

    #[test]
    fn cronjob_from_kubectl_create() {
        // kubectl create cronjob hello --image=busybox --schedule="*/1 * * * *" --dry-run=server -o yaml (v1.32).
        let body = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"creationTimestamp": null, "name": "hello"},
            "spec": {"jobTemplate": {"metadata": {"creationTimestamp": null, "name": "hello"},
                "spec": {"template": {"metadata": {"creationTimestamp": null},
                    "spec": {"containers": [{"image": "busybox", "name": "hello", "resources": {}}], "restartPolicy": "OnFailure"}}}},
                "schedule": "*/1 * * * *"},
            "status": {}});
        let cj = create("batch", "cronjobs", body, true);
        assert_eq!(
            cj["spec"],
            json!({
                "concurrencyPolicy": "Allow",
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {"metadata": {"creationTimestamp": null, "name": "hello"},
                    "spec": {"template": {"metadata": {"creationTimestamp": null},
                        "spec": template_spec(vec![container("hello", "busybox", "Always")], "OnFailure")}}},
                "schedule": "*/1 * * * *",
                "successfulJobsHistoryLimit": 3,
                "suspend": false
            })
        );
        assert_eq!(cj["status"], json!({}));
        assert_eq!(cj["metadata"]["generation"], 1);
    }

    #[test]
    fn services_from_kubectl_create() {
        // kubectl create service clusterip my --tcp=80:8080 --dry-run=server -o yaml (v1.32),
        // minus clusterIP/clusterIPs, which the caller allocates.
        let body = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"creationTimestamp": null, "labels": {"app": "my"}, "name": "my"},
            "spec": {"ports": [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}], "selector": {"app": "my"}, "type": "ClusterIP"},
            "status": {"loadBalancer": {}}});
        let svc = create("", "services", body, true);
        assert_eq!(
            svc["spec"],
            json!({
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "ports": [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}],
                "selector": {"app": "my"},
                "sessionAffinity": "None",
                "type": "ClusterIP"
            })
        );
        assert_eq!(svc["status"], json!({"loadBalancer": {}}));
        assert!(svc["metadata"].get("generation").is_none());

        // kubectl create service nodeport / loadbalancer add these.
        let np = create(
            "",
            "services",
            json!({"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
            true,
        );
        assert_eq!(np["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(np["spec"]["ports"][0], json!({"port": 80, "protocol": "TCP", "targetPort": 80}));
        let lb = create(
            "",
            "services",
            json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}),
            true,
        );
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        // ExternalName: no families, no internalTrafficPolicy.
        let en = create(
            "",
            "services",
            json!({"metadata": {"name": "en"}, "spec": {"type": "ExternalName", "externalName": "example.com"}}),
            true,
        );
        assert!(en["spec"].get("ipFamilies").is_none());
        assert!(en["spec"].get("internalTrafficPolicy").is_none());
        // Headless without selector: RequireDualStack with both families (documented default).
        let hl = create(
            "",
            "services",
            json!({"metadata": {"name": "hl"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}),
            true,
        );
        assert_eq!(hl["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(hl["spec"]["ipFamilyPolicy"], "RequireDualStack");
        assert_eq!(hl["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
        // ClientIP affinity gets the 3h timeout.
        let ca = create(
            "",
            "services",
            json!({"metadata": {"name": "ca"}, "spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]}}),
            true,
        );
        assert_eq!(ca["spec"]["sessionAffinityConfig"], json!({"clientIP": {"timeoutSeconds": 10800}}));
    }

    #[test]
    fn namespace_secret_configmap_pvc_pv() {
        // kubectl create namespace dev --dry-run=server -o yaml (v1.32).
        let ns = create(
            "",
            "namespaces",
            json!({"metadata": {"creationTimestamp": null, "name": "dev"}, "spec": {}, "status": {}}),
            false,
        );
        assert_eq!(ns["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "dev"}));
        assert_eq!(ns["spec"], json!({"finalizers": ["kubernetes"]}));
        assert_eq!(ns["status"], json!({"phase": "Active"}));

        // kubectl create secret generic s --from-literal=user=admin; stringData is folded into data.
        let s = create("", "secrets", json!({"metadata": {"name": "s"}, "data": {"user": "YWRtaW4="}}), true);
        assert_eq!(s["type"], "Opaque");
        let s = create(
            "",
            "secrets",
            json!({"metadata": {"name": "s"}, "data": {"a": "eA=="}, "stringData": {"a": "admin", "b": "pw"}}),
            true,
        );
        assert_eq!(s["data"], json!({"a": "YWRtaW4=", "b": "cHc="}));
        assert!(s.get("stringData").is_none());

        // kubectl create configmap c --from-literal=a=b: nothing added.
        let cm = create("", "configmaps", json!({"metadata": {"name": "c"}, "data": {"a": "b"}}), true);
        assert_eq!(cm, json!({"metadata": {"name": "c", "namespace": "default", "uid": UID}, "data": {"a": "b"}}));

        let pvc = create(
            "",
            "persistentvolumeclaims",
            json!({"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}}),
            true,
        );
        assert_eq!(
            pvc["spec"],
            json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"})
        );
        assert_eq!(pvc["status"], json!({"phase": "Pending"}));

        let pv = create(
            "",
            "persistentvolumes",
            json!({"metadata": {"name": "v"}, "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data"}}}),
            false,
        );
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(pv["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pv["spec"]["hostPath"], json!({"path": "/data", "type": ""}));
        assert_eq!(pv["status"]["phase"], "Pending");
        assert!(pv["status"]["lastPhaseTransitionTime"].is_string());
    }

    #[test]
    fn rc_podtemplate_node_endpoints_priorityclass() {
        let rc = create(
            "",
            "replicationcontrollers",
            json!({"metadata": {"name": "rc"}, "spec": {"template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
            true,
        );
        assert_eq!(rc["spec"]["selector"], json!({"app": "a"}));
        assert_eq!(rc["metadata"]["labels"], json!({"app": "a"}));
        assert_eq!(rc["spec"]["replicas"], 1);
        assert_eq!(rc["status"], json!({"replicas": 0}));

        let pt = create(
            "",
            "podtemplates",
            json!({"metadata": {"name": "pt"}, "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}),
            true,
        );
        assert_eq!(pt["template"]["metadata"], json!({"creationTimestamp": null}));
        assert_eq!(pt["template"]["spec"]["schedulerName"], "default-scheduler");

        // kubectl create -f of a bare Node (v1.32 prints the zero-valued status structs).
        let node = create(
            "",
            "nodes",
            json!({"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}}),
            false,
        );
        assert_eq!(node["spec"], json!({}));
        assert_eq!(node["status"]["allocatable"], json!({"cpu": "4", "memory": "8Gi"}));
        assert_eq!(node["status"]["daemonEndpoints"], json!({"kubeletEndpoint": {"Port": 0}}));
        assert_eq!(node["status"]["nodeInfo"]["kubeletVersion"], "");

        let ep = create(
            "",
            "endpoints",
            json!({"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
            true,
        );
        assert_eq!(ep["subsets"][0]["ports"][0], json!({"port": 80, "protocol": "TCP"}));

        let pc =
            create("scheduling.k8s.io", "priorityclasses", json!({"metadata": {"name": "high"}, "value": 1000}), false);
        assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");
    }

    #[test]
    fn apply_is_idempotent_and_keeps_client_values() {
        let inputs = [
            (
                "",
                "pods",
                json!({"metadata": {"name": "p"}, "spec": {"restartPolicy": "Never", "dnsPolicy": "Default", "terminationGracePeriodSeconds": 5,
                "containers": [{"name": "c", "image": "x:latest", "imagePullPolicy": "Never", "terminationMessagePolicy": "FallbackToLogsOnError"}]}}),
            ),
            (
                "apps",
                "deployments",
                json!({"metadata": {"name": "d"}, "spec": {"replicas": 0, "revisionHistoryLimit": 2, "strategy": {"type": "Recreate"}}}),
            ),
            (
                "",
                "services",
                json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "externalTrafficPolicy": "Local", "ports": [{"port": 80, "targetPort": "http"}]}}),
            ),
            ("batch", "jobs", json!({"metadata": {"name": "j"}, "spec": {"backoffLimit": 0, "suspend": true}})),
        ];
        for (g, r, obj) in inputs {
            let mut once = obj.clone();
            apply(g, r, &mut once);
            let mut twice = once.clone();
            apply(g, r, &mut twice);
            assert_eq!(once, twice, "{r} defaults must be idempotent");
        }
        let mut pod = json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x:latest", "imagePullPolicy": "Never"}]}});
        apply("", "pods", &mut pod);
        assert_eq!(pod["spec"]["restartPolicy"], "Never");
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Never");
        let mut d = json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}});
        apply("apps", "deployments", &mut d);
        assert_eq!(d["spec"]["replicas"], 0);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
        let mut s = json!({"spec": {"ports": [{"port": 80, "targetPort": "http"}]}});
        apply("", "services", &mut s);
        assert_eq!(s["spec"]["ports"][0]["targetPort"], "http");
        // Unknown resources are untouched.
        let mut cr = json!({"spec": {"x": 1}});
        apply("example.com", "widgets", &mut cr);
        assert_eq!(cr, json!({"spec": {"x": 1}}));
    }

    #[test]
    fn update_keeps_status_generation_and_allocations() {
        let old = create(
            "apps",
            "deployments",
            json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
            true,
        );
        let mut old = old;
        set(&mut old, "status", json!({"replicas": 1}));
        // Same spec: generation stays; status comes from storage.
        let mut new = old.clone();
        set(&mut new, "status", json!({}));
        prepare_for_update("apps", "deployments", &mut new, &old);
        assert_eq!(new["metadata"]["generation"], 1);
        assert_eq!(new["status"], json!({"replicas": 1}));
        // Changed image: generation 2.
        let mut new = old.clone();
        if let Some(c) = new.pointer_mut("/spec/template/spec/containers/0") {
            set(c, "image", json!("y"));
        }
        prepare_for_update("apps", "deployments", &mut new, &old);
        assert_eq!(new["metadata"]["generation"], 2);

        // A resubmitted Service manifest keeps its allocated IP and node port.
        let mut old_svc = create(
            "",
            "services",
            json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80}]}}),
            true,
        );
        if let Some(spec) = old_svc.get_mut("spec") {
            set(spec, "clusterIP", json!("10.96.0.10"));
            set(spec, "clusterIPs", json!(["10.96.0.10"]));
        }
        if let Some(p) = old_svc.pointer_mut("/spec/ports/0") {
            set(p, "nodePort", json!(30080));
        }
        let mut new_svc =
            json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80}]}});
        apply("", "services", &mut new_svc);
        prepare_for_update("", "services", &mut new_svc, &old_svc);
        assert_eq!(new_svc["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(new_svc["spec"]["clusterIPs"], json!(["10.96.0.10"]));
        assert_eq!(new_svc["spec"]["ports"][0]["nodePort"], 30080);
        // Switching to ExternalName drops what it cannot use.
        let mut en = old_svc.clone();
        if let Some(spec) = en.get_mut("spec") {
            set(spec, "type", json!("ExternalName"));
            set(spec, "externalName", json!("example.com"));
        }
        prepare_for_update("", "services", &mut en, &old_svc);
        for k in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "externalTrafficPolicy"] {
            assert!(en["spec"].get(k).is_none(), "{k} should be dropped");
        }
        assert!(en["spec"]["ports"][0].get("nodePort").is_none());

        // Namespace finalizers only change through /finalize.
        let old_ns = create("", "namespaces", json!({"metadata": {"name": "n"}}), false);
        let mut new_ns = json!({"metadata": {"name": "n"}, "spec": {"finalizers": []}});
        prepare_for_update("", "namespaces", &mut new_ns, &old_ns);
        assert_eq!(new_ns["spec"]["finalizers"], json!(["kubernetes"]));

        // DaemonSet template changes bump the template generation annotation.
        let old_ds = create(
            "apps",
            "daemonsets",
            json!({"metadata": {"name": "ds"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
            true,
        );
        let mut new_ds = old_ds.clone();
        if let Some(c) = new_ds.pointer_mut("/spec/template/spec/containers/0") {
            set(c, "image", json!("y"));
        }
        prepare_for_update("apps", "daemonsets", &mut new_ds, &old_ds);
        assert_eq!(new_ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"], "2");
        assert_eq!(new_ds["metadata"]["generation"], 2);

        // Pods keep the priority admission resolved on create.
        let old_pod = create(
            "",
            "pods",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}),
            true,
        );
        let mut new_pod = old_pod.clone();
        if let Some(spec) = new_pod.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("priority");
        }
        prepare_for_update("", "pods", &mut new_pod, &old_pod);
        assert_eq!(new_pod["spec"]["priority"], 0);
    }
}
