//! GatewayClass and Gateway status, for the GatewayClasses whose `controllerName` is ours, as
//! KIC v3.5.13 writes them for its (unmanaged) classes
//! (`internal/controllers/gateway/gatewayclass_controller.go`, `gateway_controller.go` and
//! `gateway_utils.go`, cited below as GC, GW and GU):
//! - GatewayClass: `Accepted=True` (GC 139-146);
//! - Gateway: `Accepted=True`, `Programmed=True` once a Kong replica holds a configuration
//!   (KIC: once translated, GW 870-901), `status.addresses` as Ingresses get them (the publish
//!   Service's load balancer, else its ClusterIP, or `--publish-status-address`; KIC takes
//!   only load-balancer entries, GW 718-794, leaving a ClusterIP-only Gateway without any),
//!   and per listener `supportedKinds`, `attachedRoutes` and the conditions `Accepted`,
//!   `Conflicted`, `ResolvedRefs` and `Programmed` (GU 231-525).
//!
//! The listener rules are in [`crate::translate::gateway::listeners`], which translation reads too;
//! with `--publish-service`, status also checks each listener against the ports Kong serves
//! ([`super::kong_listens`]), which translation cannot know. KIC writes Gateway status only
//! for classes annotated `konghq.com/gatewayclass-unmanaged` (its managed mode leaves it to Kong
//! Gateway Operator); kingress has no managed mode and writes it for every class of its own.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use serde_json::{Value, json};

use gateway_api::apis::standard::gateways::{
    GatewayListeners, GatewayStatusAddresses, GatewayStatusListeners,
};

use super::conditions::{self, Wanted};
use super::{Inputs, PlanScope, StatusWrite};
use crate::api::{Gateway, GatewayClass};
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::gateway::{attachment, hostnames, listeners};

const ACCEPTED: &str = "Accepted";
const PROGRAMMED: &str = "Programmed";
const CONFLICTED: &str = "Conflicted";
const RESOLVED_REFS: &str = "ResolvedRefs";

pub fn plan(snapshot: &Snapshot, inputs: &Inputs<'_>, scope: PlanScope<'_>) -> Vec<StatusWrite> {
    match scope {
        PlanScope::Cluster => snapshot
            .gateway_classes
            .values()
            .filter(|c| c.spec.controller_name == inputs.controller_name)
            .filter_map(|c| class_write(c, inputs))
            .collect(),
        PlanScope::Namespace(ns) => snapshot
            .gateways_in(Some(ns))
            .filter(|g| ours(snapshot, g, inputs.controller_name))
            .filter_map(|g| gateway_write(snapshot, g, inputs))
            .collect(),
    }
}

fn ours(snapshot: &Snapshot, gateway: &Gateway, controller_name: &str) -> bool {
    snapshot
        .gateway_class(&gateway.spec.gateway_class_name)
        .is_some_and(|c| c.spec.controller_name == controller_name)
}

/// Conditions of other types (another controller's, or ones kingress does not set) stay.
fn with_others(ours: Vec<Condition>, existing: &[Condition]) -> Vec<Condition> {
    let mut out: Vec<Condition> = existing
        .iter()
        .filter(|c| !ours.iter().any(|o| o.type_ == c.type_))
        .cloned()
        .collect();
    out.extend(ours);
    out
}

fn class_write(class: &GatewayClass, inputs: &Inputs<'_>) -> Option<StatusWrite> {
    let existing: &[Condition] = class
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let accepted = Wanted::new(
        ACCEPTED,
        true,
        ACCEPTED,
        "the gatewayclass has been accepted by the controller",
    );
    let wanted = with_others(
        conditions::build(
            vec![accepted],
            existing,
            class.metadata.generation,
            inputs.now,
        ),
        existing,
    );
    let wanted = serde_json::to_value(&wanted).ok()?;
    if serde_json::to_value(existing).ok()? == wanted {
        return None;
    }
    Some(StatusWrite {
        kind: Kind::GatewayClass,
        namespace: String::new(),
        name: class.name_any(),
        precondition: class.metadata.resource_version.clone(),
        status: json!({ "conditions": wanted }),
    })
}

