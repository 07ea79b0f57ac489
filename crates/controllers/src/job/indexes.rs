//! Completion indexes of Indexed Jobs: the `batch.kubernetes.io/job-completion-index`
//! annotation, and sets of indexes as kube's ordered intervals, written as `1,3-5,7`
//! (`status.completedIndexes`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;

use crate::replicaset::ranking;

/// The annotation (and, since PodIndexLabel, the label) carrying a pod's index.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// The index of a pod, if it carries a valid one.
pub fn completion_index(annotations: Option<&BTreeMap<String, String>>) -> Option<i32> {
    let i: i32 = annotations?.get(COMPLETION_INDEX)?.parse().ok()?;
    (i >= 0).then_some(i)
}

/// The index of `pod`, if valid and below `completions`.
pub fn valid_index(pod: &Pod, completions: i32) -> Option<i32> {
    completion_index(pod.metadata.annotations.as_ref()).filter(|i| *i < completions)
}

/// A closed range of indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub first: i32,
    pub last: i32,
}

/// Disjoint, ordered, non-adjacent intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intervals(pub Vec<Interval>);

impl Intervals {
    /// Reads `status.completedIndexes`, dropping what is at or above `completions` and
    /// skipping malformed parts, as kube's `parseIndexesFromString` does.
    pub fn parse(text: &str, completions: i32) -> Intervals {
        let mut out: Vec<Interval> = Vec::new();
        if text.is_empty() {
            return Intervals(out);
        }
        for part in text.split(',') {
            let mut limits = part.split('-');
            let Some(Ok(first)) = limits.next().map(str::parse::<i32>) else { continue };
            if first >= completions {
                break;
            }
            let last = match limits.next() {
                Some(l) => match l.parse::<i32>() {
                    Ok(l) => l.min(completions - 1),
                    Err(_) => continue,
                },
                None => first,
            };
            match out.last_mut() {
                Some(prev) if prev.last == first - 1 => prev.last = last,
                _ => out.push(Interval { first, last }),
            }
        }
        Intervals(out)
    }

    /// These intervals with `new` (ascending) added.
    pub fn with_ordered(&self, new: &[i32]) -> Intervals {
        let mut out: Vec<Interval> = Vec::new();
        let mut push = |iv: Interval| match out.last_mut() {
            Some(last) if iv.first <= last.last + 1 => last.last = last.last.max(iv.last),
            _ => out.push(iv),
        };
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < new.len() {
            if self.0[i].first < new[j] {
                push(self.0[i]);
                i += 1;
            } else {
                push(Interval { first: new[j], last: new[j] });
                j += 1;
            }
        }
        self.0[i..].iter().for_each(|iv| push(*iv));
        new[j..].iter().for_each(|n| push(Interval { first: *n, last: *n }));
        Intervals(out)
    }

    /// How many indexes.
    pub fn total(&self) -> i32 {
        self.0.iter().map(|iv| iv.last - iv.first + 1).sum()
    }

    /// Whether `ix` is in.
    pub fn has(&self, ix: i32) -> bool {
        self.0.iter().any(|iv| iv.first <= ix && ix <= iv.last)
    }
}

/// kube's format: a pair of adjacent indexes is written `3,4`, a longer run `3-5`.
impl fmt::Display for Intervals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, iv) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", iv.first)?;
            if iv.last == iv.first + 1 {
                write!(f, ",{}", iv.last)?;
            } else if iv.last > iv.first {
                write!(f, "-{}", iv.last)?;
            }
        }
        Ok(())
    }
}

/// kube's `firstPendingIndexes`: the first `count` indexes below `completions` that neither
/// succeeded nor have an active pod.
pub fn first_pending(active: &[Arc<Pod>], succeeded: &Intervals, count: usize, completions: i32) -> Vec<i32> {
    let running: BTreeSet<i32> =
        active.iter().filter_map(|p| completion_index(p.metadata.annotations.as_ref())).collect();
    let running: Vec<i32> = running.into_iter().collect();
    let taken = succeeded.with_ordered(&running);
    let mut out = Vec::with_capacity(count);
    let mut candidate = 0;
    for iv in &taken.0 {
        while candidate < completions && out.len() < count && candidate < iv.first {
            out.push(candidate);
            candidate += 1;
        }
        candidate = candidate.max(iv.last + 1);
    }
    while candidate < completions && out.len() < count {
        out.push(candidate);
        candidate += 1;
    }
    out
}

/// kube's `appendDuplicatedIndexPodsForRemoval`: among active pods, those without a valid
/// index and all but the best of each repeated index are to be removed. Answers
/// (to remove, to keep).
pub fn duplicates(pods: &[Arc<Pod>], completions: i32, now: DateTime<Utc>) -> (Vec<Arc<Pod>>, Vec<Arc<Pod>>) {
    let mut by_index: BTreeMap<i32, Vec<Arc<Pod>>> = BTreeMap::new();
    let mut remove = Vec::new();
    for pod in pods {
        match valid_index(pod, completions) {
            Some(ix) => by_index.entry(ix).or_default().push(Arc::clone(pod)),
            None => remove.push(Arc::clone(pod)),
        }
    }
    let mut keep = Vec::new();
    for (_, mut same) in by_index {
        // The pod kube would delete last (running, ready, older) stays.
        same.sort_by(|a, b| ranking::compare(a, 0, b, 0, now));
        if let Some(best) = same.pop() {
            keep.push(best);
        }
        remove.extend(same);
    }
    (remove, keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(index: Option<&str>) -> Arc<Pod> {
        let annotations = index.map(|i| [(COMPLETION_INDEX.to_string(), i.to_string())].into());
        Arc::new(Pod { metadata: ObjectMeta { annotations, ..Default::default() }, ..Default::default() })
    }

    #[test]
    fn formats_as_kube() {
        let iv = Intervals::default().with_ordered(&[0, 1, 2, 4, 6, 7, 9]);
        assert_eq!(iv.to_string(), "0-2,4,6,7,9");
        assert_eq!(iv.total(), 7);
        assert!(iv.has(6) && !iv.has(5) && !iv.has(10));
        assert_eq!(Intervals::default().to_string(), "");
    }

    #[test]
    fn parses_and_merges() {
        let iv = Intervals::parse("0-2,4,6,7,9", 8);
        assert_eq!(iv.to_string(), "0-2,4,6,7");
        assert_eq!(Intervals::parse("1,2,x,5-9", 7).to_string(), "1,2,5,6");
        let more = Intervals::parse("1,5-7", 10).with_ordered(&[0, 2, 3, 4, 9]);
        assert_eq!(more.to_string(), "0-7,9");
        assert_eq!(more.0.len(), 2);
    }

    #[test]
    fn pending_skips_succeeded_and_running() {
        let succeeded = Intervals::parse("0,3", 6);
        let active = vec![pod(Some("1")), pod(None)];
        assert_eq!(first_pending(&active, &succeeded, 2, 6), [2, 4]);
        assert_eq!(first_pending(&active, &succeeded, 10, 6), [2, 4, 5]);
        assert!(first_pending(&active, &succeeded, 0, 6).is_empty());
    }

    #[test]
    fn duplicates_and_invalid_are_removed() {
        let pods = vec![pod(Some("0")), pod(Some("0")), pod(Some("1")), pod(Some("7")), pod(Some("x"))];
        let (remove, keep) = duplicates(&pods, 5, Utc::now());
        assert_eq!(remove.len(), 3);
        assert_eq!(keep.len(), 2);
    }
}
