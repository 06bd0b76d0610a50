//! Rules beyond tests/kic-oracle/consumers-credentials (which compares the rest with KIC).

use std::path::Path;

use crate::manifests::{Loaded, load_str};
use crate::translate::{Options, translate};

fn run(yaml: &str) -> crate::translate::Translation {
    let mut loaded = Loaded::default();
    load_str(yaml, Path::new("in.yaml"), &mut loaded);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    translate(&loaded.snapshot, &Options::default())
}

const DEFAULT_CLASS: &str = "---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: kong, annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}}\nspec: {controller: ingress-controllers.konghq.com/kong}\n";

fn consumer(name: &str, annotation: &str, credentials: &str) -> String {
    format!(
        "---\napiVersion: configuration.konghq.com/v1\nkind: KongConsumer\nmetadata: {{name: {name}, namespace: default{annotation}}}\nusername: {name}\ncredentials: [{credentials}]\n"
    )
}

fn secret(name: &str, kind: &str, data: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: default, labels: {{konghq.com/credential: {kind}}}}}\nstringData: {{{data}}}\n"
    )
}

fn usernames(t: &crate::translate::Translation) -> Vec<String> {
    t.config
        .consumers
        .iter()
        .filter_map(|c| c.username.clone())
        .collect()
}

/// Without the class annotation a consumer is ours only when our IngressClass is the
/// default (store.go lines 784-794, annotations.go lines 100-115).
#[test]
fn a_consumer_without_a_class_is_read_when_ours_is_the_default() {
    let yaml = consumer("ann", "", "");
    assert!(usernames(&run(&yaml)).is_empty());
    assert_eq!(usernames(&run(&format!("{DEFAULT_CLASS}{yaml}"))), ["ann"]);
}

/// One value in two credential types is no conflict (KIC indexes each type apart); the same
/// type is, and takes both consumers out.
#[test]
fn conflicts_are_per_credential_type() {
    let class = ", annotations: {kubernetes.io/ingress.class: kong}";
    let yaml = format!(
        "{}{}{}{}",
        consumer("a", class, "a-basic"),
        consumer("b", class, "b-hmac"),
        secret("a-basic", "basic-auth", "username: same, password: p"),
        secret("b-hmac", "hmac-auth", "username: same"),
    );
    assert_eq!(usernames(&run(&yaml)), ["a", "b"]);
    let clash = yaml.replace(
        &secret("b-hmac", "hmac-auth", "username: same"),
        &secret("b-hmac", "basic-auth", "username: same"),
    );
    let t = run(&clash);
    assert!(usernames(&t).is_empty(), "{:?}", t.config.consumers);
    assert_eq!(
        t.problems
            .iter()
            .filter(|p| p.message.contains("basic-auth on 'username'"))
            .count(),
        4,
        "{:?}",
        t.problems
    );
}

/// Kong OSS has no mtls_auth_credentials (KIC sends them and Kong refuses the config).
#[test]
fn mtls_auth_is_reported_not_sent() {
    let class = ", annotations: {kubernetes.io/ingress.class: kong}";
    let yaml = format!(
        "{}{}",
        consumer("m", class, "m-mtls"),
        secret("m-mtls", "mtls-auth", "subject_name: m.example.com"),
    );
    let t = run(&yaml);
    assert_eq!(usernames(&t), ["m"]);
    assert!(
        t.problems
            .iter()
            .any(|p| p.message.contains("Kong Enterprise")),
        "{:?}",
        t.problems
    );
}

/// KIC names such a consumer by custom_id, which Kong cannot resolve (the admin API double
/// refuses it as Kong's declarative loader does): kingress leaves the plugin out and says so.
#[test]
fn plugins_of_a_consumer_without_username_are_reported_not_sent() {
    let yaml = "---\napiVersion: configuration.konghq.com/v1\nkind: KongConsumer\nmetadata: {name: c, namespace: default, annotations: {kubernetes.io/ingress.class: kong, konghq.com/plugins: lim}}\ncustom_id: only-cid\n---\napiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {name: lim, namespace: default}\nplugin: rate-limiting\nconfig: {minute: 5}\n";
    let t = run(yaml);
    assert_eq!(t.config.consumers.len(), 1);
    assert!(t.config.plugins.is_empty(), "{:?}", t.config.plugins);
    assert!(
        t.problems.iter().any(|p| p.message.contains("custom_id")),
        "{:?}",
        t.problems
    );
}
