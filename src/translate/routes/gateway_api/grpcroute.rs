//! Gateway API GRPCRoute (v1) → Kong services and routes (Kong's traditional router), as KIC
//! v3.5.13 makes them (`internal/dataplane/translator/translate_grpcroute.go`, "TG" below, and
//! `internal/dataplane/translator/subtranslator/grpcroute.go`, "SG"):
//!
//! - one Kong service per rule, `grpcroute.<ns>.<name>.<rule>` (TG 55-72), whose protocol is
//!   `grpc` when a parent Gateway has an HTTP listener the route names, else `grpcs` (TG 154-161);
//! - one route per match, `grpcroute.<ns>.<name>.<rule>.<match>`, protocols `[grpc, grpcs]`
//!   whatever the listeners (SG 66), a method match becoming the path `~/<service>/<method>`
//!   (an omitted service `.+`, an omitted method empty, or `.+` for RegularExpression matches;
//!   SG 16-34, 103-127) and header matches `headers` with the values as written (SG 129-133);
//! - a rule without matches gets one route on the hostnames, or on path `/` without them
//!   (SG 68-84);
//! - hostnames are `spec.hostnames`, else those of the parent Gateways' listeners (SG 140-205);
//! - every route carries the named-route-rule tags of all the route's rules (SG 207-213).
//!
//! KIC ignores GRPCRoute filters and treats RegularExpression header matches as exact values;
//! kingress emits the same entities and warns on the route where they do not do what the
//! manifest says.

use gateway_api::apis::standard::grpcroutes::{
    GrpcRouteRules, GrpcRouteRulesMatches, GrpcRouteRulesMatchesHeadersType,
    GrpcRouteRulesMatchesMethodType,
};
use kube::ResourceExt;

use super::backend_refs::{self, BackendRef, RouteOwner, backend_ref};
use super::grpc_expressions;
use crate::api::GrpcRoute;
use crate::kong::config::Route;
use crate::snapshot::Snapshot;
use crate::translate::gateway::attachment;
use crate::translate::gateway::route::{GatewayRoute, RouteKind};
use crate::translate::names::{self, Entity, ObjectRef};
use crate::translate::problems::Reason;
use crate::translate::routes::add_route;
use crate::translate::{Context, plugins};

pub fn translate_all(ctx: &mut Context<'_>) {
    for route in ctx.in_scope(|s| &s.grpcroutes) {
        let obj = ObjectRef::of(route);
        if super::takes(ctx, &GatewayRoute::from(route), &obj) {
            translate(ctx, route, &obj);
        }
    }
}

