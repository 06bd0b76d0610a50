//! Kubernetes Events (events.k8s.io/v1, reportingController `kingress`) on the objects that
//! failed to translate or that Kong rejected, with KIC's reasons.
//!
//! Each (object, reason, message) is announced once while it lasts, not on every
//! translation; when it goes away and comes back it is announced again.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::field_limits::{EVENT_NOTE, truncate};
use super::metrics::ReasonLabel;
use super::sync::SyncState;
use crate::kinds::{ObjectKey, Stored, with_kind};
use crate::snapshot::Snapshot;
use crate::translate::{Problem, Severity};

pub const REPORTING_CONTROLLER: &str = "kingress";
pub const TRANSLATION_FAILED: &str = "KongConfigurationTranslationFailed";
pub const APPLY_FAILED: &str = "KongConfigurationApplyFailed";
/// Translated, but Kong will not do what the object seems to ask (kingress's own reason).
pub const TRANSLATION_WARNING: &str = "KongConfigurationWarning";
/// Translated with an adjustment the object asked for (Normal event).
pub const TRANSLATION_NOTE: &str = "KongConfigurationAdjusted";

/// What makes an Event new.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventKey {
    /// kind, namespace, name, uid of the object the Event is about.
    pub regarding: (String, String, String, String),
    pub reason: &'static str,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WantedEvent {
    pub key: EventKey,
    pub regarding: ObjectReference,
    pub action: &'static str,
}

impl WantedEvent {
    fn new(
        regarding: ObjectReference,
        reason: &'static str,
        action: &'static str,
        note: String,
    ) -> Self {
        let note = truncate(note, EVENT_NOTE);
        let key = EventKey {
            regarding: (
                regarding.kind.clone().unwrap_or_default(),
                regarding.namespace.clone().unwrap_or_default(),
                regarding.name.clone().unwrap_or_default(),
                regarding.uid.clone().unwrap_or_default(),
            ),
            reason,
            note,
        };
        WantedEvent {
            key,
            regarding,
            action,
        }
    }
}

