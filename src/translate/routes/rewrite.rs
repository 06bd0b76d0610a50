//! `konghq.com/rewrite` on Ingresses, as KIC v3.5.13 applies it after translating every
//! Ingress (`translate_ingress.go` 61-69, `subtranslator/ingress.go` 560-677 `MaybeRewriteURI`
//! and `generateRewriteURIConfig`):
//!
//! - with the `RewriteURIs` feature gate (off by default) each route of the Ingress gets a
//!   `request-transformer` plugin replacing the URI, `$1` becoming `$(uri_captures[1])` and
//!   `\$` a literal `$`; an empty value rewrites to `/`;
//! - without the gate, or with a value that does not parse, the whole Kong service holding
//!   such a route is left out (its other routes too, whatever Ingress they come from), with an
//!   error: KIC's failure on the service.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::kong::config::Plugin;
use crate::translate::Context;
use crate::translate::names::ObjectRef;
use crate::translate::problems::Reason;

pub const ANNOTATION: &str = "konghq.com/rewrite";

/// The routes of Ingresses with [`ANNOTATION`], by Kong service: (route, Ingress, value).
#[derive(Default)]
pub struct Rewrites(BTreeMap<String, Vec<(String, ObjectRef, String)>>);

impl Rewrites {
    /// Notes route `route` of Kong service `service`, made from `ingress` with `annotations`.
    pub fn note(
        &mut self,
        service: &str,
        route: &str,
        ingress: &ObjectRef,
        annotations: Option<&BTreeMap<String, String>>,
    ) {
        if let Some(value) = annotations.and_then(|a| a.get(ANNOTATION)) {
            self.0.entry(service.to_string()).or_default().push((
                route.to_string(),
                ingress.clone(),
                value.clone(),
            ));
        }
    }

    /// Adds the rewrite plugins, or leaves out the Kong services KIC leaves out.
    pub fn apply(self, ctx: &mut Context<'_>) {
        let field = Some(format!("metadata.annotations[{ANNOTATION}]"));
        for (service, routes) in self.0 {
            // The Ingresses that make KIC leave the service out, each with why; else each
            // route's new URI (an empty value rewrites to `/`).
            let mut culprits: Vec<(ObjectRef, String)> = Vec::new();
            let mut uris: Vec<(&str, String)> = Vec::new();
            for (route, ingress, value) in &routes {
                let why = if !ctx.options.feature_gates.rewrite_uris {
                    format!(
                        "{ANNOTATION} needs the RewriteURIs feature gate (--feature-gates RewriteURIs=true), off by default as in KIC"
                    )
                } else {
                    match uri_config(if value.is_empty() { "/" } else { value }) {
                        Ok(uri) => {
                            uris.push((route, uri));
                            continue;
                        }
                        Err(e) => format!("{value:?} is not a rewrite URI: {e}"),
                    }
                };
                if !culprits.iter().any(|(c, _)| c.key() == ingress.key()) {
                    culprits.push((ingress.clone(), why));
                }
            }
            if let Some((first, first_why)) = culprits.first().cloned() {
                let owners = ctx.remove_service(&service);
                for (culprit, why) in &culprits {
                    ctx.problems.error(
                        culprit,
                        Reason::InvalidAnnotation,
                        field.clone(),
                        format!("{why}; as KIC v3.5.13 does, Kong service {service} is left out with all its routes"),
                    );
                }
                for owner in owners
                    .iter()
                    .filter(|o| !culprits.iter().any(|(c, _)| c.key() == o.key()))
                {
                    ctx.problems.error(
                        owner,
                        Reason::Excluded,
                        None,
                        format!("Kong service {service} is left out: {first}'s {ANNOTATION} ({first_why})"),
                    );
                }
                continue;
            }
            let Some(kong_service) = ctx.service_mut(&service) else {
                continue;
            };
            for (route, uri) in uris {
                if let Some(r) = kong_service.routes.iter_mut().find(|r| r.name == route) {
                    r.plugins.push(transformer(uri));
                }
            }
        }
    }
}

/// KIC's plugin: no ID, tags or protocols (Kong's defaults), nested in its route.
fn transformer(uri: String) -> Plugin {
    let mut replace = Map::new();
    replace.insert("uri".into(), Value::String(uri));
    let mut config = Map::new();
    config.insert("replace".into(), Value::Object(replace));
    Plugin {
        config,
        enabled: true,
        name: "request-transformer".into(),
        ..Default::default()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    #[error("unexpected {0} at pos {1}")]
    Unexpected(char, usize),
    #[error("unexpected end of string")]
    End,
}

/// `generateRewriteURIConfig`: `$<digits>` → `$(uri_captures[<digits>])`, `\$` → `$`.
/// Positions are byte offsets, as Go's `range` over a string gives them.
pub fn uri_config(uri: &str) -> Result<String, RewriteError> {
    #[derive(PartialEq)]
    enum State {
        Escape,
        Mark,
        Digit,
        Plain,
    }
    let mut out = String::new();
    let mut state = State::Plain;
    for (i, c) in uri.char_indices() {
        state = match state {
            State::Escape if c == '$' => {
                out.push(c);
                State::Plain
            }
            State::Escape => return Err(RewriteError::Unexpected(c, i)),
            State::Mark if c.is_ascii_digit() => {
                out.push_str("$(uri_captures[");
                out.push(c);
                State::Digit
            }
            State::Mark => return Err(RewriteError::Unexpected(c, i)),
            State::Digit if c.is_ascii_digit() => {
                out.push(c);
                State::Digit
            }
            State::Digit | State::Plain => {
                if state == State::Digit {
                    out.push_str("])");
                }
                match c {
                    '$' => State::Mark,
                    '\\' => State::Escape,
                    _ => {
                        out.push(c);
                        State::Plain
                    }
                }
            }
        };
    }
    match state {
        State::Digit => {
            out.push_str("])");
            Ok(out)
        }
        State::Plain => Ok(out),
        State::Escape | State::Mark => Err(RewriteError::End),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_escapes_and_errors_as_kic_writes_them() {
        assert_eq!(
            uri_config("/api/$1/x\\$2").as_deref(),
            Ok("/api/$(uri_captures[1])/x$2")
        );
        assert_eq!(
            uri_config("/$12$3").as_deref(),
            Ok("/$(uri_captures[12])$(uri_captures[3])")
        );
        assert_eq!(uri_config("/$1\\$").as_deref(), Ok("/$(uri_captures[1])$"));
        assert_eq!(uri_config("/a$b"), Err(RewriteError::Unexpected('b', 3)));
        assert_eq!(uri_config("/a\\b"), Err(RewriteError::Unexpected('b', 3)));
        assert_eq!(uri_config("/a$"), Err(RewriteError::End));
    }
}
