//! Containers: names, images, ports, env, mounts, resources, probes, security context.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::super::field::{child, index, invalid_raw, key, not_found};
use super::super::names::*;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{get_arr, get_bool, get_i64, get_str, is_nil};
use crate::kinds::defaults::quantity::Quantity;

pub(super) fn validate_container_ports(c: &Value, path: &str, out: &mut Vec<Cause>) {
    let mut names = HashSet::new();
    for (i, p) in get_arr(c, "ports").into_iter().flatten().enumerate() {
        let ip = index(path, i);
        let name = get_str(p, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    out.push(Cause::invalid(child(&ip, "name"), &str_val(name), &m));
                }
            } else if !names.insert(name.to_string()) {
                out.push(Cause::duplicate(child(&ip, "name"), &str_val(name)));
            }
        }
        let cp = get_i64(p, "containerPort").unwrap_or(0);
        if cp == 0 {
            out.push(Cause::required(child(&ip, "containerPort"), ""));
        } else {
            for m in is_valid_port_num(cp) {
                out.push(Cause::invalid(child(&ip, "containerPort"), &Value::from(cp), &m));
            }
        }
        let hp = get_i64(p, "hostPort").unwrap_or(0);
        if hp != 0 {
            for m in is_valid_port_num(hp) {
                out.push(Cause::invalid(child(&ip, "hostPort"), &Value::from(hp), &m));
            }
        }
        validate_protocol(get_str(p, "protocol"), &child(&ip, "protocol"), out);
    }
}

/// Port protocol: required, one of SCTP/TCP/UDP.
pub(crate) fn validate_protocol(proto: &str, path: &str, out: &mut Vec<Cause>) {
    if proto.is_empty() {
        out.push(Cause::required(path, ""));
    } else if !["TCP", "UDP", "SCTP"].contains(&proto) {
        out.push(Cause::not_supported(path, &str_val(proto), &["SCTP", "TCP", "UDP"]));
    }
}

pub(super) fn validate_key_selector(s: &Value, path: &str, out: &mut Vec<Cause>) {
    // kube validates the referenced name even when empty, so "" reports the subdomain regex.
    let name = get_str(s, "name");
    for m in is_dns1123_subdomain(name) {
        out.push(Cause::invalid(child(path, "name"), &str_val(name), &m));
    }
    let k = get_str(s, "key");
    if k.is_empty() {
        out.push(Cause::required(child(path, "key"), ""));
    } else {
        for m in is_config_map_key(k) {
            out.push(Cause::invalid(child(path, "key"), &str_val(k), &m));
        }
    }
}

