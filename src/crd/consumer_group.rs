//! `KongConsumerGroup` (configuration.konghq.com/v1beta1): a Kong consumer group, which
//! KongConsumers join by name (`consumerGroups`). Unlike KongConsumer, its fields live under
//! `spec`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::core::NamespaceResourceScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::consumer::{
    CONTROL_PLANE_REF_RULES, ControlPlaneRef, TAG_RULES, konnect_status_property,
    pending_status_default,
};
use super::schema::{self, CATEGORIES, CrdNames, age_column, programmed_column};
use super::status::ConditionSchema;

/// CEL rules on the whole object, verbatim from KIC (order matters for the equality test).
/// The immutability rule guards on `oldSelf` here, unlike KongConsumer's.
const RULES: &[(&str, &str)] = &[
    (
        "(!has(oldSelf.spec) || !has(oldSelf.spec.controlPlaneRef)) || has(self.spec.controlPlaneRef)",
        "controlPlaneRef is required once set",
    ),
    (
        "(!has(self.spec) || !has(self.spec.controlPlaneRef) || !has(self.spec.controlPlaneRef.konnectNamespacedRef)) ? true : !has(self.spec.controlPlaneRef.konnectNamespacedRef.__namespace__)",
        "spec.controlPlaneRef cannot specify namespace for namespaced resource",
    ),
    (
        "(!has(oldSelf.spec) || !has(oldSelf.spec.controlPlaneRef)) ? true : (!has(self.status) || !self.status.conditions.exists(c, c.type == 'Programmed' && c.status == 'True')) ? true : oldSelf.spec.controlPlaneRef == self.spec.controlPlaneRef",
        "spec.controlPlaneRef is immutable when an entity is already Programmed",
    ),
];

/// KongConsumerGroup is the Schema for the kongconsumergroups API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
)]
pub struct KongConsumerGroup {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// KongConsumerGroupSpec defines the desired state of KongConsumerGroup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<KongConsumerGroupSpec>,
    /// Status represents the current status of the KongConsumerGroup resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = pending_status_default)]
    pub status: Option<KongConsumerGroupStatus>,
}

kube_object!(KongConsumerGroup {
    kind: "KongConsumerGroup",
    plural: "kongconsumergroups",
    version: "v1beta1",
    scope: NamespaceResourceScope,
    short_names: ["kcg"],
    status: KongConsumerGroupStatus,
});

impl KongConsumerGroup {
    fn crd_names() -> CrdNames {
        CrdNames {
            categories: &CATEGORIES,
            status_subresource: true,
            columns: vec![age_column(), programmed_column()],
            labels: &[],
            deprecation: None,
        }
    }
}

/// KongConsumerGroupSpec defines the desired state of KongConsumerGroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongConsumerGroupSpec {
    /// Name is the name of the ConsumerGroup in Kong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ControlPlaneRef is a reference to a ControlPlane this ConsumerGroup is associated with.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(transform = schema::cel_rules(CONTROL_PLANE_REF_RULES))]
    pub control_plane_ref: Option<ControlPlaneRef>,
    /// Tags is an optional set of tags applied to the ConsumerGroup.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), transform = schema::cel_rules(TAG_RULES))]
    pub tags: Option<Vec<String>>,
}

/// Status of a KongConsumerGroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = konnect_status_property)]
pub struct KongConsumerGroupStatus {
    /// Conditions describe the current conditions of the KongConsumerGroup. Known condition
    /// types are: "Programmed".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        with = "Vec<ConditionSchema>",
        length(max = 8),
        transform = schema::condition_list
    )]
    pub conditions: Vec<Condition>,
}

#[cfg(test)]
#[path = "consumer_group_tests.rs"]
mod tests;
