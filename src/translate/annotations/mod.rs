//! `konghq.com/*` annotations on Services (→ Kong service/upstream) and on Ingresses and
//! HTTPRoutes (→ Kong routes). An invalid value is reported and ignored, leaving Kong's
//! default, instead of failing the object.

pub mod keys;

use std::collections::BTreeMap;

use super::names::ObjectRef;
use super::problems::{Problems, Reason};
use crate::kong::config::{Route, Service, Upstream};

const PREFIX: &str = "konghq.com/";

struct Reader<'a> {
    annotations: Option<&'a BTreeMap<String, String>>,
    object: &'a ObjectRef,
    problems: &'a mut Problems,
}

impl Reader<'_> {
    fn raw(&self, key: &str) -> Option<&str> {
        self.annotations
            .and_then(|a| a.get(&format!("{PREFIX}{key}")))
            .map(|v| v.trim())
    }

    fn invalid(&mut self, key: &str, value: &str, want: &str) {
        self.problems.warning(
            self.object,
            Reason::InvalidAnnotation,
            Some(format!("metadata.annotations[{PREFIX}{key}]")),
            format!("{value:?} is not {want}; ignored"),
        );
    }

    fn bool(&mut self, key: &str) -> Option<bool> {
        let v = self.raw(key)?.to_string();
        match v.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.invalid(key, &v, "true or false");
                None
            }
        }
    }

    /// Go's `strconv.ParseBool` of the lowercased value, as KIC v3.5.13 reads the buffering
    /// annotations (`kongstate/route.go` 258-292): `1`, `t`, `true`, `0`, `f`, `false`.
    fn go_bool(&mut self, key: &str) -> Option<bool> {
        let v = self.raw(key)?.to_string();
        match v.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" => Some(true),
            "0" | "f" | "false" => Some(false),
            _ => {
                self.invalid(key, &v, "a boolean (true, false, 1, 0, t, f)");
                None
            }
        }
    }

    fn int(&mut self, key: &str, min: i64, max: i64) -> Option<i64> {
        let v = self.raw(key)?.to_string();
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.invalid(key, &v, &format!("an integer from {min} to {max}"));
                None
            }
        }
    }

    fn list(&self, key: &str) -> Option<Vec<String>> {
        let v = self.raw(key)?;
        Some(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    fn one_of(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let v = self.raw(key)?.to_ascii_lowercase();
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.invalid(key, &v, &format!("one of {}", allowed.join(", ")));
            None
        }
    }
}

/// KIC's accepted values, less ws/wss which open-source Kong rejects.
const SERVICE_PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "grpc",
    "grpcs",
    "tcp",
    "tls",
    "tls_passthrough",
];
const ROUTE_PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "grpc",
    "grpcs",
    "tcp",
    "tls",
    "udp",
    "tls_passthrough",
];
const TIMEOUT_MAX: i64 = 2_147_483_646;

/// Service annotations: protocol, path, timeouts, retries, host-header.
pub fn apply_to_service(
    annotations: Option<&BTreeMap<String, String>>,
    object: &ObjectRef,
    problems: &mut Problems,
    service: &mut Service,
    upstream: &mut Upstream,
) {
    keys::check(annotations, object, problems);
    let mut r = Reader {
        annotations,
        object,
        problems,
    };
    if let Some(p) = r.one_of("protocol", SERVICE_PROTOCOLS) {
        service.protocol = p;
    }
    if let Some(path) = r.raw("path").map(str::to_string) {
        if path.starts_with('/') && !path.contains("//") {
            service.path = Some(path);
        } else {
            r.invalid("path", &path, "a path starting with / (without //)");
        }
    }
    if let Some(n) = r.int("connect-timeout", 1, TIMEOUT_MAX) {
        service.connect_timeout = Some(n);
    }
    if let Some(n) = r.int("read-timeout", 1, TIMEOUT_MAX) {
        service.read_timeout = Some(n);
    }
    if let Some(n) = r.int("write-timeout", 1, TIMEOUT_MAX) {
        service.write_timeout = Some(n);
    }
    if let Some(n) = r.int("retries", 0, 32767) {
        service.retries = Some(n);
    }
    if let Some(h) = r.raw("host-header").filter(|h| !h.is_empty()) {
        upstream.host_header = Some(h.to_string());
    }
    // Kong rejects a path on stream and gRPC services.
    if matches!(
        service.protocol.as_str(),
        "tcp" | "tls" | "udp" | "grpc" | "grpcs"
    ) {
        service.path = None;
    }
}

