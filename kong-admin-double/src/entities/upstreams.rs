//! `kong/db/schema/entities/upstreams.lua` (Kong 3.10: no sticky-sessions,
//! which arrived in 3.11) plus the algorithm Kong actually runs.

use crate::net::{self, AddrType};
use crate::schema::{Check, EntityCheck, Field, Record, Then};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

const HASH_ON: &[&str] = &[
    "none",
    "consumer",
    "ip",
    "header",
    "cookie",
    "path",
    "query_arg",
    "uri_capture",
];

fn name_label(name: &str) -> String {
    format!("Invalid name ('{name}')")
}

fn validate_name(name: &str) -> Result<(), String> {
    match net::normalize_ip(name) {
        Err(_) => Err(format!("{}; must be a valid hostname", name_label(name))),
        Ok(a) if a.kind != AddrType::Name => {
            Err(format!("{}; no ip addresses allowed", name_label(name)))
        }
        Ok(a) if a.port.is_some() => Err(format!("{}; no port allowed", name_label(name))),
        Ok(_) => Ok(()),
    }
}

fn hash_on() -> Field {
    Field::string().default(json!("none")).one_of(HASH_ON)
}

fn statuses(default: &[i64]) -> Field {
    Field::array(Field::integer().between(100.0, 999.0)).default(json!(default))
}

fn seconds(d: f64) -> Field {
    Field::number().between(0.0, 65535.0).default(json!(d))
}

fn byte(d: i64) -> Field {
    Field::integer().between(0.0, 255.0).default(json!(d))
}

fn check_type() -> Field {
    Field::string()
        .one_of(&["tcp", "http", "https", "grpc", "grpcs"])
        .default(json!("http"))
}

fn healthchecks() -> Field {
    let active = Record::new(vec![
        ("type", check_type()),
        ("timeout", seconds(1.0)),
        (
            "concurrency",
            Field::integer()
                .between(1.0, 2_147_483_648.0)
                .default(json!(10)),
        ),
        ("http_path", td::path().default(json!("/"))),
        ("https_sni", td::sni()),
        (
            "https_verify_certificate",
            Field::boolean().default(json!(true)),
        ),
        (
            "headers",
            Field::map(td::header_name(), Field::array(Field::string())),
        ),
        (
            "healthy",
            Field::record(Record::new(vec![
                ("interval", seconds(0.0)),
                ("http_statuses", statuses(&[200, 302])),
                ("successes", byte(0)),
            ])),
        ),
        (
            "unhealthy",
            Field::record(Record::new(vec![
                ("interval", seconds(0.0)),
                (
                    "http_statuses",
                    statuses(&[429, 404, 500, 501, 502, 503, 504, 505]),
                ),
                ("tcp_failures", byte(0)),
                ("timeouts", byte(0)),
                ("http_failures", byte(0)),
            ])),
        ),
    ]);
    let passive = Record::new(vec![
        ("type", check_type()),
        (
            "healthy",
            Field::record(Record::new(vec![
                (
                    "http_statuses",
                    statuses(&[
                        200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
                        305, 306, 307, 308,
                    ]),
                ),
                ("successes", byte(0)),
            ])),
        ),
        (
            "unhealthy",
            Field::record(Record::new(vec![
                ("http_statuses", statuses(&[429, 500, 503])),
                ("tcp_failures", byte(0)),
                ("timeouts", byte(0)),
                ("http_failures", byte(0)),
            ])),
        ),
    ]);
    Field::record(Record::new(vec![
        ("active", Field::record(active)),
        ("passive", Field::record(passive)),
        (
            "threshold",
            Field::number().default(json!(0)).between(0.0, 100.0),
        ),
    ]))
}

fn is(s: &'static str) -> fn(&Value) -> bool {
    // entity checks match exact values (`^header$`); closures can't be fn
    // pointers with captures, so dispatch on the literal
    match s {
        "header" => |v| v == "header",
        "cookie" => |v| v == "cookie",
        "query_arg" => |v| v == "query_arg",
        "uri_capture" => |v| v == "uri_capture",
        "none" => |v| v == "none",
        "consumer" => |v| v == "consumer",
        "ip" => |v| v == "ip",
        _ => |v| v == "path",
    }
}

fn required(if_field: &'static str, val: &'static str, then_field: &'static str) -> EntityCheck {
    EntityCheck::Conditional {
        if_field,
        if_match: is(val),
        then_field,
        then: Then::Required,
        then_err: None,
    }
}

fn fallback_one_of(val: &'static str, allowed: &[&str]) -> EntityCheck {
    EntityCheck::Conditional {
        if_field: "hash_on",
        if_match: is(val),
        then_field: "hash_fallback",
        then: Then::Checks(vec![Check::OneOf(
            allowed.iter().map(|s| Value::from(*s)).collect(),
        )]),
        then_err: None,
    }
}