fn gateway_write(
    snapshot: &Snapshot,
    gateway: &Gateway,
    inputs: &Inputs<'_>,
) -> Option<StatusWrite> {
    let status = gateway.status.as_ref();
    let existing: &[Condition] = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let generation = gateway.metadata.generation;
    let current_listeners = status
        .and_then(|s| s.listeners.as_deref())
        .unwrap_or_default();
    let listeners = listeners(snapshot, gateway, inputs, current_listeners);
    let accepted = gateway_accepted(gateway, &listeners);
    let programmed = match accepted.status {
        false => Wanted::new(PROGRAMMED, false, "Invalid", "the Gateway is not accepted"),
        // Any accepted configuration programs the Gateway: its listeners are Kong's own.
        true => conditions::programmed_or_pending(inputs.programmed, |_| true, existing),
    };
    let conditions = with_others(
        conditions::build(vec![accepted, programmed], existing, generation, inputs.now),
        existing,
    );
    let mut wanted = json!({
        "conditions": conditions,
        "listeners": listeners,
    });
    let addresses = addresses(inputs.addresses);
    if !addresses.is_empty() {
        wanted["addresses"] = serde_json::to_value(addresses).ok()?;
    }
    let mut current = serde_json::to_value(status).ok()?;
    if let Some(c) = current.as_object_mut() {
        c.retain(|k, _| matches!(k.as_str(), "conditions" | "listeners" | "addresses"));
    }
    if current == wanted {
        return None;
    }
    if wanted.get("addresses").is_none() {
        // A merge patch leaves an absent key alone: clear addresses that no longer hold.
        wanted["addresses"] = Value::Null;
    }
    Some(StatusWrite {
        kind: Kind::Gateway,
        namespace: gateway.namespace().unwrap_or_default(),
        name: gateway.name_any(),
        precondition: gateway.metadata.resource_version.clone(),
        status: wanted,
    })
}

/// The Ingress load-balancer entries (`{ip}` or `{hostname}`) as Gateway addresses.
fn addresses(entries: &[Value]) -> Vec<GatewayStatusAddresses> {
    entries
        .iter()
        .flat_map(|e| {
            let ip = e["ip"].as_str().map(|v| ("IPAddress", v));
            let host = e["hostname"].as_str().map(|v| ("Hostname", v));
            ip.into_iter().chain(host)
        })
        .map(|(t, v)| GatewayStatusAddresses {
            r#type: Some(t.to_string()),
            value: v.to_string(),
        })
        .collect()
}

/// The Gateway's `Accepted`, as the spec has it (KIC always accepts, GW 548-560): not with
/// `spec.infrastructure.parametersRef`, which kingress takes none of (`InvalidParameters`), nor
/// without an accepted listener; accepted with reason `ListenersNotValid` when some listener is
/// not (conformance tests GatewayInvalidParametersRef, GatewayListenerUnsupportedProtocol).
fn gateway_accepted(gateway: &Gateway, listeners: &[GatewayStatusListeners]) -> Wanted {
    let parameters = gateway
        .spec
        .infrastructure
        .as_ref()
        .and_then(|i| i.parameters_ref.as_ref());
    if let Some(p) = parameters {
        return Wanted::new(
            ACCEPTED,
            false,
            "InvalidParameters",
            format!(
                "kingress takes no Gateway parameters: spec.infrastructure.parametersRef ({} {}/{}) is not supported",
                p.kind, p.group, p.name
            ),
        );
    }
    let not_accepted: Vec<&str> = listeners
        .iter()
        .filter(|l| {
            l.conditions
                .iter()
                .any(|c| c.type_ == ACCEPTED && c.status == "False")
        })
        .map(|l| l.name.as_str())
        .collect();
    match (
        not_accepted.is_empty(),
        not_accepted.len() == listeners.len(),
    ) {
        (true, _) => Wanted::new(ACCEPTED, true, ACCEPTED, ""),
        (false, true) => Wanted::new(
            ACCEPTED,
            false,
            "ListenersNotValid",
            format!("no listener is accepted: {}", not_accepted.join(", ")),
        ),
        (false, false) => Wanted::new(
            ACCEPTED,
            true,
            "ListenersNotValid",
            format!("listeners not accepted: {}", not_accepted.join(", ")),
        ),
    }
}

