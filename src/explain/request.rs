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

use atc_router::ast::{Expression, Value as AtcValue};
use atc_router::context::Match;
use atc_router::interpreter::Execute;
use atc_router::semantics::Validate;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::kong::route_transform::{self, KongRoute, Priority};
use crate::kong::router_fields::{self, HttpRequest};
use crate::kong::router_flavor::RouterFlavor;

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
    uuid: Uuid,
    #[serde(skip)]
    compiled: u64,
    /// The route's own id (before Kong's split), which plugins name.
    #[serde(skip)]
    route_id: Option<String>,
}

/// The value Kong's balancer hashes for the request (Kong 3.10 `kong/runloop/balancer/init.lua`
/// 107-190 `get_value_to_hash`, `hash_fallback` when the first is missing) and the target of
/// that value on Kong's wheel.
#[derive(Debug, Serialize)]
pub struct Hashing {
    /// The `hash_on` (or `hash_fallback`) that gave the value.
    pub hash_on: String,
    /// What Kong hashes (`""` when nothing is found, as Kong does).
    pub key: String,
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

fn name_of(v: &Value) -> Option<String> {
    v.get("name")
        .or_else(|| v.get("id"))
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
fn routes(config: &Value) -> Vec<(KongRoute, Option<&Value>)> {
    let services = config
        .get("services")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for service in services {
        for r in service
            .get("routes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = r.as_object() {
                out.push((with_defaults(r.clone()), Some(service)));
            }
        }
    }
    for r in config
        .get("routes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
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
    let mut matching: Vec<Candidate> = Vec::new();
    for (route, service) in routes(config) {
        if route_transform::is_stream(&route) {
            continue;
        }
        let pieces = match flavor.expressions() {
            true => vec![route.clone()],
            false => route_transform::split_by_path(&route),
        };
        for piece in pieces {
            let expression = match flavor.expressions() {
                true => route_transform::expressions_flavor_expression(&piece),
                false => route_transform::expression(&piece),
            };
            let label = name_of(&Value::Object(route.clone())).unwrap_or_default();
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
            if !holds(&ast, &schema, &values) {
                continue;
            }
            let Priority {
                interpreted,
                compiled,
            } = route_transform::priority(&piece);
            let traditional = piece.get("expression").is_none_or(Value::is_null);
            matching.push(Candidate {
                route: label,
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
            });
        }
    }
    // atc-router walks `(priority, uuid)` from the highest.
    matching.sort_by_key(|c| std::cmp::Reverse((c.priority, c.uuid)));
    let compiled_winner = matching
        .iter()
        .max_by_key(|c| (c.compiled, c.uuid))
        .map(|c| c.id.clone());
    let mut matching = matching.into_iter();
    let matched = matching.next();
    let matched_if_compiled =
        compiled_winner.filter(|w| matched.as_ref().is_some_and(|m| m.id != *w));
    let beaten: Vec<Candidate> = matching.collect();
    let service = matched.as_ref().and_then(|m| {
        routes(config)
            .into_iter()
            .find(|(r, _)| name_of(&Value::Object(r.clone())).as_deref() == Some(m.route.as_str()))
            .and_then(|(_, s)| s.cloned())
    });
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
        .and_then(|name| hashing(config, name, &request));
    let plugins = match (&matched, &service) {
        (Some(m), service) => plugins(config, m, service.as_ref()),
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

/// [`Hashing`] for the upstream `name` of `config`; None when Kong does not hash for it.
fn hashing(config: &Value, name: &str, request: &HttpRequest) -> Option<Hashing> {
    let path = std::path::Path::new("the Kong config");
    let upstream = super::kong_config::upstream_in(config, path, name, &mut Vec::new()).ok()?;
    let on = upstream.hash_on.as_deref().unwrap_or("none");
    if on == "none" {
        return None;
    }
    let header = |name: &Option<String>| -> Option<String> {
        let wanted = name.as_deref()?.to_lowercase().replace('-', "_");
        // nginx joins repeated headers with ", " (`$http_<name>`, nginx 1.23+).
        let values: Vec<&str> = request
            .headers
            .iter()
            .filter(|(n, _)| n.to_lowercase().replace('-', "_") == wanted)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let query = |name: &Option<String>| -> Option<String> {
        let wanted = name.as_deref()?;
        let (_, query) = request.uri.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (n == wanted).then(|| v.to_string())
        })
    };
    let cookie = || -> Option<String> {
        let wanted = upstream.hash_on_cookie.as_deref()?;
        request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .find_map(|c| {
                let (n, v) = c.trim().split_once('=')?;
                (n == wanted).then(|| v.to_string())
            })
    };
    let mut note = None;
    let mut value = |on: &str, header_name: &Option<String>, arg: &Option<String>| match on {
        "header" => header(header_name),
        "query_arg" => query(arg),
        "ip" => match request.client_ip {
            Some(ip) => Some(ip.to_string()),
            None => {
                note = Some("hash_on ip: give --client-ip".to_string());
                None
            }
        },
        // nginx's `$uri`: decoded, dot segments resolved, slashes merged.
        "path" => Some(
            String::from_utf8_lossy(&crate::kong::uri::router_path(request.uri.as_bytes()))
                .into_owned(),
        ),
        "cookie" => {
            let found = cookie();
            if found.is_none() {
                note = Some(
                    "no such cookie: Kong makes one up (a random UUID), so the target is any"
                        .into(),
                );
            }
            found
        }
        "consumer" => {
            note = Some("hash_on consumer: the consumer is known only once authenticated".into());
            None
        }
        other => {
            note = Some(format!("hash_on {other}: not modelled here"));
            None
        }
    };
    let (used, key) = match value(on, &upstream.hash_on_header, &upstream.hash_on_query_arg) {
        Some(v) => (on.to_string(), v),
        None => {
            let fallback = upstream.hash_fallback.as_deref().unwrap_or("none");
            match fallback {
                "none" => (on.to_string(), String::new()),
                f => match value(
                    f,
                    &upstream.hash_fallback_header,
                    &upstream.hash_fallback_query_arg,
                ) {
                    Some(v) => (f.to_string(), v),
                    None => (f.to_string(), String::new()),
                },
            }
        }
    };
    let analysis = super::analyse(&upstream, std::slice::from_ref(&key));
    Some(Hashing {
        hash_on: used,
        target: analysis.choices.into_iter().next().and_then(|(_, t)| t),
        key,
        note,
    })
}

/// Whether `ast` holds for the request's `values` (a fresh context, as Kong fills one per
/// request).
fn holds(
    ast: &Expression,
    schema: &atc_router::schema::Schema,
    values: &[(String, Vec<AtcValue>)],
) -> bool {
    let mut context = router_fields::context(schema, values);
    ast.execute(&mut context, &mut Match::new())
}

fn render(v: &AtcValue) -> String {
    match v {
        AtcValue::String(s) => s.clone(),
        AtcValue::Int(i) => i.to_string(),
        AtcValue::IpAddr(ip) => ip.to_string(),
        other => format!("{other:?}"),
    }
}

/// What a plugin is scoped to: route, service and consumer, each by name or id.
#[derive(Default)]
struct Scope {
    route: Option<String>,
    service: Option<String>,
    consumer: Option<String>,
}

fn reference(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => name_of(other),
    }
}

/// Every enabled plugin of `config` with its scope: top-level ones by their references,
/// nested ones by where they sit.
fn all_plugins(config: &Value) -> Vec<(Scope, String)> {
    let mut out = Vec::new();
    let mut add = |list: Option<&Value>, base: &dyn Fn(&Value) -> Scope| {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            if p.get("enabled").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            if let Some(name) = p.get("name").and_then(Value::as_str) {
                out.push((base(p), name.to_string()));
            }
        }
    };
    let own = |p: &Value| Scope {
        route: reference(p.get("route")),
        service: reference(p.get("service")),
        consumer: reference(p.get("consumer")),
    };
    add(config.get("plugins"), &own);
    for service in config
        .get("services")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = name_of(service);
        add(service.get("plugins"), &|p| Scope {
            service: s.clone(),
            ..own(p)
        });
        for route in service
            .get("routes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = name_of(route);
            add(route.get("plugins"), &|p| Scope {
                route: r.clone(),
                ..own(p)
            });
        }
    }
    for consumer in config
        .get("consumers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let c = consumer
            .get("username")
            .or_else(|| consumer.get("custom_id"))
            .or_else(|| consumer.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        add(consumer.get("plugins"), &|p| Scope {
            consumer: c.clone(),
            ..own(p)
        });
    }
    out
}

/// The plugins that run for `matched` (Kong 3.10 `kong/runloop/plugins_iterator.lua`
/// 215-275 `lookup_cfg`: per plugin name, route and service, then route, then service, then
/// global; with a consumer, its combinations first).
fn plugins(config: &Value, matched: &Candidate, service: Option<&Value>) -> Vec<(String, String)> {
    let route_names: Vec<&str> = [Some(matched.route.as_str()), matched.route_id.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let service_names: Vec<String> = service
        .into_iter()
        .flat_map(|s| ["name", "id"].map(|k| s.get(k).and_then(Value::as_str).map(str::to_string)))
        .flatten()
        .collect();
    let on_route = |r: &Option<String>| r.as_deref().is_none_or(|r| route_names.contains(&r));
    let on_service = |s: &Option<String>| s.as_ref().is_none_or(|s| service_names.contains(s));
    let mut chosen: BTreeMap<String, (u8, &'static str)> = BTreeMap::new();
    let mut consumers: Vec<(String, String)> = Vec::new();
    for (scope, name) in all_plugins(config) {
        if !on_route(&scope.route) || !on_service(&scope.service) {
            continue;
        }
        if let Some(c) = &scope.consumer {
            consumers.push((format!("consumer {c}"), name));
            continue;
        }
        let rank = match (scope.route.is_some(), scope.service.is_some()) {
            (true, true) => (3, "route and service"),
            (true, false) => (2, "route"),
            (false, true) => (1, "service"),
            (false, false) => (0, "global"),
        };
        let entry = chosen.entry(name).or_insert(rank);
        if rank.0 > entry.0 {
            *entry = rank;
        }
    }
    let mut out: Vec<(String, String)> = chosen
        .into_iter()
        .map(|(name, (_, scope))| (scope.to_string(), name))
        .collect();
    out.sort_by_key(|(scope, _)| match scope.as_str() {
        "route and service" => 0,
        "route" => 1,
        "service" => 2,
        _ => 3,
    });
    out.extend(consumers);
    out
}

impl RequestExplanation {
    /// The human-readable report.
    pub fn to_table(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let r = &self.request;
        let _ = writeln!(
            out,
            "request: {} {}://{}{} (listener port {}, router_flavor {})",
            r.method, r.scheme, r.host, r.uri, r.listener_port, self.router_flavor
        );
        for (field, values) in &self.fields {
            let _ = writeln!(out, "  {field} = {}", values.join(", "));
        }
        match &self.matched {
            None => {
                let _ = writeln!(
                    out,
                    "\nno route matches: Kong answers 404 {{\"message\":\"no Route matched with those values\"}}"
                );
            }
            Some(m) => {
                let _ = writeln!(out, "\nroute: {} (id {})", m.route, m.id);
                if !m.paths.is_empty() {
                    let _ = writeln!(out, "  paths: {}", m.paths.join(" "));
                }
                let _ = writeln!(out, "  expression: {}", m.expression);
                let _ = writeln!(out, "  priority: {}", describe(m));
                if let Some(s) = &self.service {
                    let _ = writeln!(
                        out,
                        "service: {} ({}://{}:{}{})",
                        name_of(s).unwrap_or_default(),
                        s.get("protocol").and_then(Value::as_str).unwrap_or("http"),
                        s.get("host").and_then(Value::as_str).unwrap_or_default(),
                        s.get("port").and_then(Value::as_u64).unwrap_or(80),
                        s.get("path").and_then(Value::as_str).unwrap_or_default(),
                    );
                }
                if let Some(u) = &self.upstream {
                    let _ = writeln!(out, "upstream: {u}");
                }
                if let Some(h) = &self.hashing {
                    let _ = writeln!(
                        out,
                        "  consistent hashing on {}: key {:?} lands on {}",
                        h.hash_on,
                        h.key,
                        h.target.as_deref().unwrap_or("no target")
                    );
                    if let Some(n) = &h.note {
                        let _ = writeln!(out, "  ({n})");
                    }
                }
                if !self.plugins.is_empty() {
                    let list: Vec<String> = self
                        .plugins
                        .iter()
                        .map(|(scope, name)| format!("{name} ({scope})"))
                        .collect();
                    let _ = writeln!(out, "plugins: {}", list.join(", "));
                }
            }
        }
        if let Some(w) = &self.matched_if_compiled {
            let _ = writeln!(
                out,
                "\nwarning: with its router build JIT-compiled Kong picks route id {w} instead (Kong's priority of these routes depends on LuaJIT, see docs/explain.md)"
            );
        }
        if !self.beaten.is_empty() {
            let _ = writeln!(out, "\nalso matching, beaten (Kong's order):");
            let mut above = self.matched.as_ref();
            for b in &self.beaten {
                let why = match above {
                    Some(a) if a.priority > b.priority => "lower priority".to_string(),
                    Some(_) => "same priority, lower id".to_string(),
                    None => String::new(),
                };
                let paths = match b.paths.is_empty() {
                    true => String::new(),
                    false => format!(" paths {}", b.paths.join(" ")),
                };
                let _ = writeln!(
                    out,
                    "  {}{paths} (id {}): {}; {}",
                    b.route,
                    b.id,
                    describe(b),
                    why
                );
                above = Some(b);
            }
        }
        out
    }
}

/// A priority with what it is made of, for traditional routes.
fn describe(c: &Candidate) -> String {
    let mut text = match c.priority_if_compiled {
        Some(compiled) => format!(
            "{} ({compiled} if Kong's router build ran compiled)",
            c.priority
        ),
        None => c.priority.to_string(),
    };
    if let Some(p) = &c.weighs {
        let mut what = vec![format!("{} kind(s) of match", p.match_kinds)];
        if p.plain_host_only {
            what.push("plain hosts".into());
        }
        match p.regex {
            true => what.push(format!("regex paths, regex_priority {}", p.regex_priority)),
            false if p.path_length > 0 => what.push(format!("prefix length {}", p.path_length)),
            false => {}
        }
        if p.headers > 0 {
            what.push(format!("{} header(s)", p.headers));
        }
        text.push_str(&format!(" [{}]", what.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(line: &str, headers: &[&str]) -> HttpRequest {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        parse(line, &headers, None, None).expect("request")
    }

    fn config() -> Value {
        json!({"services": [{"name": "shop", "host": "shop.up", "port": 80, "routes": [
            {"name": "cart", "id": "00000000-0000-0000-0000-000000000001",
             "protocols": ["http", "https"], "hosts": ["shop.example.com"], "paths": ["/cart"],
             "regex_priority": 0},
            {"name": "any", "id": "00000000-0000-0000-0000-000000000002",
             "protocols": ["http", "https"], "hosts": ["*.example.com"], "paths": ["/"],
             "regex_priority": 0},
            {"name": "items", "id": "00000000-0000-0000-0000-000000000003",
             "protocols": ["http", "https"], "hosts": ["shop.example.com"],
             "paths": ["~/cart/(?<id>\\d+)$"], "regex_priority": 10}
        ]}], "upstreams": [{"name": "shop.up"}]})
    }

    #[test]
    fn requests_parse_with_kongs_default_ports() {
        let r = request(
            "get https://Shop.example.com:9443/a?b=1",
            &["X-A: 1", "host: h"],
        );
        assert_eq!(r.method, "GET");
        assert_eq!(r.host, "h", "a Host header wins");
        assert_eq!(r.uri, "/a?b=1");
        assert_eq!(r.listener_port, 8443);
        assert_eq!(request("GET http://a", &[]).uri, "/");
        assert!(parse("GET /a", &[], None, None).is_err());
        assert!(parse("GET ftp://a/", &[], None, None).is_err());
    }

    #[test]
    fn the_highest_priority_matching_route_wins_and_the_others_are_listed() {
        let e = explain(
            &config(),
            RouterFlavor::TraditionalCompatible,
            request("GET https://shop.example.com/cart/42", &[]),
        );
        let matched = e.matched.expect("a route");
        // A regex path has the regex bit (51): it beats the plain-host prefix route.
        assert_eq!(matched.route, "items");
        let beaten: Vec<&str> = e.beaten.iter().map(|c| c.route.as_str()).collect();
        assert_eq!(beaten, ["cart", "any"]);
        assert_eq!(e.upstream.as_deref(), Some("shop.up"));
        let none = explain(
            &config(),
            RouterFlavor::TraditionalCompatible,
            request("GET http://other.org/", &[]),
        );
        assert!(none.matched.is_none() && none.beaten.is_empty());
        assert!(none.to_table().contains("no Route matched"));
    }

    /// `routes` (name, fields) as one service's routes, ids in order from ...01.
    fn config_of(routes: &[(&str, Value)]) -> Value {
        let routes: Vec<Value> = routes
            .iter()
            .enumerate()
            .map(|(i, (name, fields))| {
                let mut r = json!({"name": name, "id": format!("00000000-0000-0000-0000-0000000000{:02}", i + 1),
                    "protocols": ["http", "https"], "regex_priority": 0});
                for (k, v) in fields.as_object().expect("fields") {
                    r[k] = v.clone();
                }
                r
            })
            .collect();
        json!({"services": [{"name": "s", "host": "s.up", "routes": routes}]})
    }

    /// The route `explain` picks, asserting atc-router's own `Router` picks the same.
    fn pick(config: &Value, line: &str, headers: &[&str]) -> Option<String> {
        let req = request(line, headers);
        let schema = router_fields::schema(true);
        let mut router = atc_router::router::Router::new(&schema);
        for (route, _) in routes(config) {
            for piece in route_transform::split_by_path(&route) {
                let id = Uuid::parse_str(piece["id"].as_str().expect("id")).expect("uuid");
                let p = route_transform::priority(&piece).interpreted as usize;
                router
                    .add_matcher(p, id, &route_transform::expression(&piece))
                    .expect("matcher");
            }
        }
        let values = router_fields::values(&req).expect("values");
        let mut context = router_fields::context(&schema, &values);
        let by_router = router
            .execute(&mut context)
            .then(|| context.result.expect("result").uuid.to_string());
        let e = explain(config, RouterFlavor::TraditionalCompatible, req);
        assert_eq!(
            e.matched.as_ref().map(|m| m.id.clone()),
            by_router,
            "{line}"
        );
        e.matched.map(|m| m.route)
    }

    /// docs/explain.md's order, one rule per case (each route alone would match).
    #[test]
    fn each_documented_ordering_rule() {
        let get = |routes: &[(&str, Value)], line: &str, headers: &[&str]| {
            pick(&config_of(routes), line, headers).expect("a match")
        };
        // Plain hosts beat a wildcard, whatever else the wildcard route has.
        let plain = ("plain", json!({"hosts": ["a.example.com"], "paths": ["/"]}));
        let wild = (
            "wild",
            json!({"hosts": ["*.example.com"], "methods": ["GET"], "paths": ["/x/y/z"]}),
        );
        assert_eq!(
            get(
                &[wild.clone(), plain.clone()],
                "GET http://a.example.com/x/y/z",
                &[]
            ),
            "plain"
        );
        // Then a regex path beats a prefix, however long.
        let regex = ("regex", json!({"paths": ["~/x"]}));
        let long = ("long", json!({"paths": ["/x/y/z/long/prefix"]}));
        assert_eq!(
            get(
                &[long.clone(), regex.clone()],
                "GET http://h/x/y/z/long/prefix",
                &[]
            ),
            "regex"
        );
        // Then more kinds of match.
        let two = ("two", json!({"methods": ["GET"], "paths": ["/a"]}));
        let one = ("one", json!({"paths": ["/abc"]}));
        assert_eq!(get(&[one, two], "GET http://h/abc", &[]), "two");
        // Then more header names.
        let h2 = (
            "h2",
            json!({"paths": ["/a"], "headers": {"x-a": ["1"], "x-b": ["2"]}}),
        );
        let h1 = ("h1", json!({"paths": ["/a"], "headers": {"x-a": ["1"]}}));
        assert_eq!(
            get(&[h1, h2], "GET http://h/a", &["x-a: 1", "x-b: 2"]),
            "h2"
        );
        // Then, among regexes, the higher regex_priority.
        let low = ("low", json!({"paths": ["~/r"], "regex_priority": 1}));
        let high = ("high", json!({"paths": ["~/r$"], "regex_priority": 2}));
        assert_eq!(get(&[low, high], "GET http://h/r", &[]), "high");
        // Then, among prefixes, the longer.
        let short = ("short", json!({"paths": ["/p"]}));
        let longer = ("longer", json!({"paths": ["/p/q"]}));
        assert_eq!(get(&[longer, short], "GET http://h/p/q/r", &[]), "longer");
        // Equal priorities: the higher id (atc-router's `(priority, uuid)` order).
        let first = ("first", json!({"paths": ["/same"]}));
        let second = ("second", json!({"paths": ["/same"]}));
        assert_eq!(get(&[first, second], "GET http://h/same", &[]), "second");
        // No route: Kong's 404.
        assert_eq!(
            pick(
                &config_of(&[plain, wild, regex, long]),
                "GET http://b.org/q",
                &[]
            ),
            None
        );
    }

    /// What `explain` picks is what atc-router's own `Router` picks from the same matchers.
    #[test]
    fn the_pick_is_atc_routers() {
        let schema = router_fields::schema(true);
        let mut router = atc_router::router::Router::new(&schema);
        for (route, _) in routes(&config()) {
            for piece in route_transform::split_by_path(&route) {
                let id = Uuid::parse_str(piece["id"].as_str().expect("id")).expect("uuid");
                let p = route_transform::priority(&piece).interpreted as usize;
                router
                    .add_matcher(p, id, &route_transform::expression(&piece))
                    .expect("matcher");
            }
        }
        for path in ["/cart/42", "/cart", "/x", "/cart/x"] {
            let req = request(&format!("GET https://shop.example.com{path}"), &[]);
            let values = router_fields::values(&req).expect("values");
            let mut context = router_fields::context(&schema, &values);
            let found = router.execute(&mut context);
            let e = explain(&config(), RouterFlavor::TraditionalCompatible, req);
            assert_eq!(
                e.matched.map(|m| m.id),
                found.then(|| context.result.expect("result").uuid.to_string()),
                "{path}"
            );
        }
    }
}
