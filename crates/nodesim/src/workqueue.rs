//! A keyed work queue in the manner of client-go's: a key waiting twice is queued once, a key
//! being worked on is not handed to a second worker, and a key added meanwhile comes back
//! once the first worker is done. Delayed adds wake a key at a set time.
//!
//! Keys wait in lanes (one per node for the kubelet stand-in) served round-robin: on a real
//! cluster each node's kubelet works on its own pods, so a pod on one node never waits behind
//! a thousand pods bound to other nodes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

struct Inner<K> {
    /// Waiting keys by lane.
    lanes: HashMap<String, VecDeque<K>>,
    /// The lanes that have waiting keys, in the order they are served.
    turns: VecDeque<String>,
    /// The lane of each key added with [`WorkQueue::add_in`]; others go in the lane "".
    lane_of: HashMap<K, String>,
    dirty: HashSet<K>,
    processing: HashSet<K>,
    /// The earliest pending delayed add of each key, so repeated delays spawn one timer.
    timers: HashMap<K, Instant>,
}

/// A deduplicating queue of keys shared by a few workers.
pub struct WorkQueue<K> {
    inner: Mutex<Inner<K>>,
    notify: Notify,
}

impl<K: Clone + Eq + Hash> Inner<K> {
    fn push(&mut self, key: K) {
        let lane = self.lane_of.get(&key).cloned().unwrap_or_default();
        let keys = self.lanes.entry(lane.clone()).or_default();
        if keys.is_empty() {
            self.turns.push_back(lane);
        }
        keys.push_back(key);
    }

    /// The next key of the lane whose turn it is; the lane goes to the back of the line.
    fn pop(&mut self) -> Option<K> {
        let lane = self.turns.pop_front()?;
        let keys = self.lanes.get_mut(&lane)?;
        let key = keys.pop_front();
        if keys.is_empty() {
            self.lanes.remove(&lane);
        } else {
            self.turns.push_back(lane);
        }
        key
    }
}

impl<K: Clone + Eq + Hash + Send + 'static> WorkQueue<K> {
    /// An empty queue.
    pub fn new() -> Arc<Self> {
        Arc::new(WorkQueue {
            inner: Mutex::new(Inner {
                lanes: HashMap::new(),
                turns: VecDeque::new(),
                lane_of: HashMap::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                timers: HashMap::new(),
            }),
            notify: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner<K>> {
        // A worker that panicked while holding the lock left consistent sets behind: every
        // update here is a single insert or remove.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `key` unless it already waits, in its lane.
    pub fn add(&self, key: K) {
        let mut inner = self.lock();
        if !inner.dirty.insert(key.clone()) {
            return;
        }
        if inner.processing.contains(&key) {
            return;
        }
        inner.push(key);
        drop(inner);
        self.notify.notify_one();
    }

    /// Queues `key` in `lane` (kept for its later adds) unless it already waits.
    pub fn add_in(&self, lane: &str, key: K) {
        {
            let mut inner = self.lock();
            if inner.lane_of.get(&key).map(String::as_str) != Some(lane) {
                inner.lane_of.insert(key.clone(), lane.to_string());
            }
        }
        self.add(key);
    }

    /// Forgets the lane of `key` (its object is gone).
    pub fn forget(&self, key: &K) {
        self.lock().lane_of.remove(key);
    }

    /// Queues `key` after `delay`; a sooner delayed add of the same key makes this one moot.
    pub fn add_after(self: &Arc<Self>, key: K, delay: Duration) {
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let at = Instant::now() + delay;
        {
            let mut inner = self.lock();
            match inner.timers.get(&key) {
                Some(t) if *t <= at => return,
                _ => {
                    inner.timers.insert(key.clone(), at);
                }
            }
        }
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            {
                let mut inner = queue.lock();
                if inner.timers.get(&key) == Some(&at) {
                    inner.timers.remove(&key);
                }
            }
            queue.add(key);
        });
    }

    /// Waits for the next key; the caller must call [`Self::done`] with it afterwards.
    pub async fn get(&self) -> K {
        loop {
            {
                let mut inner = self.lock();
                if let Some(key) = inner.pop() {
                    inner.dirty.remove(&key);
                    inner.processing.insert(key.clone());
                    if !inner.turns.is_empty() {
                        // Let another idle worker pick up the rest.
                        self.notify.notify_one();
                    }
                    return key;
                }
            }
            self.notify.notified().await;
        }
    }

    /// Marks `key` done; if it was added meanwhile it is queued again.
    pub fn done(&self, key: &K) {
        let mut inner = self.lock();
        inner.processing.remove(key);
        if inner.dirty.contains(key) {
            inner.push(key.clone());
            drop(inner);
            self.notify.notify_one();
        }
    }

    /// How many keys wait.
    pub fn len(&self) -> usize {
        self.lock().lanes.values().map(VecDeque::len).sum()
    }

    /// Whether no key waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deduplicates_and_requeues_keys_added_while_processing() {
        let q = WorkQueue::new();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        let a = q.get().await;
        assert_eq!(a, "a");
        q.add("a"); // while processing: not handed out twice
        assert_eq!(q.get().await, "b");
        assert!(q.is_empty());
        q.done(&a);
        assert_eq!(q.get().await, "a");
    }

    #[tokio::test]
    async fn lanes_take_turns() {
        let q = WorkQueue::new();
        for i in 0..3 {
            q.add_in("busy", format!("b{i}"));
        }
        q.add_in("quiet", "q0".to_string());
        assert_eq!(q.len(), 4);
        let first = q.get().await;
        let second = q.get().await;
        assert_eq!((first.as_str(), second.as_str()), ("b0", "q0"), "the quiet lane's key does not wait behind b1, b2");
        q.done(&first);
        q.done(&second);
        q.add("q0".to_string()); // remembered lane: it waits behind the busy lane's next key only
        assert_eq!(q.get().await, "b1");
        assert_eq!(q.get().await, "q0");
        assert_eq!(q.get().await, "b2");
    }

    #[tokio::test]
    async fn delayed_adds_arrive_later() {
        let q = WorkQueue::new();
        q.add_after("x", Duration::from_millis(50));
        q.add_after("x", Duration::from_secs(600));
        assert!(q.is_empty());
        let got = tokio::time::timeout(Duration::from_secs(30), q.get()).await;
        assert_eq!(got.ok(), Some("x"));
    }
}
