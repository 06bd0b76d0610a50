//! Gateway API route `status.parents` (HTTPRoute, GRPCRoute): an entry per parentRef to a
//! Gateway of our GatewayClass, with `Accepted`, `ResolvedRefs` and `Programmed`. Other
//! controllers' entries are kept. Every route kind's status has the same shape (Gateway API's
//! `RouteStatus`), so it is read and written as HTTPRoute's types.
//!
//! Attachment follows the translator's rules (section name, then `allowedRoutes.namespaces`;
//! a selector admits), so the status says what kingress actually put in Kong.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;

use gateway_api::apis::standard::httproutes::{
    HttpRouteStatusParents, HttpRouteStatusParentsParentRef,
};

use super::conditions::{self, Wanted};
use super::{Inputs, PlanScope, StatusWrite};
use crate::api::Gateway;
use crate::snapshot::Snapshot;
use crate::translate::gateway::route::{GatewayRoute, ParentRef};
use crate::translate::gateway::{attachment, hostnames};
use crate::translate::{Problem, Reason, Severity, object_key};

/// Gateway API's limit on `status.parents`.
pub const MAX_PARENTS: usize = 32;

const ACCEPTED: &str = "Accepted";
const RESOLVED_REFS: &str = "ResolvedRefs";
const PROGRAMMED: &str = "Programmed";

pub fn plan(snapshot: &Snapshot, inputs: &Inputs<'_>, scope: PlanScope<'_>) -> Vec<StatusWrite> {
    let PlanScope::Namespace(ns) = scope else {
        return Vec::new();
    };
    let http = snapshot.httproutes_in(Some(ns)).map(|r| {
        let current = r.status.as_ref().map(|s| s.parents.clone());
        (GatewayRoute::from(r), current.unwrap_or_default())
    });
    // Each other kind's routes with their parents read as HTTPRoute's.
    macro_rules! with_parents {
        ($routes:expr) => {
            $routes.map(|r| {
                let current = r.status.as_ref().map(|s| same_shape(&s.parents));
                (GatewayRoute::from(r), current.unwrap_or_default())
            })
        };
    }
    let grpc = with_parents!(snapshot.grpcroutes_in(Some(ns)));
    let (tcp, udp, tls) = snapshot.stream_routes_in(Some(ns));
    let (tcp, udp, tls) = (with_parents!(tcp), with_parents!(udp), with_parents!(tls));
    http.chain(grpc)
        .chain(tcp)
        .chain(udp)
        .chain(tls)
        .filter_map(|(route, current)| write_for(snapshot, &route, &current, inputs))
        .collect()
}

/// Another route kind's `status.parents` read as HTTPRoute's (Gateway API's one
/// `RouteParentStatus`); an entry that does not fit is dropped, and rewritten.
fn same_shape<T: serde::Serialize>(parents: &[T]) -> Vec<HttpRouteStatusParents> {
    parents
        .iter()
        .filter_map(|p| serde_json::from_value(serde_json::to_value(p).ok()?).ok())
        .collect()
}

fn write_for(
    snapshot: &Snapshot,
    route: &GatewayRoute<'_>,
    current: &[HttpRouteStatusParents],
    inputs: &Inputs<'_>,
) -> Option<StatusWrite> {
    let wanted = parents(snapshot, route, current, inputs);
    let current_json = serde_json::to_value(current).ok()?;
    let wanted_json = serde_json::to_value(&wanted).ok()?;
    if current_json == wanted_json {
        return None;
    }
    Some(StatusWrite {
        kind: route.kind.kind(),
        namespace: route.namespace().to_string(),
        name: route.name().to_string(),
        precondition: route.meta.resource_version.clone(),
        status: serde_json::json!({ "parents": wanted_json }),
    })
}

fn status_ref(parent: &ParentRef) -> HttpRouteStatusParentsParentRef {
    HttpRouteStatusParentsParentRef {
        group: parent.group.clone(),
        kind: parent.kind.clone(),
        name: parent.name.clone(),
        namespace: parent.namespace.clone(),
        port: parent.port,
        section_name: parent.section_name.clone(),
    }
}

