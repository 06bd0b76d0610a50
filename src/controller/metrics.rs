//! Prometheus metrics. Labels are fixed categories or Kong replica URLs (bounded by the
//! number of replicas), never object names or error texts.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReplicaLabel {
    pub replica: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushLabel {
    pub replica: String,
    /// applied, unchanged, rejected, unreachable, status, client
    pub result: String,
}

/// A replica and the identity of the config it holds: one series per replica at a time.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConfigLabel {
    pub replica: String,
    pub hash: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

/// Every `result` of `kingress_pushes_total`.
const PUSH_RESULTS: [&str; 6] = [
    "applied",
    "unchanged",
    "rejected",
    "unreachable",
    "status",
    "client",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabel {
    pub severity: String,
}

pub struct Metrics {
    pub registry: Registry,
    pub translation_seconds: Histogram,
    pub translation_problems: Family<SeverityLabel, Gauge>,
    pub objects: Family<KindLabel, Gauge>,
    /// Objects the cluster holds that kingress cannot decode (left out), by kind.
    pub undecodable: Family<KindLabel, Gauge>,
    pub config_bytes: Gauge,
    pub push_seconds: Family<ReplicaLabel, Histogram>,
    pub pushes: Family<PushLabel, Counter>,
    pub replica_in_sync: Family<ReplicaLabel, Gauge>,
    pub replica_last_success: Family<ReplicaLabel, Gauge<f64, AtomicU64>>,
    /// 1 for the config each replica holds (the hash is a label, as in an `_info` metric).
    pub replica_config: Family<ConfigLabel, Gauge>,
    /// Objects left out (or backfilled) because Kong rejected their configuration.
    pub exclusions: Gauge,
    /// Events written, by reason.
    pub events: Family<ReasonLabel, Counter>,
    /// Watch errors (other than an API not served), by kind.
    pub watch_errors: Family<KindLabel, Counter>,
    pub replicas: Gauge,
    /// Distinct `router_flavor`s the replicas report (more than 1: they disagree).
    pub router_flavors: Gauge,
    pub leader: Gauge,
}

fn seconds_histogram() -> Histogram {
    // 100 µs … ~13 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kingress");
        let translation_seconds = seconds_histogram();
        registry.register(
            "translation_duration_seconds",
            "Time to translate the cluster snapshot into Kong configuration",
            translation_seconds.clone(),
        );
        let translation_problems = Family::<SeverityLabel, Gauge>::default();
        registry.register(
            "translation_problems",
            "Problems found by the last translation, by severity (error = object left out)",
            translation_problems.clone(),
        );
        let objects = Family::<KindLabel, Gauge>::default();
        registry.register(
            "objects",
            "Objects in the watched snapshot, by kind",
            objects.clone(),
        );
        let undecodable = Family::<KindLabel, Gauge>::default();
        registry.register(
            "undecodable_objects",
            "Objects left out because kingress cannot decode them (see their Events), by kind",
            undecodable.clone(),
        );
        let config_bytes = Gauge::default();
        registry.register(
            "config_bytes",
            "Size of the Kong configuration last produced",
            config_bytes.clone(),
        );
        let push_seconds = Family::<ReplicaLabel, Histogram>::new_with_constructor(
            seconds_histogram as fn() -> Histogram,
        );
        registry.register(
            "push_duration_seconds",
            "Time of one POST /config to a Kong replica",
            push_seconds.clone(),
        );
        let pushes = Family::<PushLabel, Counter>::default();
        registry.register(
            "pushes",
            "Pushes to Kong replicas, by result",
            pushes.clone(),
        );
        let replica_in_sync = Family::<ReplicaLabel, Gauge>::default();
        registry.register(
            "replica_in_sync",
            "1 when the replica holds the latest configuration",
            replica_in_sync.clone(),
        );
        let replica_last_success = Family::<ReplicaLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "replica_last_success_timestamp_seconds",
            "Unix time of the replica's last successful push or confirmation",
            replica_last_success.clone(),
        );
        let replica_config = Family::<ConfigLabel, Gauge>::default();
        registry.register(
            "replica_config_info",
            "1 for the configuration each Kong replica holds, by its hash",
            replica_config.clone(),
        );
        let exclusions = Gauge::default();
        registry.register(
            "exclusions",
            "Objects left out (or configured as Kong last accepted them) because Kong rejected their configuration",
            exclusions.clone(),
        );
        let events = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "events",
            "Kubernetes Events written, by reason",
            events.clone(),
        );
        let watch_errors = Family::<KindLabel, Counter>::default();
        registry.register(
            "watch_errors",
            "Errors of the Kubernetes watches (retried with backoff), by kind",
            watch_errors.clone(),
        );
        let replicas = Gauge::default();
        registry.register(
            "kong_replicas",
            "Kong replicas being configured",
            replicas.clone(),
        );
        let router_flavors = Gauge::default();
        registry.register(
            "kong_router_flavors",
            "Distinct router_flavor settings the Kong replicas report; above 1 they disagree and each gets the routes of its own flavor",
            router_flavors.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this controller holds the leader Lease",
            leader.clone(),
        );
        Metrics {
            registry,
            translation_seconds,
            translation_problems,
            objects,
            undecodable,
            config_bytes,
            push_seconds,
            pushes,
            replica_in_sync,
            replica_last_success,
            replica_config,
            exclusions,
            events,
            watch_errors,
            replicas,
            router_flavors,
            leader,
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// `replica` moved from config `old` to `new` (None: it is gone).
    pub fn replica_config(&self, replica: &str, old: Option<&String>, new: Option<&String>) {
        let label = |hash: &String| ConfigLabel {
            replica: replica.to_string(),
            hash: hash.clone(),
        };
        if let Some(old) = old.filter(|o| Some(*o) != new) {
            self.replica_config.remove(&label(old));
        }
        if let Some(new) = new {
            self.replica_config.get_or_create(&label(new)).set(1);
        }
    }

    /// A replica reported: its push results start at 0, so the first rejection is an
    /// increase, and it is out of sync until it holds a config.
    pub fn replica_seen(&self, replica: &str) {
        for result in PUSH_RESULTS {
            let label = PushLabel {
                replica: replica.to_string(),
                result: result.to_string(),
            };
            let _ = self.pushes.get_or_create(&label);
        }
    }

    /// A replica went away: its series go too (they would alert, and pile up as pods churn).
    pub fn replica_gone(&self, replica: &str, held: Option<&String>) {
        let label = ReplicaLabel {
            replica: replica.to_string(),
        };
        self.replica_in_sync.remove(&label);
        self.replica_last_success.remove(&label);
        self.push_seconds.remove(&label);
        for result in PUSH_RESULTS {
            self.pushes.remove(&PushLabel {
                replica: replica.to_string(),
                result: result.to_string(),
            });
        }
        self.replica_config(replica, held, None);
    }

    pub fn push(&self, replica: &str, result: &str) {
        self.pushes
            .get_or_create(&PushLabel {
                replica: replica.to_string(),
                result: result.to_string(),
            })
            .inc();
    }
}
