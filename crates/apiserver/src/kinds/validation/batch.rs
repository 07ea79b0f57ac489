//! Validation of the batch group (pkg/apis/batch/validation) with the Job strategy's options
//! for v1.32 (prefixed selector labels required on create, elastic indexed jobs on).

use serde_json::Value;

use super::cron::parse_standard;
use super::field::{go_label_selector, go_string_map, invalid_raw, key, nonnegative};
use super::meta::{selector_matches, validate_label_selector, validate_object_meta, validate_object_meta_update};
use super::names::{is_dns1123_label, is_qualified_name, NameRule};
use super::pod::validate_pod_template_spec;
use crate::error::Cause;
use crate::kinds::defaults::json::{at, get_arr, get_bool, get_i64, get_str, is_nil, normalize};

fn s(v: &str) -> Value {
    Value::from(v)
}

/// `ValidateHasLabel` on the pod template.
fn has_label(labels: Option<&Value>, k: &str, expected: &str, out: &mut Vec<Cause>) {
    let path = key("spec.template.metadata.labels", k);
    match labels.and_then(|l| l.get(k)).and_then(Value::as_str) {
        None => out.push(Cause::required(path, &format!("must be '{expected}'"))),
        Some(v) if v != expected => {
            out.push(invalid_raw(path, &go_string_map(labels), &format!("must be '{expected}'")))
        }
        _ => {}
    }
}

fn validate_generated_selector(obj: &Value, prefixed: bool, out: &mut Vec<Cause>) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    if get_bool(&spec, "manualSelector") || is_nil(&spec, "selector") {
        return;
    }
    let uid = at(obj, &["metadata", "uid"]).and_then(Value::as_str).unwrap_or_default();
    let name = at(obj, &["metadata", "name"]).and_then(Value::as_str).unwrap_or_default();
    if uid.is_empty() {
        out.push(Cause::required("metadata.uid", ""));
    }
    let labels = at(&spec, &["template", "metadata", "labels"]);
    has_label(labels, "controller-uid", uid, out);
    has_label(labels, "job-name", name, out);
    let mut expected = serde_json::Map::new();
    if prefixed {
        has_label(labels, "batch.kubernetes.io/controller-uid", uid, out);
        has_label(labels, "batch.kubernetes.io/job-name", name, out);
        expected.insert("batch.kubernetes.io/controller-uid".into(), s(uid));
        expected.insert("batch.kubernetes.io/job-name".into(), s(name));
    }
    expected.insert("controller-uid".into(), s(uid));
    expected.insert("job-name".into(), s(name));
    let sel = spec.get("selector");
    if !selector_matches(sel, Some(&Value::Object(expected))) {
        out.push(invalid_raw(
            "spec.selector",
            &go_label_selector(sel.unwrap_or(&Value::Null)),
            "`selector` not auto-generated",
        ));
    }
}

