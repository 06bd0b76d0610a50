//! `kingress explain --request`: the Kong route a request reaches, the routes it beat and why,
//! its service, upstream and plugins. Routes become ATC matchers as Kong 3.10 makes them
//! ([`crate::kong::route_transform`]: `traditional_compatible` splits and transforms
//! traditional routes, `expressions` adds protocols to expressions) and are matched with Kong's
//! own engine (the `atc-router` crate, Kong's pin): a route matches when its expression holds
//! for the request's fields ([`crate::kong::router_fields`]), and of those Kong takes the
//! highest priority, then the highest id (atc-router `router.rs` `execute`, matchers ordered by
//! `(priority, uuid)`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use atc_router::ast::Value as AtcValue;
use atc_router::context::Match;
use atc_router::interpreter::Execute;
use atc_router::semantics::Validate;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::kong::route_transform::{self, KongRoute, Priority};

mod hashing;
mod plugins;
#[cfg(test)]
mod tests;
mod text;

use crate::kong::router_fields::{self, HttpRequest};
use crate::kong::router_flavor::RouterFlavor;
pub use hashing::Hashing;

/// Kong's default proxy listeners (kong.conf `proxy_listen`, Kong 3.10
/// `kong/templates/kong_defaults.lua` 24: `0.0.0.0:8000, 0.0.0.0:8443 ssl`).
const DEFAULT_HTTP_PORT: u16 = 8000;
const DEFAULT_HTTPS_PORT: u16 = 8443;

/// `METHOD URL` (`GET https://shop.example.com/cart/42`) with `name: value` headers (a
/// `Host` header replaces the URL's host), the listener port (Kong's default for the scheme
/// when None) and the client's address.
pub fn parse(
    line: &str,
    headers: &[String],
    listener_port: Option<u16>,
    client_ip: Option<IpAddr>,
) -> Result<HttpRequest, String> {
    let (method, url) = line
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("expected `METHOD URL`, got {line:?}"))?;
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("expected an absolute URL (scheme://host/path), got {url:?}"))?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "grpc" | "grpcs") {
        return Err(format!(
            "scheme {scheme:?} is not one Kong's HTTP router serves (http, https, grpc, grpcs)"
        ));
    }
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (mut host, uri) = (rest[..split].to_string(), &rest[split..]);
    let uri = match uri {
        "" => "/".to_string(),
        u if u.starts_with('?') => format!("/{u}"),
        u => u.to_string(),
    };
    let mut parsed = Vec::new();
    for h in headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("expected a header as `name: value`, got {h:?}"))?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return Err(format!("header {h:?} has no name"));
        }
        if name.eq_ignore_ascii_case("host") {
            host = value.to_string();
        } else {
            parsed.push((name.to_string(), value.to_string()));
        }
    }
    if host.is_empty() {
        return Err(format!("the request {line:?} names no host"));
    }
    let tls = matches!(scheme.as_str(), "https" | "grpcs");
    Ok(HttpRequest {
        method: method.to_ascii_uppercase(),
        scheme,
        host,
        listener_port: listener_port.unwrap_or(match tls {
            true => DEFAULT_HTTPS_PORT,
            false => DEFAULT_HTTP_PORT,
        }),
        uri,
        headers: parsed,
        client_ip,
    })
}

/// One route as Kong's router holds it.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// The route's name (its id when it has none).
    pub route: String,
    /// The id Kong's router knows it by (a route split by path gets one per group).
    pub id: String,
    pub service: Option<String>,
    /// The paths of this route (one group when Kong split the route's paths).
    pub paths: Vec<String>,
    pub expression: String,
    pub priority: u64,
    /// What Kong's priority weighs, for a traditional route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighs: Option<route_transform::Parts>,
    /// Kong's priority when its router-build loop runs JIT-compiled, where it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_if_compiled: Option<u64>,
    #[serde(skip)]
    pub(super) uuid: Uuid,
    #[serde(skip)]
    pub(super) compiled: u64,
    /// The route's own id (before Kong's split), which plugins name.
    #[serde(skip)]
    pub(super) route_id: Option<String>,
}

