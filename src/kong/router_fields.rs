//! The fields of Kong's ATC router and what a request puts in them (Kong 3.10
//! `kong/router/fields.lua` 20-50 for the schema, 54-140 and 220-420 for the values;
//! `kong/router/atc.lua` 361-380 and 445-456 for the host and path).

use atc_router::ast::{Type, Value};
use atc_router::context::Context;
use atc_router::schema::Schema;

/// Kong's schema of fields for HTTP routes (`http`) or stream routes.
pub fn schema(http: bool) -> Schema {
    let mut schema = Schema::default();
    let mut strings = vec!["net.protocol", "tls.sni"];
    let mut ints = vec!["net.src.port", "net.dst.port"];
    if http {
        strings.extend([
            "http.method",
            "http.host",
            "http.path",
            "http.path.segments.*",
            "http.headers.*",
            "http.queries.*",
        ]);
        ints.push("http.path.segments.len");
    }
    for f in strings {
        schema.add_field(f, Type::String);
    }
    for f in ints {
        schema.add_field(f, Type::Int);
    }
    for f in ["net.src.ip", "net.dst.ip"] {
        schema.add_field(f, Type::IpAddr);
    }
    schema
}

/// An HTTP request as Kong's router reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HttpRequest {
    pub method: String,
    /// `http` or `https` (or `grpc`, `grpcs`).
    pub scheme: String,
    /// The `Host` header as sent (a `:port` in it is the port routes see).
    pub host: String,
    /// The port Kong accepted the connection on (its listener).
    pub listener_port: u16,
    /// The path as sent, query included.
    pub uri: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The client's address, when given.
    pub client_ip: Option<std::net::IpAddr>,
}

/// What Kong's router compares for `request`, each field with its values.
pub fn values(request: &HttpRequest) -> Result<Vec<(String, Vec<Value>)>, String> {
    let (host, port) = crate::kong::route_transform::split_host_port(&request.host);
    let path = crate::kong::uri::router_path(request.uri.as_bytes());
    let path = String::from_utf8(path).map_err(|_| {
        format!(
            "the path {:?} is not UTF-8 once Kong decodes it",
            request.uri
        )
    })?;
    let s = |v: &str| vec![Value::String(v.to_string())];
    let mut out = vec![
        ("net.protocol".to_string(), s(&request.scheme)),
        ("http.method".to_string(), s(&request.method)),
        ("http.host".to_string(), s(host)),
        ("http.path".to_string(), s(&path)),
        (
            "net.dst.port".to_string(),
            vec![Value::Int(
                port.unwrap_or(request.listener_port.into()) as i64
            )],
        ),
    ];
    // The SNI a client sends for the host it connects to (fields.lua 112-118 `server_name()`).
    if matches!(request.scheme.as_str(), "https" | "grpcs") {
        out.push(("tls.sni".to_string(), s(host)));
    }
    if let Some(ip) = request.client_ip {
        out.push(("net.src.ip".to_string(), vec![Value::IpAddr(ip)]));
    }
    // `ngx.req.get_headers()`: names are case-insensitive and `-` and `_` alike, so
    // `http.headers.x_tenant` reads `X-Tenant` (fields.lua 262-270).
    for (name, value) in &request.headers {
        let field = format!(
            "http.headers.{}",
            crate::kong::route_transform::replace_dashes_lower(name)
        );
        match out.iter_mut().find(|(f, _)| *f == field) {
            Some((_, values)) => values.push(Value::String(value.clone())),
            None => out.push((field, s(value))),
        }
    }
    // `ngx.req.get_uri_args()`: `?a` alone is `a` = "" (fields.lua 448-452).
    for (name, value) in uri_args(&request.uri) {
        let field = format!("http.queries.{name}");
        let value = Value::String(value.unwrap_or_default());
        match out.iter_mut().find(|(f, _)| *f == field) {
            Some((_, values)) => values.push(value),
            None => out.push((field, vec![value])),
        }
    }
    Ok(out)
}

/// The query's arguments as `ngx.req.get_uri_args()` reads them: in order, names and values
/// percent-decoded with `+` as a space; `None` for an argument without `=` (Lua's `true`).
/// An argument without a name (`?=v`) is skipped, as lua-nginx-module's `parse_args` does.
pub fn uri_args(uri: &str) -> Vec<(String, Option<String>)> {
    let Some((_, query)) = uri.split_once('?') else {
        return Vec::new();
    };
    let decode = |t: &str| percent_decode(&t.replace('+', " "));
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), Some(decode(value))),
            None => (decode(pair), None),
        })
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A context holding `values`, for `schema`.
pub fn context<'a>(schema: &'a Schema, values: &[(String, Vec<Value>)]) -> Context<'a> {
    let mut context = Context::new(schema);
    for (field, vs) in values {
        for v in vs {
            context.add_value(field, v.clone());
        }
    }
    context
}
