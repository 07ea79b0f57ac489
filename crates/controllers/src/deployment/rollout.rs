//! The two strategies. RollingUpdate grows the new ReplicaSet while the total stays within
//! `replicas + maxSurge`, and shrinks the old ones while the available pods stay at least
//! `replicas - maxUnavailable`. Recreate scales every old ReplicaSet to zero, waits for their
//! pods to be gone, then scales the new one up.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, DeleteParams};

use super::replicasets::{self, by_creation, Sets};
use super::status::{self, available, spec_replicas, status_replicas};
use super::{fenceposts, sync_rollout_status, Error, State};
use crate::pods;

/// One RollingUpdate step (kube's `rolloutRolling`).
pub async fn rolling(st: &State, d: &mut Deployment, list: Vec<ReplicaSet>) -> Result<(), Error> {
    let mut sets = replicasets::get_all(st, d, list, true).await?;
    if reconcile_new(st, d, &mut sets).await? {
        return sync_rollout_status(st, d, &sets).await;
    }
    if reconcile_old(st, d, &mut sets).await? {
        return sync_rollout_status(st, d, &sets).await;
    }
    if status::complete(d, &d.status.clone().unwrap_or_default()) {
        cleanup(st, d, &sets.old).await?;
    }
    sync_rollout_status(st, d, &sets).await
}

/// Scales the new ReplicaSet towards `replicas` within the surge.
async fn reconcile_new(st: &State, d: &Deployment, sets: &mut Sets) -> Result<bool, Error> {
    let desired = fenceposts::replicas(d);
    let all: Vec<ReplicaSet> = sets.all().into_iter().cloned().collect();
    let Some(new) = sets.new.as_mut() else { return Ok(false) };
    let current = spec_replicas(new);
    if current == desired {
        return Ok(false);
    }
    if current > desired {
        return replicasets::scale(st, d, new, desired, None).await;
    }
    let all_refs: Vec<&ReplicaSet> = all.iter().collect();
    let to = replicasets::new_rs_replicas(d, &all_refs, new);
    replicasets::scale(st, d, new, to, None).await
}

/// How many old pods may go now: what exceeds `replicas - maxUnavailable`, less the new
/// ReplicaSet's unavailable pods (kube's `maxScaledDown`).
pub fn max_scaled_down(all_pods: i32, desired: i32, max_unavailable: i32, new_unavailable: i32) -> i32 {
    all_pods - (desired - max_unavailable) - new_unavailable
}

/// Scales old ReplicaSets down, unhealthy pods first (kube's `reconcileOldReplicaSets`).
async fn reconcile_old(st: &State, d: &Deployment, sets: &mut Sets) -> Result<bool, Error> {
    let old_pods: i32 = sets.old.iter().map(spec_replicas).sum();
    if old_pods == 0 {
        return Ok(false);
    }
    let all_pods: i32 = sets.all().into_iter().map(spec_replicas).sum();
    let new_unavailable = sets.new.as_ref().map_or(0, |n| spec_replicas(n) - available(n));
    let max_down = max_scaled_down(all_pods, fenceposts::replicas(d), fenceposts::max_unavailable(d), new_unavailable);
    if max_down <= 0 {
        return Ok(false);
    }
    sets.old.sort_by(by_creation);
    // Old pods that are not available cost nothing to remove: they go first.
    let mut cleaned = 0;
    for rs in sets.old.iter_mut() {
        if cleaned >= max_down {
            break;
        }
        let (want, avail) = (spec_replicas(rs), available(rs));
        if want == 0 || want == avail {
            continue;
        }
        let down = (max_down - cleaned).min(want - avail);
        replicasets::scale(st, d, rs, want - down, None).await?;
        cleaned += down;
    }
    let scaled = scale_down_old(st, d, sets).await?;
    Ok(cleaned + scaled > 0)
}

