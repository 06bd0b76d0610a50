//! The Kubernetes kinds kingress reads, in one place so each kind's version is pinned once.

pub use gateway_api::apis::standard::gatewayclasses::GatewayClass;
pub use gateway_api::apis::standard::gateways::Gateway;
pub use gateway_api::apis::standard::httproutes::HttpRoute;
pub use k8s_openapi::api::core::v1::{Secret, Service};
pub use k8s_openapi::api::discovery::v1::EndpointSlice;
pub use k8s_openapi::api::networking::v1::{Ingress, IngressClass};

pub use crate::crd::{KongClusterPlugin, KongPlugin, KongUpstreamPolicy};

pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
pub const KONG_GROUP: &str = "configuration.konghq.com";
