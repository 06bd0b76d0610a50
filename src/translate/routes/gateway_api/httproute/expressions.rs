//! HTTPRoute routes for Kong's expressions router, as KIC v3.5.13 makes them
//! (`subtranslator/httproute_atc.go`, "HA" below): one Kong route per hostname × rule × match
//! (`httproute.<ns>.<name>.<host or _>.<rule>.<match>`, HA 191-229, 466-544), its expression
//! the hostname, the `konghq.com/snis` annotation and the match (path, headers, query
//! parameters, method; HA 19-174), and a priority from the match's traits (HA 267-372) plus a
//! relative order among the splits of every HTTPRoute of the cluster with the same traits
//! (HA 381-462), which [`orders`] computes once per translation.

use std::collections::BTreeMap;

use gateway_api::apis::standard::httproutes::{
    HttpRouteRules, HttpRouteRulesFiltersType, HttpRouteRulesFiltersUrlRewritePathType,
    HttpRouteRulesMatches, HttpRouteRulesMatchesHeadersType, HttpRouteRulesMatchesPathType,
    HttpRouteRulesMatchesQueryParamsType,
};

use super::routes::{KongRoute, Owner};
use super::{enum_str, filters};
use crate::api::HttpRoute;
use crate::kong::config::Route;
use crate::translate::names::{self, Entity};
use crate::translate::routes::atc::{Matcher, VALID_HOST, VALID_SNI, header_field};

/// KIC's `ResourceKindBitsHTTPRoute << FromResourceKindPriorityShiftBits`.
const HTTPROUTE_KIND_BITS: u64 = 2 << 44;
/// The relative-order bits (HA 394-396): all ones for a split alone with its traits.
const RELATIVE_ORDER_MAX: u64 = (1 << 12) - 1;
/// `(net.protocol == "http") || (net.protocol == "https")` (`atc_utils.go` 36).
const CATCH_ALL: &str = r#"(net.protocol == "http") || (net.protocol == "https")"#;

/// A split's identity: (name, hostname, rule, match) within its namespace.
pub type SplitKey = (String, String, usize, usize);

/// Every split's final priority, by namespace (a change in one namespace can move the
/// relative order of another's splits: the incremental translator compares these maps).
pub type Orders = BTreeMap<String, BTreeMap<SplitKey, u64>>;

/// The CRD's default for absent matches (the apiserver stores it): one PathPrefix `/`.
fn default_match() -> HttpRouteRulesMatches {
    HttpRouteRulesMatches {
        path: Some(
            gateway_api::apis::standard::httproutes::HttpRouteRulesMatchesPath {
                r#type: Some(HttpRouteRulesMatchesPathType::PathPrefix),
                value: Some("/".into()),
            },
        ),
        ..Default::default()
    }
}

/// KIC's `SplitHTTPRoute` for rule `i`: each hostname (or `""`) × each match (an empty match
/// for a rule without any), as (hostname, match index, match).
fn splits_of_rule(
    hosts: &[String],
    rule: &HttpRouteRules,
) -> Vec<(String, usize, HttpRouteRulesMatches)> {
    let matches: Vec<HttpRouteRulesMatches> = match rule.matches.as_deref() {
        None => vec![default_match()],
        Some([]) => vec![HttpRouteRulesMatches::default()],
        Some(m) => m.to_vec(),
    };
    each_host_and_match(hosts, &matches)
}

/// Each hostname (or `""` when there are none) × each match, as (hostname, match index, match):
/// how KIC splits HTTPRoute and GRPCRoute rules.
pub(crate) fn each_host_and_match<M: Clone>(
    hosts: &[String],
    matches: &[M],
) -> Vec<(String, usize, M)> {
    let none = [String::new()];
    let hosts = if hosts.is_empty() { &none[..] } else { hosts };
    let mut out = Vec::new();
    for host in hosts {
        for (j, m) in matches.iter().enumerate() {
            out.push((host.clone(), j, m.clone()));
        }
    }
    out
}

/// The hostname's part of a KIC priority, the same for HTTPRoutes and GRPCRoutes: a
/// non-wildcard hostname (bit 43), then its length (from bit 35).
pub(crate) fn host_bits(host: &str) -> u64 {
    let exact = !host.is_empty() && !host.starts_with('*');
    (u64::from(exact) << 43) + ((host.len() as u64) << 35)
}

/// `calculateHTTPRouteMatchPriorityTraits` + `EncodeToPriority` (HA 267-372), without the
/// relative order.
fn base_priority(host: &str, m: &HttpRouteRulesMatches) -> u64 {
    let mut p = HTTPROUTE_KIND_BITS + host_bits(host);
    if let Some(path) = &m.path {
        match path.r#type {
            Some(HttpRouteRulesMatchesPathType::Exact) => p += 1 << 34,
            Some(HttpRouteRulesMatchesPathType::RegularExpression) => p += 1 << 33,
            _ => {}
        }
        let len = path.value.as_deref().map_or(0, str::len) as u64;
        if len > 0 {
            p += (len - 1) << 23;
        }
    }
    p += (m.headers.as_ref().map_or(0, Vec::len) as u64) << 17;
    if m.method.is_some() {
        p += 1 << 22;
    }
    p += (m.query_params.as_ref().map_or(0, Vec::len) as u64) << 12;
    p
}

