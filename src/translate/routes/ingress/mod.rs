//! Ingress (networking.k8s.io/v1) → Kong services and routes, as KIC does it.
//!
//! One Kong route holds every path of the same Ingress + host + Service + port, named
//! `<ns>.<ingress>.<svc>.<host>.<port>` (`<ns>.<ingress>.<host>.<facade>.svc.facade` for a
//! KongServiceFacade backend); the oldest Ingress's default backend gets route `<ns>.<ingress>`
//! with path `/`, the catch-all of the whole cluster.

use crate::kinds::Kind;

use k8s_openapi::api::core::v1::ServicePort;
use k8s_openapi::api::networking::v1::IngressBackend;
use kube::ResourceExt;

use crate::api::Ingress;
use crate::translate::Context;
use crate::translate::backends::service_facade;
use crate::translate::backends::targets::{self, PortRef};
use crate::translate::backends::upstreams::{self, Backend, Naming};
use crate::translate::names::{self, ObjectRef};
use crate::translate::problems::Reason;

mod default_backend;
mod expressions;
mod kong_route;

use kong_route::{Matching, add_route, flatten};

pub use default_backend::catch_all;

use super::rewrite::Rewrites;
use crate::translate::ingress_class::{self, CLASS_ANNOTATION};

pub fn translate_all(ctx: &mut Context<'_>) {
    let mut rewrites = Rewrites::default();
    for ingress in ctx.ingresses() {
        if !is_ours(ctx, ingress) {
            continue;
        }
        let ns = ingress.namespace().unwrap_or_default();
        match ctx.excluded.reason(Kind::Ingress, &ns, &ingress.name_any()) {
            Some(why) => ctx
                .problems
                .error(&ObjectRef::of(ingress), Reason::Excluded, None, why),
            None => translate(ctx, ingress, &mut rewrites),
        }
    }
    // After every Ingress, as KIC: a rewrite may leave out a service other Ingresses share.
    rewrites.apply(ctx);
    // Then the catch-all, as KIC (`translate_ingress.go` 58-81): if a rewrite left out the
    // Kong service it shares with a rule, it gets one of its own.
    default_backend::translate(ctx);
}

/// [`ingress_class::ours`], with a warning on an Ingress that names no class when ours is not the default.
fn is_ours(ctx: &mut Context<'_>, ingress: &Ingress) -> bool {
    let class = &ctx.options.ingress_class;
    if ingress_class::ours(ctx.snapshot, class, ingress) {
        return true;
    }
    let named = ingress
        .annotations()
        .get(CLASS_ANNOTATION)
        .is_some_and(|n| !n.is_empty())
        || ingress
            .spec
            .as_ref()
            .is_some_and(|s| s.ingress_class_name.is_some());
    if !named {
        ctx.problems.warning(
            &ObjectRef::of(ingress),
            Reason::Ignored,
            Some("spec.ingressClassName".into()),
            format!("no ingress class set and IngressClass {class} is not marked default; ignored"),
        );
    }
    false
}

/// Kong paths for one Ingress path (KIC's rules: `PathsFromIngressPaths`, then
/// `MaybePrependRegexPrefix` on each path it made, `subtranslator/ingress.go` 452-557).
pub fn kong_paths(
    path: Option<&str>,
    path_type: &str,
    regex_prefix: &str,
    legacy_regex: bool,
) -> Vec<String> {
    let path = flatten(path);
    let paths = match path_type {
        "Exact" => vec![format!("~/{}$", path.trim_start_matches('/'))],
        "Prefix" => {
            let base = path.trim_matches('/');
            if base.is_empty() {
                vec!["/".to_string()]
            } else {
                vec![format!("/{base}/"), format!("~/{base}$")]
            }
        }
        // ImplementationSpecific: as written.
        _ => vec![path],
    };
    paths
        .into_iter()
        .map(|p| regex_path(p, regex_prefix, legacy_regex))
        .collect()
}

