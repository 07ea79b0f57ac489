//! Pod and PodSpec validation (`ValidatePodSpec`, `ValidatePodCreate`, `ValidatePodUpdate`,
//! `ValidatePodTemplateSpec` from pkg/apis/core/validation), covering the checks users hit
//! first. Paths and messages follow kube; volume sources are checked only for common types.

mod containers;
mod downward;
mod scheduling;
mod spec;
mod update;
mod volumes;

use serde_json::Value;

use super::field::{child, key};
use super::meta::{validate_annotations, validate_labels};
use super::names::NameRule;
use crate::error::Cause;
use crate::kinds::defaults::json::{get_arr, get_str, is_nil};
use containers::*;
use downward::*;
use scheduling::*;
use volumes::*;

pub(crate) use containers::{validate_port_num_or_name, validate_protocol};
pub(crate) use spec::validate_pod_spec;
pub(crate) use update::{spec_diff, validate_pod_update};

/// Options that differ between a Pod and a PodSpec embedded in a template.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PodOpts {
    /// The object validated is a Pod (not a template).
    pub(crate) resource_is_pod: bool,
}

pub(super) fn str_val(s: &str) -> Value {
    Value::from(s)
}

/// `ValidatePodSpecificAnnotations` (the parts that matter in practice).
pub(crate) fn validate_pod_specific_annotations(
    annotations: Option<&Value>,
    spec: &Value,
    path: &str,
    out: &mut Vec<Cause>,
) {
    let Some(Value::Object(a)) = annotations else {
        return;
    };
    if let Some(v) = a.get("kubernetes.io/config.mirror") {
        if get_str(spec, "nodeName").is_empty() {
            out.push(Cause::invalid(
                key(path, "kubernetes.io/config.mirror"),
                v,
                "must set spec.nodeName if mirror pod annotation is set",
            ));
        }
    }
    if let Some(v) = a.get("controller.kubernetes.io/pod-deletion-cost") {
        let s = v.as_str().unwrap_or_default();
        // helper.GetDeletionCostFromPodAnnotations: strconv.ParseInt(..., 10, 32), no leading zeros.
        let ok = s.parse::<i32>().is_ok()
            && !(s.len() > 1 && (s.starts_with('0') || s.starts_with("-0") || s.starts_with('+')));
        if !ok {
            out.push(Cause::invalid(
                key(path, "controller.kubernetes.io/pod-deletion-cost"),
                v,
                "must be a 32bit integer",
            ));
        }
    }
}

/// `ValidatePodTemplateSpec`: template labels/annotations and the embedded pod spec.
pub(crate) fn validate_pod_template_spec(tmpl: &Value, path: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    let meta = tmpl.get("metadata").cloned().unwrap_or(Value::Null);
    validate_labels(meta.get("labels"), &child(path, "labels"), &mut out);
    validate_annotations(meta.get("annotations"), &child(path, "annotations"), &mut out);
    let spec = tmpl.get("spec").cloned().unwrap_or(Value::Null);
    validate_pod_specific_annotations(meta.get("annotations"), &spec, &child(path, "annotations"), &mut out);
    out.extend(validate_pod_spec(&spec, None, &child(path, "spec"), PodOpts::default()));
    if get_arr(&spec, "ephemeralContainers").map(|a| !a.is_empty()).unwrap_or(false) {
        out.push(Cause::forbidden(
            child(&child(path, "spec"), "ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    out
}

/// `validatePodMetadataAndSpec`.
pub(super) fn validate_pod_metadata_and_spec(pod: &Value) -> Vec<Cause> {
    let mut out = super::meta::validate_object_meta(pod, true, NameRule::Subdomain);
    let meta = pod.get("metadata").cloned().unwrap_or(Value::Null);
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    validate_pod_specific_annotations(meta.get("annotations"), &spec, "metadata.annotations", &mut out);
    let name = get_str(&meta, "name");
    out.extend(validate_pod_spec(&spec, (!name.is_empty()).then_some(name), "spec", PodOpts { resource_is_pod: true }));
    if get_str(&spec, "serviceAccountName").is_empty() {
        for (vi, vol) in get_arr(&spec, "volumes").into_iter().flatten().enumerate() {
            let Some(proj) = vol.get("projected").filter(|v| v.is_object()) else {
                continue;
            };
            for (si, s) in get_arr(proj, "sources").into_iter().flatten().enumerate() {
                if !is_nil(s, "serviceAccountToken") {
                    out.push(Cause::forbidden(
                        format!("spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set",
                    ));
                }
            }
        }
    }
    for list in ["containers", "initContainers"] {
        for (i, c) in get_arr(&spec, list).into_iter().flatten().enumerate() {
            let img = get_str(c, "image");
            if img.trim() != img {
                out.push(Cause::invalid(
                    format!("spec.{list}[{i}].image"),
                    &str_val(img),
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
    out
}

/// `ValidatePodCreate`.
pub(crate) fn validate_pod_create(pod: &Value) -> Vec<Cause> {
    let mut out = validate_pod_metadata_and_spec(pod);
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    if get_arr(&spec, "ephemeralContainers").map(|a| !a.is_empty()).unwrap_or(false) {
        out.push(Cause::forbidden("spec.ephemeralContainers", "cannot be set on create"));
    }
    if !get_str(&spec, "nodeName").is_empty()
        && get_arr(&spec, "schedulingGates").map(|a| !a.is_empty()).unwrap_or(false)
    {
        out.push(Cause::forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"));
    }
    out
}
