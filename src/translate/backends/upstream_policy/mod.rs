//! KongUpstreamPolicy → Kong upstream fields (KIC's mapping: only set fields override).

use crate::crd::upstream_policy::{
    Algorithm, KongUpstreamActiveHealthcheck, KongUpstreamHash, KongUpstreamHealthcheck,
    KongUpstreamHealthcheckHealthy, KongUpstreamHealthcheckUnhealthy,
    KongUpstreamPassiveHealthcheck, KongUpstreamPolicySpec,
};
use crate::kong::config::{
    ActiveHealthcheck, Healthchecks, Healthy, PassiveHealthcheck, Unhealthy, Upstream,
};

mod checks;
pub use checks::{Violation, validate};

/// Annotation on a Service naming the KongUpstreamPolicy (same namespace) for its upstreams.
pub const ANNOTATION: &str = "konghq.com/upstream-policy";

use crate::kong::healthchecks::CHECKER_MAX_COUNTER;

/// A setting Kong accepts but that will not do what the policy seems to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWarning {
    pub field: String,
    pub message: String,
}

/// Applies `spec` to `upstream`, returning warnings about settings Kong silently changes.
pub fn apply(spec: &KongUpstreamPolicySpec, upstream: &mut Upstream) -> Vec<PolicyWarning> {
    let mut warnings = Vec::new();
    if let Some(algorithm) = &spec.algorithm {
        upstream.algorithm = Some(algorithm.as_str().to_string());
    }
    if let Some(slots) = spec.slots {
        upstream.slots = Some(i64::from(slots));
    }
    if let Some(hash) = &spec.hash_on {
        apply_hash_on(hash, upstream);
    }
    if let Some(hash) = &spec.hash_on_fallback {
        apply_hash_fallback(hash, upstream);
    }
    if let Some(hc) = &spec.healthchecks {
        upstream.healthchecks = Some(healthchecks(hc, &mut warnings));
    }
    if let Some(sticky) = &spec.sticky_sessions {
        upstream.sticky_sessions_cookie = Some(sticky.cookie.clone());
        upstream.sticky_sessions_cookie_path = sticky.cookie_path.clone();
    }
    if spec.algorithm == Some(Algorithm::ConsistentHashing)
        && upstream.hash_on.as_deref().is_none_or(|h| h == "none")
    {
        warnings.push(PolicyWarning {
            field: "spec.hashOn".into(),
            // Kong keeps consistent-hashing and hashes "" for every request (Upstream::hashes_nothing).
            message: "algorithm consistent-hashing without hashOn: Kong hashes the same empty value for every request, so one target takes all traffic"
                .into(),
        });
    }
    warnings
}

fn apply_hash_on(hash: &KongUpstreamHash, u: &mut Upstream) {
    if let Some(input) = &hash.input {
        u.hash_on = Some(input.as_str().to_string());
    }
    if let Some(header) = &hash.header {
        u.hash_on = Some("header".into());
        u.hash_on_header = Some(header.clone());
    }
    if let Some(cookie) = &hash.cookie {
        u.hash_on = Some("cookie".into());
        u.hash_on_cookie = Some(cookie.clone());
    }
    if let Some(path) = &hash.cookie_path {
        u.hash_on_cookie_path = Some(path.clone());
    }
    if let Some(arg) = &hash.query_arg {
        u.hash_on = Some("query_arg".into());
        u.hash_on_query_arg = Some(arg.clone());
    }
    if let Some(capture) = &hash.uri_capture {
        u.hash_on = Some("uri_capture".into());
        u.hash_on_uri_capture = Some(capture.clone());
    }
}

fn apply_hash_fallback(hash: &KongUpstreamHash, u: &mut Upstream) {
    if let Some(input) = &hash.input {
        u.hash_fallback = Some(input.as_str().to_string());
    }
    if let Some(header) = &hash.header {
        u.hash_fallback = Some("header".into());
        u.hash_fallback_header = Some(header.clone());
    }
    // Kong has no cookie fallback fields beyond hash_on_cookie; KIC maps it the same way.
    if let Some(cookie) = &hash.cookie {
        u.hash_fallback = Some("cookie".into());
        u.hash_on_cookie = Some(cookie.clone());
    }
    if let Some(path) = &hash.cookie_path {
        u.hash_on_cookie_path = Some(path.clone());
    }
    if let Some(arg) = &hash.query_arg {
        u.hash_fallback = Some("query_arg".into());
        u.hash_fallback_query_arg = Some(arg.clone());
    }
    if let Some(capture) = &hash.uri_capture {
        u.hash_fallback = Some("uri_capture".into());
        u.hash_fallback_uri_capture = Some(capture.clone());
    }
}

