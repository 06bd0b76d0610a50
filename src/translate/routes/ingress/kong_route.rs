//! The Kong route of an Ingress route group or of the catch-all: KIC's fixed fields, then how
//! it matches (traditional hosts and paths, or an expression with its priority), then the
//! Ingress's annotations.

use crate::api::Ingress;
use crate::kong::config::Route;
use crate::translate::Context;
use crate::translate::names::{self, Entity, ObjectRef};

/// How a route matches: traditional hosts and paths, or an expression and its priority.
pub(super) enum Matching {
    Traditional {
        hosts: Vec<String>,
        paths: Vec<String>,
    },
    Expression {
        expression: String,
        priority: u64,
    },
}

pub(super) fn add_route(
    ctx: &mut Context<'_>,
    ingress: &Ingress,
    obj: &ObjectRef,
    service_name: &str,
    name: String,
    matching: Matching,
    tags: &[String],
) {
    let mut route = Route {
        https_redirect_status_code: 426,
        id: names::entity_id(Entity::Route, &name),
        name,
        preserve_host: Some(true),
        // KIC v3.5.13 sets none unless konghq.com/protocols says (subtranslator/ingress.go
        // lines 83-96, 441): Kong's default, http and https.
        protocols: Vec::new(),
        request_buffering: Some(true),
        response_buffering: Some(true),
        strip_path: Some(false),
        tags: tags.to_vec(),
        ..Default::default()
    };
    match matching {
        Matching::Traditional { hosts, paths } => {
            route.hosts = hosts;
            route.paths = paths;
            route.path_handling = "v0".into();
            route.regex_priority = Some(0);
        }
        // KIC sets neither hosts, paths, regex_priority nor path_handling on expression routes
        // (`ingress_atc.go` 41-53; deckgen `fillRoute` sets path_handling only without them).
        Matching::Expression {
            expression,
            priority,
        } => {
            route.expression = Some(expression);
            route.priority = Some(priority);
        }
    }
    let annotations = ingress.metadata.annotations.as_ref();
    crate::translate::routes::add_route(ctx, service_name, route, obj, annotations, annotations);
}

/// An Ingress path with runs of `/` collapsed, empty as `/` (KIC's `flattenMultipleSlashes`).
pub(super) fn flatten(path: Option<&str>) -> String {
    let raw = path.unwrap_or_default();
    let mut collapsed = String::with_capacity(raw.len());
    for c in raw.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    if collapsed.is_empty() {
        "/".to_string()
    } else {
        collapsed
    }
}
