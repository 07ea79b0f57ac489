//! The syncer's own writes told apart from other changes. The watch event of a write brings
//! nothing new, so it queues nothing. That event may come before the write's answer does (both
//! leave the API server at once), and it would then look like someone else's change and sync the
//! object once more: an event about an object being synced waits until the sync ends, and only
//! one the sync's own writes do not explain queues the object again.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::tenant::Side;
use crate::Item;

type Key = (Side, Item);

/// One tenant's writes whose events are awaited, and events awaiting their writes.
#[derive(Default)]
pub struct Echoes(Mutex<State>);

#[derive(Default)]
struct State {
    /// Resource versions the syncer wrote whose watch events are still to come.
    expected: HashMap<Key, Vec<String>>,
    /// Resource versions of watch events that came while their object was being synced.
    early: HashMap<Key, Vec<String>>,
}

fn take(versions: &mut HashMap<Key, Vec<String>>, key: &Key, rv: &str) -> bool {
    let Some(list) = versions.get_mut(key) else { return false };
    let Some(at) = list.iter().position(|v| v == rv) else { return false };
    list.swap_remove(at);
    if list.is_empty() {
        versions.remove(key);
    }
    true
}

impl Echoes {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that the syncer wrote `item` on `side` at `rv`.
    pub fn expect(&self, side: Side, item: Item, rv: String) {
        let mut state = self.lock();
        let key = (side, item);
        if !take(&mut state.early, &key, &rv) {
            state.expected.entry(key).or_default().push(rv);
        }
    }

    /// Takes in a watch event of `item` on `side` at `rv` (`None`: a deletion); answers whether
    /// the item must be queued. `in_flight` tells whether the item is being synced; it is asked
    /// under the lock [`Self::settle`] holds while the sync ends. Any other event than an echo
    /// forgets the item's awaited echoes: they were overtaken, and the item is synced anyway.
    pub fn event(&self, side: Side, item: Item, rv: Option<&str>, in_flight: impl FnOnce() -> bool) -> bool {
        let mut state = self.lock();
        let key = (side, item);
        if rv.is_some_and(|rv| take(&mut state.expected, &key, rv)) {
            return false;
        }
        state.expected.remove(&key);
        match rv {
            Some(rv) if in_flight() => {
                state.early.entry(key).or_default().push(rv.to_string());
                false
            }
            _ => true,
        }
    }

    /// Ends the sync of `item`: runs `done` (which ends it in the queue) under the lock, and
    /// answers whether an event came meanwhile that the sync's writes do not explain; the item
    /// must then be synced again.
    pub fn settle(&self, item: &Item, done: impl FnOnce()) -> bool {
        let mut state = self.lock();
        let mut unexplained = false;
        for side in [Side::Tenant, Side::Super] {
            unexplained |= state.early.remove(&(side, item.clone())).is_some();
        }
        done();
        unexplained
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Item {
        Item::Object { resource: "pods".into(), namespace: "prod".into(), name: "web".into() }
    }

    #[test]
    fn an_echo_queues_nothing_whether_it_comes_before_or_after_the_answer() {
        let echoes = Echoes::default();
        // After the answer: recorded first, then recognised.
        echoes.expect(Side::Super, pod(), "5".into());
        assert!(!echoes.event(Side::Super, pod(), Some("5"), || true));
        assert!(!echoes.settle(&pod(), || {}));
        // Before the answer, while the pod is being synced: held, then explained by the write.
        assert!(!echoes.event(Side::Super, pod(), Some("6"), || true));
        echoes.expect(Side::Super, pod(), "6".into());
        let mut done = false;
        assert!(!echoes.settle(&pod(), || done = true), "nothing left unexplained");
        assert!(done);
        assert!(echoes.lock().expected.is_empty() && echoes.lock().early.is_empty(), "nothing kept");
    }

    #[test]
    fn other_changes_are_synced() {
        let echoes = Echoes::default();
        // Not being synced: queued at once.
        assert!(echoes.event(Side::Tenant, pod(), Some("7"), || false));
        // Being synced: someone else's change waits for the sync's end and then queues it again.
        assert!(!echoes.event(Side::Super, pod(), Some("8"), || true));
        echoes.expect(Side::Super, pod(), "9".into());
        assert!(echoes.settle(&pod(), || {}));
        // A deletion is never held.
        assert!(echoes.event(Side::Super, pod(), None, || true));
        // An awaited echo overtaken by another change is forgotten.
        echoes.expect(Side::Tenant, pod(), "10".into());
        assert!(echoes.event(Side::Tenant, pod(), Some("11"), || false));
        assert!(echoes.event(Side::Tenant, pod(), Some("10"), || false));
    }
}
