//! Validation of core ("") kinds other than the pod spec itself
//! (pkg/apis/core/validation/validation.go).

mod config;
mod service;
mod storage;

use serde_json::Value;

use super::field::{child, go_string_map, index, invalid_raw, nonnegative};
use super::meta::{selector_matches, validate_label_name, validate_object_meta, validate_object_meta_update};
use super::names::*;
use super::pod::validate_protocol;
use super::pod::{validate_pod_create, validate_pod_template_spec, validate_pod_update};
use crate::error::Cause;
use crate::kinds::defaults::json::{at, get_arr, get_i64, get_str, map_empty};
use crate::kinds::defaults::quantity::Quantity;

pub(crate) use config::{config_map, secret};
pub(crate) use service::service;
pub(crate) use storage::{pv, pvc};

pub(super) fn s(v: &str) -> Value {
    Value::from(v)
}

/// Pods.
pub(crate) fn pod(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    match old {
        None => validate_pod_create(obj),
        Some(old) => validate_pod_update(obj, old),
    }
}

/// PodTemplates.
pub(crate) fn pod_template(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = match old {
        None => validate_object_meta(obj, true, NameRule::Subdomain),
        Some(old) => validate_object_meta_update(obj, old),
    };
    out.extend(validate_pod_template_spec(obj.get("template").unwrap_or(&Value::Null), "template"));
    out
}

