//! Pod volumes: names, exactly one source, and the checks of the common sources.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::super::field::{child, index};
use super::super::names::*;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{get_arr, get_i64, get_str, is_nil};

/// What a validated volume is, for volumeMount/volumeDevice checks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum VolKind {
    Claim,
    Other,
}

pub(super) const VOLUME_TYPES: [&str; 30] = [
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];

pub(super) fn file_mode(v: &Value, k: &str, path: &str, out: &mut Vec<Cause>) {
    if let Some(m) = get_i64(v, k) {
        if !(0..=0o777).contains(&m) {
            out.push(Cause::invalid(
                child(path, k),
                &Value::from(m),
                "must be a number between 0 and 0777 (octal), both inclusive",
            ));
        }
    }
}

pub(super) fn validate_path_no_backsteps(p: &str, path: &str, out: &mut Vec<Cause>) {
    if p.replace('\\', "/").split('/').any(|s| s == "..") {
        out.push(Cause::invalid(path, &str_val(p), "must not contain '..'"));
    }
}

pub(super) fn validate_local_descending_path(p: &str, path: &str, out: &mut Vec<Cause>) {
    if p.starts_with('/') {
        out.push(Cause::invalid(path, &str_val(p), "must be a relative path"));
    }
    validate_path_no_backsteps(p, path, out);
}

pub(super) fn validate_local_non_reserved_path(p: &str, path: &str, out: &mut Vec<Cause>) {
    validate_local_descending_path(p, path, out);
    if p.starts_with("..") && !p.starts_with("../") {
        out.push(Cause::invalid(path, &str_val(p), "must not start with '..'"));
    }
}

pub(super) fn validate_key_to_path(kp: &Value, path: &str, out: &mut Vec<Cause>) {
    if get_str(kp, "key").is_empty() {
        out.push(Cause::required(child(path, "key"), ""));
    }
    let p = get_str(kp, "path");
    if p.is_empty() {
        out.push(Cause::required(child(path, "path"), ""));
    }
    validate_local_non_reserved_path(p, &child(path, "path"), out);
    file_mode(kp, "mode", path, out);
}

pub(super) fn validate_items(src: &Value, path: &str, out: &mut Vec<Cause>) {
    for (i, kp) in get_arr(src, "items").into_iter().flatten().enumerate() {
        validate_key_to_path(kp, &index(&child(path, "items"), i), out);
    }
}

pub(super) fn validate_volume_source(vol: &Value, path: &str, out: &mut Vec<Cause>) -> VolKind {
    let mut count = 0;
    let mut kind = VolKind::Other;
    for t in VOLUME_TYPES {
        let Some(src) = vol.get(t).filter(|v| !v.is_null()) else {
            continue;
        };
        let p = child(path, t);
        if count > 0 {
            out.push(Cause::forbidden(p, "may not specify more than 1 volume type"));
            continue;
        }
        count += 1;
        match t {
            "hostPath" => {
                let hp = get_str(src, "path");
                if hp.is_empty() {
                    out.push(Cause::required(child(&p, "path"), ""));
                } else {
                    validate_path_no_backsteps(hp, &child(&p, "path"), out);
                    let ty = get_str(src, "type");
                    let ok = [
                        "",
                        "DirectoryOrCreate",
                        "Directory",
                        "FileOrCreate",
                        "File",
                        "Socket",
                        "CharDevice",
                        "BlockDevice",
                    ];
                    if src.get("type").is_some_and(|v| !v.is_null()) && !ok.contains(&ty) {
                        out.push(Cause::not_supported(
                            child(&p, "type"),
                            &str_val(ty),
                            &[
                                "",
                                "BlockDevice",
                                "CharDevice",
                                "Directory",
                                "DirectoryOrCreate",
                                "File",
                                "FileOrCreate",
                                "Socket",
                            ],
                        ));
                    }
                }
            }
            "secret" => {
                if get_str(src, "secretName").is_empty() {
                    out.push(Cause::required(child(&p, "secretName"), ""));
                }
                file_mode(src, "defaultMode", &p, out);
                validate_items(src, &p, out);
            }
            "configMap" => {
                if get_str(src, "name").is_empty() {
                    out.push(Cause::required(child(&p, "name"), ""));
                }
                file_mode(src, "defaultMode", &p, out);
                validate_items(src, &p, out);
            }
            "persistentVolumeClaim" => {
                kind = VolKind::Claim;
                if get_str(src, "claimName").is_empty() {
                    out.push(Cause::required(child(&p, "claimName"), ""));
                }
            }
            "ephemeral" => {
                kind = VolKind::Claim;
                if is_nil(src, "volumeClaimTemplate") {
                    out.push(Cause::required(child(&p, "volumeClaimTemplate"), ""));
                }
            }
            "nfs" => {
                let np = get_str(src, "path");
                if get_str(src, "server").is_empty() {
                    out.push(Cause::required(child(&p, "server"), ""));
                }
                if np.is_empty() {
                    out.push(Cause::required(child(&p, "path"), ""));
                }
                if !np.starts_with('/') {
                    out.push(Cause::invalid(child(&p, "path"), &str_val(np), "must be an absolute path"));
                }
            }
            "downwardAPI" => {
                file_mode(src, "defaultMode", &p, out);
                for item in get_arr(src, "items").into_iter().flatten() {
                    // kube reports item errors at the source path, without the item index.
                    validate_downward_api_file(item, &p, out);
                }
            }
            "projected" => {
                file_mode(src, "defaultMode", &p, out);
                validate_projected_sources(src, &p, out);
            }
            "csi" => {
                let d = get_str(src, "driver");
                if d.is_empty() {
                    out.push(Cause::required(child(&p, "driver"), ""));
                }
                if d.len() > 63 {
                    out.push(Cause::too_long(child(&p, "driver"), 63));
                }
                for m in is_dns1123_subdomain(&d.to_lowercase()) {
                    out.push(Cause::invalid(child(&p, "driver"), &str_val(d), &m));
                }
            }
            "gitRepo" => {
                if get_str(src, "repository").is_empty() {
                    out.push(Cause::required(child(&p, "repository"), ""));
                }
                validate_local_descending_path(get_str(src, "directory"), &child(&p, "directory"), out);
            }
            _ => {}
        }
    }
    if count == 0 {
        out.push(Cause::required(path, "must specify a volume type"));
    }
    kind
}

