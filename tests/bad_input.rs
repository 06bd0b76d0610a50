//! Bad-input sweep: every kind of broken input gives a clear problem (naming the file and
//! document, or the object and field) or a documented outcome, and the rest of the
//! configuration is still produced and passes Kong's validation (the admin API double).
//!
//! Most cases run the reader and translator offline, as `kingress translate` does. Objects the
//! apiserver or Kong would refuse are in `bad_input/refused.rs`: the CEL-invalid
//! KongUpstreamPolicies go through the real kube-apiserver (tests/support), whose exact
//! messages are checked, and are then translated offline as well (kingress must not emit a
//! config Kong rejects for an object the apiserver would have refused).

mod support;

// Objects the apiserver or Kong would refuse: CEL rules, ranges, hosts, header names.
#[path = "bad_input/refused.rs"]
mod refused;

use std::path::Path;
use std::time::{Duration, Instant};

use kingress::kong::config::KongConfig;
use kingress::manifests::{self, Loaded};
use kingress::translate::{self, Options, Translation};

/// What `kingress translate` would report and print.
struct Outcome {
    /// Every problem line, as on stderr (reader problems first).
    lines: Vec<String>,
    config: KongConfig,
    translation: Translation,
}

impl Outcome {
    fn has(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.contains(needle))
    }

    /// Asserts one problem line contains every piece of `parts`.
    #[track_caller]
    fn expect(&self, parts: &[&str]) {
        assert!(
            self.lines
                .iter()
                .any(|l| parts.iter().all(|p| l.contains(p))),
            "no problem line containing all of {parts:?}; got:\n{}",
            self.lines.join("\n")
        );
    }

    /// Like [`Outcome::expect`], collecting the failure instead of panicking.
    fn check(&self, parts: &[&str], failures: &mut Vec<String>) {
        if !self
            .lines
            .iter()
            .any(|l| parts.iter().all(|p| l.contains(p)))
        {
            failures.push(format!("no problem line containing all of {parts:?}"));
        }
    }

    #[track_caller]
    fn upstream_targets(&self, name: &str) -> Vec<(String, Option<u32>)> {
        let u = self
            .config
            .upstream(name)
            .unwrap_or_else(|| panic!("no upstream {name}; problems:\n{}", self.lines.join("\n")));
        u.targets
            .iter()
            .map(|t| (t.target.clone(), t.weight))
            .collect()
    }
}

fn run(yaml: &str) -> Outcome {
    let mut loaded = Loaded::default();
    manifests::load_str(yaml, Path::new("in.yaml"), &mut loaded);
    let options = Options {
        assume_attached_without_gateways: true,
        ..Options::default()
    };
    let translation = translate::translate(&loaded.snapshot, &options);
    let mut lines: Vec<String> = loaded.problems.iter().map(|p| p.to_string()).collect();
    lines.extend(translation.problems.iter().map(|p| p.to_string()));
    let config = translation.config.clone();
    Outcome {
        lines,
        config,
        translation,
    }
}

/// Kong must accept what kingress produced, whatever the input was.
#[track_caller]
fn assert_kong_accepts(o: &Outcome) {
    let value = serde_json::to_value(&o.config).expect("config as JSON");
    if let Err(e) = kong_admin_double::validate(&value) {
        panic!(
            "Kong rejects the config:\n{}\nproblems reported:\n{}\nconfig:\n{}",
            serde_json::to_string_pretty(&e.flattened_errors()).unwrap_or_default(),
            o.lines.join("\n"),
            o.config.to_yaml().unwrap_or_default()
        );
    }
}

/// A working Service + EndpointSlice + Ingress, so every case shows the rest still translates.
const GOOD: &str = "apiVersion: v1
kind: Service
metadata: {name: good, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: good-1, namespace: default, labels: {kubernetes.io/service-name: good}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: good, namespace: default}
spec:
  ingressClassName: kong
  rules: [{http: {paths: [{path: /good, pathType: Prefix, backend: {service: {name: good, port: {number: 80}}}}]}}]
";

#[track_caller]
fn assert_good_translated(o: &Outcome) {
    assert_eq!(
        o.upstream_targets("good.default.80.svc").len(),
        2,
        "the good Service's upstream is still produced"
    );
    assert!(
        o.config
            .routes()
            .any(|(_, r)| r.name == "default.good.good..80"),
        "the good Ingress's route is still produced"
    );
    assert_kong_accepts(o);
}

fn with_good(yaml: &str) -> String {
    format!("{GOOD}---\n{yaml}")
}

