//! Gateway API HTTPRoute (v1) → Kong services and routes (Kong's traditional router).
//!
//! Rules of one HTTPRoute with equal backendRefs share one Kong service and upstream,
//! `httproute.<ns>.<name>.<lowest rule index>`. Within it, matches with the same method and
//! headers share one route named after the first, `httproute.<ns>.<name>.<rule>.<match>`,
//! with their paths in order. Protocols are always `[http, https]` (KIC's traditional
//! router), hosts are `spec.hostnames`.

use crate::kinds::Kind;
use std::collections::BTreeMap;

use gateway_api::apis::standard::httproutes::{
    HttpRouteRules, HttpRouteRulesBackendRefs, HttpRouteRulesMatches,
    HttpRouteRulesMatchesHeadersType, HttpRouteRulesMatchesPath, HttpRouteRulesMatchesPathType,
};
use kube::ResourceExt;

use crate::api::HttpRoute;
use crate::kong::config::Route;
use crate::translate::backends::targets::{self, PortRef};
use crate::translate::backends::upstreams::{self, Backend, Naming};
use crate::translate::gateway::{attachment, grants};
use crate::translate::names::{self, Entity, ObjectRef};
use crate::translate::problems::Reason;
use crate::translate::{Context, annotations, plugins};

pub fn translate_all(ctx: &mut Context<'_>) {
    let assume = ctx.options.assume_attached_without_gateways
        && ctx.snapshot.gateways.is_empty()
        && ctx.snapshot.gateway_classes.is_empty();
    for route in ctx.httproutes() {
        let obj = ObjectRef::of(route);
        let ns = route.namespace().unwrap_or_default();
        if let Some(why) = ctx.excluded.reason(Kind::HttpRoute, &ns, &route.name_any()) {
            ctx.problems.error(&obj, Reason::Excluded, None, why);
            continue;
        }
        if !assume && !attachment::attached(ctx.snapshot, route, &ctx.options.controller_name) {
            ctx.problems.warning(
                &obj,
                Reason::NotAttached,
                Some("spec.parentRefs".into()),
                format!(
                    "not attached to any Gateway whose GatewayClass has controllerName {}; ignored",
                    ctx.options.controller_name
                ),
            );
            continue;
        }
        translate(ctx, route, &obj);
    }
}

fn translate(ctx: &mut Context<'_>, route: &HttpRoute, obj: &ObjectRef) {
    let rules = route.spec.rules.as_deref().unwrap_or_default();
    // Query-parameter matches need Kong's expressions router; translating the rest of the
    // match would route more traffic than asked, so the whole HTTPRoute is left out (KIC).
    for (i, rule) in rules.iter().enumerate() {
        for (j, m) in rule.matches.iter().flatten().enumerate() {
            if m.query_params.as_ref().is_some_and(|q| !q.is_empty()) {
                ctx.problems.error(
                    obj,
                    Reason::UnsupportedMatch,
                    Some(format!("spec.rules[{i}].matches[{j}].queryParams")),
                    "query parameter matches need Kong's expressions router, which kingress does not use; HTTPRoute left out".into(),
                );
                return;
            }
        }
    }
    let namespace = route.namespace().unwrap_or_default();
    let name = route.name_any();
    let Some(hosts) = valid_hostnames(ctx, route, obj) else {
        return;
    };
    // Rules with the same backendRefs (in any order) share the service of the first.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if let Some(reason) = unsupported_filter(rule) {
            ctx.problems.error(
                obj,
                Reason::UnsupportedMatch,
                Some(format!("spec.rules[{i}].filters")),
                format!("{reason}; rule {i} left out"),
            );
            continue;
        }
        // Without the header the match would take more traffic than asked.
        if let Some((field, msg)) = invalid_header_name(rule, i) {
            ctx.problems.error(
                obj,
                Reason::InvalidValue,
                Some(field),
                format!("{msg}; rule {i} left out"),
            );
            continue;
        }
        let key = backends_key(rule.backend_refs.as_deref().unwrap_or_default());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    for (_, members) in groups {
        let first = members[0];
        let refs = rules[first].backend_refs.as_deref().unwrap_or_default();
        let service_name = names::httproute_service_name(&namespace, &name, first);
        build_service(ctx, route, obj, &service_name, first, refs);
        let protocols = attachment::listener_protocols(ctx.snapshot, route);
        for kong_route in routes_for_group(route, obj, rules, &members, &hosts, &protocols) {
            let mut kong_route = kong_route;
            annotations::apply_to_route(
                route.metadata.annotations.as_ref(),
                obj,
                ctx.problems,
                &mut kong_route,
            );
            let scope = plugins::Scope::Route(kong_route.name.clone());
            if let Some(service) = ctx.service_mut(&service_name) {
                service.routes.push(kong_route);
                plugins::attach(
                    ctx,
                    obj,
                    &namespace,
                    route.metadata.annotations.as_ref(),
                    scope,
                );
            }
        }
    }
}

