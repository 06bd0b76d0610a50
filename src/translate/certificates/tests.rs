//! Rules KIC's translator alone cannot show (listener validity, exclusion, reporting); the
//! merge itself is compared with KIC's output in tests/kic-oracle (`ingress-tls-*`,
//! `gateway-listener-certificates`, `service-client-cert`).

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine;

use crate::kinds::{Kind, ObjectKey};
use crate::manifests::{Loaded, load_str};
use crate::translate::{Options, translate};

fn b64(name: &str) -> String {
    let path = format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"));
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(path).unwrap())
}

fn secret(ns: &str, name: &str, crt: &str, key: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}, uid: {name}-uid}}\ntype: kubernetes.io/tls\ndata: {{tls.crt: {}, tls.key: {}}}\n",
        b64(crt),
        b64(key)
    )
}

/// Ingress default/web, serving web.example.com with Secret `secret`.
fn ingress(secret: &str) -> String {
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: web, namespace: default}}\nspec:\n  ingressClassName: kong\n  tls: [{{secretName: {secret}, hosts: [web.example.com]}}]\n"
    )
}

const GATEWAY: &str = r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: kong}
spec: {controllerName: konghq.com/kic-gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: kong
  listeners:
  - {name: ok, port: 443, protocol: HTTPS, hostname: ok.example.com, tls: {certificateRefs: [{name: a}]}}
  - {name: twin-1, port: 8443, protocol: HTTPS, hostname: twin.example.com, tls: {certificateRefs: [{name: a}]}}
  - {name: twin-2, port: 8443, protocol: HTTPS, hostname: twin.example.com, tls: {certificateRefs: [{name: b}]}}
  - {name: two, port: 9443, protocol: HTTPS, hostname: two.example.com, tls: {certificateRefs: [{name: a}, {name: b}]}}
  - {name: mismatch, port: 10443, protocol: HTTPS, hostname: bad.example.com, tls: {certificateRefs: [{name: bad}]}}
"#;

fn run(yaml: &str, excluded: &[(Kind, &str, &str)]) -> crate::translate::Translation {
    let mut loaded = Loaded::default();
    load_str(yaml, Path::new("in.yaml"), &mut loaded);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let options = Options {
        excluded: excluded
            .iter()
            .map(|(k, ns, n)| ObjectKey::new(*k, ns, n))
            .collect::<BTreeSet<_>>(),
        ..Options::default()
    };
    translate(&loaded.snapshot, &options)
}

fn snis(t: &crate::translate::Translation) -> Vec<(String, Vec<String>)> {
    t.config
        .certificates
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                c.snis.iter().map(|s| s.name.clone()).collect(),
            )
        })
        .collect()
}

/// KIC takes a listener's certificate only once its status says `Programmed=True`
/// (unmanaged mode, translate_certs.go lines 85-99), which a conflicted listener, one with two
/// certificateRefs (kingress) or with a Secret that is no key pair never is.
#[test]
fn only_valid_listeners_give_certificates() {
    let yaml = format!(
        "{GATEWAY}{}{}{}",
        secret("default", "a", "rsa.crt", "rsa.key"),
        secret("default", "b", "ec.crt", "ec.key"),
        secret("default", "bad", "rsa.crt", "other-rsa.key"),
    );
    let t = run(&yaml, &[]);
    assert_eq!(
        snis(&t),
        vec![("a-uid".to_string(), vec!["ok.example.com".to_string()])]
    );
}

#[test]
fn a_secret_kong_refused_is_left_out_and_said_so() {
    let yaml = format!(
        "{}{}",
        ingress("a"),
        secret("default", "a", "rsa.crt", "rsa.key")
    );
    assert_eq!(snis(&run(&yaml, &[])).len(), 1);
    let t = run(&yaml, &[(Kind::Secret, "default", "a")]);
    assert!(t.config.certificates.is_empty());
    assert!(
        t.problems.iter().any(|p| p.object.name == "web"
            && p.field.as_deref() == Some("spec.tls[0].secretName")
            && p.message.contains("Secret default/a is left out")),
        "{:?}",
        t.problems
    );
}

#[test]
fn a_secret_that_is_no_key_pair_is_reported_without_its_key() {
    let yaml = format!(
        "{}{}",
        ingress("bad"),
        secret("default", "bad", "rsa.crt", "other-rsa.key")
    );
    let t = run(&yaml, &[]);
    assert!(t.config.certificates.is_empty());
    let on = |kind: Kind| {
        t.problems
            .iter()
            .find(|p| p.object.kind == kind)
            .unwrap_or_else(|| panic!("no problem on the {kind:?}: {:?}", t.problems))
    };
    assert!(on(Kind::Ingress).message.contains("not a TLS key pair"));
    assert!(on(Kind::Secret).message.contains("not the private key"));
    let key = std::fs::read_to_string(format!(
        "{}/tests/fixtures/tls/other-rsa.key",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let body: Vec<&str> = key.lines().filter(|l| !l.starts_with("-----")).collect();
    for p in &t.problems {
        assert!(body.iter().all(|l| !p.message.contains(l)), "{}", p.message);
    }
}
