//! Pods: the tenant's spec, rewritten so the pod runs on the super cluster's nodes while it
//! talks only to its own tenant's API server, and merged within what kube lets a pod update.

use serde_json::Value;

use super::json::{obj_mut, objs_mut, same, Map};
use super::meta::{TENANT_NAMESPACE, TENANT_UID};
use super::simple::rename_ref;
use super::Downward;

/// Spec fields removed on the way down.
/// - `nodeName`: the super scheduler places the pod.
/// - `priority`, `preemptionPolicy`, `priorityClassName`: tenant priority classes do not exist in
///   the super cluster, and its Priority admission rejects a pod whose `priority` or
///   `preemptionPolicy` differ from what it computes itself.
/// - `readinessGates`: their conditions are written by tenant controllers on the tenant pod and
///   never reach the super pod, which would then never turn Ready; `status_up` applies them.
const DROPPED: &[&str] = &["nodeName", "priority", "preemptionPolicy", "priorityClassName", "readinessGates"];
/// Container lists; ephemeral containers get the same environment rewrite.
const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];
/// Port of the super cluster's `kubernetes` service, which names the variables the kubelet sets.
const SERVICE_PORT_NAME: &str = "443";

pub(super) fn desired(out: &mut Map, tenant: &Value, ctx: &Downward) {
    let Some(mut spec) = tenant.get("spec").and_then(Value::as_object).cloned() else {
        return;
    };
    for key in DROPPED {
        spec.shift_remove(*key);
    }
    for key in ["serviceAccountName", "serviceAccount"] {
        rename_ref(&mut spec, key, "ServiceAccount", ctx);
    }
    // The super ServiceAccount admission would otherwise mount a token of the super cluster.
    spec.insert("automountServiceAccountToken".into(), Value::Bool(false));
    for secret in objs_mut(&mut spec, "imagePullSecrets") {
        rename_ref(secret, "name", "Secret", ctx);
    }
    for volume in objs_mut(&mut spec, "volumes") {
        rewrite_volume(volume, ctx);
    }
    let env = ctx.apiserver.map(|(host, port)| apiserver_env(host, port));
    let downward = tenant_fields(tenant);
    for list in CONTAINER_LISTS {
        for container in objs_mut(&mut spec, list) {
            rewrite_container(container, ctx, env.as_deref(), &downward);
        }
    }
    out.insert("spec".into(), Value::Object(spec));
}

/// Values that the downward API would read from the super pod but that differ from the tenant's.
fn tenant_fields(tenant: &Value) -> Vec<(&'static str, String)> {
    let mut fields = Vec::new();
    for (path, key) in [("metadata.namespace", "namespace"), ("metadata.uid", "uid")] {
        if let Some(v) = tenant.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_str) {
            fields.push((path, v.to_string()));
        }
    }
    fields
}

fn rewrite_volume(volume: &mut Map, ctx: &Downward) {
    if let Some(cm) = obj_mut(volume, "configMap") {
        rename_ref(cm, "name", "ConfigMap", ctx);
    }
    if let Some(secret) = obj_mut(volume, "secret") {
        rename_ref(secret, "secretName", "Secret", ctx);
    }
    if let Some(downward) = obj_mut(volume, "downwardAPI") {
        rewrite_downward_items(downward, ctx);
    }
    let Some(projected) = obj_mut(volume, "projected") else {
        return;
    };
    let Some(sources) = projected.get_mut("sources").and_then(Value::as_array_mut) else {
        return;
    };
    sources.retain_mut(|source| {
        let Some(source) = source.as_object_mut() else {
            return true;
        };
        if let Some(cm) = obj_mut(source, "configMap") {
            rename_ref(cm, "name", "ConfigMap", ctx);
        }
        if let Some(secret) = obj_mut(source, "secret") {
            rename_ref(secret, "name", "Secret", ctx);
        }
        if let Some(downward) = obj_mut(source, "downwardAPI") {
            rewrite_downward_items(downward, ctx);
        }
        let Some(token) = source.get("serviceAccountToken") else {
            return true;
        };
        // Never left in place: the super kubelet would mint a token of the super cluster.
        let Some(secret) = ctx.token_secret else {
            return false;
        };
        let path = token.get("path").cloned().unwrap_or_else(|| "token".into());
        let mut item = Map::new();
        item.insert("key".into(), "token".into());
        item.insert("path".into(), path);
        let mut replacement = Map::new();
        replacement.insert("name".into(), secret.into());
        replacement.insert("items".into(), Value::Array(vec![Value::Object(item)]));
        source.shift_remove("serviceAccountToken");
        source.insert("secret".into(), Value::Object(replacement));
        true
    });
}

