//! Finds the Kong upstream(s) of a Service or HTTPRoute rule in translated manifests.

use crate::kinds::Kind;
use std::path::PathBuf;

use gateway_api::apis::standard::httproutes::HttpRouteRules;
use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{ExplainArgs, ExplainError, ObjectName};
use crate::kong::config::{KongConfig, Upstream};
use crate::manifests;
use crate::snapshot::Snapshot;
use crate::translate::gateway::route::RouteKind;
use crate::translate::{self, Options, Problem};

/// An upstream to explain.
pub(super) struct Selected {
    /// What it belongs to, as the user named it.
    pub source: String,
    /// Matches this upstream with its counterpart in the compared state.
    pub pair_key: String,
    pub upstream: Upstream,
}

pub(super) enum What {
    Service {
        name: ObjectName,
        port: Option<String>,
    },
    Route {
        name: ObjectName,
        kind: RouteKind,
        rule: Option<usize>,
    },
}

impl What {
    /// None when neither --service nor --route was given (clap rejects that already).
    pub fn from_args(args: &ExplainArgs) -> Option<Self> {
        match (&args.service, &args.route) {
            (Some(name), _) => Some(What::Service {
                name: name.clone(),
                port: args.port.clone(),
            }),
            (None, Some(name)) => Some(What::Route {
                name: name.clone(),
                kind: args.route_kind.kind(),
                rule: args.rule,
            }),
            (None, None) => None,
        }
    }
}

/// The paths as one string, for messages.
pub(super) fn describe_paths(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

/// Translates `files` as `kingress translate` does and picks the upstreams `what` names.
/// Problems about the selected object are added to `notes`.
/// The documents of `loaded` that could not be read, as notes.
pub(super) fn unreadable(loaded: &manifests::Loaded) -> impl Iterator<Item = String> + '_ {
    loaded
        .problems
        .iter()
        .filter(|p| p.fatal)
        .map(|p| p.to_string())
}

pub(super) fn from_manifests(
    files: &[PathBuf],
    what: &What,
    notes: &mut Vec<String>,
) -> Result<Vec<Selected>, ExplainError> {
    let loaded = manifests::load(files)?;
    let options = Options {
        assume_attached_without_gateways: true,
        ..Options::default()
    };
    let translation = translate::translate(&loaded.snapshot, &options);
    let inputs = describe_paths(files);
    // Unreadable documents may be why an object is missing, so they are always shown.
    notes.extend(unreadable(&loaded));
    let (kind, name) = match what {
        What::Service { name, .. } => (Kind::Service, name),
        What::Route { name, kind, .. } => (kind.kind(), name),
    };
    let about: Vec<&Problem> = translation
        .problems
        .iter()
        .filter(|p| is_about(p, kind, name))
        .collect();
    notes.extend(about.iter().map(|p| p.to_string()));
    let ctx = Ctx {
        snapshot: &loaded.snapshot,
        config: &translation.config,
        problems: &about,
        inputs: &inputs,
    };
    match what {
        What::Service { name, port } => ctx.service(name, port.as_deref()),
        What::Route {
            name,
            kind: RouteKind::Http,
            rule,
        } => ctx.route(name, *rule),
        What::Route { name, kind, rule } => ctx.other_route(*kind, name, *rule),
    }
}

fn is_about(p: &Problem, kind: Kind, name: &ObjectName) -> bool {
    p.object.kind == kind
        && p.object.namespace.as_deref() == Some(name.namespace.as_str())
        && p.object.name == name.name
}

struct Ctx<'a> {
    snapshot: &'a Snapshot,
    config: &'a KongConfig,
    /// Translation problems about the selected object.
    problems: &'a [&'a Problem],
    inputs: &'a str,
}

