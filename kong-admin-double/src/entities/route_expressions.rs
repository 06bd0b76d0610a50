//! Routes under Kong's `expressions` router flavor (Kong 3.10 `router_flavor = expressions`):
//! the `expression` and `priority` fields (routes.lua 209-220), the subschemas' changes
//! (routes_subschemas.lua 69-101) and `validate_route` (routes.lua 41-137), whose expression
//! check runs Kong's own engine: the `atc-router` crate at the version Kong 3.10 pins
//! (.requirements: ATC_ROUTER 1.7.1), with Kong's field schema (kong/router/fields.lua 20-50,
//! kong/router/atc.lua 58-104).

use atc_router::ast::{Expression, LogicalExpression, Type};
use atc_router::schema::Schema;
use atc_router::semantics::Validate;
use serde_json::{Map, Value, json};

use crate::schema::{Field, is_nonempty};

/// Kong's `router_flavor` (kong.conf; kong_defaults.lua:189 `traditional_compatible`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouterFlavor {
    #[default]
    TraditionalCompatible,
    Expressions,
}

impl RouterFlavor {
    /// The `router_flavor` value Kong's `GET /` reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RouterFlavor::TraditionalCompatible => "traditional_compatible",
            RouterFlavor::Expressions => "expressions",
        }
    }
}

/// routes.lua 209-217: the fields the expressions flavor adds.
pub(crate) fn fields() -> [(&'static str, Field); 2] {
    [
        ("expression", Field::string()),
        (
            "priority",
            Field::integer()
                .required()
                .default(json!(0))
                .between(0.0, ((1u64 << 46) - 1) as f64),
        ),
    ]
}

/// The traditional matching fields `validate_route` weighs against `expression` (routes.lua
/// 67-74).
const OTHERS: &[&str] = &[
    "snis",
    "sources",
    "destinations",
    "methods",
    "hosts",
    "paths",
    "headers",
];

/// kong/router/fields.lua 20-50 (HTTP_FIELDS, STREAM_FIELDS) as atc-router schemas.
fn schema(http: bool) -> Schema {
    let mut s = Schema::default();
    let strings: &[&str] = if http {
        &[
            "net.protocol",
            "tls.sni",
            "http.method",
            "http.host",
            "http.path",
            "http.path.segments.*",
            "http.headers.*",
            "http.queries.*",
        ]
    } else {
        &["net.protocol", "tls.sni"]
    };
    for f in strings {
        s.add_field(f, Type::String);
    }
    let ints: &[&str] = if http {
        &["net.src.port", "net.dst.port", "http.path.segments.len"]
    } else {
        &["net.src.port", "net.dst.port"]
    };
    for f in ints {
        s.add_field(f, Type::Int);
    }
    for f in ["net.src.ip", "net.dst.ip"] {
        s.add_field(f, Type::IpAddr);
    }
    s
}

fn is_empty(v: Option<&Value>) -> bool {
    !is_nonempty(v)
}

/// `validate_route` (routes.lua 61-124) for a route with an `expression`; a route without one
/// is transformed by Kong (its regex paths are checked by the traditional check).
pub(crate) fn validate_route(v: &Map<String, Value>) -> Result<(), String> {
    const ERR: &str = "Router Expression failed validation: ";
    let expression = v.get("expression").and_then(Value::as_str);
    let others_empty = OTHERS.iter().all(|f| is_empty(v.get(*f)));
    let Some(expression) = expression else {
        // routes.lua 89-97: priority only with an expression.
        let priority_set = v.get("priority").and_then(Value::as_i64).unwrap_or(0) != 0;
        if !others_empty && priority_set {
            return Err(format!(
                "{ERR}cannot set 'priority' with 'methods', 'hosts', 'paths', 'headers', 'snis', 'sources' or 'destinations' simultaneously"
            ));
        }
        return Ok(());
    };
    if !others_empty {
        return Err(format!(
            "{ERR}cannot set 'expression' with 'methods', 'hosts', 'paths', 'headers', 'snis', 'sources' or 'destinations' simultaneously"
        ));
    }
    if v.get("regex_priority").and_then(Value::as_i64).unwrap_or(0) != 0 {
        return Err(format!(
            "{ERR}cannot set 'regex_priority' with 'expression' simultaneously"
        ));
    }
    // atc.lua 103-105: the schema of the first protocol; `amending_expression`
    // (transform.lua 768-790) renames the deprecated `net.port`.
    let first = v
        .get("protocols")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or("http");
    let http = matches!(first, "http" | "https" | "grpc" | "grpcs");
    let amended = amend(expression);
    let ast = atc_router::parser::parse(&amended).map_err(|e| format!("{ERR}{e}"))?;
    ast.validate(&schema(http))
        .map_err(|e| format!("{ERR}{e}"))?;
    // routes.lua 108-119: http.path.segments.<n>[_<m>] with n < m, or `len`.
    let mut fields = Vec::new();
    field_names(&ast, &mut fields);
    for field in fields {
        if let Some(suffix) = field.strip_prefix("http.path.segments.")
            && suffix != "len"
            && !segments_ok(suffix)
        {
            return Err(format!("{ERR}illformed http.path.segments.* field"));
        }
    }
    Ok(())
}

/// The fields the predicates of `e` read (what Kong's `router.validate` returns).
fn field_names<'a>(e: &'a Expression, out: &mut Vec<&'a str>) {
    match e {
        Expression::Predicate(p) => out.push(p.lhs.var_name.as_str()),
        Expression::Logical(l) => match l.as_ref() {
            LogicalExpression::And(a, b) | LogicalExpression::Or(a, b) => {
                field_names(a, out);
                field_names(b, out);
            }
            LogicalExpression::Not(a) => field_names(a, out),
        },
    }
}

