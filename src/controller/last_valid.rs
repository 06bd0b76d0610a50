//! KIC's `--use-last-valid-config-for-fallback`: the cluster as Kong last accepted it, to put
//! back the objects behind a rejected configuration instead of leaving them out.
//!
//! KIC keeps a copy of its cache after every push the gateways accept, fallback pushes
//! included, and builds the fallback from it (v3.5.13 `internal/dataplane/kong_client.go`
//! lines 187-193, 553, 570-577 and 676-697). Here the snapshot behind each config sent is
//! kept until a replica accepts that config or it is superseded; only with the flag on, as
//! each copy holds the whole cluster.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use crate::kinds::ObjectKey;
use crate::snapshot::Snapshot;
use crate::translate::fallback::{Backfill, Excluded};

/// Configs sent and not yet accepted whose snapshots are kept: enough for a burst of changes
/// while a slow replica catches up, bounded so memory is.
const KEPT: usize = 4;

#[derive(Default)]
pub struct LastValid {
    enabled: bool,
    /// The snapshot of the config a replica last accepted.
    accepted: Option<Arc<Snapshot>>,
    /// Per config sent (its ids, one per profile): its snapshot, and whether it was backfilled.
    sent: VecDeque<(BTreeSet<String>, Arc<Snapshot>, bool)>,
}

impl LastValid {
    pub fn new(enabled: bool) -> Self {
        LastValid {
            enabled,
            ..Self::default()
        }
    }

    /// The snapshot to translate instead of `current` while `rejected` objects are left out;
    /// None (translate `current`) when off or before Kong accepted any config.
    pub fn backfill(&self, current: &Snapshot, rejected: &BTreeSet<ObjectKey>) -> Option<Backfill> {
        let accepted = self.accepted.as_deref()?;
        if rejected.is_empty() {
            return None;
        }
        Some(Backfill::new(current, rejected, accepted))
    }

    /// A copy of what a config is translated from, to keep with it (None when off): without
    /// the `excluded` objects and what depends on them, which the config leaves out, so that
    /// they never come back from it (KIC keeps the fallback cache without the broken
    /// subgraph, kong_client.go 676-681).
    pub fn copy(
        &self,
        translated: &Snapshot,
        excluded: &BTreeSet<ObjectKey>,
    ) -> Option<Arc<Snapshot>> {
        if !self.enabled {
            return None;
        }
        let mut copy = translated.clone();
        for key in Excluded::new(translated, excluded).keys() {
            copy.remove(key.kind, &key.namespace, &key.name);
        }
        Some(Arc::new(copy))
    }

    /// A config was sent: `ids` of its profiles, translated from `snapshot`.
    pub fn sent(&mut self, ids: BTreeSet<String>, snapshot: Arc<Snapshot>, backfilled: bool) {
        if let Some(same) = self.sent.iter_mut().find(|(i, _, _)| *i == ids) {
            same.2 |= backfilled;
            return;
        }
        self.sent.push_back((ids, snapshot, backfilled));
        if self.sent.len() > KEPT {
            self.sent.pop_front();
        }
    }

