//! Scheduling and pod-level settings: affinity, tolerations, topology spread, DNS config,
//! host network and the pod security context.

use std::collections::HashSet;

use serde_json::Value;

use super::super::field::{child, index, invalid_raw};
use super::super::meta::{validate_label_name, validate_label_selector};
use super::super::names::*;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{get_arr, get_bool, get_i64, get_str, is_nil};

pub(super) fn validate_node_selector_term(term: &Value, path: &str, out: &mut Vec<Cause>) {
    for (j, rq) in get_arr(term, "matchExpressions").into_iter().flatten().enumerate() {
        let p = index(&child(path, "matchExpressions"), j);
        let n = get_arr(rq, "values").map(Vec::len).unwrap_or(0);
        match get_str(rq, "operator") {
            "In" | "NotIn" => {
                if n == 0 {
                    out.push(Cause::required(
                        child(&p, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if n > 0 {
                    out.push(Cause::forbidden(
                        child(&p, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            "Gt" | "Lt" => {
                if n != 1 {
                    out.push(Cause::required(
                        child(&p, "values"),
                        "must be specified single value when `operator` is 'Lt' or 'Gt'",
                    ));
                }
            }
            op => out.push(Cause::invalid(child(&p, "operator"), &str_val(op), "not a valid selector operator")),
        }
        validate_label_name(get_str(rq, "key"), &child(&p, "key"), out);
    }
    for (j, rq) in get_arr(term, "matchFields").into_iter().flatten().enumerate() {
        let p = index(&child(path, "matchFields"), j);
        let values = get_arr(rq, "values");
        match get_str(rq, "operator") {
            "In" | "NotIn" => {
                if values.map(Vec::len).unwrap_or(0) != 1 {
                    out.push(Cause::required(
                        child(&p, "values"),
                        "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                    ));
                }
            }
            op => out.push(Cause::invalid(child(&p, "operator"), &str_val(op), "not a valid selector operator")),
        }
        let k = get_str(rq, "key");
        if k != "metadata.name" {
            out.push(Cause::invalid(child(&p, "key"), &str_val(k), "not a valid field selector key"));
        } else {
            for (vi, v) in values.into_iter().flatten().enumerate() {
                let v = v.as_str().unwrap_or_default();
                for m in is_dns1123_subdomain(v) {
                    out.push(Cause::invalid(index(&child(&p, "values"), vi), &str_val(v), &m));
                }
            }
        }
    }
}

pub(super) fn validate_pod_affinity_term(t: &Value, path: &str, out: &mut Vec<Cause>) {
    validate_label_selector(t.get("labelSelector"), &child(path, "labelSelector"), out);
    validate_label_selector(t.get("namespaceSelector"), &child(path, "namespaceSelector"), out);
    for ns in get_arr(t, "namespaces").into_iter().flatten() {
        let ns = ns.as_str().unwrap_or_default();
        for m in is_dns1123_label(ns) {
            out.push(Cause::invalid(child(path, "namespace"), &str_val(ns), &m));
        }
    }
    let tk = get_str(t, "topologyKey");
    if tk.is_empty() {
        out.push(Cause::required(child(path, "topologyKey"), "can not be empty"));
    }
    validate_label_name(tk, &child(path, "topologyKey"), out);
}

pub(super) fn validate_affinity(spec: &Value, path: &str, out: &mut Vec<Cause>) {
    let Some(aff) = spec.get("affinity").filter(|v| v.is_object()) else {
        return;
    };
    if let Some(na) = aff.get("nodeAffinity").filter(|v| v.is_object()) {
        let np = child(path, "nodeAffinity");
        if let Some(req) = na.get("requiredDuringSchedulingIgnoredDuringExecution").filter(|v| v.is_object()) {
            let tp = child(&child(&np, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
            let terms = get_arr(req, "nodeSelectorTerms");
            if terms.map(Vec::is_empty).unwrap_or(true) {
                out.push(Cause::required(tp, "must have at least one node selector term"));
            } else {
                for (i, t) in terms.into_iter().flatten().enumerate() {
                    validate_node_selector_term(t, &index(&tp, i), out);
                }
            }
        }
        for (i, t) in get_arr(na, "preferredDuringSchedulingIgnoredDuringExecution").into_iter().flatten().enumerate() {
            let p = index(&child(&np, "preferredDuringSchedulingIgnoredDuringExecution"), i);
            let w = get_i64(t, "weight").unwrap_or(0);
            if !(1..=100).contains(&w) {
                out.push(Cause::invalid(child(&p, "weight"), &Value::from(w), "must be in the range 1-100"));
            }
            if let Some(pref) = t.get("preference") {
                validate_node_selector_term(pref, &child(&p, "preference"), out);
            }
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pa) = aff.get(kind).filter(|v| v.is_object()) else {
            continue;
        };
        let kp = child(path, kind);
        for (i, t) in get_arr(pa, "requiredDuringSchedulingIgnoredDuringExecution").into_iter().flatten().enumerate() {
            validate_pod_affinity_term(
                t,
                &index(&child(&kp, "requiredDuringSchedulingIgnoredDuringExecution"), i),
                out,
            );
        }
        for (i, t) in get_arr(pa, "preferredDuringSchedulingIgnoredDuringExecution").into_iter().flatten().enumerate() {
            let p = index(&child(&kp, "preferredDuringSchedulingIgnoredDuringExecution"), i);
            let w = get_i64(t, "weight").unwrap_or(0);
            if !(1..=100).contains(&w) {
                out.push(Cause::invalid(child(&p, "weight"), &Value::from(w), "must be in the range 1-100"));
            }
            if let Some(term) = t.get("podAffinityTerm") {
                validate_pod_affinity_term(term, &child(&p, "podAffinityTerm"), out);
            }
        }
    }
}

/// `ValidateTolerations`.
pub(crate) fn validate_tolerations(list: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    for (i, t) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
        let p = index(path, i);
        let k = get_str(t, "key");
        if !k.is_empty() {
            validate_label_name(k, &child(&p, "key"), out);
        }
        let op = get_str(t, "operator");
        let effect = get_str(t, "effect");
        if k.is_empty() && op != "Exists" {
            out.push(Cause::invalid(
                child(&p, "operator"),
                &str_val(op),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if !is_nil(t, "tolerationSeconds") && effect != "NoExecute" {
            out.push(Cause::invalid(
                child(&p, "effect"),
                &str_val(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = get_str(t, "value");
        match op {
            "Equal" | "" => {
                let errs = is_valid_label_value(value);
                if !errs.is_empty() {
                    out.push(Cause::invalid(child(&p, "operator"), &str_val(value), &errs.join(";")));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    out.push(invalid_raw(
                        child(&p, "operator"),
                        "core.Toleration{...}",
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            _ => out.push(Cause::not_supported(child(&p, "operator"), &str_val(op), &["Equal", "Exists"])),
        }
        if !effect.is_empty() && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            out.push(Cause::not_supported(
                child(&p, "effect"),
                &str_val(effect),
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
}

pub(super) fn validate_pod_security_context(spec: &Value, path: &str, out: &mut Vec<Cause>) {
    let Some(sc) = spec.get("securityContext").filter(|v| v.is_object()) else {
        return;
    };
    for f in ["fsGroup", "runAsUser", "runAsGroup"] {
        if let Some(id) = get_i64(sc, f) {
            for m in is_valid_id(id) {
                out.push(Cause::invalid(child(path, f), &Value::from(id), &m));
            }
        }
    }
    for (g, gid) in get_arr(sc, "supplementalGroups").into_iter().flatten().enumerate() {
        let gid = gid.as_i64().unwrap_or(0);
        for m in is_valid_id(gid) {
            out.push(Cause::invalid(index(&child(path, "supplementalGroups"), g), &Value::from(gid), &m));
        }
    }
    // In the v1 API hostPID lives on the PodSpec; internally it is part of the security context.
    if sc.get("shareProcessNamespace").and_then(Value::as_bool) == Some(true) && get_bool(spec, "hostPID") {
        out.push(Cause::invalid(
            child(path, "shareProcessNamespace"),
            &Value::Bool(true),
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    let mut seen = HashSet::new();
    for (i, s) in get_arr(sc, "sysctls").into_iter().flatten().enumerate() {
        let n = get_str(s, "name");
        let p = child(&index(&child(path, "sysctls"), i), "name");
        if n.is_empty() {
            out.push(Cause::required(p, ""));
        } else if !is_sysctl_name(n) {
            out.push(Cause::invalid(
                p,
                &str_val(n),
                "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
            ));
        } else if !seen.insert(n.to_string()) {
            out.push(Cause::duplicate(p, &str_val(n)));
        }
    }
    if let Some(p) = sc.get("fsGroupChangePolicy").and_then(Value::as_str) {
        if p != "OnRootMismatch" && p != "Always" {
            out.push(Cause::not_supported(
                child(path, "fsGroupChangePolicy"),
                &str_val(p),
                &["Always", "OnRootMismatch"],
            ));
        }
    }
    validate_seccomp(sc.get("seccompProfile"), &child(path, "seccompProfile"), out);
}

pub(super) fn is_sysctl_name(n: &str) -> bool {
    if n.len() > 253 {
        return false;
    }
    n.split(['.', '/']).all(|seg| {
        let b = seg.as_bytes();
        match (b.first(), b.last()) {
            (Some(&f), Some(&l)) => {
                is_lc_alnum(f) && is_lc_alnum(l) && b.iter().all(|&c| is_lc_alnum(c) || c == b'-' || c == b'_')
            }
            _ => false,
        }
    })
}

pub(super) fn is_lc_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

pub(super) fn validate_topology_spread(spec: &Value, path: &str, out: &mut Vec<Cause>) {
    let list: Vec<&Value> = get_arr(spec, "topologySpreadConstraints").into_iter().flatten().collect();
    for (i, c) in list.iter().enumerate() {
        let p = index(path, i);
        let skew = get_i64(c, "maxSkew").unwrap_or(0);
        if skew <= 0 {
            out.push(Cause::invalid(child(&p, "maxSkew"), &Value::from(skew), "must be greater than zero"));
        }
        let tk = get_str(c, "topologyKey");
        if tk.is_empty() {
            out.push(Cause::required(child(&p, "topologyKey"), "can not be empty"));
        }
        let wu = get_str(c, "whenUnsatisfiable");
        if wu != "DoNotSchedule" && wu != "ScheduleAnyway" {
            out.push(Cause::not_supported(
                child(&p, "whenUnsatisfiable"),
                &str_val(wu),
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        if list[i + 1..].iter().any(|o| get_str(o, "topologyKey") == tk && get_str(o, "whenUnsatisfiable") == wu) {
            out.push(Cause::duplicate(
                child(&p, "{topologyKey, whenUnsatisfiable}"),
                &str_val(&format!("{{{tk}, {wu}}}")),
            ));
        }
        if let Some(md) = get_i64(c, "minDomains") {
            if md <= 0 {
                out.push(Cause::invalid(child(&p, "minDomains"), &Value::from(md), "must be greater than zero"));
            }
            if wu != "DoNotSchedule" {
                out.push(Cause::invalid(
                    child(&p, "minDomains"),
                    &Value::from(md),
                    &format!("can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {wu}"),
                ));
            }
        }
        for f in ["nodeAffinityPolicy", "nodeTaintsPolicy"] {
            if let Some(v) = c.get(f).and_then(Value::as_str) {
                if v != "Honor" && v != "Ignore" {
                    out.push(Cause::not_supported(child(&p, f), &str_val(v), &["Honor", "Ignore"]));
                }
            }
        }
        validate_label_selector(c.get("labelSelector"), &child(&p, "labelSelector"), out);
    }
}

pub(super) fn validate_dns_config(spec: &Value, path: &str, out: &mut Vec<Cause>) {
    let cfg = spec.get("dnsConfig").filter(|v| v.is_object());
    if get_str(spec, "dnsPolicy") == "None" {
        match cfg {
            None => {
                out.push(Cause::required(path, "must provide `dnsConfig` when `dnsPolicy` is None"));
                return;
            }
            Some(c) if get_arr(c, "nameservers").map(Vec::is_empty).unwrap_or(true) => {
                out.push(Cause::required(
                    child(path, "nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                ));
                return;
            }
            _ => {}
        }
    }
    let Some(cfg) = cfg else { return };
    let ns = get_arr(cfg, "nameservers").cloned().unwrap_or_default();
    if ns.len() > 3 {
        out.push(invalid_raw(
            child(path, "nameservers"),
            &super::super::field::go_string_slice(cfg.get("nameservers")),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, n) in ns.iter().enumerate() {
        let n = n.as_str().unwrap_or_default();
        for m in is_valid_ip(n) {
            out.push(Cause::invalid(index(&child(path, "nameservers"), i), &str_val(n), &m));
        }
    }
    let searches: Vec<&str> = get_arr(cfg, "searches").into_iter().flatten().filter_map(Value::as_str).collect();
    if searches.len() > 32 {
        out.push(invalid_raw(
            child(path, "searches"),
            &super::super::field::go_string_slice(cfg.get("searches")),
            "must not have more than 32 search paths",
        ));
    }
    if searches.join(" ").len() > 2048 {
        out.push(invalid_raw(
            child(path, "searches"),
            &super::super::field::go_string_slice(cfg.get("searches")),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, s) in searches.iter().enumerate() {
        let s = s.strip_suffix('.').unwrap_or(s);
        for m in is_dns1123_subdomain(s) {
            out.push(Cause::invalid(index(&child(path, "searches"), i), &str_val(s), &m));
        }
    }
    for (i, o) in get_arr(cfg, "options").into_iter().flatten().enumerate() {
        if get_str(o, "name").is_empty() {
            out.push(Cause::required(index(&child(path, "options"), i), "must not be empty"));
        }
    }
}

pub(super) fn validate_host_network_deps(spec: &Value, path: &str, opts: PodOpts, out: &mut Vec<Cause>) {
    if !get_bool(spec, "hostNetwork") {
        return;
    }
    for (i, c) in get_arr(spec, "containers").into_iter().flatten().enumerate() {
        for (j, p) in get_arr(c, "ports").into_iter().flatten().enumerate() {
            let hp = get_i64(p, "hostPort").unwrap_or(0);
            let cp = get_i64(p, "containerPort").unwrap_or(0);
            if (opts.resource_is_pod || hp != 0) && hp != cp {
                out.push(Cause::invalid(
                    child(&index(&child(&index(&child(path, "containers"), i), "ports"), j), "hostPort"),
                    &Value::from(hp),
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
}
