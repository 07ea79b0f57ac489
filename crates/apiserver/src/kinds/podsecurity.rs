//! Pod Security admission (kube's PodSecurity plugin): a namespace labelled
//! `pod-security.kubernetes.io/enforce: baseline|restricted` refuses pods that break the
//! level, with kube's 403 naming every broken check; `warn` answers warnings instead. Pod
//! templates of workloads (Deployments, Jobs ...) get the warnings only, as on kube, since
//! their pods are checked when created.
//!
//! The checks, their order (by kube's check ID) and their wording follow
//! k8s.io/pod-security-admission/policy.

use std::collections::BTreeSet;

use serde_json::Value;

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
const WARN: &str = "pod-security.kubernetes.io/warn";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    fn parse(label: Option<&str>) -> Self {
        match label {
            Some("baseline") => Level::Baseline,
            Some("restricted") => Level::Restricted,
            _ => Level::Privileged,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

/// What the namespace's labels ask of a pod spec.
pub enum Verdict {
    Allowed,
    /// The pod is refused: kube's message after `pods "x" is forbidden: `.
    Refused(String),
}

fn label<'a>(namespace: &'a Value, key: &str) -> Option<&'a str> {
    namespace.pointer("/metadata/labels").and_then(|l| l.get(key)).and_then(Value::as_str)
}

/// `"restricted:latest"`, or the level's version label.
fn policy_name(namespace: &Value, level: Level, mode: &str) -> String {
    let version = label(namespace, &format!("pod-security.kubernetes.io/{mode}-version")).unwrap_or("latest");
    format!("{}:{version}", level.name())
}

/// Checks a pod spec against the namespace's enforce and warn levels. `enforce` is false for
/// pod templates, which only ever get warnings.
pub fn check(namespace: &Value, pod_meta: &Value, spec: &Value, enforce: bool, warnings: &mut Vec<String>) -> Verdict {
    let enforced = Level::parse(label(namespace, ENFORCE));
    let warned = Level::parse(label(namespace, WARN));
    if enforced > Level::Privileged {
        let broken = violations(enforced, pod_meta, spec);
        if !broken.is_empty() {
            let text = format!("{:?}: {}", policy_name(namespace, enforced, "enforce"), broken.join(", "));
            if enforce {
                return Verdict::Refused(format!("violates PodSecurity {text}"));
            }
            warnings.push(format!("would violate PodSecurity {text}"));
            return Verdict::Allowed;
        }
    }
    if warned > Level::Privileged {
        let broken = violations(warned, pod_meta, spec);
        if !broken.is_empty() {
            warnings.push(format!(
                "would violate PodSecurity {:?}: {}",
                policy_name(namespace, warned, "warn"),
                broken.join(", ")
            ));
        }
    }
    Verdict::Allowed
}

fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| spec.get(list).and_then(Value::as_array).into_iter().flatten())
}

fn name(c: &Value) -> String {
    c.get("name").and_then(Value::as_str).unwrap_or("").to_string()
}

fn quoted<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    names.into_iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

fn plural<'a>(one: &'a str, many: &'a str, n: usize) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_named(names: &[String]) -> String {
    format!("{} {}", plural("container", "containers", names.len()), quoted(names))
}

fn sc<'a>(v: &'a Value, field: &str) -> Option<&'a Value> {
    v.get("securityContext").and_then(|s| s.get(field))
}

