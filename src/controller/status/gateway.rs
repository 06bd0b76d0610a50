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
//! Where kingress serves less than KIC it says so instead of claiming it: listeners other than
//! HTTP and HTTPS are `Accepted=False/UnsupportedProtocol` (kingress has no L4 routes yet), an
//! HTTPRoute is the only supported kind, and an HTTPS listener's certificates are not yet
//! configured in Kong (`Programmed=False/Pending`, docs). KIC writes Gateway status only for
//! classes annotated `konghq.com/gatewayclass-unmanaged` (its managed mode leaves it to Kong
//! Gateway Operator); kingress has no managed mode and writes it for every class of its own.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use serde_json::{Value, json};

use gateway_api::apis::standard::gateways::{
    GatewayListeners, GatewayStatusAddresses, GatewayStatusListeners,
    GatewayStatusListenersSupportedKinds,
};

use super::conditions::{self, Wanted};
use super::{Inputs, PlanScope, StatusWrite};
use crate::api::{GATEWAY_GROUP, Gateway, GatewayClass};
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::gateway::{attachment, grants, hostnames};

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
    let accepted = Wanted::new(ACCEPTED, true, ACCEPTED, "");
    let pending = Wanted::new(
        PROGRAMMED,
        false,
        "Pending",
        "not yet in a configuration a Kong replica accepted",
    );
    let programmed = match inputs.programmed {
        Some(_) => Wanted::new(PROGRAMMED, true, PROGRAMMED, ""),
        None => Wanted::keep_or(PROGRAMMED, existing, pending),
    };
    let conditions = with_others(
        conditions::build(vec![accepted, programmed], existing, generation, inputs.now),
        existing,
    );
    let current_listeners = status
        .and_then(|s| s.listeners.as_deref())
        .unwrap_or_default();
    let listeners = listeners(snapshot, gateway, inputs, current_listeners);
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

fn listeners(
    snapshot: &Snapshot,
    gateway: &Gateway,
    inputs: &Inputs<'_>,
    current: &[GatewayStatusListeners],
) -> Vec<GatewayStatusListeners> {
    let all = &gateway.spec.listeners;
    let conflicts = conflicts(all);
    all.iter()
        .enumerate()
        .map(|(i, l)| {
            let existing: &[Condition] = current
                .iter()
                .find(|c| c.name == l.name)
                .map_or(&[], |c| c.conditions.as_slice());
            let (kinds, kinds_ok) = supported_kinds(l);
            let served = matches!(l.protocol.as_str(), "HTTP" | "HTTPS");
            let accepted = match served {
                true => Wanted::new(ACCEPTED, true, ACCEPTED, ""),
                false => Wanted::new(
                    ACCEPTED,
                    false,
                    "UnsupportedProtocol",
                    format!(
                        "kingress serves HTTPRoutes on HTTP and HTTPS listeners; {} is not supported yet",
                        l.protocol
                    ),
                ),
            };
            let resolved = resolved_refs(snapshot, gateway, l, kinds_ok);
            let conflicted = match conflicts[i] {
                Some(reason) => Wanted::new(CONFLICTED, true, reason, ""),
                None => Wanted::new(CONFLICTED, false, "NoConflicts", ""),
            };
            let valid = accepted.status && resolved.status && !conflicted.status;
            let has_certificates = l
                .tls
                .as_ref()
                .is_some_and(|t| t.certificate_refs.as_ref().is_some_and(|c| !c.is_empty()));
            let programmed = if !valid {
                Wanted::new(PROGRAMMED, false, "Invalid", "")
            } else if l.protocol == "HTTPS" && has_certificates {
                Wanted::new(
                    PROGRAMMED,
                    false,
                    "Pending",
                    "kingress does not configure listener certificates in Kong yet: HTTPS requests get Kong's default certificate",
                )
            } else {
                Wanted::new(PROGRAMMED, true, PROGRAMMED, "")
            };
            let attached = match served && kinds_ok && kinds.iter().any(|k| k.kind == "HTTPRoute") {
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
                supported_kinds: Some(kinds),
            }
        })
        .collect()
}

/// The route kinds a listener takes, and whether every kind it asks for is supported
/// (GU 609-646): without `allowedRoutes.kinds`, HTTPRoute for HTTP and HTTPS (kingress serves
/// no other kind yet) and none otherwise; with them, those kingress serves.
fn supported_kinds(l: &GatewayListeners) -> (Vec<GatewayStatusListenersSupportedKinds>, bool) {
    let http_route = || GatewayStatusListenersSupportedKinds {
        group: Some(GATEWAY_GROUP.to_string()),
        kind: "HTTPRoute".to_string(),
    };
    let asked = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.kinds.as_deref())
        .unwrap_or_default();
    if asked.is_empty() {
        return match l.protocol.as_str() {
            "HTTP" | "HTTPS" => (vec![http_route()], true),
            _ => (Vec::new(), true),
        };
    }
    let mut kinds = Vec::new();
    let mut ok = true;
    for k in asked {
        // The CRD defaults the group to gateway.networking.k8s.io.
        if k.group.as_deref().unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP && k.kind == "HTTPRoute" {
            kinds.push(http_route());
        } else {
            ok = false;
        }
    }
    (kinds, ok)
}