/// Every Event the current state calls for (already sent ones included), in a stable order.
pub fn wanted(snapshot: &Snapshot, state: &SyncState) -> Vec<WantedEvent> {
    let mut out: Vec<WantedEvent> = state
        .problems
        .iter()
        .map(|p| {
            let reason = match p.severity {
                Severity::Error => TRANSLATION_FAILED,
                // Kong will not do what the object seems to ask (or kingress adjusted it on
                // request): users see it with `kubectl describe`.
                Severity::Warning => TRANSLATION_WARNING,
                Severity::Info => TRANSLATION_NOTE,
            };
            WantedEvent::new(problem_ref(p), reason, "Translate", problem_note(p))
        })
        .collect();
    for e in &state.exclusions {
        let Some(regarding) = object_ref(snapshot, &e.object) else {
            continue; // Gone: nothing to attach the Event to.
        };
        let note = format!(
            "Kong rejected the configuration built from {}; {}: {}",
            e.object,
            e.outcome(),
            e.reason
        );
        out.push(WantedEvent::new(regarding, APPLY_FAILED, "Apply", note));
    }
    for (key, why) in &snapshot.undecodable {
        let info = key.kind.info();
        let regarding = ObjectReference {
            api_version: Some(info.preferred_api_version()),
            kind: Some(key.kind.as_str().to_string()),
            namespace: Some(key.namespace.clone()).filter(|ns| !ns.is_empty()),
            name: Some(key.name.clone()),
            uid: why.uid.clone(),
            ..ObjectReference::default()
        };
        let note = format!(
            "kingress cannot read {key}, which is left out until it can: {}",
            why.error
        );
        out.push(WantedEvent::new(
            regarding,
            TRANSLATION_FAILED,
            "Translate",
            note,
        ));
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup_by(|a, b| a.key == b.key);
    out
}

fn problem_note(p: &Problem) -> String {
    match &p.field {
        Some(f) => format!("{f}: {}", p.message),
        None => p.message.clone(),
    }
}

fn problem_ref(p: &Problem) -> ObjectReference {
    let o = &p.object;
    ObjectReference {
        api_version: Some(o.api_version()),
        kind: Some(o.kind.as_str().to_string()),
        name: Some(o.name.clone()),
        namespace: o.namespace.clone(),
        uid: o.uid.clone(),
        ..ObjectReference::default()
    }
}

/// A reference to a snapshot object, as kube's `Resource::object_ref` makes it.
fn object_ref(snapshot: &Snapshot, key: &ObjectKey) -> Option<ObjectReference> {
    let (name, namespace, uid) = with_kind!(key.kind, |K| {
        let meta = snapshot
            .stored::<K>(&key.namespace, &key.name)?
            .metadata()?;
        (meta.name.clone(), meta.namespace.clone(), meta.uid.clone())
    });
    Some(ObjectReference {
        api_version: Some(key.kind.info().api_version(snapshot.read_version(key))),
        kind: Some(key.kind.as_str().to_string()),
        name,
        namespace,
        uid,
        ..ObjectReference::default()
    })
}

/// How a batch of sends went.
#[derive(Debug, Default)]
pub struct Sent {
    /// No send failed.
    pub all_sent: bool,
    /// Some Events wait for the next round (budget used up).
    pub deferred: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot create Event {reason} on {kind} {namespace}/{name}: {source}")]
pub struct EventError {
    reason: &'static str,
    kind: String,
    namespace: String,
    name: String,
    #[source]
    source: kube::Error,
}

/// Remembers which Events were sent.
pub struct EventLog {
    client: kube::Client,
    instance: String,
    sent: BTreeSet<EventKey>,
    written: Family<ReasonLabel, Counter>,
}

impl EventLog {
    pub fn new(client: kube::Client, written: Family<ReasonLabel, Counter>) -> Self {
        // Tells replicas apart in `reportingInstance`, as KIC uses the pod name.
        let instance = std::env::var("POD_NAME")
            .or_else(|_| std::env::var("HOSTNAME"))
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .unwrap_or_else(|| REPORTING_CONTROLLER.to_string());
        // At zero from the start, so the first Event of a reason is an increase.
        for reason in [
            TRANSLATION_FAILED,
            TRANSLATION_WARNING,
            TRANSLATION_NOTE,
            APPLY_FAILED,
        ] {
            let label = ReasonLabel {
                reason: reason.to_string(),
            };
            let _ = written.get_or_create(&label);
        }
        EventLog {
            client,
            instance,
            sent: BTreeSet::new(),
            written,
        }
    }

    /// Every Event the current state calls for.
    pub fn wanted(&self, snapshot: &Snapshot, state: &SyncState) -> Vec<WantedEvent> {
        wanted(snapshot, state)
    }

    /// Sends the wanted Events not sent yet, spending at most `budget` requests.
    pub async fn send(&mut self, wanted: Vec<WantedEvent>, budget: &mut usize) -> Sent {
        let active: BTreeSet<&EventKey> = wanted.iter().map(|w| &w.key).collect();
        // What is no longer the case may be announced again if it comes back.
        self.sent.retain(|k| active.contains(k));
        let mut result = Sent {
            all_sent: true,
            deferred: false,
        };
        for w in wanted {
            if self.sent.contains(&w.key) {
                continue;
            }
            if *budget == 0 {
                result.deferred = true;
                break;
            }
            *budget -= 1;
            match self.create(&w).await {
                Ok(()) => {
                    let reason = ReasonLabel {
                        reason: w.key.reason.to_string(),
                    };
                    self.written.get_or_create(&reason).inc();
                    self.sent.insert(w.key);
                }
                Err(e) => {
                    result.all_sent = false;
                    tracing::warn!(error = %e, "retrying next round");
                }
            }
        }
        result
    }

    async fn create(&self, w: &WantedEvent) -> Result<(), EventError> {
        let now = k8s_openapi::jiff::Timestamp::now();
        let (kind, ns, name, _) = &w.key.regarding;
        // Cluster-scoped objects get their Events in `default`, as kube and client-go do.
        let namespace = if ns.is_empty() {
            "default"
        } else {
            ns.as_str()
        };
        let event = Event {
            action: Some(w.action.to_string()),
            event_time: Some(MicroTime(now)),
            metadata: ObjectMeta {
                name: Some(format!("{name}.{:x}", now.as_nanosecond())),
                namespace: Some(namespace.to_string()),
                ..ObjectMeta::default()
            },
            note: Some(w.key.note.clone()),
            reason: Some(w.key.reason.to_string()),
            regarding: Some(w.regarding.clone()),
            reporting_controller: Some(REPORTING_CONTROLLER.to_string()),
            reporting_instance: Some(self.instance.clone()),
            type_: Some(
                if w.key.reason == TRANSLATION_NOTE {
                    "Normal"
                } else {
                    "Warning"
                }
                .to_string(),
            ),
            ..Event::default()
        };
        Api::<Event>::namespaced(self.client.clone(), namespace)
            .create(&PostParams::default(), &event)
            .await
            .map(drop)
            .map_err(|source| EventError {
                reason: w.key.reason,
                kind: kind.clone(),
                namespace: ns.clone(),
                name: name.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::controller::sync::Exclusion;
    use crate::kinds::Kind;
    use crate::translate::names::ObjectRef;
    use crate::translate::{Reason, object_key};

    fn problem(severity: Severity, message: &str) -> Problem {
        Problem {
            severity,
            reason: Reason::ServiceNotFound,
            object: ObjectRef::new(Kind::Ingress, Some("ns"), "web").with_uid(Some("u1")),
            field: Some("spec.rules[0].http.paths[0].backend.service.name".into()),
            message: message.into(),
        }
    }

    #[test]
    fn errors_and_warnings_become_events_with_the_field() {
        let state = SyncState {
            problems: vec![
                problem(Severity::Error, "Service ns/ghost not found"),
                problem(Severity::Warning, "only a warning"),
            ],
            ..SyncState::default()
        };
        let events = wanted(&Snapshot::new(), &state);
        assert_eq!(events.len(), 2);
        let e = events
            .iter()
            .find(|e| e.key.reason == TRANSLATION_FAILED)
            .expect("the error's event");
        assert!(
            events
                .iter()
                .any(|e| e.key.reason == TRANSLATION_WARNING
                    && e.key.note.ends_with("only a warning"))
        );
        assert_eq!(
            e.key.note,
            "spec.rules[0].http.paths[0].backend.service.name: Service ns/ghost not found"
        );
        assert_eq!(
            e.regarding.api_version.as_deref(),
            Some("networking.k8s.io/v1")
        );
        assert_eq!(e.regarding.uid.as_deref(), Some("u1"));
    }

    #[test]
    fn exclusions_of_objects_that_are_gone_send_nothing() {
        let state = SyncState {
            exclusions: vec![Exclusion {
                object: object_key(Kind::KongUpstreamPolicy, "ns", "p"),
                fingerprint: None,
                reason: "hash_fallback: bad".into(),
                restored: false,
            }],
            facts: Arc::default(),
            ..SyncState::default()
        };
        assert!(wanted(&Snapshot::new(), &state).is_empty());
    }
}
