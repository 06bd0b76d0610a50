//! Change → (short debounce) → translate → desired config for every replica; Kong's
//! rejections → fallback.
//!
//! Fallback: when Kong answers 400, each rejected entity is traced back to the Kubernetes
//! object that produced it (the KongUpstreamPolicy of a rejected upstream, otherwise the
//! object named by the entity's `k8s-*` tags). That object is left out and the rest is
//! translated and pushed again, so one broken object never keeps the others from Kong.
//! An exclusion lasts while the object keeps the [`fingerprint`] (spec, labels and
//! annotations) it had when Kong rejected it: editing (fixing) it brings it back on the next
//! translation, while status writes, which change only its resourceVersion, do not.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::last_valid::LastValid;
use super::metrics::{KindLabel, Metrics, ReplicaLabel, SeverityLabel};
use super::profiles::{Configs, Profile, Reports};
use super::pusher::{Desired, PushReport};
use super::store::Store;
use crate::kinds::{Kind, Stored, with_kind};
use crate::kong::admin_api::{RejectedEntity, config_hash};
use crate::kong::listeners::KongListeners;
use crate::kong::router_flavor::RouterFlavor;
use crate::kong::version::KongVersion;
use crate::snapshot::Snapshot;
use crate::translate::incremental::{Changes, Incremental};
use crate::translate::{
    Facts, ObjectKey, Options, Problem, Severity, names::ObjectRef, object_key,
};

/// An object left out because Kong rejected what it produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    pub object: ObjectKey,
    /// [`fingerprint`] of what Kong rejected; a different one (an edit) lifts the exclusion.
    pub fingerprint: Option<String>,
    /// Kong's reason, `field: message; …`.
    pub reason: String,
    /// Configured as Kong last accepted it (`--use-last-valid-config-for-fallback`).
    pub restored: bool,
}

impl Exclusion {
    /// What becomes of the object until it changes.
    pub fn outcome(&self) -> &'static str {
        if self.restored {
            "the version Kong last accepted stays configured until it changes"
        } else {
            "it is left out until it changes"
        }
    }
}

/// What the last translation and pushes found, for status and events.
#[derive(Clone, Debug, Default)]
pub struct SyncState {
    pub problems: Vec<Problem>,
    pub exclusions: Vec<Exclusion>,
    /// Identity ([`Desired::id`]) of the primary config last sent to the replicas (see
    /// [`profiles`](super::profiles)), whose translation `facts` and `problems` are of.
    pub desired_hash: Option<String>,
    /// Per replica that reported its `GET /`: the identity of the config meant for it, when
    /// its version or flavor is not the primary's.
    pub desired: BTreeMap<String, String>,
    /// Per replica: the identity of the config it last accepted.
    pub applied: BTreeMap<String, String>,
    /// Per replica: the last push error, cleared on success.
    pub errors: BTreeMap<String, String>,
    /// Structured facts of the translation behind `desired_hash`.
    pub facts: Arc<Facts>,
    /// Per replica: its proxy and stream listeners, once read.
    pub listeners: BTreeMap<String, KongListeners>,
    /// Each replica's Kong version, from its `GET /`.
    pub versions: BTreeMap<String, KongVersion>,
    /// Each replica's `router_flavor`, from its `GET /`.
    pub flavors: BTreeMap<String, RouterFlavor>,
}

impl SyncState {
    /// The identity of the config `replica` should hold.
    pub fn desired_for(&self, replica: &str) -> Option<&str> {
        self.desired
            .get(replica)
            .or(self.desired_hash.as_ref())
            .map(String::as_str)
    }

    /// Every config identity currently meant for some replica.
    pub fn desired_ids(&self) -> BTreeSet<&str> {
        self.desired
            .values()
            .chain(&self.desired_hash)
            .map(String::as_str)
            .collect()
    }
}

pub struct SyncOptions {
    pub translate: Options,
    pub debounce: Duration,
    /// Kong replicas being configured (rate limits with policy local count per replica).
    pub replicas: watch::Receiver<usize>,
    pub metrics: Arc<Metrics>,
    /// A fixed Kong version (`--kong-version`); None: each replica's own.
    pub kong_version: Option<KongVersion>,
    /// `--use-last-valid-config-for-fallback`.
    pub last_valid_fallback: bool,
}

/// Configs Kong rejected, newest last: a translation that lands on one of them again (an
/// edit that did not touch the broken part) is excluded at once instead of pushed.
const REMEMBERED_REJECTIONS: usize = 32;

