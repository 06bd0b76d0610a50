//! `kong/db/schema/entities/routes.lua` and `routes_subschemas.lua` for the
//! default `traditional_compatible` router flavor of Kong 3.x.
//! Line references are to Kong 3.10 (master 22246ef28c) unless noted.
//!
//! Regex paths: Kong first dry-runs them with PCRE (`ngx.re.find`, field
//! error) and then compiles the route with atc-router, which uses the Rust
//! `regex` crate (`@entity` error). We compile with the same Rust crate, so
//! acceptance matches Kong; when it fails we report PCRE-style field errors,
//! except for PCRE-only features (look-around, backreferences) which PCRE
//! accepts and only the router rejects.

use super::route_expressions::{self, RouterFlavor};
use super::route_subschemas::{
    grpc_check, grpc_check_x, http_check, http_check_x, stream_check, stream_check_x,
};
use crate::net;
use crate::schema::{Check, EntityCheck, Field, Record, Then, is_nonempty, quoted_list};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

// routes_subschemas.lua:106-109 (protocols mapped to `stream_subschema`)
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

/// `validate_path_with_regexes`: typedefs.lua:500-530.
fn validate_router_path(path: &str) -> Result<(), String> {
    // typedefs.lua:502-506: only the "percent" error of `validate_path`
    // (typedefs.lua:82-90) counts; "rfc3986" (72-80) is ignored
    match net::validate_path(path) {
        Err(net::PathErr::Percent(m)) => return Err(m),
        Ok(()) | Err(net::PathErr::Rfc3986(_)) => {}
    }
    let Some(re) = path.strip_prefix('~') else {
        // typedefs.lua:508-516 (message 512)
        let normalized = net::normalize_uri(path);
        if normalized != path {
            return Err(format!(
                "non-normalized path, consider use '{normalized}' instead"
            ));
        }
        return Ok(());
    };
    // typedefs.lua:518-527: Kong dry-runs PCRE (`ngx.re.find`, 522), message
    // 524-526. Here the Rust regex crate stands in for PCRE (see module doc).
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
/// router expression validation does not (routes.lua:105-108).
fn router_only(e: &regex::Error) -> bool {
    let s = e.to_string();
    s.contains("look-around") || s.contains("backreferences")
}

/// The regex crate's last `error:` line. No Kong counterpart: Kong prints
/// PCRE's text (typedefs.lua:526) or atc-router's full pest error (routes.lua:107).
fn regex_reason(e: &regex::Error) -> String {
    let s = e.to_string();
    s.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_string())
        .unwrap_or(s)
}

/// `typedefs.router_path`: typedefs.lua:596-609.
fn router_path() -> Field {
    Field::string()
        // typedefs.lua:598-601
        .check(Check::MatchAny(
            vec![starts_slash, starts_tilde],
            "should start with: / (fixed path) or ~/ (regex path)",
        ))
        // typedefs.lua:602-606
        .check(Check::MatchNone(vec![(
            |s| s.contains("//"),
            "must not have empty segments",
        )]))
        // typedefs.lua:607
        .custom(validate_router_path)
}

/// `typedefs.hosts`: typedefs.lua:575-592.
fn hosts() -> Field {
    Field::array(
        Field::string()
            // typedefs.lua:579-584 (`match_all` "^[^*]*%*?[^*]*$", negated)
            .check(Check::MatchNone(vec![(
                |s| s.matches('*').count() > 1,
                "invalid wildcard: must have at most one wildcard",
            )]))
            // typedefs.lua:585-588
            .check(Check::MatchAny(
                vec![|s| s.starts_with("*."), |s| s.ends_with(".*"), |s| {
                    !s.contains('*')
                }],
                "invalid wildcard: must be placed at leftmost or rightmost label",
            ))
            // typedefs.lua:589, 495-498
            .custom(net::validate_host_with_wildcards),
    )
}

/// `validate_ip_or_cidr`: typedefs.lua:53-59 (message 58), via
/// kong/tools/ip.lua:108-110 (`is_valid_ip` or `is_valid_cidr`, 78-95). Kong
/// takes the prefix only as the exact strings "0".."32" / "0".."128"
/// (ip.lua:20-29, 32-39); `parse::<u8>` also takes "08" and "+8".
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

/// `typedefs.sources` / `typedefs.destinations`: typedefs.lua:533-546, 550-563.
fn endpoints() -> Field {
    let mut r = Record::new(vec![
        ("ip", Field::string().custom(validate_ip_or_cidr)), // typedefs.lua:538, 295-299
        ("port", td::port()),                                // typedefs.lua:539
    ]);
    r.checks = vec![EntityCheck::AtLeastOneOf(&["ip", "port"])]; // typedefs.lua:542, 559
    Field::set(Field::record(r))
}

