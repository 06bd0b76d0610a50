//! A synthetic cluster as multi-document YAML, readable by `kingress translate` and
//! `kubectl apply` (Namespaces first).

use std::io::{self, Write};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::Spec;
use crate::snapshot::Object;

fn document(w: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    w.write_all(b"---\n")?;
    serde_norway::to_writer(&mut *w, value).map_err(io::Error::other)
}

/// Writes the cluster's Namespaces, then `objects`, one YAML document each.
pub fn write_yaml(spec: &Spec, objects: &[Object], w: &mut impl Write) -> io::Result<()> {
    for ns in 0..spec.namespaces() {
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(Spec::namespace_name(ns)),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        document(w, &namespace)?;
    }
    for o in objects {
        match o {
            Object::Service(x) => document(w, x)?,
            Object::EndpointSlice(x) => document(w, x)?,
            Object::Ingress(x) => document(w, x)?,
            Object::IngressClass(x) => document(w, x)?,
            Object::IngressClassParameters(x) => document(w, x)?,
            Object::HttpRoute(x) => document(w, x)?,
            Object::GrpcRoute(x) => document(w, x)?,
            Object::TcpRoute(x) => document(w, x)?,
            Object::UdpRoute(x) => document(w, x)?,
            Object::TlsRoute(x) => document(w, x)?,
            Object::TcpIngress(x) => document(w, x)?,
            Object::UdpIngress(x) => document(w, x)?,
            Object::Gateway(x) => document(w, x)?,
            Object::GatewayClass(x) => document(w, x)?,
            Object::ReferenceGrant(x) => document(w, x)?,
            Object::KongUpstreamPolicy(x) => document(w, x)?,
            Object::KongIngress(x) => document(w, x)?,
            Object::KongVault(x) => document(w, x)?,
            Object::KongServiceFacade(x) => document(w, x)?,
            Object::KongCustomEntity(x) => document(w, x)?,
            Object::KongPlugin(x) => document(w, x)?,
            Object::KongClusterPlugin(x) => document(w, x)?,
            Object::KongConsumer(x) => document(w, x)?,
            Object::KongConsumerGroup(x) => document(w, x)?,
            Object::Secret(x) => document(w, x)?,
            Object::ConfigMap(x) => document(w, x)?,
            Object::Namespace(x) => document(w, x)?,
            Object::BackendTlsPolicy(x) => document(w, x)?,
        }
    }
    w.flush()
}
