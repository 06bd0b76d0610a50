use super::*;
use kube::core::{CustomResourceExt, Resource};
use serde_json::json;

#[test]
fn rate_limiting_plugin() {
    let plugin: KongPlugin = serde_norway::from_str(
        r#"
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: rate-limit-5-min
  namespace: default
  annotations:
    kubernetes.io/ingress.class: kong
plugin: rate-limiting
config:
  minute: 5
  policy: redis
  redis:
    host: redis
    port: 6379
protocols: [http, https]
instance_name: rl-1
run_on: first
ordering:
  before:
    access: [key-auth]
"#,
    )
    .unwrap();
    assert_eq!(plugin.metadata.name.as_deref(), Some("rate-limit-5-min"));
    assert_eq!(plugin.plugin, "rate-limiting");
    assert_eq!(
        plugin.config,
        Some(json!({"minute": 5, "policy": "redis", "redis": {"host": "redis", "port": 6379}}))
    );
    assert_eq!(
        plugin.protocols,
        Some(vec![PluginProtocol::Http, PluginProtocol::Https])
    );
    assert_eq!(plugin.instance_name.as_deref(), Some("rl-1"));
    assert_eq!(plugin.run_on.as_deref(), Some("first"));
    assert_eq!(
        plugin.ordering.as_ref().unwrap().before.as_ref().unwrap()["access"],
        vec!["key-auth".to_string()]
    );
    assert_eq!(plugin.disabled, None);
    assert_eq!(plugin.status, None);

    // Serialization: apiVersion/kind first, KIC's snake_case keys kept, unset fields omitted.
    let value = serde_json::to_value(&plugin).unwrap();
    crate::crd::assert_type_first(&value, "configuration.konghq.com/v1", "KongPlugin");
    assert_eq!(value["instance_name"], "rl-1");
    assert_eq!(value["run_on"], "first");
    assert!(value.get("configFrom").is_none());
    let back: KongPlugin = serde_json::from_value(value).unwrap();
    assert_eq!(back, plugin);
}

#[test]
fn plugin_with_patches_and_status() {
    let plugin: KongPlugin = serde_norway::from_str(
        r#"
metadata: {name: oidc}
plugin: openid-connect
disabled: true
consumerRef: alice
config: {issuer: "https://idp.example.com"}
configPatches:
- path: /client_secret
  valueFrom:
    secretKeyRef: {name: oidc, key: secret}
status: {}
"#,
    )
    .unwrap();
    assert_eq!(plugin.disabled, Some(true));
    assert_eq!(plugin.consumer_ref.as_deref(), Some("alice"));
    let patch = &plugin.config_patches.as_ref().unwrap()[0];
    assert_eq!(patch.path, "/client_secret");
    assert_eq!(patch.value_from.secret_key_ref.name, "oidc");
    assert_eq!(patch.value_from.secret_key_ref.key, "secret");
    // An empty status gets KIC's pending condition, like the API server defaults it.
    let conditions = &plugin.status.as_ref().unwrap().conditions;
    assert_eq!(conditions[0].type_, "Programmed");
    assert_eq!(conditions[0].status, "Unknown");
}

#[test]
fn cluster_plugin_config_from_secret() {
    let plugin: KongClusterPlugin = serde_norway::from_str(
        r#"
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata:
  name: aws-lambda
  labels:
    global: "true"
plugin: aws-lambda
configFrom:
  secretKeyRef:
    name: lambda-config
    key: config
    namespace: kong
"#,
    )
    .unwrap();
    assert_eq!(plugin.metadata.name.as_deref(), Some("aws-lambda"));
    assert_eq!(plugin.plugin, "aws-lambda");
    assert_eq!(
        plugin.config_from,
        Some(NamespacedConfigSource {
            secret_key_ref: NamespacedSecretValueFromSource {
                namespace: "kong".into(),
                name: "lambda-config".into(),
                key: "config".into(),
            }
        })
    );
    assert_eq!(plugin.config, None);
    let value = serde_json::to_value(&plugin).unwrap();
    assert_eq!(value["kind"], "KongClusterPlugin");
    assert_eq!(value["configFrom"]["secretKeyRef"]["namespace"], "kong");
}

#[test]
fn cluster_plugin_secret_ref_requires_namespace() {
    let err = serde_norway::from_str::<KongClusterPlugin>(
        "metadata: {name: x}\nplugin: p\nconfigFrom: {secretKeyRef: {name: s, key: k}}\n",
    );
    assert!(err.is_err());
}

#[test]
fn protocols_as_str() {
    for p in [
        PluginProtocol::Http,
        PluginProtocol::Https,
        PluginProtocol::Grpc,
        PluginProtocol::Grpcs,
        PluginProtocol::Tcp,
        PluginProtocol::Tls,
        PluginProtocol::Udp,
    ] {
        assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
    }
}

#[test]
fn resource_identity() {
    assert_eq!(KongPlugin::api_version(&()), "configuration.konghq.com/v1");
    assert_eq!(KongPlugin::plural(&()), "kongplugins");
    assert_eq!(KongClusterPlugin::plural(&()), "kongclusterplugins");
    assert_eq!(KongPlugin::shortnames(), &["kp"]);
    assert_eq!(KongClusterPlugin::shortnames(), &["kcp"]);
    assert_eq!(
        KongPlugin::crd().metadata.name.as_deref(),
        Some(KongPlugin::crd_name())
    );
    assert_eq!(
        KongClusterPlugin::crd().metadata.name.as_deref(),
        Some(KongClusterPlugin::crd_name())
    );
    assert_eq!(KongClusterPlugin::crd().spec.scope, "Cluster");
}
