use std::collections::BTreeSet;

use kube::core::CustomResourceExt;

use super::*;
use crate::crd::upstream_policy::KongUpstreamPolicy;

fn spec(yaml: &str) -> KongUpstreamPolicySpec {
    serde_norway::from_str(yaml).expect("valid spec")
}

fn messages(yaml: &str) -> Vec<String> {
    validate(&spec(yaml))
        .into_iter()
        .map(|v| format!("{}: {}", v.field, v.message))
        .collect()
}

/// The CRD's CEL messages, as the apiserver reports them.
fn crd_messages() -> BTreeSet<String> {
    let crd = serde_json::to_value(KongUpstreamPolicy::crd()).expect("CRD as JSON");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-validations"]
        .as_array()
        .expect("CEL rules")
        .iter()
        .map(|r| r["message"].as_str().expect("message").to_string())
        .collect()
}

/// One spec per CEL rule, breaking that rule only, and the field it is reported on.
/// (The rule "spec.stickySessions.cookie is required" cannot be broken here: the reader
/// refuses a stickySessions without its required cookie.)
const ONE_RULE_EACH: &[(&str, &str)] = &[
    (
        "algorithm: consistent-hashing\nhashOn: {header: x-a, input: ip}\n",
        "spec.hashOn",
    ),
    (
        "algorithm: consistent-hashing\nhashOn: {cookie: c}\n",
        "spec.hashOn.cookiePath",
    ),
    (
        "algorithm: consistent-hashing\nhashOn: {cookiePath: /}\n",
        "spec.hashOn.cookie",
    ),
    ("hashOn: {header: x-a}\n", "spec.algorithm"),
    (
        "algorithm: consistent-hashing\nhashOnFallback: {header: x-a, input: ip}\n",
        "spec.hashOnFallback",
    ),
    (
        "algorithm: round-robin\nhashOnFallback: {input: ip}\n",
        "spec.algorithm",
    ),
    (
        "algorithm: consistent-hashing\nhashOn: {cookie: c, cookiePath: /}\nhashOnFallback: {input: ip}\n",
        "spec.hashOnFallback",
    ),
    (
        "healthchecks: {passive: {healthy: {interval: 5}}}\n",
        "spec.healthchecks.passive.healthy.interval",
    ),
    (
        "healthchecks: {passive: {unhealthy: {interval: 5}}}\n",
        "spec.healthchecks.passive.unhealthy.interval",
    ),
    (
        "algorithm: sticky-sessions\nhashOn: {input: ip}\nstickySessions: {cookie: s}\n",
        "spec.hashOn.input",
    ),
    (
        "algorithm: consistent-hashing\nhashOn: {input: none}\nstickySessions: {cookie: s}\n",
        "spec.algorithm",
    ),
];

#[test]
fn each_cel_rule_is_reported_with_the_crds_exact_message() {
    let crd = crd_messages();
    assert_eq!(crd.len(), 12, "the CRD's CEL rules changed: {crd:#?}");
    let mut seen = BTreeSet::new();
    for (yaml, field) in ONE_RULE_EACH {
        let found = validate(&spec(yaml));
        assert_eq!(found.len(), 1, "{yaml}: {found:#?}");
        assert_eq!(found[0].field, *field, "{yaml}");
        assert!(
            crd.contains(&found[0].message),
            "{yaml}: not a CRD message: {}",
            found[0].message
        );
        seen.insert(found[0].message.clone());
    }
    let unreachable = "spec.stickySessions.cookie is required when spec.stickySessions is set.";
    seen.insert(unreachable.to_string());
    assert_eq!(seen, crd, "every CEL rule is checked, each by its own case");
    assert!(
        serde_norway::from_str::<KongUpstreamPolicySpec>(
            "algorithm: sticky-sessions\nhashOn: {input: none}\nstickySessions: {cookiePath: /}\n"
        )
        .is_err(),
        "a stickySessions without cookie does not reach the checks"
    );
}

#[test]
fn valid_policies_pass() {
    for yaml in [
        "{}\n",
        "algorithm: round-robin\nslots: 10\n",
        "algorithm: latency\nslots: 65536\n",
        "algorithm: consistent-hashing\nhashOn: {header: x-lb}\nhashOnFallback: {input: ip}\n",
        "algorithm: consistent-hashing\nslots: 20000\nhashOn: {cookie: s, cookiePath: /app}\n",
        "algorithm: consistent-hashing\nhashOn: {queryArg: u}\nhashOnFallback: {header: x-u}\n",
        "algorithm: sticky-sessions\nhashOn: {input: none}\nstickySessions: {cookie: k, cookiePath: /}\n",
        "algorithm: sticky-sessions\nhashOn: {header: x-a}\n",
        "healthchecks:\n  threshold: 100\n  active:\n    type: http\n    httpPath: /healthz\n    concurrency: 1\n    timeout: 0\n    healthy: {httpStatuses: [100, 599], interval: 65535, successes: 255}\n    unhealthy: {httpStatuses: [500], interval: 0, httpFailures: 0, tcpFailures: 255, timeouts: 255}\n  passive:\n    healthy: {successes: 255, httpStatuses: [200]}\n    unhealthy: {httpFailures: 255, tcpFailures: 0, timeouts: 1}\n",
    ] {
        assert_eq!(messages(yaml), Vec::<String>::new(), "{yaml}");
    }
}