/// Route annotations of the Ingress or HTTPRoute that produced `route`.
pub fn apply_to_route(
    annotations: Option<&BTreeMap<String, String>>,
    object: &ObjectRef,
    problems: &mut Problems,
    route: &mut Route,
) {
    keys::check(annotations, object, problems);
    let mut r = Reader {
        annotations,
        object,
        problems,
    };
    if let Some(b) = r.bool("strip-path") {
        route.strip_path = Some(b);
    }
    if let Some(b) = r.bool("preserve-host") {
        route.preserve_host = Some(b);
    }
    if let Some(b) = r.go_bool("request-buffering") {
        route.request_buffering = Some(b);
    }
    if let Some(b) = r.go_bool("response-buffering") {
        route.response_buffering = Some(b);
    }
    // KIC applies these to expression routes too, and skips the matching ones (regex-priority,
    // methods, snis, host-aliases, headers, path-handling: the expression holds them) and
    // normalizeProtocols (`kongstate/route.go` 36-40, 229-256).
    let expression = route.expression.is_some();
    if !expression
        && let Some(n) = r.int("regex-priority", i64::from(i32::MIN), i64::from(i32::MAX))
    {
        route.regex_priority = Some(n);
    }
    // KIC: exactly "true" (`annotations.go` HasForceSSLRedirectAnnotation) → 302 and the TLS
    // protocols (`route.go` 67-93, 131-135); `konghq.com/https-redirect-status-code` and
    // `konghq.com/protocols` then apply over it.
    if annotations
        .and_then(|a| a.get(FORCE_SSL_REDIRECT))
        .is_some_and(|v| v == "true")
    {
        route.https_redirect_status_code = 302;
        route.protocols = ssl_protocols(&route.protocols);
    }
    if let Some(raw) = r.raw("https-redirect-status-code").map(str::to_string) {
        match raw.parse::<i64>() {
            Ok(code @ (426 | 301 | 302 | 307 | 308)) => route.https_redirect_status_code = code,
            _ => r.invalid(
                "https-redirect-status-code",
                &raw,
                "one of 426, 301, 302, 307, 308",
            ),
        }
    }
    if !expression && let Some(p) = r.one_of("path-handling", &["v0", "v1"]) {
        route.path_handling = p;
    }
    if let Some(protocols) = r.list("protocols") {
        let lower: Vec<String> = protocols.iter().map(|p| p.to_ascii_lowercase()).collect();
        match lower
            .iter()
            .find(|p| !ROUTE_PROTOCOLS.contains(&p.as_str()))
        {
            Some(bad) => {
                let bad = bad.clone();
                r.invalid(
                    "protocols",
                    &bad,
                    &format!("one of {}", ROUTE_PROTOCOLS.join(", ")),
                );
            }
            None if !lower.is_empty() => route.protocols = lower,
            None => {}
        }
    }
    if expression {
        return;
    }
    if let Some(methods) = r.list("methods") {
        let upper: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
        match upper
            .iter()
            .find(|m| !m.chars().all(|c| c.is_ascii_uppercase()))
        {
            Some(bad) => {
                let bad = bad.clone();
                r.invalid("methods", &bad, "an HTTP method (letters only)");
            }
            None => route.methods = upper,
        }
    }
    // One invalid name and KIC ignores the whole annotation (`route.go` 205-227, 295-328).
    if let Some(snis) = r.list("snis") {
        match snis.iter().find(|s| !valid_sni(s)) {
            Some(bad) => {
                let bad = bad.clone();
                r.invalid(
                    "snis",
                    &bad,
                    "a hostname (the whole annotation is ignored, as KIC ignores it)",
                );
            }
            None => route.snis = snis,
        }
    }
    if let Some(aliases) = r.list("host-aliases").filter(|a| !a.is_empty()) {
        match aliases.iter().find(|h| !valid_host(h)) {
            Some(bad) => {
                let bad = bad.clone();
                r.invalid(
                    "host-aliases",
                    &bad,
                    "a hostname, optionally with a leading `*.` or trailing `.*` (the whole annotation is ignored, as KIC ignores it)",
                );
            }
            None => {
                for alias in aliases {
                    if !route.hosts.contains(&alias) {
                        route.hosts.push(alias);
                    }
                }
            }
        }
    }
    // Kong rejects strip_path on gRPC routes; gRPC mixed with HTTP becomes HTTP and HTTPS
    // (KIC v3.5.13 kongstate/route.go lines 35-64, normalizeProtocols; checked with the KIC
    // oracle, tests/kic-oracle/ingress-protocols-grpc-mixed).
    if route.protocols.iter().any(|p| p.starts_with("grpc")) {
        route.strip_path = None;
        if route.protocols.iter().any(|p| p.starts_with("http")) {
            route.protocols = vec!["http".into(), "https".into()];
        }
    }
    // `konghq.com/headers.<name>`: split on `konghq.com/headers-separator` (default `,`), and
    // when any is set they *replace* the route's header matches (KIC `annotations.go`
    // ExtractHeaders, `route.go` 330-336), e.g. an HTTPRoute's.
    if let Some(headers) = annotations.and_then(headers) {
        route.headers = headers;
    }
}

