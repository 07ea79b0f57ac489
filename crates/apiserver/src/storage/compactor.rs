//! etcd's history compacted every `--etcd-compaction-interval`, as kube-apiserver does
//! (storage/etcd3/compact.go). Without it every write stays in etcd's history until the
//! database reaches its quota and etcd refuses writes.
//!
//! Each round compacts to the revision the round before saw, so a watch may resume from up to one
//! interval back; older resourceVersions are answered 410 Gone and clients list again. API servers
//! sharing an etcd (tenants with their own `--etcd-prefix`) take turns through one key, whose
//! version counts the rounds: only the server whose compare-and-swap wins compacts.

use std::time::Duration;

use tracing::{debug, info, warn};

use super::Storage;

/// Runs rounds every `interval` until `shutdown` says so.
pub async fn run(storage: Storage, interval: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The round count this server last saw, and the revision to compact to next.
    let (mut rounds, mut revision) = (0, 0);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|done| *done) => return,
        }
        match storage.compaction_round(rounds, revision).await {
            Ok(round) => {
                if round.compacted {
                    info!(revision, "etcd history compacted");
                } else {
                    debug!(rounds = round.rounds, "another API server holds this compaction round");
                }
                (rounds, revision) = (round.rounds, round.revision);
            }
            Err(e) => warn!(error = %e, "etcd compaction failed; trying again next round"),
        }
    }
}
