//! A route's parentRefs → our Gateways and their listeners.

use gateway_api::apis::standard::gateways::{
    GatewayListeners, GatewayListenersAllowedRoutesNamespacesSelector,
};
use kube::ResourceExt;

use super::route::{GatewayRoute, ParentRef, RouteKind};
use crate::api::{GATEWAY_GROUP, Gateway};
use crate::snapshot::Snapshot;

/// The parentRefs of `route` that name a Gateway whose GatewayClass has `controller_name`,
/// each with that Gateway, in order and without repeats.
pub fn our_parents<'a, 'r>(
    snapshot: &'a Snapshot,
    route: &'r GatewayRoute<'_>,
    controller_name: &str,
) -> Vec<(&'r ParentRef, &'a Gateway)> {
    let route_ns = route.namespace();
    let mut out: Vec<(&ParentRef, &Gateway)> = Vec::new();
    for parent in &route.parents {
        let group_ok = parent.group.as_deref().is_none_or(|g| g == GATEWAY_GROUP);
        let kind_ok = parent.kind.as_deref().is_none_or(|k| k == "Gateway");
        if !group_ok || !kind_ok || out.iter().any(|(p, _)| *p == parent) {
            continue;
        }
        let gw_ns = parent.namespace.as_deref().unwrap_or(route_ns);
        let Some(gateway) = snapshot.gateway(gw_ns, &parent.name) else {
            continue;
        };
        let ours = snapshot
            .gateway_class(&gateway.spec.gateway_class_name)
            .is_some_and(|gc| gc.spec.controller_name == controller_name);
        if ours {
            out.push((parent, gateway));
        }
    }
    out
}

/// Whether a parentRef of `route` names the Gateway `(namespace, name)` (KIC v3.5.13
/// `IsRouteAttachedToReconciledGateway`, `controllers/gateway/route_predicates.go` 56-72,
/// with a parentRef's namespace defaulting to the route's as Gateway API defines it).
pub fn names_gateway(route: &GatewayRoute<'_>, (namespace, name): &(String, String)) -> bool {
    route.parents.iter().any(|parent| {
        parent.group.as_deref().is_none_or(|g| g == GATEWAY_GROUP)
            && parent.kind.as_deref().is_none_or(|k| k == "Gateway")
            && parent.namespace.as_deref().unwrap_or(route.namespace()) == namespace
            && parent.name == *name
    })
}

/// The listeners the route's parentRefs name, as KIC's translator reads them
/// (`getGatewayListeningPorts`, translate_routes_helpers.go lines 209-238): for each parentRef,
/// the Gateway it names in its namespace or the route's (any class; a missing one is
/// skipped), and its listeners (only the named one with a sectionName). No attachment rule
/// applies: this is what KIC derives protocols and ports from.
pub fn parent_listeners<'s>(
    snapshot: &'s Snapshot,
    route: &GatewayRoute<'_>,
) -> Vec<&'s GatewayListeners> {
    let route_ns = route.namespace();
    let mut out = Vec::new();
    for parent in &route.parents {
        let ns = parent.namespace.as_deref().filter(|n| !n.is_empty());
        if let Some(gateway) = snapshot.gateway(ns.unwrap_or(route_ns), &parent.name) {
            out.extend(by_section(parent, gateway));
        }
    }
    out
}

/// KIC v3.5.13's route protocols for an HTTPRoute ("secure by default", KIC #7901;
/// internal/dataplane/translator/subtranslator/httproute.go lines 811-841): of the
/// [`parent_listeners`], HTTP gives `http`, HTTPS `https`, others nothing. Sorted; empty
/// (Kong's default, http and https) when no listener matched.
pub fn listener_protocols(snapshot: &Snapshot, route: &GatewayRoute<'_>) -> Vec<String> {
    let mut protocols: Vec<String> = Vec::new();
    for listener in parent_listeners(snapshot, route) {
        let protocol = match listener.protocol.as_str() {
            "HTTP" => "http",
            "HTTPS" => "https",
            _ => continue,
        };
        if !protocols.iter().any(|p| p == protocol) {
            protocols.push(protocol.to_string());
        }
    }
    protocols.sort();
    protocols
}

