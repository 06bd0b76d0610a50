//! KIC's TCPIngress and UDPIngress (configuration.konghq.com/v1beta1) → Kong stream services
//! and routes, as KIC v3.5.13 makes them (`internal/dataplane/translator/translate_kong_l4.go`,
//! "L4" below):
//!
//! - only objects of our class by their `kubernetes.io/ingress.class` annotation (KIC's store),
//!   oldest first (then namespace/name);
//! - TCPIngress rule `i`: route `<ns>.<name>.<i>`, protocols `[tcp, tls]`, destination the
//!   rule's port, `snis` its host (L4 33-56); service `<ns>.<service>.<port>`, protocol `tcp`;
//! - UDPIngress rule `i`: route `<ns>.<name>.<i>.udp`, protocol `udp`; service
//!   `<ns>.<service>.<port>.udp`, protocol `udp`, port the Service port and no timeouts or
//!   retries (L4 118-160).
//!
//! KIC deprecates both kinds (the CRD's `deprecationWarning`); kingress adds a warning naming
//! the Gateway API kind to move to.

use kube::ResourceExt;

use k8s_openapi::api::core::v1::ServicePort;

use crate::kong::config::{Destination, Route};
use crate::translate::Context;
use crate::translate::backends::targets::{self, PortRef};
use crate::translate::backends::upstreams::{self, Backend, Naming};
use crate::translate::ingress_class;
use crate::translate::names::{self, Entity, ObjectRef};
use crate::translate::problems::Reason;

/// One rule of either kind.
struct Rule<'a> {
    port: i32,
    host: Option<&'a str>,
    service: &'a str,
    service_port: i32,
}

pub fn translate_all(ctx: &mut Context<'_>) {
    let tcp = ours_oldest_first(ctx, ctx.in_scope(|s| &s.tcp_ingresses));
    for ingress in tcp {
        let obj = ObjectRef::of(ingress);
        if !admitted(ctx, &obj, "TCPRoute (or TLSRoute for its TLS rules)") {
            continue;
        }
        // Its TLS sections are claims of the certificates (translate/certificates).
        let spec = ingress.spec.as_ref();
        let rules = spec.map(|s| s.rules.as_slice()).unwrap_or_default();
        let rules = rules.iter().map(|r| Rule {
            port: r.port,
            host: r.host.as_deref().filter(|h| !h.is_empty()),
            service: &r.backend.service_name,
            service_port: r.backend.service_port,
        });
        translate(ctx, ingress, &obj, rules.collect(), false);
    }
    let udp = ours_oldest_first(ctx, ctx.in_scope(|s| &s.udp_ingresses));
    for ingress in udp {
        let obj = ObjectRef::of(ingress);
        if !admitted(ctx, &obj, "UDPRoute") {
            continue;
        }
        let rules = ingress.spec.as_ref().map(|s| s.rules.as_slice());
        let rules = rules.unwrap_or_default().iter().map(|r| Rule {
            port: r.port,
            host: None,
            service: &r.backend.service_name,
            service_port: r.backend.service_port,
        });
        translate(ctx, ingress, &obj, rules.collect(), true);
    }
}

/// The objects of our class (by annotation), as KIC lists them: by namespace/name (the order
/// they come in), then stably by age (L4 26-29).
fn ours_oldest_first<'a, T: ResourceExt>(
    ctx: &Context<'a>,
    objects: impl Iterator<Item = &'a T>,
) -> Vec<&'a T> {
    let class = &ctx.options.ingress_class;
    let mut ours: Vec<&T> = objects
        .filter(|i| ingress_class::annotated(ctx.snapshot, class, *i))
        .collect();
    ours.sort_by_key(|i| i.meta().creation_timestamp.clone().map(|t| t.0));
    ours
}

/// Not left out for another object; warns that the kind is deprecated.
fn admitted(ctx: &mut Context<'_>, obj: &ObjectRef, successor: &str) -> bool {
    let ns = obj.namespace.as_deref().unwrap_or_default();
    if let Some(why) = ctx.excluded.reason(obj.kind, ns, &obj.name) {
        ctx.problems.error(obj, Reason::Excluded, None, why);
        return false;
    }
    ctx.problems.warning(
        obj,
        Reason::Deprecated,
        None,
        format!(
            "{} is deprecated (KIC v3.5.13 still reads it, and so does kingress); move to the Gateway API {successor}",
            obj.kind.as_str()
        ),
    );
    true
}

