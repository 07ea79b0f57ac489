//! First-line validation of built-in objects, faithful to kube-apiserver v1.32: field paths
//! and messages are kube's (pkg/apis/*/validation, apimachinery validation).
//!
//! [`validate`] runs what kube's registry runs for a request, after defaulting:
//! - create (`old` is None): the kind's validation (`strategy.Validate`); only if that found
//!   nothing, the generic ObjectMeta check every resource gets (path-segment names), as in
//!   `rest.BeforeCreate`.
//! - update: the generic ObjectMeta checks (`validateCommonFields`), then the kind's update
//!   validation. Like kube, some causes can repeat; build the Status message from the
//!   distinct `Cause::to_line()`s, as kube's `ToAggregate` does.

mod apps;
mod batch;
mod core_v1;
mod cron;
mod field;
mod meta;
mod names;
mod pod;

use serde_json::Value;

use crate::error::Cause;
use crate::kinds::defaults::json::get_str;
pub use names::NameRule;

/// How a resource is named and scoped, for the kinds validated here (None: unknown).
pub fn name_rule(group: &str, resource: &str) -> Option<(NameRule, bool)> {
    use NameRule::*;
    Some(match (group, resource) {
        ("", "namespaces") => (Label, false),
        ("", "nodes" | "persistentvolumes") => (Subdomain, false),
        ("", "services") => (Dns1035, true),
        ("", "pods" | "podtemplates" | "replicationcontrollers" | "secrets" | "configmaps" | "serviceaccounts") => {
            (Subdomain, true)
        }
        ("", "persistentvolumeclaims" | "endpoints" | "limitranges" | "resourcequotas" | "events") => (Subdomain, true),
        ("apps", "statefulsets") => (Label, true),
        ("apps", "deployments" | "replicasets" | "daemonsets" | "controllerrevisions") => (Subdomain, true),
        ("batch", "jobs" | "cronjobs") => (Subdomain, true),
        ("rbac.authorization.k8s.io", "roles" | "rolebindings") => (PathSegment, true),
        ("rbac.authorization.k8s.io", "clusterroles" | "clusterrolebindings") => (PathSegment, false),
        ("networking.k8s.io", "networkpolicies" | "ingresses") => (Subdomain, true),
        ("networking.k8s.io", "ingressclasses") => (Subdomain, false),
        ("policy", "poddisruptionbudgets") => (Subdomain, true),
        ("storage.k8s.io", "storageclasses" | "csidrivers" | "csinodes" | "volumeattachments") => (Subdomain, false),
        ("storage.k8s.io", "csistoragecapacities") => (Subdomain, true),
        ("scheduling.k8s.io", "priorityclasses") => (Subdomain, false),
        ("coordination.k8s.io", "leases") => (Subdomain, true),
        ("discovery.k8s.io", "endpointslices") => (Subdomain, true),
        ("autoscaling", "horizontalpodautoscalers") => (Subdomain, true),
        ("node.k8s.io", "runtimeclasses") => (Subdomain, false),
        ("events.k8s.io", "events") => (Subdomain, true),
        (
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations"
            | "mutatingwebhookconfigurations"
            | "validatingadmissionpolicies"
            | "validatingadmissionpolicybindings",
        ) => (Subdomain, false),
        ("flowcontrol.apiserver.k8s.io", "flowschemas" | "prioritylevelconfigurations") => (Subdomain, false),
        ("apiextensions.k8s.io", "customresourcedefinitions") => (Subdomain, false),
        ("certificates.k8s.io", "certificatesigningrequests") => (PathSegment, false),
        _ => return None,
    })
}

/// Validates `obj` (already defaulted) for `group`/`resource` on create (`old` None) or
/// update (`old` the stored object). Returns kube's causes; empty means valid.
pub fn validate(group: &str, resource: &str, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let rule = name_rule(group, resource);
    let namespaced = rule.map(|(_, ns)| ns);
    let meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
    match old {
        None => {
            let errs = validate_kind(group, resource, obj, None);
            if !errs.is_empty() {
                return errs;
            }
            generic_meta(&meta, namespaced)
        }
        Some(old) => {
            let old_meta = old.get("metadata").cloned().unwrap_or(Value::Null);
            let mut out = generic_meta(&meta, namespaced);
            out.extend(meta::validate_object_meta_update_generic(&meta, &old_meta, "metadata"));
            out.extend(validate_kind(group, resource, obj, Some(old)));
            out
        }
    }
}