fn parents(
    snapshot: &Snapshot,
    route: &GatewayRoute<'_>,
    current: &[HttpRouteStatusParents],
    inputs: &Inputs<'_>,
) -> Vec<HttpRouteStatusParents> {
    let mut out: Vec<HttpRouteStatusParents> = current
        .iter()
        .filter(|p| p.controller_name != inputs.controller_name)
        .take(MAX_PARENTS)
        .cloned()
        .collect();
    let room = MAX_PARENTS - out.len();
    let problems: Vec<&Problem> = route_problems(route, inputs);
    for (parent, gateway) in attachment::our_parents(snapshot, route, inputs.controller_name)
        .into_iter()
        .take(room)
    {
        let parent_ref = status_ref(parent);
        let existing: &[Condition] = current
            .iter()
            .find(|p| p.controller_name == inputs.controller_name && p.parent_ref == parent_ref)
            .map_or(&[], |p| p.conditions.as_slice());
        let accepted = accepted(snapshot, route, parent, gateway, &problems);
        let resolved = resolved_refs(&problems);
        let programmed = programmed(route, accepted.status, inputs, &problems, existing);
        out.push(HttpRouteStatusParents {
            conditions: conditions::build(
                vec![accepted, resolved, programmed],
                existing,
                route.meta.generation,
                inputs.now,
            ),
            controller_name: inputs.controller_name.to_string(),
            parent_ref,
        });
    }
    out
}

fn route_problems<'a>(route: &GatewayRoute<'_>, inputs: &Inputs<'a>) -> Vec<&'a Problem> {
    inputs
        .state
        .problems
        .iter()
        .filter(|p| {
            p.object.kind == route.kind.kind()
                && p.object.namespace.as_deref() == Some(route.namespace())
                && p.object.name == route.name()
        })
        .collect()
}

fn describe(p: &Problem) -> String {
    match &p.field {
        Some(f) => format!("{f}: {}", p.message),
        None => p.message.clone(),
    }
}

/// As the translator decides attachment, per parent: a listener with the parent's section
/// name (any when unset) whose `allowedRoutes.namespaces` admits the route's namespace.
fn accepted(
    snapshot: &Snapshot,
    route: &GatewayRoute<'_>,
    parent: &ParentRef,
    gateway: &Gateway,
    problems: &[&Problem],
) -> Wanted {
    let route_ns = route.namespace();
    let gw_ns = gateway.namespace().unwrap_or_default();
    let gw = format!("Gateway {gw_ns}/{}", gateway.name_any());
    let listeners = attachment::named_listeners(parent, gateway);
    if listeners.is_empty() {
        let on_port = parent
            .port
            .map(|p| format!(" on port {p}"))
            .unwrap_or_default();
        let message = match &parent.section_name {
            Some(s) => format!("{gw} has no listener named {s}{on_port}"),
            None => format!("{gw} has no listeners{on_port}"),
        };
        return Wanted::new(ACCEPTED, false, "NoMatchingParent", message);
    }
    let admitted = listeners
        .iter()
        .any(|l| attachment::listener_admits(snapshot, l, &gw_ns, route.kind, route_ns));
    if !admitted {
        return Wanted::new(
            ACCEPTED,
            false,
            "NotAllowedByListeners",
            format!(
                "no listener of {gw} takes {}s from namespace {route_ns} (one with {} whose allowedRoutes admit them)",
                route.kind.name(),
                route.kind.listeners_text()
            ),
        );
    }
    let matching = listeners.iter().any(|l| {
        attachment::listener_admits(snapshot, l, &gw_ns, route.kind, route_ns)
            && hostnames::listener_matches(l, route.hostnames)
    });
    if !matching {
        return Wanted::new(
            ACCEPTED,
            false,
            "NoMatchingListenerHostname",
            format!("no listener of {gw} that takes the route has a hostname matching the route's"),
        );
    }
    // Query-parameter matches leave the whole route out of Kong.
    if let Some(p) = problems.iter().find(|p| {
        p.severity == Severity::Error
            && p.reason == Reason::UnsupportedMatch
            && p.field
                .as_deref()
                .is_some_and(|f| f.ends_with(".queryParams"))
    }) {
        return Wanted::new(ACCEPTED, false, "UnsupportedValue", describe(p));
    }
    Wanted::new(ACCEPTED, true, ACCEPTED, "")
}