impl Ctx<'_> {
    fn service(&self, svc: &ObjectName, port: Option<&str>) -> Result<Vec<Selected>, ExplainError> {
        let service = self.snapshot.services.get(&svc.key()).ok_or_else(|| {
            ExplainError::ServiceNotFound {
                service: svc.to_string(),
                inputs: self.inputs.to_string(),
                known: known(self.snapshot.services.keys()),
            }
        })?;
        let ports = service_ports(service);
        let wanted = match port {
            None => None,
            Some(p) => Some(
                find_port(ports, p).ok_or_else(|| ExplainError::PortNotFound {
                    service: svc.to_string(),
                    port: p.to_string(),
                    ports: describe_ports(ports),
                })?,
            ),
        };
        // `<svc>.<ns>.<port>.svc`, the port as the backend wrote it (number or name).
        let prefix = format!("{}.{}.", svc.name, svc.namespace);
        let mut found = Vec::new();
        for upstream in &self.config.upstreams {
            let label = upstream.name.strip_prefix(&prefix);
            let Some(label) = label.and_then(|l| l.strip_suffix(".svc")) else {
                continue;
            };
            if label.contains('.') {
                continue;
            }
            if let Some(w) = wanted
                && !port_of_label(ports, label).is_some_and(|p| std::ptr::eq(p, w))
            {
                continue;
            }
            found.push(Selected {
                source: format!("Service {svc} port {label}"),
                pair_key: upstream.name.clone(),
                upstream: upstream.clone(),
            });
        }
        if found.is_empty() {
            return Err(ExplainError::NoServiceUpstream {
                service: svc.to_string(),
                port: port.map(|p| format!(" port {p}")).unwrap_or_default(),
                inputs: self.inputs.to_string(),
                reason: self.why_no_service_upstream(svc),
            });
        }
        Ok(found)
    }

    fn why_no_service_upstream(&self, svc: &ObjectName) -> String {
        let mut uses = Vec::new();
        for ((ns, name), route) in &self.snapshot.httproutes {
            let rules = route.spec.rules.as_deref().unwrap_or_default();
            for (i, rule) in rules.iter().enumerate() {
                let named = rule.backend_refs.iter().flatten().any(|r| {
                    r.kind.as_deref().is_none_or(|k| k == "Service")
                        && r.group.as_deref().is_none_or(str::is_empty)
                        && r.name == svc.name
                        && r.namespace.as_deref().unwrap_or(ns) == svc.namespace
                });
                if named {
                    uses.push(format!("--route {ns}/{name} --rule {i}"));
                }
            }
        }
        let mut reason = match uses.as_slice() {
            [] => "no translated Ingress backend uses it".to_string(),
            _ => format!(
                "no Ingress backend uses it; HTTPRoute rules do, each with its own upstream: explain them with {}",
                uses.join(" or ")
            ),
        };
        if !self.problems.is_empty() {
            reason.push_str(" (see the problems above)");
        }
        reason
    }

    fn route(&self, name: &ObjectName, rule: Option<usize>) -> Result<Vec<Selected>, ExplainError> {
        let route = self.snapshot.httproutes.get(&name.key()).ok_or_else(|| {
            ExplainError::RouteNotFound {
                kind: "HTTPRoute",
                route: name.to_string(),
                inputs: self.inputs.to_string(),
                known: known(self.snapshot.httproutes.keys()),
            }
        })?;
        let rules = route.spec.rules.as_deref().unwrap_or_default();
        let prefix = format!("httproute.{}.{}.", name.namespace, name.name);
        let no_upstream = |rule: String, reason: String| ExplainError::NoRouteUpstream {
            kind: "HTTPRoute",
            route: name.to_string(),
            rule,
            inputs: self.inputs.to_string(),
            reason,
        };
        let Some(n) = rule else {
            let mut found: Vec<(usize, &Upstream)> = self
                .config
                .upstreams
                .iter()
                .filter_map(|u| Some((u.name.strip_prefix(&prefix)?.parse().ok()?, u)))
                .collect();
            found.sort_by_key(|&(i, _)| i);
            if found.is_empty() {
                return Err(no_upstream(
                    String::new(),
                    self.left_out_reason(
                        "HTTPRoute",
                        route.spec.rules.as_deref().is_none_or(<[_]>::is_empty),
                    ),
                ));
            }
            return Ok(found
                .into_iter()
                .map(|(i, u)| Selected {
                    source: format!("HTTPRoute {name} rule {i}"),
                    pair_key: u.name.clone(),
                    upstream: u.clone(),
                })
                .collect());
        };
        if n >= rules.len() {
            return Err(ExplainError::RuleOutOfRange {
                kind: "HTTPRoute",
                route: name.to_string(),
                rule: n,
                count: rules.len(),
            });
        }
        let rule_label = format!(" rule {n}");
        // A rule the translator left out has no upstream, even when an earlier rule with
        // the same backendRefs has one.
        let field = format!("spec.rules[{n}].");
        if let Some(p) = self.problems.iter().find(|p| {
            p.severity == translate::Severity::Error
                && p.field.as_deref().is_some_and(|f| f.starts_with(&field))
        }) {
            return Err(no_upstream(
                rule_label,
                format!("the rule was left out: {p}"),
            ));
        }
        // Rules with the same backendRefs share the upstream of the lowest such rule that
        // was translated (see translate::routes::gateway_api::httproute).
        let key = backends_key(&rules[n]);
        let shared = (0..=n)
            .filter(|&i| backends_key(&rules[i]) == key)
            .find_map(|i| Some((i, self.config.upstream(&format!("{prefix}{i}"))?)));
        let Some((first, upstream)) = shared else {
            return Err(no_upstream(
                rule_label,
                self.left_out_reason(
                    "HTTPRoute",
                    route.spec.rules.as_deref().is_none_or(<[_]>::is_empty),
                ),
            ));
        };
        let shares = match first == n {
            true => String::new(),
            false => format!(", shared with rule {first}"),
        };
        Ok(vec![Selected {
            source: format!("HTTPRoute {name} rule {n}{shares}"),
            pair_key: format!("rule {n}"),
            upstream: upstream.clone(),
        }])
    }

    /// A GRPCRoute, TCPRoute, UDPRoute or TLSRoute: one upstream per rule,
    /// `<kind>.<ns>.<name>.<rule>` (translate::routes::gateway_api::grpcroute, ::stream).
    fn other_route(
        &self,
        kind: RouteKind,
        name: &ObjectName,
        rule: Option<usize>,
    ) -> Result<Vec<Selected>, ExplainError> {
        let s = self.snapshot;
        let key = name.key();
        let (count, known_names) = match kind {
            RouteKind::Grpc => (
                s.grpcroutes
                    .get(&key)
                    .map(|r| r.spec.rules.as_ref().map_or(0, Vec::len)),
                known(s.grpcroutes.keys()),
            ),
            RouteKind::Tcp => (
                s.tcproutes.get(&key).map(|r| r.spec.rules.len()),
                known(s.tcproutes.keys()),
            ),
            RouteKind::Udp => (
                s.udproutes.get(&key).map(|r| r.spec.rules.len()),
                known(s.udproutes.keys()),
            ),
            _ => (
                s.tlsroutes.get(&key).map(|r| r.spec.rules.len()),
                known(s.tlsroutes.keys()),
            ),
        };
        let Some(count) = count else {
            return Err(ExplainError::RouteNotFound {
                kind: kind.name(),
                route: name.to_string(),
                inputs: self.inputs.to_string(),
                known: known_names,
            });
        };
        let prefix = format!(
            "{}.{}.{}.",
            kind.name().to_ascii_lowercase(),
            name.namespace,
            name.name
        );
        let no_upstream = |rule: String| ExplainError::NoRouteUpstream {
            kind: kind.name(),
            route: name.to_string(),
            rule,
            inputs: self.inputs.to_string(),
            reason: self.left_out_reason(kind.name(), false),
        };
        let selected = |i: usize, u: &Upstream| Selected {
            source: format!("{} {name} rule {i}", kind.name()),
            pair_key: format!("rule {i}"),
            upstream: u.clone(),
        };
        match rule {
            Some(n) if n >= count => Err(ExplainError::RuleOutOfRange {
                kind: kind.name(),
                route: name.to_string(),
                rule: n,
                count,
            }),
            Some(n) => match self.config.upstream(&format!("{prefix}{n}")) {
                Some(u) => Ok(vec![selected(n, u)]),
                None => Err(no_upstream(format!(" rule {n}"))),
            },
            None => {
                let found: Vec<Selected> = (0..count)
                    .filter_map(|i| {
                        Some(selected(i, self.config.upstream(&format!("{prefix}{i}"))?))
                    })
                    .collect();
                match found.is_empty() {
                    true => Err(no_upstream(String::new())),
                    false => Ok(found),
                }
            }
        }
    }

    /// Why a route of `kind` has no upstream: the errors about it, else `no_rules`, else that
    /// it was not attached.
    fn left_out_reason(&self, kind: &str, no_rules: bool) -> String {
        let errors: Vec<String> = self
            .problems
            .iter()
            .filter(|p| p.severity == translate::Severity::Error)
            .map(|p| p.to_string())
            .collect();
        match (errors.as_slice(), no_rules) {
            ([], true) => format!("the {kind} has no rules"),
            ([], false) => "it was not translated (not attached to a Gateway of ours?)".to_string(),
            _ => format!("it was left out: {}", errors.join("; ")),
        }
    }
}

