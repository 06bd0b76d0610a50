//! Objects the apiserver would refuse (the CRDs' CEL rules and ranges, Kubernetes' and
//! Gateway API's validation) or whose values Kong would refuse. In a cluster they never reach
//! kingress, or Kong's rejection is handled by the controller's fallback; offline nothing
//! stops them, so the translator must report each on its object and field, leave it out, and
//! still emit a config Kong accepts.

use super::support::apply::{Mode, api_error_message, try_apply_yaml};
use super::support::controlplane::shared;
use super::{assert_good_translated, assert_kong_accepts, run, with_good};

/// (spec, the CRD rule's message): one case per CEL rule of the KongUpstreamPolicy CRD,
/// each breaking that rule only. Missing: "spec.stickySessions.cookie is required when
/// spec.stickySessions is set.", which the schema's `required` reports first (and the reader
/// refuses offline).
const CEL_CASES: &[(&str, &str)] = &[
    (
        "  algorithm: consistent-hashing\n  hashOn: {header: x-a, input: ip}\n",
        "Only one of spec.hashOn.(input|cookie|header|uriCapture|queryArg) can be set.",
    ),
    (
        "  algorithm: consistent-hashing\n  hashOn: {cookie: c}\n",
        "When spec.hashOn.cookie is set, spec.hashOn.cookiePath is required.",
    ),
    (
        "  algorithm: consistent-hashing\n  hashOn: {cookiePath: /}\n",
        "When spec.hashOn.cookiePath is set, spec.hashOn.cookie is required.",
    ),
    (
        "  hashOn: {header: x-a}\n",
        "spec.algorithm must be set to either 'consistent-hashing' or 'sticky-sessions' when spec.hashOn is set.",
    ),
    (
        "  algorithm: round-robin\n  hashOnFallback: {input: ip}\n",
        "spec.algorithm must be set to \"consistent-hashing\" when spec.hashOnFallback is set.",
    ),
    (
        "  algorithm: consistent-hashing\n  hashOn: {cookie: c, cookiePath: /}\n  hashOnFallback: {input: ip}\n",
        "spec.hashOnFallback must not be set when spec.hashOn.cookie is set.",
    ),
    (
        "  healthchecks: {passive: {healthy: {interval: 5}}}\n",
        "spec.healthchecks.passive.healthy.interval must not be set.",
    ),
    (
        "  healthchecks: {passive: {unhealthy: {interval: 5}}}\n",
        "spec.healthchecks.passive.unhealthy.interval must not be set.",
    ),
    (
        "  algorithm: consistent-hashing\n  hashOnFallback: {header: x-a, input: ip}\n",
        "Only one of spec.hashOnFallback.(input|header|uriCapture|queryArg) can be set.",
    ),
    (
        "  algorithm: sticky-sessions\n  hashOn: {input: ip}\n  stickySessions: {cookie: s}\n",
        "When spec.stickySessions is set, spec.hashOn.input must be set to 'none' (no other hash_on fields allowed).",
    ),
    (
        "  algorithm: consistent-hashing\n  hashOn: {input: none}\n  stickySessions: {cookie: s}\n",
        "spec.algorithm must be set to 'sticky-sessions' when spec.stickySessions is set.",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cel_invalid_policies_get_the_apiservers_exact_message() {
    let cp = shared();
    let client = cp.client().await;
    let ns = cp.namespace("bad-cel").await;
    for (i, (spec, rule)) in CEL_CASES.iter().enumerate() {
        let name = format!("invalid-{i}");
        let yaml = format!(
            "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata:\n  name: {name}\nspec:\n{spec}"
        );
        let message =
            api_error_message(try_apply_yaml(&client, Some(&ns), &yaml, Mode::Create).await);
        assert_eq!(
            message,
            format!(
                "KongUpstreamPolicy.configuration.konghq.com \"{name}\" is invalid: <nil>: Invalid value: \"object\": {rule}"
            ),
            "spec:\n{spec}"
        );
    }
}

/// Offline there is no apiserver: a policy it would refuse must still not make kingress emit a
/// config Kong rejects, and the Services behind it keep working.
#[test]
fn cel_invalid_policies_offline_never_reach_kong() {
    let mut failures = Vec::new();
    for (spec, rule) in CEL_CASES {
        let o = run(&with_good(&format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: cel, annotations: {{konghq.com/upstream-policy: cel}}}}\n\
             spec: {{ports: [{{port: 80}}]}}\n---\n\
             apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {{name: cel}}\nspec:\n{spec}---\n\
             apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: cel}}\nspec:\n  ingressClassName: kong\n  \
             rules: [{{http: {{paths: [{{path: /cel, pathType: Prefix, backend: {{service: {{name: cel, port: {{number: 80}}}}}}}}]}}}}]\n"
        )));
        let value = serde_json::to_value(&o.config).expect("json");
        if let Err(e) = kong_admin_double::validate(&value) {
            failures.push(format!(
                "rule {rule:?}\nspec:\n{spec}Kong rejects: {}\nproblems:\n{}",
                serde_json::to_string(&e.flattened_errors()).unwrap_or_default(),
                o.lines.join("\n")
            ));
        }
        match o.config.upstream("cel.default.80.svc") {
            None => failures.push(format!("rule {rule:?}: the Service's upstream is gone")),
            // Left out whole: nothing of the policy is applied.
            Some(u) if u.algorithm.as_deref() != Some("round-robin") || u.hash_on.is_some() => {
                failures.push(format!(
                    "rule {rule:?}: part of the policy was applied: {u:?}"
                ))
            }
            Some(_) => {}
        }
        let reported = o.lines.iter().any(|l| {
            l.starts_with("error: KongUpstreamPolicy default/cel: spec.")
                && l.contains(rule)
                && l.contains("upstream cel.default.80.svc keeps Kong's defaults")
        });
        if !reported {
            failures.push(format!(
                "rule {rule:?} is not reported on the policy:\n{}",
                o.lines.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// Numbers outside what Kubernetes or Kong allow. Offline, nothing stops them reaching the
/// translator: each must be reported on its object and field (or be documented as clamped),
/// and the config must still pass Kong's validation.
#[test]
fn out_of_range_numbers_never_reach_kong() {
    let cases: &[(&str, &[&str])] = &[
        (
            // Larger than i32: the reader refuses it.
            "apiVersion: v1\nkind: Service\nmetadata: {name: huge}\nspec: {ports: [{port: 99999999999}]}\n",
            &["(document 4): Service huge", "invalid Service"],
        ),
        (
            // A Service port Kubernetes would refuse (1..=65535), used by an Ingress.
            "apiVersion: v1\nkind: Service\nmetadata: {name: big}\nspec: {ports: [{port: 70000}]}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: big}\nspec:\n  ingressClassName: kong\n  \
             rules: [{http: {paths: [{path: /big, pathType: Prefix, backend: {service: {name: big, port: {number: 70000}}}}]}}]\n",
            &[
                "error: Service default/big: spec.ports[0].port: 70000",
                "Ingress default/big",
            ],
        ),
        (
            // slots below the CRD's minimum of 10 (Kong: 10..=65536).
            "apiVersion: v1\nkind: Service\nmetadata: {name: s5, annotations: {konghq.com/upstream-policy: s5}}\n\
             spec: {ports: [{port: 80}]}\n---\n\
             apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: s5}\nspec: {slots: 5}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: s5}\nspec:\n  ingressClassName: kong\n  \
             rules: [{http: {paths: [{path: /s5, pathType: Prefix, backend: {service: {name: s5, port: {number: 80}}}}]}}]\n",
            &["error: KongUpstreamPolicy default/s5", "spec.slots"],
        ),
        (
            // Health-check counters above Kong's 255 and a negative timeout.
            "apiVersion: v1\nkind: Service\nmetadata: {name: hc, annotations: {konghq.com/upstream-policy: hc}}\n\
             spec: {ports: [{port: 80}]}\n---\n\
             apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: hc}\n\
             spec: {healthchecks: {active: {timeout: -1, healthy: {successes: 300, interval: 5}}}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: hc}\nspec:\n  ingressClassName: kong\n  \
             rules: [{http: {paths: [{path: /hc, pathType: Prefix, backend: {service: {name: hc, port: {number: 80}}}}]}}]\n",
            &[
                "error: KongUpstreamPolicy default/hc",
                "spec.healthchecks.active.healthy.successes",
            ],
        ),
        (
            // Annotations with numbers out of Kong's ranges.
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: ann\n  annotations: {konghq.com/retries: \"-3\", \
             konghq.com/connect-timeout: \"99999999999\"}\nspec: {ports: [{port: 80}]}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ann\n  annotations: {konghq.com/regex-priority: \"abc\", \
             konghq.com/https-redirect-status-code: \"999\"}\nspec:\n  ingressClassName: kong\n  \
             rules: [{http: {paths: [{path: /ann, pathType: Prefix, backend: {service: {name: ann, port: {number: 80}}}}]}}]\n",
            &["Service default/ann", "konghq.com/retries"],
        ),
        (
            // HTTPRoute weights: negative (CRD minimum 0) and above the CRD's 1000000.
            "apiVersion: v1\nkind: Service\nmetadata: {name: w}\nspec: {ports: [{port: 80}]}\n---\n\
             apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: w-1, labels: {kubernetes.io/service-name: w}}\n\
             addressType: IPv4\nports: [{port: 80}]\nendpoints: [{addresses: [10.1.1.1]}, {addresses: [10.1.1.2]}, {addresses: [10.1.1.3]}]\n---\n\
             apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: w}\n\
             spec: {rules: [{backendRefs: [{name: w, port: 80, weight: -5}, {name: good, port: 80, weight: 2000000000}]}]}\n",
            &["HTTPRoute default/w", "weight"],
        ),
    ];
    let mut failures = Vec::new();
    for (yaml, expected) in cases {
        let o = run(&with_good(yaml));
        let value = serde_json::to_value(&o.config).expect("json");
        let rejected = kong_admin_double::validate(&value)
            .err()
            .map(|e| serde_json::to_string(&e.flattened_errors()).unwrap_or_default());
        let reported = o
            .lines
            .iter()
            .any(|l| expected.iter().all(|p| l.contains(p)));
        if rejected.is_some() || !reported {
            failures.push(format!(
                "input:\n{yaml}\nreported {expected:?}: {reported}\nKong rejects: {}\nproblems:\n{}\n",
                rejected.unwrap_or_else(|| "no".into()),
                o.lines.join("\n")
            ));
        }
        if o.config.upstream("good.default.80.svc").is_none() {
            failures.push(format!("input:\n{yaml}\nthe good upstream is gone"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// Both weights are reported, each on its backendRef, and neither backend is used.
#[test]
fn weights_outside_gateway_apis_range_leave_their_backend_out() {
    let o = run(&with_good(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: w}
spec:
  rules:
  - backendRefs: [{name: good, port: 80, weight: -5}, {name: good, port: 80, weight: 1000001}]
  - backendRefs: [{name: good, port: 80, weight: 1000000}]
",
    ));
    o.expect(&[
        "error: HTTPRoute default/w: spec.rules[0].backendRefs[0].weight: -5 is outside 0-1000000",
        "backend left out",
    ]);
    o.expect(&["spec.rules[0].backendRefs[1].weight: 1000001 is outside 0-1000000"]);
    // No backend left in rule 0: KIC's 500; the maximum itself is fine.
    assert!(
        o.config
            .upstream("httproute.default.w.0")
            .is_some_and(|u| u.targets.is_empty())
    );
    assert_eq!(o.upstream_targets("httproute.default.w.1").len(), 2);
    assert_good_translated(&o);
}

#[test]
fn unicode_in_hosts_headers_and_paths() {
    // `books.example` next to the invalid `bücher.example`: dropping an invalid hostname must
    // not widen the route to every host (see the next test), so a valid one is kept here.
    let o = run(&with_good(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: unicode}
spec:
  hostnames: [bücher.example, books.example]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /straße}
      headers: [{name: x-grüße, value: hallo}]
    backendRefs: [{name: good, port: 80}]
  - matches:
    - path: {type: Exact, value: /路径/😀}
      headers: [{name: x-ok, value: grüße 😀}]
    backendRefs: [{name: good, port: 80, weight: 2}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: unicode}
spec:
  ingressClassName: kong
  rules:
  - host: straße.example
    http: {paths: [{path: /ü, pathType: Prefix, backend: {service: {name: good, port: {number: 80}}}}]}
",
    ));
    // Whatever is kept must be valid for Kong; whatever Kong cannot take must be reported
    // on its object.
    assert_kong_accepts(&o);
    let route_names: Vec<&str> = o.config.routes().map(|(_, r)| r.name.as_str()).collect();
    let has_route = |prefix: &str| route_names.iter().any(|n| n.starts_with(prefix));
    for (prefix, object) in [
        ("httproute.default.unicode.0.", "HTTPRoute default/unicode"),
        ("httproute.default.unicode.1.", "HTTPRoute default/unicode"),
        ("default.unicode.", "Ingress default/unicode"),
    ] {
        assert!(
            has_route(prefix) || o.has(object),
            "{prefix}* is neither translated nor reported:\n{}",
            o.lines.join("\n")
        );
    }
    // The route with only a unicode value and path (both fine for Kong) is kept.
    assert!(has_route("httproute.default.unicode.1."), "{route_names:?}");
    // ... for the valid hostname only; the invalid one and the invalid header are reported
    // on their fields, and the Ingress rule whose host is invalid is left out.
    let kept = o
        .config
        .routes()
        .find(|(_, r)| r.name.starts_with("httproute.default.unicode.1."))
        .map(|(_, r)| r.hosts.clone());
    assert_eq!(kept, Some(vec!["books.example".to_string()]));
    o.expect(&[
        "error: HTTPRoute default/unicode: spec.hostnames[0]: \"bücher.example\" is not a valid hostname",
    ]);
    o.expect(&[
        "error: HTTPRoute default/unicode: spec.rules[0].matches[0].headers[0].name: \"x-grüße\" is not a valid HTTP header name",
        "rule 0 left out",
    ]);
    o.expect(&[
        "error: Ingress default/unicode: spec.rules[0].host: \"straße.example\" is not a valid hostname",
        "rule left out",
    ]);
    assert!(
        !has_route("httproute.default.unicode.0."),
        "{route_names:?}"
    );
    assert!(!has_route("default.unicode."), "{route_names:?}");
    assert_good_translated(&o);
}

/// Leaving out invalid hosts must never widen a route to every host: an HTTPRoute with no
/// valid hostname left is left out, as an Ingress rule with an invalid host is. Wildcards
/// stay valid; names Kong cannot match on (`x.y`, `Host`) are reported even though they are
/// HTTP tokens.
#[test]
fn invalid_hosts_and_header_names_never_widen_a_route() {
    // A real key pair Kong's checks accept.
    let secret = include_str!("../golden/ingress-tls/in.yaml")
        .split("\n---\n")
        .find(|d| d.starts_with("apiVersion: v1\nkind: Secret"))
        .expect("the Secret of the ingress-tls golden case");
    let objects = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: nohost}
spec:
  hostnames: [bücher.example, Upper.example]
  rules: [{backendRefs: [{name: good, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: headers}
spec:
  hostnames: ['*.example.com']
  rules:
  - matches: [{headers: [{name: x.y, value: a}]}]
    backendRefs: [{name: good, port: 80}]
  - matches: [{headers: [{name: Host, value: a}]}]
    backendRefs: [{name: good, port: 80}]
  - matches: [{headers: [{name: x-fine, value: a}]}]
    backendRefs: [{name: good, port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: hosts}
spec:
  ingressClassName: kong
  rules:
  - host: 10.0.0.1
    http: {paths: [{path: /ip, pathType: Prefix, backend: {service: {name: good, port: {number: 80}}}}]}
  - host: '*.example.org'
    http: {paths: [{path: /w, pathType: Prefix, backend: {service: {name: good, port: {number: 80}}}}]}
  tls: [{hosts: [straße.example, a.example.com], secretName: example-tls}]
";
    let o = run(&with_good(&format!("{objects}---\n{secret}")));
    o.expect(&[
        "error: HTTPRoute default/nohost: spec.hostnames[1]",
        "no valid hostname left, HTTPRoute left out",
    ]);
    o.expect(&["HTTPRoute default/nohost: spec.hostnames[0]"]);
    o.expect(&[
        "HTTPRoute default/headers: spec.rules[0].matches[0].headers[0].name",
        "Kong matches only header names of letters, digits, '-' and '_'; rule 0 left out",
    ]);
    o.expect(&[
        "HTTPRoute default/headers: spec.rules[1].matches[0].headers[0].name",
        "rule 1 left out",
    ]);
    o.expect(&[
        "error: Ingress default/hosts: spec.rules[0].host: \"10.0.0.1\" must be a DNS name, not an IP address; rule left out",
    ]);
    o.expect(&[
        "error: Ingress default/hosts: spec.tls[0].hosts[0]: \"straße.example\" is not a valid hostname",
        "left out of the certificate's SNIs",
    ]);
    let snis: Vec<&str> = o
        .config
        .certificates
        .iter()
        .flat_map(|c| c.snis.iter().map(|s| s.name.as_str()))
        .collect();
    assert_eq!(snis, ["a.example.com"]);
    let mut routes: Vec<(String, Vec<String>)> = o
        .config
        .routes()
        .filter(|(_, r)| r.name != "default.good.good..80")
        .map(|(_, r)| (r.name.clone(), r.hosts.clone()))
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        vec![
            (
                "default.hosts.good._.example.org.80".to_string(),
                vec!["*.example.org".to_string()]
            ),
            (
                "httproute.default.headers.2.0".to_string(),
                vec!["*.example.com".to_string()]
            ),
        ],
        "{}",
        o.lines.join("\n")
    );
    assert!(o.config.service("httproute.default.nohost.0").is_none());
    assert_good_translated(&o);
}