/// [`orders`] over the HTTPRoutes translated (of ours, not left out), with the hostnames their
/// routes get (valid, narrowed by the listeners), as KIC's store holds them (its controller
/// filters the hostnames first, `route_utils.go` 603).
pub fn cluster_orders(
    snapshot: &crate::snapshot::Snapshot,
    options: &crate::translate::Options,
    excluded: &crate::translate::fallback::Excluded,
) -> Orders {
    use crate::translate::gateway::{attachment, hostnames, route::GatewayRoute};
    let assume = crate::translate::routes::gateway_api::assumes_attached_to(snapshot, options);
    let routes = snapshot.httproutes.values().filter_map(|r| {
        let ns = r.metadata.namespace.as_deref().unwrap_or_default();
        let name = r.metadata.name.as_deref().unwrap_or_default();
        if excluded.contains(crate::kinds::Kind::HttpRoute, ns, name) {
            return None;
        }
        let gw = GatewayRoute::from(&**r);
        if !assume && !attachment::attached(snapshot, &gw, &options.controller_name) {
            return None;
        }
        let valid: Vec<String> = r
            .spec
            .hostnames
            .iter()
            .flatten()
            .filter(|h| names::hostname_error(h).is_none())
            .cloned()
            .collect();
        let hosts = match assume {
            true => valid,
            false => {
                hostnames::effective_hostnames(snapshot, &gw, &valid, &options.controller_name)?
            }
        };
        Some((&**r, hosts))
    });
    orders(routes)
}

/// Every split's priority over `routes` with their hostnames (KIC's
/// `assignRoutePriorityToSplitHTTPRouteMatches`): splits alone with their traits get the
/// relative-order bits all ones; ties are ordered by creation time, namespace, name, rule and
/// match, the first getting all ones.
pub fn orders<'a>(routes: impl Iterator<Item = (&'a HttpRoute, Vec<String>)>) -> Orders {
    let mut buckets: BTreeMap<u64, Vec<Split>> = BTreeMap::new();
    for (route, hosts) in routes {
        let ns = route.metadata.namespace.clone().unwrap_or_default();
        let name = route.metadata.name.clone().unwrap_or_default();
        let created = route.metadata.creation_timestamp.as_ref().map(|t| t.0);
        for (i, rule) in route.spec.rules.iter().flatten().enumerate() {
            for (host, j, m) in splits_of_rule(&hosts, rule) {
                let base = base_priority(&host, &m);
                buckets.entry(base).or_default().push((
                    created,
                    ns.clone(),
                    name.clone(),
                    i,
                    j,
                    host,
                ));
            }
        }
    }
    assign(buckets, RELATIVE_ORDER_MAX)
}

/// A split to order: (creation time, namespace, name, rule, match, hostname).
pub type Split = (
    Option<k8s_openapi::jiff::Timestamp>,
    String,
    String,
    usize,
    usize,
    String,
);

/// KIC's relative order (HTTPRoutes: HA 381-462; GRPCRoutes: GA 311-385): within each bucket of
/// splits with one base priority, sorted by creation time, namespace, name, rule and match, the
/// first gets `max`, the next `max - 1`, ... (never below 0).
pub fn assign(buckets: BTreeMap<u64, Vec<Split>>, max: u64) -> Orders {
    let mut out = Orders::new();
    for (base, mut entries) in buckets {
        entries.sort_by(|a, b| (&a.0, &a.1, &a.2, a.3, a.4).cmp(&(&b.0, &b.1, &b.2, b.3, b.4)));
        for (k, (_, ns, name, i, j, host)) in entries.into_iter().enumerate() {
            let order = max.saturating_sub(k as u64);
            out.entry(ns)
                .or_default()
                .insert((name, host, i, j), base + order);
        }
    }
    out
}