/// The ObjectMeta check all resources get, with path-segment names. The namespace rule is
/// skipped for unknown resources, whose scope the caller knows better.
fn generic_meta(meta: &Value, namespaced: Option<bool>) -> Vec<Cause> {
    let mut out =
        meta::validate_object_meta_generic(meta, namespaced.unwrap_or(true), NameRule::PathSegment, "metadata");
    if namespaced.is_none() {
        out.retain(|c| c.field != "metadata.namespace");
    }
    out
}

fn validate_kind(group: &str, resource: &str, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    match (group, resource) {
        ("", "pods") => core_v1::pod(obj, old),
        ("", "podtemplates") => core_v1::pod_template(obj, old),
        ("", "replicationcontrollers") => core_v1::replication_controller(obj, old),
        ("", "services") => core_v1::service(obj, old),
        ("", "namespaces") => core_v1::namespace(obj, old),
        ("", "secrets") => core_v1::secret(obj, old),
        ("", "configmaps") => core_v1::config_map(obj, old),
        ("", "nodes") => core_v1::node(obj, old),
        ("", "persistentvolumeclaims") => core_v1::pvc(obj, old),
        ("", "persistentvolumes") => core_v1::pv(obj, old),
        ("", "endpoints") => core_v1::endpoints(obj, old),
        ("apps", "deployments") => apps::deployment(obj, old),
        ("apps", "replicasets") => apps::replica_set(obj, old),
        ("apps", "daemonsets") => apps::daemon_set(obj, old),
        ("apps", "statefulsets") => apps::stateful_set(obj, old),
        ("apps", "controllerrevisions") => apps::controller_revision(obj, old),
        ("batch", "jobs") => batch::job(obj, old),
        ("batch", "cronjobs") => batch::cron_job(obj, old),
        ("scheduling.k8s.io", "priorityclasses") => priority_class(obj, old),
        ("autoscaling", "horizontalpodautoscalers") => horizontal_pod_autoscaler(obj, old),
        ("events.k8s.io", "events") => event_v1(obj, old),
        ("apiextensions.k8s.io", "customresourcedefinitions") => crd_name(obj, old),
        _ => match name_rule(group, resource) {
            Some((rule, namespaced)) => core_v1::meta_only(obj, old, namespaced, rule),
            None => Vec::new(),
        },
    }
}

/// HorizontalPodAutoscalers (pkg/apis/autoscaling/validation): a target to scale and a sane
/// replica range. The same checks hold for the v1 and v2 shapes.
fn horizontal_pod_autoscaler(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = core_v1::meta_only(obj, old, true, NameRule::Subdomain);
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    for field in ["kind", "name"] {
        if spec.pointer(&format!("/scaleTargetRef/{field}")).and_then(Value::as_str).is_none_or(str::is_empty) {
            out.push(Cause::required(format!("spec.scaleTargetRef.{field}"), ""));
        }
    }
    let min = spec.get("minReplicas").and_then(Value::as_i64);
    let max = spec.get("maxReplicas").and_then(Value::as_i64).unwrap_or(0);
    if let Some(min) = min.filter(|m| *m < 1) {
        out.push(Cause::invalid("spec.minReplicas", &Value::from(min), "must be greater than or equal to 1"));
    }
    if max < 1 {
        out.push(Cause::invalid("spec.maxReplicas", &Value::from(max), "must be greater than or equal to 1"));
    } else if min.is_some_and(|m| m > max) {
        out.push(Cause::invalid(
            "spec.maxReplicas",
            &Value::from(max),
            "must be greater than or equal to `minReplicas`",
        ));
    }
    out
}

