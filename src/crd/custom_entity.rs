//! `KongCustomEntity` (configuration.konghq.com/v1alpha1): an entity of a type a plugin
//! defines (KIC fills it from the schema Kong serves for the type; in practice the entities
//! of Kong Enterprise plugins such as degraphql). kingress reads it to say it does not
//! configure it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::core::NamespaceResourceScope;
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

use super::schema::{self, CATEGORIES, CrdNames, age_column, column, programmed_column};
use super::status::ConditionSchema;

const RULES: &[(&str, &str)] = &[(
    "self.spec.type == oldSelf.spec.type",
    "The spec.type field is immutable",
)];

const SPEC_RULES: &[(&str, &str)] = &[(
    "!(self.type in ['services','routes','upstreams','targets','plugins','consumers','consumer_groups'])",
    "The type field cannot be one of the known Kong entity types",
)];

/// KongCustomEntity defines a "custom" Kong entity that KIC cannot
/// support the entity type directly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
    transform = schema::spec_required,
)]
pub struct KongCustomEntity {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// KongCustomEntitySpec defines the specification of the KongCustomEntity.
    pub spec: KongCustomEntitySpec,
    /// Status stores the reconciling status of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<KongCustomEntityStatus>,
}

kube_object!(KongCustomEntity {
    kind: "KongCustomEntity",
    plural: "kongcustomentities",
    version: "v1alpha1",
    scope: NamespaceResourceScope,
    short_names: ["kce"],
    status: KongCustomEntityStatus,
});

impl KongCustomEntity {
    fn crd_names() -> CrdNames {
        CrdNames {
            categories: &CATEGORIES,
            status_subresource: true,
            columns: vec![
                column(
                    "Entity Type",
                    "string",
                    ".spec.type",
                    Some("type of the Kong entity"),
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

/// KongCustomEntitySpec defines the specification of the KongCustomEntity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = schema::cel_rules(SPEC_RULES))]
pub struct KongCustomEntitySpec {
    /// EntityType is the type of the Kong entity. The type is used in generating declarative configuration.
    #[serde(rename = "type")]
    pub entity_type: String,
    /// Fields defines the fields of the Kong entity itself.
    #[schemars(schema_with = "schema::free_form_value")]
    pub fields: serde_json::Value,
    /// ControllerName specifies the controller that should reconcile it, like ingress class.
    pub controller_name: String,
    /// ParentRef references the kubernetes resource it attached to when its scope is "attached".
    /// Currently only KongPlugin/KongClusterPlugin allowed. This will make the custom entity to be attached
    /// to the entity(service/route/consumer) where the plugin is attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_ref: Option<ObjectReference>,
}

/// ObjectReference defines reference of a kubernetes object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ObjectReference {
    /// Group defines the API group of the referred object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind defines the kind of the referred object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "parent_kind")]
    pub kind: Option<String>,
    /// Empty namespace means the same namespace of the owning object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name defines the name of the referred object.
    pub name: String,
}

fn parent_kind(_: &mut schemars::SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["KongPlugin", "KongClusterPlugin"],
        "description": "Kind defines the kind of the referred object."
    })
}

/// Status stores the reconciling status of the resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = schema::conditions_required)]
pub struct KongCustomEntityStatus {
    /// Conditions describe the current conditions of the KongCustomEntityStatus.
    ///
    /// Known condition types are:
    ///
    /// * "Programmed"
    #[serde(default)]
    #[schemars(
        with = "Vec<ConditionSchema>",
        length(max = 8),
        transform = schema::condition_list,
        transform = schema::pending_conditions_default
    )]
    pub conditions: Vec<Condition>,
}
