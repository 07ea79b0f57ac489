//! Defaults for the batch group (pkg/apis/batch/v1/defaults.go) and the Job strategy's
//! generated selector (pkg/registry/batch/job/strategy.go).

use serde_json::{json, Value};

use super::json::*;
use super::podspec::{default_pod_template_struct, template_metadata};

fn default_pod_failure_policy(spec: &mut Value) {
    if let Some(pfp) = child_mut(spec, "podFailurePolicy").filter(|v| v.is_object()) {
        each_mut(pfp, "rules", |rule| {
            each_mut(rule, "onPodConditions", |pattern| {
                if pattern.is_object() {
                    default_str(pattern, "status", "True");
                }
            });
        });
    }
}

/// Jobs (`SetDefaults_Job`). The job's labels come from the template when it has none.
pub(crate) fn job(obj: &mut Value) {
    let tmpl_labels = at(obj, &["spec", "template", "metadata", "labels"]).filter(|v| v.is_object()).cloned();
    if let Some(spec) = ensure_obj(obj, "spec") {
        if is_nil(spec, "completions") && is_nil(spec, "parallelism") {
            set(spec, "completions", json!(1));
            set(spec, "parallelism", json!(1));
        }
        default_ptr(spec, "parallelism", json!(1));
        let per_index = !is_nil(spec, "backoffLimitPerIndex");
        default_ptr(spec, "backoffLimit", json!(if per_index { i64::from(i32::MAX) } else { 6 }));
        default_ptr(spec, "completionMode", json!("NonIndexed"));
        default_ptr(spec, "suspend", json!(false));
        default_pod_failure_policy(spec);
        // JobPodReplacementPolicy is beta and on in 1.32.
        let replacement = if is_nil(spec, "podFailurePolicy") { "TerminatingOrFailed" } else { "Failed" };
        default_ptr(spec, "podReplacementPolicy", json!(replacement));
        default_ptr(spec, "manualSelector", json!(false));
        default_pod_template_struct(spec, "template");
    }
    if let Some(labels) = tmpl_labels {
        if let Some(meta) = ensure_obj(obj, "metadata") {
            if map_empty(meta, "labels") {
                set(meta, "labels", labels);
            }
        }
    }
    ensure_obj(obj, "status");
}

/// The legacy and prefixed Job labels the strategy puts on pods and in the selector.
const JOB_NAME_LABELS: [&str; 2] = ["job-name", "batch.kubernetes.io/job-name"];
const CONTROLLER_UID_LABELS: [&str; 2] = ["controller-uid", "batch.kubernetes.io/controller-uid"];

/// The Job strategy's PrepareForCreate `generateSelector`: unless manualSelector is true,
/// the template gets job-name/controller-uid labels (legacy and prefixed) and the selector
/// matches `batch.kubernetes.io/controller-uid`. User-set values are kept (validation then
/// rejects a mismatch). Needs `metadata.name` and `metadata.uid`.
pub(crate) fn job_generate_selector(obj: &mut Value) {
    if at(obj, &["spec", "manualSelector"]).and_then(Value::as_bool) == Some(true) {
        return;
    }
    let name = at(obj, &["metadata", "name"]).and_then(Value::as_str).unwrap_or_default().to_string();
    let uid = at(obj, &["metadata", "uid"]).and_then(Value::as_str).unwrap_or_default().to_string();
    let before = at(obj, &["spec", "template", "metadata", "labels"]).cloned();
    let job_labels = at(obj, &["metadata", "labels"]).cloned();
    let Some(spec) = ensure_obj(obj, "spec") else {
        return;
    };
    let Some(tmpl) = ensure_obj(spec, "template") else {
        return;
    };
    let Some(meta) = ensure_obj(tmpl, "metadata") else {
        return;
    };
    let Some(labels) = ensure_obj(meta, "labels").and_then(Value::as_object_mut) else {
        return;
    };
    for k in JOB_NAME_LABELS {
        labels.entry(k).or_insert(json!(name));
    }
    for k in CONTROLLER_UID_LABELS {
        labels.entry(k).or_insert(json!(uid));
    }
    let after = Value::Object(labels.clone());
    if let Some(sel) = ensure_obj(spec, "selector") {
        if let Some(ml) = ensure_obj(sel, "matchLabels").and_then(Value::as_object_mut) {
            ml.entry("batch.kubernetes.io/controller-uid").or_insert(json!(uid));
        }
    }
    // Defaulting made the Job's labels the *same map* as the template's in kube, so labels
    // copied from the template also receive the generated ones.
    let aliased = match (&job_labels, &before) {
        (None | Some(Value::Null), _) => true,
        (Some(Value::Object(m)), _) if m.is_empty() => true,
        (Some(j), Some(b)) => j == b,
        _ => false,
    };
    if aliased {
        if let Some(m) = ensure_obj(obj, "metadata") {
            set(m, "labels", after);
        }
    }
}

/// CronJobs (`SetDefaults_CronJob`); the job template's pod spec gets pod spec defaults but
/// the job template itself does not get Job defaults.
pub(crate) fn cron_job(obj: &mut Value) {
    if let Some(spec) = ensure_obj(obj, "spec") {
        default_str(spec, "concurrencyPolicy", "Allow");
        default_ptr(spec, "suspend", json!(false));
        default_ptr(spec, "successfulJobsHistoryLimit", json!(3));
        default_ptr(spec, "failedJobsHistoryLimit", json!(1));
        if let Some(jt) = ensure_obj(spec, "jobTemplate") {
            template_metadata(jt);
            if let Some(js) = ensure_obj(jt, "spec") {
                default_pod_failure_policy(js);
                default_pod_template_struct(js, "template");
            }
        }
    }
    ensure_obj(obj, "status");
}
