//! Downward API references (`fieldRef`, `resourceFieldRef`) in env vars and volumes.

use serde_json::Value;

use super::super::field::child;
use super::super::names::*;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{get_str, is_nil};

pub(super) const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

pub(super) const VOLUME_FIELD_PATHS: [&str; 5] =
    ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"];

pub(super) const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

/// `fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['k']` → ("metadata.labels", "k").
pub(super) fn split_subscript(p: &str) -> Option<(&str, &str)> {
    let inner = p.strip_suffix("']")?;
    let (path, sub) = inner.split_once("['")?;
    Some((path, sub))
}

pub(super) fn validate_object_field_selector(fs: &Value, allowed: &[&str], path: &str, out: &mut Vec<Cause>) {
    let api_version = get_str(fs, "apiVersion");
    if api_version.is_empty() {
        out.push(Cause::required(child(path, "apiVersion"), ""));
        return;
    }
    let fp = get_str(fs, "fieldPath");
    if fp.is_empty() {
        out.push(Cause::required(child(path, "fieldPath"), ""));
        return;
    }
    // podshelper.ConvertDownwardAPIFieldLabel
    let conv_err = if api_version != "v1" {
        Some(format!("unsupported pod version: {api_version}"))
    } else if let Some((p, _)) = split_subscript(fp) {
        (!matches!(p, "metadata.annotations" | "metadata.labels"))
            .then(|| format!("field label does not support subscript: {fp}"))
    } else {
        let known = [
            "metadata.annotations",
            "metadata.labels",
            "metadata.name",
            "metadata.namespace",
            "metadata.uid",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.serviceAccountName",
            "spec.schedulerName",
            "status.phase",
            "status.hostIP",
            "status.hostIPs",
            "status.podIP",
            "status.podIPs",
            "spec.host",
        ];
        (!known.contains(&fp)).then(|| format!("field label not supported: {fp}"))
    };
    if let Some(e) = conv_err {
        out.push(Cause::invalid(child(path, "fieldPath"), &str_val(fp), &format!("error converting fieldPath: {e}")));
        return;
    }
    let internal = if fp == "spec.host" { "spec.nodeName" } else { fp };
    if let Some((p, sub)) = split_subscript(internal) {
        let sub = if p == "metadata.annotations" { sub.to_lowercase() } else { sub.to_string() };
        for m in is_qualified_name(&sub) {
            out.push(Cause::invalid(path, &str_val(&sub), &m));
        }
    } else if !allowed.contains(&internal) {
        out.push(Cause::not_supported(child(path, "fieldPath"), &str_val(internal), allowed));
    }
}

pub(super) fn validate_resource_field_selector(fs: &Value, path: &str, volume: bool, out: &mut Vec<Cause>) {
    let res = get_str(fs, "resource");
    if volume && get_str(fs, "containerName").is_empty() {
        out.push(Cause::required(child(path, "containerName"), ""));
    } else if res.is_empty() {
        out.push(Cause::required(child(path, "resource"), ""));
    } else if !RESOURCE_FIELD_PATHS.contains(&res)
        && !res.starts_with("requests.hugepages-")
        && !res.starts_with("limits.hugepages-")
    {
        out.push(Cause::not_supported(child(path, "resource"), &str_val(res), &RESOURCE_FIELD_PATHS));
    }
}

pub(super) fn validate_downward_api_file(file: &Value, path: &str, out: &mut Vec<Cause>) {
    let p = get_str(file, "path");
    if p.is_empty() {
        out.push(Cause::required(child(path, "path"), ""));
    }
    validate_local_non_reserved_path(p, &child(path, "path"), out);
    if let Some(f) = file.get("fieldRef").filter(|v| !v.is_null()) {
        validate_object_field_selector(f, &VOLUME_FIELD_PATHS, &child(path, "fieldRef"), out);
        if !is_nil(file, "resourceFieldRef") {
            out.push(Cause::invalid(
                path,
                &str_val("resource"),
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(r) = file.get("resourceFieldRef").filter(|v| !v.is_null()) {
        validate_resource_field_selector(r, &child(path, "resourceFieldRef"), true, out);
    } else {
        out.push(Cause::required(path, "one of fieldRef and resourceFieldRef is required"));
    }
    file_mode(file, "mode", path, out);
}
