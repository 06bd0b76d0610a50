//! Gateway API TCPRoute, UDPRoute and TLSRoute → Kong stream services and routes, as KIC
//! v3.5.13 makes them (`internal/dataplane/translator/translate_tcproute.go`,
//! `translate_udproute.go`, `translate_tlsroute.go` and `translate_routes_helpers.go`, "RH"
//! below):
//!
//! - one Kong service per rule, `<kind>.<ns>.<name>.<rule>`, protocol `tcp` (TCPRoute,
//!   TLSRoute) or `udp` (UDPRoute); a service over several Kubernetes Services is tagged as the
//!   route;
//! - one route per rule, `<kind>.<ns>.<name>.<rule>.0` (RH 176-186), with the rule's
//!   named-route-rule tag;
//! - TCPRoute and UDPRoute routes match `destinations`: the ports, as they are, of the parent
//!   Gateways' listeners of their protocol (any Gateway; the named one with a sectionName;
//!   RH 188-217); TLSRoute routes match `snis` (its hostnames, required) with protocol
//!   `tls_passthrough` when a parent listener is in Passthrough mode, else `tls`;
//! - a route without rules, a TLSRoute without hostnames, or a TCPRoute or UDPRoute rule without
//!   backendRefs cannot be routed: reported, and (as KIC) the rules before it stay.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use gateway_api::apis::standard::tlsroutes::TlsRouteRules;

use super::backend_refs::{self, BackendRef, RouteOwner, backend_ref};
use crate::api::{TcpRoute, TlsRoute, UdpRoute};
use crate::kong::config::{Destination, Route};
use crate::snapshot::Snapshot;
use crate::translate::Context;
use crate::translate::gateway::attachment;
use crate::translate::gateway::route::{GatewayRoute, RouteKind};
use crate::translate::names::{self, Entity, ObjectRef};
use crate::translate::problems::Reason;
use crate::translate::routes::add_route;

/// What the three kinds share (their generated types have the same parts).
struct Stream<'a> {
    kind: RouteKind,
    obj: ObjectRef,
    meta: &'a ObjectMeta,
    rules: &'a [TlsRouteRules],
    hostnames: &'a [String],
}

pub fn translate_all(ctx: &mut Context<'_>) {
    let tcp = ctx.in_scope(|s| &s.tcproutes);
    let udp = ctx.in_scope(|s| &s.udproutes);
    let tls = ctx.in_scope(|s| &s.tlsroutes);
    let tcp = tcp.map(|r| (GatewayRoute::from(r), stream_of(r, RouteKind::Tcp)));
    let udp = udp.map(|r| (GatewayRoute::from(r), stream_of(r, RouteKind::Udp)));
    let tls = tls.map(|r| (GatewayRoute::from(r), tls_stream(r)));
    let all: Vec<(GatewayRoute<'_>, Stream<'_>)> = tcp.chain(udp).chain(tls).collect();
    for (route, stream) in all {
        if super::takes(ctx, &route, &stream.obj) {
            translate(ctx, &route, &stream);
        }
    }
}

/// A TCPRoute or UDPRoute (whose types are alike) as a [`Stream`].
trait L4Route: crate::kinds::KindSpec {
    fn rules(&self) -> &[TlsRouteRules];
}

impl L4Route for TcpRoute {
    fn rules(&self) -> &[TlsRouteRules] {
        &self.spec.rules
    }
}

impl L4Route for UdpRoute {
    fn rules(&self) -> &[TlsRouteRules] {
        &self.spec.rules
    }
}

fn stream_of<R: L4Route>(route: &R, kind: RouteKind) -> Stream<'_> {
    Stream {
        kind,
        obj: ObjectRef::of(route),
        meta: route.meta(),
        rules: route.rules(),
        hostnames: &[],
    }
}

fn tls_stream(route: &TlsRoute) -> Stream<'_> {
    Stream {
        kind: RouteKind::Tls,
        obj: ObjectRef::of(route),
        meta: &route.metadata,
        rules: &route.spec.rules,
        hostnames: &route.spec.hostnames,
    }
}

