//! The etcd client: compare-and-swap writes, snapshot ranges and watches.

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, EventType, GetOptions, Txn, TxnOp, TxnOpResponse,
    WatchOptions,
};

/// Failures of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("failed to connect to etcd: {0}")]
    Connect(#[source] etcd_client::Error),
    #[error("etcd request failed: {0}")]
    Request(#[source] etcd_client::Error),
    #[error("required revision {requested} has been compacted (compacted up to {compacted})")]
    Compacted { requested: i64, compacted: i64 },
    #[error("stored value under {0} is not valid UTF-8 JSON")]
    Corrupt(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// One key and its value at a revision.
#[derive(Debug, Clone)]
pub struct Kv {
    pub key: String,
    pub value: Vec<u8>,
    pub mod_revision: i64,
    pub create_revision: i64,
}

impl Kv {
    fn from_etcd(kv: &etcd_client::KeyValue) -> Result<Self> {
        let key = kv.key_str().map_err(|_| StorageError::Corrupt(String::from_utf8_lossy(kv.key()).into()))?;
        Ok(Kv {
            key: key.to_string(),
            value: kv.value().to_vec(),
            mod_revision: kv.mod_revision(),
            create_revision: kv.create_revision(),
        })
    }
}

/// One page of a range read.
#[derive(Debug)]
pub struct ListPage {
    pub kvs: Vec<Kv>,
    /// The revision the page was read at.
    pub revision: i64,
    /// Whether keys remain after the last one returned.
    pub more: bool,
    /// Keys in the range from the start key, including those returned.
    pub count: i64,
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

/// One change seen by a watch.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// The key's new state (for Delete: key and the deletion revision, empty value).
    pub kv: Kv,
    /// The key's state before the change, when etcd still had it.
    pub prev: Option<Kv>,
}

/// The largest gRPC message read from etcd (kube-apiserver's MaxCallRecvMsgSize).
const MAX_MESSAGE: usize = i32::MAX as usize;

/// A handle on the etcd cluster; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    client: Client,
}

/// The end of a prefix range: the prefix with its last byte incremented.
fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// The key through which API servers sharing an etcd take turns compacting it; kube-apiserver's,
/// outside every `--etcd-prefix`.
const COMPACT_REV_KEY: &str = "compact_rev_key";

/// What a compaction round found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionRound {
    /// Rounds taken so far, by any server.
    pub rounds: i64,
    /// The revision to compact to next round.
    pub revision: i64,
    /// Whether this server compacted in this round.
    pub compacted: bool,
}

fn compacted_from(err: &etcd_client::Error) -> bool {
    err.to_string().contains("required revision has been compacted")
}

impl Storage {
    /// Connects to etcd; fails fast when no endpoint answers.
    /// The KV client, taking answers of any size: a list of many large objects goes past
    /// gRPC's default 4 MiB (kube-apiserver lifts the limit the same way).
    fn kv(&self) -> etcd_client::KvClient {
        self.client.kv_client().max_decoding_message_size(MAX_MESSAGE)
    }

    pub async fn connect(endpoints: &[String]) -> Result<Self> {
        let opts = ConnectOptions::new()
            .with_connect_timeout(std::time::Duration::from_secs(5))
            .with_keep_alive(std::time::Duration::from_secs(30), std::time::Duration::from_secs(10));
        let client = Client::connect(endpoints, Some(opts)).await.map_err(StorageError::Connect)?;
        Ok(Storage { client })
    }

    /// The newest revision of the store.
    pub async fn current_revision(&self) -> Result<i64> {
        let resp = self
            .client
            .kv_client()
            .get("/", Some(GetOptions::new().with_count_only().with_serializable()))
            .await
            .map_err(StorageError::Request)?;
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// Checks that etcd answers a linearizable read, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        self.client
            .kv_client()
            .get("health", Some(GetOptions::new().with_count_only()))
            .await
            .map_err(StorageError::Request)?;
        Ok(())
    }

    /// Reads one key.
    pub async fn get(&self, key: &str) -> Result<Option<Kv>> {
        let resp = self.kv().get(key, None).await.map_err(StorageError::Request)?;
        resp.kvs().first().map(Kv::from_etcd).transpose()
    }

    /// Creates a key that must not exist. `Ok(Err(()))` when it exists; else the new revision.
    pub async fn create(&self, key: &str, value: Vec<u8>) -> Result<Result<i64, ()>> {
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)]);
        let resp = self.kv().txn(txn).await.map_err(StorageError::Request)?;
        let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        Ok(if resp.succeeded() { Ok(revision) } else { Err(()) })
    }

    /// Replaces a key if its mod revision is still `expected`. On a mismatch, answers the
    /// current state (None when the key is gone).
    pub async fn update(&self, key: &str, value: Vec<u8>, expected: i64) -> Result<Result<i64, Option<Kv>>> {
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        self.compare_and(txn).await
    }

    /// Deletes a key if its mod revision is still `expected`; same answer as `update`.
    pub async fn delete(&self, key: &str, expected: i64) -> Result<Result<i64, Option<Kv>>> {
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::delete(key, None)])
            .or_else([TxnOp::get(key, None)]);
        self.compare_and(txn).await
    }

    async fn compare_and(&self, txn: Txn) -> Result<Result<i64, Option<Kv>>> {
        let resp = self.kv().txn(txn).await.map_err(StorageError::Request)?;
        if resp.succeeded() {
            return Ok(Ok(resp.header().map(|h| h.revision()).unwrap_or(0)));
        }
        for op in resp.op_responses() {
            if let TxnOpResponse::Get(get) = op {
                return Ok(Err(get.kvs().first().map(Kv::from_etcd).transpose()?));
            }
        }
        Ok(Err(None))
    }

    /// Puts a key unconditionally (for bookkeeping keys such as IP allocations).
    pub async fn put(&self, key: &str, value: Vec<u8>) -> Result<i64> {
        let resp = self.kv().put(key, value, None).await.map_err(StorageError::Request)?;
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// Deletes a key unconditionally.
    pub async fn delete_key(&self, key: &str) -> Result<()> {
        self.kv().delete(key, None).await.map_err(StorageError::Request)?;
        Ok(())
    }

    /// Deletes every key under a prefix.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        self.client
            .kv_client()
            .delete(prefix, Some(DeleteOptions::new().with_prefix()))
            .await
            .map_err(StorageError::Request)?;
        Ok(())
    }

    /// Reads keys of `prefix` from `start` (inclusive) at `revision` (0: newest), at most `limit`
    /// (0: all). A compacted revision is `StorageError::Compacted`.
    pub async fn list(&self, prefix: &str, start: &str, revision: i64, limit: i64) -> Result<ListPage> {
        let from = if start.is_empty() { prefix } else { start };
        let opts = GetOptions::new().with_range(prefix_end(prefix)).with_revision(revision).with_limit(limit);
        let resp = match self.kv().get(from, Some(opts)).await {
            Ok(resp) => resp,
            Err(err) if compacted_from(&err) => {
                return Err(StorageError::Compacted { requested: revision, compacted: 0 });
            }
            Err(err) => return Err(StorageError::Request(err)),
        };
        let kvs = resp.kvs().iter().map(Kv::from_etcd).collect::<Result<Vec<_>>>()?;
        Ok(ListPage {
            kvs,
            revision: resp.header().map(|h| h.revision()).unwrap_or(revision),
            more: resp.more(),
            count: resp.count(),
        })
    }

    /// Watches every key under `prefix` from `revision` (inclusive). With `previous`, each
    /// event carries the key's prior value (etcd reads it for every event, so only watchers
    /// that need it ask).
    pub async fn watch(&self, prefix: &str, revision: i64, previous: bool) -> Result<WatchStream> {
        let mut opts = WatchOptions::new().with_prefix().with_start_revision(revision).with_progress_notify();
        if previous {
            opts = opts.with_prev_key();
        }
        let stream = self
            .client
            .watch_client()
            .max_decoding_message_size(MAX_MESSAGE)
            .watch(prefix, Some(opts))
            .await
            .map_err(StorageError::Request)?;
        Ok(WatchStream { inner: stream, requested: revision, progress: revision.saturating_sub(1) })
    }

    /// Compacts history up to `revision` (tests and maintenance).
    pub async fn compact(&self, revision: i64) -> Result<()> {
        self.client
            .kv_client()
            .compact(revision, Some(etcd_client::CompactionOptions::new().with_physical()))
            .await
            .map_err(StorageError::Request)?;
        Ok(())
    }

    /// One compaction round (see `compactor`): when [`COMPACT_REV_KEY`] shows `rounds`
    /// rounds, this server takes the round, records `revision` there and compacts to it (0: the
    /// first round compacts nothing). Answers the rounds seen now and the revision to compact to
    /// next round: the current one.
    pub async fn compaction_round(&self, rounds: i64, revision: i64) -> Result<CompactionRound> {
        let txn = Txn::new()
            .when([Compare::version(COMPACT_REV_KEY, CompareOp::Equal, rounds)])
            .and_then([TxnOp::put(COMPACT_REV_KEY, revision.to_string(), None)])
            .or_else([TxnOp::get(COMPACT_REV_KEY, None)]);
        let resp = self.kv().txn(txn).await.map_err(StorageError::Request)?;
        let current = resp.header().map(|h| h.revision()).unwrap_or(0);
        if !resp.succeeded() {
            let seen = resp.op_responses().into_iter().find_map(|op| match op {
                TxnOpResponse::Get(get) => get.kvs().first().map(|kv| kv.version()),
                _ => None,
            });
            return Ok(CompactionRound { rounds: seen.unwrap_or(0), revision: current, compacted: false });
        }
        let compacted = revision > 0;
        if compacted {
            match self.compact(revision).await {
                // Another server sharing the etcd compacted further already.
                Err(StorageError::Request(e)) if compacted_from(&e) => {}
                other => other?,
            }
        }
        Ok(CompactionRound { rounds: rounds + 1, revision: current, compacted })
    }
}