pub(super) fn validate_env(c: &Value, path: &str, out: &mut Vec<Cause>) {
    for (i, ev) in get_arr(c, "env").into_iter().flatten().enumerate() {
        let ip = index(path, i);
        let name = get_str(ev, "name");
        if name.is_empty() {
            out.push(Cause::required(child(&ip, "name"), ""));
        } else {
            for m in is_relaxed_env_var_name(name) {
                out.push(Cause::invalid(child(&ip, "name"), &str_val(name), &m));
            }
        }
        let Some(vf) = ev.get("valueFrom").filter(|v| !v.is_null()) else {
            continue;
        };
        let vp = child(&ip, "valueFrom");
        let mut n = 0;
        if let Some(f) = vf.get("fieldRef").filter(|v| !v.is_null()) {
            n += 1;
            validate_object_field_selector(f, &ENV_FIELD_PATHS, &child(&vp, "fieldRef"), out);
        }
        if let Some(f) = vf.get("resourceFieldRef").filter(|v| !v.is_null()) {
            n += 1;
            validate_resource_field_selector(f, &child(&vp, "resourceFieldRef"), false, out);
        }
        if let Some(f) = vf.get("configMapKeyRef").filter(|v| !v.is_null()) {
            n += 1;
            validate_key_selector(f, &child(&vp, "configMapKeyRef"), out);
        }
        if let Some(f) = vf.get("secretKeyRef").filter(|v| !v.is_null()) {
            n += 1;
            validate_key_selector(f, &child(&vp, "secretKeyRef"), out);
        }
        if n == 0 {
            out.push(Cause::invalid(
                vp,
                &str_val(""),
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !get_str(ev, "value").is_empty() {
            out.push(Cause::invalid(vp, &str_val(""), "may not be specified when `value` is not empty"));
        } else if n > 1 {
            out.push(Cause::invalid(vp, &str_val(""), "may not have more than one field specified at a time"));
        }
    }
}

pub(super) fn validate_env_from(c: &Value, path: &str, out: &mut Vec<Cause>) {
    for (i, ev) in get_arr(c, "envFrom").into_iter().flatten().enumerate() {
        let ip = index(path, i);
        let prefix = get_str(ev, "prefix");
        if !prefix.is_empty() {
            for m in is_relaxed_env_var_name(prefix) {
                out.push(Cause::invalid(child(&ip, "prefix"), &str_val(prefix), &m));
            }
        }
        let mut n = 0;
        for t in ["configMapRef", "secretRef"] {
            if let Some(r) = ev.get(t).filter(|v| !v.is_null()) {
                n += 1;
                let name = get_str(r, "name");
                if name.is_empty() {
                    out.push(Cause::required(child(&child(&ip, t), "name"), ""));
                } else {
                    for m in NameRule::Subdomain.check(name, true) {
                        out.push(Cause::invalid(child(&child(&ip, t), "name"), &str_val(name), &m));
                    }
                }
            }
        }
        if n == 0 {
            out.push(Cause::invalid(path, &str_val(""), "must specify one of: `configMapRef` or `secretRef`"));
        } else if n > 1 {
            out.push(Cause::invalid(path, &str_val(""), "may not have more than one field specified at a time"));
        }
    }
}

pub(super) fn validate_volume_mounts(c: &Value, vols: &HashMap<String, VolKind>, cpath: &str, out: &mut Vec<Cause>) {
    let path = &child(cpath, "volumeMounts");
    let devices: HashMap<&str, &str> = get_arr(c, "volumeDevices")
        .into_iter()
        .flatten()
        .map(|d| (get_str(d, "name"), get_str(d, "devicePath")))
        .collect();
    let mut mount_points = HashSet::new();
    for (i, m) in get_arr(c, "volumeMounts").into_iter().flatten().enumerate() {
        let ip = index(path, i);
        let name = get_str(m, "name");
        let mp = get_str(m, "mountPath");
        if name.is_empty() {
            out.push(Cause::required(child(&ip, "name"), ""));
        }
        if !vols.contains_key(name) {
            out.push(not_found(child(&ip, "name"), &str_val(name)));
        }
        if mp.is_empty() {
            out.push(Cause::required(child(&ip, "mountPath"), ""));
        }
        if !mount_points.insert(mp.to_string()) {
            out.push(Cause::invalid(child(&ip, "mountPath"), &str_val(mp), "must be unique"));
        }
        if devices.contains_key(name) {
            out.push(Cause::invalid(child(&ip, "name"), &str_val(name), "must not already exist in volumeDevices"));
        }
        if devices.values().any(|p| *p == mp) {
            out.push(Cause::invalid(
                child(&ip, "mountPath"),
                &str_val(mp),
                "must not already exist as a path in volumeDevices",
            ));
        }
        // kube reports subPath problems at the list path, not the item (a long-standing quirk).
        let sub = get_str(m, "subPath");
        if !sub.is_empty() {
            validate_local_descending_path(sub, &child(path, "subPath"), out);
        }
        let expr = get_str(m, "subPathExpr");
        if !expr.is_empty() {
            if !sub.is_empty() {
                out.push(Cause::invalid(
                    child(&ip, "subPathExpr"),
                    &str_val(expr),
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            validate_local_descending_path(expr, &child(path, "subPathExpr"), out);
        }
        if let Some(prop) = m.get("mountPropagation").and_then(Value::as_str) {
            let pp = child(path, "mountPropagation");
            if !["Bidirectional", "HostToContainer", "None"].contains(&prop) {
                out.push(Cause::not_supported(
                    pp.clone(),
                    &str_val(prop),
                    &["Bidirectional", "HostToContainer", "None"],
                ));
            }
            let privileged = c.get("securityContext").map(|s| get_bool(s, "privileged")).unwrap_or(false);
            if prop == "Bidirectional" && !privileged {
                out.push(Cause::forbidden(
                    pp,
                    "Bidirectional mount propagation is available only to privileged containers",
                ));
            }
        }
    }
    for (i, d) in get_arr(c, "volumeDevices").into_iter().flatten().enumerate() {
        let ip = index(&child(cpath, "volumeDevices"), i);
        let name = get_str(d, "name");
        match vols.get(name) {
            Some(VolKind::Claim) => {}
            Some(VolKind::Other) => out.push(Cause::invalid(
                child(&ip, "name"),
                &str_val(name),
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            )),
            None => out.push(not_found(child(&ip, "name"), &str_val(name))),
        }
        if get_str(d, "devicePath").is_empty() {
            out.push(Cause::required(child(&ip, "devicePath"), ""));
        }
    }
}

pub(super) fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

pub(super) fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

pub(super) const STANDARD_RESOURCES: [&str; 21] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "quota",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "persistentvolumeclaims",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
    "storage",
    "configmaps",
];

pub(super) fn validate_container_resource_name(name: &str, path: &str, out: &mut Vec<Cause>) {
    let msgs = is_qualified_name(name);
    let had = !msgs.is_empty();
    for m in msgs {
        out.push(Cause::invalid(path, &str_val(name), &m));
    }
    if !had && !name.contains('/') && !STANDARD_RESOURCES.contains(&name) && !is_hugepages(name) {
        out.push(Cause::invalid(path, &str_val(name), "must be a standard resource type or fully qualified"));
    }
    if !name.contains('/') {
        if !["cpu", "memory", "ephemeral-storage"].contains(&name) && !is_hugepages(name) {
            out.push(Cause::invalid(path, &str_val(name), "must be a standard resource for containers"));
        }
    } else if !is_native_resource(name)
        && (name.starts_with("requests.") || !is_qualified_name(&format!("requests.{name}")).is_empty())
    {
        out.push(Cause::invalid(path, &str_val(name), "doesn't follow extended resource name standard"));
    }
}

/// Quantities of a resource list: parse, non-negative, integer for extended resources.
pub(super) fn parse_resource_list(list: Option<&Value>, path: &str, out: &mut Vec<Cause>) -> Vec<(String, Quantity)> {
    let mut parsed = Vec::new();
    let Some(Value::Object(m)) = list else {
        return parsed;
    };
    for (name, v) in m {
        let p = key(path, name);
        validate_container_resource_name(name, &p, out);
        match Quantity::from_json(v) {
            Ok(q) => {
                if q.is_negative() {
                    out.push(Cause::invalid(p.clone(), &str_val(&q.canonical()), "must be greater than or equal to 0"));
                }
                if !is_native_resource(name) && !q.is_integer() {
                    out.push(invalid_raw(p.clone(), &q.canonical(), "must be an integer"));
                }
                parsed.push((name.clone(), q));
            }
            // kube rejects this while decoding (400); reported here so it is never stored.
            Err(e) => out.push(Cause::invalid(p, v, e)),
        }
    }
    parsed
}

pub(super) fn validate_resources(c: &Value, path: &str, out: &mut Vec<Cause>) {
    let Some(res) = c.get("resources").filter(|v| v.is_object()) else {
        return;
    };
    let lim_path = child(path, "limits");
    let req_path = child(path, "requests");
    let limits = parse_resource_list(res.get("limits"), &lim_path, out);
    let requests = parse_resource_list(res.get("requests"), &req_path, out);
    let qos = |l: &[(String, Quantity)]| l.iter().any(|(n, _)| n == "cpu" || n == "memory");
    let huge = |l: &[(String, Quantity)]| l.iter().any(|(n, _)| is_hugepages(n));
    for (name, q) in &requests {
        match limits.iter().find(|(n, _)| n == name) {
            Some((_, lim)) => {
                let overcommit = is_native_resource(name) && !is_hugepages(name);
                let ord = q.cmp_value(lim);
                if ord != std::cmp::Ordering::Equal && !overcommit {
                    out.push(Cause::invalid(
                        req_path.clone(),
                        &str_val(&q.canonical()),
                        &format!("must be equal to {name} limit of {}", lim.canonical()),
                    ));
                } else if ord == std::cmp::Ordering::Greater {
                    out.push(Cause::invalid(
                        req_path.clone(),
                        &str_val(&q.canonical()),
                        &format!("must be less than or equal to {name} limit of {}", lim.canonical()),
                    ));
                }
            }
            None => {
                if !is_native_resource(name) || is_hugepages(name) {
                    out.push(Cause::required(lim_path.clone(), "Limit must be set for non overcommitable resources"));
                }
            }
        }
    }
    if !qos(&limits) && !qos(&requests) && (huge(&limits) || huge(&requests)) {
        out.push(Cause::forbidden(path, "HugePages require cpu or memory"));
    }
}

pub(super) fn validate_handler(h: &Value, grace: Option<i64>, probe: bool, path: &str, out: &mut Vec<Cause>) {
    let mut n = 0;
    let types: &[&str] =
        if probe { &["exec", "httpGet", "tcpSocket", "grpc"] } else { &["exec", "httpGet", "tcpSocket", "sleep"] };
    for t in types {
        let Some(a) = h.get(*t).filter(|v| !v.is_null()) else {
            continue;
        };
        let p = child(path, t);
        if n > 0 {
            out.push(Cause::forbidden(p, "may not specify more than 1 handler type"));
            continue;
        }
        n += 1;
        match *t {
            "exec" => {
                if get_arr(a, "command").map(Vec::is_empty).unwrap_or(true) {
                    out.push(Cause::required(child(&p, "command"), ""));
                }
            }
            "httpGet" => {
                if get_str(a, "path").is_empty() {
                    out.push(Cause::required(child(&p, "path"), ""));
                }
                validate_port_num_or_name(a.get("port"), &child(&p, "port"), out);
                let scheme = get_str(a, "scheme");
                if scheme != "HTTP" && scheme != "HTTPS" {
                    out.push(Cause::not_supported(child(&p, "scheme"), &str_val(scheme), &["HTTP", "HTTPS"]));
                }
                for hdr in get_arr(a, "httpHeaders").into_iter().flatten() {
                    let hn = get_str(hdr, "name");
                    for m in is_http_header_name(hn) {
                        out.push(Cause::invalid(child(&p, "httpHeaders"), &str_val(hn), &m));
                    }
                }
            }
            "tcpSocket" => validate_port_num_or_name(a.get("port"), &child(&p, "port"), out),
            "grpc" => {
                let port = get_i64(a, "port").unwrap_or(0);
                for m in is_valid_port_num(port) {
                    out.push(Cause::invalid(child(&p, "port"), &Value::from(port), &m));
                }
            }
            _ => {
                let secs = get_i64(a, "seconds").unwrap_or(0);
                let g = grace.unwrap_or(0);
                if secs <= 0 || secs > g {
                    out.push(Cause::invalid(
                        p,
                        &Value::from(secs),
                        &format!("must be greater than 0 and less than terminationGracePeriodSeconds ({g})"),
                    ));
                }
            }
        }
    }
    if n == 0 {
        out.push(Cause::required(path, "must specify a handler type"));
    }
}

/// `ValidatePortNumOrName` for an IntOrString port.
pub(crate) fn validate_port_num_or_name(port: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    match port {
        Some(Value::String(s)) => {
            for m in is_valid_port_name(s) {
                out.push(Cause::invalid(path, &str_val(s), &m));
            }
        }
        other => {
            let n = other.and_then(Value::as_i64).unwrap_or(0);
            for m in is_valid_port_num(n) {
                out.push(Cause::invalid(path, &Value::from(n), &m));
            }
        }
    }
}

pub(super) fn validate_probe(probe: Option<&Value>, grace: Option<i64>, kind: &str, path: &str, out: &mut Vec<Cause>) {
    let Some(p) = probe.filter(|v| !v.is_null()) else {
        return;
    };
    validate_handler(p, grace, true, path, out);
    for f in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
        super::super::field::nonnegative(p, f, path, out);
    }
    if let Some(t) = get_i64(p, "terminationGracePeriodSeconds") {
        if t <= 0 {
            out.push(Cause::invalid(
                child(path, "terminationGracePeriodSeconds"),
                &Value::from(t),
                "must be greater than 0",
            ));
        }
    }
    match kind {
        "readiness" => {
            if !is_nil(p, "terminationGracePeriodSeconds") {
                out.push(Cause::invalid(
                    child(path, "terminationGracePeriodSeconds"),
                    &p.get("terminationGracePeriodSeconds").cloned().unwrap_or(Value::Null),
                    "must not be set for readinessProbes",
                ));
            }
        }
        _ => {
            let st = get_i64(p, "successThreshold").unwrap_or(0);
            if st != 1 {
                out.push(Cause::invalid(child(path, "successThreshold"), &Value::from(st), "must be 1"));
            }
        }
    }
}

pub(super) fn validate_lifecycle(c: &Value, grace: Option<i64>, path: &str, out: &mut Vec<Cause>) {
    if let Some(lc) = c.get("lifecycle").filter(|v| !v.is_null()) {
        for h in ["postStart", "preStop"] {
            if let Some(x) = lc.get(h).filter(|v| !v.is_null()) {
                validate_handler(x, grace, false, &child(&child(path, "lifecycle"), h), out);
            }
        }
    }
}

pub(super) fn validate_security_context(sc: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    let Some(sc) = sc.filter(|v| v.is_object()) else {
        return;
    };
    for f in ["runAsUser", "runAsGroup"] {
        if let Some(id) = get_i64(sc, f) {
            for m in is_valid_id(id) {
                out.push(Cause::invalid(child(path, f), &Value::from(id), &m));
            }
        }
    }
    if let Some(pm) = sc.get("procMount").and_then(Value::as_str) {
        if pm != "Default" && pm != "Unmasked" {
            out.push(Cause::not_supported(child(path, "procMount"), &str_val(pm), &["Default", "Unmasked"]));
        }
    }
    validate_seccomp(sc.get("seccompProfile"), &child(path, "seccompProfile"), out);
    if sc.get("allowPrivilegeEscalation").and_then(Value::as_bool) == Some(false) && get_bool(sc, "privileged") {
        out.push(invalid_raw(
            path,
            "&core.SecurityContext{...}",
            "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
        ));
    }
}

pub(super) fn validate_seccomp(sp: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    let Some(sp) = sp.filter(|v| v.is_object()) else {
        return;
    };
    let t = get_str(sp, "type");
    match t {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => out.push(Cause::required(child(path, "type"), "type is required when seccompProfile is set")),
        _ => out.push(Cause::not_supported(
            child(path, "type"),
            &str_val(t),
            &["Localhost", "RuntimeDefault", "Unconfined"],
        )),
    }
    if t == "Localhost" {
        match sp.get("localhostProfile").and_then(Value::as_str) {
            None => {
                out.push(Cause::required(child(path, "localhostProfile"), "must be set when seccomp type is Localhost"))
            }
            Some(lp) => validate_local_descending_path(lp, &child(path, "localhostProfile"), out),
        }
    } else if !is_nil(sp, "localhostProfile") {
        out.push(invalid_raw(
            child(path, "localhostProfile"),
            "&core.SeccompProfile{...}",
            "can only be set when seccomp type is Localhost",
        ));
    }
}

pub(super) fn validate_container_common(c: &Value, vols: &HashMap<String, VolKind>, path: &str, out: &mut Vec<Cause>) {
    let name = get_str(c, "name");
    if name.is_empty() {
        out.push(Cause::required(child(path, "name"), ""));
    } else {
        for m in is_dns1123_label(name) {
            out.push(Cause::invalid(child(path, "name"), &str_val(name), &m));
        }
    }
    if get_str(c, "image").is_empty() {
        out.push(Cause::required(child(path, "image"), ""));
    }
    let tmp = get_str(c, "terminationMessagePolicy");
    match tmp {
        "File" | "FallbackToLogsOnError" => {}
        "" => out.push(Cause::required(child(path, "terminationMessagePolicy"), "")),
        _ => out.push(Cause::not_supported(
            child(path, "terminationMessagePolicy"),
            &str_val(tmp),
            &["File", "FallbackToLogsOnError"],
        )),
    }
    validate_container_ports(c, &child(path, "ports"), out);
    validate_env(c, &child(path, "env"), out);
    validate_env_from(c, &child(path, "envFrom"), out);
    validate_volume_mounts(c, vols, path, out);
    let ipp = get_str(c, "imagePullPolicy");
    match ipp {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => out.push(Cause::required(child(path, "imagePullPolicy"), "")),
        _ => out.push(Cause::not_supported(
            child(path, "imagePullPolicy"),
            &str_val(ipp),
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    validate_resources(c, &child(path, "resources"), out);
    validate_security_context(c.get("securityContext"), &child(path, "securityContext"), out);
}

pub(super) fn host_port_conflicts(containers: &[&Value], path: &str, out: &mut Vec<Cause>) {
    let mut seen = HashSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, p) in get_arr(c, "ports").into_iter().flatten().enumerate() {
            let hp = get_i64(p, "hostPort").unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let s = format!("{}/{}/{hp}", get_str(p, "protocol"), get_str(p, "hostIP"));
            if !seen.insert(s.clone()) {
                out.push(Cause::duplicate(
                    child(&index(&child(&index(path, ci), "ports"), pi), "hostPort"),
                    &str_val(&s),
                ));
            }
        }
    }
}

pub(super) fn validate_containers(
    spec: &Value,
    vols: &HashMap<String, VolKind>,
    grace: Option<i64>,
    path: &str,
    out: &mut Vec<Cause>,
) {
    let containers: Vec<&Value> = get_arr(spec, "containers").into_iter().flatten().collect();
    if containers.is_empty() {
        out.push(Cause::required(path, ""));
        return;
    }
    let mut names = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = index(path, i);
        validate_container_common(c, vols, &p, out);
        let name = get_str(c, "name");
        if !names.insert(name.to_string()) {
            out.push(Cause::duplicate(child(&p, "name"), &str_val(name)));
        }
        validate_lifecycle(c, grace, &p, out);
        validate_probe(c.get("livenessProbe"), grace, "liveness", &child(&p, "livenessProbe"), out);
        validate_probe(c.get("readinessProbe"), grace, "readiness", &child(&p, "readinessProbe"), out);
        validate_probe(c.get("startupProbe"), grace, "startup", &child(&p, "startupProbe"), out);
        if !is_nil(c, "restartPolicy") {
            out.push(Cause::forbidden(child(&p, "restartPolicy"), "may not be set for non-init containers"));
        }
    }
    host_port_conflicts(&containers, path, out);
}

pub(super) fn validate_init_containers(
    spec: &Value,
    vols: &HashMap<String, VolKind>,
    grace: Option<i64>,
    path: &str,
    out: &mut Vec<Cause>,
) {
    let mut names: HashSet<String> =
        get_arr(spec, "containers").into_iter().flatten().map(|c| get_str(c, "name").to_string()).collect();
    for (i, c) in get_arr(spec, "initContainers").into_iter().flatten().enumerate() {
        let p = index(path, i);
        validate_container_common(c, vols, &p, out);
        let mut restart_always = false;
        if let Some(rp) = c.get("restartPolicy").and_then(Value::as_str) {
            if rp != "Always" {
                out.push(Cause::not_supported(child(&p, "restartPolicy"), &str_val(rp), &["Always"]));
            }
            restart_always = rp == "Always";
        }
        let name = get_str(c, "name");
        if names.contains(name) {
            out.push(Cause::duplicate(child(&p, "name"), &str_val(name)));
        } else if !name.is_empty() {
            names.insert(name.to_string());
        }
        host_port_conflicts(&[c], path, out);
        if restart_always {
            validate_lifecycle(c, grace, &p, out);
            validate_probe(c.get("livenessProbe"), grace, "liveness", &child(&p, "livenessProbe"), out);
            validate_probe(c.get("readinessProbe"), grace, "readiness", &child(&p, "readinessProbe"), out);
            validate_probe(c.get("startupProbe"), grace, "startup", &child(&p, "startupProbe"), out);
        } else {
            for f in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
                if !is_nil(c, f) {
                    out.push(Cause::forbidden(
                        child(&p, f),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}