/// Each listener's status.
fn listeners(
    snapshot: &Snapshot,
    gateway: &Gateway,
    inputs: &Inputs<'_>,
    current: &[GatewayStatusListeners],
) -> Vec<GatewayStatusListeners> {
    let wanted = |t: &'static str, r: &Result<(), listeners::Failure>, ok: &'static str| match r {
        Ok(()) => Wanted::new(t, true, ok, ""),
        Err((reason, message)) => Wanted::new(t, false, reason, message.clone()),
    };
    let checks = listeners::check(snapshot, gateway);
    gateway
        .spec
        .listeners
        .iter()
        .zip(checks)
        .map(|(l, check)| {
            let mut check = check.for_status(l);
            if let (Ok(()), Some(kong)) = (&check.accepted, inputs.kong_listens) {
                check.accepted = kong.accepts(l);
            }
            let existing: &[Condition] = current
                .iter()
                .find(|c| c.name == l.name)
                .map_or(&[], |c| c.conditions.as_slice());
            let accepted = wanted(ACCEPTED, &check.accepted, ACCEPTED);
            let resolved = wanted(RESOLVED_REFS, &check.resolved, RESOLVED_REFS);
            let conflicted = match check.conflict {
                Some(reason) => Wanted::new(CONFLICTED, true, reason, ""),
                None => Wanted::new(CONFLICTED, false, "NoConflicts", ""),
            };
            let programmed = match check.valid() {
                true => Wanted::new(PROGRAMMED, true, PROGRAMMED, ""),
                false => Wanted::new(PROGRAMMED, false, "Invalid", ""),
            };
            let takes_routes = listeners::served(l)
                && !matches!(check.resolved, Err(("InvalidRouteKinds", _)))
                && !check.kinds.is_empty();
            let attached = match takes_routes {
                true => attached_routes(snapshot, gateway, l, inputs.controller_name),
                false => 0,
            };
            GatewayStatusListeners {
                attached_routes: attached,
                conditions: conditions::build(
                    vec![accepted, conflicted, programmed, resolved],
                    existing,
                    gateway.metadata.generation,
                    inputs.now,
                ),
                name: l.name.clone(),
                supported_kinds: Some(check.kinds),
            }
        })
        .collect()
}

/// Routes (of every kind) attached through this listener, as the translator attaches them
/// (section name, port, kinds, allowed namespaces).
fn attached_routes(
    snapshot: &Snapshot,
    gateway: &Gateway,
    listener: &GatewayListeners,
    controller_name: &str,
) -> i32 {
    let gw_ns = gateway.namespace().unwrap_or_default();
    let gw_name = gateway.name_any();
    let count = snapshot
        .gateway_routes_in(None)
        .filter(|route| {
            let route_ns = route.namespace();
            attachment::our_parents(snapshot, route, controller_name)
                .into_iter()
                .any(|(parent, g)| {
                    g.namespace().unwrap_or_default() == gw_ns
                        && g.name_any() == gw_name
                        && attachment::named_listeners(parent, g)
                            .into_iter()
                            .any(|l| l.name == listener.name)
                        && attachment::listener_admits(
                            snapshot, listener, &gw_ns, route.kind, route_ns,
                        )
                        && hostnames::listener_matches(listener, route.hostnames)
                })
        })
        .count();
    i32::try_from(count).unwrap_or(i32::MAX)
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
