//! `ValidatePodSpec`.

use std::collections::HashSet;

use serde_json::Value;

use super::super::field::{child, index, invalid_raw};
use super::super::meta::validate_labels;
use super::super::names::*;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{get_arr, get_i64, get_str, is_nil};

/// `ValidatePodSpec`. `pod_name` is set only for real pods (generic ephemeral volume names).
pub(crate) fn validate_pod_spec(spec: &Value, pod_name: Option<&str>, path: &str, opts: PodOpts) -> Vec<Cause> {
    let mut out = Vec::new();
    let grace = get_i64(spec, "terminationGracePeriodSeconds");
    if is_nil(spec, "terminationGracePeriodSeconds") {
        out.push(Cause::required(child(path, "terminationGracePeriodSeconds"), ""));
    }
    let vols = validate_volumes(spec, pod_name, &child(path, "volumes"), &mut out);
    let mut claim_names = HashSet::new();
    for (i, c) in get_arr(spec, "resourceClaims").into_iter().flatten().enumerate() {
        let p = index(&child(path, "resourceClaims"), i);
        let n = get_str(c, "name");
        if n.is_empty() {
            out.push(Cause::required(child(&p, "name"), ""));
        } else if !claim_names.insert(n.to_string()) {
            out.push(Cause::duplicate(child(&p, "name"), &str_val(n)));
        } else {
            for m in is_dns1123_label(n) {
                out.push(Cause::invalid(child(&p, "name"), &str_val(n), &m));
            }
        }
    }
    validate_containers(spec, &vols, grace, &child(path, "containers"), &mut out);
    validate_init_containers(spec, &vols, grace, &child(path, "initContainers"), &mut out);
    validate_host_network_deps(spec, path, opts, &mut out);
    let rp = get_str(spec, "restartPolicy");
    match rp {
        "Always" | "OnFailure" | "Never" => {}
        "" => out.push(Cause::required(child(path, "restartPolicy"), "")),
        _ => out.push(Cause::not_supported(
            child(path, "restartPolicy"),
            &str_val(rp),
            &["Always", "OnFailure", "Never"],
        )),
    }
    let dp = get_str(spec, "dnsPolicy");
    match dp {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => out.push(Cause::required(child(path, "dnsPolicy"), "")),
        _ => out.push(Cause::not_supported(
            child(path, "dnsPolicy"),
            &str_val(dp),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    validate_labels(spec.get("nodeSelector"), &child(path, "nodeSelector"), &mut out);
    validate_pod_security_context(spec, &child(path, "securityContext"), &mut out);
    for (i, s) in get_arr(spec, "imagePullSecrets").into_iter().flatten().enumerate() {
        if s.as_object().map(|m| m.keys().any(|k| k != "name")).unwrap_or(false) {
            out.push(invalid_raw(
                index(&child(path, "imagePullSecrets"), i),
                &format!("core.LocalObjectReference{{Name:{}}}", super::super::field::go_quote(get_str(s, "name"))),
                "only name may be set",
            ));
        }
    }
    validate_affinity(spec, &child(path, "affinity"), &mut out);
    validate_dns_config(spec, &child(path, "dnsConfig"), &mut out);
    for (i, g) in get_arr(spec, "readinessGates").into_iter().flatten().enumerate() {
        let ct = get_str(g, "conditionType");
        for m in is_qualified_name(ct) {
            out.push(Cause::invalid(
                child(&index(&child(path, "readinessGates"), i), "conditionType"),
                &str_val(ct),
                &m,
            ));
        }
    }
    let mut gates = HashSet::new();
    for (i, g) in get_arr(spec, "schedulingGates").into_iter().flatten().enumerate() {
        let n = get_str(g, "name");
        let p = index(&child(path, "schedulingGates"), i);
        for m in is_qualified_name(n) {
            out.push(Cause::invalid(p.clone(), &str_val(n), &m));
        }
        if !gates.insert(n.to_string()) {
            out.push(Cause::duplicate(p, &str_val(n)));
        }
    }
    validate_topology_spread(spec, &child(path, "topologySpreadConstraints"), &mut out);
    for (f, rule) in [("serviceAccountName", NameRule::Subdomain), ("nodeName", NameRule::Subdomain)] {
        let v = get_str(spec, f);
        if !v.is_empty() {
            for m in rule.check(v, false) {
                out.push(Cause::invalid(child(path, f), &str_val(v), &m));
            }
        }
    }
    if let Some(ads) = get_i64(spec, "activeDeadlineSeconds") {
        if !(1..=i64::from(i32::MAX)).contains(&ads) {
            out.push(Cause::invalid(
                child(path, "activeDeadlineSeconds"),
                &Value::from(ads),
                &inclusive_range_error(1, i64::from(i32::MAX)),
            ));
        }
    }
    for f in ["hostname", "subdomain"] {
        let v = get_str(spec, f);
        if !v.is_empty() {
            for m in is_dns1123_label(v) {
                out.push(Cause::invalid(child(path, f), &str_val(v), &m));
            }
        }
    }
    validate_tolerations(spec.get("tolerations"), &child(path, "tolerations"), &mut out);
    for (i, ha) in get_arr(spec, "hostAliases").into_iter().flatten().enumerate() {
        let p = index(&child(path, "hostAliases"), i);
        let ip = get_str(ha, "ip");
        for m in is_valid_ip(ip) {
            out.push(Cause::invalid(child(&p, "ip"), &str_val(ip), &m));
        }
        for (j, h) in get_arr(ha, "hostnames").into_iter().flatten().enumerate() {
            let h = h.as_str().unwrap_or_default();
            for m in is_dns1123_subdomain(h) {
                out.push(Cause::invalid(index(&child(&p, "hostnames"), j), &str_val(h), &m));
            }
        }
    }
    let pcn = get_str(spec, "priorityClassName");
    if !pcn.is_empty() {
        for m in is_dns1123_subdomain(pcn) {
            out.push(Cause::invalid(child(path, "priorityClassName"), &str_val(pcn), &m));
        }
    }
    if let Some(rc) = spec.get("runtimeClassName").and_then(Value::as_str) {
        for m in is_dns1123_subdomain(rc) {
            out.push(Cause::invalid(child(path, "runtimeClassName"), &str_val(rc), &m));
        }
    }
    if let Some(pp) = spec.get("preemptionPolicy").and_then(Value::as_str) {
        match pp {
            "PreemptLowerPriority" | "Never" => {}
            "" => out.push(Cause::required(child(path, "preemptionPolicy"), "")),
            _ => out.push(Cause::not_supported(
                child(path, "preemptionPolicy"),
                &str_val(pp),
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    if let Some(os) = spec.get("os").filter(|v| v.is_object()) {
        let n = get_str(os, "name");
        if n.is_empty() {
            out.push(Cause::required(child(&child(path, "os"), "name"), "cannot be empty"));
        } else if n != "linux" && n != "windows" {
            out.push(Cause::not_supported(child(path, "os"), &str_val(n), &["linux", "windows"]));
        }
    }
    out
}