/// `spec.hostnames` less those the apiserver would refuse (each reported), or None when
/// none is left: the routes would then match every host, so the HTTPRoute is left out.
fn valid_hostnames(
    ctx: &mut Context<'_>,
    route: &HttpRoute,
    obj: &ObjectRef,
) -> Option<Vec<String>> {
    let given = route.spec.hostnames.as_deref().unwrap_or_default();
    let mut valid = Vec::with_capacity(given.len());
    for (k, host) in given.iter().enumerate() {
        match names::hostname_error(host) {
            None => valid.push(host.clone()),
            Some(msg) => ctx.problems.error(
                obj,
                Reason::InvalidValue,
                Some(format!("spec.hostnames[{k}]")),
                if k + 1 == given.len() && valid.is_empty() {
                    format!("{msg}; no valid hostname left, HTTPRoute left out")
                } else {
                    format!("{msg}; left out")
                },
            ),
        }
    }
    (given.is_empty() || !valid.is_empty()).then_some(valid)
}

/// The first header match name of `rule` (index `i`) that Kong cannot match on, as
/// (field, message).
fn invalid_header_name(rule: &HttpRouteRules, i: usize) -> Option<(String, String)> {
    for (j, m) in rule.matches.iter().flatten().enumerate() {
        for (k, h) in m.headers.iter().flatten().enumerate() {
            if let Some(msg) = names::header_name_error(&h.name) {
                let field = format!("spec.rules[{i}].matches[{j}].headers[{k}].name");
                return Some((field, msg));
            }
        }
    }
    None
}

/// Order-independent identity of a rule's backendRefs: rules with equal keys share one
/// Kong service.
pub fn backends_key(refs: &[HttpRouteRulesBackendRefs]) -> String {
    let mut items: Vec<String> = refs
        .iter()
        .map(|r| serde_json::to_string(r).unwrap_or_default())
        .collect();
    items.sort();
    items.join(";")
}

