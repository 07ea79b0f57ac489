//! `batch` printers: printers.go `printJob` and `printCronJob`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::duration;
use super::helpers::{
    age, arr_at, format_label_selector, get, int_at, is_deleting, layout_containers, len_at, n, name, opt_bool,
    opt_int, opt_str, s, str_at, time_at,
};
use super::{col, Column, Printer, AGE_COLUMN, CONTAINERS_DESC, IMAGES_DESC, NAME_COLUMN};

const JOB_SELECTOR_DESC: &str = "A label query over pods that should match the pod count.";

const JOB_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Status", "string", "Status of the job.", 0),
    col("Completions", "string", "The number of pods which reached phase Succeeded.", 0),
    col("Duration", "string", "Time required to complete the job.", 0),
    AGE_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 1),
    col("Images", "string", IMAGES_DESC, 1),
    col("Selector", "string", JOB_SELECTOR_DESC, 1),
];

/// `printJob`.
pub static JOB: Printer = Printer { columns: JOB_COLUMNS, row: job_row };

/// `hasJobCondition`: the first condition of `type_` decides.
fn has_condition(job: &Value, type_: &str) -> bool {
    arr_at(job, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == type_)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

fn job_row(job: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let succeeded = int_at(job, &["status", "succeeded"]);
    let mut completions_spec = opt_int(job, &["spec", "completions"]);
    let mut parallelism = opt_int(job, &["spec", "parallelism"]);
    // batch/v1 defaulting: a job with neither set gets completions=1, parallelism=1.
    if completions_spec.is_none() && parallelism.is_none() {
        completions_spec = Some(1);
        parallelism = Some(1);
    }
    let completions = match completions_spec {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let p = parallelism.unwrap_or(0);
            if p > 1 {
                format!("{succeeded}/1 of {p}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let start = time_at(job, &["status", "startTime"]);
    let completion = time_at(job, &["status", "completionTime"]);
    let job_duration = match (start, completion) {
        (None, _) => String::new(),
        (Some(st), None) => duration::human_duration(duration::nanos_between(now, st)),
        (Some(st), Some(done)) => duration::human_duration(duration::nanos_between(done, st)),
    };
    let status = if has_condition(job, "Complete") {
        "Complete"
    } else if has_condition(job, "Failed") {
        "Failed"
    } else if is_deleting(job) {
        "Terminating"
    } else if has_condition(job, "Suspended") {
        "Suspended"
    } else if has_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = layout_containers(arr_at(job, &["spec", "template", "spec", "containers"]));
    vec![
        s(name(job)),
        s(status),
        s(completions),
        s(job_duration),
        s(age(job, now)),
        s(names),
        s(images),
        s(format_label_selector(get(job, &["spec", "selector"]))),
    ]
}

const CRON_JOB_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.", 0),
    col("Timezone", "string", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.", 0),
    col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.", 0),
    col("Active", "integer", "A list of pointers to currently running jobs.", 0),
    col("Last Schedule", "string", "Information when was the last time the job was successfully scheduled.", 0),
    AGE_COLUMN,
    col("Containers", "string", CONTAINERS_DESC, 1),
    col("Images", "string", IMAGES_DESC, 1),
    col("Selector", "string", JOB_SELECTOR_DESC, 1),
];

/// `printCronJob`.
pub static CRON_JOB: Printer = Printer { columns: CRON_JOB_COLUMNS, row: cron_job_row };

fn cron_job_row(cj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let last_schedule = match time_at(cj, &["status", "lastScheduleTime"]) {
        Some(t) => duration::since(Some(t), now),
        // A present-but-zero time is still printed (as "<unknown>") by kube.
        None if get(cj, &["status", "lastScheduleTime"]).is_some_and(|v| !v.is_null()) => "<unknown>".to_string(),
        None => "<none>".to_string(),
    };
    // printBoolPtr: the SUSPEND cell is a string despite the boolean column type.
    let suspend = match opt_bool(cj, &["spec", "suspend"]) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let (names, images) =
        layout_containers(arr_at(cj, &["spec", "jobTemplate", "spec", "template", "spec", "containers"]));
    vec![
        s(name(cj)),
        s(str_at(cj, &["spec", "schedule"])),
        s(opt_str(cj, &["spec", "timeZone"]).unwrap_or("<none>")),
        s(suspend),
        n(len_at(cj, &["status", "active"])),
        s(last_schedule),
        s(age(cj, now)),
        s(names),
        s(images),
        s(format_label_selector(get(cj, &["spec", "jobTemplate", "spec", "selector"]))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(now: DateTime<Utc>, secs: i64) -> String {
        (now + chrono::TimeDelta::seconds(secs)).to_rfc3339()
    }

    // Expected cells: printers_test.go TestPrintJob.
    #[test]
    fn jobs() {
        let now = Utc::now();
        let soon = (now + chrono::TimeDelta::milliseconds(1900)).to_rfc3339();
        let ten_years = at(now, -10 * 365 * 24 * 3600);

        let job1 = json!({
            "metadata": {"name": "job1", "creationTimestamp": soon},
            "spec": {
                "completions": 2,
                "template": {"spec": {"containers": [
                    {"name": "fake-job-container1", "image": "fake-job-image1"},
                    {"name": "fake-job-container2", "image": "fake-job-image2"}
                ]}},
                "selector": {"matchLabels": {"job-label": "job-label-value"}}
            },
            "status": {"succeeded": 1}
        });
        assert_eq!(
            job_row(&job1, now),
            vec![
                json!("job1"),
                json!("Running"),
                json!("1/2"),
                json!(""),
                json!("0s"),
                json!("fake-job-container1,fake-job-container2"),
                json!("fake-job-image1,fake-job-image2"),
                json!("job-label=job-label-value")
            ]
        );

        // "Job with duration": started 1m after now, completed 31m after now.
        let job3 = json!({
            "metadata": {"name": "job3", "creationTimestamp": ten_years},
            "spec": {"parallelism": 1},
            "status": {"startTime": at(now, 60), "completionTime": at(now, 31 * 60)}
        });
        assert_eq!(
            job_row(&job3, now)[..5],
            [json!("job3"), json!("Running"), json!("0/1"), json!("30m"), json!("10y")]
        );

        // Still running, started 20m ago.
        let job4 = json!({
            "metadata": {"name": "job4", "creationTimestamp": ten_years},
            "spec": {"parallelism": 1},
            "status": {"startTime": at(now, -20 * 60)}
        });
        assert_eq!(job_row(&job4, now)[3], json!("20m"));

        for (cond, want) in [
            ("Complete", "Complete"),
            ("Failed", "Failed"),
            ("Suspended", "Suspended"),
            ("FailureTarget", "FailureTarget"),
        ] {
            let j = json!({
                "metadata": {"name": "j", "creationTimestamp": soon},
                "spec": {"parallelism": 1},
                "status": {"conditions": [{"type": cond, "status": "True"}]}
            });
            assert_eq!(job_row(&j, now)[1], json!(want), "{cond}");
        }

        let job9 = json!({
            "metadata": {"name": "job9", "creationTimestamp": soon, "deletionTimestamp": soon},
            "spec": {"parallelism": 1}
        });
        assert_eq!(
            job_row(&job9, now)[..5],
            [json!("job9"), json!("Terminating"), json!("0/1"), json!(""), json!("0s")]
        );
    }

    // Parallel jobs without completions print "N/1 of P"; an unset pair defaults to 1/1.
    #[test]
    fn job_completions_variants() {
        let now = Utc::now();
        let parallel = json!({"metadata": {"name": "p"}, "spec": {"parallelism": 3}, "status": {"succeeded": 1}});
        assert_eq!(job_row(&parallel, now)[2], json!("1/1 of 3"));
        let bare = json!({"metadata": {"name": "b"}});
        assert_eq!(job_row(&bare, now)[2], json!("0/1"));
    }

    // Expected cells derived from printers.go printCronJob: SUSPEND is printBoolPtr's
    // string, LAST SCHEDULE "<none>" until the first run.
    #[test]
    fn cron_jobs() {
        let now = Utc::now();
        let cj = json!({
            "metadata": {"name": "cronjob1", "creationTimestamp": at(now, 0)},
            "spec": {
                "schedule": "0/5 * * * ?",
                "suspend": false,
                "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox"}]}}}}
            },
            "status": {"lastScheduleTime": at(now, 0), "active": []}
        });
        assert_eq!(
            cron_job_row(&cj, now),
            vec![
                json!("cronjob1"),
                json!("0/5 * * * ?"),
                json!("<none>"),
                json!("False"),
                json!(0),
                json!("0s"),
                json!("0s"),
                json!("hello"),
                json!("busybox"),
                json!("<none>")
            ]
        );
        let cj2 = json!({
            "metadata": {"name": "cronjob2", "creationTimestamp": at(now, -5 * 60)},
            "spec": {"schedule": "@hourly", "timeZone": "Etc/UTC"},
            "status": {"active": [{"name": "cronjob2-123"}]}
        });
        assert_eq!(
            cron_job_row(&cj2, now)[..7],
            [
                json!("cronjob2"),
                json!("@hourly"),
                json!("Etc/UTC"),
                json!("<unset>"),
                json!(1),
                json!("<none>"),
                json!("5m")
            ]
        );
    }
}
