//! The back-off between deleting failed daemon pods on one node, as kube's `failedPodsBackoff`
//! (client-go's `flowcontrol.Backoff`, 1 s doubling to 15 min): a kubelet that keeps rejecting
//! a pod must not make the controller delete and recreate it in a hot loop.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The first delay.
const INITIAL: Duration = Duration::from_secs(1);
/// The longest delay; an entry not touched for twice this long starts over.
const MAX: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    delay: Duration,
    last_update: Instant,
}

/// Delays per key (`<ds uid>/<observedGeneration>/<node>` in kube).
#[derive(Debug, Default)]
pub struct Backoff {
    entries: HashMap<String, Entry>,
}

impl Backoff {
    fn expired(entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.last_update) > MAX * 2
    }

    /// The delay still to wait for `key` at `now`, if it is backing off
    /// (`IsInBackOffSinceUpdate`).
    pub fn waiting(&self, key: &str, now: Instant) -> Option<Duration> {
        let entry = self.entries.get(key)?;
        if Self::expired(entry, now) {
            return None;
        }
        let since = now.saturating_duration_since(entry.last_update);
        (since < entry.delay).then(|| entry.delay - since)
    }

    /// Records an attempt for `key` at `now`: the delay starts at 1 s and doubles (`Next`).
    pub fn next(&mut self, key: &str, now: Instant) {
        let delay = match self.entries.get(key) {
            Some(entry) if !Self::expired(entry, now) => (entry.delay * 2).min(MAX),
            _ => INITIAL,
        };
        self.entries.insert(key.to_string(), Entry { delay, last_update: now });
    }

    /// Drops entries unused for twice the longest delay (kube's periodic `GC`).
    pub fn gc(&mut self, now: Instant) {
        self.entries.retain(|_, e| !Self::expired(e, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_waits() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        assert_eq!(b.waiting("k", t0), None, "the first failure is handled at once");
        b.next("k", t0);
        assert_eq!(b.waiting("k", t0 + Duration::from_millis(400)), Some(Duration::from_millis(600)));
        assert_eq!(b.waiting("k", t0 + Duration::from_secs(1)), None);
        let t1 = t0 + Duration::from_secs(1);
        b.next("k", t1);
        assert_eq!(b.waiting("k", t1 + Duration::from_secs(1)), Some(Duration::from_secs(1)));
        assert_eq!(b.waiting("other", t1), None);
    }

    #[test]
    fn capped_and_forgotten() {
        let mut b = Backoff::default();
        let mut t = Instant::now();
        for _ in 0..20 {
            b.next("k", t);
            t += Duration::from_secs(1);
        }
        assert!(b.waiting("k", t).is_some_and(|d| d <= MAX));
        let much_later = t + MAX * 3;
        assert_eq!(b.waiting("k", much_later), None);
        b.next("k", much_later);
        assert_eq!(b.waiting("k", much_later), Some(INITIAL), "an expired entry starts over");
        b.gc(much_later + MAX * 3);
        assert!(b.entries.is_empty());
    }
}
