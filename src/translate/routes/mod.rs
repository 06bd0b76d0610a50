//! One module per route kind: each reads its objects from the snapshot and produces Kong
//! services and routes, asking [`super::gateway`] whether a route attaches and
//! [`super::backends`] for its upstream. Gateway API kinds live in [`gateway_api`]; Ingress and
//! KIC's TCPIngress/UDPIngress here.

pub mod atc;
pub mod gateway_api;
pub mod ingress;
pub mod l4_ingress;
pub mod rewrite;

use std::collections::BTreeMap;

use super::names::ObjectRef;
use super::{Context, annotations, plugins};
use crate::kong::config::Route;

/// Adds `route`, made from `owner`, to Kong service `service_name` as every route kind does
/// (KIC's `overrideByAnnotation` for every route, then the route's plugins): the route
/// settings of `owner`'s annotations (`konghq.com/strip-path`, ...), then the KongPlugins
/// `plugin_annotations` name in `konghq.com/plugins` (usually the same annotations). An
/// expression Kong's router would refuse (a regex in a path or header match it cannot
/// compile) is reported on `owner` and the route left out, the rest applied.
pub(crate) fn add_route(
    ctx: &mut Context<'_>,
    service_name: &str,
    mut route: Route,
    owner: &ObjectRef,
    annotations: Option<&BTreeMap<String, String>>,
    plugin_annotations: Option<&BTreeMap<String, String>>,
) {
    annotations::apply_to_route(annotations, owner, ctx.problems, &mut route);
    if let Some(expression) = &route.expression
        && let Err(e) = atc::validate(expression, &route.protocols)
    {
        ctx.problems.error(
            owner,
            super::problems::Reason::InvalidRoute,
            None,
            format!(
                "Kong route {}: Kong's router refuses its expression `{expression}` ({e}); route left out",
                route.name
            ),
        );
        return;
    }
    let scope = plugins::Scope::Route(route.name.clone());
    if let Some(service) = ctx.service_mut(service_name) {
        service.routes.push(route);
        let namespace = owner.namespace.as_deref().unwrap_or_default();
        plugins::attach(ctx, owner, namespace, plugin_annotations, scope);
    }
}
