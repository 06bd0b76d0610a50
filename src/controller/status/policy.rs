//! KongUpstreamPolicy `status.ancestors`: one entry per Service that names the policy, as KIC
//! writes it (`ancestorRef: {group: core, kind: Service}`), with `Accepted` and `Programmed`,
//! and, with the KongServiceFacade gate on, one per KongServiceFacade of our class that names
//! it (KIC v3.5.13 `kongupstreampolicy_utils.go` 253-335, 420-481: `Programmed` once its Kong
//! service is configured, else `Pending`), oldest first, then by kind, namespace and name.
//!
//! Entries of other controllers (another `controllerName`) are kept as they are; the list is
//! treated as a map keyed by (ancestorRef, controllerName), as Gateway API asks.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;

use super::conditions::{self, Wanted};
use super::{Inputs, PlanScope, StatusWrite};
use crate::api::{KongUpstreamPolicy, Service};
use crate::crd::{ParentReference, PolicyAncestorStatus};
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::backends::upstream_policy::ANNOTATION;
use crate::translate::{NamespacedName, Reason, object_key};

/// Gateway API's limit on `status.ancestors`.
pub const MAX_ANCESTORS: usize = 16;

/// Gateway API policy condition types and reasons.
const ACCEPTED: &str = "Accepted";
const PROGRAMMED: &str = "Programmed";
const CONFLICTED: &str = "Conflicted";
const INVALID: &str = "Invalid";
const PENDING: &str = "Pending";
/// kingress's reason: Kong cannot build the consistent-hashing ring of the upstream.
const RING_CAPACITY: &str = "RingCapacity";

pub fn plan(snapshot: &Snapshot, inputs: &Inputs<'_>, scope: PlanScope<'_>) -> Vec<StatusWrite> {
    let PlanScope::Namespace(ns) = scope else {
        return Vec::new();
    };
    snapshot
        .upstream_policies_in(Some(ns))
        .filter_map(|p| write_for(snapshot, p, inputs))
        .collect()
}

fn write_for(
    snapshot: &Snapshot,
    policy: &KongUpstreamPolicy,
    inputs: &Inputs<'_>,
) -> Option<StatusWrite> {
    let current: &[PolicyAncestorStatus] = policy
        .status
        .as_ref()
        .map_or(&[], |s| s.ancestors.as_slice());
    let wanted = ancestors(snapshot, policy, inputs);
    let current_json = serde_json::to_value(current).ok()?;
    let wanted_json = serde_json::to_value(&wanted).ok()?;
    if current_json == wanted_json {
        return None;
    }
    Some(StatusWrite {
        kind: Kind::KongUpstreamPolicy,
        namespace: policy.namespace().unwrap_or_default(),
        name: policy.name_any(),
        precondition: policy.metadata.resource_version.clone(),
        status: serde_json::json!({ "ancestors": wanted_json }),
    })
}

/// What names the policy: a Service, or a KongServiceFacade.
enum Ancestor<'a> {
    Service(&'a Service),
    Facade(&'a crate::api::KongServiceFacade),
}

impl Ancestor<'_> {
    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Ancestor::Service(s) => &s.metadata,
            Ancestor::Facade(f) => &f.metadata,
        }
    }

    /// KIC's ancestor kind (also its sort key after the creation time).
    fn kind(&self) -> &'static str {
        match self {
            Ancestor::Service(_) => "Service",
            Ancestor::Facade(_) => "KongServiceFacade",
        }
    }

    fn reference(&self) -> ParentReference {
        let meta = self.meta();
        ParentReference {
            group: Some(
                match self {
                    Ancestor::Service(_) => "core",
                    Ancestor::Facade(_) => crate::crd::INCUBATOR_GROUP,
                }
                .into(),
            ),
            kind: Some(self.kind().into()),
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone(),
            port: None,
            section_name: None,
        }
    }
}

