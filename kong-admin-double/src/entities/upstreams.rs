//! `kong/db/schema/entities/upstreams.lua` (Kong 3.10: no sticky-sessions,
//! which arrived in 3.11) plus the algorithm Kong actually runs.
//! Line references are to Kong 3.10 (master 22246ef28c) upstreams.lua unless noted.

use crate::net::{self, AddrType};
use crate::schema::{Check, EntityCheck, Field, Record, Shorthand, Then};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

// upstreams.lua:36
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

/// `get_name_for_error`: upstreams.lua:8-15 (its non-UTF-8 branch, 10-12,
/// cannot occur for a JSON string).
fn name_label(name: &str) -> String {
    format!("Invalid name ('{name}')")
}

/// `validate_name`: upstreams.lua:18-30 (messages 21, 24, 27).
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

/// `hash_on`: upstreams.lua:33-37.
fn hash_on() -> Field {
    Field::string().default(json!("none")).one_of(HASH_ON)
}

/// `http_statuses`: upstreams.lua:40-43.
fn statuses(default: &[i64]) -> Field {
    Field::array(Field::integer().between(100.0, 999.0)).default(json!(default))
}

/// `seconds`: upstreams.lua:46-49.
fn seconds(d: f64) -> Field {
    Field::number().between(0.0, 65535.0).default(json!(d))
}

/// `one_byte_integer`: upstreams.lua:58-61.
fn byte(d: i64) -> Field {
    Field::integer().between(0.0, 255.0).default(json!(d))
}

/// `check_type`: upstreams.lua:64-68.
fn check_type() -> Field {
    Field::string()
        .one_of(&["tcp", "http", "https", "grpc", "grpcs"])
        .default(json!("http"))
}