    /// The replicas hold configs `held` (each replica's last accepted; None for one that holds
    /// none yet). When they all hold one config sent, its snapshot becomes the last valid one:
    /// KIC keeps it only once every gateway accepted (kong_client.go 527-553, 742).
    pub fn accepted<'a>(&mut self, held: impl IntoIterator<Item = Option<&'a str>>) {
        let held: Option<BTreeSet<&str>> = held.into_iter().collect();
        let Some(held) = held.filter(|h| !h.is_empty()) else {
            return;
        };
        let all = |ids: &BTreeSet<String>| held.iter().all(|h| ids.contains(*h));
        if let Some(at) = self.sent.iter().position(|(ids, _, _)| all(ids)) {
            self.accepted = Some(self.sent[at].1.clone());
            // Older configs can no longer become the last valid one.
            self.sent.drain(..at);
        }
    }

    /// Kong rejected config `id`. True when it was backfilled: the last valid snapshot no
    /// longer makes a config Kong accepts (another Kong version, say), so it is dropped and
    /// the objects behind the rejection are left out instead.
    pub fn rejected(&mut self, id: &str) -> bool {
        let backfilled = self
            .sent
            .iter()
            .any(|(ids, _, backfilled)| *backfilled && ids.contains(id));
        if backfilled {
            self.accepted = None;
        }
        backfilled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Kind;

    fn ids(id: &str) -> BTreeSet<String> {
        [id.to_string()].into()
    }

    fn rejected() -> BTreeSet<ObjectKey> {
        [ObjectKey::new(Kind::Service, "a", "echo")].into()
    }

    #[test]
    fn nothing_is_kept_or_backfilled_when_off() {
        let mut off = LastValid::new(false);
        assert!(off.copy(&Snapshot::new(), &BTreeSet::new()).is_none());
        off.accepted([Some("a")]);
        assert!(off.backfill(&Snapshot::new(), &rejected()).is_none());
    }

    #[test]
    fn the_snapshot_of_the_config_a_replica_accepted_backfills() {
        let mut on = LastValid::new(true);
        let copy = on
            .copy(&Snapshot::new(), &BTreeSet::new())
            .expect("kept when on");
        on.sent(ids("one"), copy.clone(), false);
        let backfills = |on: &LastValid| on.backfill(&Snapshot::new(), &rejected()).is_some();
        assert!(!backfills(&on), "nothing accepted yet");
        on.accepted([Some("two")]);
        assert!(!backfills(&on), "not a config sent");
        on.accepted([Some("one"), None]);
        assert!(!backfills(&on), "a replica holds nothing yet");
        on.accepted([Some("one"), Some("two")]);
        assert!(
            !backfills(&on),
            "a replica holds another config (it rejected this one)"
        );
        on.accepted([Some("one"), Some("one")]);
        assert!(backfills(&on));
        assert!(
            on.backfill(&Snapshot::new(), &BTreeSet::new()).is_none(),
            "nothing rejected"
        );
    }

    #[test]
    fn what_a_config_leaves_out_is_not_kept_with_it() {
        // Else the broken object would come back from the last valid snapshot (KIC keeps the
        // fallback cache without the broken subgraph).
        let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: echo, namespace: a}\nspec: {ports: [{port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: a}\nspec:\n  ingressClassName: kong\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}]}}]\n";
        let mut loaded = crate::manifests::Loaded::default();
        crate::manifests::load_str(yaml, std::path::Path::new("t.yaml"), &mut loaded);
        let on = LastValid::new(true);
        let copy = on.copy(&loaded.snapshot, &rejected()).expect("kept");
        assert!(!copy.contains(&ObjectKey::new(Kind::Service, "a", "echo")));
        assert!(!copy.contains(&ObjectKey::new(Kind::Ingress, "a", "web")));
        let all = on.copy(&loaded.snapshot, &BTreeSet::new()).expect("kept");
        assert!(all.contains(&ObjectKey::new(Kind::Ingress, "a", "web")));
    }

    #[test]
    fn a_rejected_backfilled_config_drops_the_last_valid_snapshot() {
        let mut on = LastValid::new(true);
        on.sent(ids("one"), Arc::new(Snapshot::new()), false);
        on.accepted([Some("one")]);
        on.sent(ids("two"), Arc::new(Snapshot::new()), false);
        assert!(!on.rejected("two"), "a plain config: exclusions handle it");
        on.sent(ids("three"), Arc::new(Snapshot::new()), false);
        // The same config, backfilled this time.
        on.sent(ids("three"), Arc::new(Snapshot::new()), true);
        assert!(on.rejected("three"));
        assert!(on.backfill(&Snapshot::new(), &rejected()).is_none());
    }
}
