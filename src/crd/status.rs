//! Status types shared by the KIC CRDs: metav1 conditions and Gateway API policy ancestors.
//!
//! Conditions use k8s-openapi's `Condition` for interop with the rest of the controller; its
//! schema comes from [`ConditionSchema`], which carries the kubebuilder validations of metav1.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Gateway API `ObjectName`/DNS-1123 subdomain.
const DNS_SUBDOMAIN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

// Schema-only mirror of metav1 `Condition` with its kubebuilder validations.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    description = "Condition contains details for one aspect of the current state of this API Resource."
)]
#[allow(dead_code)] // Never constructed: only its schema is used.
pub(crate) struct ConditionSchema {
    /// lastTransitionTime is the last time the condition transitioned from one status to another.
    last_transition_time: Time,
    /// message is a human readable message indicating details about the transition.
    #[schemars(length(max = 32768))]
    message: String,
    /// observedGeneration represents the .metadata.generation that the condition was set based upon.
    #[schemars(range(min = 0))]
    observed_generation: Option<i64>,
    /// reason contains a programmatic identifier indicating the reason for the condition's last transition.
    #[schemars(
        length(min = 1, max = 1024),
        pattern(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    )]
    reason: String,
    /// status of the condition, one of True, False, Unknown.
    status: ConditionStatus,
    /// type of condition in CamelCase or in foo.example.com/CamelCase.
    #[serde(rename = "type")]
    #[schemars(
        length(max = 316),
        pattern(
            r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        )
    )]
    type_: String,
}

#[derive(JsonSchema)]
#[allow(dead_code)] // Schema only.
enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// Status of a policy with respect to one ancestor (Gateway API `PolicyAncestorStatus`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAncestorStatus {
    /// AncestorRef corresponds with a ParentRef in the spec that this PolicyAncestorStatus
    /// struct describes the status of.
    pub ancestor_ref: ParentReference,
    /// ControllerName is a domain/path string that indicates the name of the controller that
    /// wrote this status.
    #[schemars(
        length(min = 1, max = 253),
        pattern(
            r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$"
        )
    )]
    pub controller_name: String,
    /// Conditions describes the status of the Policy with respect to the given Ancestor.
    // Empty is omitted: the schema wants at least one condition when the list is present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        with = "Vec<ConditionSchema>",
        length(min = 1, max = 8),
        transform = crate::crd::schema::condition_list
    )]
    pub conditions: Vec<Condition>,
}

/// Reference to a parent object such as a Gateway (Gateway API `ParentReference`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// Group is the group of the referent. Set it to "" for the core API group.
    #[serde(
        default = "default_parent_group",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(
        length(max = 253),
        pattern(r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub group: Option<String>,
    /// Kind is kind of the referent.
    #[serde(
        default = "default_parent_kind",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(
        length(min = 1, max = 63),
        pattern(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")
    )]
    pub kind: Option<String>,
    /// Name is the name of the referent.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace is the namespace of the referent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63), pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub namespace: Option<String>,
    /// Port is the network port this Route targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
    /// SectionName is the name of a section within the target resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), pattern(DNS_SUBDOMAIN))]
    pub section_name: Option<String>,
}

// Defaults the API server applies too; serde applies them for objects that skipped it.
fn default_parent_group() -> Option<String> {
    Some("gateway.networking.k8s.io".into())
}

fn default_parent_kind() -> Option<String> {
    Some("Gateway".into())
}
