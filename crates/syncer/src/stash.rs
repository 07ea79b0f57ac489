//! The latest watched version of what waits in the queue, so a worker need not read it again.
//! Watch events put, workers take; an entry a worker never takes (the syncer's own write seen
//! again, an item whose tenant left) is pushed out by newer ones once the stash is full, so a
//! flood costs requests rather than memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::tenant::Side;
use crate::Item;

/// Entries kept at most; about 2,000 pods of a few KiB each.
pub const CAPACITY: usize = 2000;

/// Whose and which object: tenant key, the side it was seen on, the item.
type Key = (String, Side, Item);

/// A bounded map from queue items to the object last seen for them; the oldest put goes first
/// when it is full. Objects are kept as compact JSON: a pod decoded into JSON values takes
/// about five times the memory of its text, and decoding one again costs far less than the
/// read it saves.
pub struct Stash<V> {
    capacity: usize,
    inner: Mutex<Inner>,
    kept: std::marker::PhantomData<fn(V) -> V>,
}

struct Inner {
    next: u64,
    /// The sequence number of the first put after the last sweep.
    swept_at: u64,
    entries: HashMap<Key, (u64, Box<str>)>,
    /// Put order: sequence number -> key.
    order: BTreeMap<u64, Key>,
}

impl<V: Serialize + DeserializeOwned> Default for Stash<V> {
    fn default() -> Self {
        Stash::new(CAPACITY)
    }
}

impl<V: Serialize + DeserializeOwned> Stash<V> {
    pub fn new(capacity: usize) -> Self {
        Stash {
            capacity,
            inner: Mutex::new(Inner { next: 0, swept_at: 0, entries: HashMap::new(), order: BTreeMap::new() }),
            kept: std::marker::PhantomData,
        }
    }

    /// Keeps `value` as what was last seen of `item`, replacing an older one.
    pub fn put(&self, tenant: &str, side: Side, item: &Item, value: V) {
        self.insert(tenant, side, item, &value, true);
    }

    /// Hands back what a worker last read or wrote of `item`, unless a watch put something
    /// newer meanwhile: the next sync of the item then needs no read.
    pub fn put_back(&self, tenant: &str, side: Side, item: &Item, value: V) {
        self.insert(tenant, side, item, &value, false);
    }

    fn insert(&self, tenant: &str, side: Side, item: &Item, value: &V, replace: bool) {
        let key = (tenant.to_string(), side, item.clone());
        if !replace && self.lock().entries.contains_key(&key) {
            return;
        }
        // Encoded outside the lock; what cannot be encoded is not kept (a worker reads it).
        let Ok(text) = serde_json::to_string(value) else { return };
        let mut inner = self.lock();
        if !replace && inner.entries.contains_key(&key) {
            return;
        }
        let seq = inner.next;
        inner.next += 1;
        if let Some((old, _)) = inner.entries.insert(key.clone(), (seq, text.into_boxed_str())) {
            inner.order.remove(&old);
        }
        inner.order.insert(seq, key);
        while inner.entries.len() > self.capacity {
            let Some((_, oldest)) = inner.order.pop_first() else { break };
            inner.entries.remove(&oldest);
        }
    }

