//! `KongVault` (configuration.konghq.com/v1alpha1, cluster-scoped): a Kong `vaults` entity, which
//! `{vault://<prefix>/<secret>}` references in plugin configuration resolve through. Kong OSS has
//! only the `env` backend; the others are Kong Enterprise.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::core::ClusterResourceScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::consumer::{
    CONTROL_PLANE_REF_RULES, ControlPlaneRef, TAG_RULES, konnect_status_property,
};
use super::schema::{self, CATEGORIES, CrdNames, age_column, column, programmed_column};
use super::status::ConditionSchema;

const RULES: &[(&str, &str)] = &[
    (
        "self.spec.prefix == oldSelf.spec.prefix",
        "The spec.prefix field is immutable",
    ),
    (
        "!has(oldSelf.spec.controlPlaneRef) || has(self.spec.controlPlaneRef)",
        "controlPlaneRef is required once set",
    ),
    (
        "(!has(self.status) || !self.status.conditions.exists(c, c.type == 'Programmed' && c.status == 'True') || !has(self.spec.controlPlaneRef)) ? true : oldSelf.spec.controlPlaneRef == self.spec.controlPlaneRef",
        "spec.controlPlaneRef is immutable when an entity is already Programmed",
    ),
];

/// KongVault is the schema for kongvaults API which defines a custom Kong vault.
/// A Kong vault is a storage to store sensitive data, where the values can be referenced in configuration of plugins.
/// See: https://docs.konghq.com/gateway/latest/kong-enterprise/secrets-management/
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
    transform = schema::spec_required,
)]
pub struct KongVault {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// KongVaultSpec defines specification of a custom Kong vault.
    pub spec: KongVaultSpec,
    /// KongVaultStatus represents the current status of the KongVault resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<KongVaultStatus>,
}

kube_object!(KongVault {
    kind: "KongVault",
    plural: "kongvaults",
    version: "v1alpha1",
    scope: ClusterResourceScope,
    short_names: ["kv"],
    status: KongVaultStatus,
});

impl KongVault {
    fn crd_names() -> CrdNames {
        let description = column(
            "Description",
            "string",
            ".spec.description",
            Some("Description"),
            Some(1),
        );
        CrdNames {
            categories: &CATEGORIES,
            status_subresource: true,
            columns: vec![
                column(
                    "Backend Type",
                    "string",
                    ".spec.backend",
                    Some("Name of the backend of the vault"),
                    None,
                ),
                column(
                    "Prefix",
                    "string",
                    ".spec.prefix",
                    Some("Prefix of vault URI to reference the values in the vault"),
                    None,
                ),
                age_column(),
                description,
                programmed_column(),
            ],
            labels: &[],
            deprecation: None,
        }
    }
}

/// KongVaultSpec defines specification of a custom Kong vault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongVaultSpec {
    /// Backend is the type of the backend storing the secrets in the vault.
    #[schemars(length(min = 1))]
    pub backend: String,
    /// Prefix is the prefix of vault URI for referencing values in the vault.
    #[schemars(length(min = 1))]
    pub prefix: String,
    /// Description is the additional information about the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Config is the configuration of the vault. Varies for different backends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::free_form_value")]
    pub config: Option<serde_json::Value>,
    /// Tags are the tags associated to the vault for grouping and filtering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), transform = schema::cel_rules(TAG_RULES))]
    pub tags: Option<Vec<String>>,
    /// ControlPlaneRef is a reference to a Konnect ControlPlane this KongVault is associated with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = schema::cel_rules(CONTROL_PLANE_REF_RULES))]
    pub control_plane_ref: Option<ControlPlaneRef>,
}

/// KongVaultStatus represents the current status of the KongVault resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = konnect_status_property, transform = schema::conditions_required)]
pub struct KongVaultStatus {
    /// Conditions describe the current conditions of the KongVaultStatus.
    #[serde(default)]
    #[schemars(
        with = "Vec<ConditionSchema>",
        length(max = 8),
        transform = schema::condition_list,
        transform = schema::pending_conditions_default
    )]
    pub conditions: Vec<Condition>,
}