/// One Kong route per distinct (method, headers) among the group's matches, named after
/// the first rule and match that produced it; paths accumulate in order (KIC).
fn routes_for_group(
    route: &HttpRoute,
    obj: &ObjectRef,
    rules: &[HttpRouteRules],
    members: &[usize],
    hosts: &[String],
    protocols: &[String],
) -> Vec<Route> {
    let namespace = route.namespace().unwrap_or_default();
    let name = route.name_any();
    struct Group {
        key: String,
        route: Route,
        rule_names: Vec<String>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for &i in members {
        let rule = &rules[i];
        let rule_name = rule.name.clone().filter(|n| !n.trim().is_empty());
        let matches: Vec<HttpRouteRulesMatches> = match rule.matches.as_deref() {
            // The CRD defaults absent matches to one PathPrefix `/` match.
            None => vec![HttpRouteRulesMatches {
                path: Some(HttpRouteRulesMatchesPath {
                    r#type: Some(HttpRouteRulesMatchesPathType::PathPrefix),
                    value: Some("/".into()),
                }),
                ..Default::default()
            }],
            Some([]) => {
                // KIC's catch-all route for an explicitly empty match list.
                let route_name = names::httproute_route_name(&namespace, &name, i, 0);
                groups.push(Group {
                    key: format!("empty:{i}"),
                    route: Route {
                        hosts: hosts.to_vec(),
                        https_redirect_status_code: 426,
                        id: names::entity_id(Entity::Route, &route_name),
                        name: route_name,
                        path_handling: "v0".into(),
                        preserve_host: true,
                        protocols: protocols.to_vec(),
                        ..Default::default()
                    },
                    rule_names: rule_name.into_iter().collect(),
                });
                continue;
            }
            Some(m) => m.to_vec(),
        };
        for (j, m) in matches.iter().enumerate() {
            let headers = match_headers(m);
            let method = m.method.as_ref().map(enum_str).unwrap_or_default();
            let key = format!("{method}|{headers:?}");
            let group = match groups.iter_mut().position(|g| g.key == key) {
                Some(pos) => &mut groups[pos],
                None => {
                    let route_name = names::httproute_route_name(&namespace, &name, i, j);
                    groups.push(Group {
                        key,
                        route: Route {
                            headers,
                            hosts: hosts.to_vec(),
                            https_redirect_status_code: 426,
                            id: names::entity_id(Entity::Route, &route_name),
                            name: route_name,
                            path_handling: "v0".into(),
                            preserve_host: true,
                            protocols: protocols.to_vec(),
                            strip_path: Some(false),
                            ..Default::default()
                        },
                        rule_names: Vec::new(),
                    });
                    groups.last_mut().expect("just pushed")
                }
            };
            for p in match_paths(m) {
                if !group.route.paths.contains(&p) {
                    group.route.paths.push(p);
                }
            }
            if !method.is_empty() && !group.route.methods.contains(&method) {
                group.route.methods.push(method);
            }
            if let Some(n) = &rule_name
                && !group.rule_names.contains(n)
            {
                group.rule_names.push(n.clone());
            }
        }
    }
    let annotations = route.metadata.annotations.as_ref();
    groups
        .into_iter()
        .map(|g| {
            let extra: Vec<String> = g
                .rule_names
                .iter()
                .map(|n| format!("k8s-named-route-rule:{n}"))
                .collect();
            let mut kong_route = g.route;
            kong_route.tags = names::tags_with(obj, &extra, annotations);
            kong_route
        })
        .collect()
}
/// The wire name of a Gateway API enum value (e.g. `GET`, `RequestRedirect`).
fn enum_str<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// KIC: Exact `v` → `~v$`; PathPrefix `v` → `~v$` then `v/` (`v` if it ends in `/`);
/// RegularExpression `v` → `~v`; no path → none.
pub fn match_paths(m: &HttpRouteRulesMatches) -> Vec<String> {
    let Some(path) = &m.path else {
        return vec![];
    };
    let value = path.value.clone().unwrap_or_else(|| "/".into());
    match path
        .r#type
        .clone()
        .unwrap_or(HttpRouteRulesMatchesPathType::PathPrefix)
    {
        HttpRouteRulesMatchesPathType::Exact => vec![format!("~{value}$")],
        HttpRouteRulesMatchesPathType::RegularExpression => vec![format!("~{value}")],
        HttpRouteRulesMatchesPathType::PathPrefix => {
            let plain = if value.ends_with('/') {
                value.clone()
            } else {
                format!("{value}/")
            };
            vec![format!("~{value}$"), plain]
        }
    }
}

/// Exact → `{name: [value]}`, RegularExpression → `{name: ["~*value"]}`; the first match
/// of a header name wins (Gateway API forbids repeats).
fn match_headers(m: &HttpRouteRulesMatches) -> BTreeMap<String, Vec<String>> {
    let mut headers = BTreeMap::new();
    for h in m.headers.iter().flatten() {
        let value = match h.r#type {
            Some(HttpRouteRulesMatchesHeadersType::RegularExpression) => format!("~*{}", h.value),
            _ => h.value.clone(),
        };
        headers.entry(h.name.clone()).or_insert_with(|| vec![value]);
    }
    headers
}