fn record_metrics(metrics: &Metrics, snapshot: &Snapshot, problems: &[Problem], elapsed: Duration) {
    metrics.translation_seconds.observe(elapsed.as_secs_f64());
    for &kind in Kind::ALL {
        let label = KindLabel {
            kind: kind.as_str().to_string(),
        };
        metrics
            .objects
            .get_or_create(&label)
            .set(snapshot.count(kind) as i64);
        let undecodable = snapshot.undecodable.keys().filter(|k| k.kind == kind);
        metrics
            .undecodable
            .get_or_create(&label)
            .set(undecodable.count() as i64);
    }
    for (severity, label) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ] {
        let n = problems.iter().filter(|p| p.severity == severity).count();
        metrics
            .translation_problems
            .get_or_create(&SeverityLabel {
                severity: label.to_string(),
            })
            .set(n as i64);
    }
}

pub async fn run(
    store: Arc<Store>,
    mut options: SyncOptions,
    desired_tx: watch::Sender<Option<Arc<Configs>>>,
    mut reports: mpsc::UnboundedReceiver<PushReport>,
    state_tx: watch::Sender<Arc<SyncState>>,
) {
    store.wait_synced().await;
    let metrics = options.metrics.clone();
    let mut generation = store.subscribe();
    let mut exclusions: BTreeMap<ObjectKey, Exclusion> = BTreeMap::new();
    let mut upstream_policies: BTreeMap<String, ObjectRef> = BTreeMap::new();
    let mut rejected: VecDeque<(String, Vec<RejectedEntity>)> = VecDeque::new();
    let mut state = SyncState::default();
    let mut disagree = false;
    let mut dirty = true;
    // One translation per profile in use (a mixed cluster during an upgrade has several).
    let mut incrementals: BTreeMap<Profile, Incremental> = BTreeMap::new();
    let mut configs: Option<Arc<Configs>> = None;
    let mut last_valid = LastValid::new(options.last_valid_fallback);
    let default = {
        let t = &options.translate;
        Profile::new(t.kong_version, t.router_flavor)
    };
    loop {
        // Rounds that only exclude objects of an already-rejected config; bounded so an
        // unmappable rejection cannot spin.
        let mut rounds = 0;
        while dirty && rounds < 8 {
            dirty = false;
            rounds += 1;
            let replicas = *options.replicas.borrow_and_update();
            metrics.replicas.set(replicas as i64);
            let (primary, assigned) = profiles(&state, options.kong_version, default);
            let wanted: BTreeSet<Profile> = assigned.values().copied().chain([primary]).collect();
            incrementals.retain(|p, _| wanted.contains(p));
            let outputs = store.read_changes(|snapshot, changes| {
                exclusions.retain(|key, e| fingerprint(snapshot, key) == e.fingerprint);
                let mut opts = options.translate.clone();
                opts.excluded = exclusions.keys().cloned().collect();
                opts.kong_replicas = replicas.max(1);
                let backfill = last_valid.backfill(snapshot, &opts.excluded);
                if let Some(b) = &backfill {
                    opts.excluded.retain(|k| b.left_out.contains(k));
                }
                let source = backfill.as_ref().map_or(snapshot, |b| &b.snapshot);
                let mut outputs = BTreeMap::new();
                for profile in &wanted {
                    profile.apply(&mut opts);
                    let started = std::time::Instant::now();
                    let output = if backfill.is_some() {
                        // Not the cluster: translated whole, and the cluster's translation
                        // starts over once nothing is backfilled.
                        incrementals.remove(profile);
                        let changes = Changes::everything();
                        Incremental::default().update(source, &opts, &changes)?
                    } else {
                        let incremental = incrementals.entry(*profile).or_default();
                        incremental.update(snapshot, &opts, &changes)?
                    };
                    if *profile == primary {
                        record_metrics(&metrics, snapshot, &output.problems, started.elapsed());
                    }
                    outputs.insert(*profile, output);
                }
                let copy = last_valid.copy(source, &opts.excluded);
                let restored = backfill.map(|b| b.restored);
                Ok::<_, serde_json::Error>((outputs, copy, restored))
            });
            let (mut outputs, translated_from, restored) = match outputs {
                Ok(o) => o,
                Err(e) => {
                    tracing::error!(error = %e, "cannot serialise the Kong configuration");
                    // Start over: the next round translates everything.
                    incrementals.clear();
                    break;
                }
            };
            let Some(main) = outputs.remove(&primary) else {
                break;
            };
            // Hashed outside the lock: watchers need not wait for it.
            let mut by_profile = BTreeMap::from([(primary, Arc::new(Desired::new(main.config)))]);
            upstream_policies = main.upstream_policies;
            state.facts = Arc::new(main.facts);
            state.problems = main.problems;
            for (profile, output) in outputs {
                by_profile.insert(profile, Arc::new(Desired::new(output.config)));
                upstream_policies.extend(output.upstream_policies);
                // What only another version or flavor meets (e.g. a plugin Kong adds later).
                for problem in output.problems {
                    if !state.problems.contains(&problem) {
                        state.problems.push(problem);
                    }
                }
            }
            let next = Configs::new(primary, options.kong_version, by_profile);
            let mut again = 0;
            for (_, id) in next.ids() {
                if let Some((_, entities)) = rejected.iter().find(|(h, _)| h == id) {
                    again += store.read(|snapshot| {
                        exclude(snapshot, entities, &upstream_policies, &mut exclusions)
                    });
                }
            }
            if again > 0 {
                dirty = true;
                continue;
            }
            for e in exclusions.values_mut() {
                e.restored = restored.as_ref().is_some_and(|r| r.contains(&e.object));
            }
            state.exclusions = exclusions.values().cloned().collect();
            metrics.exclusions.set(exclusions.len() as i64);
            if let Some(copy) = translated_from {
                let ids = next.ids().map(|(_, id)| id.to_string()).collect();
                last_valid.sent(ids, copy, restored.is_some());
            }
            let ids = |c: &Configs| {
                c.ids()
                    .map(|(p, id)| (p, id.to_string()))
                    .collect::<Vec<_>>()
            };
            if configs.as_deref().map(ids) != Some(ids(&next)) {
                let main = next.primary().map(|d| d.id().to_string());
                tracing::debug!(config = ?main, profiles = next.ids().count(), bytes = next.primary().map_or(0, |d| d.text().len()), "new Kong configuration");
                metrics
                    .config_bytes
                    .set(next.primary().map_or(0, |d| d.text().len()) as i64);
                state.desired_hash = main;
                let next = Arc::new(next);
                configs = Some(next.clone());
                desired_tx.send_replace(Some(next));
            }
            state.desired = desired_per_replica(&assigned, configs.as_deref());
            state_tx.send_replace(Arc::new(state.clone()));
        }
        dirty = false;
        tokio::select! {
            changed = generation.changed() => {
                if changed.is_err() {
                    return;
                }
                // Coalesce a burst of changes into one translation.
                tokio::time::sleep(options.debounce).await;
                generation.borrow_and_update();
                dirty = true;
            }
            changed = options.replicas.changed() => {
                if changed.is_err() {
                    return;
                }
                dirty = true;
            }
            report = reports.recv() => {
                let Some(report) = report else { return };
                // Retranslate when a replica's profile (or the primary one) moves.
                let before = profiles(&state, options.kong_version, default);
                match report {
                    PushReport::Applied { replica, hash, elapsed } => {
                        let label = ReplicaLabel { replica: replica.clone() };
                        metrics.push(&replica, if elapsed.is_some() { "applied" } else { "unchanged" });
                        if let Some(e) = elapsed {
                            metrics.push_seconds.get_or_create(&label).observe(e.as_secs_f64());
                        }
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0.0, |d| d.as_secs_f64());
                        metrics.replica_last_success.get_or_create(&label).set(now);
                        state.errors.remove(&replica);
                        metrics.replica_config(&replica, state.applied.get(&replica), Some(&hash));
                        state.applied.insert(replica, hash);
                        let replicas = state.listeners.keys().chain(state.applied.keys());
                        last_valid.accepted(replicas.map(|r| state.applied.get(r).map(String::as_str)));
                    }
                    PushReport::Listeners { replica, listeners, version, router_flavor } => {
                        if !state.listeners.contains_key(&replica) {
                            metrics.replica_seen(&replica);
                        }
                        state.listeners.insert(replica.clone(), listeners);
                        match router_flavor.as_deref().map(str::parse::<RouterFlavor>) {
                            Some(Ok(f)) => {
                                state.flavors.insert(replica.clone(), f);
                            }
                            Some(Err(e)) => tracing::warn!(replica = %replica, error = %e, "cannot read the Kong replica's router flavor"),
                            None => {}
                        }
                        match version.as_deref().map(str::parse::<KongVersion>) {
                            Some(Ok(v)) => {
                                state.versions.insert(replica, v);
                            }
                            Some(Err(e)) => tracing::warn!(replica = %replica, error = %e, "cannot read the Kong replica's version"),
                            None => {}
                        }
                    }
                    PushReport::Gone { replica } => {
                        metrics.replica_gone(&replica, state.applied.get(&replica));
                        state.flavors.remove(&replica);
                        state.applied.remove(&replica);
                        state.errors.remove(&replica);
                        state.listeners.remove(&replica);
                        state.versions.remove(&replica);
                    }
                    PushReport::Failed { replica, error, category } => {
                        metrics.push(&replica, category);
                        state.errors.insert(replica, error);
                    }
                    PushReport::Rejected { replica, hash, message: _, entities } => {
                        metrics.push(&replica, "rejected");
                        // Kong's message quotes values, which may come from Secrets.
                        let summary: Vec<String> = entities
                            .iter()
                            .map(|e| format!("{} {}: {}", e.entity_type, e.entity_name.as_deref().unwrap_or("?"), e.describe_redacted()))
                            .collect();
                        let message = if summary.is_empty() {
                            "invalid declarative configuration".to_string()
                        } else {
                            summary.join("; ")
                        };
                        state.errors.insert(replica, format!("rejected: {message}"));
                        let backfilled = last_valid.rejected(&hash);
                        if backfilled {
                            tracing::warn!("Kong rejected the configuration backfilled from the last one it accepted; the objects behind the rejection are left out instead");
                            dirty = true;
                        }
                        if configs.as_ref().is_some_and(|c| c.ids().any(|(_, id)| id == hash)) {
                            let added = store.read(|snapshot| {
                                exclude(snapshot, &entities, &upstream_policies, &mut exclusions)
                            });
                            if added == 0 && !backfilled {
                                tracing::error!(%message, "Kong rejected the configuration and no Kubernetes object could be identified to leave out");
                            }
                            dirty |= added > 0;
                        }
                        if !rejected.iter().any(|(h, _)| *h == hash) {
                            rejected.push_back((hash, entities));
                            if rejected.len() > REMEMBERED_REJECTIONS {
                                rejected.pop_front();
                            }
                        }
                    }
                }
                let after = profiles(&state, options.kong_version, default);
                if after != before {
                    // A replica whose config is not translated yet waits for it.
                    dirty = true;
                    // A config a replica of another version or flavor refused may be right for
                    // the replicas now: its remembered rejection must not exclude objects.
                    if after.0 != before.0 {
                        rejected.clear();
                    }
                }
                state.desired = desired_per_replica(&after.1, configs.as_deref());
                let distinct: BTreeSet<&RouterFlavor> = state.flavors.values().collect();
                let flavors_before = metrics.router_flavors.get();
                metrics.router_flavors.set(distinct.len() as i64);
                if distinct.len() > 1 && flavors_before <= 1 {
                    tracing::warn!(flavors = ?state.flavors, "Kong replicas run different router flavors; each gets the routes of its own flavor");
                }
                // A replica that holds no config yet is out of sync too.
                for replica in state.listeners.keys().chain(state.applied.keys()) {
                    let hash = state.applied.get(replica).map(String::as_str);
                    let in_sync = hash.is_some() && state.desired_for(replica) == hash;
                    metrics
                        .replica_in_sync
                        .get_or_create(&ReplicaLabel { replica: replica.clone() })
                        .set(i64::from(in_sync));
                }
                // Replicas meant to hold one config (one profile) that hold different ones.
                let held: BTreeSet<(Option<&str>, &String)> =
                    state.applied.iter().map(|(r, h)| (state.desired_for(r), h)).collect();
                let meant: BTreeSet<Option<&str>> = held.iter().map(|(d, _)| *d).collect();
                if (held.len() > meant.len()) != disagree {
                    disagree = held.len() > meant.len();
                    if disagree {
                        tracing::warn!(replicas = ?state.applied, "Kong replicas hold different configurations");
                    } else {
                        tracing::info!("Kong replicas of each version and flavor agree on one configuration");
                    }
                }
                state.exclusions = exclusions.values().cloned().collect();
                metrics.exclusions.set(exclusions.len() as i64);
                state_tx.send_replace(Arc::new(state.clone()));
            }
        }
    }
}

