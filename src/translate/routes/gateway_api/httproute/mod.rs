//! Gateway API HTTPRoute (v1) → Kong services and routes (Kong's traditional router).
//!
//! Rules of one HTTPRoute with equal backendRefs share one Kong service and upstream,
//! `httproute.<ns>.<name>.<lowest rule index>`. Within it, matches with the same method and
//! headers share one route named after the first, `httproute.<ns>.<name>.<rule>.<match>`,
//! with their paths in order. Protocols are always `[http, https]` (KIC's traditional
//! router), hosts are `spec.hostnames`.

mod filters;
mod routes;
mod timeouts;

use std::collections::BTreeMap;

use gateway_api::apis::standard::httproutes::{HttpRouteRules, HttpRouteRulesBackendRefs};
use kube::ResourceExt;

use super::backend_refs::{self, BackendRef, RouteOwner, backend_ref};
use crate::api::HttpRoute;
use crate::translate::gateway::route::{GatewayRoute, RouteKind};
use crate::translate::gateway::{attachment, hostnames};
use crate::translate::names::{self, ObjectRef};
use crate::translate::problems::Reason;
use crate::translate::routes::add_route;
use crate::translate::{Context, plugins};

pub fn translate_all(ctx: &mut Context<'_>) {
    let assume = super::assumes_attached(ctx);
    for route in ctx.httproutes() {
        let obj = ObjectRef::of(route);
        if super::takes(ctx, &GatewayRoute::from(route), &obj) {
            translate(ctx, route, &obj, !assume);
        }
    }
}

/// `narrow`: the route's hostnames are narrowed by its Gateways' listeners (not when it is
/// assumed attached, offline without Gateways).
fn translate(ctx: &mut Context<'_>, route: &HttpRoute, obj: &ObjectRef, narrow: bool) {
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
    let hosts = match narrow {
        false => hosts,
        true => match hostnames::effective_hostnames(
            ctx.snapshot,
            &GatewayRoute::from(route),
            &hosts,
            &ctx.options.controller_name,
        ) {
            Some(h) => h,
            None => {
                ctx.problems.error(
                    obj,
                    Reason::NotAttached,
                    Some("spec.hostnames".into()),
                    "no hostname matches a hostname of the listeners the route attaches to (NoMatchingListenerHostname); HTTPRoute left out".into(),
                );
                return;
            }
        },
    };
    // Rules with the same backendRefs (in any order) share the service of the first.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
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
        warn_ignored_filters(ctx, obj, rule, i);
        let key = backends_key(rule.backend_refs.as_deref().unwrap_or_default());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let protocols = attachment::listener_protocols(ctx.snapshot, &GatewayRoute::from(route));
    let owner = routes::Owner {
        namespace: &namespace,
        name: &name,
        obj,
        annotations: route.metadata.annotations.as_ref(),
        hosts: &hosts,
        protocols: &protocols,
        redirect_plugin: ctx.options.kong_version >= crate::kong::version::REDIRECT_PLUGIN,
    };
    for (_, members) in groups {
        let service_name = names::httproute_service_name(&namespace, &name, members[0]);
        // A filter KIC cannot translate leaves out the whole Kong service, the rules that
        // share its backendRefs included (HR 91-102).
        let refused: Vec<(usize, String, String)> = members
            .iter()
            .filter_map(|&i| {
                let filters = rules[i].filters.as_deref().unwrap_or_default();
                filters::unsupported(filters, i).map(|(f, m)| (i, f, m))
            })
            .collect();
        if !refused.is_empty() {
            let listing: Vec<String> = members.iter().map(|i| i.to_string()).collect();
            for (_, field, msg) in refused {
                ctx.problems.error(
                    obj,
                    Reason::UnsupportedFilter,
                    Some(field),
                    format!(
                        "{msg}; Kong service {service_name} left out with its rules [{}], as KIC does",
                        listing.join(", ")
                    ),
                );
            }
            continue;
        }
        // KIC takes the backends of the first rule in its order (the set is the same).
        let ordered = routes::kic_order(&members);
        let first = ordered[0];
        let refs = rules[first].backend_refs.as_deref().unwrap_or_default();
        let timeout_ms = timeouts::backend_request_ms(ctx, obj, rules, &ordered);
        build_service(ctx, route, obj, &service_name, first, refs, timeout_ms);
        for kong_route in routes::routes_for_group(&owner, rules, &members) {
            // ExtensionRef filters name KongPlugins as `konghq.com/plugins` does (HR 1147-1162).
            let with_refs = extension_annotations(route, &kong_route.extension_refs);
            let annotations = route.metadata.annotations.as_ref();
            let plugins = with_refs.as_ref().or(annotations);
            let r = kong_route.route;
            add_route(ctx, &service_name, r, obj, annotations, plugins);
        }
    }
}