/// `validateJobSpec` (shared with CronJob job templates).
fn validate_job_spec_common(spec: &Value, path: &str, out: &mut Vec<Cause>) {
    for f in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
    ] {
        nonnegative(spec, f, path, out);
    }
    let p = |f: &str| format!("{path}.{f}");
    if !is_nil(spec, "maxFailedIndexes") {
        nonnegative(spec, "maxFailedIndexes", path, out);
        if is_nil(spec, "backoffLimitPerIndex") {
            out.push(Cause::required(p("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
        }
    }
    let mode = spec.get("completionMode").and_then(Value::as_str);
    if let Some(m) = mode {
        if m != "NonIndexed" && m != "Indexed" {
            out.push(Cause::not_supported(p("completionMode"), &s(m), &["NonIndexed", "Indexed"]));
        }
        if m == "Indexed" {
            if is_nil(spec, "completions") {
                out.push(Cause::required(p("completions"), "when completion mode is Indexed"));
            }
            if let Some(par) = get_i64(spec, "parallelism") {
                if par > 100_000 {
                    out.push(Cause::invalid(
                        p("parallelism"),
                        &Value::from(par),
                        "must be less than or equal to 100000 when completion mode is Indexed",
                    ));
                }
            }
        }
    }
    if mode.is_none_or(|m| m == "NonIndexed") {
        for f in ["backoffLimitPerIndex", "maxFailedIndexes"] {
            if let Some(v) = get_i64(spec, f) {
                out.push(Cause::invalid(p(f), &Value::from(v), "requires indexed completion mode"));
            }
        }
    }
    let has_pfp = spec.get("podFailurePolicy").is_some_and(|v| v.is_object());
    if let Some(pfp) = spec.get("podFailurePolicy").filter(|v| v.is_object()) {
        for (i, rule) in get_arr(pfp, "rules").into_iter().flatten().enumerate() {
            let rp = format!("{path}.podFailurePolicy.rules[{i}]");
            let action = get_str(rule, "action");
            let actions = ["Count", "FailIndex", "FailJob", "Ignore"];
            if action.is_empty() {
                out.push(Cause::required(
                    format!("{rp}.action"),
                    "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]",
                ));
            } else if action == "FailIndex" {
                if is_nil(spec, "backoffLimitPerIndex") {
                    out.push(Cause::invalid(
                        format!("{rp}.action"),
                        &s(action),
                        "requires the backoffLimitPerIndex to be set",
                    ));
                }
            } else if !actions.contains(&action) {
                out.push(Cause::not_supported(format!("{rp}.action"), &s(action), &actions));
            }
            let has_codes = rule.get("onExitCodes").is_some_and(|v| v.is_object());
            let has_conds = get_arr(rule, "onPodConditions").is_some_and(|a| !a.is_empty());
            for (j, c) in get_arr(rule, "onPodConditions").into_iter().flatten().enumerate() {
                let cp = format!("{rp}.onPodConditions[{j}]");
                let t = get_str(c, "type");
                for m in is_qualified_name(t) {
                    out.push(Cause::invalid(format!("{cp}.type"), &s(t), &m));
                }
                let st = get_str(c, "status");
                if !["False", "True", "Unknown"].contains(&st) {
                    out.push(Cause::not_supported(format!("{cp}.status"), &s(st), &["False", "True", "Unknown"]));
                }
            }
            if has_codes && has_conds {
                out.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported".into(),
                    field: rp.clone(),
                });
            }
            if !has_codes && !has_conds {
                out.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: "Invalid value: specifying one of OnExitCodes and OnPodConditions is required".into(),
                    field: rp,
                });
            }
        }
    }
    if let Some(prp) = spec.get("podReplacementPolicy").and_then(Value::as_str) {
        if has_pfp {
            if prp != "Failed" {
                out.push(Cause::not_supported(p("podReplacementPolicy"), &s(prp), &["Failed"]));
            }
        } else if prp != "Failed" && prp != "TerminatingOrFailed" {
            out.push(Cause::not_supported(p("podReplacementPolicy"), &s(prp), &["Failed", "TerminatingOrFailed"]));
        }
    }
    let tmpl = spec.get("template").cloned().unwrap_or(Value::Null);
    out.extend(validate_pod_template_spec(&tmpl, &p("template")));
    let rp = at(&tmpl, &["spec", "restartPolicy"]).and_then(Value::as_str).unwrap_or_default();
    let rpp = format!("{path}.template.spec.restartPolicy");
    if rp == "Always" || rp.is_empty() {
        // What users hit when reusing a Deployment's pod template in a Job.
        out.push(Cause::required(rpp, "valid values: \"OnFailure\", \"Never\""));
    } else if rp != "OnFailure" && rp != "Never" {
        out.push(Cause::not_supported(rpp, &s(rp), &["OnFailure", "Never"]));
    } else if has_pfp && rp != "Never" {
        out.push(Cause::invalid(rpp, &s(rp), "only \"Never\" is supported when podFailurePolicy is specified"));
    }
}

