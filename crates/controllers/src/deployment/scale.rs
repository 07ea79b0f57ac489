//! Scaling a Deployment while it rolls out or is paused: every ReplicaSet grows or shrinks in
//! proportion to its size (kube's proportional scaling), so a rollout in progress keeps its
//! shape.

use std::cmp::Ordering;
use std::collections::HashMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::replicasets::{self, by_creation, Sets};
use super::status::{available, spec_replicas};
use super::{annotations, fenceposts, Error, State};

/// The only active ReplicaSet, or the newest when none is active; none when several are.
fn active_or_latest(sets: &Sets) -> Option<Which> {
    let mut old: Vec<usize> = (0..sets.old.len()).collect();
    old.sort_by(|a, b| by_creation(&sets.old[*b], &sets.old[*a]));
    let mut active: Vec<Which> =
        old.iter().filter(|i| spec_replicas(&sets.old[**i]) > 0).map(|i| Which::Old(*i)).collect();
    if sets.new.as_ref().is_some_and(|n| spec_replicas(n) > 0) {
        active.push(Which::New);
    }
    match active.len() {
        0 if sets.new.is_some() => Some(Which::New),
        0 => old.first().map(|i| Which::Old(*i)),
        1 => active.pop(),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    New,
    Old(usize),
}

fn pick(sets: &mut Sets, w: Which) -> Option<&mut ReplicaSet> {
    match w {
        Which::New => sets.new.as_mut(),
        Which::Old(i) => sets.old.get_mut(i),
    }
}

/// Whether the new ReplicaSet has every replica, all available.
fn saturated(d: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let want = fenceposts::replicas(d);
    rs.is_some_and(|rs| {
        annotations::int(rs, annotations::DESIRED_REPLICAS) == Some(want)
            && spec_replicas(rs) == want
            && available(rs) == want
    })
}

/// Whether an active ReplicaSet was sized for another `spec.replicas`.
pub fn is_scaling_event(d: &Deployment, sets: &Sets) -> bool {
    let want = fenceposts::replicas(d);
    sets.all()
        .into_iter()
        .filter(|rs| spec_replicas(rs) > 0)
        .any(|rs| annotations::int(rs, annotations::DESIRED_REPLICAS).is_some_and(|desired| desired != want))
}

/// What a ReplicaSet's share of `to_add` is (kube's `GetProportion`).
pub fn proportion(
    rs_replicas: i32,
    annotated_max: Option<i32>,
    d_replicas: i32,
    d_status_replicas: i32,
    max_surge: i32,
    to_add: i32,
    added: i32,
) -> i32 {
    if rs_replicas == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = if d_replicas == 0 {
        -rs_replicas
    } else {
        let allowed_total = f64::from(d_replicas + max_surge);
        let annotated = f64::from(annotated_max.unwrap_or(d_status_replicas));
        let size = f64::from(rs_replicas) * allowed_total / annotated;
        // Go's math.Round: halves away from zero.
        size.round() as i32 - rs_replicas
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// kube's `scale`.
pub async fn scale(st: &State, d: &Deployment, sets: &mut Sets) -> Result<(), Error> {
    let want = fenceposts::replicas(d);
    if let Some(w) = active_or_latest(sets) {
        if let Some(rs) = pick(sets, w) {
            if spec_replicas(rs) != want {
                replicasets::scale(st, d, rs, want, None).await?;
            }
        }
        return Ok(());
    }
    if saturated(d, sets.new.as_ref()) {
        for rs in sets.old.iter_mut().filter(|rs| spec_replicas(rs) > 0) {
            replicasets::scale(st, d, rs, 0, None).await?;
        }
        return Ok(());
    }
    if !fenceposts::is_rolling(d) {
        return Ok(());
    }
    let surge = fenceposts::max_surge(d);
    let mut active: Vec<Which> =
        (0..sets.old.len()).filter(|i| spec_replicas(&sets.old[*i]) > 0).map(Which::Old).collect();
    if sets.new.as_ref().is_some_and(|n| spec_replicas(n) > 0) {
        active.push(Which::New);
    }
    let get = |sets: &Sets, w: Which| -> ReplicaSet {
        match w {
            Which::New => sets.new.clone().unwrap_or_default(),
            Which::Old(i) => sets.old[i].clone(),
        }
    };
    let total: i32 = active.iter().map(|w| spec_replicas(&get(sets, *w))).sum();
    let allowed = if want > 0 { want + surge } else { 0 };
    let to_add = allowed - total;
    let operation = match to_add.cmp(&0) {
        Ordering::Greater => {
            // Largest first, newer first among equals.
            active.sort_by(|a, b| {
                let (ra, rb) = (get(sets, *a), get(sets, *b));
                spec_replicas(&rb).cmp(&spec_replicas(&ra)).then_with(|| by_creation(&rb, &ra))
            });
            Some("up")
        }
        Ordering::Less => {
            // Largest first, older first among equals.
            active.sort_by(|a, b| {
                let (ra, rb) = (get(sets, *a), get(sets, *b));
                spec_replicas(&rb).cmp(&spec_replicas(&ra)).then_with(|| by_creation(&ra, &rb))
            });
            Some("down")
        }
        Ordering::Equal => None,
    };
    let d_status_replicas = d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let mut sizes: HashMap<Which, i32> = HashMap::new();
    let mut added = 0;
    for w in &active {
        let rs = get(sets, *w);
        let share = proportion(
            spec_replicas(&rs),
            annotations::int(&rs, annotations::MAX_REPLICAS),
            want,
            d_status_replicas,
            surge,
            to_add,
            added,
        );
        sizes.insert(*w, spec_replicas(&rs) + share);
        added += share;
    }
    for (i, w) in active.iter().enumerate() {
        let mut size = sizes.get(w).copied().unwrap_or(0);
        // Leftovers of rounding go to the largest.
        if i == 0 && to_add != 0 {
            size = (size + to_add - added).max(0);
        }
        if let Some(rs) = pick(sets, *w) {
            replicasets::scale(st, d, rs, size, operation).await?;
        }
    }
    Ok(())
}

impl std::hash::Hash for Which {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Which::New => usize::MAX.hash(state),
            Which::Old(i) => i.hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportions() {
        // 10 replicas (surge 3) split 6 old + 7 new, scaled to 20 (surge 5): +12 to spread.
        // The old set had max-replicas 13: 6 * 25 / 13 = 11.5 -> 12, so +6 (capped by allowed).
        assert_eq!(proportion(6, Some(13), 20, 13, 5, 12, 0), 6);
        assert_eq!(proportion(7, Some(13), 20, 13, 5, 12, 6), 6);
        // Scaling to zero removes everything.
        assert_eq!(proportion(4, Some(5), 0, 5, 0, -4, 0), -4);
        assert_eq!(proportion(0, Some(5), 3, 5, 1, 2, 0), 0);
    }
}
