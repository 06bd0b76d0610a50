//! `KongConsumer` (configuration.konghq.com/v1): a Kong consumer, with its credentials (Secrets)
//! and consumer groups. Like KongPlugin, its fields are top-level; only the Konnect-related
//! `controlPlaneRef` and the `tags` live under `spec`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::core::NamespaceResourceScope;
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::schema::{self, CATEGORIES, CrdNames, age_column, column, programmed_column};
use super::status::ConditionSchema;

/// CEL rules on the whole object, verbatim from KIC (order matters for the equality test).
const RULES: &[(&str, &str)] = &[
    (
        "has(self.username) || has(self.custom_id)",
        "Need to provide either username or custom_id",
    ),
    (
        "(!has(oldSelf.spec) || !has(oldSelf.spec.controlPlaneRef)) || has(self.spec.controlPlaneRef)",
        "controlPlaneRef is required once set",
    ),
    (
        "(!has(self.spec) || !has(self.spec.controlPlaneRef) || !has(self.spec.controlPlaneRef.konnectNamespacedRef)) ? true : !has(self.spec.controlPlaneRef.konnectNamespacedRef.__namespace__)",
        "spec.controlPlaneRef cannot specify namespace for namespaced resource",
    ),
    (
        "(!has(self.spec) || !has(self.spec.controlPlaneRef)) ? true : (!has(self.status) || !self.status.conditions.exists(c, c.type == 'Programmed' && c.status == 'True')) ? true : oldSelf.spec.controlPlaneRef == self.spec.controlPlaneRef",
        "spec.controlPlaneRef is immutable when an entity is already Programmed",
    ),
];

/// CEL rules of `spec.controlPlaneRef`, verbatim from KIC (shared by the Konnect-aware CRDs).
pub(super) const CONTROL_PLANE_REF_RULES: &[(&str, &str)] = &[
    (
        "self.type != 'konnectID'",
        "'konnectID' type is not supported",
    ),
    (
        "(has(self.type) && self.type == 'konnectNamespacedRef') ? has(self.konnectNamespacedRef) : true",
        "when type is konnectNamespacedRef, konnectNamespacedRef must be set",
    ),
    (
        "(has(self.type) && self.type == 'konnectNamespacedRef') ? !has(self.konnectID) : true",
        "when type is konnectNamespacedRef, konnectID must not be set",
    ),
    (
        "(has(self.type) && self.type == 'konnectID') ? has(self.konnectID) : true",
        "when type is konnectID, konnectID must be set",
    ),
    (
        "(has(self.type) && self.type == 'konnectID') ? !has(self.konnectNamespacedRef) : true",
        "when type is konnectID, konnectNamespacedRef must not be set",
    ),
    (
        "(has(self.type) && self.type == 'kic') ? !has(self.konnectID) : true",
        "when type is kic, konnectID must not be set",
    ),
    (
        "(has(self.type) && self.type == 'kic') ? !has(self.konnectNamespacedRef) : true",
        "when type is kic, konnectNamespacedRef must not be set",
    ),
    (
        "!has(self.type) ? !has(self.konnectID) : true",
        "when type is unset, konnectID must not be set",
    ),
    (
        "!has(self.type) ? !has(self.konnectNamespacedRef) : true",
        "when type is unset, konnectNamespacedRef must not be set",
    ),
];

/// CEL rules of `spec.tags`, verbatim from KIC (shared by the Konnect-aware CRDs).
pub(super) const TAG_RULES: &[(&str, &str)] = &[(
    "self.all(tag, size(tag) >= 1 && size(tag) <= 128)",
    "tags entries must not be longer than 128 characters",
)];

/// KongConsumer is the Schema for the kongconsumers API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
)]
pub struct KongConsumer {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// Username is a Kong cluster-unique username of the consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// CustomID is a Kong cluster-unique existing ID for the consumer - useful for mapping
    /// Kong with users in your existing database.
    #[serde(rename = "custom_id", skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    /// Credentials are references to secrets containing a credential to be provisioned in
    /// Kong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub credentials: Option<Vec<String>>,
    /// ConsumerGroups are references to consumer groups (that consumer wants to be part of)
    /// provisioned in Kong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub consumer_groups: Option<Vec<String>>,
    /// KongConsumerSpec defines the specification of the KongConsumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<KongConsumerSpec>,
    /// Status represents the current status of the KongConsumer resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = pending_status_default)]
    pub status: Option<KongConsumerStatus>,
}

kube_object!(KongConsumer {
    kind: "KongConsumer",
    plural: "kongconsumers",
    version: "v1",
    scope: NamespaceResourceScope,
    short_names: ["kc"],
    status: KongConsumerStatus,
});

