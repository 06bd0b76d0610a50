//! The Kubernetes kinds kingress reads, in one place so each kind's version is pinned once.

pub use gateway_api::apis::standard::backendtlspolicies::BackendTlsPolicy;
pub use gateway_api::apis::standard::gatewayclasses::GatewayClass;
pub use gateway_api::apis::standard::gateways::Gateway;
pub use gateway_api::apis::standard::grpcroutes::GrpcRoute;
pub use gateway_api::apis::standard::httproutes::HttpRoute;
pub use gateway_api::apis::standard::tlsroutes::TlsRoute;
pub use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service};
pub use k8s_openapi::api::discovery::v1::EndpointSlice;
pub use k8s_openapi::api::networking::v1::{Ingress, IngressClass};

pub use crate::crd::{
    IngressClassParameters, KongClusterPlugin, KongConsumer, KongConsumerGroup, KongCustomEntity,
    KongIngress, KongPlugin, KongServiceFacade, KongUpstreamPolicy, KongVault, TcpIngress,
    UdpIngress,
};

pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
pub const KONG_GROUP: &str = "configuration.konghq.com";

/// ReferenceGrant, read at `v1beta1`: its storage version in Gateway API v1.6.1 (which serves
/// `v1` too, with the same schema), served by every release since v0.6, and the version KIC
/// v3.5.13 reads. Only what translation reads is declared.
#[derive(
    kube::CustomResource, Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize,
)]
#[kube(
    group = "gateway.networking.k8s.io",
    version = "v1beta1",
    kind = "ReferenceGrant",
    plural = "referencegrants",
    namespaced,
    schema = "disabled"
)]
pub struct ReferenceGrantSpec {
    /// The namespaces and kinds trusted to refer to what `to` lists.
    pub from: Vec<ReferenceGrantFrom>,
    pub to: Vec<ReferenceGrantTo>,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct ReferenceGrantFrom {
    pub group: String,
    pub kind: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct ReferenceGrantTo {
    pub group: String,
    pub kind: String,
    /// Every object of the kind when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// TCPRoute at `v1`, standard in Gateway API v1.6.1 (the crate has it at `v1alpha2` only, in
/// its experimental feature; both versions share one schema, so manifests at either decode into
/// it). Its parts are the same as TLSRoute's v1 parts, which it reuses.
#[derive(
    kube::CustomResource, Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize,
)]
#[kube(
    group = "gateway.networking.k8s.io",
    version = "v1",
    kind = "TCPRoute",
    root = "TcpRoute",
    plural = "tcproutes",
    namespaced,
    status = "TlsRouteStatus",
    schema = "disabled"
)]
pub struct TcpRouteSpec {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "parentRefs"
    )]
    pub parent_refs: Option<Vec<TlsRouteParentRefs>>,
    pub rules: Vec<TlsRouteRules>,
}

/// UDPRoute at `v1`, as [`TcpRoute`].
#[derive(
    kube::CustomResource, Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize,
)]
#[kube(
    group = "gateway.networking.k8s.io",
    version = "v1",
    kind = "UDPRoute",
    root = "UdpRoute",
    plural = "udproutes",
    namespaced,
    status = "TlsRouteStatus",
    schema = "disabled"
)]
pub struct UdpRouteSpec {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "parentRefs"
    )]
    pub parent_refs: Option<Vec<TlsRouteParentRefs>>,
    pub rules: Vec<TlsRouteRules>,
}

use gateway_api::apis::standard::tlsroutes::{TlsRouteParentRefs, TlsRouteRules, TlsRouteStatus};
