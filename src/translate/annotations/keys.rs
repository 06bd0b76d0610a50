//! Every `konghq.com/*` annotation key KIC v3.5.13 knows (`internal/annotations/annotations.go`
//! 40-83, plus `konghq.com/upstream-policy` from kubernetes-configuration's KongUpstreamPolicy
//! and the `konghq.com/headers.<name>` family). Beyond KIC: an unknown key on an object
//! kingress translates (a typo such as `konghq.com/strip_path`) gets a warning naming the
//! closest known key, where KIC silently ignores it.

use std::collections::BTreeMap;

use crate::translate::names::ObjectRef;
use crate::translate::problems::{Problems, Reason};

const PREFIX: &str = "konghq.com/";
const HEADERS: &str = "headers.";

/// KIC's keys, without the `konghq.com/` prefix.
const KNOWN: &[&str] = &[
    "override",
    "plugins",
    "protocol",
    "protocols",
    "client-cert",
    "strip-path",
    "path",
    "https-redirect-status-code",
    "preserve-host",
    "regex-priority",
    "host-header",
    "methods",
    "snis",
    "request-buffering",
    "response-buffering",
    "host-aliases",
    "regex-prefix",
    "connect-timeout",
    "write-timeout",
    "read-timeout",
    "retries",
    "headers-separator",
    "path-handling",
    "tags",
    "rewrite",
    "tls-verify",
    "tls-verify-depth",
    "ca-certificates-secrets",
    "ca-certificates-configmaps",
    "gatewayclass-unmanaged",
    "publish-service",
    "upstream-policy",
];

/// Warns about each `konghq.com/*` key of `annotations` KIC does not know.
pub fn check(
    annotations: Option<&BTreeMap<String, String>>,
    object: &ObjectRef,
    problems: &mut Problems,
) {
    let Some(annotations) = annotations else {
        return;
    };
    for key in annotations.keys() {
        let Some(suffix) = key.strip_prefix(PREFIX) else {
            continue;
        };
        if KNOWN.contains(&suffix) || suffix.strip_prefix(HEADERS).is_some_and(|h| !h.is_empty()) {
            continue;
        }
        problems.warning(
            object,
            Reason::InvalidAnnotation,
            Some(format!("metadata.annotations[{key}]")),
            format!(
                "unknown annotation {key} (neither KIC nor kingress reads it); did you mean {PREFIX}{}?",
                closest(suffix)
            ),
        );
    }
}

/// The known key nearest to `suffix` by edit distance (the first of equals, in KIC's order).
fn closest(suffix: &str) -> &'static str {
    let mut best = (usize::MAX, KNOWN[0]);
    let candidates = KNOWN
        .iter()
        .copied()
        .chain(std::iter::once("headers.<name>"));
    for known in candidates {
        let d = distance(suffix, known);
        if d < best.0 {
            best = (d, known);
        }
    }
    best.1
}

/// Levenshtein distance over bytes (keys are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Kind;

    #[test]
    fn a_typo_gets_the_closest_key_and_known_keys_nothing() {
        let annotations: BTreeMap<String, String> = [
            ("konghq.com/strip_path", "true"),
            ("konghq.com/plugin", "a"),
            ("konghq.com/headers.x-env", "prod"),
            ("konghq.com/upstream-policy", "p"),
            ("example.com/other", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut problems = Problems::default();
        let object = ObjectRef::new(Kind::Service, Some("default"), "web");
        check(Some(&annotations), &object, &mut problems);
        let messages: Vec<String> = problems
            .into_sorted()
            .into_iter()
            .map(|p| p.message)
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("konghq.com/strip_path")
            && m.ends_with("did you mean konghq.com/strip-path?")));
        assert!(
            messages
                .iter()
                .any(|m| m.ends_with("did you mean konghq.com/plugins?"))
        );
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