/// Downward API files of `metadata.namespace` and `metadata.uid` would show the super pod's
/// values (e.g. the `namespace` file of the service-account volume, which in-cluster clients
/// read as their default namespace); they read the runtime's marks instead, which hold the
/// tenant's values. Left alone when the runtime does not write those marks.
fn rewrite_downward_items(downward: &mut Map, ctx: &Downward) {
    for item in objs_mut(downward, "items") {
        let Some(field) = obj_mut(item, "fieldRef") else {
            continue;
        };
        let mark = match field.get("fieldPath").and_then(Value::as_str) {
            Some("metadata.namespace") => TENANT_NAMESPACE,
            Some("metadata.uid") => TENANT_UID,
            _ => continue,
        };
        if ctx.annotations.contains_key(mark) {
            field.insert("fieldPath".into(), format!("metadata.annotations['{mark}']").into());
        }
    }
}

/// The variables that point a pod at its tenant's API server, named as the super kubelet names
/// those of the super cluster's `kubernetes` service (so they replace them).
fn apiserver_env(host: &str, port: i32) -> Vec<Value> {
    let hostport = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let url = format!("tcp://{hostport}");
    let p = SERVICE_PORT_NAME;
    [
        ("KUBERNETES_SERVICE_HOST".to_string(), host.to_string()),
        ("KUBERNETES_SERVICE_PORT".to_string(), port.to_string()),
        ("KUBERNETES_PORT".to_string(), url.clone()),
        (format!("KUBERNETES_PORT_{p}_TCP"), url),
        (format!("KUBERNETES_PORT_{p}_TCP_ADDR"), host.to_string()),
        (format!("KUBERNETES_PORT_{p}_TCP_PORT"), port.to_string()),
        (format!("KUBERNETES_PORT_{p}_TCP_PROTO"), "tcp".to_string()),
    ]
    .into_iter()
    .map(|(name, value)| {
        let mut m = Map::new();
        m.insert("name".into(), name.into());
        m.insert("value".into(), value.into());
        Value::Object(m)
    })
    .collect()
}