pub(super) fn validate_projected_sources(src: &Value, path: &str, out: &mut Vec<Cause>) {
    let mut all_paths = HashSet::new();
    for (i, s) in get_arr(src, "sources").into_iter().flatten().enumerate() {
        let sp = index(&child(path, "sources"), i);
        let mut n = 0;
        for t in ["secret", "configMap"] {
            if let Some(x) = s.get(t).filter(|v| !v.is_null()) {
                n += 1;
                let tp = child(&sp, t);
                if get_str(x, "name").is_empty() {
                    out.push(Cause::required(child(&tp, "name"), ""));
                }
                for (j, kp) in get_arr(x, "items").into_iter().flatten().enumerate() {
                    validate_key_to_path(kp, &index(&child(&tp, "items"), j), out);
                    let kpath = get_str(kp, "path");
                    if !kpath.is_empty() && !all_paths.insert(kpath.to_string()) {
                        out.push(Cause::invalid(path, &str_val(get_str(x, "name")), "conflicting duplicate paths"));
                    }
                }
            }
        }
        if let Some(d) = s.get("downwardAPI").filter(|v| !v.is_null()) {
            n += 1;
            let dp = child(&sp, "downwardAPI");
            for item in get_arr(d, "items").into_iter().flatten() {
                validate_downward_api_file(item, &dp, out);
                let ip = get_str(item, "path");
                if !ip.is_empty() && !all_paths.insert(ip.to_string()) {
                    out.push(Cause::invalid(path, &str_val(ip), "conflicting duplicate paths"));
                }
            }
        }
        if let Some(t) = s.get("serviceAccountToken").filter(|v| !v.is_null()) {
            n += 1;
            let tp = child(&sp, "serviceAccountToken");
            let exp = get_i64(t, "expirationSeconds").unwrap_or(0);
            if exp < 600 {
                out.push(Cause::invalid(
                    child(&tp, "expirationSeconds"),
                    &Value::from(exp),
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if exp > 1 << 32 {
                out.push(Cause::invalid(
                    child(&tp, "expirationSeconds"),
                    &Value::from(exp),
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            let tpath = get_str(t, "path");
            if tpath.is_empty() {
                out.push(Cause::required(child(path, "path"), ""));
            } else {
                validate_local_non_reserved_path(tpath, &child(path, "path"), out);
            }
        }
        if s.get("clusterTrustBundle").is_some_and(|v| !v.is_null()) {
            n += 1;
        }
        if n > 1 {
            out.push(Cause::forbidden(sp, "may not specify more than 1 volume type"));
        }
    }
}

/// `ValidateVolumes`: returns the valid volumes by name.
pub(super) fn validate_volumes(
    spec: &Value,
    pod_name: Option<&str>,
    path: &str,
    out: &mut Vec<Cause>,
) -> HashMap<String, VolKind> {
    let mut vols = HashMap::new();
    for (i, vol) in get_arr(spec, "volumes").into_iter().flatten().enumerate() {
        let ip = index(path, i);
        let np = child(&ip, "name");
        let name = get_str(vol, "name");
        let mut el = Vec::new();
        let kind = validate_volume_source(vol, &ip, &mut el);
        if name.is_empty() {
            el.push(Cause::required(np.clone(), ""));
        } else {
            for m in is_dns1123_label(name) {
                el.push(Cause::invalid(np.clone(), &str_val(name), &m));
            }
        }
        if vols.contains_key(name) {
            el.push(Cause::duplicate(np.clone(), &str_val(name)));
        }
        if let (Some(pn), true) = (pod_name, vol.get("ephemeral").is_some_and(|v| !v.is_null()) && !name.is_empty()) {
            let pvc = format!("{pn}-{name}");
            for m in is_dns1123_subdomain(&pvc) {
                el.push(Cause::invalid(np.clone(), &str_val(name), &format!("PVC name {pvc:?}: {m}")));
            }
        }
        if el.is_empty() {
            vols.insert(name.to_string(), kind);
        } else {
            out.extend(el);
        }
    }
    vols
}