/// routes.lua:190-199 (`typedefs.headers`, typedefs.lua:619-629).
fn headers() -> Field {
    // routes.lua:191-197 (pattern "^[Hh][Oo][Ss][Tt]$")
    let key = td::header_name().check(Check::MatchNone(vec![(
        |s| s.eq_ignore_ascii_case("host"),
        "cannot contain 'host' header, which must be specified in the 'hosts' attribute",
    )]));
    Field::map(key, Field::array(Field::string()))
}

/// The `routes` entity: routes.lua:141-206 (fields 148-203).
fn base() -> Record {
    let mut r = Record::new(vec![
        ("id", td::uuid()),              // routes.lua:149
        ("created_at", td::timestamp()), // routes.lua:150
        ("updated_at", td::timestamp()), // routes.lua:151
        ("name", td::utf8_name()),       // routes.lua:152
        // routes.lua:154-166
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
        // routes.lua:187: `typedefs.methods` (typedefs.lua:567-571), elements
        // `http_method` match "^%u+$" (typedefs.lua:247-251)
        (
            "methods",
            Field::set(Field::string().check(Check::Match(|s| {
                !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase())
            }))),
        ),
        ("hosts", hosts()),                     // routes.lua:188
        ("paths", Field::array(router_path())), // routes.lua:189 (typedefs.lua:611-615)
        ("headers", headers()),                 // routes.lua:190-199
        // routes.lua:168-172
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
        ("regex_priority", Field::integer().default(json!(0))), // routes.lua:201
        // routes.lua:173
        (
            "strip_path",
            Field::boolean().required().default(json!(true)),
        ),
        // routes.lua:202 (the v1 deprecation at 25-34 only logs)
        (
            "path_handling",
            Field::string().default(json!("v0")).one_of(&["v0", "v1"]),
        ),
        // routes.lua:174
        (
            "preserve_host",
            Field::boolean().required().default(json!(false)),
        ),
        // routes.lua:175
        (
            "request_buffering",
            Field::boolean().required().default(json!(true)),
        ),
        // routes.lua:176
        (
            "response_buffering",
            Field::boolean().required().default(json!(true)),
        ),
        // Kong 3.10 routes.lua:37-41, 181-183: `wildcard_host` elements unless the router
        // flavor is `traditional`; this double runs `traditional_compatible`.
        ("snis", Field::set(td::wildcard_host())),
        ("sources", endpoints()),      // routes.lua:184
        ("destinations", endpoints()), // routes.lua:185
        ("tags", td::tags()),          // routes.lua:178
        ("service", td::foreign()),    // routes.lua:179
    ]);
    r.checks = vec![
        // routes.lua:17-23. Kong's if_match inherits the protocols field's own
        // validators (init.lua:737-740), so it also fails on an invalid set.
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
        // routes.lua:126-137 (Kong's field_sources are 128-133; gated on
        // `paths` only here)
        EntityCheck::Custom {
            fields: &["paths"],
            f: router_validation,
        },
    ];
    r
}

/// atc-router validation of `~` paths (traditional_compatible flavor):
/// `validate_route`, routes.lua:61-124; message routes.lua:107. Kong compiles
/// "^" .. path with `?<` turned into `?P<` (kong/router/transform.lua:322-331)
/// inside the whole route expression (transform.lua:334-453), which also holds
/// `~*` header regexes (431-435) and sources/destinations (169-260); only
/// regex paths are checked here.
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

/// `conditional_at_least_one_of` (init.lua:607-672): `then_err:format(list)`
/// (666-668, 648-651), list from `quoted_list` (init.lua:185-196).
pub(crate) fn must_set(v: &Map<String, Value>, names: &[&str], err: &str) -> Result<(), String> {
    if names.iter().any(|n| is_nonempty(v.get(*n))) {
        return Ok(());
    }
    Err(err.replace("%s", &quoted_list(names)))
}

pub(crate) fn protos(v: &Map<String, Value>) -> Vec<&str> {
    strs(v.get("protocols").unwrap_or(&Value::Null))
}

/// `typedefs.no_*` (`eq = null`, typedefs.lua:548, 565, 573, 594, 617, 631)
/// with the subschema's `err`, reported as is (init.lua:890-891).
fn null_with(err: &'static str) -> Field {
    Field::any().check(Check::Eq(Value::Null)).err(err)
}

