//! The cluster's catch-all route: only the oldest Ingress's default backend becomes one, as
//! KIC v3.5.13 does (`translate_ingress.go` 34-45, 73-121, 243-267).

use kube::ResourceExt;

use super::{Matching, add_route, backend, expressions};
use crate::api::Ingress;
use crate::kinds::Kind;
use crate::translate::Context;
use crate::translate::ingress_class;
use crate::translate::names::{self, ObjectRef};

/// The cluster's catch-all: the default backend of the oldest Ingress of ours that has one
/// ([`catch_all`]), after every Ingress's rules as KIC (`translate_ingress.go` 34-45, 73-81,
/// 88-121): a rule that made the same Kong service first keeps it, the route joins it.
pub(super) fn translate(ctx: &mut Context<'_>) {
    let Some((namespace, name)) = ctx.catch_all.clone() else {
        return;
    };
    // Only the scope of its namespace translates it.
    let Some(ingress) = ctx.ingresses().find(|i| {
        i.metadata.namespace.as_deref() == Some(namespace.as_str()) && i.name_any() == name
    }) else {
        return;
    };
    let Some(default) = ingress
        .spec
        .as_ref()
        .and_then(|s| s.default_backend.as_ref())
    else {
        return;
    };
    let obj = ObjectRef::of(ingress);
    let tags = names::tags(&obj, ingress.metadata.annotations.as_ref());
    if let Some(resolved) = backend(ctx, ingress, &obj, default, "spec.defaultBackend", false) {
        let matching = if ctx.options.router_flavor.expressions() {
            let (expression, priority) = expressions::catch_all();
            Matching::Expression {
                expression,
                priority,
            }
        } else {
            Matching::Traditional {
                hosts: vec![],
                paths: vec!["/".into()],
            }
        };
        add_route(
            ctx,
            ingress,
            &obj,
            resolved.kong_service(),
            format!("{namespace}.{name}"),
            matching,
            &tags,
        );
    }
}

/// The Ingress whose default backend is the catch-all: of the Ingresses of `class` with one
/// (and not left out), the oldest, equal creation times by `namespace/name` (KIC sorts its
/// store's list by `namespace/name`, then stably by creationTimestamp; a missing timestamp is
/// Go's zero time, the oldest).
pub fn catch_all(
    snapshot: &crate::snapshot::Snapshot,
    class: &str,
    excluded: &crate::translate::fallback::Excluded,
) -> Option<(String, String)> {
    snapshot
        .ingresses
        .values()
        .filter(|i| i.spec.as_ref().is_some_and(|s| s.default_backend.is_some()))
        .filter(|i| ingress_class::ours(snapshot, class, i))
        .filter(|i| {
            let ns = i.metadata.namespace.as_deref().unwrap_or_default();
            excluded
                .reason(
                    Kind::Ingress,
                    ns,
                    i.metadata.name.as_deref().unwrap_or_default(),
                )
                .is_none()
        })
        .min_by(|a, b| {
            let at = |i: &Ingress| i.metadata.creation_timestamp.as_ref().map(|t| t.0);
            let key = |i: &Ingress| {
                format!(
                    "{}/{}",
                    i.metadata.namespace.as_deref().unwrap_or_default(),
                    i.metadata.name.as_deref().unwrap_or_default()
                )
            };
            at(a).cmp(&at(b)).then_with(|| key(a).cmp(&key(b)))
        })
        .map(|i| {
            (
                i.metadata.namespace.clone().unwrap_or_default(),
                i.name_any(),
            )
        })
}