/// Scales old ReplicaSets down, oldest first, as far as availability allows.
async fn scale_down_old(st: &State, d: &Deployment, sets: &mut Sets) -> Result<i32, Error> {
    let min_available = fenceposts::replicas(d) - fenceposts::max_unavailable(d);
    let available_pods: i32 = sets.all().into_iter().map(available).sum();
    if available_pods <= min_available {
        return Ok(0);
    }
    let total = available_pods - min_available;
    let mut done = 0;
    sets.old.sort_by(by_creation);
    for rs in sets.old.iter_mut() {
        if done >= total {
            break;
        }
        let want = spec_replicas(rs);
        if want == 0 {
            continue;
        }
        let down = want.min(total - done);
        replicasets::scale(st, d, rs, want - down, None).await?;
        done += down;
    }
    Ok(done)
}

/// One Recreate step (kube's `rolloutRecreate`).
pub async fn recreate(st: &State, d: &mut Deployment, list: Vec<ReplicaSet>) -> Result<(), Error> {
    let mut sets = replicasets::get_all(st, d, list.clone(), false).await?;
    let mut scaled_down = false;
    for rs in sets.old.iter_mut().filter(|rs| spec_replicas(rs) > 0) {
        scaled_down |= replicasets::scale(st, d, rs, 0, None).await?;
    }
    if scaled_down || old_pods_running(st, &sets) {
        return sync_rollout_status(st, d, &sets).await;
    }
    if sets.new.is_none() {
        sets = replicasets::get_all(st, d, list, true).await?;
    }
    let desired = fenceposts::replicas(d);
    if let Some(new) = sets.new.as_mut() {
        replicasets::scale(st, d, new, desired, None).await?;
    }
    if status::complete(d, &d.status.clone().unwrap_or_default()) {
        cleanup(st, d, &sets.old).await?;
    }
    sync_rollout_status(st, d, &sets).await
}

/// Whether a pod of an old ReplicaSet may still run: Recreate promises they never overlap
/// with new ones.
fn old_pods_running(st: &State, sets: &Sets) -> bool {
    if sets.old.iter().map(status_replicas).sum::<i32>() > 0 {
        return true;
    }
    let old_uids: Vec<&String> = sets.old.iter().filter_map(|rs| rs.metadata.uid.as_ref()).collect();
    let ns = sets.old.first().and_then(|rs| rs.metadata.namespace.clone()).unwrap_or_default();
    st.pods
        .in_namespace(&ns)
        .iter()
        .any(|p| pods::controller_of(&p.metadata).is_some_and(|r| old_uids.contains(&&r.uid)) && !pods::is_terminal(p))
}

/// Deletes the oldest empty old ReplicaSets beyond `revisionHistoryLimit`.
pub async fn cleanup(st: &State, d: &Deployment, old: &[ReplicaSet]) -> Result<(), Error> {
    let Some(limit) = d.spec.as_ref().and_then(|s| s.revision_history_limit) else { return Ok(()) };
    let mut cleanable: Vec<&ReplicaSet> = old.iter().filter(|rs| rs.metadata.deletion_timestamp.is_none()).collect();
    let diff = i64::try_from(cleanable.len()).unwrap_or(0) - i64::from(limit);
    if diff <= 0 {
        return Ok(());
    }
    cleanable.sort_by(|a, b| {
        super::annotations::revision(a).cmp(&super::annotations::revision(b)).then_with(|| by_creation(a, b))
    });
    let api: Api<ReplicaSet> = Api::namespaced(st.client.clone(), d.metadata.namespace.as_deref().unwrap_or_default());
    for rs in cleanable.into_iter().take(usize::try_from(diff).unwrap_or(0)) {
        // Only a ReplicaSet with no pods, whose status is current, may go.
        let observed = rs.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
        if status_replicas(rs) != 0 || spec_replicas(rs) != 0 || rs.metadata.generation.unwrap_or(0) > observed {
            continue;
        }
        let name = rs.metadata.name.clone().unwrap_or_default();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(Error::DeleteReplicaSet(name, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_down_budget() {
        // 3 replicas, maxUnavailable 0, 4 pods (1 surge), the new one not yet available: none.
        assert_eq!(max_scaled_down(4, 3, 0, 1), 0);
        // Once the new pod is available, one old pod may go.
        assert_eq!(max_scaled_down(4, 3, 0, 0), 1);
        // maxUnavailable 1 with 10 replicas and no surge: one at a time.
        assert_eq!(max_scaled_down(10, 10, 1, 0), 1);
    }
}
