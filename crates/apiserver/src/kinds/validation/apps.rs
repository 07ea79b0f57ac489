//! Validation of the apps group (pkg/apis/apps/validation) and the strategies'
//! selector-immutability rule (pkg/registry/apps/*/strategy.go).

use serde_json::Value;

use super::field::{go_label_selector, go_string_map, invalid_raw, nonnegative};
use super::meta::{
    selector_is_empty, selector_matches, validate_annotations, validate_label_selector, validate_labels,
};
use super::meta::{validate_object_meta, validate_object_meta_update};
use super::names::{is_valid_percent, NameRule};
use super::pod::{validate_pod_specific_annotations, validate_pod_template_spec};
use crate::error::Cause;
use crate::kinds::defaults::json::{at, get_i64, get_str, is_nil, normalize};

fn s(v: &str) -> Value {
    Value::from(v)
}

fn int_or_percent_render(v: &Value) -> String {
    match v {
        Value::String(st) => format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{st:?}}}"),
        other => format!("intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}", other.as_i64().unwrap_or(0)),
    }
}

/// `ValidatePositiveIntOrPercent`.
fn validate_positive_int_or_percent(v: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    match v {
        Some(Value::String(st)) => {
            for m in is_valid_percent(st) {
                out.push(invalid_raw(path, &int_or_percent_render(&s(st)), &m));
            }
        }
        Some(n) => {
            if let Some(i) = n.as_i64() {
                if i < 0 {
                    out.push(Cause::invalid(path, &Value::from(i), "must be greater than or equal to 0"));
                }
            }
        }
        None => {}
    }
}

/// `getIntOrPercentValue`.
fn int_or_percent_value(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::String(st)) if is_valid_percent(st).is_empty() => st.trim_end_matches('%').parse().unwrap_or(0),
        Some(Value::String(_)) => 0,
        Some(n) => n.as_i64().unwrap_or(0),
        None => 0,
    }
}

/// `IsNotMoreThan100Percent`.
fn not_more_than_100(v: Option<&Value>, path: &str, out: &mut Vec<Cause>) {
    if let Some(Value::String(st)) = v {
        if is_valid_percent(st).is_empty() && int_or_percent_value(v) > 100 {
            out.push(invalid_raw(path, &int_or_percent_render(&s(st)), "must not be greater than 100%"));
        }
    }
}