/// The Services and facades naming the policy, in KIC's order (KIC keeps the oldest when
/// there are more than 16).
fn named_by<'a>(
    snapshot: &'a Snapshot,
    policy: &KongUpstreamPolicy,
    inputs: &Inputs<'_>,
) -> Vec<Ancestor<'a>> {
    let ns = policy.namespace().unwrap_or_default();
    let name = policy.name_any();
    let mut out: Vec<Ancestor<'a>> = services(snapshot, policy)
        .into_iter()
        .map(Ancestor::Service)
        .collect();
    if inputs.service_facades {
        out.extend(
            crate::snapshot::in_namespace(&snapshot.kong_service_facades, Some(&ns))
                .filter(|f| f.annotations().get(ANNOTATION) == Some(&name))
                .filter(|f| {
                    crate::translate::ingress_class::annotated(snapshot, inputs.ingress_class, *f)
                })
                .map(Ancestor::Facade),
        );
    }
    out.sort_by(|a, b| {
        let key = |x: &Ancestor<'_>| {
            let m = x.meta();
            (
                m.creation_timestamp.clone(),
                x.kind(),
                m.namespace.clone(),
                m.name.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}

/// The Services in the policy's namespace whose annotation names it, oldest first (KIC keeps
/// the oldest when there are more than 16).
fn services<'a>(snapshot: &'a Snapshot, policy: &KongUpstreamPolicy) -> Vec<&'a Service> {
    let ns = policy.namespace().unwrap_or_default();
    let name = policy.name_any();
    let mut out: Vec<&Service> = snapshot
        .services_in(Some(&ns))
        .filter(|s| s.annotations().get(ANNOTATION) == Some(&name))
        .collect();
    out.sort_by(|a, b| {
        (&a.metadata.creation_timestamp, a.name_any())
            .cmp(&(&b.metadata.creation_timestamp, b.name_any()))
    });
    out
}

/// The whole wanted `status.ancestors`: other controllers' entries, then ours.
fn ancestors(
    snapshot: &Snapshot,
    policy: &KongUpstreamPolicy,
    inputs: &Inputs<'_>,
) -> Vec<PolicyAncestorStatus> {
    let current: &[PolicyAncestorStatus] = policy
        .status
        .as_ref()
        .map_or(&[], |s| s.ancestors.as_slice());
    let mut out: Vec<PolicyAncestorStatus> = current
        .iter()
        .filter(|a| a.controller_name != inputs.controller_name)
        .take(MAX_ANCESTORS)
        .cloned()
        .collect();
    let room = MAX_ANCESTORS - out.len();
    let all = named_by(snapshot, policy, inputs);
    if all.len() > room {
        tracing::info!(
            policy = %format!("{}/{}", policy.namespace().unwrap_or_default(), policy.name_any()),
            services = all.len(),
            max = MAX_ANCESTORS,
            "more Services use this KongUpstreamPolicy than its status can list; the newest are left out"
        );
    }
    for ancestor in all.into_iter().take(room) {
        let ancestor_ref = ancestor.reference();
        let existing: &[Condition] = current
            .iter()
            .find(|a| a.controller_name == inputs.controller_name && a.ancestor_ref == ancestor_ref)
            .map_or(&[], |a| a.conditions.as_slice());
        let wanted = match ancestor {
            Ancestor::Service(service) => conditions_for(policy, service, inputs, existing),
            Ancestor::Facade(facade) => facade_conditions(facade, inputs, existing),
        };
        out.push(PolicyAncestorStatus {
            ancestor_ref,
            controller_name: inputs.controller_name.to_string(),
            conditions: conditions::build(wanted, existing, policy.metadata.generation, inputs.now),
        });
    }
    out
}