/// `ValidatePodTemplateSpecForRC` and the selector/replica rules shared by RCs.
pub(crate) fn replication_controller(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = match old {
        None => validate_object_meta(obj, true, NameRule::Subdomain),
        Some(old) => validate_object_meta_update(obj, old),
    };
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    nonnegative(&spec, "minReadySeconds", "spec", &mut out);
    if map_empty(&spec, "selector") {
        out.push(Cause::required("spec.selector", ""));
    }
    nonnegative(&spec, "replicas", "spec", &mut out);
    match spec.get("template").filter(|v| v.is_object()) {
        None => out.push(Cause::required("spec.template", "")),
        Some(t) => {
            let labels = at(t, &["metadata", "labels"]);
            if !map_empty(&spec, "selector") {
                let sel = serde_json::json!({"matchLabels": spec.get("selector")});
                if !selector_matches(Some(&sel), labels) {
                    out.push(invalid_raw(
                        "spec.template.metadata.labels",
                        &go_string_map(labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            out.extend(validate_pod_template_spec(t, "spec.template"));
            let rp = at(t, &["spec", "restartPolicy"]).and_then(Value::as_str).unwrap_or_default();
            if rp != "Always" {
                out.push(Cause::not_supported("spec.template.spec.restartPolicy", &s(rp), &["Always"]));
            }
            if at(t, &["spec", "activeDeadlineSeconds"]).is_some_and(|v| !v.is_null()) {
                out.push(Cause::forbidden(
                    "spec.template.spec.activeDeadlineSeconds",
                    "activeDeadlineSeconds in ReplicationController is not Supported",
                ));
            }
        }
    }
    out
}

pub(super) fn is_valid_cidr(v: &str) -> bool {
    match v.split_once('/') {
        Some((ip, bits)) => match (ip.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
            (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32 && !bits.starts_with('+'),
            (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128 && !bits.starts_with('+'),
            _ => false,
        },
        None => false,
    }
}

pub(super) fn cidr_error(path: &str, v: &str, out: &mut Vec<Cause>) {
    if !is_valid_cidr(v) {
        out.push(Cause::invalid(path, &s(v), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
    }
}

pub(super) fn non_special_ip(ip: &str, path: &str, out: &mut Vec<Cause>) {
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
        return;
    };
    if addr.is_unspecified() {
        out.push(Cause::invalid(path, &s(ip), &format!("may not be unspecified ({ip})")));
    }
    if addr.is_loopback() {
        out.push(Cause::invalid(path, &s(ip), "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
    }
    let link_local_unicast = match addr {
        std::net::IpAddr::V4(a) => a.is_link_local(),
        std::net::IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
    };
    if link_local_unicast {
        out.push(Cause::invalid(path, &s(ip), "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
    }
    let link_local_multicast = match addr {
        std::net::IpAddr::V4(a) => a.octets()[..3] == [224, 0, 0],
        std::net::IpAddr::V6(a) => (a.segments()[0] & 0xff0f) == 0xff02,
    };
    if link_local_multicast {
        out.push(Cause::invalid(
            path,
            &s(ip),
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
}

/// Namespaces.
pub(crate) fn namespace(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    if let Some(old) = old {
        return validate_object_meta_update(obj, old);
    }
    let mut out = validate_object_meta(obj, false, NameRule::Label);
    for f in at(obj, &["spec", "finalizers"]).and_then(Value::as_array).into_iter().flatten() {
        let f = f.as_str().unwrap_or_default();
        for m in is_qualified_name(f) {
            out.push(Cause::invalid("spec.finalizers", &s(f), &m));
        }
        if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            out.push(Cause::invalid(
                "spec.finalizers",
                &s(f),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    out
}

/// Objects that only get ObjectMeta validation (ServiceAccounts, Events, ...).
pub(crate) fn meta_only(obj: &Value, old: Option<&Value>, namespaced: bool, rule: NameRule) -> Vec<Cause> {
    match old {
        None => validate_object_meta(obj, namespaced, rule),
        Some(old) => {
            let mut out = validate_object_meta_update(obj, old);
            out.extend(validate_object_meta(obj, namespaced, rule));
            out
        }
    }
}

pub(super) fn validate_taints(spec: &Value, out: &mut Vec<Cause>) {
    // kube validates spec.taints under the *metadata* path (a long-standing quirk).
    let mut seen: Vec<(String, String)> = Vec::new();
    for (i, t) in get_arr(spec, "taints").into_iter().flatten().enumerate() {
        let p = index("metadata.taints", i);
        let k = get_str(t, "key");
        validate_label_name(k, &child(&p, "key"), out);
        let v = get_str(t, "value");
        let errs = is_valid_label_value(v);
        if !errs.is_empty() {
            out.push(Cause::invalid(child(&p, "value"), &s(v), &errs.join(";")));
        }
        let e = get_str(t, "effect");
        if e.is_empty() {
            out.push(Cause::required(child(&p, "effect"), ""));
        } else if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&e) {
            out.push(Cause::not_supported(
                child(&p, "effect"),
                &s(e),
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
        if seen.contains(&(k.to_string(), e.to_string())) {
            out.push(Cause {
                reason: "FieldValueDuplicate".to_string(),
                message: format!(
                    "Duplicate value: core.Taint{{Key:{k:?}, Value:{v:?}, Effect:{e:?}, TimeAdded:<nil>}}: taints must be unique by key and effect pair"
                ),
                field: p,
            });
            continue;
        }
        seen.push((k.to_string(), e.to_string()));
    }
}

pub(super) fn validate_node_resources(obj: &Value, out: &mut Vec<Cause>) {
    for list in ["capacity", "allocatable"] {
        for (k, v) in at(obj, &["status", list]).and_then(Value::as_object).into_iter().flatten() {
            let p = format!("status.{list}.{k}");
            match Quantity::from_json(v) {
                Ok(q) if q.is_negative() => {
                    out.push(Cause::invalid(p, &s(&q.canonical()), "must be greater than or equal to 0"))
                }
                Ok(_) => {}
                Err(e) => out.push(Cause::invalid(p, v, e)),
            }
        }
    }
}

/// Nodes.
pub(crate) fn node(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let mut out = Vec::new();
    match old {
        None => {
            out.extend(validate_object_meta(obj, false, NameRule::Subdomain));
            validate_taints(&spec, &mut out);
            validate_node_resources(obj, &mut out);
            for (i, c) in get_arr(&spec, "podCIDRs").into_iter().flatten().enumerate() {
                cidr_error(&index("spec.podCIDRs", i), c.as_str().unwrap_or_default(), &mut out);
            }
        }
        Some(old) => {
            out.extend(validate_object_meta_update(obj, old));
            validate_node_resources(obj, &mut out);
            let os = old.get("spec").cloned().unwrap_or(Value::Null);
            let ocidrs = get_arr(&os, "podCIDRs").cloned().unwrap_or_default();
            let ncidrs = get_arr(&spec, "podCIDRs").cloned().unwrap_or_default();
            if !ocidrs.is_empty() && ocidrs != ncidrs {
                out.push(Cause::forbidden(
                    "spec.podCIDRs",
                    "node updates may not change podCIDR except from \"\" to valid",
                ));
            }
            let opid = get_str(&os, "providerID");
            if !opid.is_empty() && opid != get_str(&spec, "providerID") {
                out.push(Cause::forbidden(
                    "spec.providerID",
                    "node updates may not change providerID except from \"\" to valid",
                ));
            }
            validate_taints(&spec, &mut out);
            if get_str(&spec, "externalID") != get_str(&os, "externalID") {
                out.push(Cause::forbidden("spec.externalID", "may not be updated"));
            }
        }
    }
    out
}

/// Endpoints.
pub(crate) fn endpoints(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
    }
    out.extend(validate_object_meta(obj, true, NameRule::Subdomain));
    for (i, ss) in get_arr(obj, "subsets").into_iter().flatten().enumerate() {
        let p = index("subsets", i);
        if map_empty(ss, "addresses") && map_empty(ss, "notReadyAddresses") {
            out.push(Cause::required(p.clone(), "must specify `addresses` or `notReadyAddresses`"));
        }
        for list in ["addresses", "notReadyAddresses"] {
            for (j, a) in get_arr(ss, list).into_iter().flatten().enumerate() {
                let ap = index(&child(&p, list), j);
                let ip = get_str(a, "ip");
                for m in is_valid_ip(ip) {
                    out.push(Cause::invalid(child(&ap, "ip"), &s(ip), &m));
                }
                let h = get_str(a, "hostname");
                if !h.is_empty() {
                    for m in is_dns1123_label(h) {
                        out.push(Cause::invalid(child(&ap, "hostname"), &s(h), &m));
                    }
                }
                non_special_ip(ip, &child(&ap, "ip"), &mut out);
            }
        }
        let ports: Vec<&Value> = get_arr(ss, "ports").into_iter().flatten().collect();
        for (j, port) in ports.iter().enumerate() {
            let pp = index(&child(&p, "ports"), j);
            let name = get_str(port, "name");
            if ports.len() > 1 && name.is_empty() {
                out.push(Cause::required(child(&pp, "name"), ""));
            } else if !name.is_empty() {
                for m in is_dns1123_label(name) {
                    out.push(Cause::invalid(child(&pp, "name"), &s(name), &m));
                }
            }
            let n = get_i64(port, "port").unwrap_or(0);
            for m in is_valid_port_num(n) {
                out.push(Cause::invalid(child(&pp, "port"), &Value::from(n), &m));
            }
            validate_protocol(get_str(port, "protocol"), &child(&pp, "protocol"), &mut out);
        }
    }
    out
}
