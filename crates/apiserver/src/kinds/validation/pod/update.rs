//! `ValidatePodUpdate`: almost all of a pod's spec is immutable.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::field::{invalid_raw, render_opt};
use super::super::names::*;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{get_arr, get_i64, get_str, is_nil, normalize};

pub(super) const UPDATABLE_POD_SPEC_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// A short description of what changed, standing in for the `cmp.Diff` kube appends.
pub(crate) fn spec_diff(old: &Value, new: &Value, type_name: &str) -> String {
    let mut lines = Vec::new();
    diff_into(old, new, "", &mut lines);
    let mut out = format!("  {type_name}{{\n");
    for l in lines.iter().take(20) {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str("  }\n");
    out
}

pub(super) fn diff_into(old: &Value, new: &Value, path: &str, lines: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff_into(x, y, &p, lines),
                    (Some(x), None) => lines.push(format!("- \t{p}: {x},")),
                    (None, Some(y)) => lines.push(format!("+ \t{p}: {y},")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_into(x, y, &format!("{path}[{i}]"), lines);
            }
        }
        (a, b) if a != b => {
            lines.push(format!("- \t{path}: {a},"));
            lines.push(format!("+ \t{path}: {b},"));
        }
        _ => {}
    }
}

pub(super) fn container_updates(new: &Value, old: &Value, list: &str, out: &mut Vec<Cause>) -> bool {
    let n = get_arr(new, list).map(Vec::len).unwrap_or(0);
    let o = get_arr(old, list).map(Vec::len).unwrap_or(0);
    if n != o {
        out.push(Cause::forbidden(format!("spec.{list}"), "pod updates may not add or remove containers"));
        return true;
    }
    for (i, c) in get_arr(new, list).into_iter().flatten().enumerate() {
        let img = get_str(c, "image");
        if img.is_empty() {
            out.push(Cause::required(format!("spec.{list}[{i}].image"), ""));
        }
        if img.trim() != img {
            out.push(Cause::invalid(
                format!("spec.{list}[{i}].image"),
                &str_val(img),
                "must not have leading or trailing whitespace",
            ));
        }
    }
    false
}

/// `ValidatePodUpdate`: almost all of a pod's spec is immutable.
pub(crate) fn validate_pod_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = super::super::meta::validate_object_meta_update(new, old);
    out.extend(validate_pod_metadata_and_spec(new));
    let ns = new.get("spec").cloned().unwrap_or(Value::Null);
    let os = old.get("spec").cloned().unwrap_or(Value::Null);
    if container_updates(&ns, &os, "containers", &mut out) || container_updates(&ns, &os, "initContainers", &mut out) {
        return out;
    }
    if let Some(nads) = get_i64(&ns, "activeDeadlineSeconds") {
        if !(0..=i64::from(i32::MAX)).contains(&nads) {
            out.push(Cause::invalid(
                "spec.activeDeadlineSeconds",
                &Value::from(nads),
                &inclusive_range_error(0, i64::from(i32::MAX)),
            ));
            return out;
        }
        if let Some(oads) = get_i64(&os, "activeDeadlineSeconds") {
            if oads < nads {
                out.push(Cause::invalid(
                    "spec.activeDeadlineSeconds",
                    &Value::from(nads),
                    "must be less than or equal to previous value",
                ));
                return out;
            }
        }
    } else if !is_nil(&os, "activeDeadlineSeconds") {
        out.push(invalid_raw(
            "spec.activeDeadlineSeconds",
            &render_opt(None),
            "must not update from a positive integer to nil value",
        ));
    }
    // Tolerations may only be added; existing ones may only change tolerationSeconds.
    let strip = |t: &Value| {
        let mut t = normalize(t);
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    let new_tols: Vec<Value> = get_arr(&ns, "tolerations").into_iter().flatten().map(strip).collect();
    let mut tol_errs = Vec::new();
    for t in get_arr(&os, "tolerations").into_iter().flatten() {
        if !new_tols.contains(&strip(t)) {
            tol_errs.push(Cause::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
    if tol_errs.is_empty() {
        validate_tolerations(ns.get("tolerations"), "spec.tolerations", &mut tol_errs);
    }
    out.extend(tol_errs);
    let old_gates: Vec<&str> =
        get_arr(&os, "schedulingGates").into_iter().flatten().map(|g| get_str(g, "name")).collect();
    for (i, g) in get_arr(&ns, "schedulingGates").into_iter().flatten().enumerate() {
        let n = get_str(g, "name");
        if !old_gates.contains(&n) {
            out.push(Cause::forbidden(
                format!("spec.schedulingGates[{i}].name"),
                &format!("only deletion is allowed, but found new scheduling gate '{n}'"),
            ));
        }
    }
    if normalize(&ns) == normalize(&os) {
        return out;
    }
    let old_qos = at_str(old, &["status", "qosClass"])
        .map(str::to_string)
        .unwrap_or_else(|| crate::kinds::defaults::qos_class(old));
    let new_qos = crate::kinds::defaults::qos_class(new);
    if old_qos != new_qos {
        let cur = at_str(new, &["status", "qosClass"]).unwrap_or_default();
        out.push(Cause::invalid("metadata", &str_val(cur), "Pod QoS is immutable"));
    }
    // Munge the updatable fields back to their old values and compare what is left.
    let mut munged = ns.clone();
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(items)) = munged.get_mut(list) {
            for (i, c) in items.iter_mut().enumerate() {
                let old_img = os.get(list).and_then(|l| l.get(i)).and_then(|c| c.get("image")).cloned();
                if let (Some(m), Some(img)) = (c.as_object_mut(), old_img) {
                    m.insert("image".into(), img);
                }
            }
        }
    }
    if let Some(m) = munged.as_object_mut() {
        for f in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
            match os.get(f) {
                Some(v) => m.insert(f.into(), v.clone()),
                None => m.remove(f),
            };
        }
        let old_tgps = get_i64(&os, "terminationGracePeriodSeconds");
        if old_tgps.is_some_and(|t| t < 0) && get_i64(&ns, "terminationGracePeriodSeconds") == Some(1) {
            m.insert("terminationGracePeriodSeconds".into(), Value::from(old_tgps.unwrap_or_default()));
        }
        // Gated pods may gain node selectors / node affinity (only additions are checked by
        // kube; we accept the change here and leave the additive check out).
        if !old_gates.is_empty() {
            match os.get("nodeSelector") {
                Some(v) => m.insert("nodeSelector".into(), v.clone()),
                None => m.remove("nodeSelector"),
            };
            let old_na = os.get("affinity").and_then(|a| a.get("nodeAffinity")).cloned();
            if let Some(Value::Object(aff)) = m.get_mut("affinity") {
                match old_na {
                    Some(na) => aff.insert("nodeAffinity".into(), na),
                    None => aff.remove("nodeAffinity"),
                };
            }
        }
    }
    let (nm, om) = (normalize(&munged), normalize(&os));
    if nm != om {
        out.push(Cause::forbidden(
            "spec",
            &format!(
                "pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n{}",
                spec_diff(&om, &nm, "core.PodSpec")
            ),
        ));
    }
    out
}

pub(super) fn at_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    crate::kinds::defaults::json::at(v, path).and_then(Value::as_str).filter(|s| !s.is_empty())
}
