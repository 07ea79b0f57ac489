//! Storage of objects in etcd, laid out as kube-apiserver lays them out:
//! `<prefix>/<resource>/<namespace>/<name>`, values JSON. The resourceVersion of an object is
//! the etcd mod revision of its key.

pub mod compactor;
mod etcd;

pub use etcd::{CompactionRound, Event, EventKind, Kv, ListPage, Storage, StorageError, WatchStream};