/// What `--request` found.
#[derive(Debug, Serialize)]
pub struct RequestExplanation {
    pub request: HttpRequest,
    pub router_flavor: String,
    /// The router's fields for this request and their values.
    pub fields: BTreeMap<String, Vec<String>>,
    /// The route Kong picks; None: Kong answers 404 "no Route matched with those values".
    pub matched: Option<Candidate>,
    /// The other routes that match, in Kong's order (each loses to those before it).
    pub beaten: Vec<Candidate>,
    /// Kong's pick depends on whether its router build ran JIT-compiled (see
    /// [`route_transform`]); `matched` is the interpreter's, this the compiled one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_if_compiled: Option<String>,
    pub service: Option<Value>,
    /// The upstream the service proxies to, when it names one.
    pub upstream: Option<String>,
    /// With consistent hashing, the value Kong hashes for this request and the target it lands on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashing: Option<Hashing>,
    /// Plugins that run for the route: `(scope, name)`, each name with the configuration
    /// Kong picks (route and service, route, service, global), then those a consumer's
    /// authentication would bring (`consumer <name>` scopes, which win over the others).
    pub plugins: Vec<(String, String)>,
    /// Routes Kong would not load, and other remarks.
    pub notes: Vec<String>,
}

/// The elements of the list `v[key]` (none when absent or not a list).
pub(super) fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

pub(super) fn name_of(v: &Value) -> Option<String> {
    v.as_object().and_then(name_in)
}

