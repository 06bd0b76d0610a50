//! The Kong routes of one rule group (the rules sharing a Kong service), as KIC v3.5.13 makes
//! them (`internal/dataplane/translator/subtranslator/httproute.go`, "HR" below, lines
//! 322-400 and 700-800): rules are taken in the order of their `"<ns>/<name>.<index>"` key
//! (so rule 10 before rule 2, HR 72-74), grouped by their filters (in any order), and within
//! a filter group matches with the same method and headers (names compared without case)
//! share one route named after the first, its paths concatenated. A rule without matches gets
//! a route of its own, `...<rule>.0`, matching only its hostnames, without filters or
//! named-rule tags (HR 343-367, 710-728).
//!
//! Where KIC's output is something Kong refuses or that routes other than asked, kingress
//! differs (docs/KIC-GOLDENS.md): a redirect's matches get a route each, named after their own
//! rule and match (KIC gives them all the group's name and ID, HR 882-918), and rules with a
//! prefix rewrite are never merged (KIC keeps only the first rule's prefix, HR 767-769).

use std::collections::BTreeMap;

use gateway_api::apis::standard::httproutes::{
    HttpRouteRules, HttpRouteRulesMatches, HttpRouteRulesMatchesHeadersType,
    HttpRouteRulesMatchesPath, HttpRouteRulesMatchesPathType,
};

use super::{enum_str, filters};
use crate::kong::config::Route;
use crate::translate::names::{self, Entity};

/// What a rule group gives: Kong routes, each with the KongPlugins its ExtensionRef filters
/// name.
pub struct KongRoute {
    pub route: Route,
    pub extension_refs: Vec<String>,
}

/// The route's identity and what every route of it carries.
pub struct Owner<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub obj: &'a names::ObjectRef,
    pub annotations: Option<&'a BTreeMap<String, String>>,
    pub hosts: &'a [String],
    pub protocols: &'a [String],
    /// Kong has the `redirect` plugin (3.9 and later).
    pub redirect_plugin: bool,
}

/// KIC's rule order: by the rule's key as a string.
pub fn kic_order(members: &[usize]) -> Vec<usize> {
    let mut sorted = members.to_vec();
    sorted.sort_by_key(|i| i.to_string());
    sorted
}

/// The Kong routes of `members` (rule indexes sharing a Kong service; filters already
/// checked by [`filters::unsupported`]).
pub fn routes_for_group(
    owner: &Owner<'_>,
    rules: &[HttpRouteRules],
    members: &[usize],
) -> Vec<KongRoute> {
    let members = kic_order(members);
    // Filter groups, in order of first appearance.
    let mut filter_groups: Vec<(String, Vec<usize>)> = Vec::new();
    for &i in &members {
        let filters = rules[i].filters.as_deref().unwrap_or_default();
        let mut key = sorted_json(filters);
        if filters::prefix_rewrite(filters).is_some() {
            key.push_str(&format!("#rule{i}"));
        }
        match filter_groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(i),
            None => filter_groups.push((key, vec![i])),
        }
    }
    let mut out = Vec::new();
    for (_, group) in filter_groups {
        let filters = rules[group[0]].filters.as_deref().unwrap_or_default();
        let mut match_groups: Vec<MatchGroup<'_>> = Vec::new();
        for &i in &group {
            let rule = &rules[i];
            match rule.matches.as_deref() {
                Some([]) => out.push(hostname_only(owner, i)),
                None => add_match(&mut match_groups, i, 0, &DEFAULT_MATCH, rule),
                Some(matches) => {
                    for (j, m) in matches.iter().enumerate() {
                        add_match(&mut match_groups, i, j, m, rule);
                    }
                }
            }
        }
        for g in match_groups {
            let extra: Vec<String> = g
                .rule_names
                .iter()
                .map(|n| format!("k8s-named-route-rule:{n}"))
                .collect();
            let tags = names::tags_with(owner.obj, &extra, owner.annotations);
            if filters::has_redirect(filters) {
                // One route per match: the Location is built from its path.
                for &(i, j, m) in &g.matches {
                    let mut route = base_route(owner, i, j, m, tags.clone());
                    add_paths(&mut route, m);
                    let path = match_path(m);
                    let translated =
                        filters::translate(filters, &path, &tags, owner.redirect_plugin);
                    route.plugins = translated.plugins;
                    out.push(KongRoute {
                        route,
                        extension_refs: translated.extension_refs,
                    });
                }
                continue;
            }
            let (i, j, first) = g.matches[0];
            let mut route = base_route(owner, i, j, first, tags.clone());
            for &(_, _, m) in &g.matches {
                add_paths(&mut route, m);
            }
            let path = match filters::prefix_rewrite(filters) {
                Some(_) => match_path(first),
                None => String::new(),
            };
            let translated = filters::translate(filters, &path, &tags, owner.redirect_plugin);
            if let Some(paths) = translated.paths {
                route.paths = paths;
            }
            route.plugins = translated.plugins;
            out.push(KongRoute {
                route,
                extension_refs: translated.extension_refs,
            });
        }
    }
    out
}