/// The listeners of `gateway` that `parent` names: the one of its sectionName (all of them
/// without one), on its port when it gives one (GEP-957; KIC v3.5.13
/// internal/controllers/gateway/route_utils.go lines 250-272).
pub fn named_listeners<'a>(parent: &ParentRef, gateway: &'a Gateway) -> Vec<&'a GatewayListeners> {
    by_section(parent, gateway)
        .into_iter()
        .filter(|l| parent.port.is_none_or(|p| p == l.port))
        .collect()
}

/// [`named_listeners`] by sectionName only: KIC's translator reads listener ports and
/// protocols so (internal/dataplane/translator/translate_routes_helpers.go lines 188-217).
fn by_section<'a>(parent: &ParentRef, gateway: &'a Gateway) -> Vec<&'a GatewayListeners> {
    let section = parent.section_name.as_ref();
    let listeners = gateway.spec.listeners.iter();
    listeners
        .filter(|l| section.is_none_or(|s| *s == l.name))
        .collect()
}

/// Whether `listener` of a Gateway in `gateway_ns` takes routes of `kind` from `route_ns`, as
/// KIC v3.5.13 decides (internal/controllers/gateway/route_utils.go lines 379-427 and 431-494):
/// a listener whose protocol carries the kind ([`RouteKind::carried_by`]), whose
/// `allowedRoutes.kinds`, when given, name the kind, and whose `allowedRoutes.namespaces` admit
/// the namespace (`Same`, `All`, or a `Selector` over the route namespace's labels).
pub fn listener_admits(
    snapshot: &Snapshot,
    listener: &GatewayListeners,
    gateway_ns: &str,
    route_kind: RouteKind,
    route_ns: &str,
) -> bool {
    let kinds = listener
        .allowed_routes
        .as_ref()
        .and_then(|a| a.kinds.as_deref())
        .unwrap_or_default();
    // The CRD defaults a kind's group to gateway.networking.k8s.io.
    let kind_ok = kinds.is_empty()
        || kinds.iter().any(|k| {
            k.group.as_deref().unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP
                && k.kind == route_kind.name()
        });
    if !(route_kind.carried_by(listener) && kind_ok) {
        return false;
    }
    let namespaces = listener
        .allowed_routes
        .as_ref()
        .and_then(|a| a.namespaces.as_ref());
    let from = namespaces
        .and_then(|n| n.from.as_ref())
        .map(|f| format!("{f:?}"));
    match from.as_deref() {
        None | Some("Same") => gateway_ns == route_ns,
        Some("Selector") => namespaces
            .and_then(|n| n.selector.as_ref())
            .is_some_and(|s| selects(snapshot, s, route_ns)),
        _ => true,
    }
}

/// Whether a label selector selects namespace `ns`: its labels, with the
/// `kubernetes.io/metadata.name` label the apiserver gives every namespace (also when the
/// Namespace is not in the input, offline). Every `matchLabels` pair and every expression must
/// hold (In, NotIn, Exists, DoesNotExist); an empty selector selects every namespace.
fn selects(
    snapshot: &Snapshot,
    selector: &GatewayListenersAllowedRoutesNamespacesSelector,
    ns: &str,
) -> bool {
    let mut labels = snapshot
        .namespace(ns)
        .and_then(|n| n.metadata.labels.clone())
        .unwrap_or_default();
    labels.insert("kubernetes.io/metadata.name".into(), ns.to_string());
    let pairs = selector.match_labels.iter().flatten();
    let labels_ok = pairs.into_iter().all(|(k, v)| labels.get(k) == Some(v));
    let expressions_ok = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            // An operator the apiserver would refuse selects nothing.
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

/// True if some parentRef of `route` names a Gateway of ours with a listener that takes it.
pub fn attached(snapshot: &Snapshot, route: &GatewayRoute<'_>, controller_name: &str) -> bool {
    let route_ns = route.namespace();
    our_parents(snapshot, route, controller_name)
        .into_iter()
        .any(|(parent, gateway)| {
            let gw_ns = gateway.namespace().unwrap_or_default();
            named_listeners(parent, gateway)
                .into_iter()
                .any(|l| listener_admits(snapshot, l, &gw_ns, route.kind, route_ns))
        })
}