/// The primary profile and each replica's that reported on its `GET /`.
fn profiles(
    state: &SyncState,
    fixed: Option<KongVersion>,
    default: Profile,
) -> (Profile, BTreeMap<String, Profile>) {
    let reports = Reports {
        versions: &state.versions,
        flavors: &state.flavors,
        fixed,
        default,
    };
    let primary = reports.primary();
    let assigned = state
        .listeners
        .keys()
        .map(|r| (r.clone(), reports.replica(r, primary)))
        .collect();
    (primary, assigned)
}

/// The config id each replica that reported is meant to hold.
fn desired_per_replica(
    assigned: &BTreeMap<String, Profile>,
    configs: Option<&Configs>,
) -> BTreeMap<String, String> {
    let Some(configs) = configs else {
        return BTreeMap::new();
    };
    let ids: BTreeMap<Profile, &str> = configs.ids().collect();
    assigned
        .iter()
        .filter_map(|(r, p)| Some((r.clone(), ids.get(p)?.to_string())))
        .collect()
}

/// Adds an exclusion per rejected entity; returns how many were new.
fn exclude(
    snapshot: &Snapshot,
    entities: &[RejectedEntity],
    upstream_policies: &BTreeMap<String, ObjectRef>,
    exclusions: &mut BTreeMap<ObjectKey, Exclusion>,
) -> usize {
    let mut added = 0;
    for entity in entities {
        let Some(key) = culprit(entity, upstream_policies, exclusions) else {
            continue;
        };
        tracing::warn!(kind = %key.kind, namespace = %key.namespace, name = %key.name, reason = %entity.describe_redacted(), "leaving out an object Kong rejected");
        let exclusion = Exclusion {
            fingerprint: fingerprint(snapshot, &key),
            object: key.clone(),
            reason: entity.describe_redacted(),
            restored: false,
        };
        exclusions.insert(key, exclusion);
        added += 1;
    }
    added
}

