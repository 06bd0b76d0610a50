//! The live snapshot the watchers fill and the sync loop translates.
//!
//! Every change bumps a generation on a `watch` channel, so the sync loop never misses a
//! wake-up however many changes arrive while it is busy.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::watch;

use super::metrics::KindLabel;

use crate::kinds::ObjectKey;
use crate::snapshot::{Key, Kind, Object, Snapshot, Undecodable};
use crate::translate::incremental::Changes;

/// The snapshot and what changed in it since the sync loop last translated it.
#[derive(Default)]
struct Inner {
    snapshot: Snapshot,
    changes: Changes,
}

pub struct Store {
    inner: Mutex<Inner>,
    generation: watch::Sender<u64>,
    /// Watch streams (kind, namespace scope) that finished their first list.
    synced: Mutex<BTreeSet<String>>,
    expected: BTreeSet<String>,
    all_synced: watch::Sender<bool>,
    /// Watch errors by kind (the `kingress_watch_errors` metric).
    pub watch_errors: Family<KindLabel, Counter>,
}

impl Store {
    /// `streams` names every watch stream whose first list must finish before the first push.
    pub fn new(
        streams: impl IntoIterator<Item = String>,
        watch_errors: Family<KindLabel, Counter>,
    ) -> Self {
        Store {
            inner: Mutex::new(Inner {
                snapshot: Snapshot::new(),
                changes: Changes::everything(),
            }),
            generation: watch::Sender::new(0),
            synced: Mutex::new(BTreeSet::new()),
            expected: streams.into_iter().collect(),
            all_synced: watch::Sender::new(false),
            watch_errors,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than stopping would; keep serving the data.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bump(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn apply(&self, object: Object) {
        {
            let mut inner = self.lock();
            inner.changes.record(object.kind(), object.namespace());
            inner.snapshot.apply(object);
        }
        self.bump();
    }

    pub fn remove(&self, kind: Kind, namespace: &str, name: &str) {
        {
            let mut inner = self.lock();
            inner.changes.record(kind, namespace);
            inner.snapshot.remove(kind, namespace, name);
        }
        self.bump();
    }

    /// An object that does not decode: left out (an earlier version of it too) and recorded
    /// for Events and metrics until it decodes or goes.
    pub fn undecodable(&self, key: ObjectKey, why: Undecodable) {
        {
            let mut inner = self.lock();
            inner.changes.record(key.kind, &key.namespace);
            inner.snapshot.set_undecodable(key, why);
        }
        self.bump();
    }

    /// The end of a relist of one stream (its objects were applied as they arrived):
    /// removes that kind's objects within `namespace` (all if None) not in `seen`.
    pub fn remove_unseen(&self, kind: Kind, namespace: Option<&str>, seen: &BTreeSet<Key>) {
        let removed = {
            let mut inner = self.lock();
            let namespaces = inner.snapshot.remove_unseen(kind, namespace, seen);
            for ns in &namespaces {
                inner.changes.record(kind, ns);
            }
            !namespaces.is_empty()
        };
        if removed {
            self.bump();
        }
    }

    pub fn mark_synced(&self, stream: &str) {
        let done = {
            let mut synced = self
                .synced
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            synced.insert(stream.to_string());
            self.expected.is_subset(&synced)
        };
        if done {
            self.all_synced.send_replace(true);
        }
    }

    /// Waits until every stream has listed once: pushing earlier would send Kong a partial
    /// config (e.g. Services before their EndpointSlices: no targets).
    pub async fn wait_synced(&self) {
        let mut rx = self.all_synced.subscribe();
        let _ = rx.wait_for(|done| *done).await;
    }

    /// True once every stream has listed once.
    pub fn synced(&self) -> watch::Receiver<bool> {
        self.all_synced.subscribe()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Runs `f` on the current snapshot under the lock.
    pub fn read<T>(&self, f: impl FnOnce(&Snapshot) -> T) -> T {
        f(&self.lock().snapshot)
    }

    /// Runs `f` on the current snapshot and the changes made since the last call, under
    /// the lock, so no change is seen twice or missed.
    pub fn read_changes<T>(&self, f: impl FnOnce(&Snapshot, Changes) -> T) -> T {
        let mut inner = self.lock();
        let changes = std::mem::take(&mut inner.changes);
        f(&inner.snapshot, changes)
    }
}
