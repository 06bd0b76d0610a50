//! What the apiserver and Kong would refuse in a KongUpstreamPolicy: the CRD's ranges and
//! pattern, its CEL rules (with their exact messages), and Kong's own ranges where they are
//! narrower than the CRD's (health-check counters, intervals, timeout, threshold).
//!
//! In a cluster the apiserver enforces the CRD part, so only Kong's part can fail there;
//! offline (`kingress translate`) nothing else does. A policy with any violation is not
//! applied, so kingress never emits an upstream Kong rejects because of it.

use crate::crd::upstream_policy::{
    Algorithm, HashInput, KongUpstreamActiveHealthcheck, KongUpstreamHash,
    KongUpstreamHealthcheckHealthy, KongUpstreamHealthcheckUnhealthy, KongUpstreamPolicySpec,
};

/// One rule the policy breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub message: String,
}

use crate::kong::healthchecks::{
    SCHEMA_MAX_COUNTER as KONG_MAX_COUNTER, SCHEMA_MAX_SECONDS as KONG_MAX_SECONDS,
    SCHEMA_MAX_THRESHOLD as KONG_MAX_THRESHOLD,
};
const CRD_RANGE: &str = "the CRD's range";
const CRD_MIN_KONG_MAX: &str = "the CRD's minimum, Kong's maximum";

/// Every rule `spec` breaks, CEL rules first (in the CRD's order), then ranges by field.
pub fn validate(spec: &KongUpstreamPolicySpec) -> Vec<Violation> {
    let mut v = Checker(Vec::new());
    cel_rules(spec, &mut v);
    v.range("spec.slots", spec.slots, 10, 65536, CRD_RANGE);
    if let Some(hc) = &spec.healthchecks {
        v.range(
            "spec.healthchecks.threshold",
            hc.threshold,
            0,
            KONG_MAX_THRESHOLD,
            "Kong's range",
        );
        if let Some(a) = &hc.active {
            active(a, &mut v);
        }
        if let Some(p) = &hc.passive {
            const AT: &str = "spec.healthchecks.passive";
            if let Some(h) = &p.healthy {
                healthy(h, &format!("{AT}.healthy"), &mut v);
            }
            if let Some(u) = &p.unhealthy {
                unhealthy(u, &format!("{AT}.unhealthy"), &mut v);
            }
        }
    }
    if let Some(s) = &spec.sticky_sessions
        && s.cookie.is_empty()
    {
        v.push(
            "spec.stickySessions.cookie",
            "must not be empty (the CRD's minLength is 1)".into(),
        );
    }
    v.0
}

struct Checker(Vec<Violation>);

impl Checker {
    fn push(&mut self, field: &str, message: String) {
        self.0.push(Violation {
            field: field.to_string(),
            message,
        });
    }

    /// `value` within `min..=max`; `source` says whose range that is.
    fn range(&mut self, field: &str, value: Option<i32>, min: i32, max: i32, source: &str) {
        if let Some(n) = value
            && !(min..=max).contains(&n)
        {
            self.push(field, format!("{n} is outside {min}-{max} ({source})"));
        }
    }

    fn counter(&mut self, field: &str, value: Option<i32>) {
        self.range(field, value, 0, KONG_MAX_COUNTER, CRD_MIN_KONG_MAX);
    }

    fn seconds(&mut self, field: &str, value: Option<i32>) {
        self.range(field, value, 0, KONG_MAX_SECONDS, CRD_MIN_KONG_MAX);
    }

    fn statuses(&mut self, field: &str, statuses: Option<&Vec<i32>>) {
        for (i, s) in statuses.into_iter().flatten().enumerate() {
            self.range(&format!("{field}[{i}]"), Some(*s), 100, 599, CRD_RANGE);
        }
    }
}

fn active(a: &KongUpstreamActiveHealthcheck, v: &mut Checker) {
    const AT: &str = "spec.healthchecks.active";
    if let Some(n) = a.concurrency
        && n < 1
    {
        v.push(
            &format!("{AT}.concurrency"),
            format!("{n} is below the CRD's minimum of 1"),
        );
    }
    v.seconds(&format!("{AT}.timeout"), a.timeout);
    // The CRD's pattern `^/.*$` (RE2: `.` does not match a newline).
    if let Some(path) = &a.http_path
        && (!path.starts_with('/') || path.contains('\n'))
    {
        v.push(
            &format!("{AT}.httpPath"),
            format!("{path:?} does not match the CRD's pattern ^/.*$"),
        );
    }
    if let Some(h) = &a.healthy {
        healthy(h, &format!("{AT}.healthy"), v);
    }
    if let Some(u) = &a.unhealthy {
        unhealthy(u, &format!("{AT}.unhealthy"), v);
    }
}