#[test]
fn malformed_yaml_names_the_file_and_document_and_keeps_the_documents_before_it() {
    for (broken, what) in [
        ("kind: [unclosed\n", "flow sequence"),
        (
            "apiVersion: v1\nkind: Service\nmetadata: {name: x\n",
            "flow mapping",
        ),
        ("a: b\n  c: d\n", "mapping values"),
        ("\t- tab indented\n", "tab"),
        ("key: \"unterminated\n", "quoted scalar"),
        ("&a [*a, *b]\n", "alias"),
    ] {
        let o = run(&format!("{GOOD}---\n{broken}"));
        o.expect(&["error: in.yaml (document 4): malformed YAML"]);
        assert!(
            o.lines.len() == 1,
            "{what}: one problem only:\n{}",
            o.lines.join("\n")
        );
        assert_good_translated(&o);
    }
}

#[test]
fn yaml_that_is_not_an_object_is_reported_per_document() {
    let o = run(&with_good(
        "just a string\n---\n[1, 2]\n---\n42\n---\n~\n---\n{}\n",
    ));
    for doc in [4, 5, 6] {
        o.expect(&[
            &format!("error: in.yaml (document {doc})"),
            "expected a Kubernetes object",
        ]);
    }
    // `~` (null) is an empty document; `{}` has no apiVersion.
    o.expect(&["(document 8)", "missing apiVersion or kind"]);
    assert!(!o.has("(document 7)"), "{}", o.lines.join("\n"));
    assert_good_translated(&o);
}

#[test]
fn wrong_api_version_or_kind() {
    // Gateway API v1.6.1 serves HTTPRoute at v1 and v1beta1 (both read); v1alpha2 no more.
    let o = run(&with_good(
        "apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: HTTPRoute
metadata: {name: beta}
---
apiVersion: configuration.konghq.com/v1
kind: KongUpstreamPolicy
metadata: {name: p}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: v1
kind: service
metadata: {name: lowercase}
",
    ));
    o.expect(&[
        "error: in.yaml (document 4): Ingress old",
        "apiVersion extensions/v1beta1 is not supported for Ingress; use networking.k8s.io/v1",
    ]);
    o.expect(&[
        "error: in.yaml (document 5): HTTPRoute beta",
        "use gateway.networking.k8s.io/v1",
    ]);
    o.expect(&[
        "error: in.yaml (document 6): KongUpstreamPolicy p",
        "use configuration.konghq.com/v1beta1",
    ]);
    o.expect(&[
        "note: in.yaml (document 7): Widget w",
        "is not read by kingress; ignored",
    ]);
    // Kinds are case-sensitive, as in Kubernetes.
    o.expect(&["(document 8): service lowercase", "is not read by kingress"]);
    assert_good_translated(&o);
}