/// Events of one watch, in revision order.
pub struct WatchStream {
    inner: etcd_client::WatchStream,
    requested: i64,
    progress: i64,
}

impl WatchStream {
    /// The next batch of events; `Ok(None)` when etcd closed the watch. An empty batch is a
    /// progress notification: `progress()` then says up to which revision nothing happened.
    pub async fn next(&mut self) -> Result<Option<Vec<Event>>> {
        loop {
            let Some(resp) = self.inner.message().await.map_err(StorageError::Request)? else {
                return Ok(None);
            };
            if resp.compact_revision() > 0 {
                return Err(StorageError::Compacted { requested: self.requested, compacted: resp.compact_revision() });
            }
            if resp.canceled() {
                return Ok(None);
            }
            if let Some(h) = resp.header() {
                self.progress = self.progress.max(h.revision());
            }
            if resp.created() && resp.events().is_empty() {
                continue;
            }
            let mut events = Vec::with_capacity(resp.events().len());
            for ev in resp.events() {
                let Some(kv) = ev.kv() else { continue };
                events.push(Event {
                    kind: if ev.event_type() == EventType::Delete { EventKind::Delete } else { EventKind::Put },
                    kv: Kv::from_etcd(kv)?,
                    prev: ev.prev_kv().map(Kv::from_etcd).transpose()?,
                });
            }
            return Ok(Some(events));
        }
    }

    /// The newest revision this watch is known to have seen everything up to.
    pub fn progress(&self) -> i64 {
        self.progress
    }

    /// Asks etcd for a progress notification (used for bookmarks).
    pub async fn request_progress(&mut self) -> Result<()> {
        self.inner.request_progress().await.map_err(StorageError::Request)
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end("/registry/pods/"), b"/registry/pods0".to_vec());
        assert_eq!(prefix_end("a\u{7f}"), b"a\x80".to_vec());
    }
}