fn counter(v: Option<i32>, field: &str, warnings: &mut Vec<PolicyWarning>) -> Option<i64> {
    if let Some(n) = v
        && n > CHECKER_MAX_COUNTER
    {
        warnings.push(PolicyWarning {
            field: field.to_string(),
            message: format!(
                "{n} exceeds what Kong's health checker supports ({CHECKER_MAX_COUNTER}); Kong fails to start the checker"
            ),
        });
    }
    v.map(i64::from)
}

fn healthy(h: &KongUpstreamHealthcheckHealthy, at: &str, w: &mut Vec<PolicyWarning>) -> Healthy {
    Healthy {
        http_statuses: h
            .http_statuses
            .as_ref()
            .map(|v| v.iter().copied().map(i64::from).collect()),
        interval: h.interval.map(i64::from),
        successes: counter(h.successes, &format!("{at}.successes"), w),
    }
}

fn unhealthy(
    h: &KongUpstreamHealthcheckUnhealthy,
    at: &str,
    w: &mut Vec<PolicyWarning>,
) -> Unhealthy {
    Unhealthy {
        http_failures: counter(h.http_failures, &format!("{at}.httpFailures"), w),
        http_statuses: h
            .http_statuses
            .as_ref()
            .map(|v| v.iter().copied().map(i64::from).collect()),
        interval: h.interval.map(i64::from),
        tcp_failures: counter(h.tcp_failures, &format!("{at}.tcpFailures"), w),
        timeouts: counter(h.timeouts, &format!("{at}.timeouts"), w),
    }
}

fn active(a: &KongUpstreamActiveHealthcheck, w: &mut Vec<PolicyWarning>) -> ActiveHealthcheck {
    const AT: &str = "spec.healthchecks.active";
    if let Some(t) = &a.type_
        && matches!(t.as_str(), "grpc" | "grpcs")
    {
        w.push(PolicyWarning {
            field: format!("{AT}.type"),
            message: format!(
                "active health checks of type {} are accepted by Kong but never probed by its health checker",
                t.as_str()
            ),
        });
    }
    ActiveHealthcheck {
        concurrency: a.concurrency.map(i64::from),
        headers: a.headers.clone(),
        healthy: a
            .healthy
            .as_ref()
            .map(|h| healthy(h, &format!("{AT}.healthy"), w)),
        http_path: a.http_path.clone(),
        https_sni: a.https_sni.clone(),
        https_verify_certificate: a.https_verify_certificate,
        timeout: a.timeout.map(i64::from),
        kind: a.type_.as_ref().map(|t| t.as_str().to_string()),
        unhealthy: a
            .unhealthy
            .as_ref()
            .map(|h| unhealthy(h, &format!("{AT}.unhealthy"), w)),
    }
}

fn passive(p: &KongUpstreamPassiveHealthcheck, w: &mut Vec<PolicyWarning>) -> PassiveHealthcheck {
    const AT: &str = "spec.healthchecks.passive";
    PassiveHealthcheck {
        healthy: p
            .healthy
            .as_ref()
            .map(|h| healthy(h, &format!("{AT}.healthy"), w)),
        kind: p.type_.as_ref().map(|t| t.as_str().to_string()),
        unhealthy: p
            .unhealthy
            .as_ref()
            .map(|h| unhealthy(h, &format!("{AT}.unhealthy"), w)),
    }
}

