//! GRPCRoute routes for Kong's expressions router, as KIC v3.5.13 makes them
//! (`translate_grpcroute.go` 75-175, `subtranslator/grpcroute_atc.go`, "GA" below): a Kong
//! service per hostname × rule (`grpcroute.<ns>.<name>.<host or _>.<rule>`) and a route per
//! match (`...<rule>.<match>`), the expression the method, headers, hostname and
//! `konghq.com/snis` (GA 19-123), the priority the match's traits plus a relative order among
//! the splits of every GRPCRoute with the same traits (GA 196-385), which [`orders`] computes.

use std::collections::BTreeMap;

use gateway_api::apis::standard::grpcroutes::{
    GrpcRouteRules, GrpcRouteRulesMatches, GrpcRouteRulesMatchesHeadersType,
    GrpcRouteRulesMatchesMethodType,
};

use crate::api::GrpcRoute;
use crate::kong::config::Route;
use crate::translate::names::{self, Entity};
use crate::translate::routes::atc::{Matcher, VALID_HOST, VALID_SNI, header_field};

/// KIC's `ResourceKindBitsGRPCRoute << FromResourceKindPriorityShiftBits`.
const GRPCROUTE_KIND_BITS: u64 = 1 << 44;
/// The relative-order bits (GA 311-340): 8 of them (which KIC lays over the header count's).
const RELATIVE_ORDER_MAX: u64 = (1 << 8) - 1;
const CATCH_ALL: &str = r#"(net.protocol == "http") || (net.protocol == "https")"#;

pub use super::httproute::expressions::Orders;
use super::httproute::expressions::{Split, assign};

/// KIC's `SplitGRPCRoute`: each of `spec.hostnames` (or `""`) × each match of rule `rule` (an
/// empty match for a rule without any), as (hostname, match index, match).
pub fn splits_of_rule(
    hosts: &[String],
    rule: &GrpcRouteRules,
) -> Vec<(String, usize, GrpcRouteRulesMatches)> {
    let matches: Vec<GrpcRouteRulesMatches> = match rule.matches.as_deref() {
        None | Some([]) => vec![GrpcRouteRulesMatches::default()],
        Some(m) => m.to_vec(),
    };
    super::httproute::expressions::each_host_and_match(hosts, &matches)
}

/// `CalculateGRCPRouteMatchPriorityTraits` + `EncodeToPriority` (GA 196-271).
fn base_priority(host: &str, m: &GrpcRouteRulesMatches) -> u64 {
    let mut p = GRPCROUTE_KIND_BITS + super::httproute::expressions::host_bits(host);
    if let Some(method) = &m.method {
        p += (method.service.as_deref().map_or(0, str::len) as u64) << 24;
        p += (method.method.as_deref().map_or(0, str::len) as u64) << 13;
    }
    p += (m.headers.as_ref().map_or(0, Vec::len) as u64) << 8;
    p
}

/// [`orders`] over the GRPCRoutes translated (of ours, not left out); KIC splits them on their
/// `spec.hostnames` as written.
pub fn cluster_orders(
    snapshot: &crate::snapshot::Snapshot,
    options: &crate::translate::Options,
    excluded: &crate::translate::fallback::Excluded,
) -> Orders {
    use crate::translate::gateway::{attachment, route::GatewayRoute};
    let assume = crate::translate::routes::gateway_api::assumes_attached_to(snapshot, options);
    orders(snapshot.grpcroutes.values().map(|r| &**r).filter(|r| {
        let ns = r.metadata.namespace.as_deref().unwrap_or_default();
        let name = r.metadata.name.as_deref().unwrap_or_default();
        !excluded.contains(crate::kinds::Kind::GrpcRoute, ns, name)
            && (assume
                || attachment::attached(
                    snapshot,
                    &GatewayRoute::from(*r),
                    &options.controller_name,
                ))
    }))
}

