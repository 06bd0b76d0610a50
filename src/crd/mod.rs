//! KIC-compatible CRD types (`configuration.konghq.com`) and the CRDs generated from them.
//!
//! The generated CRDs accept and reject the same objects as KIC's (checked against KIC's CRDs
//! by `tests/crds.rs`), so kingress can take over an existing KIC installation.

#[macro_use]
mod object;
pub mod consumer;
pub mod consumer_group;
pub mod custom_entity;
pub mod ingress_class_parameters;
pub mod kong_ingress;
pub mod l4_ingress;
pub mod plugin;
mod schema;
pub mod service_facade;
mod status;
pub mod upstream_policy;
pub mod vault;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::core::CustomResourceExt;

pub use consumer::{
    ControlPlaneRef, ControlPlaneRefType, KongConsumer, KongConsumerSpec, KongConsumerStatus,
    KonnectNamespacedRef,
};
pub use consumer_group::{KongConsumerGroup, KongConsumerGroupSpec, KongConsumerGroupStatus};
pub use custom_entity::{KongCustomEntity, KongCustomEntitySpec, KongCustomEntityStatus};
pub use ingress_class_parameters::{IngressClassParameters, IngressClassParametersSpec};
pub use kong_ingress::KongIngress;
pub use l4_ingress::{TcpIngress, UdpIngress};
pub use plugin::{
    ConfigPatch, ConfigSource, KongClusterPlugin, KongClusterPluginStatus, KongPlugin,
    KongPluginStatus, NamespacedConfigPatch, NamespacedConfigSource,
    NamespacedSecretValueFromSource, PluginOrdering, PluginProtocol, SecretValueFromSource,
};
pub use schema::GROUP;
pub use service_facade::{
    INCUBATOR_GROUP, KongServiceFacade, KongServiceFacadeBackend, KongServiceFacadeSpec,
    KongServiceFacadeStatus,
};
pub use status::{ParentReference, PolicyAncestorStatus};
pub use upstream_policy::{
    Algorithm, HashInput, HealthcheckType, KongUpstreamActiveHealthcheck, KongUpstreamHash,
    KongUpstreamHealthcheck, KongUpstreamHealthcheckHealthy, KongUpstreamHealthcheckUnhealthy,
    KongUpstreamPassiveHealthcheck, KongUpstreamPolicy, KongUpstreamPolicySpec,
    KongUpstreamPolicyStatus, KongUpstreamStickySessions,
};
pub use vault::{KongVault, KongVaultSpec, KongVaultStatus};

/// Every CRD kingress serves, sorted by file name (the order of `crds/` and `kingress crds`).
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![
        IngressClassParameters::crd(),
        KongClusterPlugin::crd(),
        KongConsumerGroup::crd(),
        KongConsumer::crd(),
        KongCustomEntity::crd(),
        KongIngress::crd(),
        KongPlugin::crd(),
        KongUpstreamPolicy::crd(),
        KongVault::crd(),
        TcpIngress::crd(),
        UdpIngress::crd(),
        KongServiceFacade::crd(),
    ]
}

/// One CRD as a YAML document (with its leading `---`), exactly as committed under `crds/`.
pub fn to_yaml(crd: &CustomResourceDefinition) -> String {
    // A CRD is plain data with string keys: serializing it cannot fail.
    let mut value = serde_json::to_value(crd).expect("CustomResourceDefinition serializes");
    integral_floats_as_integers(&mut value);
    let yaml = serde_norway::to_string(&value).expect("JSON value serializes to YAML");
    format!("---\n{yaml}")
}

/// Schema bounds are `f64` in k8s-openapi; print `minimum: 0` rather than `0.0`, like KIC.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0)
                && f.abs() < 2f64.powi(53)
            {
                // Exact: integral and within f64's integer precision.
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// All CRDs as one multi-document YAML stream (what `kingress crds` prints).
pub fn render_yaml() -> String {
    all().iter().map(to_yaml).collect()
}

/// File name of a CRD under `crds/`, following KIC's `configuration.konghq.com_<plural>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// A serialized object starts with `apiVersion`, `kind` and `metadata`, as KIC's do.
#[cfg(test)]
fn assert_type_first(value: &serde_json::Value, api_version: &str, kind: &str) {
    let keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..3], ["apiVersion", "kind", "metadata"]);
    assert_eq!(value["apiVersion"], api_version);
    assert_eq!(value["kind"], kind);
}