fn translate(
    ctx: &mut Context<'_>,
    object: &impl ResourceExt,
    obj: &ObjectRef,
    rules: Vec<Rule<'_>>,
    udp: bool,
) {
    let namespace = object.namespace().unwrap_or_default();
    let annotations = object.meta().annotations.as_ref();
    for (i, rule) in rules.into_iter().enumerate() {
        let port_label = rule.service_port.to_string();
        let base = names::ingress_service_name(&namespace, rule.service, &port_label);
        let (service_name, route_name) = match udp {
            true => (
                format!("{base}.udp"),
                format!("{namespace}.{}.{i}.udp", obj.name),
            ),
            false => (base, format!("{namespace}.{}.{i}", obj.name)),
        };
        let field = format!("spec.rules[{i}].backend");
        let protocol = if udp { "udp" } else { "tcp" };
        match ctx.service_mut(&service_name).map(|s| s.protocol.clone()) {
            None => build_service(ctx, obj, &namespace, &rule, &service_name, &field, udp),
            Some(p) if p == protocol => {}
            // An Ingress backend of the same Service port has the name: KIC replaces that
            // service, losing the Ingress's routes (translator.go lines 193-202); kingress keeps
            // the Ingress's and leaves this rule out.
            Some(p) => {
                ctx.problems.error(
                    obj,
                    Reason::InvalidBackend,
                    Some(field),
                    format!("Kong service {service_name} is already built, with protocol {p}, for an Ingress backend of the same Service port; rule left out"),
                );
                continue;
            }
        }
        let mut route = Route {
            destinations: vec![Destination {
                ip: None,
                port: Some(i64::from(rule.port)),
            }],
            https_redirect_status_code: 426,
            id: names::entity_id(Entity::Route, &route_name),
            name: route_name,
            path_handling: "v0".into(),
            protocols: match udp {
                true => vec!["udp".into()],
                false => vec!["tcp".into(), "tls".into()],
            },
            snis: rule.host.map(str::to_string).into_iter().collect(),
            tags: names::tags(obj, annotations),
            ..Default::default()
        };
        if ctx.options.router_flavor.expressions() {
            super::atc::apply_l4(&mut route);
        }
        super::add_route(ctx, &service_name, route, obj, annotations, annotations);
    }
}

/// The Kong service of a rule's backend. As for Ingress backends, KIC keeps the rule when the
/// Service or its port is missing: a Kong service without targets (port 80 for TCP; UDP
/// services always carry the rule's port), Kong answers nothing (checked with the KIC oracle,
/// tests/kic-oracle/tcp-udp-ingress-missing-backends).
fn build_service(
    ctx: &mut Context<'_>,
    obj: &ObjectRef,
    namespace: &str,
    rule: &Rule<'_>,
    service_name: &str,
    field: &str,
    udp: bool,
) {
    let port_label = rule.service_port.to_string();
    let naming = Naming {
        protocol: if udp { "udp" } else { "tcp" },
        service_name: service_name.to_string(),
        upstream_name: names::upstream_name(namespace, rule.service, &port_label),
        owner_tags: Vec::new(),
        owner: obj.clone(),
        timeout_ms: None,
    };
    let stays = "its route stays, without targets (as KIC)";
    let service = ctx.backend_service(
        obj,
        format!("{field}.serviceName"),
        namespace,
        rule.service,
        stays,
    );
    let (mut kong_service, upstream) = match service {
        None => {
            let (mut kong_service, mut upstream) = upstreams::build(ctx, naming, &[]);
            kong_service.tags = names::unknown_service_tags();
            upstream.tags = names::unknown_service_tags();
            (kong_service, upstream)
        }
        Some(service) => {
            let missing;
            let (port, port_found) =
                match targets::resolve_port(service, &PortRef::Number(rule.service_port)) {
                    Ok(p) => (p, true),
                    Err(e) => {
                        let field = Some(format!("{field}.servicePort"));
                        let msg = format!("{e}; {stays}");
                        ctx.problems.error(obj, Reason::PortNotFound, field, msg);
                        missing = ServicePort {
                            port: 80,
                            ..ServicePort::default()
                        };
                        (&missing, false)
                    }
                };
            let backends = [Backend {
                service,
                port,
                port_found,
                weight: None,
                reported_as: None,
            }];
            upstreams::build(ctx, naming, &backends)
        }
    };
    if udp {
        // KIC gives UDPIngress services the rule's port and neither timeouts nor retries
        // (L4 150-157).
        kong_service.port = Some(i64::from(rule.service_port));
        kong_service.connect_timeout = None;
        kong_service.read_timeout = None;
        kong_service.write_timeout = None;
        kong_service.retries = None;
    } else if kong_service.port.is_none() {
        kong_service.port = Some(80);
    }
    ctx.add_service(kong_service, upstream);
}
