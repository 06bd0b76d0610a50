//! A Gateway API route rule's backendRefs → one Kong service and its upstream, for every
//! route kind (their backendRef types repeat the same fields). Each ref is checked in KIC's
//! order (v3.5.13 internal/controllers/gateway/httproute_controller.go lines 613-673): the
//! kind, then the Service, then the ReferenceGrant; then its port and weight. A ref that fails
//! is reported on the route and left out; the caller decides what a service without any
//! resolved backend does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServicePort;

use crate::kong::config;
use crate::translate::Context;
use crate::translate::backends::targets::{self, PortRef};
use crate::translate::backends::upstreams::{self, Backend, Naming};
use crate::translate::gateway::grants;
use crate::translate::gateway::route::RouteKind;
use crate::translate::names::{self, ObjectRef};
use crate::translate::problems::Reason;

/// The fields of one backendRef that every route kind has.
#[derive(Clone, Copy, Debug)]
pub struct BackendRef<'a> {
    pub group: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub port: Option<i32>,
    pub weight: Option<i32>,
}

/// A [`BackendRef`] borrowed from any route kind's generated backendRef type.
macro_rules! backend_ref {
    ($r:expr) => {
        $crate::translate::routes::gateway_api::backend_refs::BackendRef {
            group: $r.group.as_deref(),
            kind: $r.kind.as_deref(),
            name: &$r.name,
            namespace: $r.namespace.as_deref(),
            port: $r.port,
            weight: $r.weight,
        }
    };
}
pub(crate) use backend_ref;

/// The route the refs belong to.
pub struct RouteOwner<'a> {
    pub obj: &'a ObjectRef,
    pub kind: RouteKind,
    pub annotations: Option<&'a BTreeMap<String, String>>,
    /// The Kong service protocol (`http`; `grpc` or `grpcs` for GRPCRoutes).
    pub protocol: &'static str,
    /// A service over several Kubernetes Services is tagged as the route; KIC knows the route
    /// of an HTTPRoute's service only, and leaves the others untagged (ingressrules.go lines
    /// 306-319; translate_grpcroute.go sets no parent with the traditional router).
    pub route_tags: bool,
    /// HTTPRoute `timeouts.backendRequest` of the rules sharing the service (ms).
    pub timeout_ms: Option<i64>,
}

/// The Kong service `service_name` and its upstream over the refs of rule `rule` that
/// resolve, and how many resolved.
pub fn build_service(
    ctx: &mut Context<'_>,
    owner: &RouteOwner<'_>,
    service_name: &str,
    rule: usize,
    refs: &[BackendRef<'_>],
) -> (config::Service, config::Upstream, usize) {
    let obj = owner.obj;
    let namespace = obj.namespace.clone().unwrap_or_default();
    // ExternalName Services take any port number (KIC's findPort, `translate_upstreams.go`
    // 152-198): the port made for each ref, borrowed by its backend below.
    let external: Vec<Option<Result<ServicePort, targets::PortError>>> = refs
        .iter()
        .map(|r| {
            let service = ctx
                .snapshot
                .service(r.namespace.unwrap_or(&namespace), r.name)?;
            let port_ref = r.port.map_or(PortRef::Implicit, PortRef::Number);
            targets::external_name_port(service, &port_ref)
        })
        .collect();
    let mut backends: Vec<Backend<'_>> = Vec::new();
    for (k, r) in refs.iter().enumerate() {
        let field = format!("spec.rules[{rule}].backendRefs[{k}]");
        let group = r.group.unwrap_or_default();
        let kind = r.kind.unwrap_or("Service");
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
        let ref_ns = r.namespace.unwrap_or(&namespace);
        // A reference the route may not make is refused before looking for its Service (the
        // spec's RefNotPermitted, whether or not the Service exists).
        let from = grants::From {
            group: crate::api::GATEWAY_GROUP,
            kind: owner.kind.name(),
            namespace: &namespace,
        };
        let to = grants::To {
            group: "",
            kind: "Service",
            namespace: ref_ns,
            name: r.name,
        };
        if ref_ns != namespace && !grants::granted(ctx.snapshot, from, to) {
            ctx.problems.error(
                obj,
                Reason::InvalidBackend,
                Some(format!("{field}.namespace")),
                format!(
                    "Service {ref_ns}/{} is in another namespace and no ReferenceGrant in {ref_ns} lets {}s of {namespace} refer to it; backend left out",
                    r.name,
                    owner.kind.name()
                ),
            );
            continue;
        }
        let Some(service) = ctx.backend_service(
            obj,
            format!("{field}.name"),
            ref_ns,
            r.name,
            "backend left out",
        ) else {
            continue;
        };
        let port_ref = r.port.map_or(PortRef::Implicit, PortRef::Number);
        let resolved = match &external[k] {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(e.clone()),
            None => targets::resolve_port(service, &port_ref),
        };
        let port = match resolved {
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
                reported_as: None,
            }),
        }
    }
    let naming = Naming {
        service_name: service_name.to_string(),
        upstream_name: service_name.to_string(),
        owner_tags: match owner.route_tags {
            true => names::tags(obj, owner.annotations),
            false => Vec::new(),
        },
        owner: obj.clone(),
        protocol: owner.protocol,
        timeout_ms: owner.timeout_ms,
    };
    let resolved = backends.len();
    let (service, upstream) = upstreams::build(ctx, naming, &backends);
    (service, upstream, resolved)
}

/// Warns about the backendRefs of rule `i` that have filters (`filtered`, per ref): KIC
/// v3.5.13 applies none (httproute.go lines 164-178), and neither does kingress.
pub fn warn_filters(
    ctx: &mut Context<'_>,
    obj: &ObjectRef,
    i: usize,
    filtered: impl Iterator<Item = bool>,
) {
    for (k, _) in filtered.enumerate().filter(|(_, f)| *f) {
        ctx.problems.warning(
            obj,
            Reason::Ignored,
            Some(format!("spec.rules[{i}].backendRefs[{k}].filters")),
            "filters on a backendRef are not applied (KIC does not apply them either)".into(),
        );
    }
}

/// Gateway API's maximum backendRef weight (the CRD's; offline nothing else enforces it).
const MAX_WEIGHT: u32 = 1_000_000;

fn valid_weight(weight: i32) -> Option<u32> {
    u32::try_from(weight).ok().filter(|w| *w <= MAX_WEIGHT)
}