/// KIC's `ExtractHeaders`: each `konghq.com/headers.<name>` split on
/// `konghq.com/headers-separator` (default `,`) and trimmed; None when there is none.
pub fn headers(all: &BTreeMap<String, String>) -> Option<BTreeMap<String, Vec<String>>> {
    let separator = all
        .get(&format!("{PREFIX}headers-separator"))
        .map_or(",", String::as_str);
    let header_prefix = format!("{PREFIX}headers.");
    let mut headers = BTreeMap::new();
    for (key, value) in all.range(header_prefix.clone()..) {
        let Some(name) = key.strip_prefix(&header_prefix) else {
            break;
        };
        if name.is_empty() || value.is_empty() {
            continue;
        }
        let values: Vec<String> = if separator.is_empty() {
            // Go's strings.Split with an empty separator splits into characters.
            value.chars().map(|c| c.to_string()).collect()
        } else {
            value
                .split(separator)
                .map(|v| v.trim().to_string())
                .collect()
        };
        headers.insert(name.to_string(), values);
    }
    (!headers.is_empty()).then_some(headers)
}

const FORCE_SSL_REDIRECT: &str = "ingress.kubernetes.io/force-ssl-redirect";

/// KIC's `useSSLProtocol`: grpcs if any protocol is gRPC, https if any is HTTP (or none is).
fn ssl_protocols(protocols: &[String]) -> Vec<String> {
    let grpc = protocols.iter().any(|p| p.contains("grpc"));
    let http = protocols.iter().any(|p| p.contains("http"));
    let mut out = Vec::new();
    if grpc {
        out.push("grpcs".to_string());
    }
    if http || !grpc {
        out.push("https".to_string());
    }
    out
}

/// One label of KIC's host patterns: alphanumeric runs joined by single hyphens.
fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && !label.contains("--")
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// KIC's `validSNIs`: `^([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)+(\.([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*))*$`.
fn valid_sni(sni: &str) -> bool {
    sni.split('.').all(valid_label)
}

