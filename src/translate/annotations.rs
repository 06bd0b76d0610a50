//! `konghq.com/*` annotations on Services (→ Kong service/upstream) and on Ingresses and
//! HTTPRoutes (→ Kong routes). An invalid value is reported and ignored, leaving Kong's
//! default, instead of failing the object.

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
    if let Some(b) = r.bool("request-buffering") {
        route.request_buffering = Some(b);
    }
    if let Some(b) = r.bool("response-buffering") {
        route.response_buffering = Some(b);
    }
    if let Some(n) = r.int("regex-priority", i64::from(i32::MIN), i64::from(i32::MAX)) {
        route.regex_priority = Some(n);
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
    if let Some(p) = r.one_of("path-handling", &["v0", "v1"]) {
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
    if let Some(snis) = r.list("snis") {
        route.snis = snis;
    }
    if let Some(aliases) = r.list("host-aliases") {
        for alias in aliases {
            if !route.hosts.contains(&alias) {
                route.hosts.push(alias);
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
    if let Some(all) = annotations {
        let header_prefix = format!("{PREFIX}headers.");
        for (key, value) in all.range(header_prefix.clone()..) {
            let Some(name) = key.strip_prefix(&header_prefix) else {
                break;
            };
            let values: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            if !name.is_empty() && !values.is_empty() {
                route.headers.insert(name.to_string(), values);
            }
        }
    }
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
