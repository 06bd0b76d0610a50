//! TLS on the real apiserver: certificates of Ingresses and Gateway listeners reach every Kong
//! replica (the admin API double refuses what Kong refuses, a duplicated SNI included), and
//! what stops one is on the object's status and Events.

mod support;

use base64::Engine;
use kong_admin_double::{KongAdminDouble, ValidConfig};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use support::controlplane;
use support::observe::{condition, events, eventually, is};
use support::run::Env;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn secret(name: &str, crt: &str, key: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}}}\ntype: kubernetes.io/tls\ndata: {{tls.crt: {}, tls.key: {}}}\n",
        b64(&fixture(crt)),
        b64(&fixture(key))
    )
}

/// The certificates of a config: (id, cert PEM, SNI names), SNIs being entities of their own
/// that name their certificate.
fn certificates_of(config: &ValidConfig) -> Vec<(String, String, Vec<String>)> {
    config
        .entities("certificates")
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap_or_default().to_string();
            let snis = config
                .entities("snis")
                .iter()
                .filter(|s| s["certificate"]["id"] == id.as_str())
                .filter_map(|s| s["name"].as_str().map(str::to_string))
                .collect();
            (id, c["cert"].as_str().unwrap_or_default().to_string(), snis)
        })
        .collect()
}

/// The certificates a replica holds now.
fn certificates(kong: &KongAdminDouble) -> Vec<(String, String, Vec<String>)> {
    kong.current()
        .map(|c| certificates_of(&c))
        .unwrap_or_default()
}

async fn uid(env: &Env, name: &str) -> String {
    Api::<k8s_openapi::api::core::v1::Secret>::namespaced(env.client.clone(), &env.ns)
        .get(name)
        .await
        .expect("get Secret")
        .metadata
        .uid
        .expect("the apiserver sets a uid")
}

/// Two Ingresses, each with its own Secret for one host (what cert-manager makes): one Kong
/// certificate holds the SNI, Kong takes the config, and the Ingress whose claim lost gets a
/// Warning naming the host and the Secret that serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_secrets_for_one_host_give_one_certificate_and_a_warning() {
    let env = support::run::start("tls-claims").await;
    let ingress = |name: &str, secret: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}}}\nspec:\n  ingressClassName: kong\n  tls: [{{secretName: {secret}, hosts: [shop.example.com]}}]\n  rules:\n  - host: shop.example.com\n    http:\n      paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}]\n"
        )
    };
    env.apply(&format!(
        "{}---\n{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n---\n{}",
        secret("a-cert", "rsa.crt", "rsa.key"),
        secret("b-cert", "ec.crt", "ec.key"),
        ingress("a-first", "a-cert"),
    ))
    .await;
    // Created later (or, within the same second, after it by name): the second claim.
    env.apply(&ingress("b-second", "b-cert")).await;
    let a_uid = uid(&env, "a-cert").await;
    env.wait(
        "both Ingresses' routes and one certificate for the host",
        |c| {
            let certs = certificates_of(c);
            c.routes().len() == 2
                && certs.len() == 2
                && certs
                    .iter()
                    .any(|(id, _, snis)| *id == a_uid && snis == &["shop.example.com"])
        },
    )
    .await;
    let served: Vec<_> = certificates(&env.kong)
        .into_iter()
        .filter(|(_, _, snis)| snis.iter().any(|s| s == "shop.example.com"))
        .collect();
    assert_eq!(served.len(), 1, "{served:?}");
    assert_eq!(served[0].1.trim(), fixture("rsa.crt").trim());

    let note = eventually(
        "a Warning Event on the Ingress whose claim lost",
        async || {
            let found = events(
                &env.client,
                &env.ns,
                "Ingress",
                "b-second",
                "KongConfigurationWarning",
            )
            .await;
            found
                .first()
                .filter(|e| e.type_.as_deref() == Some("Warning"))
                .and_then(|e| e.note.clone())
                .ok_or_else(|| format!("{} Events", found.len()))
        },
    )
    .await;
    assert!(
        note.contains("shop.example.com") && note.contains("a-cert") && note.contains("b-cert"),
        "{note}"
    );
    assert!(!note.contains("PRIVATE KEY"), "{note}");
}

/// An HTTPS listener's Secret becomes a certificate for its hostname on every replica; a new
/// key pair in the Secret reaches all of them; a Secret that is no key pair takes the
/// certificate out and says why on the listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_secret_rotation_reaches_every_replica() {
    let (env, second) = support::run::start_with_second_replica("tls-listener").await;
    let replicas = [&env.kong, &second];
    let class = controlplane::shared().unique_name("kong-class");
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: konghq.com/kic-gateway-controller}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners:\n  - name: https\n    port: 443\n    protocol: HTTPS\n    hostname: gw.example.com\n    tls: {{certificateRefs: [{{name: gw-cert}}]}}\n---\n{}",
        secret("gw-cert", "rsa.crt", "rsa.key")
    ))
    .await;
    let holds = |crt: &str| {
        let want = fixture(crt).trim().to_string();
        move |kong: &KongAdminDouble| {
            certificates(kong)
                .iter()
                .any(|(_, cert, snis)| cert.trim() == want && snis == &["gw.example.com"])
        }
    };
    let all_hold = async |what: &str, pred: &dyn Fn(&KongAdminDouble) -> bool| {
        eventually(what, async || {
            let held: Vec<bool> = replicas.iter().map(|k| pred(k)).collect();
            match held.iter().all(|h| *h) {
                true => Ok(()),
                false => Err(format!("replicas holding it: {held:?}")),
            }
        })
        .await
    };
    all_hold(
        "the listener's certificate on both replicas",
        &holds("rsa.crt"),
    )
    .await;
    let listener = async || -> Value {
        let gw = Api::<kingress::api::Gateway>::namespaced(env.client.clone(), &env.ns)
            .get("kong")
            .await
            .expect("get Gateway");
        let status = serde_json::to_value(gw.status).unwrap_or_default();
        status["listeners"][0].clone()
    };
    eventually(
        "the listener Programmed with its references resolved",
        async || {
            let l = listener().await;
            match is(&l, "Programmed", "True", "Programmed")
                && is(&l, "ResolvedRefs", "True", "ResolvedRefs")
            {
                true => Ok(()),
                false => Err(l.to_string()),
            }
        },
    )
    .await;

    let secrets =
        Api::<k8s_openapi::api::core::v1::Secret>::namespaced(env.client.clone(), &env.ns);
    let rotate = async |crt: &str, key: &str| {
        let data = json!({"data": {"tls.crt": b64(&fixture(crt)), "tls.key": b64(&fixture(key))}});
        secrets
            .patch("gw-cert", &PatchParams::default(), &Patch::Merge(data))
            .await
            .expect("patch the Secret");
    };
    rotate("ec.crt", "ec.key").await;
    all_hold("the new key pair on both replicas", &holds("ec.crt")).await;

    rotate("rsa.crt", "other-rsa.key").await;
    all_hold(
        "no certificate on either replica",
        &|k: &KongAdminDouble| k.current().is_some() && certificates(k).is_empty(),
    )
    .await;
    let l = eventually("the listener says why", async || {
        let l = listener().await;
        match is(&l, "ResolvedRefs", "False", "InvalidCertificateRef") {
            true => Ok(l),
            false => Err(l.to_string()),
        }
    })
    .await;
    let (_, _, message) = condition(&l, "ResolvedRefs").expect("ResolvedRefs");
    assert!(
        message.contains("gw-cert") && message.contains("not the private key"),
        "{message}"
    );
    assert!(!message.contains("PRIVATE KEY"), "{message}");
}