fn healthy(h: &KongUpstreamHealthcheckHealthy, at: &str, v: &mut Checker) {
    v.statuses(&format!("{at}.httpStatuses"), h.http_statuses.as_ref());
    v.seconds(&format!("{at}.interval"), h.interval);
    v.counter(&format!("{at}.successes"), h.successes);
}

fn unhealthy(u: &KongUpstreamHealthcheckUnhealthy, at: &str, v: &mut Checker) {
    v.counter(&format!("{at}.httpFailures"), u.http_failures);
    v.statuses(&format!("{at}.httpStatuses"), u.http_statuses.as_ref());
    v.seconds(&format!("{at}.interval"), u.interval);
    v.counter(&format!("{at}.tcpFailures"), u.tcp_failures);
    v.counter(&format!("{at}.timeouts"), u.timeouts);
}

/// How many of the hash sources are set (`cookie` only counts for `hashOn`).
fn sources(h: &KongUpstreamHash, with_cookie: bool) -> usize {
    [
        h.input.is_some(),
        with_cookie && h.cookie.is_some(),
        h.header.is_some(),
        h.uri_capture.is_some(),
        h.query_arg.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count()
}

/// The CRD's `x-kubernetes-validations`, in its order, each with its exact message.
fn cel_rules(spec: &KongUpstreamPolicySpec, v: &mut Checker) {
    let algorithm = spec.algorithm;
    if let Some(h) = &spec.hash_on {
        if sources(h, true) > 1 {
            v.push(
                "spec.hashOn",
                "Only one of spec.hashOn.(input|cookie|header|uriCapture|queryArg) can be set."
                    .into(),
            );
        }
        if h.cookie.is_some() && h.cookie_path.is_none() {
            v.push(
                "spec.hashOn.cookiePath",
                "When spec.hashOn.cookie is set, spec.hashOn.cookiePath is required.".into(),
            );
        }
        if h.cookie_path.is_some() && h.cookie.is_none() {
            v.push(
                "spec.hashOn.cookie",
                "When spec.hashOn.cookiePath is set, spec.hashOn.cookie is required.".into(),
            );
        }
        if !matches!(
            algorithm,
            Some(Algorithm::ConsistentHashing | Algorithm::StickySessions)
        ) {
            v.push(
                "spec.algorithm",
                "spec.algorithm must be set to either 'consistent-hashing' or 'sticky-sessions' when spec.hashOn is set.".into(),
            );
        }
    }
    if let Some(f) = &spec.hash_on_fallback {
        if sources(f, false) > 1 {
            v.push(
                "spec.hashOnFallback",
                "Only one of spec.hashOnFallback.(input|header|uriCapture|queryArg) can be set."
                    .into(),
            );
        }
        if algorithm != Some(Algorithm::ConsistentHashing) {
            v.push(
                "spec.algorithm",
                r#"spec.algorithm must be set to "consistent-hashing" when spec.hashOnFallback is set."#
                    .into(),
            );
        }
        if spec.hash_on.as_ref().is_some_and(|h| h.cookie.is_some()) {
            v.push(
                "spec.hashOnFallback",
                "spec.hashOnFallback must not be set when spec.hashOn.cookie is set.".into(),
            );
        }
    }
    if let Some(p) = spec.healthchecks.as_ref().and_then(|h| h.passive.as_ref()) {
        if p.healthy.as_ref().is_some_and(|h| h.interval.is_some()) {
            v.push(
                "spec.healthchecks.passive.healthy.interval",
                "spec.healthchecks.passive.healthy.interval must not be set.".into(),
            );
        }
        if p.unhealthy.as_ref().is_some_and(|u| u.interval.is_some()) {
            v.push(
                "spec.healthchecks.passive.unhealthy.interval",
                "spec.healthchecks.passive.unhealthy.interval must not be set.".into(),
            );
        }
    }
    if spec.sticky_sessions.is_some() {
        let only_none = spec.hash_on.as_ref().is_some_and(|h| {
            h.input == Some(HashInput::None) && sources(h, true) == 1 && h.cookie_path.is_none()
        });
        if !only_none {
            v.push(
                "spec.hashOn.input",
                "When spec.stickySessions is set, spec.hashOn.input must be set to 'none' (no other hash_on fields allowed).".into(),
            );
        }
        // "spec.stickySessions.cookie is required when spec.stickySessions is set.": the
        // reader already refuses a stickySessions without cookie (a required field).
        if algorithm != Some(Algorithm::StickySessions) {
            v.push(
                "spec.algorithm",
                "spec.algorithm must be set to 'sticky-sessions' when spec.stickySessions is set."
                    .into(),
            );
        }
    }
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
