//! Gateway API routes: HTTPRoute, GRPCRoute, and the stream kinds (TCPRoute, UDPRoute, TLSRoute),
//! each attached to our Gateways' listeners ([`crate::translate::gateway`]) with its rules'
//! backendRefs made into Kong services by [`backend_refs`].

pub mod backend_refs;
pub mod grpc_expressions;
pub mod grpcroute;
pub mod httproute;
pub mod stream;

use crate::translate::Context;
use crate::translate::gateway::attachment;
use crate::translate::gateway::route::GatewayRoute;
use crate::translate::names::ObjectRef;
use crate::translate::problems::Reason;

/// Whether a translation takes the Gateway API route: offline without any Gateway or
/// GatewayClass every route is assumed attached; otherwise a route left out for another object
/// or attached to no listener of ours is reported and skipped.
pub(crate) fn takes(ctx: &mut Context<'_>, route: &GatewayRoute<'_>, obj: &ObjectRef) -> bool {
    if let Some(why) = ctx
        .excluded
        .reason(route.kind.kind(), route.namespace(), route.name())
    {
        ctx.problems.error(obj, Reason::Excluded, None, why);
        return false;
    }
    if assumes_attached(ctx)
        || attachment::attached(ctx.snapshot, route, &ctx.options.controller_name)
    {
        return true;
    }
    if let Some(gateway) = &ctx.options.gateway_to_reconcile
        && !attachment::names_gateway(route, gateway)
    {
        return false;
    }
    ctx.problems.warning(
        obj,
        Reason::NotAttached,
        Some("spec.parentRefs".into()),
        format!(
            "not attached: no listener of a Gateway whose GatewayClass has controllerName {} takes it (by section name, {}, allowedRoutes kinds and namespaces); ignored",
            ctx.options.controller_name,
            route.kind.listeners_text()
        ),
    );
    false
}

/// Offline input without any Gateway or GatewayClass (a folder of application manifests, KIC's
/// golden inputs): routes are translated as attached to our Gateway.
pub(crate) fn assumes_attached(ctx: &Context<'_>) -> bool {
    assumes_attached_to(ctx.snapshot, ctx.options)
}

/// [`assumes_attached`] for a snapshot and options outside a translation's context.
pub(crate) fn assumes_attached_to(
    snapshot: &crate::snapshot::Snapshot,
    options: &crate::translate::Options,
) -> bool {
    options.assume_attached_without_gateways
        && snapshot.gateways.is_empty()
        && snapshot.gateway_classes.is_empty()
}
