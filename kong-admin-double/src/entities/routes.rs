//! `kong/db/schema/entities/routes.lua` and `routes_subschemas.lua` for the
//! default `traditional_compatible` router flavor of Kong 3.x.
//!
//! Regex paths: Kong first dry-runs them with PCRE (`ngx.re.find`, field
//! error) and then compiles the route with atc-router, which uses the Rust
//! `regex` crate (`@entity` error). We compile with the same Rust crate, so
//! acceptance matches Kong; when it fails we report PCRE-style field errors,
//! except for PCRE-only features (look-around, backreferences) which PCRE
//! accepts and only the router rejects.

use crate::net;
use crate::schema::{Check, EntityCheck, Field, Record, Then, is_nonempty, quoted_list};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

const STREAM: &[&str] = &["tcp", "tls", "udp", "tls_passthrough"];

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn starts_slash(s: &str) -> bool {
    s.starts_with('/')
}

fn starts_tilde(s: &str) -> bool {
    s.starts_with("~/")
}

fn validate_router_path(path: &str) -> Result<(), String> {
    match net::validate_path(path) {
        Err(net::PathErr::Percent(m)) => return Err(m),
        Ok(()) | Err(net::PathErr::Rfc3986(_)) => {}
    }
    let Some(re) = path.strip_prefix('~') else {
        let normalized = net::normalize_uri(path);
        if normalized != path {
            return Err(format!(
                "non-normalized path, consider use '{normalized}' instead"
            ));
        }
        return Ok(());
    };
    match regex::Regex::new(re) {
        Ok(_) => Ok(()),
        Err(e) if router_only(&e) => Ok(()),
        Err(e) => Err(format!(
            "invalid regex: '{re}' (PCRE returned: {})",
            regex_reason(&e)
        )),
    }
}

/// PCRE features the Rust regex crate refuses: PCRE accepts the path, the
/// router expression validation does not.
fn router_only(e: &regex::Error) -> bool {
    let s = e.to_string();
    s.contains("look-around") || s.contains("backreferences")
}

fn regex_reason(e: &regex::Error) -> String {
    let s = e.to_string();
    s.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_string())
        .unwrap_or(s)
}

fn router_path() -> Field {
    Field::string()
        .check(Check::MatchAny(
            vec![starts_slash, starts_tilde],
            "should start with: / (fixed path) or ~/ (regex path)",
        ))
        .check(Check::MatchNone(vec![(
            |s| s.contains("//"),
            "must not have empty segments",
        )]))
        .custom(validate_router_path)
}

fn hosts() -> Field {
    Field::array(
        Field::string()
            .check(Check::MatchNone(vec![(
                |s| s.matches('*').count() > 1,
                "invalid wildcard: must have at most one wildcard",
            )]))
            .check(Check::MatchAny(
                vec![|s| s.starts_with("*."), |s| s.ends_with(".*"), |s| {
                    !s.contains('*')
                }],
                "invalid wildcard: must be placed at leftmost or rightmost label",
            ))
            .custom(net::validate_host_with_wildcards),
    )
}

fn validate_ip_or_cidr(s: &str) -> Result<(), String> {
    let bad = || format!("invalid ip or cidr range: '{s}'");
    let (ip, bits) = match s.split_once('/') {
        Some((ip, b)) => (ip, Some(b.parse::<u8>().map_err(|_| bad())?)),
        None => (s, None),
    };
    let max = match ip.parse::<std::net::IpAddr>().map_err(|_| bad())? {
        std::net::IpAddr::V4(_) => 32,
        std::net::IpAddr::V6(_) => 128,
    };
    match bits {
        Some(b) if b > max => Err(bad()),
        _ => Ok(()),
    }
}

fn endpoints() -> Field {
    let mut r = Record::new(vec![
        ("ip", Field::string().custom(validate_ip_or_cidr)),
        ("port", td::port()),
    ]);
    r.checks = vec![EntityCheck::AtLeastOneOf(&["ip", "port"])];
    Field::set(Field::record(r))
}

fn headers() -> Field {
    let key = td::header_name().check(Check::MatchNone(vec![(
        |s| s.eq_ignore_ascii_case("host"),
        "cannot contain 'host' header, which must be specified in the 'hosts' attribute",
    )]));
    Field::map(key, Field::array(Field::string()))
}

