//! CronJobs on real minute boundaries: one fires and its Job completes, one in another time
//! zone stamps its Job in that zone, and a suspended one created before them stays idle.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Env, WAIT};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{Api, ListParams};
use nestor_testkit::eventually;
use nestor_testkit::kubectl::rows;

const SCHEDULED: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// A CronJob firing every minute; `extra` lines go under `spec:`.
fn cron_job(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
spec:
  schedule: "* * * * *"
{extra}
  jobTemplate:
    metadata:
      labels:
        cron: {name}
    spec:
      template:
        metadata:
          annotations:
            nestor.dev/sim-duration: "1s"
        spec:
          restartPolicy: Never
          containers:
          - name: tick
            image: busybox
"#
    )
}

async fn jobs_of(env: &Env, cron: &str) -> Vec<Job> {
    let api: Api<Job> = Api::namespaced(env.client.clone(), "default");
    api.list(&ListParams::default().labels(&format!("cron={cron}"))).await.unwrap().items
}

fn events_about(env: &Env, name: &str) -> String {
    env.k(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.kind=CronJob,involvedObject.name={name}"),
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fires_on_the_minute_unless_suspended() {
    let env = Env::start().await;
    let api: Api<CronJob> = Api::namespaced(env.client.clone(), "default");
    // The suspended one exists before the others: the boundary they fire on is one it saw too.
    env.apply(&cron_job("paused", "  suspend: true"));
    let paused_created = api.get("paused").await.unwrap().metadata.creation_timestamp.unwrap().0;
    env.apply(&cron_job("ticker", ""));
    env.apply(&cron_job("zoned", "  timeZone: Asia/Kolkata"));

    // The first boundary comes within a minute; the Job runs for a second.
    let ticker = eventually(Duration::from_secs(150), "the cronjob to fire and see its job complete", || async {
        let cj = api.get("ticker").await.ok()?;
        let status = cj.status.clone()?;
        let done = status.last_schedule_time.is_some()
            && status.last_successful_time.is_some()
            && status.active.as_ref().is_none_or(Vec::is_empty);
        done.then_some(cj)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let status = ticker.status.unwrap();
    let scheduled = status.last_schedule_time.unwrap().0;
    assert!(scheduled > paused_created, "fired at {scheduled}, before the suspended one existed");
    assert_eq!(scheduled.as_second() % 60, 0);

    // The Job: named after its minute, stamped, owned, labelled from the template, complete.
    let jobs = jobs_of(&env, "ticker").await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs[0];
    let name = format!("ticker-{}", scheduled.as_second() / 60);
    assert_eq!(job.metadata.name.as_deref(), Some(name.as_str()));
    let stamp = &job.metadata.annotations.as_ref().unwrap()[SCHEDULED];
    assert_eq!(stamp.parse::<k8s_openapi::jiff::Timestamp>().unwrap(), scheduled);
    assert!(stamp.ends_with('Z'), "{stamp}");
    let owner = &job.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str(), owner.controller), ("CronJob", "ticker", Some(true)));
    let complete = job.status.as_ref().unwrap().conditions.iter().flatten().any(|c| c.type_ == "Complete");
    assert!(complete);
    assert_eq!(status.last_successful_time.unwrap(), job.status.as_ref().unwrap().completion_time.clone().unwrap());

    let events = eventually(WAIT, "the cronjob's events", || async {
        let e = events_about(&env, "ticker");
        e.contains("SawCompletedJob").then_some(e)
    })
    .await
    .unwrap();
    assert!(events.contains(&format!("SuccessfulCreate: Created job {name}")), "{events}");
    assert!(events.contains(&format!("SawCompletedJob: Saw completed job: {name}, status: Complete")), "{events}");

    // The zoned one fired on the same kind of boundary, stamped in India's time.
    let zoned =
        eventually(WAIT, "the zoned cronjob's job", || async { jobs_of(&env, "zoned").await.into_iter().next() })
            .await
            .unwrap();
    let stamp = &zoned.metadata.annotations.as_ref().unwrap()[SCHEDULED];
    assert!(stamp.ends_with("+05:30"), "{stamp}");

    // The suspended one crossed the same boundary and did nothing.
    assert!(jobs_of(&env, "paused").await.is_empty());
    let paused = api.get("paused").await.unwrap();
    assert!(paused.status.and_then(|s| s.last_schedule_time).is_none());
    let table = env.k(&["get", "cronjob", "paused", "ticker"]);
    let rows = rows(&table);
    let paused_row = rows.iter().find(|r| r[0] == "paused").unwrap();
    assert_eq!(
        &paused_row[1..],
        ["*", "*", "*", "*", "*", "<none>", "True", "0", "<none>", &paused_row[10]],
        "{table}"
    );
    let ticker_row = rows.iter().find(|r| r[0] == "ticker").unwrap();
    assert_eq!((ticker_row[8].as_str(), ticker_row[9] != "<none>"), ("0", true), "{table}");

    // Resumed, it starts the most recent start it missed at once (no startingDeadlineSeconds),
    // as kube does: the controller was watching it all along, only suspend held it back.
    env.k(&["patch", "cronjob", "paused", "--type=merge", "-p", r#"{"spec":{"suspend":false}}"#]);
    let resumed = eventually(Duration::from_secs(20), "the resumed cronjob's job", || async {
        jobs_of(&env, "paused").await.into_iter().next()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let stamp = &resumed.metadata.annotations.as_ref().unwrap()[SCHEDULED];
    assert!(stamp.parse::<k8s_openapi::jiff::Timestamp>().unwrap() >= scheduled, "{stamp}");
}