fn translate(ctx: &mut Context<'_>, route: &GrpcRoute, obj: &ObjectRef) {
    let namespace = route.namespace().unwrap_or_default();
    let name = route.name_any();
    let rules = route.spec.rules.as_deref().unwrap_or_default();
    let protocol = match has_http_listener(ctx.snapshot, route) {
        true => "grpc",
        false => "grpcs",
    };
    let rule_names: Vec<String> = rules
        .iter()
        .filter_map(|r| r.name.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .map(|n| format!("k8s-named-route-rule:{n}"))
        .collect();
    let annotations = route.metadata.annotations.as_ref();
    let tags = names::tags_with(obj, &rule_names, annotations);
    // The expressions router splits on spec.hostnames alone (no listener hostnames).
    if ctx.options.router_flavor.expressions() {
        expression_routes(ctx, route, obj, protocol, &tags);
        return;
    }
    let hosts = match hostnames(ctx.snapshot, route) {
        Ok(hosts) => hosts,
        Err(k) => {
            ctx.problems.warning(
                obj,
                Reason::NotAttached,
                Some(format!("spec.parentRefs[{k}]")),
                "the Gateway this parentRef names does not exist, and without spec.hostnames KIC v3.5.13 then gives the route no hostnames at all: its Kong routes match every host (set spec.hostnames to narrow them)".into(),
            );
            Vec::new()
        }
    };
    for (i, rule) in rules.iter().enumerate() {
        warn_unapplied(ctx, obj, rule, i);
        let service_name = names::grpcroute_service_name(&namespace, &name, i);
        let refs = rule.backend_refs.as_deref().unwrap_or_default();
        let refs: Vec<BackendRef<'_>> = refs.iter().map(|r| backend_ref!(r)).collect();
        add_rule_service(ctx, obj, annotations, protocol, &service_name, i, &refs);
        for r in rule_routes(&namespace, &name, i, rule, &hosts, &tags) {
            add_route(ctx, &service_name, r, obj, annotations, annotations);
        }
    }
}

/// The Kong service and upstream of rule `i` with backends `refs`, named `service_name`.
fn add_rule_service(
    ctx: &mut Context<'_>,
    obj: &ObjectRef,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    protocol: &'static str,
    service_name: &str,
    i: usize,
    refs: &[BackendRef<'_>],
) {
    let owner = RouteOwner {
        obj,
        kind: RouteKind::Grpc,
        annotations,
        protocol,
        route_tags: false,
        timeout_ms: None,
    };
    let (mut service, mut upstream, resolved) =
        backend_refs::build_service(ctx, &owner, service_name, i, refs);
    if resolved == 0 {
        service.tags = names::unknown_service_tags();
        upstream.tags = service.tags.clone();
        // KIC answers 500 only when backendRefs were given and none resolved
        // (translate_utils.go lines 80-95).
        if !refs.is_empty() {
            service.plugins.push(plugins::no_backend_termination());
        }
    }
    ctx.add_service(service, upstream);
}

/// Under the expressions router (KIC's `ingressRulesFromGRPCRoutesUsingExpressionRoutes`,
/// `translate_grpcroute.go` 79-139): a Kong service per `spec.hostnames` entry (or none) ×
/// rule, a route per match; route protocols from the listeners (`grpc` for HTTP, `grpcs` for
/// HTTPS, none when no listener resolves).
fn expression_routes(
    ctx: &mut Context<'_>,
    route: &GrpcRoute,
    obj: &ObjectRef,
    protocol: &'static str,
    tags: &[String],
) {
    let namespace = route.namespace().unwrap_or_default();
    let name = route.name_any();
    let rules = route.spec.rules.as_deref().unwrap_or_default();
    let annotations = route.metadata.annotations.as_ref();
    let hosts = route.spec.hostnames.clone().unwrap_or_default();
    let listeners = attachment::parent_listeners(ctx.snapshot, &GatewayRoute::from(route));
    let mut protocols = Vec::new();
    if listeners.iter().any(|l| l.protocol == "HTTP") {
        protocols.push("grpc".to_string());
    }
    if listeners.iter().any(|l| l.protocol == "HTTPS") {
        protocols.push("grpcs".to_string());
    }
    let snis = annotations.and_then(|a| a.get("konghq.com/snis"));
    for (i, rule) in rules.iter().enumerate() {
        warn_unapplied(ctx, obj, rule, i);
        let refs = rule.backend_refs.as_deref().unwrap_or_default();
        let refs: Vec<BackendRef<'_>> = refs.iter().map(|r| backend_ref!(r)).collect();
        let splits = grpc_expressions::splits_of_rule(&hosts, rule);
        for (host, j, m) in &splits {
            let service_name = grpc_expressions::service_name(&namespace, &name, host, i);
            if !ctx.has_service(&service_name) {
                add_rule_service(ctx, obj, annotations, protocol, &service_name, i, &refs);
            }
            let priority = ctx
                .grpcroute_orders
                .get(&namespace)
                .and_then(|o| o.get(&(name.clone(), host.clone(), i, *j)))
                .copied();
            let r = grpc_expressions::route(
                &namespace, &name, host, i, *j, m, snis, tags, &protocols, priority,
            );
            add_route(ctx, &service_name, r, obj, annotations, annotations);
        }
    }
}

/// The Kong routes of rule `i` (SG 36-135).
fn rule_routes(
    namespace: &str,
    name: &str,
    i: usize,
    rule: &GrpcRouteRules,
    hosts: &[String],
    tags: &[String],
) -> Vec<Route> {
    let base = |j: usize| {
        let route_name = names::grpcroute_route_name(namespace, name, i, j);
        Route {
            hosts: hosts.to_vec(),
            https_redirect_status_code: 426,
            id: names::entity_id(Entity::Route, &route_name),
            name: route_name,
            path_handling: "v0".into(),
            protocols: vec!["grpc".into(), "grpcs".into()],
            tags: tags.to_vec(),
            ..Default::default()
        }
    };
    let matches = rule.matches.as_deref().unwrap_or_default();
    if matches.is_empty() {
        let mut route = base(0);
        // Kong needs hosts, headers or paths on a gRPC route: without hostnames, a catch-all.
        if hosts.is_empty() {
            route.paths = vec!["/".into()];
        }
        return vec![route];
    }
    matches
        .iter()
        .enumerate()
        .map(|(j, m)| {
            let mut route = base(j);
            if let Some(path) = method_path(m) {
                route.paths.push(path);
            }
            for h in m.headers.iter().flatten() {
                route
                    .headers
                    .entry(h.name.clone())
                    .or_default()
                    .push(h.value.clone());
            }
            route
        })
        .collect()
}

/// `~/<service>/<method>`, the parts a match omits filled as GEP-1016 says (SG 16-34).
fn method_path(m: &GrpcRouteRulesMatches) -> Option<String> {
    let method = m.method.as_ref()?;
    let regex = matches!(
        method.r#type,
        Some(GrpcRouteRulesMatchesMethodType::RegularExpression)
    );
    let service = method.service.as_deref().unwrap_or(".+");
    let name = match (&method.method, regex) {
        (Some(m), _) => m.as_str(),
        (None, true) => ".+",
        (None, false) => "",
    };
    Some(format!("~/{service}/{name}"))
}

/// Warns where KIC's entities do not do what the rule says: filters are not applied, and a
/// RegularExpression header match is matched as the literal value.
fn warn_unapplied(ctx: &mut Context<'_>, obj: &ObjectRef, rule: &GrpcRouteRules, i: usize) {
    if rule.filters.as_ref().is_some_and(|f| !f.is_empty()) {
        ctx.problems.warning(
            obj,
            Reason::Ignored,
            Some(format!("spec.rules[{i}].filters")),
            "GRPCRoute filters are not applied (KIC v3.5.13 does not translate them either)".into(),
        );
    }
    let filtered = rule.backend_refs.iter().flatten();
    let filtered = filtered.map(|r| r.filters.as_ref().is_some_and(|f| !f.is_empty()));
    backend_refs::warn_filters(ctx, obj, i, filtered);
    // The expressions router matches RegularExpression headers as regexes.
    let matches = rule.matches.iter().flatten();
    for (j, m) in matches
        .enumerate()
        .filter(|_| !ctx.options.router_flavor.expressions())
    {
        for (k, h) in m.headers.iter().flatten().enumerate() {
            if matches!(
                h.r#type,
                Some(GrpcRouteRulesMatchesHeadersType::RegularExpression)
            ) {
                ctx.problems.warning(
                    obj,
                    Reason::UnsupportedMatch,
                    Some(format!("spec.rules[{i}].matches[{j}].headers[{k}].type")),
                    format!(
                        "RegularExpression header matches are matched as the exact value {:?} (as KIC v3.5.13 translates them)",
                        h.value
                    ),
                );
            }
        }
    }
}

/// `spec.hostnames`, or without them the hostnames of the listeners the parentRefs name
/// (all listeners with a hostname without a sectionName), as KIC reads them (SG 140-205):
/// any Gateway, its listeners unfiltered, repeats kept, and none at all when a parentRef's
/// Gateway is missing (the Err: that parentRef's index). KIC's namespace variable carries over
/// from one parentRef to the next (SG 165-167), and so it does here.
fn hostnames(snapshot: &Snapshot, route: &GrpcRoute) -> Result<Vec<String>, usize> {
    if let Some(h) = route.spec.hostnames.as_ref().filter(|h| !h.is_empty()) {
        return Ok(h.clone());
    }
    let mut namespace = route.namespace().unwrap_or_default();
    let mut out = Vec::new();
    for (k, parent) in route.spec.parent_refs.iter().flatten().enumerate() {
        if parent.kind.as_deref().is_some_and(|k| k != "Gateway") {
            continue;
        }
        if let Some(ns) = &parent.namespace {
            namespace = ns.clone();
        }
        let Some(gateway) = snapshot.gateway(&namespace, &parent.name) else {
            return Err(k);
        };
        for l in &gateway.spec.listeners {
            if parent.section_name.as_ref().is_none_or(|s| *s == l.name)
                && let Some(h) = &l.hostname
            {
                out.push(h.clone());
            }
        }
    }
    Ok(out)
}

/// Whether a listener the parentRefs name is HTTP (translate_grpcroute.go lines 154-161).
fn has_http_listener(snapshot: &Snapshot, route: &GrpcRoute) -> bool {
    let route = GatewayRoute::from(route);
    let listeners = attachment::parent_listeners(snapshot, &route);
    listeners.iter().any(|l| l.protocol == "HTTP")
}