/// `ValidateJobSpec`: the common checks plus the selector.
fn validate_job_spec(spec: &Value, out: &mut Vec<Cause>) {
    validate_job_spec_common(spec, "spec", out);
    match spec.get("selector").filter(|v| !v.is_null()) {
        None => out.push(Cause::required("spec.selector", "")),
        Some(sel) => validate_label_selector(Some(sel), "spec.selector", out),
    }
    let labels = at(spec, &["template", "metadata", "labels"]);
    if !selector_matches(spec.get("selector").filter(|v| !v.is_null()), labels) {
        out.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_string_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
}

/// Jobs: on update kube runs `ValidateJob` and then `ValidateJobUpdate`, which validates the
/// spec a second time (so some causes repeat, as they do in kube).
pub(crate) fn job(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = validate_object_meta(obj, true, NameRule::Subdomain);
    // Prefixed labels are required unless the stored Job predates them.
    let prefixed = match old {
        None => true,
        Some(o) => {
            let l = at(o, &["spec", "template", "metadata", "labels"]);
            let has = |k: &str| l.and_then(|l| l.get(k)).is_some();
            has("batch.kubernetes.io/job-name") && has("batch.kubernetes.io/controller-uid")
        }
    };
    validate_generated_selector(obj, prefixed, &mut out);
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    validate_job_spec(&spec, &mut out);
    let name = at(obj, &["metadata", "name"]).and_then(Value::as_str).unwrap_or_default();
    if get_str(&spec, "completionMode") == "Indexed" {
        if let Some(c) = get_i64(&spec, "completions").filter(|c| *c > 0) {
            let host = format!("{name}-{}", c - 1);
            if !is_dns1123_label(&host).is_empty() {
                out.push(Cause::invalid(
                    "metadata.name",
                    &s(name),
                    &format!("will not able to create pod with invalid DNS label: {host}"),
                ));
            }
        }
    }
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
        validate_job_spec(&spec, &mut out);
        let os = old.get("spec").cloned().unwrap_or(Value::Null);
        let norm = |v: Option<&Value>| v.map(normalize).unwrap_or(Value::Null);
        // Elastic indexed jobs (GA): completions may change together with parallelism.
        let indexed = get_str(&spec, "completionMode") == "Indexed";
        if spec.get("completions") != os.get("completions") {
            if !indexed {
                out.push(Cause::invalid(
                    "spec.completions",
                    spec.get("completions").unwrap_or(&s("null")),
                    "field is immutable",
                ));
            } else if let Some(c) = get_i64(&spec, "completions") {
                if Some(c) != get_i64(&spec, "parallelism") {
                    out.push(Cause::invalid(
                        "spec.completions",
                        &Value::from(c),
                        "can only be modified in tandem with spec.parallelism",
                    ));
                }
            }
        }
        if norm(spec.get("selector")) != norm(os.get("selector")) {
            let rendered = spec
                .get("selector")
                .filter(|v| !v.is_null())
                .map(go_label_selector)
                .unwrap_or_else(|| "\"null\"".into());
            out.push(invalid_raw("spec.selector", &rendered, "field is immutable"));
        }
        // Scheduling directives of a suspended Job that never started may change.
        let suspended_unstarted =
            get_bool(&os, "suspend") && at(old, &["status", "startTime"]).is_none_or(Value::is_null);
        let strip = |t: Option<&Value>| {
            let mut t = t.cloned().unwrap_or(Value::Null);
            if suspended_unstarted {
                if let Some(m) = t.as_object_mut() {
                    if let Some(Value::Object(meta)) = m.get_mut("metadata") {
                        meta.remove("labels");
                        meta.remove("annotations");
                    }
                    if let Some(Value::Object(sp)) = m.get_mut("spec") {
                        for k in ["nodeSelector", "tolerations", "schedulingGates"] {
                            sp.remove(k);
                        }
                        if let Some(Value::Object(aff)) = sp.get_mut("affinity") {
                            aff.remove("nodeAffinity");
                        }
                    }
                }
            }
            normalize(&t)
        };
        if strip(spec.get("template")) != strip(os.get("template")) {
            out.push(invalid_raw("spec.template", "core.PodTemplateSpec{...}", "field is immutable"));
        }
        for f in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex"] {
            if norm(spec.get(f)) != norm(os.get(f)) {
                let v = spec.get(f).cloned().unwrap_or(s("null"));
                let rendered =
                    if v.is_object() { "&batch.PodFailurePolicy{...}".to_string() } else { crate::error::render(&v) };
                out.push(invalid_raw(format!("spec.{f}"), &rendered, "field is immutable"));
            }
        }
    }
    out
}