/// The CRD's default for absent matches: one PathPrefix `/` match.
static DEFAULT_MATCH: std::sync::LazyLock<HttpRouteRulesMatches> =
    std::sync::LazyLock::new(|| HttpRouteRulesMatches {
        path: Some(HttpRouteRulesMatchesPath {
            r#type: Some(HttpRouteRulesMatchesPathType::PathPrefix),
            value: Some("/".into()),
        }),
        ..Default::default()
    });

struct MatchGroup<'r> {
    key: String,
    /// (rule, match index, match), in order.
    matches: Vec<(usize, usize, &'r HttpRouteRulesMatches)>,
    rule_names: Vec<String>,
}

fn add_match<'r>(
    groups: &mut Vec<MatchGroup<'r>>,
    i: usize,
    j: usize,
    m: &'r HttpRouteRulesMatches,
    rule: &HttpRouteRules,
) {
    let key = match_key(m);
    let pos = match groups.iter().position(|g| g.key == key) {
        Some(pos) => pos,
        None => {
            groups.push(MatchGroup {
                key,
                matches: Vec::new(),
                rule_names: Vec::new(),
            });
            groups.len() - 1
        }
    };
    let group = &mut groups[pos];
    group.matches.push((i, j, m));
    if let Some(n) = rule.name.as_ref().filter(|n| !n.trim().is_empty())
        && !group.rule_names.contains(n)
    {
        group.rule_names.push(n.clone());
    }
}

/// KIC's match key (HR 574-632): method and headers, names lower-cased, the first of a
/// name kept, sorted by name.
fn match_key(m: &HttpRouteRulesMatches) -> String {
    let mut headers: Vec<(String, String, String)> = Vec::new();
    for h in m.headers.iter().flatten() {
        let name = h.name.to_lowercase();
        if headers.iter().all(|(n, _, _)| *n != name) {
            let kind = h.r#type.as_ref().map(enum_str).unwrap_or_default();
            headers.push((name, kind, h.value.clone()));
        }
    }
    headers.sort();
    let method = m.method.as_ref().map(enum_str).unwrap_or_default();
    format!("{method}|{headers:?}")
}

fn base_route(
    owner: &Owner<'_>,
    i: usize,
    j: usize,
    m: &HttpRouteRulesMatches,
    tags: Vec<String>,
) -> Route {
    let route_name = names::httproute_route_name(owner.namespace, owner.name, i, j);
    Route {
        headers: match_headers(m),
        hosts: owner.hosts.to_vec(),
        https_redirect_status_code: 426,
        id: names::entity_id(Entity::Route, &route_name),
        name: route_name,
        path_handling: "v0".into(),
        preserve_host: Some(true),
        protocols: owner.protocols.to_vec(),
        strip_path: Some(false),
        tags,
        ..Default::default()
    }
}

/// A rule without matches: a route on the hostnames alone (a catch-all without them).
fn hostname_only(owner: &Owner<'_>, i: usize) -> KongRoute {
    let route_name = names::httproute_route_name(owner.namespace, owner.name, i, 0);
    KongRoute {
        route: Route {
            hosts: owner.hosts.to_vec(),
            https_redirect_status_code: 426,
            id: names::entity_id(Entity::Route, &route_name),
            name: route_name,
            path_handling: "v0".into(),
            preserve_host: Some(true),
            protocols: owner.protocols.to_vec(),
            tags: names::tags_with(owner.obj, &[], owner.annotations),
            ..Default::default()
        },
        extension_refs: Vec::new(),
    }
}

fn add_paths(route: &mut Route, m: &HttpRouteRulesMatches) {
    for p in match_paths(m) {
        if !route.paths.contains(&p) {
            route.paths.push(p);
        }
    }
    let method = m.method.as_ref().map(enum_str).unwrap_or_default();
    if !method.is_empty() && !route.methods.contains(&method) {
        route.methods.push(method);
    }
}

/// The match's raw path value (the CRD defaults it to `/`).
fn match_path(m: &HttpRouteRulesMatches) -> String {
    m.path
        .as_ref()
        .and_then(|p| p.value.clone())
        .unwrap_or_else(|| "/".into())
}

/// Order-independent identity of a list (rules with equal filters, or backendRefs, group):
/// each item's JSON, sorted, joined (HR 677-686).
pub fn sorted_json<T: serde::Serialize>(items: &[T]) -> String {
    let mut keys: Vec<String> = items
        .iter()
        .map(|r| serde_json::to_string(r).unwrap_or_default())
        .collect();
    keys.sort();
    keys.join(";")
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