/// events.k8s.io/v1 Events must say who reported what (pkg/apis/core/validation/events.go,
/// the checks for the new API; core v1 Events keep the legacy, lax rules).
fn event_v1(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = core_v1::meta_only(obj, old, true, NameRule::Subdomain);
    for field in ["eventTime", "reportingController", "reportingInstance", "action", "reason"] {
        if obj.get(field).and_then(Value::as_str).is_none_or(str::is_empty) {
            out.push(Cause::required(field, ""));
        }
    }
    if let Some(t) = obj.get("type").filter(|t| !matches!(t.as_str(), Some("Normal" | "Warning"))) {
        out.push(Cause::not_supported("type", t, &["Normal", "Warning"]));
    }
    out
}

/// PriorityClasses: "system-" names are reserved and user values are capped at 1e9.
fn priority_class(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = core_v1::meta_only(obj, old, false, NameRule::Subdomain);
    let name = obj.get("metadata").map(|m| get_str(m, "name")).unwrap_or_default();
    let value = obj.get("value").and_then(Value::as_i64).unwrap_or(0);
    if let Some(_rest) = name.strip_prefix("system-") {
        let known = match name {
            "system-node-critical" => Some(2_000_001_000),
            "system-cluster-critical" => Some(2_000_000_000),
            _ => None,
        };
        let err = match known {
            None => Some(format!("{name} is not a known system priority class")),
            Some(v) if v != value => Some(format!("value of {name} PriorityClass must be {v}")),
            _ => None,
        };
        if let Some(e) = err {
            out.push(Cause::forbidden(
                "metadata.name",
                &format!("priority class names with 'system-' prefix are reserved for system use only. error: {e}"),
            ));
        }
    } else if value > 1_000_000_000 {
        out.push(Cause::forbidden("value", "maximum allowed value of a user defined priority is 1000000000"));
    }
    if let Some(pp) = obj.get("preemptionPolicy").and_then(Value::as_str) {
        if pp != "PreemptLowerPriority" && pp != "Never" {
            out.push(Cause::not_supported("preemptionPolicy", &Value::from(pp), &["PreemptLowerPriority", "Never"]));
        }
    }
    if let Some(old) = old {
        if obj.get("value") != old.get("value") {
            out.push(Cause::forbidden("value", "may not be changed in an update."));
        }
    }
    out
}

/// CustomResourceDefinitions: the name must be `<plural>.<group>` (the rest of CRD
/// validation, schemas included, is out of scope here).
fn crd_name(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = core_v1::meta_only(obj, old, false, NameRule::Subdomain);
    let name = obj.get("metadata").map(|m| get_str(m, "name")).unwrap_or_default();
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let plural = spec.get("names").map(|n| get_str(n, "plural")).unwrap_or_default();
    let expected = format!("{plural}.{}", get_str(&spec, "group"));
    if name != expected {
        out.push(Cause::invalid("metadata.name", &Value::from(name), "must be spec.names.plural+\".\"+spec.group"));
    }
    out
}

#[cfg(test)]
mod tests {
    // Expected causes are the `field: message` lines kube-apiserver v1.32 returns in the 422
    // Status for the same requests (texts from pkg/apis/*/validation and apimachinery).

    use super::*;
    use crate::kinds::defaults;
    use serde_json::json;

    const UID: &str = "6a1f3c2e-0000-4000-8000-000000000001";
    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    /// Runs the create path (defaults, server-set metadata, prepare) and validates.
    fn create_errs(group: &str, resource: &str, mut obj: Value) -> Vec<String> {
        let obj = prepared(group, resource, &mut obj);
        lines(validate(group, resource, &obj, None))
    }