/// The HTTPRoute's annotations with `refs` added to its `konghq.com/plugins`, or None when
/// there are none to add.
fn extension_annotations(route: &HttpRoute, refs: &[String]) -> Option<BTreeMap<String, String>> {
    if refs.is_empty() {
        return None;
    }
    let mut annotations = route.metadata.annotations.clone().unwrap_or_default();
    let joined = refs.join(",");
    annotations
        .entry(plugins::ANNOTATION.to_string())
        .and_modify(|v| *v = format!("{v},{joined}"))
        .or_insert(joined);
    Some(annotations)
}

/// Warns about filters that KIC, and so kingress, does not apply: those of a rule without
/// matches (HR 710-728) and those on backendRefs (HR 164-178).
fn warn_ignored_filters(ctx: &mut Context<'_>, obj: &ObjectRef, rule: &HttpRouteRules, i: usize) {
    if ctx.options.kong_version >= crate::kong::version::REDIRECT_PLUGIN {
        let redirects = rule.filters.iter().flatten().enumerate();
        for (k, r) in redirects.filter_map(|(k, f)| Some((k, f.request_redirect.as_ref()?))) {
            if filters::redirect_plugin_refused(r) {
                ctx.problems.info(
                    obj,
                    Reason::DiffersFromKic,
                    Some(format!("spec.rules[{i}].filters[{k}].requestRedirect")),
                    "no hostname: KIC would send Kong's redirect plugin with a path-only location, which Kong refuses; kingress sends request-termination with a Location header instead, as KIC does for Kong before 3.9".into(),
                );
            }
        }
    }
    if matches!(rule.matches.as_deref(), Some([]))
        && rule.filters.as_ref().is_some_and(|f| !f.is_empty())
    {
        ctx.problems.warning(
            obj,
            Reason::Ignored,
            Some(format!("spec.rules[{i}].filters")),
            "the rule has no matches: its route matches hostnames only and its filters are not applied (as in KIC)".into(),
        );
    }
    let filtered = rule.backend_refs.iter().flatten();
    let filtered = filtered.map(|r| r.filters.as_ref().is_some_and(|f| !f.is_empty()));
    backend_refs::warn_filters(ctx, obj, i, filtered);
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
    routes::sorted_json(refs)
}

/// The wire name of a Gateway API enum value (e.g. `GET`, `RequestRedirect`).
pub(super) fn enum_str<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
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
    timeout_ms: Option<i64>,
) {
    let refs: Vec<BackendRef<'_>> = refs.iter().map(|r| backend_ref!(r)).collect();
    let owner = RouteOwner {
        obj,
        kind: RouteKind::Http,
        annotations: route.metadata.annotations.as_ref(),
        protocol: "http",
        route_tags: true,
        timeout_ms,
    };
    let (mut service, mut upstream, resolved) =
        backend_refs::build_service(ctx, &owner, service_name, rule, &refs);
    if resolved == 0 {
        service.tags = names::unknown_service_tags();
        upstream.tags = service.tags.clone();
        service.plugins.push(plugins::no_backend_termination());
    }
    ctx.add_service(service, upstream);
}