/// KIC's `validHosts`: as [`valid_sni`], with an optional leading `*.` and trailing `.*`.
fn valid_host(host: &str) -> bool {
    let host = host.strip_prefix("*.").unwrap_or(host);
    let host = host.strip_suffix(".*").unwrap_or(host);
    valid_sni(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Kind;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("{PREFIX}{k}"), v.to_string()))
            .collect()
    }

    fn obj() -> ObjectRef {
        ObjectRef::new(Kind::Ingress, Some("default"), "i")
    }

    #[test]
    fn route_annotations() {
        let a = ann(&[
            ("strip-path", "true"),
            ("preserve-host", "FALSE"),
            ("protocols", "https"),
            ("methods", "get, post"),
            ("regex-priority", "10"),
            ("https-redirect-status-code", "301"),
            ("headers.x-env", "prod,canary"),
            ("host-aliases", "alias.example.com"),
        ]);
        let mut problems = Problems::default();
        let mut route = Route {
            hosts: vec!["example.com".into()],
            ..Default::default()
        };
        apply_to_route(Some(&a), &obj(), &mut problems, &mut route);
        assert_eq!(route.strip_path, Some(true));
        assert_eq!(route.preserve_host, Some(false));
        assert_eq!(route.protocols, vec!["https"]);
        assert_eq!(route.methods, vec!["GET", "POST"]);
        assert_eq!(route.regex_priority, Some(10));
        assert_eq!(route.https_redirect_status_code, 301);
        assert_eq!(route.headers["x-env"], vec!["prod", "canary"]);
        assert_eq!(route.hosts, vec!["example.com", "alias.example.com"]);
        assert!(problems.into_sorted().is_empty());
    }

    #[test]
    fn invalid_values_are_reported_and_ignored() {
        let a = ann(&[
            ("strip-path", "yes"),
            ("regex-priority", "high"),
            ("https-redirect-status-code", "200"),
            ("protocols", "http,ftp"),
        ]);
        let mut problems = Problems::default();
        let mut route = Route {
            protocols: vec!["http".into(), "https".into()],
            https_redirect_status_code: 426,
            ..Default::default()
        };
        apply_to_route(Some(&a), &obj(), &mut problems, &mut route);
        assert_eq!(route.strip_path, None);
        assert_eq!(route.regex_priority, None);
        assert_eq!(route.https_redirect_status_code, 426);
        assert_eq!(route.protocols, vec!["http", "https"]);
        let p = problems.into_sorted();
        assert_eq!(p.len(), 4);
        assert!(p.iter().all(|p| p.reason == Reason::InvalidAnnotation));
        assert!(
            p.iter()
                .any(|p| p.field.as_deref() == Some("metadata.annotations[konghq.com/strip-path]"))
        );
    }

    #[test]
    fn force_ssl_redirect_buffering_and_header_annotations_read_as_kic_reads_them() {
        let mut a = ann(&[
            ("request-buffering", "F"),
            ("response-buffering", "1"),
            ("headers-separator", ";"),
            ("headers.x-env", "prod; canary"),
            ("snis", "a.example.com,b.example.com"),
        ]);
        a.insert(FORCE_SSL_REDIRECT.into(), "true".into());
        let mut problems = Problems::default();
        let mut route = Route {
            protocols: vec!["grpc".into(), "http".into()],
            headers: BTreeMap::from([("x-from-match".to_string(), vec!["1".to_string()])]),
            ..Default::default()
        };
        apply_to_route(Some(&a), &obj(), &mut problems, &mut route);
        assert_eq!(route.https_redirect_status_code, 302);
        // grpcs and https: then gRPC with HTTP normalizes as before to http/https.
        assert_eq!(route.protocols, vec!["http", "https"]);
        assert_eq!(
            (route.request_buffering, route.response_buffering),
            (Some(false), Some(true))
        );
        // Replaced, not merged, and split on the separator.
        assert_eq!(
            route.headers,
            BTreeMap::from([(
                "x-env".to_string(),
                vec!["prod".to_string(), "canary".to_string()]
            )])
        );
        assert_eq!(route.snis, vec!["a.example.com", "b.example.com"]);
        assert!(problems.into_sorted().is_empty());

        let mut https_only = Route {
            protocols: vec!["http".into()],
            ..Default::default()
        };
        let only = BTreeMap::from([(FORCE_SSL_REDIRECT.to_string(), "True".to_string())]);
        apply_to_route(
            Some(&only),
            &obj(),
            &mut Problems::default(),
            &mut https_only,
        );
        assert_eq!(
            https_only.protocols,
            vec!["http"],
            "KIC wants exactly \"true\""
        );
    }

    #[test]
    fn one_invalid_sni_or_host_alias_drops_the_whole_annotation() {
        let a = ann(&[
            ("snis", "ok.example.com,bad_name.example.com"),
            ("host-aliases", "*.example.com,a--b.example.com"),
        ]);
        let mut problems = Problems::default();
        let mut route = Route {
            hosts: vec!["example.com".into()],
            ..Default::default()
        };
        apply_to_route(Some(&a), &obj(), &mut problems, &mut route);
        assert!(route.snis.is_empty());
        assert_eq!(route.hosts, vec!["example.com"]);
        assert_eq!(problems.into_sorted().len(), 2);
        assert!(valid_host("*.example.com") && valid_host("shop.*") && valid_host("a-b.c"));
        assert!(!valid_sni("*.example.com") && !valid_sni("a..b") && !valid_sni("-a.b"));
    }

    #[test]
    fn service_annotations() {
        let a = ann(&[
            ("protocol", "https"),
            ("path", "/api"),
            ("read-timeout", "5000"),
            ("connect-timeout", "0"),
            ("retries", "3"),
            ("host-header", "internal.example.com"),
        ]);
        let mut problems = Problems::default();
        let mut svc = Service {
            protocol: "http".into(),
            ..Default::default()
        };
        let mut up = Upstream::default();
        apply_to_service(Some(&a), &obj(), &mut problems, &mut svc, &mut up);
        assert_eq!(svc.protocol, "https");
        assert_eq!(svc.path.as_deref(), Some("/api"));
        assert_eq!(svc.read_timeout, Some(5000));
        assert_eq!(svc.connect_timeout, None, "0 is below Kong's minimum");
        assert_eq!(svc.retries, Some(3));
        assert_eq!(up.host_header.as_deref(), Some("internal.example.com"));
        assert_eq!(problems.into_sorted().len(), 1);
    }
}
