//! One module per route kind: each reads its objects from the snapshot and produces Kong
//! services and routes, asking [`super::gateway`] whether a route attaches and
//! [`super::backends`] for its upstream. Gateway API kinds live in [`gateway_api`]; Ingress and
//! KIC's TCPIngress/UDPIngress here.

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
/// `plugin_annotations` name in `konghq.com/plugins` (usually the same annotations).
pub mod atc;

pub(crate) fn add_route(
    ctx: &mut Context<'_>,
    service_name: &str,
    mut route: Route,
    owner: &ObjectRef,
    annotations: Option<&BTreeMap<String, String>>,
    plugin_annotations: Option<&BTreeMap<String, String>>,
) {
    annotations::apply_to_route(annotations, owner, ctx.problems, &mut route);
    let scope = plugins::Scope::Route(route.name.clone());
    if let Some(service) = ctx.service_mut(service_name) {
        service.routes.push(route);
        let namespace = owner.namespace.as_deref().unwrap_or_default();
        plugins::attach(ctx, owner, namespace, plugin_annotations, scope);
    }
}
