use super::*;
use kube::core::{CustomResourceExt, Resource};

#[test]
fn consumer_with_credentials_and_groups() {
    let consumer: KongConsumer = serde_norway::from_str(
        r#"
apiVersion: configuration.konghq.com/v1
kind: KongConsumer
metadata:
  name: alice
  namespace: default
  annotations:
    kubernetes.io/ingress.class: kong
    konghq.com/plugins: rate-limit
username: alice
custom_id: "1234"
credentials: [alice-key-auth, alice-basic-auth]
consumerGroups: [gold]
spec:
  tags: [team-a]
"#,
    )
    .unwrap();
    assert_eq!(consumer.metadata.name.as_deref(), Some("alice"));
    assert_eq!(consumer.username.as_deref(), Some("alice"));
    assert_eq!(consumer.custom_id.as_deref(), Some("1234"));
    assert_eq!(
        consumer.credentials,
        Some(vec!["alice-key-auth".into(), "alice-basic-auth".into()])
    );
    assert_eq!(consumer.consumer_groups, Some(vec!["gold".into()]));
    let spec = consumer.spec.as_ref().unwrap();
    assert_eq!(spec.tags, Some(vec!["team-a".into()]));
    assert_eq!(spec.control_plane_ref, None);
    // Absent status stays absent (the pending default is the API server's, in the schema).
    assert_eq!(consumer.status, None);

    // Serialization: apiVersion/kind first, KIC's `custom_id` kept, unset fields omitted.
    let value = serde_json::to_value(&consumer).unwrap();
    crate::crd::assert_type_first(&value, "configuration.konghq.com/v1", "KongConsumer");
    assert_eq!(value["custom_id"], "1234");
    assert_eq!(value["consumerGroups"][0], "gold");
    assert!(value.get("status").is_none());
    assert!(value["spec"].get("controlPlaneRef").is_none());
    let back: KongConsumer = serde_json::from_value(value).unwrap();
    assert_eq!(back, consumer);
}

#[test]
fn minimal_consumer() {
    let consumer: KongConsumer =
        serde_norway::from_str("metadata: {name: bob}\ncustom_id: b\n").unwrap();
    assert_eq!(consumer.username, None);
    assert_eq!(consumer.custom_id.as_deref(), Some("b"));
    assert_eq!(consumer.credentials, None);
    assert_eq!(consumer.consumer_groups, None);
    assert_eq!(consumer.spec, None);
}

#[test]
fn control_plane_ref_and_status() {
    let consumer: KongConsumer = serde_norway::from_str(
        r#"
metadata: {name: carol}
username: carol
spec:
  controlPlaneRef:
    type: konnectNamespacedRef
    konnectNamespacedRef: {name: cp}
status:
  conditions:
  - type: Programmed
    status: "True"
    reason: Programmed
    message: ""
    lastTransitionTime: "2024-01-01T00:00:00Z"
  konnect: {id: ignored}
"#,
    )
    .unwrap();
    let cp = consumer
        .spec
        .as_ref()
        .unwrap()
        .control_plane_ref
        .as_ref()
        .unwrap();
    assert_eq!(cp.type_, Some(ControlPlaneRefType::KonnectNamespacedRef));
    assert_eq!(cp.konnect_namespaced_ref.as_ref().unwrap().name, "cp");
    assert_eq!(cp.konnect_id, None);
    let conditions = &consumer.status.as_ref().unwrap().conditions;
    assert_eq!(conditions.len(), 1);
    assert_eq!(conditions[0].type_, "Programmed");
    assert_eq!(conditions[0].status, "True");

    // A reference without `type` gets KIC's default.
    let cp: ControlPlaneRef = serde_json::from_str("{}").unwrap();
    assert_eq!(cp.type_, Some(ControlPlaneRefType::Kic));
    assert_eq!(serde_json::to_value(&cp).unwrap()["type"], "kic");
}

#[test]
fn resource_identity() {
    assert_eq!(
        KongConsumer::api_version(&()),
        "configuration.konghq.com/v1"
    );
    assert_eq!(KongConsumer::kind(&()), "KongConsumer");
    assert_eq!(KongConsumer::plural(&()), "kongconsumers");
    assert_eq!(KongConsumer::shortnames(), &["kc"]);
    let crd = KongConsumer::crd();
    assert_eq!(crd.metadata.name.as_deref(), Some(KongConsumer::crd_name()));
    assert_eq!(crd.spec.scope, "Namespaced");
    let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
    let status = &schema["openAPIV3Schema"]["properties"]["status"];
    assert_eq!(status["default"]["conditions"][0]["reason"], "Pending");
    assert_eq!(status["properties"]["konnect"]["type"], "object");
}