    fn prepared(group: &str, resource: &str, obj: &mut Value) -> Value {
        defaults::apply(group, resource, obj);
        let namespaced = name_rule(group, resource).map(|(_, ns)| ns).unwrap_or(true);
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            if namespaced {
                meta.entry("namespace").or_insert(json!("default"));
            }
            meta.insert("uid".into(), json!(UID));
        }
        defaults::prepare_for_create(group, resource, obj);
        obj.clone()
    }

    /// Runs the update path from a created object and validates.
    fn update_errs(group: &str, resource: &str, old: &Value, mut new: Value) -> Vec<String> {
        defaults::apply(group, resource, &mut new);
        defaults::prepare_for_update(group, resource, &mut new, old);
        lines(validate(group, resource, &new, Some(old)))
    }

    fn lines(causes: Vec<Cause>) -> Vec<String> {
        causes.iter().map(Cause::to_line).collect()
    }

    fn pod(containers: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    fn deployment(selector: Value, labels: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    }

    #[test]
    fn valid_objects_pass() {
        assert!(create_errs("", "pods", pod(json!([{"name": "c", "image": "nginx"}]))).is_empty());
        assert!(create_errs(
            "apps",
            "deployments",
            deployment(json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}))
        )
        .is_empty());
        assert!(create_errs(
            "",
            "services",
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        )
        .is_empty());
        assert!(create_errs("batch", "jobs", json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "Never"}}}})).is_empty());
        assert!(create_errs("batch", "cronjobs", json!({"metadata": {"name": "c"}, "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "OnFailure"}}}}}})).is_empty());
        assert!(create_errs("apps", "statefulsets", json!({"metadata": {"name": "db"}, "spec": {"serviceName": "db", "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})).is_empty());
        assert!(create_errs("apps", "daemonsets", json!({"metadata": {"name": "ds"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})).is_empty());
        assert!(create_errs("", "namespaces", json!({"metadata": {"name": "dev"}})).is_empty());
        assert!(create_errs("", "configmaps", json!({"metadata": {"name": "c"}, "data": {"a.b-c_D": "x"}})).is_empty());
        assert!(
            create_errs("", "secrets", json!({"metadata": {"name": "s"}, "stringData": {"password": "x"}})).is_empty()
        );
        assert!(create_errs("", "persistentvolumeclaims", json!({"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})).is_empty());
        assert!(create_errs("", "serviceaccounts", json!({"metadata": {"name": "builder"}})).is_empty());
        assert!(create_errs(
            "rbac.authorization.k8s.io",
            "clusterroles",
            json!({"metadata": {"name": "system:controller:x"}})
        )
        .is_empty());
    }

    #[test]
    fn name_rules_per_kind() {
        assert_eq!(
            create_errs(
                "",
                "pods",
                json!({"metadata": {"name": "Bad_Name"}, "spec": {"containers": [{"name": "c", "image": "x"}]}})
            ),
            vec![format!("metadata.name: Invalid value: \"Bad_Name\": {SUBDOMAIN_MSG}")]
        );
        // Services are DNS-1035 labels.
        assert_eq!(create_errs("", "services", json!({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}})),
            vec!["metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]);
        // Namespaces and StatefulSets are DNS-1123 labels.
        assert_eq!(
            create_errs("", "namespaces", json!({"metadata": {"name": "team.a"}})),
            vec!["metadata.name: Invalid value: \"team.a\": must not contain dots"]
        );
        assert_eq!(
            create_errs("", "namespaces", json!({"metadata": {"name": "Dev"}})),
            vec![format!("metadata.name: Invalid value: \"Dev\": {LABEL_MSG}")]
        );
        assert_eq!(
            create_errs(
                "apps",
                "statefulsets",
                json!({"metadata": {"name": "db.1"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}}}})
            ),
            vec!["metadata.name: Invalid value: \"db.1\": must not contain dots"]
        );
        // A generateName may end with '-'.
        assert!(create_errs("", "configmaps", json!({"metadata": {"generateName": "cfg-", "name": "cfg-x7k2b"}}))
            .is_empty());
        assert_eq!(
            create_errs("", "configmaps", json!({"metadata": {"generateName": "Cfg-", "name": "cfg-x7k2b"}})),
            vec![format!("metadata.generateName: Invalid value: \"Cfg-\": {SUBDOMAIN_MSG}")]
        );
        assert_eq!(
            create_errs("", "configmaps", json!({"metadata": {}})),
            vec!["metadata.name: Required value: name or generateName is required"]
        );
        assert_eq!(
            create_errs("", "configmaps", json!({"metadata": {"name": &"a".repeat(254)}}))[0],
            format!("metadata.name: Invalid value: \"{}\": must be no more than 253 characters", "a".repeat(254))
        );
        // Unknown kinds (custom resources) only get the path-segment rule.
        assert_eq!(
            create_errs("example.com", "widgets", json!({"metadata": {"name": "a/b"}})),
            vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
        assert!(create_errs("example.com", "widgets", json!({"metadata": {"name": "Mixed_Case"}})).is_empty());
        // CronJob names leave room for the controller's 11-character suffix.
        let long = "a".repeat(53);
        let errs = create_errs(
            "batch",
            "cronjobs",
            json!({"metadata": {"name": long}, "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}}}}),
        );
        assert_eq!(errs, vec![format!("metadata.name: Invalid value: \"{long}\": must be no more than 52 characters")]);
    }

    #[test]
    fn labels_and_annotations() {
        let errs = create_errs(
            "",
            "configmaps",
            json!({"metadata": {"name": "c", "labels": {"-app": "ok", "tier": "front end"}}}),
        );
        assert_eq!(errs, vec![
            "metadata.labels: Invalid value: \"-app\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            "metadata.labels: Invalid value: \"front end\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ]);
        let errs = create_errs(
            "",
            "configmaps",
            json!({"metadata": {"name": "c", "labels": {"example.com/x": &"v".repeat(64)}}}),
        );
        assert_eq!(
            errs,
            vec![format!("metadata.labels: Invalid value: \"{}\": must be no more than 63 characters", "v".repeat(64))]
        );
        let errs = create_errs(
            "",
            "configmaps",
            json!({"metadata": {"name": "c", "annotations": {"big": "x".repeat(262_145)}}}),
        );
        assert_eq!(errs, vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]);
        // Annotation keys are checked case-insensitively.
        assert!(create_errs(
            "",
            "configmaps",
            json!({"metadata": {"name": "c", "annotations": {"Example.COM/Key": "v"}}})
        )
        .is_empty());
        let errs = create_errs("", "configmaps", json!({"metadata": {"name": "c", "finalizers": ["cleanup"]}}));
        assert_eq!(errs, vec!["metadata.finalizers[0]: Invalid value: \"cleanup\": name is neither a standard finalizer name nor is it fully qualified"]);
    }

    #[test]
    fn pod_spec_errors() {
        assert_eq!(create_errs("", "pods", pod(json!([]))), vec!["spec.containers: Required value"]);
        assert_eq!(
            create_errs("", "pods", pod(json!([{"name": "c"}]))),
            vec!["spec.containers[0].image: Required value"]
        );
        assert_eq!(
            create_errs("", "pods", pod(json!([{"name": "Web", "image": "x"}]))),
            vec![format!("spec.containers[0].name: Invalid value: \"Web\": {LABEL_MSG}")]
        );
        assert_eq!(
            create_errs("", "pods", pod(json!([{"name": "c", "image": "x"}, {"name": "c", "image": "y"}]))),
            vec!["spec.containers[1].name: Duplicate value: \"c\""]
        );
        assert_eq!(
            create_errs("", "pods", pod(json!([{"name": "c", "image": "x", "ports": [{"containerPort": 70000}]}]))),
            vec!["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            create_errs(
                "",
                "pods",
                pod(json!([{"name": "c", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]))
            ),
            vec!["spec.containers[0].volumeMounts[0].name: Not found: \"data\""]
        );
        assert_eq!(
            create_errs(
                "",
                "pods",
                pod(json!([{"name": "c", "image": "x", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]))
            ),
            vec![
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"
            ]
        );
        assert_eq!(create_errs("", "pods", pod(json!([{"name": "c", "image": "x", "env": [{"name": "A=B", "value": "1"}]}]))),
            vec!["spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"]);
        assert_eq!(create_errs("", "pods", pod(json!([{"name": "c", "image": "x", "imagePullPolicy": "Sometimes"}]))),
            vec!["spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""]);
        let mut p = pod(json!([{"name": "c", "image": "x"}]));
        if let Some(spec) = p.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("restartPolicy".into(), json!("Sometimes"));
            spec.insert(
                "volumes".into(),
                json!([{"name": "Data", "emptyDir": {}}, {"name": "two", "emptyDir": {}, "hostPath": {"path": "/x"}}]),
            );
            spec.insert("tolerations".into(), json!([{"key": "k", "operator": "Exists", "value": "v"}]));
        }
        assert_eq!(create_errs("", "pods", p), vec![
            format!("spec.volumes[0].name: Invalid value: \"Data\": {LABEL_MSG}"),
            "spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type".to_string(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"".to_string(),
            "spec.tolerations[0].operator: Invalid value: core.Toleration{...}: value must be empty when `operator` is 'Exists'".to_string(),
        ]);
        // Bad quantities are rejected (kube answers 400 while decoding; here a cause).
        assert_eq!(create_errs("", "pods", pod(json!([{"name": "c", "image": "x", "resources": {"limits": {"memory": "lots"}}}]))),
            vec!["spec.containers[0].resources.limits[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]);
        assert_eq!(
            create_errs("", "pods", pod(json!([{"name": "c", "image": "x", "livenessProbe": {"periodSeconds": 5}}]))),
            vec!["spec.containers[0].livenessProbe: Required value: must specify a handler type"]
        );
    }

    #[test]
    fn pod_updates() {
        let mut old = pod(json!([{"name": "c", "image": "nginx:1.26"}]));
        let old = prepared("", "pods", &mut old);
        // Images may change.
        let mut new = old.clone();
        if let Some(c) = new.pointer_mut("/spec/containers/0").and_then(Value::as_object_mut) {
            c.insert("image".into(), json!("nginx:1.27"));
        }
        assert!(update_errs("", "pods", &old, new).is_empty());
        // Most of the spec may not.
        let mut new = old.clone();
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("restartPolicy".into(), json!("Never"));
        }
        let errs = update_errs("", "pods", &old, new);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"), "{}", errs[0]);
        assert!(errs[0].contains("restartPolicy"));
        let mut new = old.clone();
        if let Some(Value::Array(cs)) = new.pointer_mut("/spec/containers") {
            cs.push(json!({"name": "d", "image": "x"}));
        }
        assert_eq!(
            update_errs("", "pods", &old, new),
            vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
        );
        let mut new = old.clone();
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("tolerations".into(), json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}]));
        }
        // Shortening a tolerationSeconds is fine; removing the unreachable one is not (but the
        // DefaultTolerationSeconds plugin adds it back on update, as in kube).
        assert!(update_errs("", "pods", &old, new).is_empty());
        let mut new = old.clone();
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("tolerations".into(), json!([{"operator": "Exists"}]));
        }
        assert_eq!(
            update_errs("", "pods", &old, new),
            vec!["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]
        );
    }

    #[test]
    fn deployment_errors() {
        assert_eq!(create_errs("apps", "deployments", deployment(json!({"matchLabels": {"app": "api"}}), json!({"app": "web"}))),
            vec!["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"]);
        let mut d = deployment(json!(null), json!({"app": "web"}));
        if let Some(spec) = d.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("selector");
            spec.insert("replicas".into(), json!(-1));
        }
        assert_eq!(create_errs("apps", "deployments", d), vec![
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
        ]);
        assert_eq!(create_errs("apps", "deployments", deployment(json!({}), json!({"app": "web"}))),
            vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]);
        let mut d = deployment(json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        if let Some(spec) = d.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("strategy".into(), json!({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}));
        }
        assert_eq!(create_errs("apps", "deployments", d),
            vec!["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"]);
        // The selector is immutable in apps/v1.
        let mut old = deployment(json!({"matchLabels": {"app": "web"}}), json!({"app": "web", "v": "2"}));
        let old = prepared("apps", "deployments", &mut old);
        let mut new = old.clone();
        if let Some(sel) = new.pointer_mut("/spec/selector") {
            *sel = json!({"matchLabels": {"app": "web", "v": "2"}});
        }
        assert_eq!(update_errs("apps", "deployments", &old, new),
            vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]);
        // Scaling is an ordinary update.
        let mut new = old.clone();
        if let Some(r) = new.pointer_mut("/spec/replicas") {
            *r = json!(5);
        }
        assert!(update_errs("apps", "deployments", &old, new).is_empty());
    }

    #[test]
    fn other_workload_errors() {
        let tmpl = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "OnFailure"}});
        assert_eq!(
            create_errs(
                "apps",
                "replicasets",
                json!({"metadata": {"name": "rs"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": tmpl}})
            ),
            vec!["spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""]
        );
        assert_eq!(create_errs("apps", "daemonsets", json!({"metadata": {"name": "ds"}, "spec": {"selector": {"matchLabels": {"x": "y"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})),
            vec!["spec.template.metadata.labels: Invalid value: map[string]string{\"a\":\"b\"}: `selector` does not match template `labels`"]);
        let mut old = json!({"metadata": {"name": "db"}, "spec": {"serviceName": "db", "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}});
        let old = prepared("apps", "statefulsets", &mut old);
        let mut new = old.clone();
        if let Some(s) = new.pointer_mut("/spec/serviceName") {
            *s = json!("other");
        }
        assert_eq!(update_errs("apps", "statefulsets", &old, new),
            vec!["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]);
        // ReplicationControllers need a selector (defaulted from template labels) and Always.
        assert_eq!(
            create_errs(
                "",
                "replicationcontrollers",
                json!({"metadata": {"name": "rc"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}})
            ),
            vec!["spec.selector: Required value"]
        );
    }

    #[test]
    fn job_and_cronjob_errors() {
        // A pod template copied from a Deployment keeps restartPolicy Always.
        assert_eq!(
            create_errs(
                "batch",
                "jobs",
                json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}})
            ),
            vec!["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
        );
        // Without a uid the generated selector cannot be valid.
        let mut j = json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}});
        defaults::apply("batch", "jobs", &mut j);
        if let Some(m) = j.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("namespace".into(), json!("default"));
        }
        defaults::prepare_for_create("batch", "jobs", &mut j);
        assert_eq!(lines(validate("batch", "jobs", &j, None))[0], "metadata.uid: Required value");
        // The template is immutable.
        let mut old = json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}});
        let old = prepared("batch", "jobs", &mut old);
        let mut new = old.clone();
        if let Some(c) = new.pointer_mut("/spec/template/spec/containers/0/image") {
            *c = json!("y");
        }
        assert_eq!(
            update_errs("batch", "jobs", &old, new),
            vec!["spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"]
        );
        let cj = |schedule: &str| json!({"metadata": {"name": "c"}, "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}}}});
        assert_eq!(
            create_errs("batch", "cronjobs", cj("foo")),
            vec!["spec.schedule: Invalid value: \"foo\": expected exactly 5 fields, found 1: [foo]"]
        );
        assert_eq!(
            create_errs("batch", "cronjobs", cj("0 25 * * *")),
            vec!["spec.schedule: Invalid value: \"0 25 * * *\": end of range (25) above maximum (23): 25"]
        );
        assert_eq!(create_errs("batch", "cronjobs", cj("TZ=UTC 0 0 * * *")),
            vec!["spec.schedule: Invalid value: \"TZ=UTC 0 0 * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"]);
    }

    #[test]
    fn service_errors() {
        assert_eq!(
            create_errs("", "services", json!({"metadata": {"name": "s"}, "spec": {"selector": {"app": "a"}}})),
            vec!["spec.ports: Required value"]
        );
        assert_eq!(
            create_errs("", "services", json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 0}]}})),
            vec![
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            ]
        );
        assert_eq!(
            create_errs(
                "",
                "services",
                json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}, {"port": 443}]}})
            ),
            vec!["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]
        );
        assert_eq!(create_errs("", "services", json!({"metadata": {"name": "s"}, "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}})),
            vec!["spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"]);
        assert_eq!(create_errs("", "services", json!({"metadata": {"name": "s"}, "spec": {"type": "Balanced", "ports": [{"port": 80}]}})),
            vec!["spec.type: Unsupported value: \"Balanced\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""]);
        assert_eq!(
            create_errs(
                "",
                "services",
                json!({"metadata": {"name": "s"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80, "nodePort": 30000}]}})
            ),
            vec!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
        );
        // The allocated cluster IP cannot change.
        let mut old = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}], "clusterIP": "10.96.0.10"}});
        let old = prepared("", "services", &mut old);
        let mut new = old.clone();
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("clusterIP".into(), json!("10.96.0.11"));
            spec.insert("clusterIPs".into(), json!(["10.96.0.11"]));
        }
        assert_eq!(
            update_errs("", "services", &old, new),
            vec!["spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set"]
        );
        // Omitting it on update keeps the allocated one.
        let new =
            json!({"metadata": {"name": "s", "namespace": "default", "uid": UID}, "spec": {"ports": [{"port": 80}]}});
        assert!(update_errs("", "services", &old, new).is_empty());
    }

    #[test]
    fn configmap_secret_namespace_pvc_errors() {
        assert_eq!(create_errs("", "configmaps", json!({"metadata": {"name": "c"}, "data": {"a b": "x"}})),
            vec!["data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]);
        assert_eq!(
            create_errs(
                "",
                "configmaps",
                json!({"metadata": {"name": "c"}, "data": {"big": "x".repeat(1024 * 1024 + 1)}})
            ),
            vec![": Too long: may not be more than 1048576 bytes"]
        );
        let mut old = json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "immutable": true});
        let old = prepared("", "configmaps", &mut old);
        let mut new = old.clone();
        if let Some(d) = new.pointer_mut("/data/a") {
            *d = json!("2");
        }
        assert_eq!(
            update_errs("", "configmaps", &old, new),
            vec!["data: Forbidden: field is immutable when `immutable` is set"]
        );

        assert_eq!(
            create_errs("", "secrets", json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {}})),
            vec!["data[tls.crt]: Required value", "data[tls.key]: Required value"]
        );
        let mut old = json!({"metadata": {"name": "s"}, "data": {"a": "eA=="}});
        let old = prepared("", "secrets", &mut old);
        let mut new = old.clone();
        if let Some(m) = new.as_object_mut() {
            m.insert("type".into(), json!("kubernetes.io/basic-auth"));
            m.insert("data".into(), json!({"username": "eA=="}));
        }
        assert_eq!(
            update_errs("", "secrets", &old, new),
            vec!["type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"]
        );

        assert_eq!(
            create_errs("", "persistentvolumeclaims", json!({"metadata": {"name": "c"}, "spec": {}})),
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value"
            ]
        );
        let mut old = json!({"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        let old = prepared("", "persistentvolumeclaims", &mut old);
        let mut new = old.clone();
        if let Some(m) = new.pointer_mut("/spec/accessModes") {
            *m = json!(["ReadWriteMany"]);
        }
        let errs = update_errs("", "persistentvolumeclaims", &old, new);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"));
    }

    #[test]
    fn updates_repeat_meta_causes_like_kube() {
        // kube validates ObjectMeta in validateCommonFields (create rules + update rules) and
        // again in the strategy (ValidateConfigMapUpdate: update rules + ValidateConfigMap), so a
        // bad label is reported four times in the causes; the Status message lists it once.
        let mut old = json!({"metadata": {"name": "c"}});
        let old = prepared("", "configmaps", &mut old);
        let mut new = old.clone();
        if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("labels".into(), json!({"k": "bad value"}));
        }
        let errs = update_errs("", "configmaps", &old, new);
        assert_eq!(errs.len(), 4);
        assert!(errs.iter().all(|e| e.starts_with("metadata.labels: Invalid value: \"bad value\"")));
        // Renaming is an immutable-field error (also repeated).
        let mut new = old.clone();
        if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("name".into(), json!("d"));
        }
        assert!(update_errs("", "configmaps", &old, new)
            .contains(&"metadata.name: Invalid value: \"d\": field is immutable".to_string()));
    }

    #[test]
    fn cluster_scoped_and_other_groups() {
        assert_eq!(
            create_errs("", "nodes", json!({"metadata": {"name": "n", "namespace": "default"}})),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
        assert_eq!(create_errs("scheduling.k8s.io", "priorityclasses", json!({"metadata": {"name": "system-custom"}, "value": 10})),
            vec!["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-custom is not a known system priority class"]);
        assert_eq!(
            create_errs(
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                json!({"metadata": {"name": "widgets"}, "spec": {"group": "example.com", "names": {"plural": "widgets"}}})
            ),
            vec!["metadata.name: Invalid value: \"widgets\": must be spec.names.plural+\".\"+spec.group"]
        );
        assert_eq!(
            create_errs("networking.k8s.io", "ingresses", json!({"metadata": {"name": "Web"}})),
            vec![format!("metadata.name: Invalid value: \"Web\": {SUBDOMAIN_MSG}")]
        );
    }
}
