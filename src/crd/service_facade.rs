//! `KongServiceFacade` (incubator.ingress-controller.konghq.com/v1alpha1): a second Kong service
//! for one Kubernetes Service port, used as an Ingress `backend.resource`, with its own
//! annotations (plugins, upstream policy, ...). KIC reads it only with its `KongServiceFacade`
//! feature gate on (types from kubernetes-configuration v1.5.2,
//! `api/incubator/v1alpha1/kongservicefacade_types.go`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::core::NamespaceResourceScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{self, CrdNames};
use super::status::ConditionSchema;

/// The API group of the incubator kinds.
pub const INCUBATOR_GROUP: &str = "incubator.ingress-controller.konghq.com";

/// Only KIC's category: the facade is not in KIC's `kong` category.
const CATEGORIES: [&str; 1] = ["kong-ingress-controller"];

/// KongServiceFacade allows creating separate Kong Services for a single Kubernetes
/// Service. It can be used as Kubernetes Ingress' backend (via its path's `backend.resource`
/// field). It's designed to enable creating two "virtual" Services in Kong that will point
/// to the same Kubernetes Service, but will have different configuration (e.g. different
/// set of plugins, different load balancing algorithm, etc.).
///
/// KongServiceFacade requires `kubernetes.io/ingress.class` annotation with a value
/// matching the ingressClass of the Kong Ingress Controller (`kong` by default) to be reconciled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(transform = schema::root_object, transform = schema::spec_required)]
pub struct KongServiceFacade {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// KongServiceFacadeSpec defines the desired state of KongServiceFacade.
    pub spec: KongServiceFacadeSpec,
    /// KongServiceFacadeStatus defines the observed state of KongServiceFacade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<KongServiceFacadeStatus>,
}

kube_object!(KongServiceFacade {
    group: "incubator.ingress-controller.konghq.com",
    kind: "KongServiceFacade",
    plural: "kongservicefacades",
    version: "v1alpha1",
    scope: NamespaceResourceScope,
    short_names: [],
    status: KongServiceFacadeStatus,
});

impl KongServiceFacade {
    fn crd_names() -> CrdNames {
        CrdNames {
            categories: &CATEGORIES,
            status_subresource: true,
            columns: vec![],
            labels: &[],
            deprecation: None,
        }
    }
}

/// KongServiceFacadeSpec defines the desired state of KongServiceFacade.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongServiceFacadeSpec {
    /// Backend is a reference to a Kubernetes Service that is used as a backend
    /// for this Kong Service Facade.
    #[serde(rename = "backendRef")]
    pub backend: KongServiceFacadeBackend,
}

/// KongServiceFacadeBackend is a reference to a Kubernetes Service
/// that is used as a backend for a Kong Service Facade.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongServiceFacadeBackend {
    /// Name is the name of the referenced Kubernetes Service.
    pub name: String,
    /// Port is the port of the referenced Kubernetes Service.
    pub port: i32,
}

/// KongServiceFacadeStatus defines the observed state of KongServiceFacade.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongServiceFacadeStatus {
    /// Conditions describe the current conditions of the KongServiceFacade.
    ///
    /// Known condition types are:
    ///
    /// * "Programmed"
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        with = "Vec<ConditionSchema>",
        length(max = 8),
        transform = schema::condition_list,
        transform = schema::pending_conditions_default
    )]
    pub conditions: Vec<Condition>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource;

    #[test]
    fn reads_a_facade_and_writes_it_back_with_its_type() {
        let facade: KongServiceFacade = serde_norway::from_str(
            "apiVersion: incubator.ingress-controller.konghq.com/v1alpha1\nkind: KongServiceFacade\nmetadata: {name: f, namespace: default}\nspec:\n  backendRef: {name: svc, port: 80}\n",
        )
        .expect("facade");
        assert_eq!(facade.spec.backend.name, "svc");
        assert_eq!(facade.spec.backend.port, 80);
        let value = serde_json::to_value(&facade).expect("json");
        super::super::assert_type_first(
            &value,
            "incubator.ingress-controller.konghq.com/v1alpha1",
            "KongServiceFacade",
        );
        assert_eq!(value["spec"]["backendRef"]["port"], 80);
        assert_eq!(KongServiceFacade::group(&()), INCUBATOR_GROUP);
    }
}
