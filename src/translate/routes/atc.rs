//! Kong's router expressions (ATC) as KIC v3.5.13 writes them
//! (`internal/dataplane/translator/atc/`): predicates `<field> <op> <literal>`, and `&&`/`||`
//! of matchers, each child in parentheses when there are several, a lone child bare, empty
//! children dropped (`matcher.go` 37-122, `predicate.go` 75-114).

use std::sync::LazyLock;

use regex::Regex;

use crate::kong::config::Route;

/// KIC's `validHosts` (`subtranslator/ingress_atc.go` 26): hosts it matches on.
pub static VALID_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(\*\.)?([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)+(\.([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*))*?(\.\*)?$",
    )
    .expect("KIC's host pattern")
});

/// KIC's `validSNIs` (`subtranslator/ingress_atc.go` 25): no wildcards.
pub static VALID_SNI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)+(\.([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*))*$")
        .expect("KIC's SNI pattern")
});

/// KIC's `ApplyExpressionToL4KongRoute` (`subtranslator/l4route_atc.go` 12-37), for the routes
/// of TCPRoutes, UDPRoutes, TLSRoutes, TCPIngresses and UDPIngresses: any of its SNIs and any
/// of its destination ports, priority 1, `snis` and `destinations` cleared (and no
/// `path_handling`, which deck sets only without expressions).
pub fn apply_l4(route: &mut Route) {
    let snis = Matcher::Or(
        route
            .snis
            .iter()
            .filter(|s| VALID_SNI.is_match(s))
            .map(|s| Matcher::string("tls.sni", "==", s))
            .collect(),
    );
    let ports = Matcher::Or(
        route
            .destinations
            .iter()
            .filter_map(|d| d.port)
            .map(|p| Matcher::Predicate {
                field: "net.dst.port".into(),
                op: "==",
                value: p.to_string(),
            })
            .collect(),
    );
    route.expression = Some(Matcher::And(vec![snis, ports]).render());
    route.priority = Some(1);
    route.snis.clear();
    route.destinations.clear();
    route.path_handling.clear();
}

/// Whether Kong's router takes `expression` on a route of `protocols` (Kong 3.10 routes.lua
/// 99-121: atc-router 1.7.1, Kong's pin, with Kong's field schema of the first protocol,
/// kong/router/fields.lua 20-50 and atc.lua 89-104; the default protocols are HTTP's).
pub fn validate(expression: &str, protocols: &[String]) -> Result<(), String> {
    use atc_router::semantics::Validate;
    let http = protocols
        .first()
        .is_none_or(|p| matches!(p.as_str(), "http" | "https" | "grpc" | "grpcs"));
    let schema = crate::kong::router_fields::schema(http);
    let ast = atc_router::parser::parse(expression).map_err(|e| brief(&e.to_string()))?;
    ast.validate(&schema)
}

/// atc-router's multi-line parse error as one line: its last `error:` line (a regex's), else
/// its `= ` note, else the lines joined.
fn brief(e: &str) -> String {
    let lines: Vec<&str> = e.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if let Some(l) = lines.iter().rev().find(|l| l.starts_with("error:")) {
        return l.trim_start_matches("error:").trim().to_string();
    }
    if let Some(l) = lines.iter().find(|l| l.starts_with("= ")) {
        return l.trim_start_matches("= ").to_string();
    }
    lines.join(" ")
}

/// A matcher: a predicate, or all / any of several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    Predicate {
        field: String,
        op: &'static str,
        value: String,
    },
    And(Vec<Matcher>),
    Or(Vec<Matcher>),
}

impl Matcher {
    /// `field op "value"` with the value quoted as KIC's `predicate.go` 75-85 does.
    pub fn string(field: impl Into<String>, op: &'static str, value: &str) -> Matcher {
        Matcher::Predicate {
            field: field.into(),
            op,
            value: quote(value),
        }
    }

    /// Whether it renders to nothing (a logical matcher with no children that render).
    pub fn is_empty(&self) -> bool {
        match self {
            Matcher::Predicate { .. } => false,
            Matcher::And(c) | Matcher::Or(c) => c.iter().all(Matcher::is_empty),
        }
    }

    pub fn render(&self) -> String {
        match self {
            Matcher::Predicate { field, op, value } => format!("{field} {op} {value}"),
            Matcher::And(c) => join(c, " && "),
            Matcher::Or(c) => join(c, " || "),
        }
    }
}

fn join(children: &[Matcher], sep: &str) -> String {
    let kept: Vec<&Matcher> = children.iter().filter(|c| !c.is_empty()).collect();
    match kept.as_slice() {
        [] => String::new(),
        [one] => one.render(),
        many => many
            .iter()
            .map(|c| format!("({})", c.render()))
            .collect::<Vec<_>>()
            .join(sep),
    }
}

/// KIC's string literal: backslash, double quote, LF, CR and TAB escaped, in double quotes.
pub fn quote(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t");
    format!("\"{escaped}\"")
}

/// The header field KIC matches a header on: `http.headers.<lowercase, - as _>`.
pub fn header_field(name: &str) -> String {
    format!(
        "http.headers.{}",
        name.to_ascii_lowercase().replace('-', "_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_as_kic() {
        let path = Matcher::Or(vec![
            Matcher::string("http.path", "==", "/api"),
            Matcher::string("http.path", "^=", "/api/"),
        ]);
        let m = Matcher::And(vec![
            Matcher::Or(vec![Matcher::string("http.host", "==", "konghq.com")]),
            path,
            Matcher::And(vec![]),
        ]);
        assert_eq!(
            m.render(),
            r#"(http.host == "konghq.com") && ((http.path == "/api") || (http.path ^= "/api/"))"#
        );
        assert_eq!(quote("^/foo/\\d{3}\"\n"), r#""^/foo/\\d{3}\"\n""#);
        assert_eq!(header_field("X-Key-1"), "http.headers.x_key_1");
        assert!(Matcher::Or(vec![Matcher::And(vec![])]).is_empty());
        assert!(validate(r#"http.path ~ "^/a""#, &[]).is_ok());
        assert!(validate(r#"http.path ~ "^/a(""#, &[]).is_err());
        assert!(validate(r#"http.path ^= "/""#, &["tcp".into()]).is_err());
        assert!(validate("", &[]).is_err());
    }
}