fn base() -> Record {
    let mut r = Record::new(vec![
        ("id", td::uuid()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("name", td::utf8_name()),
        (
            "protocols",
            Field::set(td::protocol())
                .check(Check::LenMin(1))
                .required()
                .check(Check::MutuallyExclusiveSubsets(&[
                    &["http", "https"],
                    &["tcp", "tls", "udp"],
                    &["tls_passthrough"],
                    &["grpc", "grpcs"],
                ]))
                .default(json!(["http", "https"])),
        ),
        (
            "methods",
            Field::set(Field::string().check(Check::Match(|s| {
                !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase())
            }))),
        ),
        ("hosts", hosts()),
        ("paths", Field::array(router_path())),
        ("headers", headers()),
        (
            "https_redirect_status_code",
            Field::integer()
                .check(Check::OneOf(vec![
                    json!(426),
                    json!(301),
                    json!(302),
                    json!(307),
                    json!(308),
                ]))
                .default(json!(426))
                .required(),
        ),
        ("regex_priority", Field::integer().default(json!(0))),
        (
            "strip_path",
            Field::boolean().required().default(json!(true)),
        ),
        (
            "path_handling",
            Field::string().default(json!("v0")).one_of(&["v0", "v1"]),
        ),
        (
            "preserve_host",
            Field::boolean().required().default(json!(false)),
        ),
        (
            "request_buffering",
            Field::boolean().required().default(json!(true)),
        ),
        (
            "response_buffering",
            Field::boolean().required().default(json!(true)),
        ),
        // Kong 3.10 routes.lua:37-41, 183-185: `wildcard_host` elements unless the router
        // flavor is `traditional`; this double runs `traditional_compatible`.
        ("snis", Field::set(td::wildcard_host())),
        ("sources", endpoints()),
        ("destinations", endpoints()),
        ("tags", td::tags()),
        ("service", td::foreign()),
    ]);
    r.checks = vec![
        EntityCheck::Conditional {
            if_field: "protocols",
            if_match: |v| {
                strs(v)
                    .iter()
                    .all(|p| !["grpcs", "https", "tls", "tls_passthrough"].contains(p))
            },
            then_field: "snis",
            then: Then::Checks(vec![Check::LenEq(0)]),
            then_err: Some(
                "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
            ),
        },
        EntityCheck::Custom {
            fields: &["paths"],
            f: router_validation,
        },
    ];
    r
}

/// atc-router validation of `~` paths (traditional_compatible flavor).
fn router_validation(v: &Map<String, Value>) -> Result<(), String> {
    for p in strs(v.get("paths").unwrap_or(&Value::Null)) {
        if let Some(re) = p.strip_prefix('~')
            && let Err(e) = regex::Regex::new(re)
        {
            return Err(format!(
                "Router Expression failed validation: {}",
                regex_reason(&e)
            ));
        }
    }
    Ok(())
}

fn must_set(v: &Map<String, Value>, names: &[&str], err: &str) -> Result<(), String> {
    if names.iter().any(|n| is_nonempty(v.get(*n))) {
        return Ok(());
    }
    Err(err.replace("%s", &quoted_list(names)))
}

fn protos(v: &Map<String, Value>) -> Vec<&str> {
    strs(v.get("protocols").unwrap_or(&Value::Null))
}

fn http_check(v: &Map<String, Value>) -> Result<(), String> {
    let p = protos(v);
    if p.contains(&"https") {
        must_set(
            v,
            &["methods", "hosts", "headers", "paths", "snis"],
            "must set one of %s when 'protocols' is 'https'",
        )
    } else if p.contains(&"http") {
        must_set(
            v,
            &["methods", "hosts", "headers", "paths"],
            "must set one of %s when 'protocols' is 'http'",
        )
    } else {
        Ok(())
    }
}

fn grpc_check(v: &Map<String, Value>) -> Result<(), String> {
    let p = protos(v);
    if p.contains(&"grpcs") {
        must_set(
            v,
            &["methods", "hosts", "headers", "paths", "snis"],
            "must set one of %s when 'protocols' is 'grpcs'",
        )
    } else if p.contains(&"grpc") {
        must_set(
            v,
            &["methods", "hosts", "headers", "paths"],
            "must set one of %s when 'protocols' is 'grpc'",
        )
    } else {
        Ok(())
    }
}

fn stream_check(v: &Map<String, Value>) -> Result<(), String> {
    let p = protos(v);
    if !p.is_empty() && p.iter().all(|x| ["tcp", "tls", "udp"].contains(x)) {
        return must_set(
            v,
            &["sources", "destinations", "snis"],
            "must set one of %s when 'protocols' is 'tcp', 'tls' or 'udp'",
        );
    }
    if !p.is_empty() && p.iter().all(|x| *x == "tls_passthrough") && !is_nonempty(v.get("snis")) {
        return Err("must set snis when 'protocols' is 'tls_passthrough'".into());
    }
    Ok(())
}