/// Every split's priority over `routes` (`AssignRoutePriorityToSplitGRPCRouteMatches`).
pub fn orders<'a>(routes: impl Iterator<Item = &'a GrpcRoute>) -> Orders {
    let mut buckets: BTreeMap<u64, Vec<Split>> = BTreeMap::new();
    for route in routes {
        let ns = route.metadata.namespace.clone().unwrap_or_default();
        let name = route.metadata.name.clone().unwrap_or_default();
        let created = route.metadata.creation_timestamp.as_ref().map(|t| t.0);
        let hosts = route.spec.hostnames.clone().unwrap_or_default();
        for (i, rule) in route.spec.rules.iter().flatten().enumerate() {
            for (host, j, m) in splits_of_rule(&hosts, rule) {
                buckets.entry(base_priority(&host, &m)).or_default().push((
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

/// `KongServiceNameFromSplitGRPCRouteMatch` (GA 437-450).
pub fn service_name(namespace: &str, name: &str, host: &str, rule: usize) -> String {
    format!("grpcroute.{namespace}.{name}.{}.{rule}", host_part(host))
}

fn host_part(host: &str) -> String {
    match host {
        "" => "_".into(),
        h => h.replace('*', "_"),
    }
}

/// The route of one split (GA 390-433).
#[allow(clippy::too_many_arguments)]
pub fn route(
    namespace: &str,
    name: &str,
    host: &str,
    i: usize,
    j: usize,
    m: &GrpcRouteRulesMatches,
    snis: Option<&String>,
    tags: &[String],
    protocols: &[String],
    priority: Option<u64>,
) -> Route {
    let route_name = format!("grpcroute.{namespace}.{name}.{}.{i}.{j}", host_part(host));
    let mut all = Vec::new();
    if let Some(method) = &m.method {
        all.push(method_matcher(
            method.r#type.as_ref(),
            method.service.as_deref(),
            method.method.as_deref(),
        ));
    }
    let mut headers: Vec<_> = m.headers.iter().flatten().collect();
    headers.sort_by(|a, b| a.name.cmp(&b.name));
    if !headers.is_empty() {
        all.push(Matcher::And(
            headers
                .iter()
                .map(|h| {
                    let op = match h.r#type {
                        Some(GrpcRouteRulesMatchesHeadersType::RegularExpression) => "~",
                        _ => "==",
                    };
                    Matcher::string(header_field(&h.name), op, &h.value)
                })
                .collect(),
        ));
    }
    if VALID_HOST.is_match(host) {
        all.push(match host.strip_prefix('*') {
            Some(suffix) => Matcher::string("http.host", "=^", suffix),
            None => Matcher::string("http.host", "==", host),
        });
    }
    let snis: Vec<&str> = snis
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !snis.is_empty() {
        all.push(Matcher::Or(
            snis.iter()
                .filter(|s| VALID_SNI.is_match(s))
                .map(|s| Matcher::string("tls.sni", "==", s))
                .collect(),
        ));
    }
    let rendered = Matcher::And(all).render();
    Route {
        expression: Some(match rendered.is_empty() {
            true => CATCH_ALL.to_string(),
            false => rendered,
        }),
        https_redirect_status_code: 426,
        id: names::entity_id(Entity::Route, &route_name),
        name: route_name,
        preserve_host: Some(true),
        priority: Some(priority.unwrap_or_else(|| base_priority(host, m) + RELATIVE_ORDER_MAX)),
        protocols: protocols.to_vec(),
        tags: tags.to_vec(),
        ..Default::default()
    }
}

/// GA 46-99: exact `/S/M`, `/S/` prefix, `/M` suffix, or a regex `^/S/M` (`.+` for a missing
/// part); `/` prefix without either.
fn method_matcher(
    kind: Option<&GrpcRouteRulesMatchesMethodType>,
    service: Option<&str>,
    method: Option<&str>,
) -> Matcher {
    let regex = matches!(
        kind,
        Some(GrpcRouteRulesMatchesMethodType::RegularExpression)
    );
    match (service, method, regex) {
        (None, None, _) => Matcher::string("http.path", "^=", "/"),
        (s, m, true) => Matcher::string(
            "http.path",
            "~",
            &format!("^/{}/{}", s.unwrap_or(".+"), m.unwrap_or(".+")),
        ),
        (Some(s), None, false) => Matcher::string("http.path", "^=", &format!("/{s}/")),
        (None, Some(m), false) => Matcher::string("http.path", "=^", &format!("/{m}")),
        (Some(s), Some(m), false) => Matcher::string("http.path", "==", &format!("/{s}/{m}")),
    }
}
