//! Jobs driven with the real kubectl: parallel completions, the backoff limit, the active
//! deadline, Indexed Jobs, suspend and resume, pods deleted mid-run, ttlSecondsAfterFinished.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Env, WAIT};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};
use nestor_testkit::eventually;
use nestor_testkit::kubectl::rows;

const TRACKING: &str = "batch.kubernetes.io/job-tracking";
const INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// A Job manifest; `spec` lines go under `spec:` (2-space indented), the pods run for
/// `duration` and exit with `exit_code`.
fn job(name: &str, spec: &str, duration: &str, exit_code: u8) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
{spec}
  template:
    metadata:
      annotations:
        nestor.dev/sim-duration: "{duration}"
        nestor.dev/sim-exit-code: "{exit_code}"
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox
"#
    )
}

async fn pods_of(env: &Env, job: &str) -> Vec<Pod> {
    env.pods("default", &format!("batch.kubernetes.io/job-name={job}")).await
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

fn condition<'a>(job: &'a Job, type_: &str) -> Option<&'a k8s_openapi::api::batch::v1::JobCondition> {
    job.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// The messages of the events about `kind`/`name`, in order of creation.
fn events_about(env: &Env, kind: &str, name: &str) -> String {
    env.k(&[
        "get",
        "events",
        "--sort-by=.metadata.creationTimestamp",
        "--field-selector",
        &format!("involvedObject.kind={kind},involvedObject.name={name}"),
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_completions_and_ttl() {
    let env = Env::start().await;
    env.apply(&job("calc", "  completions: 3\n  parallelism: 2", "2s", 0));
    env.apply(&job("brief", "  ttlSecondsAfterFinished: 2", "1s", 0));
    let jobs: Api<Job> = Api::namespaced(env.client.clone(), "default");

    // Never more than parallelism pods at once, until all three succeeded.
    eventually(WAIT, "three succeeded pods, two at a time", || async {
        let pods = pods_of(&env, "calc").await;
        let running = pods.iter().filter(|p| !matches!(phase(p), "Succeeded" | "Failed")).count();
        assert!(running <= 2, "{running} pods at once, parallelism is 2");
        (pods.len() == 3 && pods.iter().all(|p| phase(p) == "Succeeded")).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    env.k(&["wait", "--for=condition=complete", "job/calc", "--timeout=60s"]);

    let table = env.k(&["get", "job", "calc"]);
    let row = &rows(&table)[0];
    assert_eq!(&row[..3], ["calc", "Complete", "3/3"], "{table}");

    let calc = jobs.get("calc").await.unwrap();
    let status = calc.status.clone().unwrap();
    assert_eq!((status.succeeded, status.failed, status.active), (Some(3), None, None));
    assert_eq!((status.ready, status.terminating), (Some(0), Some(0)));
    assert!(status.start_time.is_some() && status.completion_time.is_some());
    let uncounted = status.uncounted_terminated_pods.unwrap();
    assert!(uncounted.succeeded.is_none() && uncounted.failed.is_none());
    let types: Vec<&str> = status.conditions.iter().flatten().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["SuccessCriteriaMet", "Complete"]);
    let complete = condition(&calc, "Complete").unwrap();
    assert_eq!(complete.reason.as_deref(), Some("CompletionsReached"));
    assert_eq!(complete.message.as_deref(), Some("Reached expected number of succeeded pods"));
    assert_eq!(status.completion_time.as_ref(), complete.last_transition_time.as_ref());

    // Pods: named <job>-<random>, owned by the Job, counted (finalizer gone).
    let uid = calc.metadata.uid.clone().unwrap();
    for pod in pods_of(&env, "calc").await {
        assert!(pod.metadata.name.as_ref().unwrap().starts_with("calc-"));
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("calc-"));
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("Job", uid.as_str(), Some(true)));
        assert_eq!(pod.metadata.labels.as_ref().unwrap()["batch.kubernetes.io/controller-uid"], uid);
        assert!(!pod.metadata.finalizers.iter().flatten().any(|f| f == TRACKING), "{:?}", pod.metadata.finalizers);
    }
    let events = eventually(WAIT, "the job's events", || async {
        let e = events_about(&env, "Job", "calc");
        (e.matches("SuccessfulCreate: Created pod: calc-").count() == 3 && e.contains("Completed: Job completed"))
            .then_some(e)
    })
    .await
    .unwrap();
    assert!(!events.contains("SuccessfulDelete"), "{events}");

    // ttlSecondsAfterFinished: the finished Job and its pod are deleted.
    eventually(WAIT, "the ttl job to complete and be deleted with its pod", || async {
        let gone = jobs.get_opt("brief").await.ok()?.is_none() && pods_of(&env, "brief").await.is_empty();
        gone.then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let brief = events_about(&env, "Job", "brief");
    assert!(brief.contains("Completed: Job completed"), "{brief}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_pods_hit_the_backoff_limit() {
    let env = Env::start().await;
    env.apply(&job("flaky", "  backoffLimit: 2", "500ms", 1));
    env.apply(&job("slow", "  activeDeadlineSeconds: 3", "1h", 0));
    let jobs: Api<Job> = Api::namespaced(env.client.clone(), "default");

    // activeDeadlineSeconds: the running pod is deleted and counted as failed, then Failed.
    let slow = eventually(WAIT, "the slow job to pass its deadline", || async {
        let job = jobs.get("slow").await.ok()?;
        condition(&job, "Failed").filter(|c| c.status == "True")?;
        Some(job)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let cond = condition(&slow, "Failed").unwrap();
    assert_eq!(cond.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(cond.message.as_deref(), Some("Job was active longer than specified deadline"));
    let status = slow.status.clone().unwrap();
    assert_eq!((status.failed, status.active, status.terminating), (Some(1), None, Some(0)));
    let started = status.start_time.unwrap().0;
    let failed_at = cond.last_transition_time.clone().unwrap().0;
    assert!(failed_at.duration_since(started).as_secs_f64() >= 3.0, "failed {failed_at} after starting {started}");
    eventually(WAIT, "the slow job's pod gone", || async { pods_of(&env, "slow").await.is_empty().then_some(()) })
        .await
        .unwrap();
    let events = events_about(&env, "Job", "slow");
    assert!(events.contains("SuccessfulDelete: Deleted pod: slow-"), "{events}");
    assert!(events.contains("DeadlineExceeded: Job was active longer than specified deadline"), "{events}");

    // Three failed pods (10 s, then 20 s apart), then the Job fails.
    let failed = eventually(std::time::Duration::from_secs(120), "the job to fail", || async {
        let job = jobs.get("flaky").await.ok()?;
        condition(&job, "Failed").filter(|c| c.status == "True")?;
        Some(job)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let cond = condition(&failed, "Failed").unwrap();
    assert_eq!(cond.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert_eq!(cond.message.as_deref(), Some("Job has reached the specified backoff limit"));
    let target = condition(&failed, "FailureTarget").unwrap();
    assert_eq!((target.status.as_str(), target.reason.as_deref()), ("True", Some("BackoffLimitExceeded")));
    let status = failed.status.clone().unwrap();
    assert_eq!((status.failed, status.succeeded, status.active), (Some(3), None, None));
    assert!(status.completion_time.is_none());

    let pods = pods_of(&env, "flaky").await;
    assert_eq!(pods.len(), 3, "{:?}", pods.iter().map(|p| p.metadata.name.clone()).collect::<Vec<_>>());
    assert!(pods.iter().all(|p| phase(p) == "Failed"));
    // Replacements waited for the backoff: the second pod started ≥10 s after the first.
    let mut created: Vec<_> = pods.iter().map(|p| p.metadata.creation_timestamp.clone().unwrap().0).collect();
    created.sort();
    let gap = created[1].duration_since(created[0]).as_secs_f64();
    assert!(gap >= 9.0, "the second pod came {gap}s after the first");

    let table = env.k(&["get", "job", "flaky"]);
    assert_eq!(&rows(&table)[0][..3], ["flaky", "Failed", "0/1"], "{table}");
    let events = eventually(WAIT, "the failure event", || async {
        let e = events_about(&env, "Job", "flaky");
        e.contains("BackoffLimitExceeded: Job has reached the specified backoff limit").then_some(e)
    })
    .await
    .unwrap();
    // A failed Job creates nothing more.
    assert_eq!(events.matches("SuccessfulCreate").count(), 3, "{events}");
    assert_eq!(pods_of(&env, "flaky").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexed_and_suspended_jobs() {
    let env = Env::start().await;
    env.apply(&job("idx", "  completions: 3\n  parallelism: 3\n  completionMode: Indexed", "1s", 0));
    env.apply(&job("held", "  suspend: true", "1s", 0));

    // Suspended: no pod, no start time, the Suspended condition.
    let jobs: Api<Job> = Api::namespaced(env.client.clone(), "default");
    let held = eventually(WAIT, "the Suspended condition", || async {
        let job = jobs.get("held").await.ok()?;
        condition(&job, "Suspended").filter(|c| c.status == "True")?;
        Some(job)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    assert_eq!(condition(&held, "Suspended").unwrap().reason.as_deref(), Some("JobSuspended"));
    assert!(held.status.as_ref().unwrap().start_time.is_none());
    let table = env.k(&["get", "job", "held"]);
    assert_eq!(&rows(&table)[0][..3], ["held", "Suspended", "0/1"], "{table}");

    env.k(&["wait", "--for=condition=complete", "job/idx", "--timeout=90s"]);
    let job: Job = Api::namespaced(env.client.clone(), "default").get("idx").await.unwrap();
    let status = job.status.unwrap();
    assert_eq!(status.completed_indexes.as_deref(), Some("0-2"));
    assert_eq!(status.succeeded, Some(3));
    let mut indexes = Vec::new();
    for pod in pods_of(&env, "idx").await {
        let ix = pod.metadata.annotations.as_ref().unwrap()[INDEX].clone();
        assert_eq!(pod.metadata.labels.as_ref().unwrap()[INDEX], ix);
        assert_eq!(pod.metadata.generate_name, Some(format!("idx-{ix}-")));
        assert_eq!(pod.spec.as_ref().unwrap().hostname, Some(format!("idx-{ix}")));
        indexes.push(ix);
    }
    indexes.sort();
    assert_eq!(indexes, ["0", "1", "2"]);

    // The suspended Job created nothing meanwhile; resumed, it runs to completion.
    assert!(pods_of(&env, "held").await.is_empty());
    env.k(&["patch", "job", "held", "--type=merge", "-p", r#"{"spec":{"suspend":false}}"#]);
    env.k(&["wait", "--for=condition=complete", "job/held", "--timeout=60s"]);
    let held = jobs.get("held").await.unwrap();
    let suspended = condition(&held, "Suspended").unwrap();
    assert_eq!((suspended.status.as_str(), suspended.reason.as_deref()), ("False", Some("JobResumed")));
    let events = events_about(&env, "Job", "held");
    assert!(events.contains("Suspended: Job suspended") && events.contains("Resumed: Job resumed"), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pods_are_counted_and_never_stuck() {
    let env = Env::start().await;
    // Its pods fit no node: they stay Pending, so a deleted one can only be counted as failed
    // (a running one would race the simulated kubelet, whose stopped containers exit 0).
    let manifest = job("long", "  backoffLimit: 5", "1h", 0).replace(
        "      restartPolicy: Never\n",
        "      restartPolicy: Never\n      nodeSelector:\n        nestor.dev/nowhere: \"true\"\n",
    );
    env.apply(&manifest);
    let jobs: Api<Job> = Api::namespaced(env.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    let first = eventually(WAIT, "a pending pod with the tracking finalizer", || async {
        let p = pods_of(&env, "long").await.into_iter().next()?;
        (phase(&p) == "Pending" && p.metadata.finalizers.iter().flatten().any(|f| f == TRACKING)).then_some(p)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    let first_name = first.metadata.name.clone().unwrap();

    // A deleted pod is counted as failed before it goes, and replaced.
    let deleted_at = k8s_openapi::jiff::Timestamp::now();
    pods.delete(&first_name, &DeleteParams::default()).await.unwrap();
    let replacement = eventually(WAIT, "the deleted pod counted and replaced", || async {
        let job = jobs.get("long").await.ok()?;
        let status = job.status?;
        let gone = pods.get_opt(&first_name).await.ok()?.is_none();
        let others = pods_of(&env, "long").await;
        let replaced = others.into_iter().find(|p| p.metadata.name.as_deref() != Some(first_name.as_str()));
        let counted = status.failed == Some(1) && status.succeeded.is_none();
        (counted && gone && status.active == Some(1)).then_some(replaced?)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
    // The replacement waited for the 10 s backoff, though the failed pod was gone by then.
    let created = replacement.metadata.creation_timestamp.unwrap().0;
    let waited = created.duration_since(deleted_at).as_secs_f64();
    assert!(waited >= 8.5, "replaced {waited}s after the deletion");

    // Deleting the Job (kubectl's background cascade) leaves no pod stuck in Terminating.
    env.k(&["delete", "job", "long"]);
    eventually(WAIT, "the job's pods gone", || async { pods_of(&env, "long").await.is_empty().then_some(()) })
        .await
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", env.controllers.log_tail()));
}