fn null_with(err: &'static str) -> Field {
    Field::any().check(Check::Eq(Value::Null)).err(err)
}

/// The subschema record for a route, chosen like Kong: the first protocol
/// that names a subschema. `Err` carries Kong's "unknown type" message.
pub(crate) fn record_for(protocols: Option<&Value>) -> Result<Record, String> {
    let list: Vec<Value> = match protocols {
        None | Some(Value::Null) => vec![json!("http")],
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => vec![json!(s)],
        Some(_) => return Ok(base()),
    };
    let kind = list
        .iter()
        .filter_map(Value::as_str)
        .find(|p| td::PROTOCOLS.contains(p));
    let Some(kind) = kind else {
        return match list.first() {
            Some(first) => Err(format!("unknown type: {}", crate::schema::lua_str(first))),
            None => Ok(base()),
        };
    };
    let mut r = base();
    let (extra, check): (Vec<(&'static str, Field)>, EntityCheck) = match kind {
        "http" | "https" => (
            vec![
                (
                    "sources",
                    null_with("cannot set 'sources' when 'protocols' is 'http' or 'https'"),
                ),
                (
                    "destinations",
                    null_with("cannot set 'destinations' when 'protocols' is 'http' or 'https'"),
                ),
            ],
            EntityCheck::Custom {
                fields: &["protocols", "methods", "hosts", "headers", "paths", "snis"],
                f: http_check,
            },
        ),
        "grpc" | "grpcs" => (
            vec![
                (
                    "strip_path",
                    Field::boolean()
                        .required()
                        .default(json!(false))
                        .check(Check::Ne(json!(true)))
                        .err("cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"),
                ),
                (
                    "sources",
                    null_with("cannot set 'sources' when 'protocols' is 'grpc' or 'grpcs'"),
                ),
                (
                    "destinations",
                    null_with("cannot set 'destinations' when 'protocols' is 'grpc' or 'grpcs'"),
                ),
            ],
            EntityCheck::Custom {
                fields: &["protocols", "methods", "hosts", "headers", "paths", "snis"],
                f: grpc_check,
            },
        ),
        _ if STREAM.contains(&kind) => (
            vec![
                (
                    "methods",
                    null_with(
                        "cannot set 'methods' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'",
                    ),
                ),
                (
                    "hosts",
                    null_with(
                        "cannot set 'hosts' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'",
                    ),
                ),
                (
                    "paths",
                    null_with(
                        "cannot set 'paths' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'",
                    ),
                ),
                (
                    "headers",
                    null_with(
                        "cannot set 'headers' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'",
                    ),
                ),
            ],
            EntityCheck::Custom {
                fields: &["protocols", "sources", "destinations", "snis"],
                f: stream_check,
            },
        ),
        _ => (
            Vec::new(),
            EntityCheck::Custom {
                fields: &[],
                f: |_| Ok(()),
            },
        ),
    };
    for (name, f) in extra {
        r = r.with_field(name, f);
    }
    r.checks.push(check);
    Ok(r)
}

/// Kong's on-the-fly migration for `_format_version` < 3.0: paths that look
/// like regexes get the `~` prefix 3.0 requires.
pub(crate) fn migrate_legacy_path(p: &str) -> String {
    let plain = p
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_~/%".contains(c));
    if p.starts_with('~') || plain {
        p.to_string()
    } else {
        format!("~{p}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_paths() {
        assert!(validate_router_path("/api").is_ok());
        assert!(validate_router_path("~/api/(?<id>\\d+)$").is_ok());
        assert_eq!(
            validate_router_path("/a/./b").unwrap_err(),
            "non-normalized path, consider use '/a/b' instead"
        );
        let e = validate_router_path("~/a(").unwrap_err();
        assert!(
            e.starts_with("invalid regex: '/a(' (PCRE returned: "),
            "{e}"
        );
        // look-ahead compiles in PCRE, only the router rejects it
        assert!(validate_router_path("~/a(?=b)").is_ok());
        assert!(router_validation(json!({"paths": ["~/a(?=b)"]}).as_object().unwrap()).is_err());
    }

    #[test]
    fn legacy_paths() {
        assert_eq!(migrate_legacy_path("/api/v1"), "/api/v1");
        assert_eq!(migrate_legacy_path("/api/\\d+"), "~/api/\\d+");
    }

    #[test]
    fn unknown_protocol() {
        assert_eq!(
            record_for(Some(&json!(["nope"]))).err().unwrap(),
            "unknown type: nope"
        );
    }
}