impl KongConsumer {
    fn crd_names() -> CrdNames {
        CrdNames {
            categories: &CATEGORIES,
            status_subresource: true,
            columns: vec![
                column(
                    "Username",
                    "string",
                    ".username",
                    Some("Username of a Kong Consumer"),
                    None,
                ),
                age_column(),
                programmed_column(),
            ],
            labels: &[],
            deprecation: None,
        }
    }
}

/// KongConsumerSpec defines the specification of the KongConsumer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongConsumerSpec {
    /// ControlPlaneRef is a reference to a ControlPlane this Consumer is associated with.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(transform = schema::cel_rules(CONTROL_PLANE_REF_RULES))]
    pub control_plane_ref: Option<ControlPlaneRef>,
    /// Tags is an optional set of tags applied to the consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), transform = schema::cel_rules(TAG_RULES))]
    pub tags: Option<Vec<String>>,
}

/// Reference to the control plane an entity belongs to (KIC, or a Konnect control plane).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneRef {
    /// Type indicates the type of the control plane being referenced. The default is kic,
    /// which implies that the Control Plane is KIC.
    #[serde(
        rename = "type",
        default = "default_control_plane_ref_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub type_: Option<ControlPlaneRefType>,
    /// KonnectID is the schema for the KonnectID type. This field is required when the Type is
    /// konnectID.
    #[serde(rename = "konnectID", skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[0-9a-f]{8}(?:\-[0-9a-f]{4}){3}-[0-9a-f]{12}$"))]
    pub konnect_id: Option<String>,
    /// KonnectNamespacedRef is a reference to a Konnect Control Plane entity inside the
    /// cluster. This field is required when the Type is konnectNamespacedRef.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub konnect_namespaced_ref: Option<KonnectNamespacedRef>,
}

/// Default applied by the API server too; serde applies it for objects that skipped it.
fn default_control_plane_ref_type() -> Option<ControlPlaneRefType> {
    Some(ControlPlaneRefType::Kic)
}

/// Kind of control plane a [`ControlPlaneRef`] points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ControlPlaneRefType {
    #[serde(rename = "konnectID")]
    KonnectId,
    #[serde(rename = "konnectNamespacedRef")]
    KonnectNamespacedRef,
    #[serde(rename = "kic")]
    Kic,
}

/// Reference to a Konnect Control Plane entity inside the cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KonnectNamespacedRef {
    /// Name is the name of the Konnect Control Plane.
    pub name: String,
    /// Namespace is the namespace where the Konnect Control Plane is in. Currently only
    /// cluster scoped resources (KongVault) are allowed to set `konnectNamespacedRef.namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Status of a KongConsumer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = konnect_status_property)]
pub struct KongConsumerStatus {
    /// Conditions describe the current conditions of the KongConsumer. Known condition types
    /// are: "Programmed".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        with = "Vec<ConditionSchema>",
        length(max = 8),
        transform = schema::condition_list
    )]
    pub conditions: Vec<Condition>,
}

/// KIC's default status (applied by the API server): `Programmed` unknown until a controller
/// reports. Schema only: serde leaves an absent status absent.
pub(super) fn pending_status_default(schema: &mut Schema) {
    schema.insert(
        "default".into(),
        json!({
            "conditions": [{
                "lastTransitionTime": "1970-01-01T00:00:00Z",
                "message": "Waiting for controller",
                "reason": "Pending",
                "status": "Unknown",
                "type": "Programmed",
            }]
        }),
    );
}

/// KIC's status also declares the Konnect entity status (`status.konnect`), which only its
/// Konnect controllers write. Declared in the schema so the API server keeps it; kingress never
/// reads or writes it.
pub(super) fn konnect_status_property(schema: &mut Schema) {
    let konnect = json!({
        "description": "Konnect contains the Konnect entity status.",
        "type": "object",
        "properties": {
            "controlPlaneID": {
                "description": "ControlPlaneID is the Konnect ID of the ControlPlane this Route is associated with.",
                "type": "string",
            },
            "id": {
                "description": "ID is the unique identifier of the Konnect entity as assigned by Konnect API.",
                "type": "string",
            },
            "organizationID": {
                "description": "OrgID is ID of Konnect Org that this entity has been created in.",
                "type": "string",
            },
            "serverURL": {
                "description": "ServerURL is the URL of the Konnect server in which the entity exists.",
                "type": "string",
            },
        },
    });
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.insert("konnect".into(), konnect);
    }
}

#[cfg(test)]
#[path = "consumer_tests.rs"]
mod tests;