/// Fields Kubernetes requires. k8s-openapi reads a missing required string as "", so the
/// reader must say so itself: the apiserver would refuse these objects.
#[test]
fn missing_required_fields_name_the_object_and_field() {
    let o = run(&with_good(
        "apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: no-type, labels: {kubernetes.io/service-name: good}}
endpoints: [{addresses: [10.9.9.9]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: no-path-type}
spec:
  ingressClassName: kong
  rules: [{http: {paths: [{path: /x, backend: {service: {name: good, port: {number: 80}}}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: no-backend-name}
spec:
  rules: [{backendRefs: [{port: 80}]}]
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: no-plugin}
config: {minute: 5}
---
apiVersion: v1
kind: Service
metadata: {namespace: default}
spec: {ports: [{port: 80}]}
",
    ));
    let mut failures = Vec::new();
    o.check(
        &[
            "error: in.yaml (document 4): EndpointSlice no-type",
            "addressType",
        ],
        &mut failures,
    );
    o.check(
        &[
            "error: in.yaml (document 5): Ingress no-path-type",
            "pathType",
        ],
        &mut failures,
    );
    o.check(
        &[
            "error: in.yaml (document 6): HTTPRoute no-backend-name",
            "missing field `name`",
        ],
        &mut failures,
    );
    o.check(
        &[
            "error: in.yaml (document 7): KongPlugin no-plugin",
            "missing field `plugin`",
        ],
        &mut failures,
    );
    // A nameless object cannot be addressed: it must not be translated as an object named "".
    o.check(
        &["error: in.yaml (document 8): Service <unnamed>", "name"],
        &mut failures,
    );
    let upstreams: Vec<&String> = o.config.upstreams.iter().map(|u| &u.name).collect();
    if upstreams != ["good.default.80.svc"] {
        failures.push(format!("upstreams other than the good one: {upstreams:?}"));
    }
    let routes: Vec<&String> = o.config.routes().map(|(_, r)| &r.name).collect();
    if routes != ["default.good.good..80"] {
        failures.push(format!("routes other than the good one: {routes:?}"));
    }
    assert!(
        failures.is_empty(),
        "{}\nproblems:\n{}",
        failures.join("\n"),
        o.lines.join("\n")
    );
    assert_good_translated(&o);
}

#[test]
fn unknown_fields_are_noted_with_their_full_path_and_the_object_is_used() {
    let o = run(&with_good(
        "apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata: {name: typo, namespace: default}
spec:
  algorithm: consistent-hashing
  hashOn: {header: x-user, hedaer: x}
  helthchecks: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: typo}
spec:
  rules: [{backendRefs: [{name: good, port: 80, wieght: 5}]}]
",
    ));
    o.expect(&[
        "note: in.yaml (document 4): KongUpstreamPolicy typo",
        "unknown field spec.hashOn.hedaer",
    ]);
    o.expect(&["(document 4)", "unknown field spec.helthchecks"]);
    o.expect(&[
        "note: in.yaml (document 5): HTTPRoute typo",
        "unknown field spec.rules[0].backendRefs[0].wieght",
    ]);
    assert!(o.config.upstream("httproute.default.typo.0").is_some());
    assert_good_translated(&o);
}

#[test]
fn a_service_naming_a_missing_policy_and_a_policy_nobody_names() {
    let o = run(&with_good(
        "apiVersion: v1
kind: Service
metadata: {name: orphaned, annotations: {konghq.com/upstream-policy: nowhere}}
spec: {ports: [{port: 80}]}
---
apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata: {name: unused}
spec: {algorithm: least-connections}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: orphaned}
spec:
  ingressClassName: kong
  rules: [{http: {paths: [{path: /o, pathType: Prefix, backend: {service: {name: orphaned, port: {number: 80}}}}]}}]
",
    ));
    o.expect(&[
        "error: Service default/orphaned: metadata.annotations[konghq.com/upstream-policy]",
        "KongUpstreamPolicy default/nowhere not found; upstream orphaned.default.80.svc keeps Kong's defaults",
    ]);
    let u = o
        .config
        .upstream("orphaned.default.80.svc")
        .expect("upstream");
    assert_eq!(u.algorithm.as_deref(), Some("round-robin"));
    // A policy no Service names configures nothing and is not an error (KIC: no ancestors).
    assert!(!o.has("unused"), "{}", o.lines.join("\n"));
    assert!(o.translation.facts.policy_services.is_empty());
    assert_good_translated(&o);
}

#[test]
fn httproute_backends_naming_missing_services_or_ports() {
    let o = run(&with_good(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: partly}
spec:
  rules:
  - backendRefs:
    - {name: good, port: 80, weight: 3}
    - {name: ghost, port: 80, weight: 1}
    - {name: good, port: 81, weight: 1}
    - {name: good, port: 80, weight: 1, namespace: elsewhere}
    - {name: good, port: 80, weight: 1, kind: ConfigMap, group: ''}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: nothing}
spec:
  rules: [{backendRefs: [{name: ghost, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: good, namespace: elsewhere}
spec: {ports: [{port: 80}]}
",
    ));
    let field = |k: usize| format!("spec.rules[0].backendRefs[{k}]");
    o.expect(&[
        "error: HTTPRoute default/partly",
        &format!("{}.name", field(1)),
        "Service default/ghost not found",
    ]);
    o.expect(&[
        &format!("{}.port", field(2)),
        "Service has no port 81; it has [80(http)]",
    ]);
    o.expect(&[
        &format!("{}.namespace", field(3)),
        "no ReferenceGrant in elsewhere lets HTTPRoutes of default refer to it",
    ]);
    o.expect(&[&format!("{}.kind", field(4)), "only core Services"]);
    // The resolvable backend keeps the route working.
    assert_eq!(o.upstream_targets("httproute.default.partly.0").len(), 2);
    // No backend at all: KIC's 500 through request-termination.
    let s = o
        .config
        .service("httproute.default.nothing.0")
        .expect("service");
    assert!(
        o.config
            .plugins
            .iter()
            .chain(&s.plugins)
            .any(|p| p.name == "request-termination"
                && p.config.get("status_code") == Some(&500.into())),
        "{:#?}",
        o.config.plugins
    );
    o.expect(&[
        "HTTPRoute default/nothing",
        "spec.rules[0].backendRefs[0].name",
    ]);
    assert_good_translated(&o);
}

#[test]
fn a_service_with_ten_thousand_endpoints() {
    let mut yaml = String::from(
        "apiVersion: v1\nkind: Service\nmetadata: {name: big}\nspec: {ports: [{name: http, port: 80}]}\n",
    );
    // Kubernetes caps a slice at 1000 endpoints: ten slices.
    for s in 0..10 {
        yaml.push_str(&format!(
            "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: big-{s}, labels: {{kubernetes.io/service-name: big}}}}\naddressType: IPv4\nports: [{{name: http, port: 8080}}]\nendpoints:\n"
        ));
        for i in 0..1000 {
            let n = s * 1000 + i;
            yaml.push_str(&format!("- addresses: [172.16.{}.{}]\n", n / 256, n % 256));
        }
    }
    yaml.push_str(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: big}\n\
         spec: {rules: [{backendRefs: [{name: big, port: 80, weight: 99}, {name: good, port: 80, weight: 1}]}]}\n",
    );
    let started = Instant::now();
    let o = run(&with_good(&yaml));
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(20),
        "10k endpoints took {elapsed:?} to read and translate"
    );
    let targets = o.upstream_targets("httproute.default.big.0");
    assert_eq!(
        targets.len(),
        10_002,
        "every endpoint once, plus good's two"
    );
    // 99:1 over 10000 and 2 endpoints: exact, L = 10000/gcd(99,10000)=10000 and 2/1=2 → 10000.
    let big: u64 = targets
        .iter()
        .filter(|(t, _)| t.starts_with("172.16."))
        .map(|(_, w)| u64::from(w.expect("weighted")))
        .sum();
    let good: u64 = targets
        .iter()
        .filter(|(t, _)| t.starts_with("10.0.0.1:") || t.starts_with("10.0.0.2:"))
        .map(|(_, w)| u64::from(w.expect("weighted")))
        .sum();
    assert_eq!(big, good * 99, "exactly 99:1 ({big}:{good})");
    assert!(
        o.config.upstream("big.default.80.svc").is_none(),
        "no Ingress uses the Service on its own"
    );
    assert_good_translated(&o);
}

#[test]
fn names_at_their_maximum_lengths() {
    let ns = "n".repeat(63);
    let svc = "s".repeat(63);
    let ingress = format!("{}.{}", "i".repeat(126), "j".repeat(126));
    let route = "r".repeat(253);
    let host = format!(
        "{}.{}.{}.example",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63)
    );
    assert_eq!(ingress.len(), 253);
    let o = run(&with_good(&format!(
        "apiVersion: v1
kind: Service
metadata: {{name: {svc}, namespace: {ns}}}
spec: {{ports: [{{name: http, port: 80}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: {svc}-abcde, namespace: {ns}, labels: {{kubernetes.io/service-name: {svc}}}}}
addressType: IPv4
ports: [{{name: http, port: 8080}}]
endpoints: [{{addresses: [10.3.0.1]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: {ingress}, namespace: {ns}}}
spec:
  ingressClassName: kong
  rules: [{{host: {host}, http: {{paths: [{{path: /max, pathType: Prefix, backend: {{service: {{name: {svc}, port: {{number: 80}}}}}}}}]}}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {route}, namespace: {ns}}}
spec:
  hostnames: [{host}]
  rules: [{{backendRefs: [{{name: {svc}, port: 80}}]}}]
"
    )));
    let errors: Vec<&String> = o.lines.iter().filter(|l| l.starts_with("error")).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(o.upstream_targets(&format!("{svc}.{ns}.80.svc")).len(), 1);
    assert_eq!(
        o.upstream_targets(&format!("httproute.{ns}.{route}.0"))
            .len(),
        1
    );
    let route_name = format!("{ns}.{ingress}.{svc}.{host}.80");
    assert!(
        o.config.routes().any(|(_, r)| r.name == route_name),
        "route {route_name}"
    );
    assert_good_translated(&o);
}

/// `translate` is what a GitOps check runs on an untrusted pull request: nesting an attacker
/// piles up is refused as soon as it passes the depth limit, naming file and document, and
/// the other files are translated. 200,000 `[` took over 60 s to refuse with the previous
/// parser (quadratic), 100,000 `{a: ` about 40 s; the bound here is generous for a slow CI
/// machine and far below either.
#[test]
fn hostile_nesting_is_refused_in_linear_time_and_the_other_files_are_translated() {
    let dir = std::env::temp_dir().join(format!("kingress-nesting-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("a-good.yaml"), GOOD).expect("write");
    std::fs::write(dir.join("b-brackets.yaml"), "[".repeat(200_000)).expect("write");
    std::fs::write(dir.join("c-braces.yaml"), "{a: ".repeat(100_000)).expect("write");
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kingress"))
        .args(["translate", "-o", "json", "-f"])
        .arg(&dir)
        .output()
        .expect("run kingress translate");
    let elapsed = started.elapsed();
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        elapsed < std::time::Duration::from_secs(5),
        "refusing took {elapsed:?}:\n{stderr}"
    );
    for file in ["b-brackets.yaml", "c-braces.yaml"] {
        assert!(
            stderr.lines().any(
                |l| l.contains(&format!("{file} (document 1): malformed YAML"))
                    && l.contains("line 1")
            ),
            "{file} is refused with file, document and line:\n{stderr}"
        );
    }
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON config");
    let upstreams = config["upstreams"].as_array().map_or(0, Vec::len);
    assert!(upstreams > 0, "the good file is translated:\n{stderr}");
}