/// Filters kingress cannot express yet; ignoring them would change what the rule does.
fn unsupported_filter(rule: &HttpRouteRules) -> Option<String> {
    let filters = rule.filters.as_deref().unwrap_or_default();
    filters.first().map(|f| {
        format!(
            "filter {} is not supported by kingress yet",
            enum_str(&f.r#type)
        )
    })
}

/// Builds the Kong service for a rule group's backendRefs. Backends that do not resolve
/// are reported and left out; if none resolves, the service answers 500 through a
/// `request-termination` plugin, as KIC does, instead of routing nowhere.
fn build_service(
    ctx: &mut Context<'_>,
    route: &HttpRoute,
    obj: &ObjectRef,
    service_name: &str,
    rule: usize,
    refs: &[HttpRouteRulesBackendRefs],
) {
    let namespace = route.namespace().unwrap_or_default();
    let mut backends = Vec::new();
    for (k, r) in refs.iter().enumerate() {
        let field = format!("spec.rules[{rule}].backendRefs[{k}]");
        let group = r.group.as_deref().unwrap_or_default();
        let kind = r.kind.as_deref().unwrap_or("Service");
        if !group.is_empty() || kind != "Service" {
            ctx.problems.error(
                obj,
                Reason::InvalidBackend,
                Some(format!("{field}.kind")),
                format!(
                    "backend kind {kind} (group {group:?}) is not supported; only core Services"
                ),
            );
            continue;
        }
        let ref_ns = r.namespace.as_deref().unwrap_or(&namespace);
        // KIC's order: the kind, then the Service, then the grant (v3.5.13
        // internal/controllers/gateway/httproute_controller.go lines 613-673).
        let Some(service) = ctx.backend_service(obj, format!("{field}.name"), ref_ns, &r.name)
        else {
            continue;
        };
        let from = grants::From {
            kind: "HTTPRoute",
            namespace: &namespace,
        };
        let to = grants::To {
            group: "",
            kind: "Service",
            namespace: ref_ns,
            name: &r.name,
        };
        if !grants::permitted(ctx.snapshot, from, to) {
            ctx.problems.error(
                obj,
                Reason::InvalidBackend,
                Some(format!("{field}.namespace")),
                format!(
                    "Service {ref_ns}/{} is in another namespace and no ReferenceGrant in {ref_ns} lets HTTPRoutes of {namespace} refer to it; backend left out",
                    r.name
                ),
            );
            continue;
        }
        let port_ref = r.port.map_or(PortRef::Implicit, PortRef::Number);
        let port = match targets::resolve_port(service, &port_ref) {
            Ok(p) => p,
            Err(e) => {
                ctx.problems.error(
                    obj,
                    Reason::PortNotFound,
                    Some(format!("{field}.port")),
                    e.to_string(),
                );
                continue;
            }
        };
        if let Err((port_field, msg)) = targets::check_port(service, port) {
            ctx.problems.error(
                &ObjectRef::of(service),
                Reason::InvalidValue,
                Some(port_field),
                format!("{msg}; left out as a backend of {obj} ({field}.port)"),
            );
            continue;
        }
        // Gateway API defaults an unset weight to 1.
        let Some(weight) = valid_weight(r.weight.unwrap_or(1)) else {
            ctx.problems.error(
                obj,
                Reason::InvalidValue,
                Some(format!("{field}.weight")),
                format!(
                    "{} is outside 0-{MAX_WEIGHT} (Gateway API's range); backend left out",
                    r.weight.unwrap_or(1)
                ),
            );
            continue;
        };
        // The same Service port named twice is one backend with the weights added, so the
        // split is computed once over its endpoints (not per reference, then summed).
        match backends.iter_mut().find(|b: &&mut Backend<'_>| {
            std::ptr::eq(b.service, service) && b.port.port == port.port
        }) {
            Some(b) => b.weight = Some(b.weight.unwrap_or(0).saturating_add(weight)),
            None => backends.push(Backend {
                service,
                port,
                port_found: true,
                weight: Some(weight),
            }),
        }
    }
    let naming = Naming {
        service_name: service_name.to_string(),
        upstream_name: service_name.to_string(),
        owner_tags: names::tags(obj, route.metadata.annotations.as_ref()),
        owner: obj.clone(),
    };
    let (mut service, mut upstream) = upstreams::build(ctx, naming, &backends);
    if backends.is_empty() {
        service.port = 80;
        service.tags = UNKNOWN_SERVICE_TAGS.iter().map(|t| t.to_string()).collect();
        upstream.tags = service.tags.clone();
        service
            .plugins
            .push(plugins::no_backend_termination(service_name));
    }
    ctx.add_service(service, upstream);
}

/// Gateway API's maximum backendRef weight (the CRD's; offline nothing else enforces it).
const MAX_WEIGHT: u32 = 1_000_000;

fn valid_weight(weight: i32) -> Option<u32> {
    u32::try_from(weight).ok().filter(|w| *w <= MAX_WEIGHT)
}

/// KIC's placeholder tags for a service with no resolvable Kubernetes Service.
const UNKNOWN_SERVICE_TAGS: &[&str] = &[
    "k8s-name:UNKNOWN",
    "k8s-namespace:UNKNOWN",
    "k8s-kind:Service",
    "k8s-uid:00000000-0000-0000-0000-000000000000",
    "k8s-group:core",
    "k8s-version:v1",
];