/// `ResolvedRefs`: the route kinds, then the TLS certificateRefs in order (GU 251-293): a
/// Secret of another namespace without a ReferenceGrant, then a reference that is not a core
/// Secret or a Secret that does not exist (both stop the walk), then one without PEM
/// `tls.crt` and `tls.key`.
fn resolved_refs(
    snapshot: &Snapshot,
    gateway: &Gateway,
    l: &GatewayListeners,
    kinds_ok: bool,
) -> Wanted {
    let gw_ns = gateway.namespace().unwrap_or_default();
    let mut reason: Option<(&'static str, String)> = (!kinds_ok).then(|| {
        (
            "InvalidRouteKinds",
            "allowedRoutes.kinds: kingress serves HTTPRoutes only".to_string(),
        )
    });
    let refs = l
        .tls
        .iter()
        .flat_map(|t| t.certificate_refs.iter().flatten());
    for (k, r) in refs.enumerate() {
        let field = format!("tls.certificateRefs[{k}]");
        let ns = r.namespace.as_deref().unwrap_or(&gw_ns);
        let from = grants::From {
            group: GATEWAY_GROUP,
            kind: "Gateway",
            namespace: &gw_ns,
        };
        let to = grants::To {
            group: "",
            kind: "Secret",
            namespace: ns,
            name: &r.name,
        };
        if ns != gw_ns && !grants::granted(snapshot, from, to) {
            reason = Some((
                "RefNotPermitted",
                format!(
                    "{field}: Secret {ns}/{} is in another namespace and no ReferenceGrant there permits it",
                    r.name
                ),
            ));
            break;
        }
        let group = r.group.as_deref().unwrap_or_default();
        let kind = r.kind.as_deref().unwrap_or("Secret");
        if !matches!(group, "" | "core") || kind != "Secret" {
            reason = Some((
                "InvalidCertificateRef",
                format!("{field}: {kind} (group {group:?}) is not a Secret"),
            ));
            break;
        }
        let Some(secret) = snapshot.secret(ns, &r.name) else {
            reason = Some((
                "InvalidCertificateRef",
                format!("{field}: Secret {ns}/{} not found", r.name),
            ));
            break;
        };
        let pem = |key: &str| {
            secret
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .is_some_and(|v| String::from_utf8_lossy(&v.0).contains("-----BEGIN "))
        };
        if !(pem("tls.crt") && pem("tls.key")) {
            reason = Some((
                "InvalidCertificateRef",
                format!(
                    "{field}: Secret {ns}/{} has no PEM tls.crt and tls.key",
                    r.name
                ),
            ));
        }
    }
    match reason {
        Some((reason, message)) => Wanted::new(RESOLVED_REFS, false, reason, message),
        None => Wanted::new(RESOLVED_REFS, true, RESOLVED_REFS, ""),
    }
}

/// Per listener, KIC's conflict (GU 318-360, 461-518): listeners on a port whose protocols
/// cannot share it are all `ProtocolConflict` (HTTP shares with HTTP, HTTPS with TLS, TCP and
/// UDP with nothing); otherwise listeners with the same port and hostname are all
/// `HostnameConflict`.
fn conflicts(listeners: &[GatewayListeners]) -> Vec<Option<&'static str>> {
    let share = |a: &str, b: &str| {
        matches!(
            (a, b),
            ("HTTP", "HTTP") | ("HTTPS" | "TLS", "HTTPS" | "TLS")
        )
    };
    listeners
        .iter()
        .map(|l| {
            let same_port = || listeners.iter().filter(|o| o.port == l.port);
            // The first listener on a port sets its protocol; a clash marks the whole port.
            let first = same_port()
                .next()
                .map(|o| o.protocol.as_str())
                .unwrap_or_default();
            if same_port().any(|o| !share(&o.protocol, first)) {
                return Some("ProtocolConflict");
            }
            let host = l.hostname.as_deref().unwrap_or_default();
            let twins = same_port()
                .filter(|o| o.hostname.as_deref().unwrap_or_default() == host)
                .count();
            (twins > 1).then_some("HostnameConflict")
        })
        .collect()
}

/// HTTPRoutes attached through this listener, as the translator attaches them (section
/// name, port, allowed namespaces).
fn attached_routes(
    snapshot: &Snapshot,
    gateway: &Gateway,
    listener: &GatewayListeners,
    controller_name: &str,
) -> i32 {
    let gw_ns = gateway.namespace().unwrap_or_default();
    let gw_name = gateway.name_any();
    let count = snapshot
        .httproutes_in(None)
        .filter(|route| {
            let route_ns = route.namespace().unwrap_or_default();
            attachment::our_parents(snapshot, route, controller_name)
                .into_iter()
                .any(|(parent, g)| {
                    g.namespace().unwrap_or_default() == gw_ns
                        && g.name_any() == gw_name
                        && parent.port.is_none_or(|p| p == listener.port)
                        && attachment::named_listeners(parent, g)
                            .into_iter()
                            .any(|l| l.name == listener.name)
                        && attachment::listener_admits(snapshot, listener, &gw_ns, &route_ns)
                        && hostnames::listener_matches(
                            listener,
                            route.spec.hostnames.as_deref().unwrap_or_default(),
                        )
                })
        })
        .count();
    i32::try_from(count).unwrap_or(i32::MAX)
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