/// The selector must select the template's labels. `LabelSelectorAsSelector` turns a nil
/// selector into "nothing" (never empty, never matching) and `{}` into "everything" (empty,
/// so not checked): a missing selector reports both Required and this mismatch, as in kube.
fn check_template_labels(sel: Option<&Value>, labels: Option<&Value>, out: &mut Vec<Cause>) {
    let sel = sel.filter(|v| !v.is_null());
    let empty = sel.is_some() && selector_is_empty(sel);
    if !empty && !selector_matches(sel, labels) {
        out.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_string_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
}

/// `ValidatePodTemplateSpecForReplicaSet` (deployments and replicasets).
fn validate_template_for_rs(spec: &Value, kind: &str, out: &mut Vec<Cause>) {
    // The template is a struct in Go, never nil: an absent one validates as empty.
    let empty = Value::Object(serde_json::Map::new());
    let t = spec.get("template").filter(|v| v.is_object()).unwrap_or(&empty);
    check_template_labels(spec.get("selector"), at(t, &["metadata", "labels"]), out);
    out.extend(validate_pod_template_spec(t, "spec.template"));
    let rp = at(t, &["spec", "restartPolicy"]).and_then(Value::as_str).unwrap_or_default();
    if rp != "Always" {
        out.push(Cause::not_supported("spec.template.spec.restartPolicy", &s(rp), &["Always"]));
    }
    if at(t, &["spec", "activeDeadlineSeconds"]).is_some_and(|v| !v.is_null()) {
        out.push(Cause::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            &format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

/// The strict selector checks Deployments, ReplicaSets and StatefulSets share.
fn validate_required_selector(spec: &Value, kind: &str, out: &mut Vec<Cause>) {
    match spec.get("selector").filter(|v| !v.is_null()) {
        None => out.push(Cause::required("spec.selector", "")),
        Some(sel) => {
            validate_label_selector(Some(sel), "spec.selector", out);
            if selector_is_empty(Some(sel)) {
                out.push(invalid_raw(
                    "spec.selector",
                    &go_label_selector(sel),
                    &format!("empty selector is invalid for {kind}"),
                ));
            }
        }
    }
}

fn selector_immutable(obj: &Value, old: &Value, out: &mut Vec<Cause>) {
    let (n, o) = (at(obj, &["spec", "selector"]), at(old, &["spec", "selector"]));
    let norm = |v: Option<&Value>| v.map(normalize).unwrap_or(Value::Null);
    if norm(n) != norm(o) {
        let rendered = match n.filter(|v| !v.is_null()) {
            Some(sel) => go_label_selector(sel),
            None => "\"null\"".to_string(),
        };
        out.push(invalid_raw("spec.selector", &rendered, "field is immutable"));
    }
}

fn meta(obj: &Value, old: Option<&Value>, rule: NameRule) -> Vec<Cause> {
    match old {
        None => validate_object_meta(obj, true, rule),
        Some(old) => validate_object_meta_update(obj, old),
    }
}

/// Deployments.
pub(crate) fn deployment(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = meta(obj, old, NameRule::Subdomain);
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    nonnegative(&spec, "replicas", "spec", &mut out);
    validate_required_selector(&spec, "deployment", &mut out);
    validate_template_for_rs(&spec, "Deployment", &mut out);
    let strategy = spec.get("strategy").cloned().unwrap_or(Value::Null);
    match get_str(&strategy, "type") {
        "Recreate" => {
            if !is_nil(&strategy, "rollingUpdate") {
                out.push(Cause::forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match strategy.get("rollingUpdate").filter(|v| !v.is_null()) {
            None => {
                out.push(Cause::required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"))
            }
            Some(ru) => {
                let (mu, ms) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
                validate_positive_int_or_percent(mu, "spec.strategy.rollingUpdate.maxUnavailable", &mut out);
                validate_positive_int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge", &mut out);
                if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
                    out.push(invalid_raw(
                        "spec.strategy.rollingUpdate.maxUnavailable",
                        &int_or_percent_render(mu.unwrap_or(&Value::from(0))),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                not_more_than_100(mu, "spec.strategy.rollingUpdate.maxUnavailable", &mut out);
            }
        },
        other => out.push(super::field::not_supported_raw(
            "spec.strategy",
            &format!("apps.DeploymentStrategy{{Type:{other:?}, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}}"),
            &["Recreate", "RollingUpdate"],
        )),
    }
    nonnegative(&spec, "minReadySeconds", "spec", &mut out);
    nonnegative(&spec, "revisionHistoryLimit", "spec", &mut out);
    if let Some(pds) = get_i64(&spec, "progressDeadlineSeconds") {
        nonnegative(&spec, "progressDeadlineSeconds", "spec", &mut out);
        if pds <= get_i64(&spec, "minReadySeconds").unwrap_or(0) {
            out.push(Cause::invalid(
                "spec.progressDeadlineSeconds",
                &Value::from(pds),
                "must be greater than minReadySeconds",
            ));
        }
    }
    if let Some(old) = old {
        selector_immutable(obj, old, &mut out);
    }
    out
}

/// ReplicaSets.
pub(crate) fn replica_set(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = meta(obj, old, NameRule::Subdomain);
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    nonnegative(&spec, "replicas", "spec", &mut out);
    nonnegative(&spec, "minReadySeconds", "spec", &mut out);
    // kube's message says "deployment" for ReplicaSets too.
    validate_required_selector(&spec, "deployment", &mut out);
    validate_template_for_rs(&spec, "ReplicaSet", &mut out);
    if let Some(old) = old {
        selector_immutable(obj, old, &mut out);
    }
    out
}

/// DaemonSets.
pub(crate) fn daemon_set(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = meta(obj, old, NameRule::Subdomain);
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let sel = spec.get("selector").filter(|v| !v.is_null());
    validate_label_selector(sel, "spec.selector", &mut out);
    let labels = at(&spec, &["template", "metadata", "labels"]);
    // A nil selector selects nothing, so it never matches the template.
    if !selector_matches(sel, labels) {
        out.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_string_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
    if let Some(sel) = sel {
        if selector_is_empty(Some(sel)) {
            out.push(invalid_raw("spec.selector", &go_label_selector(sel), "empty selector is invalid for daemonset"));
        }
    }
    let tmpl = spec.get("template").cloned().unwrap_or(Value::Null);
    out.extend(validate_pod_template_spec(&tmpl, "spec.template"));
    let rp = at(&tmpl, &["spec", "restartPolicy"]).and_then(Value::as_str).unwrap_or_default();
    if rp != "Always" {
        out.push(Cause::not_supported("spec.template.spec.restartPolicy", &s(rp), &["Always"]));
    }
    if at(&tmpl, &["spec", "activeDeadlineSeconds"]).is_some_and(|v| !v.is_null()) {
        out.push(Cause::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in DaemonSet is not Supported",
        ));
    }
    nonnegative(&spec, "minReadySeconds", "spec", &mut out);
    let us = spec.get("updateStrategy").cloned().unwrap_or(Value::Null);
    match get_str(&us, "type") {
        "OnDelete" => {}
        "RollingUpdate" => match us.get("rollingUpdate").filter(|v| !v.is_null()) {
            None => out.push(Cause::required("spec.updateStrategy.rollingUpdate", "")),
            Some(ru) => {
                let p = "spec.updateStrategy.rollingUpdate";
                let (mu, ms) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
                validate_positive_int_or_percent(mu, &format!("{p}.maxUnavailable"), &mut out);
                validate_positive_int_or_percent(ms, &format!("{p}.maxSurge"), &mut out);
                not_more_than_100(mu, &format!("{p}.maxUnavailable"), &mut out);
                not_more_than_100(ms, &format!("{p}.maxSurge"), &mut out);
                let (has_u, has_s) = (int_or_percent_value(mu) != 0, int_or_percent_value(ms) != 0);
                if has_u && has_s {
                    out.push(invalid_raw(
                        format!("{p}.maxSurge"),
                        &int_or_percent_render(ms.unwrap_or(&Value::from(0))),
                        "may not be set when maxUnavailable is non-zero",
                    ));
                } else if !has_u && !has_s {
                    out.push(Cause::required(format!("{p}.maxUnavailable"), "cannot be 0 when maxSurge is 0"));
                }
            }
        },
        other => out.push(super::field::not_supported_raw(
            "spec.updateStrategy",
            &format!(
                "apps.DaemonSetUpdateStrategy{{Type:{other:?}, RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}}"
            ),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    nonnegative(&spec, "revisionHistoryLimit", "spec", &mut out);
    if let Some(old) = old {
        selector_immutable(obj, old, &mut out);
    }
    out
}

/// StatefulSets. Names are DNS labels (they become pod hostnames). kube does not validate
/// the pod spec of a StatefulSet template, only its labels and annotations.
pub(crate) fn stateful_set(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = meta(obj, old, NameRule::Label);
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let pmp = get_str(&spec, "podManagementPolicy");
    match pmp {
        "" => out.push(Cause::required("spec.podManagementPolicy", "")),
        "OrderedReady" | "Parallel" => {}
        _ => out.push(Cause::invalid("spec.podManagementPolicy", &s(pmp), "must be 'OrderedReady' or 'Parallel'")),
    }
    let us = spec.get("updateStrategy").cloned().unwrap_or(Value::Null);
    match get_str(&us, "type") {
        "" => out.push(Cause::required("spec.updateStrategy", "")),
        "OnDelete" => {
            if !is_nil(&us, "rollingUpdate") {
                out.push(invalid_raw(
                    "spec.updateStrategy.rollingUpdate",
                    "&apps.RollingUpdateStatefulSetStrategy{...}",
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = us.get("rollingUpdate").filter(|v| !v.is_null()) {
                let p = "spec.updateStrategy.rollingUpdate";
                nonnegative(ru, "partition", p, &mut out);
                if let Some(mu) = ru.get("maxUnavailable").filter(|v| !v.is_null()) {
                    validate_positive_int_or_percent(Some(mu), &format!("{p}.maxUnavailable"), &mut out);
                    if int_or_percent_value(Some(mu)) == 0 {
                        out.push(invalid_raw(format!("{p}.maxUnavailable"), &int_or_percent_render(mu), "cannot be 0"));
                    }
                    not_more_than_100(Some(mu), &format!("{p}.maxUnavailable"), &mut out);
                }
            }
        }
        other => out.push(invalid_raw(
            "spec.updateStrategy",
            &format!("apps.StatefulSetUpdateStrategy{{Type:{other:?}, RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}}"),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(p) = spec.get("persistentVolumeClaimRetentionPolicy").filter(|v| v.is_object()) {
        for f in ["whenDeleted", "whenScaled"] {
            let v = get_str(p, f);
            if v != "Retain" && v != "Delete" {
                out.push(Cause::not_supported(
                    format!("spec.persistentVolumeClaimRetentionPolicy.{f}"),
                    &s(v),
                    &["Retain", "Delete"],
                ));
            }
        }
    }
    nonnegative(&spec, "replicas", "spec", &mut out);
    nonnegative(&spec, "minReadySeconds", "spec", &mut out);
    if let Some(start) = at(&spec, &["ordinals", "start"]).and_then(Value::as_i64) {
        if start < 0 {
            // kube's path really is "spec.ordinals.start" built as a single child name.
            out.push(Cause::invalid("spec.ordinals.start", &Value::from(start), "must be greater than or equal to 0"));
        }
    }
    validate_required_selector(&spec, "statefulset", &mut out);
    {
        let empty = Value::Object(serde_json::Map::new());
        let t = spec.get("template").filter(|v| v.is_object()).unwrap_or(&empty);
        {
            let labels = at(t, &["metadata", "labels"]);
            check_template_labels(spec.get("selector"), labels, &mut out);
            validate_labels(labels, "spec.template.labels", &mut out);
            let ann = at(t, &["metadata", "annotations"]);
            validate_annotations(ann, "spec.template.annotations", &mut out);
            validate_pod_specific_annotations(
                ann,
                t.get("spec").unwrap_or(&Value::Null),
                "spec.template.annotations",
                &mut out,
            );
        }
    }
    let rp = at(&spec, &["template", "spec", "restartPolicy"]).and_then(Value::as_str).unwrap_or_default();
    if rp != "Always" {
        out.push(Cause::not_supported("spec.template.spec.restartPolicy", &s(rp), &["Always"]));
    }
    if at(&spec, &["template", "spec", "activeDeadlineSeconds"]).is_some_and(|v| !v.is_null()) {
        out.push(Cause::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
    if let Some(old) = old {
        // Everything but these may not change.
        let strip = |v: &Value| {
            let mut sp = v.get("spec").cloned().unwrap_or(Value::Null);
            if let Some(m) = sp.as_object_mut() {
                for k in [
                    "replicas",
                    "template",
                    "updateStrategy",
                    "minReadySeconds",
                    "ordinals",
                    "persistentVolumeClaimRetentionPolicy",
                ] {
                    m.remove(k);
                }
            }
            normalize(&sp)
        };
        if strip(obj) != strip(old) {
            out.push(Cause::forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
    }
    out
}

/// ControllerRevisions.
pub(crate) fn controller_revision(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
    }
    out.extend(validate_object_meta(obj, true, NameRule::Subdomain));
    if is_nil(obj, "data") {
        out.push(Cause::required("data", "data is mandatory"));
    }
    nonnegative(obj, "revision", "", &mut out);
    if let Some(old) = old {
        if normalize(obj.get("data").unwrap_or(&Value::Null)) != normalize(old.get("data").unwrap_or(&Value::Null)) {
            out.push(invalid_raw("data", "runtime.RawExtension{...}", "field is immutable"));
        }
    }
    out
}