/// KIC's `MaybePrependRegexPrefix`: a path starting with the regex prefix (`/~` unless
/// `konghq.com/regex-prefix` says otherwise; an empty one prefixes every path) becomes a Kong
/// regex path (`~`); with `enableLegacyRegexDetection`, so does one Kong 2.x took for a regex
/// (a character outside `[a-zA-Z0-9.\-_~/%]`).
fn regex_path(path: String, regex_prefix: &str, legacy: bool) -> String {
    if let Some(rest) = path.strip_prefix(regex_prefix) {
        return format!("~{rest}");
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-~/%".contains(c);
    if legacy && !path.chars().all(plain) && !path.starts_with('~') {
        return format!("~{path}");
    }
    path
}

struct RouteGroup {
    host: String,
    backend: Resolved,
    paths: Vec<String>,
    /// The paths as written (for the expressions router).
    raw: Vec<expressions::IngressPath>,
}

/// A path's backend, its Kong service made.
#[derive(PartialEq, Eq)]
enum Resolved {
    Service {
        name: String,
        port_label: String,
        kong_service: String,
    },
    Facade {
        name: String,
        kong_service: String,
    },
}

impl Resolved {
    fn kong_service(&self) -> &str {
        match self {
            Resolved::Service { kong_service, .. } | Resolved::Facade { kong_service, .. } => {
                kong_service
            }
        }
    }

    /// KIC's `intoKongRouteName` (`subtranslator/ingress.go` 321-339), `*` in the host as `_`.
    fn route_name(&self, namespace: &str, ingress: &str, host: &str) -> String {
        match self {
            Resolved::Service {
                name, port_label, ..
            } => names::ingress_route_name(namespace, ingress, name, host, port_label),
            Resolved::Facade { name, .. } => {
                let host = host.replace('*', "_");
                format!("{namespace}.{ingress}.{host}.{name}.svc.facade")
            }
        }
    }
}

fn translate(ctx: &mut Context<'_>, ingress: &Ingress, rewrites: &mut Rewrites) {
    let obj = ObjectRef::of(ingress);
    let namespace = ingress.namespace().unwrap_or_default();
    let ingress_name = ingress.name_any();
    let tags = names::tags(&obj, ingress.metadata.annotations.as_ref());
    let regex_prefix = ingress
        .annotations()
        .get("konghq.com/regex-prefix")
        .cloned()
        .unwrap_or_else(|| "/~".to_string());
    let Some(spec) = ingress.spec.as_ref() else {
        return;
    };
    // Route groups in order of first appearance, keyed by (host, kong service).
    let mut groups: Vec<RouteGroup> = Vec::new();
    for (i, rule) in spec.rules.iter().flatten().enumerate() {
        let host = rule.host.clone().unwrap_or_default();
        // Without its host the rule would match every host: left out whole.
        if let Some(msg) = host_error(&host) {
            ctx.problems.error(
                &obj,
                Reason::InvalidValue,
                Some(format!("spec.rules[{i}].host")),
                format!("{msg}; rule left out"),
            );
            continue;
        }
        for (j, path) in rule.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
            let field = format!("spec.rules[{i}].http.paths[{j}].backend");
            let Some(resolved) = backend(ctx, ingress, &obj, &path.backend, &field, true) else {
                continue;
            };
            let paths = kong_paths(
                path.path.as_deref(),
                &path.path_type,
                &regex_prefix,
                ctx.class_parameters.enable_legacy_regex_detection,
            );
            let raw = expressions::IngressPath {
                path: flatten(path.path.as_deref()),
                path_type: match path.path_type.as_str() {
                    "" => "ImplementationSpecific".into(),
                    t => t.to_string(),
                },
            };
            match groups
                .iter_mut()
                .find(|g| g.host == host && g.backend == resolved)
            {
                Some(g) => {
                    g.paths.extend(paths);
                    g.raw.push(raw);
                }
                None => groups.push(RouteGroup {
                    host: host.clone(),
                    backend: resolved,
                    paths,
                    raw: vec![raw],
                }),
            }
        }
    }
    for g in groups {
        let route_name = g.backend.route_name(&namespace, &ingress_name, &g.host);
        let service_name = g.backend.kong_service().to_string();
        let matching = if ctx.options.router_flavor.expressions() {
            let annotations = ingress.metadata.annotations.as_ref();
            let (expression, priority) = expressions::route(&g.host, &g.raw, annotations);
            Matching::Expression {
                expression,
                priority,
            }
        } else {
            let hosts = if g.host.is_empty() {
                vec![]
            } else {
                vec![g.host.clone()]
            };
            let mut paths = Vec::new();
            for p in g.paths {
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
            Matching::Traditional { hosts, paths }
        };
        rewrites.note(
            &service_name,
            &route_name,
            &obj,
            ingress.metadata.annotations.as_ref(),
        );
        add_route(
            ctx,
            ingress,
            &obj,
            &service_name,
            route_name,
            matching,
            &tags,
        );
    }
    // KIC drops every default backend but the oldest without a word.
    if spec.default_backend.is_some()
        && let Some((ns, name)) = &ctx.catch_all
        && (ns.as_str(), name.as_str()) != (namespace.as_str(), ingress_name.as_str())
    {
        let message = format!(
            "not used: only the oldest Ingress's default backend is the catch-all route (as KIC), and that is Ingress {ns}/{name}'s"
        );
        ctx.problems.warning(
            &obj,
            Reason::Ignored,
            Some("spec.defaultBackend".into()),
            message,
        );
    }
}

/// Why a rule's host is not one Kubernetes admits on an Ingress (empty means any host).
fn host_error(host: &str) -> Option<String> {
    if host.is_empty() {
        return None;
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Some(format!("{host:?} must be a DNS name, not an IP address"));
    }
    names::hostname_error(host)
}

/// Resolves a backend, creating its Kong service on first use.
fn backend(
    ctx: &mut Context<'_>,
    ingress: &Ingress,
    obj: &ObjectRef,
    backend: &IngressBackend,
    field: &str,
    rule_backend: bool,
) -> Option<Resolved> {
    let namespace = ingress.namespace().unwrap_or_default();
    let Some(svc_backend) = &backend.service else {
        let Some(resource) = &backend.resource else {
            // The apiserver refuses it; offline, KIC's message (`subtranslator/ingress.go` 235).
            ctx.problems.error(
                obj,
                Reason::InvalidBackend,
                Some(field.to_string()),
                "no Service or Resource specified for Ingress path; left out".into(),
            );
            return None;
        };
        return facade_backend(ctx, obj, &namespace, resource, field, rule_backend);
    };
    let port_ref = match &svc_backend.port {
        Some(p) => match (p.number, &p.name) {
            (Some(n), _) => PortRef::Number(n),
            (None, Some(name)) => PortRef::Name(name.clone()),
            (None, None) => PortRef::Implicit,
        },
        None => PortRef::Implicit,
    };
    let port_label = port_ref.label();
    let service_name = names::ingress_service_name(&namespace, &svc_backend.name, &port_label);
    let made = Resolved::Service {
        name: svc_backend.name.clone(),
        port_label: port_label.clone(),
        kong_service: service_name.clone(),
    };
    if ctx.has_service(&service_name) {
        return Some(made);
    }
    let naming = Naming {
        protocol: "http",
        timeout_ms: None,
        service_name: service_name.clone(),
        upstream_name: names::upstream_name(&namespace, &svc_backend.name, &port_label),
        owner_tags: vec![],
        owner: obj.clone(),
    };
    let Some(service) = ctx.backend_service(
        obj,
        format!("{field}.service.name"),
        &namespace,
        &svc_backend.name,
        "its routes stay, without targets: Kong answers 503 (as KIC)",
    ) else {
        // KIC v3.5.13 keeps the routes of a backend whose Service does not exist: a Kong
        // service of port 80 named after the backend's port, with its placeholder tags and no
        // targets (translator/ingressrules.go lines 306-345; tests/kic-oracle/
        // ingress-missing-service).
        let (mut kong_service, mut upstream) = upstreams::build(ctx, naming, &[]);
        kong_service.port = Some(80);
        kong_service.tags = names::unknown_service_tags();
        upstream.tags = names::unknown_service_tags();
        if rule_backend {
            kong_service.path = Some("/".into());
        }
        ctx.add_service(kong_service, upstream);
        return Some(made);
    };
    // KIC v3.5.13 keeps a backend whose Service lacks the port (a number it does not have, or
    // none given while it has several): findPort's error only empties the endpoints
    // (translator/translate_upstreams.go lines 152-198), and the Kong service keeps the
    // translator's default port 80 (subtranslator/ingress.go line 79). Checked with the KIC
    // oracle (tests/kic-oracle/ingress-missing-port). Kong answers 503.
    let missing_port;
    let mut external_port = None;
    let resolved = targets::find_port(service, &port_ref, &mut external_port);
    let (port, port_found) = match resolved {
        Ok(p) => (p, true),
        Err(e) => {
            ctx.problems.error(
                obj,
                Reason::PortNotFound,
                Some(format!("{field}.service.port")),
                format!("{e}; its routes stay, without targets: Kong answers 503 (as KIC)"),
            );
            missing_port = ServicePort {
                port: 80,
                ..ServicePort::default()
            };
            (&missing_port, false)
        }
    };
    if let Some(Err((port_field, msg))) = port_found.then(|| targets::check_port(service, port)) {
        ctx.problems.error(
            &ObjectRef::of(service),
            Reason::InvalidValue,
            Some(port_field),
            format!("{msg}; left out as the backend of {obj} ({field}.service.port)"),
        );
        return None;
    }
    let backends = [Backend {
        service,
        port,
        port_found,
        weight: None,
        reported_as: None,
    }];
    let (kong_service, upstream) = upstreams::build(ctx, naming, &backends);
    let mut kong_service = kong_service;
    // Rule backends carry `path: /` unless the Service's annotation set one; KIC leaves
    // it off a Service first seen as a default backend.
    if rule_backend && kong_service.path.is_none() && kong_service.protocol.starts_with("http") {
        kong_service.path = Some("/".into());
    }
    ctx.add_service(kong_service, upstream);
    Some(made)
}

/// A `backend.resource`: a KongServiceFacade with KIC's gate on; otherwise KIC's errors
/// (`subtranslator/ingress.go` 199-215, `translate_ingress.go` 131-152).
fn facade_backend(
    ctx: &mut Context<'_>,
    obj: &ObjectRef,
    namespace: &str,
    resource: &k8s_openapi::api::core::v1::TypedLocalObjectReference,
    field: &str,
    rule_backend: bool,
) -> Option<Resolved> {
    let is_facade = resource.kind == "KongServiceFacade"
        && resource.api_group.as_deref() == Some(crate::crd::INCUBATOR_GROUP);
    let refused = if !is_facade {
        let gk = match &resource.api_group {
            Some(group) => format!("{group}/{}", resource.kind),
            None => resource.kind.clone(),
        };
        Some(format!(
            "unknown resource type {gk}: only KongServiceFacade ({}) resources are backends",
            crate::crd::INCUBATOR_GROUP
        ))
    } else if !ctx.options.feature_gates.service_facade() {
        Some(
            "KongServiceFacade is not enabled, please set the \"KongServiceFacade\" feature gate to 'true' to enable it (--feature-gates KongServiceFacade=true)"
                .into(),
        )
    } else {
        None
    };
    if let Some(message) = refused {
        ctx.problems.error(
            obj,
            Reason::InvalidBackend,
            Some(format!("{field}.resource")),
            message,
        );
        return None;
    }
    let kong_service =
        service_facade::backend(ctx, obj, namespace, &resource.name, field, rule_backend)?;
    Some(Resolved::Facade {
        name: resource.name.clone(),
        kong_service,
    })
}

#[cfg(test)]
mod tests {
    use super::kong_paths;

    #[test]
    fn prefix_paths() {
        assert_eq!(
            kong_paths(Some("/foo"), "Prefix", "/~", false),
            vec!["/foo/", "~/foo$"]
        );
        assert_eq!(
            kong_paths(Some("/foo/"), "Prefix", "/~", false),
            vec!["/foo/", "~/foo$"]
        );
        assert_eq!(kong_paths(Some("/"), "Prefix", "/~", false), vec!["/"]);
        assert_eq!(kong_paths(None, "Prefix", "/~", false), vec!["/"]);
        assert_eq!(
            kong_paths(Some("//a//b"), "Prefix", "/~", false),
            vec!["/a/b/", "~/a/b$"]
        );
    }

    #[test]
    fn exact_paths() {
        assert_eq!(
            kong_paths(Some("/foo"), "Exact", "/~", false),
            vec!["~/foo$"]
        );
        assert_eq!(kong_paths(Some("/"), "Exact", "/~", false), vec!["~/$"]);
    }

    #[test]
    fn implementation_specific_paths() {
        assert_eq!(
            kong_paths(Some("/foo"), "ImplementationSpecific", "/~", false),
            vec!["/foo"]
        );
        assert_eq!(
            kong_paths(
                Some("/~/api/v[0-9]+"),
                "ImplementationSpecific",
                "/~",
                false
            ),
            vec!["~/api/v[0-9]+"]
        );
        assert_eq!(
            kong_paths(Some(""), "ImplementationSpecific", "/~", false),
            vec!["/"]
        );
    }

    /// KIC applies the regex prefix to every path it makes (a Prefix path too), an empty prefix
    /// to all of them, and the 2.x heuristic with IngressClassParameters' legacy detection.
    #[test]
    fn regex_prefix_on_every_path_and_legacy_detection() {
        assert_eq!(
            kong_paths(Some("/reapi"), "Prefix", "/re", false),
            vec!["~api/", "~/reapi$"]
        );
        assert_eq!(
            kong_paths(Some("/a"), "ImplementationSpecific", "", false),
            vec!["~/a"]
        );
        assert_eq!(
            kong_paths(Some("/v[0-9]+/users"), "ImplementationSpecific", "/~", true),
            vec!["~/v[0-9]+/users"]
        );
        assert_eq!(
            kong_paths(
                Some("/plain-path_1.%2F~x"),
                "ImplementationSpecific",
                "/~",
                true
            ),
            vec!["/plain-path_1.%2F~x"]
        );
        assert_eq!(
            kong_paths(Some("/v[0-9]+"), "ImplementationSpecific", "/~", false),
            vec!["/v[0-9]+"]
        );
    }
}