#[test]
fn ranges_name_the_field_and_whose_limit_it_is() {
    let cases: &[(&str, &str)] = &[
        (
            "slots: 9\n",
            "spec.slots: 9 is outside 10-65536 (the CRD's range)",
        ),
        (
            "slots: 65537\n",
            "spec.slots: 65537 is outside 10-65536 (the CRD's range)",
        ),
        (
            "healthchecks: {threshold: 101}\n",
            "spec.healthchecks.threshold: 101 is outside 0-100 (Kong's range)",
        ),
        (
            "healthchecks: {active: {concurrency: 0}}\n",
            "spec.healthchecks.active.concurrency: 0 is below the CRD's minimum of 1",
        ),
        (
            "healthchecks: {active: {timeout: -1}}\n",
            "spec.healthchecks.active.timeout: -1 is outside 0-65535 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {active: {httpPath: healthz}}\n",
            "spec.healthchecks.active.httpPath: \"healthz\" does not match the CRD's pattern ^/.*$",
        ),
        (
            "healthchecks: {active: {httpPath: \"/a\\nb\"}}\n",
            "spec.healthchecks.active.httpPath: \"/a\\nb\" does not match the CRD's pattern ^/.*$",
        ),
        (
            "healthchecks: {active: {healthy: {successes: 256}}}\n",
            "spec.healthchecks.active.healthy.successes: 256 is outside 0-255 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {active: {healthy: {interval: 65536}}}\n",
            "spec.healthchecks.active.healthy.interval: 65536 is outside 0-65535 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {active: {healthy: {httpStatuses: [200, 99]}}}\n",
            "spec.healthchecks.active.healthy.httpStatuses[1]: 99 is outside 100-599 (the CRD's range)",
        ),
        (
            "healthchecks: {active: {unhealthy: {httpStatuses: [600]}}}\n",
            "spec.healthchecks.active.unhealthy.httpStatuses[0]: 600 is outside 100-599 (the CRD's range)",
        ),
        (
            "healthchecks: {active: {unhealthy: {httpFailures: -1}}}\n",
            "spec.healthchecks.active.unhealthy.httpFailures: -1 is outside 0-255 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {active: {unhealthy: {tcpFailures: 300}}}\n",
            "spec.healthchecks.active.unhealthy.tcpFailures: 300 is outside 0-255 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {active: {unhealthy: {timeouts: 1000}}}\n",
            "spec.healthchecks.active.unhealthy.timeouts: 1000 is outside 0-255 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {active: {unhealthy: {interval: -5}}}\n",
            "spec.healthchecks.active.unhealthy.interval: -5 is outside 0-65535 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {passive: {healthy: {successes: -1}}}\n",
            "spec.healthchecks.passive.healthy.successes: -1 is outside 0-255 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {passive: {unhealthy: {timeouts: 256}}}\n",
            "spec.healthchecks.passive.unhealthy.timeouts: 256 is outside 0-255 (the CRD's minimum, Kong's maximum)",
        ),
        (
            "healthchecks: {passive: {healthy: {httpStatuses: [1000]}}}\n",
            "spec.healthchecks.passive.healthy.httpStatuses[0]: 1000 is outside 100-599 (the CRD's range)",
        ),
        (
            "algorithm: sticky-sessions\nhashOn: {input: none}\nstickySessions: {cookie: \"\"}\n",
            "spec.stickySessions.cookie: must not be empty (the CRD's minLength is 1)",
        ),
    ];
    for (yaml, want) in cases {
        assert_eq!(messages(yaml), vec![want.to_string()], "{yaml}");
    }
}

#[test]
fn several_violations_are_all_reported() {
    let found = messages(
        "hashOnFallback: {input: ip}\nslots: 5\nhealthchecks: {passive: {healthy: {interval: -1}}}\n",
    );
    assert_eq!(
        found,
        vec![
            "spec.algorithm: spec.algorithm must be set to \"consistent-hashing\" when spec.hashOnFallback is set.",
            "spec.healthchecks.passive.healthy.interval: spec.healthchecks.passive.healthy.interval must not be set.",
            "spec.slots: 5 is outside 10-65536 (the CRD's range)",
            "spec.healthchecks.passive.healthy.interval: -1 is outside 0-65535 (the CRD's minimum, Kong's maximum)",
        ]
    );
}
