//! `IngressClassParameters` (configuration.konghq.com/v1alpha1): settings of an IngressClass,
//! which names it in `spec.parameters` (a namespaced reference). KIC v3.5.13 reads two:
//! `serviceUpstream` (every Service one target, its cluster DNS name) and
//! `enableLegacyRegexDetection` (Kong 2.x regex paths without the `~` prefix).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::NamespaceResourceScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{self, CrdNames};

/// IngressClassParameters is the Schema for the IngressClassParameters API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self")]
#[schemars(transform = schema::root_object)]
pub struct IngressClassParameters {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// Spec is the IngressClassParameters specification.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub spec: IngressClassParametersSpec,
    /// KIC's CRD has no status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub status: Option<serde_json::Value>,
}

kube_object!(IngressClassParameters {
    kind: "IngressClassParameters",
    plural: "ingressclassparameterses",
    version: "v1alpha1",
    scope: NamespaceResourceScope,
    short_names: [],
    status: serde_json::Value,
});

impl IngressClassParameters {
    fn crd_names() -> CrdNames {
        CrdNames {
            categories: &[],
            status_subresource: false,
            columns: Vec::new(),
            labels: &[],
            deprecation: None,
        }
    }
}

fn no_default(schema: &mut schemars::Schema) {
    schema.remove("default");
}

/// IngressClassParameters' settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressClassParametersSpec {
    /// Offload load-balancing to kube-proxy or sidecar.
    #[serde(default)]
    pub service_upstream: bool,
    /// EnableLegacyRegexDetection automatically detects if ImplementationSpecific Ingress paths are regular expression
    /// paths using the legacy 2.x heuristic. The controller adds the "~" prefix to those paths if the Kong version is
    /// 3.0 or higher.
    #[serde(default)]
    pub enable_legacy_regex_detection: bool,
}
