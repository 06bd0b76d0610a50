//! Gateway API HTTPRoute (v1) → Kong services and routes (Kong's traditional router).
//!
//! Rules of one HTTPRoute with equal backendRefs share one Kong service and upstream,
//! `httproute.<ns>.<name>.<lowest rule index>`. Within it, matches with the same method and
//! headers share one route named after the first, `httproute.<ns>.<name>.<rule>.<match>`,
//! with their paths in order. Protocols are always `[http, https]` (KIC's traditional
//! router), hosts are `spec.hostnames`.

mod combined;
pub mod expressions;
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
    let mut prepared = Vec::new();
    for route in ctx.httproutes() {
        let obj = ObjectRef::of(route);
        if super::takes(ctx, &GatewayRoute::from(route), &obj)
            && let Some(p) = prepare(ctx, route, obj, !assume)
        {
            prepared.push(p);
        }
    }
    if ctx.options.combined_services_from_different_httproutes {
        combined::translate(ctx, &prepared);
        return;
    }
    for p in &prepared {
        // Rules with the same backendRefs (in any order) share the service of the first.
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for &i in &p.rules {
            let key = backends_key(
                p.route_rules()[i]
                    .backend_refs
                    .as_deref()
                    .unwrap_or_default(),
            );
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        for (_, members) in groups {
            let service_name = names::httproute_service_name(&p.namespace, &p.name, members[0]);
            emit_service(ctx, &service_name, &[Part { of: p, members }]);
        }
    }
}

/// An HTTPRoute that passed the route-wide checks: its hostnames, and the rules that remain.
pub(super) struct Prepared<'a> {
    route: &'a HttpRoute,
    obj: ObjectRef,
    namespace: String,
    name: String,
    hosts: Vec<String>,
    /// Indexes of the rules translated (in order).
    rules: Vec<usize>,
}

impl Prepared<'_> {
    fn route_rules(&self) -> &[HttpRouteRules] {
        self.route.spec.rules.as_deref().unwrap_or_default()
    }
}

/// Some of a route's rules sharing one Kong service.
pub(super) struct Part<'a> {
    of: &'a Prepared<'a>,
    members: Vec<usize>,
}

/// The route-wide checks, the hostnames, and the rules that can be translated; None when the
/// HTTPRoute is left out (reported). `narrow`: the route's hostnames are narrowed by its
/// Gateways' listeners (not when it is assumed attached, offline without Gateways).
fn prepare<'a>(
    ctx: &mut Context<'_>,
    route: &'a HttpRoute,
    obj: ObjectRef,
    narrow: bool,
) -> Option<Prepared<'a>> {
    let obj = &obj;
    let rules = route.spec.rules.as_deref().unwrap_or_default();
    // Query-parameter matches need Kong's expressions router; translating the rest of the
    // match would route more traffic than asked, so the whole HTTPRoute is left out (KIC).
    for (i, rule) in rules.iter().enumerate() {
        for (j, m) in rule.matches.iter().flatten().enumerate() {
            if !ctx.options.router_flavor.expressions()
                && m.query_params.as_ref().is_some_and(|q| !q.is_empty())
            {
                ctx.problems.error(
                    obj,
                    Reason::UnsupportedMatch,
                    Some(format!("spec.rules[{i}].matches[{j}].queryParams")),
                    "query parameter matches need Kong's expressions router, which kingress does not use; HTTPRoute left out".into(),
                );
                return None;
            }
        }
    }
    let namespace = route.namespace().unwrap_or_default();
    let name = route.name_any();
    let hosts = valid_hostnames(ctx, route, obj)?;
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
                return None;
            }
        },
    };
    let mut kept = Vec::new();
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
        kept.push(i);
    }
    Some(Prepared {
        route,
        obj: obj.clone(),
        namespace,
        name,
        hosts,
        rules: kept,
    })
}

