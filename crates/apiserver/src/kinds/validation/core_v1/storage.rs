//! PersistentVolumeClaims and PersistentVolumes.

use serde_json::Value;

use super::super::field::{child, key};
use super::super::meta::validate_label_selector;
use super::super::meta::{validate_object_meta, validate_object_meta_update};
use super::super::names::*;
use super::super::pod::spec_diff;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{at, get_arr, get_obj, get_str, is_nil, normalize};
use crate::kinds::defaults::quantity::Quantity;

pub(super) const ACCESS_MODES: [&str; 4] = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

pub(super) fn validate_access_modes(spec: &Value, path: &str, required_detail: &str, out: &mut Vec<Cause>) {
    let modes: Vec<&str> = get_arr(spec, "accessModes").into_iter().flatten().filter_map(Value::as_str).collect();
    if modes.is_empty() {
        out.push(Cause::required(child(path, "accessModes"), required_detail));
    }
    let (mut rwop, mut other) = (false, false);
    for m in &modes {
        if !ACCESS_MODES.contains(m) {
            out.push(Cause::not_supported(child(path, "accessModes"), &s(m), &ACCESS_MODES));
        }
        if *m == "ReadWriteOncePod" {
            rwop = true;
        } else if ACCESS_MODES.contains(m) {
            other = true;
        }
    }
    if rwop && other {
        out.push(Cause::forbidden(child(path, "accessModes"), "may not use ReadWriteOncePod with other access modes"));
    }
}

/// `ValidatePersistentVolumeClaimSpec`.
pub(crate) fn validate_pvc_spec(spec: &Value, path: &str, out: &mut Vec<Cause>) {
    validate_access_modes(spec, path, "at least 1 access mode is required", out);
    if spec.get("selector").is_some_and(|v| !v.is_null()) {
        validate_label_selector(spec.get("selector"), &child(path, "selector"), out);
    }
    let sp = key(&child(path, "resources"), "storage");
    match at(spec, &["resources", "requests", "storage"]) {
        None => out.push(Cause::required(sp, "")),
        Some(v) => match Quantity::from_json(v) {
            Ok(q) if q.mantissa <= 0 => out.push(Cause::invalid(sp, &s(&q.canonical()), "must be greater than zero")),
            Ok(_) => {}
            Err(e) => out.push(Cause::invalid(sp, v, e)),
        },
    }
    if let Some(sc) = spec.get("storageClassName").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        for m in is_dns1123_subdomain(sc) {
            out.push(Cause::invalid(child(path, "storageClassName"), &s(sc), &m));
        }
    }
    if let Some(vm) = spec.get("volumeMode").and_then(Value::as_str) {
        if vm != "Block" && vm != "Filesystem" {
            out.push(Cause::not_supported(child(path, "volumeMode"), &s(vm), &["Block", "Filesystem"]));
        }
    }
    for ds in ["dataSource", "dataSourceRef"] {
        let Some(d) = spec.get(ds).filter(|v| v.is_object()) else {
            continue;
        };
        let p = child(path, ds);
        if get_str(d, "name").is_empty() {
            out.push(Cause::required(child(&p, "name"), ""));
        }
        let kind = get_str(d, "kind");
        if kind.is_empty() {
            out.push(Cause::required(child(&p, "kind"), ""));
        }
        let group = get_str(d, "apiGroup");
        if group.is_empty() && kind != "PersistentVolumeClaim" {
            out.push(Cause::invalid(
                p.clone(),
                &s(kind),
                "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            ));
        }
        if !group.is_empty() {
            for m in is_dns1123_subdomain(group) {
                out.push(Cause::invalid(child(&p, "apiGroup"), &s(group), &m));
            }
        }
    }
}

/// PersistentVolumeClaims: the spec is immutable once created, except growing
/// `resources.requests` on a bound claim and setting `volumeName` once.
pub(crate) fn pvc(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
    }
    out.extend(validate_object_meta(obj, true, NameRule::Subdomain));
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    validate_pvc_spec(&spec, "spec", &mut out);
    let Some(old) = old else { return out };
    let os = old.get("spec").cloned().unwrap_or(Value::Null);
    let mut n = spec.clone();
    let mut o = os.clone();
    if get_str(&os, "volumeName").is_empty() {
        if let (Some(nm), Some(om)) = (n.as_object_mut(), o.as_object_mut()) {
            match nm.get("volumeName") {
                Some(v) => om.insert("volumeName".into(), v.clone()),
                None => om.remove("volumeName"),
            };
        }
    }
    // storageClassName may go from unset to set.
    if is_nil(&os, "storageClassName") {
        if let Some(nm) = n.as_object_mut() {
            nm.remove("storageClassName");
        }
    }
    let bound = at(obj, &["status", "phase"]).and_then(Value::as_str) == Some("Bound");
    if bound {
        let old_storage = at(&os, &["resources", "requests", "storage"]).cloned();
        if let Some(Value::Object(req)) = n.get_mut("resources").and_then(|r| r.get_mut("requests")) {
            match old_storage {
                Some(v) => req.insert("storage".into(), v),
                None => req.remove("storage"),
            };
        }
    }
    for m in [&mut n, &mut o] {
        if let Some(m) = m.as_object_mut() {
            m.remove("volumeAttributesClassName");
        }
    }
    let (nn, on) = (normalize(&n), normalize(&o));
    if nn != on {
        out.push(Cause::forbidden(
            "spec",
            &format!(
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{}",
                spec_diff(&on, &nn, "core.PersistentVolumeClaimSpec")
            ),
        ));
    }
    let q = |v: &Value| at(v, &["resources", "requests", "storage"]).and_then(|q| Quantity::from_json(q).ok());
    if let (Some(new_size), Some(old_size)) = (q(&spec), q(&os)) {
        if new_size.cmp_value(&old_size).is_lt() {
            // RecoverVolumeExpansionFailure is beta and on in 1.32: shrinking is allowed down
            // to (but not including) the recorded capacity.
            let cap = at(old, &["status", "capacity", "storage"])
                .and_then(|q| Quantity::from_json(q).ok())
                .unwrap_or(Quantity::zero());
            if new_size.cmp_value(&cap).is_le() {
                out.push(Cause::forbidden(
                    "spec.resources.requests.storage",
                    "field can not be less than status.capacity",
                ));
            }
        }
    }
    if spec.get("volumeMode") != os.get("volumeMode") {
        out.push(Cause::invalid("volumeMode", spec.get("volumeMode").unwrap_or(&s("null")), "field is immutable"));
    }
    out
}