/// An entity's name, or its id when it has none.
fn name_in(entity: &KongRoute) -> Option<String> {
    entity
        .get("name")
        .or_else(|| entity.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A route with what Kong's schema defaults where it is absent and the router reads it:
/// `protocols` `["http", "https"]` (Kong 3.10 `kong/db/schema/entities/routes.lua` 154-166).
fn with_defaults(mut route: KongRoute) -> KongRoute {
    if route.get("protocols").is_none_or(Value::is_null) {
        route.insert("protocols".into(), serde_json::json!(["http", "https"]));
    }
    route
}

/// Every route of `config` with its service: nested under services, or at the top level
/// naming its service by name or id.
pub(super) fn routes(config: &Value) -> Vec<(KongRoute, Option<&Value>)> {
    let services = config
        .get("services")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for service in services {
        for r in list(service, "routes") {
            if let Some(r) = r.as_object() {
                out.push((with_defaults(r.clone()), Some(service)));
            }
        }
    }
    for r in list(config, "routes") {
        let Some(r) = r.as_object() else { continue };
        let reference = r.get("service").map(|s| match s {
            Value::String(s) => s.clone(),
            other => name_of(other).unwrap_or_default(),
        });
        let service = reference.and_then(|wanted| {
            services.iter().find(|s| {
                s.get("name").and_then(Value::as_str) == Some(&wanted)
                    || s.get("id").and_then(Value::as_str) == Some(&wanted)
            })
        });
        out.push((with_defaults(r.clone()), service));
    }
    out
}

/// Explains where Kong's router sends `request` among the routes of the Kong config
/// `config` (declarative JSON, as `translate` writes it).
pub fn explain(config: &Value, flavor: RouterFlavor, request: HttpRequest) -> RequestExplanation {
    let schema = router_fields::schema(true);
    let mut notes = Vec::new();
    let values = match router_fields::values(&request) {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!("note: {e}; nothing can match"));
            Vec::new()
        }
    };
    let fields = values
        .iter()
        .map(|(f, vs)| (f.clone(), vs.iter().map(render).collect()))
        .collect();
    // One context for every matcher, as atc-router's `Router::execute` uses it (evaluating
    // only reads it).
    let mut context = router_fields::context(&schema, &values);
    let mut matching: Vec<(Candidate, Option<&Value>)> = Vec::new();
    for (route, service) in routes(config) {
        if route_transform::is_stream(&route) {
            continue;
        }
        let label = name_in(&route).unwrap_or_default();
        let pieces = match flavor.expressions() {
            true => vec![route.clone()],
            false => route_transform::split_by_path(&route),
        };
        for piece in pieces {
            let expression = match flavor.expressions() {
                true => route_transform::expressions_flavor_expression(&piece),
                false => route_transform::expression(&piece),
            };
            let ast = match atc_router::parser::parse(&expression) {
                Ok(ast) => ast,
                Err(e) => {
                    notes.push(format!(
                        "note: Kong would not load route {label}: {}",
                        e.to_string().lines().last().unwrap_or_default()
                    ));
                    continue;
                }
            };
            if let Err(e) = ast.validate(&schema) {
                notes.push(format!("note: Kong would not load route {label}: {e}"));
                continue;
            }
            let id = piece.get("id").and_then(Value::as_str).unwrap_or_default();
            let Ok(uuid) = Uuid::parse_str(id) else {
                notes.push(format!(
                    "note: route {label} has no UUID id; Kong gives it one, so its order among routes of equal priority is not known here"
                ));
                continue;
            };
            if !ast.execute(&mut context, &mut Match::new()) {
                continue;
            }
            let Priority {
                interpreted,
                compiled,
            } = route_transform::priority(&piece);
            let traditional = piece.get("expression").is_none_or(Value::is_null);
            let candidate = Candidate {
                route: label.clone(),
                id: id.to_string(),
                service: service.and_then(name_of),
                paths: piece
                    .get("paths")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect(),
                weighs: traditional.then(|| route_transform::parts(&piece)),
                expression,
                priority: interpreted,
                priority_if_compiled: (compiled != interpreted).then_some(compiled),
                uuid,
                compiled,
                route_id: route.get("id").and_then(Value::as_str).map(str::to_string),
            };
            matching.push((candidate, service));
        }
    }
    // atc-router walks `(priority, uuid)` from the highest.
    matching.sort_by_key(|(c, _)| std::cmp::Reverse((c.priority, c.uuid)));
    let compiled_winner = matching
        .iter()
        .max_by_key(|(c, _)| (c.compiled, c.uuid))
        .map(|(c, _)| c.id.clone());
    let mut matching = matching.into_iter();
    let (matched, service) = match matching.next() {
        Some((m, service)) => (Some(m), service.cloned()),
        None => (None, None),
    };
    let matched_if_compiled =
        compiled_winner.filter(|w| matched.as_ref().is_some_and(|m| m.id != *w));
    let beaten: Vec<Candidate> = matching.map(|(c, _)| c).collect();
    let upstream = service.as_ref().and_then(|s| {
        let host = s.get("host").and_then(Value::as_str)?;
        config
            .get("upstreams")
            .and_then(Value::as_array)?
            .iter()
            .any(|u| u.get("name").and_then(Value::as_str) == Some(host))
            .then(|| host.to_string())
    });
    let hashing = upstream
        .as_deref()
        .and_then(|name| hashing::hashing(config, name, &request));
    let plugins = match (&matched, &service) {
        (Some(m), service) => plugins::plugins(config, m, service.as_ref()),
        _ => Vec::new(),
    };
    RequestExplanation {
        request,
        router_flavor: flavor.as_str().to_string(),
        fields,
        matched,
        beaten,
        matched_if_compiled,
        service: service.map(|mut s| {
            if let Some(o) = s.as_object_mut() {
                o.remove("routes");
                o.remove("plugins");
            }
            s
        }),
        upstream,
        hashing,
        plugins,
        notes,
    }
}

fn render(v: &AtcValue) -> String {
    match v {
        AtcValue::String(s) => s.clone(),
        AtcValue::Int(i) => i.to_string(),
        AtcValue::IpAddr(ip) => ip.to_string(),
        other => format!("{other:?}"),
    }
}