    /// What was last seen of `item`, if it is still kept; it is kept no longer.
    pub fn take(&self, tenant: &str, side: Side, item: &Item) -> Option<V> {
        let text = {
            let mut inner = self.lock();
            let (seq, text) = inner.entries.remove(&(tenant.to_string(), side, item.clone()))?;
            inner.order.remove(&seq);
            text
        };
        serde_json::from_str(&text).ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops what was put before the previous sweep unless its item `waits` in the queue. Such
    /// an entry is an own write seen again or a worker's last read, kept for the item's next
    /// sync, which comes within seconds when it comes at all; kept longer, entries only held
    /// memory (2,000 pods, about 16 MB, after a flood).
    pub fn sweep(&self, waits: impl Fn(&str, &Item) -> bool) {
        let mut inner = self.lock();
        let Inner { next, swept_at, entries, order } = &mut *inner;
        let newer = order.split_off(&*swept_at);
        for (seq, key) in std::mem::replace(order, newer) {
            if waits(&key.0, &key.2) {
                order.insert(seq, key);
            } else {
                entries.remove(&key);
            }
        }
        if entries.is_empty() {
            *entries = HashMap::new();
        }
        *swept_at = *next;
    }

    /// Drops everything kept for a tenant (it stopped).
    pub fn forget_tenant(&self, tenant: &str) {
        let mut inner = self.lock();
        let Inner { entries, order, .. } = &mut *inner;
        entries.retain(|(key, _, _), (seq, _)| {
            let keep = key != tenant;
            if !keep {
                order.remove(seq);
            }
            keep
        });
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Item {
        Item::Object { resource: "pods".into(), namespace: "ns".into(), name: name.into() }
    }

    #[test]
    fn take_answers_the_latest_put_once() {
        let stash = Stash::new(10);
        stash.put("a", Side::Tenant, &pod("p"), 1);
        stash.put("a", Side::Tenant, &pod("p"), 2);
        stash.put("a", Side::Super, &pod("p"), 3);
        stash.put("b", Side::Tenant, &pod("p"), 4);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p")), Some(2));
        assert_eq!(stash.take("a", Side::Tenant, &pod("p")), None);
        assert_eq!(stash.take("a", Side::Super, &pod("p")), Some(3));
        assert_eq!(stash.take("b", Side::Tenant, &pod("p")), Some(4));
        assert_eq!(stash.len(), 0);
    }

    #[test]
    fn a_put_back_never_hides_a_newer_put() {
        let stash = Stash::new(10);
        stash.put("a", Side::Tenant, &pod("p"), 2);
        stash.put_back("a", Side::Tenant, &pod("p"), 1);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p")), Some(2));
        stash.put_back("a", Side::Tenant, &pod("p"), 3);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p")), Some(3));
    }

    #[test]
    fn the_oldest_put_goes_when_full() {
        let stash = Stash::new(2);
        stash.put("a", Side::Tenant, &pod("p1"), 1);
        stash.put("a", Side::Tenant, &pod("p2"), 2);
        // Putting p1 again makes it the newest: p2 is now the oldest.
        stash.put("a", Side::Tenant, &pod("p1"), 11);
        stash.put("a", Side::Tenant, &pod("p3"), 3);
        assert_eq!(stash.len(), 2);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p2")), None);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p1")), Some(11));
        assert_eq!(stash.take("a", Side::Tenant, &pod("p3")), Some(3));
    }

    #[test]
    fn a_sweep_drops_what_was_put_before_the_previous_one() {
        let stash = Stash::new(10);
        let none = |_: &str, _: &Item| false;
        stash.put("a", Side::Tenant, &pod("p1"), 1);
        stash.sweep(none);
        assert_eq!(stash.len(), 1, "put since the previous sweep: kept");
        stash.put("a", Side::Tenant, &pod("p2"), 2);
        stash.sweep(none);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p1")), None);
        stash.put_back("a", Side::Tenant, &pod("p3"), 3);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p2")), Some(2));
        stash.sweep(none);
        assert_eq!(stash.take("a", Side::Tenant, &pod("p3")), Some(3));
        stash.put("a", Side::Tenant, &pod("p4"), 4);
        stash.put("b", Side::Tenant, &pod("p5"), 5);
        let b_waits = |tenant: &str, _: &Item| tenant == "b";
        stash.sweep(b_waits);
        stash.sweep(b_waits);
        assert_eq!(stash.len(), 1, "only what waits in the queue is left");
        assert_eq!(stash.take("b", Side::Tenant, &pod("p5")), Some(5));
    }

    #[test]
    fn a_stopped_tenant_leaves_nothing() {
        let stash = Stash::new(10);
        stash.put("a", Side::Tenant, &pod("p1"), 1);
        stash.put("b", Side::Tenant, &pod("p1"), 2);
        stash.forget_tenant("a");
        assert_eq!(stash.len(), 1);
        stash.put("b", Side::Tenant, &pod("p2"), 3);
        assert_eq!(stash.take("b", Side::Tenant, &pod("p1")), Some(2));
        assert_eq!(stash.take("a", Side::Tenant, &pod("p1")), None);
    }
}
