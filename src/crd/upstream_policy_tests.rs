use super::*;
use kube::core::{CustomResourceExt, Resource};

fn parse(yaml: &str) -> KongUpstreamPolicy {
    serde_norway::from_str(yaml).unwrap()
}

#[test]
fn sample_customization() {
    // KIC's config/samples policy.
    let policy = parse(
        r#"
apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata:
  name: sample-customization
spec:
  algorithm: consistent-hashing
  hashOn:
    header: x-lb
  hashOnFallback:
    input: ip
"#,
    );
    assert_eq!(
        policy.metadata.name.as_deref(),
        Some("sample-customization")
    );
    assert_eq!(policy.spec.algorithm, Some(Algorithm::ConsistentHashing));
    assert_eq!(
        policy.spec.hash_on,
        Some(KongUpstreamHash {
            header: Some("x-lb".into()),
            ..Default::default()
        })
    );
    let fallback = policy.spec.hash_on_fallback.as_ref().unwrap();
    assert_eq!(fallback.input, Some(HashInput::Ip));
    assert_eq!(fallback.input.unwrap().as_str(), "ip");
    assert_eq!(policy.status, None);
}

#[test]
fn full_healthchecks() {
    let policy = parse(
        r#"
apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata:
  name: healthchecks
  namespace: default
spec:
  algorithm: least-connections
  slots: 100
  healthchecks:
    threshold: 50
    active:
      type: https
      concurrency: 10
      headers:
        x-probe: ["kong"]
      httpPath: /status
      httpsSni: example.com
      httpsVerifyCertificate: false
      timeout: 5
      healthy:
        httpStatuses: [200, 302]
        interval: 2
        successes: 3
      unhealthy:
        httpFailures: 3
        httpStatuses: [500, 503]
        interval: 1
        tcpFailures: 2
        timeouts: 4
    passive:
      type: tcp
      healthy:
        successes: 5
      unhealthy:
        tcpFailures: 6
        timeouts: 7
"#,
    );
    let spec = &policy.spec;
    assert_eq!(
        spec.algorithm.map(|a| a.as_str()),
        Some("least-connections")
    );
    assert_eq!(spec.slots, Some(100));
    let hc = spec.healthchecks.as_ref().unwrap();
    assert_eq!(hc.threshold, Some(50));
    let active = hc.active.as_ref().unwrap();
    assert_eq!(active.type_, Some(HealthcheckType::Https));
    assert_eq!(active.concurrency, Some(10));
    assert_eq!(
        active.headers.as_ref().unwrap()["x-probe"],
        vec!["kong".to_string()]
    );
    assert_eq!(active.http_path.as_deref(), Some("/status"));
    assert_eq!(active.https_sni.as_deref(), Some("example.com"));
    assert_eq!(active.https_verify_certificate, Some(false));
    assert_eq!(active.timeout, Some(5));
    assert_eq!(
        active.healthy,
        Some(KongUpstreamHealthcheckHealthy {
            http_statuses: Some(vec![200, 302]),
            interval: Some(2),
            successes: Some(3),
        })
    );
    assert_eq!(
        active.unhealthy,
        Some(KongUpstreamHealthcheckUnhealthy {
            http_failures: Some(3),
            http_statuses: Some(vec![500, 503]),
            interval: Some(1),
            tcp_failures: Some(2),
            timeouts: Some(4),
        })
    );
    let passive = hc.passive.as_ref().unwrap();
    assert_eq!(passive.type_.map(|t| t.as_str()), Some("tcp"));
    assert_eq!(passive.healthy.as_ref().unwrap().successes, Some(5));
    assert_eq!(passive.unhealthy.as_ref().unwrap().tcp_failures, Some(6));

    // Round trip, with apiVersion/kind emitted and unset fields omitted.
    let json = serde_json::to_value(&policy).unwrap();
    assert_eq!(json["apiVersion"], "configuration.konghq.com/v1beta1");
    assert_eq!(json["kind"], "KongUpstreamPolicy");
    assert!(json["spec"].get("hashOn").is_none());
    assert_eq!(json["spec"]["healthchecks"]["active"]["type"], "https");
    let back: KongUpstreamPolicy = serde_json::from_value(json).unwrap();
    assert_eq!(back, policy);
}

#[test]
fn sticky_sessions_defaults_cookie_path() {
    let policy = parse(
        r#"
metadata: {name: sticky}
spec:
  algorithm: sticky-sessions
  hashOn: {input: none}
  stickySessions: {cookie: session}
"#,
    );
    assert_eq!(policy.spec.algorithm, Some(Algorithm::StickySessions));
    assert_eq!(policy.spec.hash_on.unwrap().input, Some(HashInput::None));
    let sticky = policy.spec.sticky_sessions.unwrap();
    assert_eq!(sticky.cookie, "session");
    assert_eq!(sticky.cookie_path.as_deref(), Some("/"));
}

#[test]
fn spec_is_optional() {
    // The CRD accepts a policy without spec; it must not break deserialization (watch lists).
    let policy = parse("metadata: {name: empty}\n");
    assert_eq!(policy.spec, KongUpstreamPolicySpec::default());
    let json = serde_json::to_value(KongUpstreamPolicy::new("empty", Default::default())).unwrap();
    assert!(json.get("spec").is_none());
}

#[test]
fn status_round_trip() {
    let policy = parse(
        r#"
metadata: {name: p}
spec: {}
status:
  ancestors:
  - ancestorRef: {name: kong, namespace: default}
    controllerName: konghq.com/kic-gateway-controller
    conditions:
    - type: Accepted
      status: "True"
      reason: Accepted
      message: ""
      lastTransitionTime: "2024-01-02T03:04:05Z"
      observedGeneration: 2
"#,
    );
    let status = policy.status.as_ref().unwrap();
    let ancestor = &status.ancestors[0];
    // Gateway API defaults, as the API server would have set them.
    assert_eq!(
        ancestor.ancestor_ref.group.as_deref(),
        Some("gateway.networking.k8s.io")
    );
    assert_eq!(ancestor.ancestor_ref.kind.as_deref(), Some("Gateway"));
    assert_eq!(ancestor.conditions[0].observed_generation, Some(2));
    let json = serde_json::to_value(&policy).unwrap();
    assert_eq!(
        json["status"]["ancestors"][0]["conditions"][0]["lastTransitionTime"],
        "2024-01-02T03:04:05Z"
    );
}

#[test]
fn resource_identity() {
    assert_eq!(
        KongUpstreamPolicy::api_version(&()),
        "configuration.konghq.com/v1beta1"
    );
    assert_eq!(KongUpstreamPolicy::plural(&()), "kongupstreampolicies");
    assert_eq!(
        KongUpstreamPolicy::crd().metadata.name.as_deref(),
        Some(KongUpstreamPolicy::crd_name())
    );
    assert_eq!(KongUpstreamPolicy::shortnames(), &["kup"]);
}
