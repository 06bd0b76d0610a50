//! Status subresources and Events, from what translation found and what the Kong replicas
//! accepted.
//!
//! One task, one round at a time: after a change it waits a short debounce so a burst of
//! translations and push reports becomes one round, computes every wanted status from the
//! live snapshot (pure: [`policy`], [`route`], [`ingress`]), and patches only the objects
//! whose status differs. Each object's status is compared with what the watch last saw, and
//! `lastTransitionTime` is kept unless a condition's status flips, so a settled cluster gets
//! no writes. A failed write is logged and retried on the next round (with backoff); it never
//! stops the controller.

pub mod backend_tls;
mod conditions;
mod consumer;
pub mod gateway;
pub mod ingress;
pub mod kong_listens;
pub mod plugin;
pub mod policy;
mod publish;
pub mod route;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::events::EventLog;
use super::metrics::ReasonLabel;
use super::pusher::Backoff;
use super::store::Store;
use super::sync::SyncState;
use crate::kinds::{Kind, KindSpec, ObjectKey, with_kind};
use crate::translate::Facts;
use kong_listens::KongListens;

/// The field manager of every status write (and the Events' reporting controller).
pub const FIELD_MANAGER: &str = "kingress";

#[derive(Clone, Debug)]
pub struct StatusOptions {
    /// Write status subresources (KIC's `--update-status`); Events are sent regardless.
    pub update_status: bool,
    /// `--publish-service <namespace>/<name>`: Ingresses get this Service's addresses.
    pub publish_service: Option<(String, String)>,
    /// `--publish-status-address`: fixed Ingress addresses (IPs or hostnames); wins over
    /// `publish_service`.
    pub publish_status_addresses: Vec<String>,
    /// KIC's `--publish-service-udp`: UDPIngresses get this Service's addresses instead.
    pub publish_service_udp: Option<(String, String)>,
    /// KIC's `--publish-status-address-udp`: fixed UDPIngress addresses; wins over
    /// `publish_service_udp`.
    pub publish_status_addresses_udp: Vec<String>,
    /// Pause after a change before a round, merging bursts.
    pub debounce: Duration,
    /// At most this many writes (status patches and Events) per round; the rest follow in
    /// the next round, so one huge change never holds the task for long.
    pub max_writes_per_round: usize,
}

impl Default for StatusOptions {
    fn default() -> Self {
        StatusOptions {
            update_status: true,
            publish_service: None,
            publish_status_addresses: Vec::new(),
            publish_service_udp: None,
            publish_status_addresses_udp: Vec::new(),
            debounce: Duration::from_millis(100),
            max_writes_per_round: 64,
        }
    }
}

/// What a round needs besides the snapshot.
pub struct Inputs<'a> {
    pub state: &'a SyncState,
    /// Facts of the newest config a replica accepted; `None` until one is known (e.g.
    /// right after a restart), in which case Programmed conditions are left as they are.
    pub programmed: Option<&'a Facts>,
    pub controller_name: &'a str,
    /// Our ingress class: KongClusterPlugins of another class are another controller's.
    pub ingress_class: &'a str,
    /// KIC's KongServiceFacade gate: facades are KongUpstreamPolicy ancestors.
    pub service_facades: bool,
    /// Ingress `status.loadBalancer.ingress` entries; empty: Ingress status is not written.
    pub addresses: &'a [Value],
    /// The same for UDPIngresses (KIC's UDP address finder, else the same as `addresses`).
    pub udp_addresses: &'a [Value],
    /// The Gateway listens Kong serves; None while unknown (no publish Service, or no replica
    /// has reported its listeners): Gateway listeners are then not checked against Kong.
    pub kong_listens: Option<&'a KongListens>,
    pub now: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
}

#[cfg(test)]
impl<'a> Inputs<'a> {
    /// Inputs for a unit test: controller `c`, class `kong`, no addresses, listens unknown.
    pub(crate) fn for_tests(
        state: &'a SyncState,
        programmed: Option<&'a Facts>,
        now: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    ) -> Inputs<'a> {
        Inputs {
            state,
            programmed,
            controller_name: "c",
            ingress_class: "kong",
            service_facades: false,
            addresses: &[],
            udp_addresses: &[],
            kong_listens: None,
            now,
        }
    }
}