/// Order-independent identity of a rule's backendRefs, as the translator groups rules.
fn backends_key(rule: &HttpRouteRules) -> String {
    crate::translate::routes::gateway_api::httproute::backends_key(
        rule.backend_refs.as_deref().unwrap_or_default(),
    )
}

fn known<'a>(keys: impl Iterator<Item = &'a (String, String)>) -> String {
    let names: Vec<String> = keys.map(|(ns, name)| format!("{ns}/{name}")).collect();
    match names.is_empty() {
        true => "none".to_string(),
        false => names.join(", "),
    }
}

fn service_ports(service: &Service) -> &[ServicePort] {
    let ports = service.spec.as_ref().and_then(|s| s.ports.as_deref());
    ports.unwrap_or_default()
}

/// The Service port `--port` names: a number is the Service port, anything else its name
/// (or, as the translator accepts, its targetPort name).
fn find_port<'a>(ports: &'a [ServicePort], wanted: &str) -> Option<&'a ServicePort> {
    match wanted.parse::<i32>() {
        Ok(n) => ports.iter().find(|p| p.port == n),
        Err(_) => ports.iter().find(|p| {
            p.name.as_deref() == Some(wanted)
                || matches!(&p.target_port, Some(IntOrString::String(t)) if t == wanted)
        }),
    }
}

/// The Service port an upstream name's port part stands for.
fn port_of_label<'a>(ports: &'a [ServicePort], label: &str) -> Option<&'a ServicePort> {
    match (label, ports) {
        ("implicitPort", [only]) => Some(only),
        _ => find_port(ports, label),
    }
}

fn describe_ports(ports: &[ServicePort]) -> String {
    let have: Vec<String> = ports
        .iter()
        .map(|p| match p.name.as_deref() {
            Some(n) if !n.is_empty() => format!("{} ({n})", p.port),
            _ => p.port.to_string(),
        })
        .collect();
    have.join(", ")
}