/// `^(0|[1-9]\d*)(_([1-9]\d*))?$` with the first below the second (routes.lua 55, 111-116).
fn segments_ok(suffix: &str) -> bool {
    let number = |s: &str| -> Option<u64> {
        let ok = s == "0"
            || (s.starts_with(|c: char| ('1'..='9').contains(&c))
                && s.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| s.parse().ok()).flatten()
    };
    match suffix.split_once('_') {
        None => number(suffix).is_some(),
        Some((a, b)) => match (number(a), number(b)) {
            (Some(a), Some(b)) => b != 0 && a < b,
            _ => false,
        },
    }
}

/// transform.lua 764-781: `net.port` followed by spaces and a comparison becomes `net.dst.port`.
fn amend(expression: &str) -> String {
    if !expression.contains("net.port") {
        return expression.to_string();
    }
    let mut out = String::with_capacity(expression.len());
    let mut rest = expression;
    while let Some(at) = rest.find("net.port") {
        let after = &rest[at + "net.port".len()..];
        let spaces = after.len() - after.trim_start().len();
        let follows = after.trim_start().starts_with(['=', '>', '<', '!']);
        out.push_str(&rest[..at]);
        out.push_str(if follows { "net.dst.port" } else { "net.port" });
        out.push_str(&after[..spaces]);
        rest = &after[spaces..];
    }
    out.push_str(rest);
    out
}

/// The subschemas' `conditional_at_least_one_of` lists gain "expression" (routes_subschemas.lua
/// 81-82, 93-94, 96-97).
pub(crate) fn with_expression(list: &[&'static str]) -> Vec<&'static str> {
    let mut l = list.to_vec();
    l.push("expression");
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Value) -> Result<(), String> {
        validate_route(v.as_object().expect("object"))
    }

    #[test]
    fn expressions_are_checked_by_kongs_engine() {
        assert!(check(json!({"expression": "(http.host == \"a.example\") && (http.path ^= \"/api/\")", "protocols": ["http"]})).is_ok());
        assert!(
            check(json!({"expression": "http.path ~ \"^/foo/\\\\d{3}\"", "protocols": ["http"]}))
                .is_ok()
        );
        let e =
            check(json!({"expression": "http.nope == \"x\"", "protocols": ["http"]})).unwrap_err();
        assert!(
            e.starts_with("Router Expression failed validation: "),
            "{e}"
        );
        let e = check(json!({"expression": "http.path == ", "protocols": ["http"]})).unwrap_err();
        assert!(
            e.starts_with("Router Expression failed validation: "),
            "{e}"
        );
        // a String field compared with an Int
        assert!(check(json!({"expression": "http.path == 1", "protocols": ["http"]})).is_err());
        // HTTP fields are not in the stream schema
        assert!(check(json!({"expression": "http.path == \"/\"", "protocols": ["tcp"]})).is_err());
        assert_eq!(
            check(json!({"expression": "http.path == \"/\"", "paths": ["/"]})).unwrap_err(),
            "Router Expression failed validation: cannot set 'expression' with 'methods', 'hosts', 'paths', 'headers', 'snis', 'sources' or 'destinations' simultaneously"
        );
        assert!(check(json!({"expression": "http.path == \"/\"", "regex_priority": 1})).is_err());
        assert!(check(json!({"paths": ["/"], "priority": 5})).is_err());
        assert!(check(json!({"paths": ["/"], "priority": 0})).is_ok());
        assert!(check(json!({"expression": "http.path.segments.0_2 == \"a\""})).is_ok());
        assert!(check(json!({"expression": "http.path.segments.2_1 == \"a\""})).is_err());
        assert!(check(json!({"expression": "net.port == 80", "protocols": ["tcp"]})).is_ok());
    }
}