/// A facade's conditions: Accepted, and Programmed once a replica holds its Kong service.
fn facade_conditions(
    facade: &crate::api::KongServiceFacade,
    inputs: &Inputs<'_>,
    existing: &[Condition],
) -> Vec<Wanted> {
    let key = object_key(
        Kind::KongServiceFacade,
        facade.metadata.namespace.as_deref().unwrap_or_default(),
        facade.metadata.name.as_deref().unwrap_or_default(),
    );
    let applied = |facts: &crate::translate::Facts| facts.configured.contains(&key);
    let programmed = conditions::programmed_or_pending(inputs.programmed, applied, existing);
    vec![Wanted::new(ACCEPTED, true, ACCEPTED, ""), programmed]
}

fn conditions_for(
    policy: &KongUpstreamPolicy,
    service: &Service,
    inputs: &Inputs<'_>,
    existing: &[Condition],
) -> Vec<Wanted> {
    let policy_key: NamespacedName = (policy.namespace().unwrap_or_default(), policy.name_any());
    let service_key: NamespacedName = (service.namespace().unwrap_or_default(), service.name_any());
    let excluded =
        inputs.state.exclusions.iter().find(|e| {
            e.object == object_key(Kind::KongUpstreamPolicy, &policy_key.0, &policy_key.1)
        });
    if let Some(e) = excluded {
        let message = format!(
            "Kong rejected the upstream configuration built from this policy ({}): {}",
            e.outcome(),
            e.reason
        );
        return vec![
            Wanted::new(ACCEPTED, false, INVALID, message.clone()),
            Wanted::new(PROGRAMMED, false, INVALID, message),
        ];
    }
    if let Some(message) = conflict_message(inputs, &policy_key, &service_key) {
        return vec![
            Wanted::new(ACCEPTED, false, CONFLICTED, message.clone()),
            Wanted::new(PROGRAMMED, false, PENDING, message),
        ];
    }
    // Kong accepts the upstream but cannot build its consistent-hashing ring: the Service
    // gets 503s, so the policy is not in effect there.
    let ring_fails = inputs.state.problems.iter().find(|p| {
        p.reason == Reason::RingCapacity
            && p.object.kind == Kind::Service
            && p.object.name == service_key.1
            && p.object.namespace.as_deref() == Some(service_key.0.as_str())
            && p.message.contains("cannot build")
    });
    if let Some(p) = ring_fails {
        return vec![
            Wanted::new(ACCEPTED, true, ACCEPTED, ""),
            Wanted::new(PROGRAMMED, false, RING_CAPACITY, p.message.clone()),
        ];
    }
    let applied = |facts: &crate::translate::Facts| {
        let services = facts.policy_services.get(&policy_key);
        services.is_some_and(|s| s.contains(&service_key))
    };
    let programmed = conditions::programmed_or_pending(inputs.programmed, applied, existing);
    vec![Wanted::new(ACCEPTED, true, ACCEPTED, ""), programmed]
}

/// Why the policy is not applied to `service`'s upstream, when a route rule puts it next to
/// backends that name another policy or none.
fn conflict_message(
    inputs: &Inputs<'_>,
    policy: &NamespacedName,
    service: &NamespacedName,
) -> Option<String> {
    let facts = &inputs.state.facts;
    if !facts.policy_conflicted(policy, service) {
        return None;
    }
    let conflicts: Vec<String> = facts
        .policy_conflicts
        .iter()
        .filter(|c| {
            c.backends
                .iter()
                .any(|(s, p)| s == service && p.as_deref() == Some(policy.1.as_str()))
        })
        .map(|c| {
            let others: Vec<String> = c
                .backends
                .iter()
                .filter(|(_, p)| p.as_deref() != Some(policy.1.as_str()))
                .map(|((ns, name), p)| match p {
                    Some(p) => format!("Service {ns}/{name} (policy {p})"),
                    None => format!("Service {ns}/{name} (no policy)"),
                })
                .collect();
            format!(
                "{} shares upstream {} with {}",
                c.owner,
                c.upstream,
                others.join(", ")
            )
        })
        .collect();
    Some(format!(
        "Service {}/{} is a backend of a route rule whose other backends do not use this policy, so no policy is applied there: {}",
        service.0,
        service.1,
        conflicts.join("; ")
    ))
}