fn rewrite_container(
    container: &mut Map,
    ctx: &Downward,
    apiserver: Option<&[Value]>,
    downward: &[(&'static str, String)],
) {
    for var in objs_mut(container, "env") {
        rewrite_env_var(var, ctx, downward);
    }
    for from in objs_mut(container, "envFrom") {
        if let Some(r) = obj_mut(from, "configMapRef") {
            rename_ref(r, "name", "ConfigMap", ctx);
        }
        if let Some(r) = obj_mut(from, "secretRef") {
            rename_ref(r, "name", "Secret", ctx);
        }
    }
    let Some(vars) = apiserver else {
        return;
    };
    let names: Vec<&str> = vars.iter().filter_map(|v| v.get("name").and_then(Value::as_str)).collect();
    let mut env: Vec<Value> = vars.to_vec();
    let old = container.get("env").and_then(Value::as_array).cloned().unwrap_or_default();
    // First, so later `$(KUBERNETES_SERVICE_HOST)` references expand to the tenant's values.
    env.extend(old.into_iter().filter(|v| !v.get("name").and_then(Value::as_str).is_some_and(|n| names.contains(&n))));
    container.insert("env".into(), Value::Array(env));
}

fn rewrite_env_var(var: &mut Map, ctx: &Downward, downward: &[(&'static str, String)]) {
    let Some(from) = obj_mut(var, "valueFrom") else {
        return;
    };
    if let Some(r) = obj_mut(from, "configMapKeyRef") {
        rename_ref(r, "name", "ConfigMap", ctx);
    }
    if let Some(r) = obj_mut(from, "secretKeyRef") {
        rename_ref(r, "name", "Secret", ctx);
    }
    // The tenant's namespace and UID are fixed for the pod's life: a literal is exact.
    let path = from.get("fieldRef").and_then(|f| f.get("fieldPath")).and_then(Value::as_str);
    if let Some((_, value)) = downward.iter().find(|(p, _)| Some(*p) == path) {
        let value = value.clone();
        var.shift_remove("valueFrom");
        var.insert("value".into(), value.into());
    }
}

/// What kube lets a pod update change: container and init container images, a shorter
/// `activeDeadlineSeconds`, added tolerations, removed scheduling gates. Everything else stays.
pub(super) fn merge(out: &mut Map, desired: &Value) {
    let Some(want) = desired.get("spec").and_then(Value::as_object) else {
        return;
    };
    let Some(spec) = obj_mut(out, "spec") else {
        return;
    };
    for list in ["containers", "initContainers"] {
        let images: Vec<(&str, &Value)> = want
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c.get("name")?.as_str()?, c.get("image")?)))
            .collect();
        for container in objs_mut(spec, list) {
            let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some((_, image)) = images.iter().find(|(n, _)| *n == name) {
                if container.get("image") != Some(*image) {
                    container.insert("image".into(), (*image).clone());
                }
            }
        }
    }
    merge_deadline(spec, want.get("activeDeadlineSeconds"));
    merge_tolerations(spec, want.get("tolerations"));
    merge_scheduling_gates(spec, want.get("schedulingGates"));
}

/// Kube accepts a deadline only when it was unset or gets shorter, and never unsets one.
fn merge_deadline(spec: &mut Map, want: Option<&Value>) {
    let Some(want) = want.and_then(Value::as_i64) else {
        return;
    };
    let allowed = match spec.get("activeDeadlineSeconds").and_then(Value::as_i64) {
        None => want > 0,
        Some(have) => want > 0 && want <= have,
    };
    if allowed {
        spec.insert("activeDeadlineSeconds".into(), want.into());
    }
}

/// Kube lets tolerations be added, never removed or changed. The super cluster's own admission
/// adds some (DefaultTolerationSeconds: not-ready, unreachable) that the tenant pod may lack,
/// so "set to desired's" would never pass; the tenant's new tolerations are appended instead.
fn merge_tolerations(spec: &mut Map, want: Option<&Value>) {
    let Some(want) = want.and_then(Value::as_array) else {
        return;
    };
    let have = spec.get("tolerations").and_then(Value::as_array).cloned().unwrap_or_default();
    let added: Vec<Value> = want.iter().filter(|t| !have.contains(t)).cloned().collect();
    if added.is_empty() {
        return;
    }
    let mut all = have;
    all.extend(added);
    spec.insert("tolerations".into(), Value::Array(all));
}

/// Scheduling gates may only be removed (a tenant controller lifting one lets the super
/// scheduler place the pod).
fn merge_scheduling_gates(spec: &mut Map, want: Option<&Value>) {
    let want = want.and_then(Value::as_array).cloned().unwrap_or_default();
    let have = spec.get("schedulingGates").and_then(Value::as_array).cloned().unwrap_or_default();
    if !want.iter().all(|g| have.contains(g)) || same(Some(&Value::Array(want.clone())), spec.get("schedulingGates")) {
        return;
    }
    if want.is_empty() {
        spec.shift_remove("schedulingGates");
    } else {
        spec.insert("schedulingGates".into(), Value::Array(want));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::super::{desired as desired_of, merge as merge_of, Kind};
    use super::*;

    /// A tenant pod as the tenant API server stores it: ServiceAccount admission added the
    /// `kube-api-access` volume, scheduler set nodeName, Priority admission set priority.
    fn tenant_pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-7d9", "namespace": "prod", "uid": "t-uid", "resourceVersion": "31",
                "labels": {"app": "web", "nestor.dev/cluster": "forged"},
                "annotations": {"nestor.dev/uid": "forged", "team": "a"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs",
                    "controller": true}]},
            "spec": {
                "nodeName": "node-1", "priority": 1000, "priorityClassName": "tenant-high",
                "preemptionPolicy": "PreemptLowerPriority",
                "serviceAccountName": "default", "serviceAccount": "default",
                "imagePullSecrets": [{"name": "pull"}],
                "readinessGates": [{"conditionType": "example.com/lb-ready"}],
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                    "effect": "NoExecute", "tolerationSeconds": 300}],
                "containers": [{"name": "app", "image": "nginx:1.27",
                    "env": [{"name": "MODE", "value": "prod"},
                        {"name": "KUBERNETES_SERVICE_HOST", "value": "evil"},
                        {"name": "URL", "value": "https://$(KUBERNETES_SERVICE_HOST)"},
                        {"name": "CFG", "valueFrom": {"configMapKeyRef": {"name": "kube-root-ca.crt", "key": "ca.crt"}}},
                        {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                        {"name": "NS", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                        {"name": "UID", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.uid"}}},
                        {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
                    "envFrom": [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "db"}}],
                    "volumeMounts": [{"name": "kube-api-access-x1", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                        "readOnly": true}]}],
                "initContainers": [{"name": "init", "image": "busybox:1.36"}],
                "volumes": [
                    {"name": "cfg", "configMap": {"name": "settings"}},
                    {"name": "db", "secret": {"secretName": "db"}},
                    {"name": "info", "downwardAPI": {"items": [{"path": "ns",
                        "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
                    {"name": "kube-api-access-x1", "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace",
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]},
            "status": {"phase": "Running", "qosClass": "BestEffort"}})
    }

    fn rename(kind: &str, name: &str) -> Option<String> {
        match (kind, name) {
            ("ConfigMap", "kube-root-ca.crt") => Some("tenant-root-ca.crt".into()),
            ("ServiceAccount", "default") => Some("tenant-default".into()),
            ("Secret", "db") => Some("db-synced".into()),
            ("ConfigMap", "settings") => Some("settings-synced".into()),
            _ => None,
        }
    }

    fn down_with(t: &Value, apiserver: Option<(&str, i32)>, token_secret: Option<&str>) -> Value {
        let labels = BTreeMap::from([("nestor.dev/cluster".to_string(), "blue-1a2b3c4d".to_string())]);
        let annotations = BTreeMap::from([
            ("nestor.dev/namespace".to_string(), "prod".to_string()),
            ("nestor.dev/uid".to_string(), "t-uid".to_string()),
        ]);
        let ctx = Downward {
            name: "web-7d9",
            namespace: Some("blue-1a2b3c4d-prod"),
            labels: &labels,
            annotations: &annotations,
            apiserver,
            rename: &rename,
            token_secret,
        };
        desired_of(Kind::Pod, t, &ctx)
    }

    fn down(t: &Value) -> Value {
        down_with(t, Some(("10.0.7.7", 6443)), Some("web-7d9-token"))
    }

    /// The super pod as stored: admission defaults, scheduled, running.
    fn stored(d: &Value) -> Value {
        let mut s = d.clone();
        s["metadata"]["uid"] = json!("s-uid");
        s["metadata"]["resourceVersion"] = json!("880");
        s["metadata"]["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
        let spec = &mut s["spec"];
        spec["nodeName"] = json!("node-1");
        spec["priority"] = json!(0);
        spec["preemptionPolicy"] = json!("PreemptLowerPriority");
        spec["enableServiceLinks"] = json!(true);
        spec["dnsPolicy"] = json!("ClusterFirst");
        spec["restartPolicy"] = json!("Always");
        spec["schedulerName"] = json!("default-scheduler");
        spec["terminationGracePeriodSeconds"] = json!(30);
        spec["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
        spec["containers"][0]["terminationMessagePath"] = json!("/dev/termination-log");
        spec["tolerations"].as_array_mut().unwrap().push(json!({"key": "node.kubernetes.io/unreachable",
            "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        s["status"] = json!({"phase": "Running", "qosClass": "BestEffort", "podIP": "10.244.1.5",
            "hostIP": "10.0.0.9", "startTime": "2025-01-01T00:00:02Z"});
        s
    }

    #[test]
    fn metadata_is_marked_and_not_forged() {
        let d = down(&tenant_pod());
        assert_eq!(d["metadata"]["name"], "web-7d9");
        assert_eq!(d["metadata"]["namespace"], "blue-1a2b3c4d-prod");
        assert_eq!(d["metadata"]["labels"], json!({"app": "web", "nestor.dev/cluster": "blue-1a2b3c4d"}));
        assert_eq!(
            d["metadata"]["annotations"],
            json!({"team": "a", "nestor.dev/namespace": "prod", "nestor.dev/uid": "t-uid"})
        );
        assert!(d["metadata"].get("ownerReferences").is_none());
        assert!(d.get("status").is_none());
    }

    #[test]
    fn scheduling_and_priority_are_left_to_the_super_cluster() {
        let spec = &down(&tenant_pod())["spec"];
        for key in ["nodeName", "priority", "priorityClassName", "preemptionPolicy", "readinessGates"] {
            assert!(spec.get(key).is_none(), "{key}");
        }
        assert_eq!(spec["automountServiceAccountToken"], false);
        assert_eq!(spec["serviceAccountName"], "tenant-default");
        assert_eq!(spec["serviceAccount"], "tenant-default");
        assert_eq!(spec["imagePullSecrets"], json!([{"name": "pull"}]));
    }

    #[test]
    fn volumes_resolve_to_synced_copies_and_the_tenant_token() {
        let spec = &down(&tenant_pod())["spec"];
        assert_eq!(spec["volumes"][0]["configMap"]["name"], "settings-synced");
        assert_eq!(spec["volumes"][1]["secret"]["secretName"], "db-synced");
        assert_eq!(
            spec["volumes"][2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"],
            "metadata.annotations['nestor.dev/namespace']"
        );
        assert_eq!(
            spec["volumes"][3],
            json!({"name": "kube-api-access-x1", "projected": {"defaultMode": 420, "sources": [
                {"secret": {"name": "web-7d9-token", "items": [{"key": "token", "path": "token"}]}},
                {"configMap": {"name": "tenant-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                    "fieldPath": "metadata.annotations['nestor.dev/namespace']"}}]}}]}})
        );
    }

    #[test]
    fn a_token_source_without_a_tenant_token_is_dropped() {
        let spec = &down_with(&tenant_pod(), None, None)["spec"];
        let sources = spec["volumes"][3]["projected"]["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 2);
        assert!(sources.iter().all(|s| s.get("serviceAccountToken").is_none()));
    }

    #[test]
    fn containers_talk_to_the_tenant_apiserver() {
        let spec = &down(&tenant_pod())["spec"];
        let env = spec["containers"][0]["env"].as_array().unwrap();
        let names: Vec<&str> = env.iter().map(|v| v["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "KUBERNETES_SERVICE_HOST",
                "KUBERNETES_SERVICE_PORT",
                "KUBERNETES_PORT",
                "KUBERNETES_PORT_443_TCP",
                "KUBERNETES_PORT_443_TCP_ADDR",
                "KUBERNETES_PORT_443_TCP_PORT",
                "KUBERNETES_PORT_443_TCP_PROTO",
                "MODE",
                "URL",
                "CFG",
                "PASS",
                "NS",
                "UID",
                "POD"
            ]
        );
        let value = |n: &str| env.iter().find(|v| v["name"] == n).unwrap().clone();
        assert_eq!(value("KUBERNETES_SERVICE_HOST")["value"], "10.0.7.7");
        assert_eq!(value("KUBERNETES_SERVICE_PORT")["value"], "6443");
        assert_eq!(value("KUBERNETES_PORT")["value"], "tcp://10.0.7.7:6443");
        assert_eq!(value("KUBERNETES_PORT_443_TCP")["value"], "tcp://10.0.7.7:6443");
        assert_eq!(value("KUBERNETES_PORT_443_TCP_PROTO")["value"], "tcp");
        assert_eq!(value("CFG")["valueFrom"]["configMapKeyRef"]["name"], "tenant-root-ca.crt");
        assert_eq!(value("PASS")["valueFrom"]["secretKeyRef"]["name"], "db-synced");
        assert_eq!(value("NS"), json!({"name": "NS", "value": "prod"}));
        assert_eq!(value("UID"), json!({"name": "UID", "value": "t-uid"}));
        assert_eq!(value("POD")["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
        assert_eq!(
            spec["containers"][0]["envFrom"],
            json!([{"configMapRef": {"name": "settings-synced"}}, {"secretRef": {"name": "db-synced"}}])
        );
        // init containers get the variables too
        assert_eq!(spec["initContainers"][0]["env"].as_array().unwrap().len(), 7);
    }

    #[test]
    fn ipv6_hosts_are_bracketed_and_ephemeral_containers_rewritten() {
        let mut t = tenant_pod();
        t["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox",
            "env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "db", "key": "k"}}}]}]);
        let spec = &down_with(&t, Some(("fd00::7", 443)), None)["spec"];
        let env = &spec["ephemeralContainers"][0]["env"];
        assert_eq!(env[2], json!({"name": "KUBERNETES_PORT", "value": "tcp://[fd00::7]:443"}));
        assert_eq!(env[4], json!({"name": "KUBERNETES_PORT_443_TCP_ADDR", "value": "fd00::7"}));
        assert_eq!(env[7]["valueFrom"]["secretKeyRef"]["name"], "db-synced");
    }

    #[test]
    fn without_an_apiserver_env_is_only_renamed() {
        let spec = &down_with(&tenant_pod(), None, None)["spec"];
        assert_eq!(spec["containers"][0]["env"][0], json!({"name": "MODE", "value": "prod"}));
        assert!(spec["initContainers"][0].get("env").is_none());
    }

    #[test]
    fn merge_of_a_defaulted_running_pod_changes_nothing() {
        let d = down(&tenant_pod());
        let actual = stored(&d);
        assert_eq!(merge_of(Kind::Pod, &actual, &d), actual);
    }

    #[test]
    fn merge_changes_only_what_kube_allows() {
        let d = down(&tenant_pod());
        let actual = stored(&d);
        let mut t2 = tenant_pod();
        t2["metadata"]["labels"]["version"] = json!("2");
        t2["spec"]["containers"][0]["image"] = json!("nginx:1.28");
        t2["spec"]["initContainers"][0]["image"] = json!("busybox:1.37");
        t2["spec"]["activeDeadlineSeconds"] = json!(600);
        t2["spec"]["tolerations"].as_array_mut().unwrap().push(json!({"key": "gpu", "operator": "Exists"}));
        t2["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1"}});
        let d2 = down(&t2);
        let m = merge_of(Kind::Pod, &actual, &d2);
        assert_eq!(m["metadata"]["labels"]["version"], "2");
        assert_eq!(m["spec"]["containers"][0]["image"], "nginx:1.28");
        assert_eq!(m["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert!(m["spec"]["containers"][0].get("resources").is_none(), "resources are immutable here");
        assert_eq!(m["spec"]["initContainers"][0]["image"], "busybox:1.37");
        assert_eq!(m["spec"]["activeDeadlineSeconds"], 600);
        let tolerations = m["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(tolerations.len(), 3, "super defaults kept, tenant's addition appended");
        assert_eq!(tolerations[2]["key"], "gpu");
        assert_eq!(m["spec"]["nodeName"], "node-1");
        assert_eq!(m["status"], actual["status"]);
        assert_eq!(m["metadata"]["resourceVersion"], "880");
        assert_eq!(merge_of(Kind::Pod, &m, &d2), m, "idempotent");
    }

    #[test]
    fn deadlines_only_shorten() {
        let mut spec = json!({"activeDeadlineSeconds": 100}).as_object().cloned().unwrap();
        merge_deadline(&mut spec, Some(&json!(200)));
        assert_eq!(spec["activeDeadlineSeconds"], 100);
        merge_deadline(&mut spec, Some(&json!(50)));
        assert_eq!(spec["activeDeadlineSeconds"], 50);
        merge_deadline(&mut spec, None);
        assert_eq!(spec["activeDeadlineSeconds"], 50, "never unset");
    }

    #[test]
    fn scheduling_gates_are_only_removed() {
        let mut spec = json!({"schedulingGates": [{"name": "a"}, {"name": "b"}]}).as_object().cloned().unwrap();
        merge_scheduling_gates(&mut spec, Some(&json!([{"name": "a"}, {"name": "c"}])));
        assert_eq!(spec["schedulingGates"], json!([{"name": "a"}, {"name": "b"}]), "no additions");
        merge_scheduling_gates(&mut spec, Some(&json!([{"name": "b"}])));
        assert_eq!(spec["schedulingGates"], json!([{"name": "b"}]));
        merge_scheduling_gates(&mut spec, None);
        assert!(!spec.contains_key("schedulingGates"));
        let before = spec.clone();
        merge_scheduling_gates(&mut spec, None);
        assert_eq!(spec, before);
    }

    #[test]
    fn removed_tolerations_are_not_removed_from_the_super_pod() {
        let d = down(&tenant_pod());
        let actual = stored(&d);
        let mut t2 = tenant_pod();
        t2["spec"]["tolerations"] = json!([]);
        assert_eq!(merge_of(Kind::Pod, &actual, &down(&t2)), actual);
    }
}