pub(crate) fn record() -> Record {
    let param = || Field::string().check(Check::LenMin(1));
    let mut r = Record::new(vec![
        ("id", td::uuid()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("name", Field::string().required().custom(validate_name)),
        (
            "algorithm",
            Field::string().default(json!("round-robin")).one_of(&[
                "consistent-hashing",
                "least-connections",
                "round-robin",
                "latency",
            ]),
        ),
        ("hash_on", hash_on()),
        ("hash_fallback", hash_on()),
        ("hash_on_header", td::header_name()),
        ("hash_fallback_header", td::header_name()),
        (
            "hash_on_cookie",
            Field::string().custom(net::validate_cookie_name),
        ),
        ("hash_on_cookie_path", td::path().default(json!("/"))),
        ("hash_on_query_arg", param()),
        ("hash_fallback_query_arg", param()),
        ("hash_on_uri_capture", param()),
        ("hash_fallback_uri_capture", param()),
        (
            "slots",
            Field::integer()
                .default(json!(10000))
                .between(10.0, 65536.0),
        ),
        ("healthchecks", healthchecks()),
        ("tags", td::tags()),
        ("host_header", td::host_with_optional_port()),
        ("client_certificate", td::foreign()),
        ("use_srv_name", Field::boolean().default(json!(false))),
    ]);
    r.checks = vec![
        required("hash_on", "header", "hash_on_header"),
        required("hash_fallback", "header", "hash_fallback_header"),
        required("hash_on", "cookie", "hash_on_cookie"),
        required("hash_fallback", "cookie", "hash_on_cookie"),
        required("hash_on", "query_arg", "hash_on_query_arg"),
        required("hash_fallback", "query_arg", "hash_fallback_query_arg"),
        EntityCheck::Distinct(&["hash_on_query_arg", "hash_fallback_query_arg"]),
        required("hash_on", "uri_capture", "hash_on_uri_capture"),
        required("hash_fallback", "uri_capture", "hash_fallback_uri_capture"),
        EntityCheck::Distinct(&["hash_on_uri_capture", "hash_fallback_uri_capture"]),
        fallback_one_of("none", &["none"]),
        fallback_one_of("cookie", &["none"]),
        fallback_one_of(
            "consumer",
            &[
                "none",
                "ip",
                "header",
                "cookie",
                "path",
                "query_arg",
                "uri_capture",
            ],
        ),
        fallback_one_of(
            "ip",
            &[
                "none",
                "consumer",
                "header",
                "cookie",
                "path",
                "query_arg",
                "uri_capture",
            ],
        ),
        fallback_one_of(
            "path",
            &[
                "none",
                "consumer",
                "ip",
                "header",
                "cookie",
                "query_arg",
                "uri_capture",
            ],
        ),
        EntityCheck::Distinct(&["hash_on_header", "hash_fallback_header"]),
    ];
    r
}

/// The balancer Kong builds: `hash_on: none` runs round-robin even when
/// `consistent-hashing` was asked for; any other `hash_on` runs consistent
/// hashing, except for least-connections and latency which ignore it.
/// Returns a warning when the requested algorithm is not the one run.
pub(crate) fn effective_algorithm(u: &mut Map<String, Value>) -> Option<String> {
    let requested = u
        .get("algorithm")
        .and_then(Value::as_str)
        .unwrap_or("round-robin")
        .to_string();
    let hash_on = u
        .get("hash_on")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_string();
    let effective = match requested.as_str() {
        "least-connections" | "latency" => requested.clone(),
        _ if hash_on == "none" => "round-robin".to_string(),
        _ => "consistent-hashing".to_string(),
    };
    if effective == requested {
        return None;
    }
    let name = u
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    u.insert("algorithm".into(), json!(effective));
    Some(format!(
        "upstream '{name}': algorithm '{requested}' with hash_on '{hash_on}' runs as '{effective}'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            validate_name("x y").unwrap_err(),
            "Invalid name ('x y'); must be a valid hostname"
        );
        assert_eq!(
            validate_name("10.0.0.1").unwrap_err(),
            "Invalid name ('10.0.0.1'); no ip addresses allowed"
        );
        assert_eq!(
            validate_name("a.b:80").unwrap_err(),
            "Invalid name ('a.b:80'); no port allowed"
        );
    }

    #[test]
    fn algorithm_rewrites() {
        let mut u = json!({"name": "u", "algorithm": "consistent-hashing", "hash_on": "none"});
        let w = effective_algorithm(u.as_object_mut().unwrap());
        assert_eq!(u["algorithm"], "round-robin");
        assert!(w.is_some());
        let mut u = json!({"name": "u", "algorithm": "round-robin", "hash_on": "header"});
        effective_algorithm(u.as_object_mut().unwrap());
        assert_eq!(u["algorithm"], "consistent-hashing");
        let mut u = json!({"name": "u", "algorithm": "latency", "hash_on": "ip"});
        assert!(effective_algorithm(u.as_object_mut().unwrap()).is_none());
    }
}