/// The Gateway API reason for a backendRef problem, if it is one.
fn resolved_reason(p: &Problem) -> Option<&'static str> {
    if p.severity != Severity::Error {
        return None;
    }
    let field = p.field.as_deref().unwrap_or_default();
    if !field.contains(".backendRefs[") {
        return None;
    }
    match p.reason {
        Reason::ServiceNotFound | Reason::PortNotFound => Some("BackendNotFound"),
        Reason::InvalidBackend if field.ends_with(".namespace") => Some("RefNotPermitted"),
        Reason::InvalidBackend => Some("InvalidKind"),
        _ => None,
    }
}

fn resolved_refs(problems: &[&Problem]) -> Wanted {
    let failed: Vec<(&str, String)> = problems
        .iter()
        .filter_map(|p| resolved_reason(p).map(|r| (r, describe(p))))
        .collect();
    match failed.first().map(|(r, _)| *r) {
        None => Wanted::new(RESOLVED_REFS, true, RESOLVED_REFS, ""),
        Some(reason) => {
            let message: Vec<String> = failed.into_iter().map(|(_, m)| m).collect();
            Wanted::new(RESOLVED_REFS, false, reason, message.join("; "))
        }
    }
}

fn programmed(
    route: &GatewayRoute<'_>,
    accepted: bool,
    inputs: &Inputs<'_>,
    problems: &[&Problem],
    existing: &[Condition],
) -> Wanted {
    let key = object_key(route.kind.kind(), route.namespace(), route.name());
    if !accepted {
        return Wanted::new(PROGRAMMED, false, "Pending", "not accepted by this parent");
    }
    if let Some(e) = inputs.state.exclusions.iter().find(|e| e.object == key) {
        return Wanted::new(
            PROGRAMMED,
            false,
            "Invalid",
            format!(
                "Kong rejected the configuration built from this route ({}): {}",
                e.outcome(),
                e.reason
            ),
        );
    }
    // What translation could not put in Kong: a filter it cannot translate (its rules' Kong
    // service is left out), a Kong route whose expression Kong's router refuses, or the route
    // left out for an object it depends on. KIC's reason (v3.5.13
    // internal/controllers/gateway/route_utils.go line 34).
    if let Some(p) = problems.iter().find(|p| {
        p.severity == Severity::Error
            && (matches!(p.reason, Reason::UnsupportedFilter | Reason::InvalidRoute)
                || (p.reason == Reason::Excluded && p.field.is_none()))
    }) {
        return Wanted::new(PROGRAMMED, false, "TranslationError", describe(p));
    }
    let holds = |facts: &crate::translate::Facts| facts.configured.contains(&key);
    conditions::programmed_or_pending(inputs.programmed, holds, existing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::HttpRoute;
    use crate::kinds::Kind;
    use crate::translate::names::ObjectRef;

    fn problem(reason: Reason, field: &str) -> Problem {
        Problem {
            severity: Severity::Error,
            reason,
            object: ObjectRef::new(Kind::HttpRoute, Some("ns"), "web"),
            field: Some(field.into()),
            message: "m".into(),
        }
    }

    #[test]
    fn backend_problems_map_to_gateway_api_reasons() {
        let cases = [
            (
                Reason::ServiceNotFound,
                "spec.rules[0].backendRefs[0].name",
                "BackendNotFound",
            ),
            (
                Reason::PortNotFound,
                "spec.rules[0].backendRefs[0].port",
                "BackendNotFound",
            ),
            (
                Reason::InvalidBackend,
                "spec.rules[1].backendRefs[0].kind",
                "InvalidKind",
            ),
            (
                Reason::InvalidBackend,
                "spec.rules[0].backendRefs[2].namespace",
                "RefNotPermitted",
            ),
        ];
        for (reason, field, want) in cases {
            let p = problem(reason, field);
            let w = resolved_refs(&[&p]);
            assert!(!w.status);
            assert_eq!(w.reason, want);
            assert_eq!(w.message, format!("{field}: m"));
        }
        // Not about a backendRef: refs resolve.
        let p = problem(Reason::UnsupportedMatch, "spec.rules[0].filters");
        assert!(resolved_refs(&[&p]).status);
    }

    #[test]
    fn untranslatable_filters_and_left_out_routes_are_not_programmed() {
        use crate::controller::sync::SyncState;
        use crate::translate::Facts;
        let route: HttpRoute = serde_json::from_value(serde_json::json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {}
        }))
        .expect("route");
        let state = SyncState::default();
        let mut facts = Facts::default();
        facts
            .configured
            .insert(object_key(Kind::HttpRoute, "ns", "web"));
        let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-01-01T00:00:00Z".parse().expect("time"),
        );
        let inputs = Inputs::for_tests(&state, Some(&facts), &now);
        let route = GatewayRoute::from(&route);
        assert!(programmed(&route, true, &inputs, &[], &[]).status);
        let filter = problem(Reason::UnsupportedFilter, "spec.rules[0].filters[0].type");
        let w = programmed(&route, true, &inputs, &[&filter], &[]);
        assert_eq!((w.status, w.reason.as_str()), (false, "TranslationError"));
        let mut left_out = problem(Reason::Excluded, "");
        left_out.field = None;
        let w = programmed(&route, true, &inputs, &[&left_out], &[]);
        assert_eq!((w.status, w.reason.as_str()), (false, "TranslationError"));
        // A Kong route whose expression Kong's router refuses (left out).
        let mut refused = problem(Reason::InvalidRoute, "");
        refused.field = None;
        let w = programmed(&route, true, &inputs, &[&refused], &[]);
        assert_eq!((w.status, w.reason.as_str()), (false, "TranslationError"));
        // A backend left out is a ResolvedRefs matter; the route is still programmed.
        let backend = problem(Reason::Excluded, "spec.rules[0].backendRefs[0].name");
        assert!(programmed(&route, true, &inputs, &[&backend], &[]).status);
    }

    #[test]
    fn a_route_whose_hostnames_match_no_listener_is_not_accepted() {
        let gateway: Gateway = serde_json::from_value(serde_json::json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": "kong", "namespace": "ns"},
            "spec": {"gatewayClassName": "kong", "listeners": [
                {"name": "only", "port": 80, "protocol": "HTTP", "hostname": "only.example.com"}]}
        }))
        .expect("gateway");
        let route = |hostnames: serde_json::Value| -> HttpRoute {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"parentRefs": [{"name": "kong"}], "hostnames": hostnames}
            }))
            .expect("route")
        };
        let parent = |r: &GatewayRoute<'_>| r.parents[0].clone();
        let other = route(serde_json::json!(["x.other.com"]));
        let other = GatewayRoute::from(&other);
        let w = accepted(&Snapshot::new(), &other, &parent(&other), &gateway, &[]);
        assert_eq!(
            (w.status, w.reason.as_str()),
            (false, "NoMatchingListenerHostname")
        );
        let wildcard = route(serde_json::json!(["*.example.com"]));
        let wildcard = GatewayRoute::from(&wildcard);
        assert!(
            accepted(
                &Snapshot::new(),
                &wildcard,
                &parent(&wildcard),
                &gateway,
                &[]
            )
            .status
        );
        let none = route(serde_json::json!([]));
        let none = GatewayRoute::from(&none);
        assert!(accepted(&Snapshot::new(), &none, &parent(&none), &gateway, &[]).status);
    }
}
