//! `kong/db/schema/entities/services.lua` (Kong 3.10, master 22246ef28c).

use crate::schema::{Check, EntityCheck, Field, Record, Shorthand, Then};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

/// services.lua:11-14 (1 .. 2^31-2), default 60000 at lines 40-42.
fn nonzero_timeout() -> Field {
    Field::integer()
        .between(1.0, 2_147_483_646.0)
        .default(json!(60000))
}

fn proto_in(v: &Value, set: &[&str]) -> bool {
    v.as_str().is_some_and(|s| set.contains(&s))
}

/// `conditional { if_field = "protocol", ..., then_match = { eq = null } }`,
/// services.lua:52-73.
fn must_be_null(if_match: fn(&Value) -> bool, then_field: &'static str) -> EntityCheck {
    EntityCheck::Conditional {
        if_field: "protocol",
        if_match,
        then_field,
        then: Then::Checks(vec![Check::Eq(Value::Null)]),
        then_err: None,
    }
}

/// `not_one_of = {"https", "tls"}`, services.lua:58, 62, 66, 70.
fn not_tls(v: &Value) -> bool {
    !proto_in(v, &["https", "tls"])
}

/// The `url` shorthand, following socket.url's split of scheme/host/port/path.
/// Kong: services.lua:75-107 over luasocket 3.0-rc1 (kong-latest.rockspec:17)
/// `url.parse`, src/url.lua:126-175. This is an approximation: it splits on
/// "://" and stops the authority at `?`/`#`, takes the last `@`, only digit
/// ports, keeps IPv6 brackets and `;params`, where socket.url does not; see
/// the README's divergence list.
fn expand_url(v: &Value) -> Map<String, Value> {
    let url = v.as_str().unwrap_or_default();
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s.to_string()), r),
        None => (None, url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let after = &rest[end..];
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    let path = &after[..path_end];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && p.chars().all(|c| c.is_ascii_digit()) => {
            (h.to_string(), Some(p.to_string()))
        }
        _ => (hostport.to_string(), None),
    };
    let port_num = port.as_deref().and_then(|p| p.parse::<i64>().ok());
    // services.lua:84-93: port 80 -> http, 443 -> https, else scheme or "http"
    let inferred = match port_num {
        Some(80) => Some("http"),
        Some(443) => Some("https"),
        _ => None,
    };
    let protocol = scheme
        .clone()
        .or(inferred.map(str::to_string))
        .unwrap_or_else(|| "http".into());
    // services.lua:98-102
    let port_v = match (port_num, port) {
        (Some(n), _) => json!(n),
        (None, Some(p)) if !p.is_empty() => json!(p),
        _ if protocol == "https" => json!(443),
        _ => json!(80),
    };
    let mut m = Map::new();
    m.insert("protocol".into(), json!(protocol));
    m.insert(
        "host".into(),
        if host.is_empty() {
            Value::Null
        } else {
            json!(host)
        },
    );
    m.insert("port".into(), port_v);
    m.insert(
        "path".into(),
        if path.is_empty() {
            Value::Null
        } else {
            json!(path)
        },
    );
    m
}

pub(crate) fn record() -> Record {
    // fields: services.lua:28-50
    let mut r = Record::new(vec![
        ("id", td::uuid()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("name", td::utf8_name()),
        // services.lua:33-34
        (
            "retries",
            Field::integer().default(json!(5)).between(0.0, 32767.0),
        ),
        ("protocol", td::protocol().required().default(json!("http"))),
        ("host", td::host().required()),
        ("port", td::port().required().default(json!(80))),
        ("path", td::path()),
        ("connect_timeout", nonzero_timeout()),
        ("write_timeout", nonzero_timeout()),
        ("read_timeout", nonzero_timeout()),
        ("tags", td::tags()),
        ("client_certificate", td::foreign()),
        ("tls_verify", Field::boolean()),
        // services.lua:46-47
        ("tls_verify_depth", Field::integer().between(0.0, 64.0)),
        ("ca_certificates", Field::array(td::uuid())),
        ("enabled", Field::boolean().required().default(json!(true))),
    ]);
    r.checks = vec![
        // services.lua:53-56
        must_be_null(
            |v| proto_in(v, &["tcp", "tls", "udp", "grpc", "grpcs"]),
            "path",
        ),
        // services.lua:57-72
        must_be_null(not_tls, "client_certificate"),
        must_be_null(not_tls, "tls_verify"),
        must_be_null(not_tls, "tls_verify_depth"),
        must_be_null(not_tls, "ca_certificates"),
    ];
    r.shorthands = vec![Shorthand {
        name: "url",
        field: Field::string(),
        expand: expand_url,
        deprecated: false,
    }];
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_shorthand() {
        let m = expand_url(&json!("https://example.com:8443/api"));
        assert_eq!(
            Value::Object(m),
            json!({"protocol": "https", "host": "example.com", "port": 8443, "path": "/api"})
        );
        let m = expand_url(&json!("http://svc.ns"));
        assert_eq!(
            Value::Object(m),
            json!({"protocol": "http", "host": "svc.ns", "port": 80, "path": null})
        );
    }
}