pub(super) const PV_SOURCES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "csi",
];

/// PersistentVolumes (common checks; per-source field checks are limited).
pub(crate) fn pv(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
    }
    out.extend(validate_object_meta(obj, false, NameRule::Subdomain));
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    validate_access_modes(&spec, "spec", "", &mut out);
    let cap = get_obj(&spec, "capacity");
    if cap.map(|c| c.is_empty()).unwrap_or(true) {
        out.push(Cause::required("spec.capacity", ""));
    }
    if !cap.is_some_and(|c| c.contains_key("storage")) || cap.is_some_and(|c| c.len() > 1) {
        let rendered = format!(
            "core.ResourceList{{{}}}",
            cap.into_iter()
                .flatten()
                .map(|(k, v)| format!("{k:?}:{}", crate::error::render(v)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push(super::super::field::not_supported_raw("spec.capacity", &rendered, &["storage"]));
    }
    for (k, v) in cap.into_iter().flatten() {
        let p = key("spec.capacity", k);
        match Quantity::from_json(v) {
            Ok(q) if q.mantissa <= 0 => out.push(Cause::invalid(p, &s(&q.canonical()), "must be greater than zero")),
            Ok(_) => {}
            Err(e) => out.push(Cause::invalid(p, v, e)),
        }
    }
    let rp = get_str(&spec, "persistentVolumeReclaimPolicy");
    if !rp.is_empty() && !["Delete", "Recycle", "Retain"].contains(&rp) {
        out.push(Cause::not_supported("spec.persistentVolumeReclaimPolicy", &s(rp), &["Delete", "Recycle", "Retain"]));
    }
    let mut n = 0;
    for src in PV_SOURCES {
        if is_nil(&spec, src) {
            continue;
        }
        if n > 0 {
            out.push(Cause::forbidden(child("spec", src), "may not specify more than 1 volume type"));
        } else {
            n += 1;
        }
        if src == "hostPath" && at(&spec, &["hostPath", "path"]).and_then(Value::as_str).unwrap_or_default().is_empty()
        {
            out.push(Cause::required("spec.hostPath.path", ""));
        }
        if src == "local" && is_nil(&spec, "nodeAffinity") {
            out.push(Cause::required("spec.nodeAffinity", "Local volume requires node affinity"));
        }
    }
    if n == 0 {
        out.push(Cause::required("spec", "must specify a volume type"));
    }
    if let Some(sc) = spec.get("storageClassName").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        for m in is_dns1123_subdomain(sc) {
            out.push(Cause::invalid("spec.storageClassName", &s(sc), &m));
        }
    }
    if let Some(vm) = spec.get("volumeMode").and_then(Value::as_str) {
        if vm != "Block" && vm != "Filesystem" {
            out.push(Cause::not_supported("spec.volumeMode", &s(vm), &["Block", "Filesystem"]));
        }
    }
    if let Some(old) = old {
        let os = old.get("spec").cloned().unwrap_or(Value::Null);
        let source = |sp: &Value| -> Value {
            let m: serde_json::Map<String, Value> =
                PV_SOURCES.iter().filter_map(|k| sp.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
            normalize(&Value::Object(m))
        };
        if source(&spec) != source(&os) {
            out.push(Cause::forbidden(
                "spec.persistentvolumesource",
                &format!(
                    "spec.persistentvolumesource is immutable after creation\n{}",
                    spec_diff(&source(&os), &source(&spec), "core.PersistentVolumeSource")
                ),
            ));
        }
        if spec.get("volumeMode") != os.get("volumeMode") {
            out.push(Cause::invalid("volumeMode", spec.get("volumeMode").unwrap_or(&s("null")), "field is immutable"));
        }
    }
    out
}
