use super::*;
use crate::crd::ControlPlaneRefType;
use kube::core::{CustomResourceExt, Resource};

#[test]
fn consumer_group_with_spec() {
    let group: KongConsumerGroup = serde_norway::from_str(
        r#"
apiVersion: configuration.konghq.com/v1beta1
kind: KongConsumerGroup
metadata:
  name: gold
  namespace: default
  annotations:
    kubernetes.io/ingress.class: kong
    konghq.com/plugins: rate-limit-gold
spec:
  name: gold-tier
  tags: [team-a]
"#,
    )
    .unwrap();
    assert_eq!(group.metadata.name.as_deref(), Some("gold"));
    let spec = group.spec.as_ref().unwrap();
    assert_eq!(spec.name.as_deref(), Some("gold-tier"));
    assert_eq!(spec.tags, Some(vec!["team-a".into()]));
    assert_eq!(spec.control_plane_ref, None);
    // Absent status stays absent (the pending default is the API server's, in the schema).
    assert_eq!(group.status, None);

    // Serialization: apiVersion/kind first, unset fields omitted.
    let value = serde_json::to_value(&group).unwrap();
    crate::crd::assert_type_first(
        &value,
        "configuration.konghq.com/v1beta1",
        "KongConsumerGroup",
    );
    assert_eq!(value["spec"]["name"], "gold-tier");
    assert!(value.get("status").is_none());
    assert!(value["spec"].get("controlPlaneRef").is_none());
    let back: KongConsumerGroup = serde_json::from_value(value).unwrap();
    assert_eq!(back, group);
}

#[test]
fn minimal_consumer_group() {
    let group: KongConsumerGroup = serde_norway::from_str("metadata: {name: silver}\n").unwrap();
    assert_eq!(group.metadata.name.as_deref(), Some("silver"));
    assert_eq!(group.spec, None);
    assert_eq!(group.status, None);
    let group: KongConsumerGroup =
        serde_norway::from_str("metadata: {name: silver}\nspec: {}\n").unwrap();
    assert_eq!(group.spec, Some(KongConsumerGroupSpec::default()));
}

#[test]
fn control_plane_ref_and_status() {
    let group: KongConsumerGroup = serde_norway::from_str(
        r#"
metadata: {name: bronze}
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
    let cp = group
        .spec
        .as_ref()
        .unwrap()
        .control_plane_ref
        .as_ref()
        .unwrap();
    assert_eq!(cp.type_, Some(ControlPlaneRefType::KonnectNamespacedRef));
    assert_eq!(cp.konnect_namespaced_ref.as_ref().unwrap().name, "cp");
    let conditions = &group.status.as_ref().unwrap().conditions;
    assert_eq!(conditions.len(), 1);
    assert_eq!(conditions[0].type_, "Programmed");
    assert_eq!(conditions[0].status, "True");
}

#[test]
fn resource_identity() {
    assert_eq!(
        KongConsumerGroup::api_version(&()),
        "configuration.konghq.com/v1beta1"
    );
    assert_eq!(KongConsumerGroup::kind(&()), "KongConsumerGroup");
    assert_eq!(KongConsumerGroup::plural(&()), "kongconsumergroups");
    assert_eq!(KongConsumerGroup::shortnames(), &["kcg"]);
    let crd = KongConsumerGroup::crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some(KongConsumerGroup::crd_name())
    );
    assert_eq!(crd.spec.scope, "Namespaced");
    let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
    let root = &schema["openAPIV3Schema"];
    let status = &root["properties"]["status"];
    assert_eq!(status["default"]["conditions"][0]["reason"], "Pending");
    assert_eq!(status["properties"]["konnect"]["type"], "object");
    let spec = &root["properties"]["spec"]["properties"];
    assert_eq!(spec["name"]["type"], "string");
    assert_eq!(spec["tags"]["maxItems"], 20);
}