fn translate(ctx: &mut Context<'_>, route: &GatewayRoute<'_>, s: &Stream<'_>) {
    let obj = &s.obj;
    let cannot = |ctx: &mut Context<'_>, field: String, why: &str| {
        ctx.problems.error(
            obj,
            Reason::InvalidValue,
            Some(field),
            format!("{why}: the route cannot be routed (as in KIC v3.5.13)"),
        );
    };
    if s.rules.is_empty() {
        return cannot(ctx, "spec.rules".into(), "no rules");
    }
    if s.kind == RouteKind::Tls && s.hostnames.is_empty() {
        return cannot(ctx, "spec.hostnames".into(), "a TLSRoute needs hostnames");
    }
    let (prefix, service_protocol, route_protocol) = match s.kind {
        RouteKind::Udp => ("udproute", "udp", "udp"),
        RouteKind::Tls if passthrough(ctx, route) => ("tlsroute", "tcp", "tls_passthrough"),
        RouteKind::Tls => ("tlsroute", "tcp", "tls"),
        _ => ("tcproute", "tcp", "tcp"),
    };
    let destinations = match s.kind {
        RouteKind::Tcp => listener_ports(ctx.snapshot, route, "TCP"),
        RouteKind::Udp => listener_ports(ctx.snapshot, route, "UDP"),
        _ => Vec::new(),
    };
    let namespace = route.namespace();
    let annotations = s.meta.annotations.as_ref();
    for (i, rule) in s.rules.iter().enumerate() {
        // RH 37-53: TLSRoutes need no backendRefs.
        if rule.backend_refs.is_empty() && s.kind != RouteKind::Tls {
            let why = format!(
                "{} rules must include at least one backendRef",
                s.kind.name()
            );
            return cannot(ctx, format!("spec.rules[{i}].backendRefs"), &why);
        }
        let base = format!("{prefix}.{namespace}.{}", route.name());
        let service_name = format!("{base}.{i}");
        let refs: Vec<BackendRef<'_>> = rule.backend_refs.iter().map(|r| backend_ref!(r)).collect();
        let owner = RouteOwner {
            obj,
            kind: s.kind,
            annotations,
            protocol: service_protocol,
            route_tags: true,
            timeout_ms: None,
        };
        let (mut service, mut upstream, resolved) =
            backend_refs::build_service(ctx, &owner, &service_name, i, &refs);
        if resolved == 0 {
            service.tags = names::unknown_service_tags();
            upstream.tags = service.tags.clone();
        }
        ctx.add_service(service, upstream);
        let route_name = format!("{service_name}.0");
        let rule_name = rule
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let extra: Vec<String> = rule_name
            .map(|n| format!("k8s-named-route-rule:{n}"))
            .into_iter()
            .collect();
        let mut r = Route {
            destinations: destinations.clone(),
            https_redirect_status_code: 426,
            id: names::entity_id(Entity::Route, &route_name),
            name: route_name,
            path_handling: "v0".into(),
            protocols: vec![route_protocol.into()],
            snis: s.hostnames.to_vec(),
            tags: names::tags_with(obj, &extra, annotations),
            ..Default::default()
        };
        if ctx.options.router_flavor.expressions() {
            crate::translate::routes::atc::apply_l4(&mut r);
        }
        add_route(ctx, &service_name, r, obj, annotations, annotations);
    }
}

/// The ports of the listeners of `protocol` that the route's parentRefs name (RH 188-217).
fn listener_ports(
    snapshot: &Snapshot,
    route: &GatewayRoute<'_>,
    protocol: &str,
) -> Vec<Destination> {
    let listeners = attachment::parent_listeners(snapshot, route).into_iter();
    listeners
        .filter(|l| l.protocol == protocol)
        .map(|l| Destination {
            ip: None,
            port: Some(i64::from(l.port)),
        })
        .collect()
}

/// Whether a listener of ours that the TLSRoute attaches to is in Passthrough mode. KIC reads
/// the parents of the route's status, which it writes for the listeners that took the route
/// (translate_tlsroute.go lines 97-140); kingress asks the attachment rules that status comes
/// from.
fn passthrough(ctx: &Context<'_>, route: &GatewayRoute<'_>) -> bool {
    let controller = &ctx.options.controller_name;
    attachment::our_parents(ctx.snapshot, route, controller)
        .into_iter()
        .flat_map(|(parent, gateway)| attachment::named_listeners(parent, gateway))
        .any(|l| {
            l.tls
                .as_ref()
                .and_then(|t| t.mode.as_ref())
                .is_some_and(|m| format!("{m:?}") == "Passthrough")
        })
}