/// The most specific object behind a rejected entity that is not yet excluded.
fn culprit(
    entity: &RejectedEntity,
    upstream_policies: &BTreeMap<String, ObjectRef>,
    exclusions: &BTreeMap<ObjectKey, Exclusion>,
) -> Option<ObjectKey> {
    let mut candidates = Vec::new();
    if entity.entity_type == "upstream"
        && let Some(policy) = entity
            .entity_name
            .as_ref()
            .and_then(|n| upstream_policies.get(n))
    {
        candidates.push(policy.key());
    }
    if let (Some(kind), Some(name)) = (
        entity.tag("kind").and_then(Kind::by_name),
        entity.tag("name"),
    ) {
        candidates.push(object_key(
            kind,
            entity.tag("namespace").unwrap_or_default(),
            name,
        ));
    }
    candidates.into_iter().find(|k| !exclusions.contains_key(k))
}

/// The object without its status and bookkeeping metadata (labels and annotations kept):
/// status writes, ours or another controller's, change the resourceVersion but not this, so
/// they do not lift an exclusion (which would push the rejected config again); edits do.
fn fingerprint(snapshot: &Snapshot, key: &ObjectKey) -> Option<String> {
    let mut value = with_kind!(key.kind, |K| snapshot
        .stored::<K>(&key.namespace, &key.name)?
        .to_json())?;
    let object = value.as_object_mut()?;
    object.remove("status");
    let meta = object.remove("metadata").unwrap_or_default();
    object.insert(
        "metadata".into(),
        serde_json::json!({ "labels": meta["labels"], "annotations": meta["annotations"] }),
    );
    Some(config_hash(&value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(kind: &str, name: &str, entity_type: &str, entity_name: &str) -> RejectedEntity {
        RejectedEntity {
            entity_type: entity_type.into(),
            entity_name: Some(entity_name.into()),
            entity_tags: vec![
                format!("k8s-name:{name}"),
                "k8s-namespace:default".into(),
                format!("k8s-kind:{kind}"),
                "k8s-version:v1".into(),
            ],
            errors: vec![],
        }
    }

    #[test]
    fn rejected_upstream_blames_its_policy_first_then_the_service() {
        let mut policies = BTreeMap::new();
        policies.insert(
            "echo.default.80.svc".to_string(),
            ObjectRef::new(Kind::KongUpstreamPolicy, Some("default"), "p"),
        );
        let e = rejected("Service", "echo", "upstream", "echo.default.80.svc");
        let mut exclusions = BTreeMap::new();
        let first = culprit(&e, &policies, &exclusions).expect("culprit");
        assert_eq!(first, object_key(Kind::KongUpstreamPolicy, "default", "p"));
        exclusions.insert(
            first.clone(),
            Exclusion {
                object: first,
                fingerprint: None,
                reason: String::new(),
                restored: false,
            },
        );
        assert_eq!(
            culprit(&e, &policies, &exclusions),
            Some(object_key(Kind::Service, "default", "echo"))
        );
    }

    #[test]
    fn rejected_route_blames_the_route_object() {
        let e = rejected("Ingress", "web", "route", "default.web.svc..80");
        assert_eq!(
            culprit(&e, &BTreeMap::new(), &BTreeMap::new()),
            Some(object_key(Kind::Ingress, "default", "web"))
        );
        let untagged = RejectedEntity {
            entity_type: "target".into(),
            ..Default::default()
        };
        assert_eq!(culprit(&untagged, &BTreeMap::new(), &BTreeMap::new()), None);
    }
}