/// The subschema record for a route, chosen like Kong: the first protocol
/// that names a subschema (`get_subschema`, init.lua:1099-1117;
/// routes.lua:146). `Err` carries Kong's "unknown type" message
/// (init.lua:2147-2151, SUBSCHEMA_UNKNOWN at 127).
pub(crate) fn record_for(
    protocols: Option<&Value>,
    flavor: RouterFlavor,
) -> Result<Record, String> {
    let mut r = record_traditional(protocols, flavor)?;
    if flavor == RouterFlavor::Expressions {
        for (name, f) in route_expressions::fields() {
            r = r.with_field(name, f);
        }
        // routes.lua 123-137
        r.checks.push(EntityCheck::Custom {
            fields: &[
                "id",
                "protocols",
                "snis",
                "sources",
                "destinations",
                "methods",
                "hosts",
                "paths",
                "headers",
                "expression",
                "regex_priority",
                "priority",
            ],
            f: route_expressions::validate_route,
        });
    }
    Ok(r)
}

/// The record of the traditional fields; under the expressions flavor the subschemas accept
/// `sources`/`destinations` on HTTP and gRPC routes and count `expression` among the fields one
/// of which must be set (routes_subschemas.lua 69-101).
fn record_traditional(protocols: Option<&Value>, flavor: RouterFlavor) -> Result<Record, String> {
    let expressions = flavor == RouterFlavor::Expressions;
    let list: Vec<Value> = match protocols {
        // missing: the default {"http", "https"} (routes.lua:165). Kong stops
        // at an explicit null with only `protocols: required field missing`
        // (init.lua:2141-2144).
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
        // routes_subschemas.lua:4-21
        "http" | "https" => (
            vec![
                // routes_subschemas.lua:8
                (
                    "sources",
                    null_with("cannot set 'sources' when 'protocols' is 'http' or 'https'"),
                ),
                // routes_subschemas.lua:9
                (
                    "destinations",
                    null_with("cannot set 'destinations' when 'protocols' is 'http' or 'https'"),
                ),
            ],
            // routes_subschemas.lua:12-19 (`conditional_at_least_one_of` runs with
            // invalid fields, init.lua:609; the field errors gate it here)
            EntityCheck::Custom {
                fields: &["protocols", "methods", "hosts", "headers", "paths", "snis"],
                f: http_check,
            },
        ),
        // routes_subschemas.lua:46-66. Kong also sets `methods = no_methods`
        // ("cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'", 51);
        // not here.
        "grpc" | "grpcs" => (
            vec![
                // routes_subschemas.lua:50
                (
                    "strip_path",
                    Field::boolean()
                        .required()
                        .default(json!(false))
                        .check(Check::Ne(json!(true)))
                        .err("cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"),
                ),
                // routes_subschemas.lua:52
                (
                    "sources",
                    null_with("cannot set 'sources' when 'protocols' is 'grpc' or 'grpcs'"),
                ),
                // routes_subschemas.lua:53
                (
                    "destinations",
                    null_with("cannot set 'destinations' when 'protocols' is 'grpc' or 'grpcs'"),
                ),
            ],
            // routes_subschemas.lua:57-64
            EntityCheck::Custom {
                fields: &["protocols", "methods", "hosts", "headers", "paths", "snis"],
                f: grpc_check,
            },
        ),
        // routes_subschemas.lua:23-44 (fields 27-30)
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
            // routes_subschemas.lua:33-42
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
        if expressions && matches!(name, "sources" | "destinations") {
            continue;
        }
        r = r.with_field(name, f);
    }
    let check = match (expressions, kind) {
        (true, "http" | "https") => EntityCheck::Custom {
            fields: &[
                "protocols",
                "methods",
                "hosts",
                "headers",
                "paths",
                "snis",
                "expression",
            ],
            f: http_check_x,
        },
        (true, "grpc" | "grpcs") => EntityCheck::Custom {
            fields: &[
                "protocols",
                "methods",
                "hosts",
                "headers",
                "paths",
                "snis",
                "expression",
            ],
            f: grpc_check_x,
        },
        (true, _) if STREAM.contains(&kind) => EntityCheck::Custom {
            fields: &["protocols", "sources", "destinations", "snis", "expression"],
            f: stream_check_x,
        },
        _ => check,
    };
    r.checks.push(check);
    Ok(r)
}

/// Kong's on-the-fly migration for `_format_version` < 3.0: paths that look
/// like regexes get the `~` prefix 3.0 requires. `migrate_path`,
/// kong/db/migrations/migrate_path_280_300.lua:77-85 (`is_not_regex` 73-75,
/// same character set). Kong also normalizes plain paths (79), percent-decodes
/// regex ones (`normalize_regex` 64-70, 83) and prefixes `~` even to a path
/// that already starts with `~`; none of that is done here.
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
            record_for(Some(&json!(["nope"])), RouterFlavor::TraditionalCompatible)
                .err()
                .unwrap(),
            "unknown type: nope"
        );
    }
}