/// One status patch: a JSON merge patch of the status subresource.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusWrite {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The resourceVersion the status was computed from: a precondition when set, so a
    /// list shared with other controllers is never overwritten blindly.
    pub precondition: Option<String>,
    /// The new `status` (only the fields kingress owns for Ingress).
    pub status: Value,
}

impl StatusWrite {
    fn key(&self) -> ObjectKey {
        ObjectKey::new(self.kind, &self.namespace, &self.name)
    }
}

/// Which objects one call of [`plan_in`] covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanScope<'s> {
    /// The namespaced objects of one namespace.
    Namespace(&'s str),
    /// Cluster-scoped objects: KongClusterPlugins, GatewayClasses.
    Cluster,
}

/// Every status that differs from what the snapshot holds, in a stable order.
pub fn plan(snapshot: &crate::snapshot::Snapshot, inputs: &Inputs<'_>) -> Vec<StatusWrite> {
    let mut writes = Vec::new();
    for ns in snapshot.status_namespaces() {
        writes.extend(plan_in(snapshot, inputs, PlanScope::Namespace(&ns)));
    }
    writes.extend(plan_in(snapshot, inputs, PlanScope::Cluster));
    writes
}

/// [`plan`] for the objects of `scope`: the status loop plans one namespace per store lock,
/// so watchers and translation never wait for a whole cluster's worth of planning (~50 ms
/// at 10k Services).
pub fn plan_in(
    snapshot: &crate::snapshot::Snapshot,
    inputs: &Inputs<'_>,
    scope: PlanScope<'_>,
) -> Vec<StatusWrite> {
    let mut writes = policy::plan(snapshot, inputs, scope);
    writes.extend(route::plan(snapshot, inputs, scope));
    writes.extend(ingress::plan(snapshot, inputs, scope));
    writes.extend(plugin::plan(snapshot, inputs, scope));
    writes.extend(gateway::plan(snapshot, inputs, scope));
    writes.extend(backend_tls::plan(snapshot, inputs, scope));
    writes.extend(consumer::plan(snapshot, inputs, scope));
    writes
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("cannot patch the status of {kind} {namespace}/{name}: {source}")]
    Patch {
        kind: &'static str,
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl StatusError {
    /// A stale precondition or a deleted object: the next round sees the new state.
    fn expected(&self) -> bool {
        let StatusError::Patch { source, .. } = self;
        matches!(source, kube::Error::Api(s) if s.code == 409 || s.code == 404)
    }
}

/// Recent translations by config hash, to know what a replica's accepted hash contained.
#[derive(Default)]
struct Programmed {
    recent: VecDeque<(String, Arc<Facts>)>,
    current: Option<Arc<Facts>>,
}

const RECENT_TRANSLATIONS: usize = 16;

impl Programmed {
    fn observe(&mut self, state: &SyncState) {
        // A change can leave Kong's config as it was and still change the facts (a Service
        // moved from a KongIngress to an equal KongUpstreamPolicy): the newest facts win.
        // Every profile's config carries the facts of the one translation round (see
        // `controller::profiles`).
        for hash in state.desired_ids() {
            if self
                .recent
                .iter()
                .any(|(h, f)| h == hash && Arc::ptr_eq(f, &state.facts))
            {
                continue;
            }
            self.recent.retain(|(h, _)| h != hash);
            self.recent
                .push_back((hash.to_string(), state.facts.clone()));
            while self.recent.len() > RECENT_TRANSLATIONS {
                self.recent.pop_front();
            }
        }
        // The newest translation any replica holds.
        if let Some((_, facts)) = self
            .recent
            .iter()
            .rev()
            .find(|(h, _)| state.applied.values().any(|a| a == h))
        {
            self.current = Some(facts.clone());
        }
    }
}

/// The writes last made, so a round that runs before the watch delivered them does not
/// write them again.
#[derive(Default)]
struct Written(BTreeMap<ObjectKey, (Option<String>, Value)>);

impl Written {
    fn already(&self, w: &StatusWrite, current_rv: Option<&str>) -> bool {
        self.0
            .get(&w.key())
            .is_some_and(|(rv, status)| rv.as_deref() == current_rv && *status == w.status)
    }
}

/// What the translation was set up with that status writing follows.
pub struct Translated {
    /// The GatewayClass controllerName served.
    pub controller_name: String,
    pub ingress_class: String,
    /// KIC's KongServiceFacade gate.
    pub service_facades: bool,
}

/// Runs until the state channel closes; writes only while `leader` is true.
pub async fn run(
    client: kube::Client,
    store: Arc<Store>,
    translated: Translated,
    options: StatusOptions,
    mut state: watch::Receiver<Arc<SyncState>>,
    mut leader: watch::Receiver<bool>,
    events_written: Family<ReasonLabel, Counter>,
) {
    let mut publish = publish::Publish::new(
        &client,
        options.publish_service.as_ref(),
        &options.publish_status_addresses,
    );
    // KIC v3.5.13 setup.go 228-236: a UDP address finder when either UDP flag is set, else
    // the default one.
    let udp_own =
        options.publish_service_udp.is_some() || !options.publish_status_addresses_udp.is_empty();
    let mut publish_udp = publish::Publish::new(
        &client,
        options.publish_service_udp.as_ref(),
        &options.publish_status_addresses_udp,
    );
    let mut programmed = Programmed::default();
    let mut written = Written::default();
    let mut events = EventLog::new(client.clone(), events_written.clone());
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let mut retry: Option<Duration> = None;
    let mut leader_open = true;
    loop {
        let wait = async {
            match retry {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = state.changed() => if changed.is_err() { return },
            // A closed leadership channel keeps its last value.
            changed = leader.changed(), if leader_open => leader_open = changed.is_ok(),
            () = publish.changed() => {}
            () = publish_udp.changed() => {}
            () = wait => {}
        }
        tokio::time::sleep(options.debounce).await;
        let current = state.borrow_and_update().clone();
        programmed.observe(&current);
        // Only the leader writes, as only it pushes; a new leader starts from what it sees.
        if !*leader.borrow_and_update() {
            written = Written::default();
            events = EventLog::new(client.clone(), events_written.clone());
            retry = None;
            continue;
        }
        if current.desired_hash.is_none() {
            continue; // Nothing translated yet.
        }
        let addrs = publish.addresses();
        let udp_addrs = match udp_own {
            true => publish_udp.addresses(),
            false => addrs.clone(),
        };
        let kong_listens = publish
            .ports()
            .and_then(|ports| KongListens::across(&ports, current.listeners.values()));
        let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now(),
        );
        let inputs = Inputs {
            state: &current,
            programmed: programmed.current.as_deref(),
            controller_name: &translated.controller_name,
            ingress_class: &translated.ingress_class,
            service_facades: translated.service_facades,
            addresses: &addrs,
            udp_addresses: &udp_addrs,
            kong_listens: kong_listens.as_ref(),
            now: &now,
        };
        let mut writes: Vec<(StatusWrite, Option<String>, &'static str)> = Vec::new();
        if options.update_status {
            let mut scopes: Vec<Option<String>> = store
                .read(|snapshot| snapshot.status_namespaces())
                .into_iter()
                .map(Some)
                .collect();
            scopes.push(None);
            // One namespace per lock: the store stays free for watchers and translation.
            for ns in &scopes {
                let scope = ns
                    .as_deref()
                    .map_or(PlanScope::Cluster, PlanScope::Namespace);
                store.read(|snapshot| {
                    writes.extend(plan_in(snapshot, &inputs, scope).into_iter().map(|w| {
                        let rv = snapshot.resource_version(&w.key()).map(str::to_string);
                        let version = snapshot.read_version(&w.key());
                        (w, rv, version)
                    }));
                });
            }
        }
        let wanted_events = store.read(|snapshot| events.wanted(snapshot, &current));
        let mut budget = options.max_writes_per_round;
        let mut failed = false;
        let mut more = false;
        for (w, current_rv, version) in writes {
            if written.already(&w, current_rv.as_deref()) {
                continue;
            }
            if budget == 0 {
                more = true;
                break;
            }
            budget -= 1;
            match patch(&client, &w, version).await {
                Ok(()) => {
                    tracing::debug!(kind = %w.kind, namespace = %w.namespace, name = %w.name, "status written");
                    written.0.insert(w.key(), (current_rv, w.status));
                }
                Err(e) => {
                    failed = true;
                    written.0.remove(&w.key());
                    if e.expected() {
                        tracing::debug!(error = %e, "status write skipped; retrying next round");
                    } else {
                        tracing::warn!(error = %e, "status write failed; retrying next round");
                    }
                }
            }
        }
        // Forget writes the watch has caught up with (or whose object is gone).
        store.read(|snapshot| {
            written
                .0
                .retain(|key, (rv, _)| snapshot.resource_version(key) == rv.as_deref());
        });
        let sent = events.send(wanted_events, &mut budget).await;
        failed |= !sent.all_sent;
        more |= sent.deferred;
        retry = if failed {
            Some(backoff.next_delay())
        } else if more {
            backoff.reset();
            Some(Duration::ZERO)
        } else {
            backoff.reset();
            None
        };
    }
}

/// Patches the status at `version`, the one the object was read at.
async fn patch(client: &kube::Client, w: &StatusWrite, version: &str) -> Result<(), StatusError> {
    let mut body = json!({ "status": w.status });
    if let Some(rv) = &w.precondition {
        body["metadata"] = json!({ "resourceVersion": rv });
    }
    let result = with_kind!(w.kind, |K| patch_as::<K>(client, w, &body, version).await);
    result.map_err(|source| StatusError::Patch {
        kind: w.kind.as_str(),
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        source,
    })
}

async fn patch_as<K: KindSpec>(
    client: &kube::Client,
    w: &StatusWrite,
    body: &Value,
    version: &str,
) -> Result<(), kube::Error> {
    debug_assert!(K::KIND.info().status, "{} status is not ours", K::KIND);
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    let patch = Patch::Merge(body);
    if version == K::KIND.info().versions[0] {
        K::api(client.clone(), Some(&w.namespace))
            .patch_status(&w.name, &params, &patch)
            .await
            .map(drop)
    } else {
        super::versions::dynamic_api::<K>(client.clone(), Some(&w.namespace), version)
            .patch_status(&w.name, &params, &patch)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::object_key;

    fn state(desired: &str, applied: &[&str], route: &str) -> SyncState {
        let mut facts = Facts::default();
        facts
            .configured
            .insert(object_key(Kind::HttpRoute, "ns", route));
        SyncState {
            desired_hash: Some(desired.into()),
            applied: applied
                .iter()
                .enumerate()
                .map(|(i, h)| (format!("replica-{i}"), h.to_string()))
                .collect(),
            facts: Arc::new(facts),
            ..SyncState::default()
        }
    }

    fn routes(p: &Programmed) -> Vec<String> {
        p.current
            .iter()
            .flat_map(|f| f.configured.iter().map(|k| k.name.clone()))
            .collect()
    }

    #[test]
    fn programmed_follows_the_newest_config_a_replica_accepted() {
        let mut p = Programmed::default();
        p.observe(&state("h1", &[], "a"));
        assert!(p.current.is_none(), "nothing accepted yet: unknown");
        p.observe(&state("h1", &["h1"], "a"));
        assert_eq!(routes(&p), ["a"]);
        // A new translation not applied yet keeps the last applied facts.
        p.observe(&state("h2", &["h1"], "b"));
        assert_eq!(routes(&p), ["a"]);
        // One replica on h2 is enough.
        p.observe(&state("h2", &["h1", "h2"], "b"));
        assert_eq!(routes(&p), ["b"]);
        // An unknown hash (e.g. from before a restart) changes nothing.
        p.observe(&state("h2", &["zz"], "b"));
        assert_eq!(routes(&p), ["b"]);
    }
}