/// The Kong service `service_name` of `parts` (rules sharing it, of one HTTPRoute, or of
/// several with KIC's `--combined-services-from-different-httproutes`) and its routes. KIC
/// (`subtranslator/httproute.go` 66-110, 187-280) orders the rules by `<ns>/<name>.<index>`,
/// takes the backends (and ReferenceGrants) of the first, the timeouts of the last that sets
/// one, the route protocols from every HTTPRoute's listeners, and fails the whole service,
/// for every HTTPRoute in it, on a filter it cannot translate.
pub(super) fn emit_service(ctx: &mut Context<'_>, service_name: &str, parts: &[Part<'_>]) {
    let refused: Vec<(&Part<'_>, usize, String, String)> = parts
        .iter()
        .flat_map(|part| {
            part.members.iter().filter_map(move |&i| {
                let filters = part.of.route_rules()[i]
                    .filters
                    .as_deref()
                    .unwrap_or_default();
                filters::unsupported(filters, i).map(|(f, m)| (part, i, f, m))
            })
        })
        .collect();
    if !refused.is_empty() {
        for part in parts {
            let listing: Vec<String> = part.members.iter().map(|i| i.to_string()).collect();
            let mine: Vec<&(&Part<'_>, usize, String, String)> =
                refused.iter().filter(|r| std::ptr::eq(r.0, part)).collect();
            for (_, _, field, msg) in &mine {
                ctx.problems.error(
                    &part.of.obj,
                    Reason::UnsupportedFilter,
                    Some(field.clone()),
                    format!(
                        "{msg}; Kong service {service_name} left out with its rules [{}], as KIC does",
                        listing.join(", ")
                    ),
                );
            }
            if mine.is_empty() {
                let (other, i, _, _) = refused[0];
                ctx.problems.error(
                    &part.of.obj,
                    Reason::UnsupportedFilter,
                    Some(format!("spec.rules[{}]", part.members[0])),
                    format!(
                        "Kong service {service_name}, which its rules [{}] share, is left out: rule {i} of {} has a filter KIC cannot translate, as KIC does",
                        listing.join(", "),
                        other.of.obj
                    ),
                );
            }
        }
        return;
    }
    // KIC's rule order over every part: `<ns>/<name>.<index>` as a string.
    let mut ordered: Vec<(String, &Part<'_>, usize)> = parts
        .iter()
        .flat_map(|part| {
            part.members.iter().map(move |&i| {
                let key = format!("{}/{}.{i}", part.of.namespace, part.of.name);
                (key, part, i)
            })
        })
        .collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    let (_, first_part, first) = ordered[0];
    let timed: Vec<(&ObjectRef, &HttpRouteRules, usize)> = ordered
        .iter()
        .map(|(_, part, i)| (&part.of.obj, &part.of.route_rules()[*i], *i))
        .collect();
    let timeout_ms = timeouts::backend_request_ms(ctx, &timed);
    let refs = first_part.of.route_rules()[first]
        .backend_refs
        .as_deref()
        .unwrap_or_default();
    build_service(
        ctx,
        first_part.of.route,
        &first_part.of.obj,
        service_name,
        first,
        refs,
        timeout_ms,
    );
    let mut protocols: Vec<String> = parts
        .iter()
        .flat_map(|part| {
            attachment::listener_protocols(ctx.snapshot, &GatewayRoute::from(part.of.route))
        })
        .collect();
    protocols.sort();
    protocols.dedup();
    for part in parts {
        let p = part.of;
        let owner = routes::Owner {
            namespace: &p.namespace,
            name: &p.name,
            obj: &p.obj,
            annotations: p.route.metadata.annotations.as_ref(),
            hosts: &p.hosts,
            protocols: &protocols,
            redirect_plugin: ctx.options.kong_version >= crate::kong::version::REDIRECT_PLUGIN,
        };
        let kong_routes = match ctx.options.router_flavor.expressions() {
            true => routes::kic_order(&part.members)
                .into_iter()
                .flat_map(|i| {
                    expressions::routes_for_rule(
                        &owner,
                        p.route_rules(),
                        i,
                        ctx.httproute_orders.get(&p.namespace),
                    )
                })
                .collect(),
            false => routes::routes_for_group(&owner, p.route_rules(), &part.members),
        };
        for kong_route in kong_routes {
            // ExtensionRef filters name KongPlugins as `konghq.com/plugins` does (HR 1147-1162).
            let with_refs = extension_annotations(p.route, &kong_route.extension_refs);
            let annotations = p.route.metadata.annotations.as_ref();
            let plugins = with_refs.as_ref().or(annotations);
            add_route(
                ctx,
                service_name,
                kong_route.route,
                &p.obj,
                annotations,
                plugins,
            );
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
    // Only where the filters apply: with the traditional router a rule without matches has
    // its filters ignored; the expressions router applies them to its catch-all route.
    let expressions = ctx.options.router_flavor.expressions();
    let no_matches = matches!(rule.matches.as_deref(), Some([]));
    if ctx.options.kong_version >= crate::kong::version::REDIRECT_PLUGIN
        && (expressions || !no_matches)
    {
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
    if !expressions && no_matches && rule.filters.as_ref().is_some_and(|f| !f.is_empty()) {
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