/// The Kong routes of rule `i` (its filters `filters`) under the expressions router.
pub fn routes_for_rule(
    owner: &Owner<'_>,
    rules: &[HttpRouteRules],
    i: usize,
    orders: Option<&BTreeMap<SplitKey, u64>>,
) -> Vec<KongRoute> {
    let rule = &rules[i];
    let filters = rule.filters.as_deref().unwrap_or_default();
    let rewrite_prefix = filters.iter().any(|f| {
        f.r#type == HttpRouteRulesFiltersType::UrlRewrite
            && f.url_rewrite
                .as_ref()
                .and_then(|u| u.path.as_ref())
                .is_some_and(|p| {
                    p.r#type == HttpRouteRulesFiltersUrlRewritePathType::ReplacePrefixMatch
                })
    });
    let named: Vec<String> = rule
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|n| format!("k8s-named-route-rule:{n}"))
        .into_iter()
        .collect();
    let tags = names::tags_with(owner.obj, &named, owner.annotations);
    let snis: Vec<String> = owner
        .annotations
        .and_then(|a| a.get("konghq.com/snis"))
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for (host, j, m) in splits_of_rule(owner.hosts, rule) {
        let host_in_name = match host.as_str() {
            "" => "_".to_string(),
            h => h.replace('*', "_"),
        };
        let name = format!(
            "httproute.{}.{}.{host_in_name}.{i}.{j}",
            owner.namespace, owner.name
        );
        let priority = orders
            .and_then(|o| o.get(&(owner.name.to_string(), host.clone(), i, j)))
            .copied()
            .unwrap_or_else(|| base_priority(&host, &m) + RELATIVE_ORDER_MAX);
        let mut all = Vec::new();
        if VALID_HOST.is_match(&host) {
            all.push(host_matcher(&host));
        }
        if !snis.is_empty() {
            all.push(Matcher::Or(
                snis.iter()
                    .filter(|s| VALID_SNI.is_match(s))
                    .map(|s| Matcher::string("tls.sni", "==", s))
                    .collect(),
            ));
        }
        all.push(match_matcher(&m, rewrite_prefix));
        let rendered = Matcher::And(all).render();
        let expression = match rendered.is_empty() {
            true => CATCH_ALL.to_string(),
            false => rendered,
        };
        let path = m
            .path
            .as_ref()
            .and_then(|p| p.value.clone())
            .unwrap_or_default();
        let translated = filters::translate(filters, &path, &tags, owner.redirect_plugin);
        out.push(KongRoute {
            route: Route {
                expression: Some(expression),
                https_redirect_status_code: 426,
                id: names::entity_id(Entity::Route, &name),
                name,
                plugins: translated.plugins,
                preserve_host: Some(true),
                priority: Some(priority),
                protocols: owner.protocols.to_vec(),
                strip_path: Some(false),
                tags: tags.clone(),
                ..Default::default()
            },
            extension_refs: translated.extension_refs,
        });
    }
    out
}

fn host_matcher(host: &str) -> Matcher {
    match host.strip_prefix('*') {
        Some(suffix) => Matcher::string("http.host", "=^", suffix),
        None => Matcher::string("http.host", "==", host),
    }
}

/// `generateMatcherFromHTTPRouteMatch` (HA 19-43): path, headers, query parameters, method.
fn match_matcher(m: &HttpRouteRulesMatches, rewrite_prefix: bool) -> Matcher {
    let mut all = Vec::new();
    if let Some(p) = &m.path {
        let value = p.value.clone().unwrap_or_default();
        match p.r#type {
            Some(HttpRouteRulesMatchesPathType::Exact) => {
                all.push(Matcher::string("http.path", "==", &value));
            }
            Some(HttpRouteRulesMatchesPathType::RegularExpression) => {
                let re = match value.starts_with('^') {
                    true => value,
                    false => format!("^{value}"),
                };
                all.push(Matcher::string("http.path", "~", &re));
            }
            // PathPrefix (the CRD's default type)
            _ => {
                let path = match value.as_str() {
                    "" | "/" => "/".to_string(),
                    v => v.trim_end_matches('/').to_string(),
                };
                let root = path == "/";
                all.push(match (rewrite_prefix, root) {
                    (true, true) => Matcher::Or(vec![
                        Matcher::string("http.path", "==", "/"),
                        Matcher::string("http.path", "~", "^/(.*)"),
                    ]),
                    (true, false) => Matcher::Or(vec![
                        Matcher::string("http.path", "==", &path),
                        Matcher::string("http.path", "~", &format!("^{path}(/.*)")),
                    ]),
                    (false, true) => Matcher::string("http.path", "^=", "/"),
                    (false, false) => Matcher::Or(vec![
                        Matcher::string("http.path", "==", &path),
                        Matcher::string("http.path", "^=", &format!("{path}/")),
                    ]),
                });
            }
        }
    }
    let mut headers: Vec<_> = m.headers.iter().flatten().collect();
    headers.sort_by(|a, b| a.name.cmp(&b.name));
    if !headers.is_empty() {
        all.push(Matcher::And(
            headers
                .iter()
                .map(|h| {
                    let op = match h.r#type {
                        Some(HttpRouteRulesMatchesHeadersType::RegularExpression) => "~",
                        _ => "==",
                    };
                    Matcher::string(header_field(&h.name), op, &h.value)
                })
                .collect(),
        ));
    }
    let mut queries: Vec<_> = m.query_params.iter().flatten().collect();
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    if !queries.is_empty() {
        all.push(Matcher::And(
            queries
                .iter()
                .map(|q| {
                    let op = match q.r#type {
                        Some(HttpRouteRulesMatchesQueryParamsType::RegularExpression) => "~",
                        _ => "==",
                    };
                    Matcher::string(format!("http.queries.{}", q.name), op, &q.value)
                })
                .collect(),
        ));
    }
    if let Some(method) = &m.method {
        let method = enum_str(method);
        if method.chars().all(|c| c.is_ascii_uppercase()) && !method.is_empty() {
            all.push(Matcher::string("http.method", "==", &method));
        }
    }
    Matcher::And(all)
}