fn healthchecks(hc: &KongUpstreamHealthcheck, w: &mut Vec<PolicyWarning>) -> Healthchecks {
    Healthchecks {
        active: hc.active.as_ref().map(|a| active(a, w)),
        passive: hc.passive.as_ref().map(|p| passive(p, w)),
        threshold: hc.threshold.map(f64::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> KongUpstreamPolicySpec {
        serde_norway::from_str(yaml).expect("valid spec")
    }

    fn upstream() -> Upstream {
        Upstream {
            name: "echo.default.80.svc".into(),
            algorithm: Some("round-robin".into()),
            ..Default::default()
        }
    }

    #[test]
    fn header_with_ip_fallback() {
        let mut u = upstream();
        let w = apply(
            &spec(
                "algorithm: consistent-hashing\nhashOn: {header: x-lb}\nhashOnFallback: {input: ip}\n",
            ),
            &mut u,
        );
        assert!(w.is_empty());
        assert_eq!(u.algorithm.as_deref(), Some("consistent-hashing"));
        assert_eq!(u.hash_on.as_deref(), Some("header"));
        assert_eq!(u.hash_on_header.as_deref(), Some("x-lb"));
        assert_eq!(u.hash_fallback.as_deref(), Some("ip"));
    }

    #[test]
    fn every_hash_input() {
        let cases = [
            ("{input: consumer}", "consumer", None),
            ("{input: path}", "path", None),
            ("{input: ip}", "ip", None),
            ("{cookie: c, cookiePath: /p}", "cookie", Some("c")),
            ("{queryArg: q}", "query_arg", Some("q")),
            ("{uriCapture: u}", "uri_capture", Some("u")),
        ];
        for (hash, want, name) in cases {
            let mut u = upstream();
            apply(
                &spec(&format!("algorithm: consistent-hashing\nhashOn: {hash}\n")),
                &mut u,
            );
            assert_eq!(u.hash_on.as_deref(), Some(want), "{hash}");
            let got = u
                .hash_on_cookie
                .clone()
                .or(u.hash_on_query_arg.clone())
                .or(u.hash_on_uri_capture.clone());
            assert_eq!(got.as_deref(), name, "{hash}");
        }
        let mut u = upstream();
        apply(&spec("hashOn: {cookie: c, cookiePath: /p}\n"), &mut u);
        assert_eq!(u.hash_on_cookie_path.as_deref(), Some("/p"));
    }

    #[test]
    fn every_fallback_input() {
        let cases = [
            ("{header: h}", "header"),
            ("{queryArg: q}", "query_arg"),
            ("{uriCapture: u}", "uri_capture"),
            ("{input: consumer}", "consumer"),
        ];
        for (hash, want) in cases {
            let mut u = upstream();
            apply(
                &spec(&format!(
                    "algorithm: consistent-hashing\nhashOn: {{input: ip}}\nhashOnFallback: {hash}\n"
                )),
                &mut u,
            );
            assert_eq!(u.hash_fallback.as_deref(), Some(want), "{hash}");
        }
        let mut u = upstream();
        apply(&spec("hashOnFallback: {header: h2}\n"), &mut u);
        assert_eq!(u.hash_fallback_header.as_deref(), Some("h2"));
        apply(&spec("hashOnFallback: {queryArg: q2}\n"), &mut u);
        assert_eq!(u.hash_fallback_query_arg.as_deref(), Some("q2"));
        apply(&spec("hashOnFallback: {uriCapture: u2}\n"), &mut u);
        assert_eq!(u.hash_fallback_uri_capture.as_deref(), Some("u2"));
    }

    #[test]
    fn unset_fields_keep_defaults() {
        let mut u = upstream();
        apply(&spec("slots: 100\n"), &mut u);
        assert_eq!(u.algorithm.as_deref(), Some("round-robin"));
        assert_eq!(u.slots, Some(100));
        assert_eq!(u.hash_on, None);
    }

    #[test]
    fn consistent_hashing_without_hash_on_warns() {
        let mut u = upstream();
        let w = apply(&spec("algorithm: consistent-hashing\n"), &mut u);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].field, "spec.hashOn");
    }

    #[test]
    fn healthchecks_map_to_snake_case() {
        let mut u = upstream();
        let w = apply(
            &spec(
                "healthchecks:\n  threshold: 50\n  active:\n    type: grpc\n    httpPath: /status\n    httpsSni: example.com\n    httpsVerifyCertificate: false\n    concurrency: 20\n    timeout: 15\n    headers: {X-Check: [a, b]}\n    healthy: {httpStatuses: [200], interval: 5, successes: 255}\n    unhealthy: {httpStatuses: [500], httpFailures: 5, tcpFailures: 3, timeouts: 4, interval: 10}\n  passive:\n    type: tcp\n    healthy: {successes: 5}\n    unhealthy: {tcpFailures: 5, timeouts: 10}\n",
            ),
            &mut u,
        );
        let hc = u.healthchecks.expect("healthchecks");
        assert_eq!(hc.threshold, Some(50.0));
        let a = hc.active.expect("active");
        assert_eq!(a.http_path.as_deref(), Some("/status"));
        assert_eq!(a.kind.as_deref(), Some("grpc"));
        assert_eq!(a.unhealthy.as_ref().and_then(|u| u.tcp_failures), Some(3));
        assert_eq!(a.healthy.as_ref().and_then(|h| h.successes), Some(255));
        let p = hc.passive.expect("passive");
        assert_eq!(p.unhealthy.and_then(|u| u.timeouts), Some(10));
        let fields: Vec<&str> = w.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "spec.healthchecks.active.type",
                "spec.healthchecks.active.healthy.successes"
            ]
        );
    }

    #[test]
    fn sticky_sessions() {
        let mut u = upstream();
        let w = apply(
            &spec(
                "algorithm: sticky-sessions\nhashOn: {input: none}\nstickySessions: {cookie: s, cookiePath: /a}\n",
            ),
            &mut u,
        );
        assert_eq!(u.sticky_sessions_cookie.as_deref(), Some("s"));
        assert_eq!(u.sticky_sessions_cookie_path.as_deref(), Some("/a"));
        assert_eq!(u.hash_on.as_deref(), Some("none"));
        // The version gate is the caller's (upstreams::apply_policy).
        assert!(w.is_empty(), "{w:?}");
    }
}
