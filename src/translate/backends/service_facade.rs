//! KongServiceFacade backends: a Kong service of its own for one Kubernetes Service port, as
//! KIC v3.5.13 makes it with its `KongServiceFacade` gate on (`subtranslator/ingress.go`
//! 199-233, 326-417; `translate_ingress.go` 123-189; `ingressrules.go` 500-528).
//!
//! The Kong service and upstream are `<ns>.<facade>.svc.facade`, tagged with the facade; the
//! facade's annotations apply over its Service's (KIC merges them onto a copy of the Service,
//! the facade winning), so `konghq.com/plugins`, `konghq.com/upstream-policy`, protocol,
//! timeouts, ... may differ between two facades of one Service.

use k8s_openapi::api::core::v1::ServicePort;
use kube::ResourceExt;

use super::targets::{self, PortRef};
use super::upstreams::{self, Backend, Naming};
use crate::api::KongServiceFacade;
use crate::kinds::Kind;
use crate::translate::Context;
use crate::translate::ingress_class;
use crate::translate::names::{self, ObjectRef};
use crate::translate::problems::Reason;

/// `<ns>.<facade>.svc.facade`: the Kong service and upstream of a facade.
pub fn service_name(namespace: &str, facade: &str) -> String {
    format!("{namespace}.{facade}.svc.facade")
}

/// The facade `name` of `namespace` as kingress reads it: KIC keeps none of another ingress
/// class (its reconciler drops them, `zz_generated.controllers.go` 1855-1858 with
/// `MatchesIngressClass`) and none Kong rejected. Err: why not, for the referrer's error.
fn lookup<'a>(
    ctx: &Context<'a>,
    namespace: &str,
    name: &str,
) -> Result<&'a KongServiceFacade, String> {
    let not_found = format!("KongServiceFacade {namespace}/{name} not found");
    let Some(facade) = ctx.snapshot.kong_service_facade(namespace, name) else {
        return Err(not_found);
    };
    if let Some(why) = ctx
        .excluded
        .reason(Kind::KongServiceFacade, namespace, name)
    {
        return Err(format!("KongServiceFacade {namespace}/{name} is {why}"));
    }
    if !ingress_class::annotated(ctx.snapshot, &ctx.options.ingress_class, facade) {
        let class = &ctx.options.ingress_class;
        return Err(format!(
            "{not_found} in ingress class {class} (its {} annotation must be {class}, or absent with IngressClass {class} the default)",
            ingress_class::CLASS_ANNOTATION
        ));
    }
    Ok(facade)
}

/// Resolves facade `name` named by `obj` (an Ingress of `namespace`) at `field`, creating its
/// Kong service on first use; returns the Kong service's name. `rule_backend`: a rule's path
/// backend (its service gets `path: /`), not the default backend.
pub fn backend(
    ctx: &mut Context<'_>,
    obj: &ObjectRef,
    namespace: &str,
    name: &str,
    field: &str,
    rule_backend: bool,
) -> Option<String> {
    let kong_name = service_name(namespace, name);
    if ctx.has_service(&kong_name) {
        return Some(kong_name);
    }
    let facade = match lookup(ctx, namespace, name) {
        Ok(f) => f,
        Err(why) => {
            ctx.problems.error(
                obj,
                Reason::InvalidBackend,
                Some(format!("{field}.resource.name")),
                format!("{why}; the backend is left out"),
            );
            return None;
        }
    };
    let facade_obj = ObjectRef::of(facade);
    let tags = names::tags(&facade_obj, facade.metadata.annotations.as_ref());
    let naming = Naming {
        protocol: "http",
        timeout_ms: None,
        service_name: kong_name.clone(),
        upstream_name: kong_name.clone(),
        owner_tags: tags.clone(),
        owner: facade_obj.clone(),
    };
    let backend_ref = &facade.spec.backend;
    let Some(service) = ctx.backend_service(
        &facade_obj,
        "spec.backendRef.name".into(),
        namespace,
        &backend_ref.name,
        "its routes stay, without targets: Kong answers 503 (as KIC)",
    ) else {
        // As for a missing Service behind an Ingress backend: KIC keeps the Kong service, with
        // the placeholder tags and no targets (`ingressrules.go` 332-345).
        let (mut kong_service, mut upstream) = upstreams::build(ctx, naming, &[]);
        kong_service.port = Some(80);
        kong_service.tags = names::unknown_service_tags();
        upstream.tags = names::unknown_service_tags();
        if rule_backend {
            kong_service.path = Some("/".into());
        }
        ctx.add_service(kong_service, upstream);
        return Some(kong_name);
    };
    // KIC's copy of the Service with the facade's annotations over its own.
    let mut merged = service.clone();
    let annotations = merged.annotations_mut();
    for (k, v) in facade.annotations() {
        annotations.insert(k.clone(), v.clone());
    }
    let port_ref = PortRef::Number(backend_ref.port);
    let mut external_port = None;
    let resolved = targets::find_port(&merged, &port_ref, &mut external_port);
    let missing_port;
    let (port, port_found) = match resolved {
        Ok(p) => (p, true),
        Err(e) => {
            ctx.problems.error(
                &facade_obj,
                Reason::PortNotFound,
                Some("spec.backendRef.port".into()),
                format!("{e}; its routes stay, without targets: Kong answers 503 (as KIC)"),
            );
            missing_port = ServicePort {
                port: 80,
                ..ServicePort::default()
            };
            (&missing_port, false)
        }
    };
    if let Some(Err((port_field, msg))) = port_found.then(|| targets::check_port(&merged, port)) {
        ctx.problems.error(
            &ObjectRef::of(service),
            Reason::InvalidValue,
            Some(port_field),
            format!("{msg}; left out as the backend of {facade_obj}"),
        );
        return None;
    }
    let backends = [Backend {
        service: &merged,
        port,
        port_found,
        weight: None,
        reported_as: Some(facade_obj.clone()),
    }];
    let (mut kong_service, mut upstream) = upstreams::build(ctx, naming, &backends);
    // The facade's tags, not its Service's: the facade is the Kong service's parent
    // (`ingressrules.go` 323-327; `translate_upstreams.go` 140).
    kong_service.tags = tags.clone();
    upstream.tags = tags;
    if rule_backend && kong_service.path.is_none() && kong_service.protocol.starts_with("http") {
        kong_service.path = Some("/".into());
    }
    ctx.add_service(kong_service, upstream);
    Some(kong_name)
}
