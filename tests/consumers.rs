//! Consumers on the real apiserver: a KongConsumer's credentials reach every Kong replica (the
//! admin API double holds Kong's credential schemas), a key rotated in its Secret follows, and a
//! malformed credential is reported on the Secret and the consumer without its values.

mod support;

use base64::Engine;
use kong_admin_double::KongAdminDouble;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use support::observe::{event_note, eventually};

/// The key-auth keys a replica holds for consumer `username`.
fn keys(kong: &KongAdminDouble, username: &str) -> Vec<String> {
    let Some(config) = kong.current() else {
        return Vec::new();
    };
    let Some(id) = config
        .consumers()
        .iter()
        .find(|c| c["username"] == username)
        .and_then(|c| c["id"].as_str().map(str::to_string))
    else {
        return Vec::new();
    };
    config
        .entities("keyauth_credentials")
        .iter()
        .filter(|k| k["consumer"]["id"] == id.as_str())
        .filter_map(|k| k["key"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_reach_every_replica_and_bad_ones_are_reported_without_values() {
    let (env, second) = support::run::start_with_second_replica("consumers").await;
    let replicas = [&env.kong, &second];
    env.apply(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: alice-key, labels: {konghq.com/credential: key-auth}}\nstringData: {key: first-key-3c1d}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: alice-jwt, labels: {konghq.com/credential: jwt}}\nstringData: {secret: jwt-secret-9f2e}\n---\napiVersion: configuration.konghq.com/v1\nkind: KongConsumer\nmetadata: {name: alice, annotations: {kubernetes.io/ingress.class: kong}}\nusername: alice\ncredentials: [alice-key, alice-jwt]\n",
    )
    .await;
    let all_hold = async |what: &str, key: &str| {
        eventually(what, async || {
            let held: Vec<Vec<String>> = replicas.iter().map(|k| keys(k, "alice")).collect();
            match held.iter().all(|h| h == &[key]) {
                true => Ok(()),
                false => Err(format!("keys per replica: {held:?}")),
            }
        })
        .await
    };
    all_hold("alice's key on both replicas", "first-key-3c1d").await;

    let secrets =
        Api::<k8s_openapi::api::core::v1::Secret>::namespaced(env.client.clone(), &env.ns);
    let rotated = base64::engine::general_purpose::STANDARD.encode("second-key-7a0b");
    secrets
        .patch(
            "alice-key",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"key": rotated}})),
        )
        .await
        .expect("rotate the key");
    all_hold("the rotated key on both replicas", "second-key-7a0b").await;

    // The jwt Secret has no `key`: KIC (and kingress) leave that credential out, the consumer in.
    let reason = "KongConfigurationTranslationFailed";
    for (kind, name) in [("KongConsumer", "alice"), ("Secret", "alice-jwt")] {
        let note = event_note(&env.client, &env.ns, kind, name, reason).await;
        assert!(note.contains("data.key"), "{note}");
        for value in ["jwt-secret-9f2e", "first-key-3c1d", "second-key-7a0b"] {
            assert!(!note.contains(value), "{note}");
        }
    }

    // Its status says why (KIC's reasons), and turns Programmed once the Secret is fixed.
    let consumers = Api::<kingress::api::KongConsumer>::namespaced(env.client.clone(), &env.ns);
    let programmed = async |status: &'static str, reason: &'static str| {
        eventually(&format!("alice Programmed={status}/{reason}"), async || {
            let c = consumers.get("alice").await.map_err(|e| e.to_string())?;
            let entry = serde_json::to_value(&c.status).unwrap_or_default();
            match support::observe::is(&entry, "Programmed", status, reason) {
                true => Ok(entry),
                false => Err(entry.to_string()),
            }
        })
        .await
    };
    let entry = programmed("False", "Invalid").await;
    let (_, _, message) = support::observe::condition(&entry, "Programmed").expect("Programmed");
    assert!(
        message.contains("data.key") && !message.contains("jwt-secret-9f2e"),
        "{message}"
    );
    secrets
        .patch(
            "alice-jwt",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"key": "alice-issuer"}})),
        )
        .await
        .expect("fix the jwt Secret");
    programmed("True", "Programmed").await;
}