/// `healthchecks`: upstreams.lua:200-203, built by `gen_fields` (148-168) from
/// the defaults at 91-128 and the types at 131-145.
fn healthchecks() -> Field {
    // upstreams.lua:92-113
    let active = Record::new(vec![
        ("type", check_type()),    // upstreams.lua:93, 132
        ("timeout", seconds(1.0)), // upstreams.lua:94, 133
        // upstreams.lua:95, 134 (`positive_int`, 52-55)
        (
            "concurrency",
            Field::integer()
                .between(1.0, 2_147_483_648.0)
                .default(json!(10)),
        ),
        ("http_path", td::path().default(json!("/"))), // upstreams.lua:96, 140
        ("https_sni", td::sni()),                      // upstreams.lua:97, 142 (no default)
        // upstreams.lua:98, 143: Kong's `check_verify_certificate` (71-75) is also
        // `required = true`, so an explicit null fails there; not here.
        (
            "https_verify_certificate",
            Field::boolean().default(json!(true)),
        ),
        // upstreams.lua:99, 144 (`typedefs.headers`, typedefs.lua:619-629)
        (
            "headers",
            Field::map(td::header_name(), Field::array(Field::string())),
        ),
        // upstreams.lua:100-104
        (
            "healthy",
            Field::entity_record(Record::new(vec![
                ("interval", seconds(0.0)),
                ("http_statuses", statuses(&[200, 302])),
                ("successes", byte(0)),
            ])),
        ),
        // upstreams.lua:105-112
        (
            "unhealthy",
            Field::entity_record(Record::new(vec![
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
    // upstreams.lua:114-127
    let passive = Record::new(vec![
        ("type", check_type()),
        // upstreams.lua:116-120
        (
            "healthy",
            Field::entity_record(Record::new(vec![
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
        // upstreams.lua:121-126
        (
            "unhealthy",
            Field::entity_record(Record::new(vec![
                ("http_statuses", statuses(&[429, 500, 503])),
                ("tcp_failures", byte(0)),
                ("timeouts", byte(0)),
                ("http_failures", byte(0)),
            ])),
        ),
    ]);
    Field::entity_record(Record::new(vec![
        ("active", Field::entity_record(active)),
        ("passive", Field::entity_record(passive)),
        // upstreams.lua:172 (`health_threshold`, 77-81)
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

/// `conditional` with `then_match = { required = true }` (init.lua:746-749).
fn required(if_field: &'static str, val: &'static str, then_field: &'static str) -> EntityCheck {
    EntityCheck::Conditional {
        if_field,
        if_match: is(val),
        then_field,
        then: Then::Required,
        then_err: None,
    }
}

/// `conditional` on `hash_on` with `then_match = { one_of = ... }` on
/// `hash_fallback` (init.lua:751-766).
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

/// The `upstreams` entity: upstreams.lua:175-347 (fields 180-208).
pub(crate) fn record() -> Record {
    // `simple_param`: upstreams.lua:83-86
    let param = || Field::string().check(Check::LenMin(1));
    let mut r = Record::new(vec![
        ("id", td::uuid()),                                         // upstreams.lua:181
        ("created_at", td::timestamp()),                            // upstreams.lua:182
        ("updated_at", td::timestamp()),                            // upstreams.lua:184
        ("name", Field::string().required().custom(validate_name)), // upstreams.lua:183
        // upstreams.lua:185-188
        (
            "algorithm",
            Field::string().default(json!("round-robin")).one_of(&[
                "consistent-hashing",
                "least-connections",
                "round-robin",
                "latency",
            ]),
        ),
        ("hash_on", hash_on()),                      // upstreams.lua:189
        ("hash_fallback", hash_on()),                // upstreams.lua:190
        ("hash_on_header", td::header_name()),       // upstreams.lua:191
        ("hash_fallback_header", td::header_name()), // upstreams.lua:192
        // upstreams.lua:193 (`typedefs.cookie_name`, typedefs.lua:338-342)
        (
            "hash_on_cookie",
            Field::string().custom(net::validate_cookie_name),
        ),
        ("hash_on_cookie_path", td::path().default(json!("/"))), // upstreams.lua:194
        ("hash_on_query_arg", param()),                          // upstreams.lua:195
        ("hash_fallback_query_arg", param()),                    // upstreams.lua:196
        ("hash_on_uri_capture", param()),                        // upstreams.lua:197
        ("hash_fallback_uri_capture", param()),                  // upstreams.lua:198
        // upstreams.lua:199 (2^16)
        (
            "slots",
            Field::integer()
                .default(json!(10000))
                .between(10.0, 65536.0),
        ),
        ("healthchecks", healthchecks()), // upstreams.lua:200-203
        ("tags", td::tags()),             // upstreams.lua:204
        ("host_header", td::host_with_optional_port()), // upstreams.lua:205
        ("client_certificate", td::foreign()), // upstreams.lua:206
        ("use_srv_name", Field::boolean().default(json!(false))), // upstreams.lua:207
    ]);
    // upstreams.lua:209-298. Kong's order differs (none/cookie/consumer/ip/
    // path fallbacks 231-266 and the header `distinct` 270 come before the
    // query_arg and uri_capture checks 273-296), which orders `@entity`.
    r.checks = vec![
        required("hash_on", "header", "hash_on_header"), // upstreams.lua:211-214
        required("hash_fallback", "header", "hash_fallback_header"), // upstreams.lua:215-218
        required("hash_on", "cookie", "hash_on_cookie"), // upstreams.lua:221-224
        required("hash_fallback", "cookie", "hash_on_cookie"), // upstreams.lua:225-228
        required("hash_on", "query_arg", "hash_on_query_arg"), // upstreams.lua:273-276
        required("hash_fallback", "query_arg", "hash_fallback_query_arg"), // upstreams.lua:277-280
        EntityCheck::Distinct(&["hash_on_query_arg", "hash_fallback_query_arg"]), // upstreams.lua:283
        required("hash_on", "uri_capture", "hash_on_uri_capture"), // upstreams.lua:286-289
        required("hash_fallback", "uri_capture", "hash_fallback_uri_capture"), // upstreams.lua:290-293
        EntityCheck::Distinct(&["hash_on_uri_capture", "hash_fallback_uri_capture"]), // upstreams.lua:296
        fallback_one_of("none", &["none"]), // upstreams.lua:231-234
        fallback_one_of("cookie", &["none"]), // upstreams.lua:237-240
        // upstreams.lua:243-250
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
        // upstreams.lua:251-258
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
        // upstreams.lua:259-266
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
        EntityCheck::Distinct(&["hash_on_header", "hash_fallback_header"]), // upstreams.lua:270
    ];
    // Kong 3.10 upstreams.lua:300-346, applied in this order (init.lua:1815-1860).
    r.shorthands = vec![
        Shorthand {
            name: "algorithm",
            field: Field::string(),
            expand: algorithm_shorthand,
            deprecated: false,
        },
        Shorthand {
            name: "hash_on",
            field: Field::string(),
            expand: hash_on_shorthand,
            deprecated: false,
        },
    ];
    r
}

/// Kong 3.10 upstreams.lua:304-323, the `algorithm` shorthand: least-connections and
/// latency clear `hash_on` (which the `hash_on` shorthand then sets to "none").
fn algorithm_shorthand(value: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("algorithm".into(), value.clone());
    if matches!(value.as_str(), Some("least-connections" | "latency")) {
        out.insert("hash_on".into(), Value::Null);
    }
    out
}

/// Kong 3.10 upstreams.lua:326-345, the `hash_on` shorthand: a `hash_on` in the input decides
/// the algorithm ("none" → round-robin, anything else → consistent-hashing). It runs after
/// the `algorithm` shorthand and only when `hash_on` is present (init.lua:1819-1822), so
/// `algorithm: consistent-hashing` without `hash_on` stays consistent-hashing. Kong's null
/// branch (329-332, `hash_on = "none"`) is never reached here: autofields.rs skips null
/// values and the field default (37) gives the same "none".
fn hash_on_shorthand(value: &Value) -> Map<String, Value> {
    let algorithm = match value.as_str() {
        Some("none") => "round-robin",
        _ => "consistent-hashing",
    };
    let mut out = Map::new();
    out.insert("hash_on".into(), value.clone());
    out.insert("algorithm".into(), json!(algorithm));
    out
}

/// A warning when the stored upstream hashes nothing: consistent-hashing with `hash_on`
/// "none". Kong then hashes the empty string for every request (Kong 3.10
/// kong/runloop/balancer/init.lua:109-111 returns no value, line 332 uses `""`), so one
/// target takes all traffic. The double's own report (no Kong source); Kong says nothing.
pub(crate) fn hashes_nothing(u: &Map<String, Value>) -> Option<String> {
    let algorithm = u.get("algorithm").and_then(Value::as_str);
    let hash_on = u.get("hash_on").and_then(Value::as_str).unwrap_or("none");
    if algorithm != Some("consistent-hashing") || hash_on != "none" {
        return None;
    }
    let name = u.get("name").and_then(Value::as_str).unwrap_or_default();
    Some(format!(
        "upstream '{name}': consistent-hashing with hash_on 'none' hashes every request on '': one target takes all traffic"
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
    fn shorthands_as_the_lua_returns_them() {
        assert_eq!(
            Value::Object(algorithm_shorthand(&json!("latency"))),
            json!({"algorithm": "latency", "hash_on": null})
        );
        assert_eq!(
            Value::Object(algorithm_shorthand(&json!("consistent-hashing"))),
            json!({"algorithm": "consistent-hashing"})
        );
        assert_eq!(
            Value::Object(hash_on_shorthand(&json!("none"))),
            json!({"hash_on": "none", "algorithm": "round-robin"})
        );
        assert_eq!(
            Value::Object(hash_on_shorthand(&json!("ip"))),
            json!({"hash_on": "ip", "algorithm": "consistent-hashing"})
        );
    }
}
