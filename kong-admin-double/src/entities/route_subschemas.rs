//! The subschemas' `conditional_at_least_one_of` checks (Kong 3.10
//! `routes_subschemas.lua`): which matching fields an HTTP, gRPC or stream route must set, and
//! under the expressions flavor `expression` among them (69-101).

use serde_json::{Map, Value};

use super::route_expressions;
use super::routes::{must_set, protos};
use crate::schema::is_nonempty;

/// routes_subschemas.lua:12-19 (if 13-15, else 16-18).
pub(crate) fn http_check(v: &Map<String, Value>) -> Result<(), String> {
    http_like(v, "http", "https", false)
}

/// [`http_check`] under the expressions flavor (`expression` counts).
pub(crate) fn http_check_x(v: &Map<String, Value>) -> Result<(), String> {
    http_like(v, "http", "https", true)
}

/// routes_subschemas.lua:57-64: Kong's lists have no "methods" (then 59, else 62).
pub(crate) fn grpc_check(v: &Map<String, Value>) -> Result<(), String> {
    http_like(v, "grpc", "grpcs", false)
}

pub(crate) fn grpc_check_x(v: &Map<String, Value>) -> Result<(), String> {
    http_like(v, "grpc", "grpcs", true)
}

fn http_like(
    v: &Map<String, Value>,
    plain: &str,
    tls: &str,
    expression: bool,
) -> Result<(), String> {
    let p = protos(v);
    // gRPC's lists have no `methods` (routes_subschemas.lua 59, 62).
    let grpc = plain == "grpc";
    let list = |l: &[&'static str]| {
        let l: Vec<&'static str> = l
            .iter()
            .copied()
            .filter(|f| !(grpc && *f == "methods"))
            .collect();
        match expression {
            true => route_expressions::with_expression(&l),
            false => l,
        }
    };
    if p.contains(&tls) {
        must_set(
            v,
            &list(&["methods", "hosts", "headers", "paths", "snis"]),
            &format!("must set one of %s when 'protocols' is '{tls}'"),
        )
    } else if p.contains(&plain) {
        must_set(
            v,
            &list(&["methods", "hosts", "headers", "paths"]),
            &format!("must set one of %s when 'protocols' is '{plain}'"),
        )
    } else {
        Ok(())
    }
}

pub(crate) fn stream_check(v: &Map<String, Value>) -> Result<(), String> {
    stream_like(v, false)
}

pub(crate) fn stream_check_x(v: &Map<String, Value>) -> Result<(), String> {
    stream_like(v, true)
}

fn stream_like(v: &Map<String, Value>, expression: bool) -> Result<(), String> {
    let p = protos(v);
    // routes_subschemas.lua:33-37
    if !p.is_empty() && p.iter().all(|x| ["tcp", "tls", "udp"].contains(x)) {
        let mut list = vec!["sources", "destinations", "snis"];
        if expression {
            list.push("expression");
        }
        return must_set(
            v,
            &list,
            "must set one of %s when 'protocols' is 'tcp', 'tls' or 'udp'",
        );
    }
    // routes_subschemas.lua:38-42 (and 97 under the expressions flavor)
    let passthrough = !p.is_empty() && p.iter().all(|x| *x == "tls_passthrough");
    let set = is_nonempty(v.get("snis")) || (expression && is_nonempty(v.get("expression")));
    if passthrough && !set {
        // then_err names no list (routes_subschemas.lua 41)
        return Err("must set snis when 'protocols' is 'tls_passthrough'".into());
    }
    Ok(())
}