fn valid_tz_part(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 14
        && p != "."
        && p != ".."
        && !p.starts_with('-')
        && p.bytes().all(|c| c.is_ascii_alphanumeric() || b".-_+".contains(&c))
}

/// CronJobs.
pub(crate) fn cron_job(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = match old {
        None => validate_object_meta(obj, true, NameRule::Subdomain),
        Some(old) => validate_object_meta_update(obj, old),
    };
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let os = old.and_then(|o| o.get("spec")).cloned();
    let schedule = get_str(&spec, "schedule");
    if schedule.is_empty() {
        out.push(Cause::required("spec.schedule", ""));
    } else {
        if let Err(e) = parse_standard(schedule) {
            out.push(Cause::invalid("spec.schedule", &s(schedule), &e));
        }
        let allow_tz = os.as_ref().is_some_and(|o| get_str(o, "schedule").contains("TZ"));
        if allow_tz && schedule.contains("TZ") && !is_nil(&spec, "timeZone") {
            out.push(Cause::invalid(
                "spec.schedule",
                &s(schedule),
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        } else if !allow_tz && schedule.contains("TZ") {
            out.push(Cause::invalid(
                "spec.schedule",
                &s(schedule),
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    nonnegative(&spec, "startingDeadlineSeconds", "spec", &mut out);
    let tz_changed = os.as_ref().map(|o| o.get("timeZone") != spec.get("timeZone")).unwrap_or(true);
    if let (true, Some(tz)) = (tz_changed, spec.get("timeZone").and_then(Value::as_str)) {
        if tz.is_empty() {
            out.push(Cause::invalid("spec.timeZone", &s(tz), "timeZone must be nil or non-empty string"));
        } else if !tz.split('/').all(valid_tz_part) {
            out.push(Cause::invalid("spec.timeZone", &s(tz), &format!("unknown time zone {tz}")));
        } else if tz.eq_ignore_ascii_case("local") {
            out.push(Cause::invalid(
                "spec.timeZone",
                &s(tz),
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            ));
        }
    }
    let cp = get_str(&spec, "concurrencyPolicy");
    match cp {
        "Allow" | "Forbid" | "Replace" => {}
        "" => out.push(Cause::required("spec.concurrencyPolicy", "")),
        _ => out.push(Cause::not_supported("spec.concurrencyPolicy", &s(cp), &["Allow", "Forbid", "Replace"])),
    }
    let jt_spec = at(&spec, &["jobTemplate", "spec"]).cloned().unwrap_or(Value::Null);
    validate_job_spec_common(&jt_spec, "spec.jobTemplate.spec", &mut out);
    if let Some(sel) = jt_spec.get("selector").filter(|v| !v.is_null()) {
        out.push(invalid_raw(
            "spec.jobTemplate.spec.selector",
            &go_label_selector(sel),
            "`selector` will be auto-generated",
        ));
    }
    if get_bool(&jt_spec, "manualSelector") {
        out.push(Cause::not_supported("spec.jobTemplate.spec.manualSelector", &Value::Bool(true), &["nil", "false"]));
    }
    nonnegative(&spec, "successfulJobsHistoryLimit", "spec", &mut out);
    nonnegative(&spec, "failedJobsHistoryLimit", "spec", &mut out);
    if old.is_none() {
        let name = at(obj, &["metadata", "name"]).and_then(Value::as_str).unwrap_or_default();
        // The controller appends an 11-character suffix to name Jobs (63 - 11 = 52).
        if name.len() > 52 {
            out.push(Cause::invalid("metadata.name", &s(name), "must be no more than 52 characters"));
        }
    }
    out
}
