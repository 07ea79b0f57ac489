//! Leader election on a `coordination.k8s.io/v1` Lease in the super cluster, as client-go's
//! leaderelection does it: two replicas may run, one works. Expiry is judged by when this
//! process last saw the record change, not by the holder's clock.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tracing::{debug, info};

/// One candidate for a Lease.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

/// What this process last saw of the Lease: (holder, renew time) and when it saw it change.
type Observed = Option<((Option<String>, Option<MicroTime>), Instant)>;

impl Elector {
    /// A candidate `identity` for Lease `namespace`/`name`, held for `duration` per renewal.
    pub fn new(client: kube::Client, namespace: &str, name: &str, identity: &str, duration: Duration) -> Elector {
        Elector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            duration,
        }
    }

    fn retry_period(&self) -> Duration {
        self.duration / 5
    }

    /// Waits until this process holds the Lease.
    pub async fn acquire(&self) -> Result<()> {
        let mut observed: Observed = None;
        let mut said_waiting = false;
        loop {
            match self.try_acquire(&mut observed).await {
                Ok(true) => return Ok(()),
                Ok(false) if !said_waiting => {
                    info!(lease = %self.name, "another replica leads; standing by");
                    said_waiting = true;
                }
                Ok(false) => {}
                Err(e) => debug!(error = %e, "leader election attempt failed"),
            }
            tokio::time::sleep(self.retry_period()).await;
        }
    }

    /// Waits to lead unless `stop` resolves first (pass `&mut` a pinned future to use it again
    /// afterwards): answers whether this process leads now.
    pub async fn acquire_unless(&self, stop: impl std::future::Future<Output = ()>) -> Result<bool> {
        tokio::select! {
            () = stop => Ok(false),
            acquired = self.acquire() => acquired.map(|()| true),
        }
    }

    /// Renews the Lease until it cannot be renewed within two thirds of its duration; then
    /// answers an error: the caller must stop working, another replica may take over.
    pub async fn keep(&self) -> Result<()> {
        let mut last_renewal = Instant::now();
        let mut observed: Observed = None;
        loop {
            tokio::time::sleep(self.retry_period()).await;
            match self.try_acquire(&mut observed).await {
                Ok(true) => last_renewal = Instant::now(),
                Ok(false) => bail!("leader election lost: another replica holds the Lease"),
                Err(e) => debug!(error = %e, "renewing the Lease failed"),
            }
            if last_renewal.elapsed() > self.duration * 2 / 3 {
                bail!("leader election lost: the Lease could not be renewed in time");
            }
        }
    }

    /// Gives the Lease up if this process holds it, as client-go does on a clean stop, so a
    /// standby (or the next start) takes over at once instead of after the lease duration.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.name).await else { return };
        let Some(spec) = lease.spec.as_mut() else { return };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
        match self.api.replace(&self.name, &PostParams::default(), &lease).await {
            Ok(_) => info!(lease = %self.name, "released the Lease"),
            Err(e) => debug!(error = %e, "releasing the Lease failed"),
        }
    }

    async fn try_acquire(&self, observed: &mut Observed) -> Result<bool> {
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let seconds = i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(self.name.clone()), ..Default::default() },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return Ok(self.write(self.api.create(&PostParams::default(), &lease).await)?);
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        let record = (spec.holder_identity.clone(), spec.renew_time.clone());
        let held_by_me = spec.holder_identity.as_deref() == Some(self.identity.as_str());
        if observed.as_ref().map(|(r, _)| r) != Some(&record) {
            *observed = Some((record, Instant::now()));
        }
        let expired = observed.as_ref().is_some_and(|(_, seen)| {
            let duration = spec.lease_duration_seconds.map_or(self.duration, |s| Duration::from_secs(s.max(0) as u64));
            seen.elapsed() > duration
        });
        let vacant = spec.holder_identity.as_deref().is_none_or(str::is_empty);
        if !held_by_me && !expired && !vacant {
            return Ok(false);
        }
        if !held_by_me {
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            spec.acquire_time = Some(now.clone());
            spec.holder_identity = Some(self.identity.clone());
        }
        spec.lease_duration_seconds = Some(seconds);
        spec.renew_time = Some(now);
        Ok(self.write(self.api.replace(&self.name, &PostParams::default(), &lease).await)?)
    }

    /// A write that lost a race (409) means someone else got there first.
    fn write(&self, result: kube::Result<Lease>) -> kube::Result<bool> {
        match result {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }
}