/// Every check of `level` that the pod breaks, as `reason (detail)`, in kube's check order.
fn violations(level: Level, meta: &Value, spec: &Value) -> Vec<String> {
    let restricted = level == Level::Restricted;
    let mut out = Vec::new();
    let mut push = |reason: &str, detail: String| out.push(format!("{reason} ({detail})"));
    let all: Vec<&Value> = containers(spec).collect();
    let failing =
        |test: &dyn Fn(&Value) -> bool| -> Vec<String> { all.iter().filter(|c| test(c)).map(|c| name(c)).collect() };

    // allowPrivilegeEscalation (restricted)
    if restricted {
        let bad = failing(&|c| sc(c, "allowPrivilegeEscalation") != Some(&Value::Bool(false)));
        if !bad.is_empty() {
            push(
                "allowPrivilegeEscalation != false",
                format!("{} must set securityContext.allowPrivilegeEscalation=false", containers_named(&bad)),
            );
        }
    }
    // appArmorProfile
    let unconfined = |p: Option<&Value>| p.and_then(|p| p.get("type")).and_then(Value::as_str) == Some("Unconfined");
    let mut apparmor = Vec::new();
    if unconfined(sc(spec, "appArmorProfile")) {
        apparmor.push("pod must not set securityContext.appArmorProfile.type to \"Unconfined\"".to_string());
    }
    let bad = failing(&|c| unconfined(sc(c, "appArmorProfile")));
    if !bad.is_empty() {
        apparmor.push(format!(
            "{} must not set securityContext.appArmorProfile.type to \"Unconfined\"",
            containers_named(&bad)
        ));
    }
    let annotations = meta.pointer("/metadata/annotations").and_then(Value::as_object);
    for (key, value) in annotations.into_iter().flatten() {
        if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
            && value != "runtime/default"
            && !value.as_str().unwrap_or("").starts_with("localhost/")
        {
            apparmor.push(format!("{key}={value}"));
        }
    }
    if !apparmor.is_empty() {
        push("forbidden AppArmor profile", apparmor.join(", "));
    }
    // capabilities
    const BASELINE_CAPS: &[&str] = &[
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];
    let added = |c: &Value| -> Vec<String> {
        c.pointer("/securityContext/capabilities/add")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    if restricted {
        let mut details = Vec::new();
        let no_drop_all = failing(&|c| {
            !c.pointer("/securityContext/capabilities/drop")
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|x| x == "ALL"))
        });
        if !no_drop_all.is_empty() {
            details.push(format!(
                "{} must set securityContext.capabilities.drop=[\"ALL\"]",
                containers_named(&no_drop_all)
            ));
        }
        let mut caps = BTreeSet::new();
        let adding = failing(&|c| added(c).iter().any(|a| a != "NET_BIND_SERVICE"));
        for c in &all {
            caps.extend(added(c).into_iter().filter(|a| a != "NET_BIND_SERVICE"));
        }
        if !adding.is_empty() {
            details.push(format!(
                "{} must not include {} in securityContext.capabilities.add",
                containers_named(&adding),
                quoted(&caps)
            ));
        }
        if !details.is_empty() {
            push("unrestricted capabilities", details.join("; "));
        }
    } else {
        let mut caps = BTreeSet::new();
        let adding = failing(&|c| added(c).iter().any(|a| !BASELINE_CAPS.contains(&a.as_str())));
        for c in &all {
            caps.extend(added(c).into_iter().filter(|a| !BASELINE_CAPS.contains(&a.as_str())));
        }
        if !adding.is_empty() {
            push(
                "non-default capabilities",
                format!(
                    "{} must not include {} in securityContext.capabilities.add",
                    containers_named(&adding),
                    quoted(&caps)
                ),
            );
        }
    }
    // hostNamespaces
    let host: Vec<&str> = ["hostIPC", "hostNetwork", "hostPID"]
        .into_iter()
        .filter(|f| spec.get(*f) == Some(&Value::Bool(true)))
        .collect();
    if !host.is_empty() {
        push("host namespaces", host.join(", "));
    }
    // hostPathVolumes
    let volumes: Vec<&Value> = spec.get("volumes").and_then(Value::as_array).into_iter().flatten().collect();
    let host_paths: Vec<String> = volumes.iter().filter(|v| v.get("hostPath").is_some()).map(|v| name(v)).collect();
    if !host_paths.is_empty() {
        push("hostPath volumes", format!("{} {}", plural("volume", "volumes", host_paths.len()), quoted(&host_paths)));
    }
    // hostPorts
    let mut ports = BTreeSet::new();
    let with_ports = failing(&|c| {
        c.get("ports")
            .and_then(Value::as_array)
            .is_some_and(|ps| ps.iter().any(|p| p.get("hostPort").and_then(Value::as_i64).unwrap_or(0) != 0))
    });
    for c in &all {
        for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
            if let Some(port) = p.get("hostPort").and_then(Value::as_i64).filter(|p| *p != 0) {
                ports.insert(port.to_string());
            }
        }
    }
    if !with_ports.is_empty() {
        push(
            "hostPort",
            format!(
                "{} {} {} {}",
                containers_named(&with_ports),
                plural("uses", "use", with_ports.len()),
                plural("hostPort", "hostPorts", ports.len()),
                ports.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    // privileged
    let privileged = failing(&|c| sc(c, "privileged") == Some(&Value::Bool(true)));
    if !privileged.is_empty() {
        push("privileged", format!("{} must not set securityContext.privileged=true", containers_named(&privileged)));
    }
    // procMount
    let unmasked = failing(&|c| sc(c, "procMount").and_then(Value::as_str).is_some_and(|p| p != "Default"));
    if !unmasked.is_empty() {
        push(
            "procMount",
            format!("{} must not set securityContext.procMount to \"Unmasked\"", containers_named(&unmasked)),
        );
    }
    if restricted {
        // restrictedVolumes
        let allowed = [
            "configMap",
            "csi",
            "downwardAPI",
            "emptyDir",
            "ephemeral",
            "persistentVolumeClaim",
            "projected",
            "secret",
        ];
        let mut types = BTreeSet::new();
        let mut bad = Vec::new();
        for v in &volumes {
            let kinds: Vec<&String> = v
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| *k != "name" && !allowed.contains(&k.as_str()))
                .collect();
            if !kinds.is_empty() {
                bad.push(name(v));
                types.extend(kinds.into_iter().cloned());
            }
        }
        if !bad.is_empty() {
            push(
                "restricted volume types",
                format!(
                    "{} {} {} {} {}",
                    plural("volume", "volumes", bad.len()),
                    quoted(&bad),
                    plural("uses", "use", bad.len()),
                    plural("restricted volume type", "restricted volume types", types.len()),
                    quoted(&types)
                ),
            );
        }
        // runAsNonRoot
        let pod_non_root = sc(spec, "runAsNonRoot");
        let mut setters = Vec::new();
        if pod_non_root == Some(&Value::Bool(false)) {
            setters.push("pod".to_string());
        }
        let explicit = failing(&|c| sc(c, "runAsNonRoot") == Some(&Value::Bool(false)));
        if !explicit.is_empty() {
            setters.push(containers_named(&explicit));
        }
        let implicit = failing(&|c| sc(c, "runAsNonRoot").is_none() && pod_non_root != Some(&Value::Bool(true)));
        if !setters.is_empty() {
            push(
                "runAsNonRoot != true",
                format!("{} must not set securityContext.runAsNonRoot=false", setters.join(" and ")),
            );
        } else if !implicit.is_empty() {
            push(
                "runAsNonRoot != true",
                format!("pod or {} must set securityContext.runAsNonRoot=true", containers_named(&implicit)),
            );
        }
        // runAsUser
        let mut root = Vec::new();
        if sc(spec, "runAsUser").and_then(Value::as_i64) == Some(0) {
            root.push("pod".to_string());
        }
        let root_containers = failing(&|c| sc(c, "runAsUser").and_then(Value::as_i64) == Some(0));
        if !root_containers.is_empty() {
            root.push(containers_named(&root_containers));
        }
        if !root.is_empty() {
            push("runAsUser=0", format!("{} must not set runAsUser=0", root.join(" and ")));
        }
    }
    // seccompProfile
    let seccomp =
        |v: &Value| sc(v, "seccompProfile").and_then(|p| p.get("type")).and_then(Value::as_str).map(str::to_string);
    let pod_seccomp = seccomp(spec);
    let mut details = Vec::new();
    if pod_seccomp.as_deref() == Some("Unconfined") {
        details.push("pod must not set securityContext.seccompProfile.type to \"Unconfined\"".to_string());
    }
    let unconfined_containers = failing(&|c| seccomp(c).as_deref() == Some("Unconfined"));
    if !unconfined_containers.is_empty() {
        details.push(format!(
            "{} must not set securityContext.seccompProfile.type to \"Unconfined\"",
            containers_named(&unconfined_containers)
        ));
    }
    if restricted && details.is_empty() {
        let pod_ok = matches!(pod_seccomp.as_deref(), Some("RuntimeDefault" | "Localhost"));
        let unset = failing(&|c| seccomp(c).is_none() && !pod_ok);
        if !unset.is_empty() {
            details.push(format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_named(&unset)
            ));
        }
    }
    if !details.is_empty() {
        push("seccompProfile", details.join("; "));
    }
    // sysctls
    const SAFE_SYSCTLS: &[&str] = &[
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ];
    let sysctls: Vec<String> = spec
        .pointer("/securityContext/sysctls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .map(str::to_string)
        .collect();
    if !sysctls.is_empty() {
        push("forbidden sysctls", sysctls.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "labels": labels}})
    }

    #[test]
    fn restricted_names_each_broken_check_as_kube_does() {
        let spec = json!({"containers": [{"name": "web", "image": "nginx"}]});
        let mut warnings = Vec::new();
        let Verdict::Refused(text) = check(&ns(json!({ENFORCE: "restricted"})), &json!({}), &spec, true, &mut warnings)
        else {
            panic!("allowed")
        };
        assert_eq!(
            text,
            r#"violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "web" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        );
        let good = json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "web", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]});
        assert!(matches!(
            check(&ns(json!({ENFORCE: "restricted"})), &json!({}), &good, true, &mut warnings),
            Verdict::Allowed
        ));
        assert!(warnings.is_empty());
    }

    #[test]
    fn baseline_refuses_privilege_and_warn_only_warns() {
        let spec = json!({"hostNetwork": true, "containers": [
            {"name": "a", "securityContext": {"privileged": true}, "ports": [{"containerPort": 80, "hostPort": 8080}]},
            {"name": "b", "securityContext": {"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}}]});
        let mut warnings = Vec::new();
        let Verdict::Refused(text) = check(
            &ns(json!({ENFORCE: "baseline", "pod-security.kubernetes.io/enforce-version": "v1.32"})),
            &json!({}),
            &spec,
            true,
            &mut warnings,
        ) else {
            panic!("allowed")
        };
        assert_eq!(
            text,
            r#"violates PodSecurity "baseline:v1.32": non-default capabilities (container "b" must not include "NET_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork), hostPort (container "a" uses hostPort 8080), privileged (container "a" must not set securityContext.privileged=true)"#
        );
        assert!(matches!(
            check(&ns(json!({WARN: "baseline"})), &json!({}), &spec, true, &mut warnings),
            Verdict::Allowed
        ));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with(r#"would violate PodSecurity "baseline:latest": non-default capabilities"#));
    }
}
