//! The objects translation reads, indexed for the joins it makes.
//!
//! Maps are ordered by (namespace, name), so iteration, and therefore the translated
//! configuration, does not depend on the order objects arrived in.

use std::collections::{BTreeMap, BTreeSet};

use kube::ResourceExt;

use crate::api::*;

/// `(namespace, name)`; cluster-scoped objects use an empty namespace.
pub type Key = (String, String);

fn key_of<K: ResourceExt>(obj: &K) -> Key {
    (obj.namespace().unwrap_or_default(), obj.name_any())
}

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub services: BTreeMap<Key, Service>,
    pub endpoint_slices: BTreeMap<Key, EndpointSlice>,
    /// Slice keys per owning Service key, from the `kubernetes.io/service-name` label.
    slices_by_service: BTreeMap<Key, BTreeSet<Key>>,
    pub ingresses: BTreeMap<Key, Ingress>,
    pub ingress_classes: BTreeMap<String, IngressClass>,
    pub httproutes: BTreeMap<Key, HttpRoute>,
    pub gateways: BTreeMap<Key, Gateway>,
    pub gateway_classes: BTreeMap<String, GatewayClass>,
    pub upstream_policies: BTreeMap<Key, KongUpstreamPolicy>,
    pub kong_plugins: BTreeMap<Key, KongPlugin>,
    pub kong_cluster_plugins: BTreeMap<String, KongClusterPlugin>,
    pub secrets: BTreeMap<Key, Secret>,
}

/// Any object the snapshot can hold.
#[derive(Clone, Debug)]
pub enum Object {
    Service(Box<Service>),
    EndpointSlice(Box<EndpointSlice>),
    Ingress(Box<Ingress>),
    IngressClass(Box<IngressClass>),
    HttpRoute(Box<HttpRoute>),
    Gateway(Box<Gateway>),
    GatewayClass(Box<GatewayClass>),
    KongUpstreamPolicy(Box<KongUpstreamPolicy>),
    KongPlugin(Box<KongPlugin>),
    KongClusterPlugin(Box<KongClusterPlugin>),
    Secret(Box<Secret>),
}

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces an object.
    pub fn apply(&mut self, object: Object) {
        match object {
            Object::Service(o) => {
                self.services.insert(key_of(o.as_ref()), *o);
            }
            Object::EndpointSlice(o) => self.apply_slice(*o),
            Object::Ingress(o) => {
                self.ingresses.insert(key_of(o.as_ref()), *o);
            }
            Object::IngressClass(o) => {
                self.ingress_classes.insert(o.name_any(), *o);
            }
            Object::HttpRoute(o) => {
                self.httproutes.insert(key_of(o.as_ref()), *o);
            }
            Object::Gateway(o) => {
                self.gateways.insert(key_of(o.as_ref()), *o);
            }
            Object::GatewayClass(o) => {
                self.gateway_classes.insert(o.name_any(), *o);
            }
            Object::KongUpstreamPolicy(o) => {
                self.upstream_policies.insert(key_of(o.as_ref()), *o);
            }
            Object::KongPlugin(o) => {
                self.kong_plugins.insert(key_of(o.as_ref()), *o);
            }
            Object::KongClusterPlugin(o) => {
                self.kong_cluster_plugins.insert(o.name_any(), *o);
            }
            Object::Secret(o) => {
                self.secrets.insert(key_of(o.as_ref()), *o);
            }
        }
    }

    fn apply_slice(&mut self, slice: EndpointSlice) {
        let key = key_of(&slice);
        self.unindex_slice(&key);
        if let Some(svc) = slice.labels().get(SERVICE_NAME_LABEL) {
            self.slices_by_service
                .entry((key.0.clone(), svc.clone()))
                .or_default()
                .insert(key.clone());
        }
        self.endpoint_slices.insert(key, slice);
    }

    fn unindex_slice(&mut self, key: &Key) {
        let Some(old) = self.endpoint_slices.get(key) else {
            return;
        };
        if let Some(svc) = old.labels().get(SERVICE_NAME_LABEL) {
            let svc_key = (key.0.clone(), svc.clone());
            if let Some(set) = self.slices_by_service.get_mut(&svc_key) {
                set.remove(key);
                if set.is_empty() {
                    self.slices_by_service.remove(&svc_key);
                }
            }
        }
    }

    /// Removes an EndpointSlice, keeping the per-Service index in step.
    pub fn remove_endpoint_slice(&mut self, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        self.unindex_slice(&key);
        self.endpoint_slices.remove(&key);
    }

    /// The EndpointSlices of a Service, ordered by slice name.
    pub fn slices_for_service<'a>(
        &'a self,
        namespace: &str,
        service: &str,
    ) -> impl Iterator<Item = &'a EndpointSlice> + 'a {
        self.slices_by_service
            .get(&(namespace.to_string(), service.to_string()))
            .into_iter()
            .flat_map(|keys| keys.iter())
            .filter_map(|k| self.endpoint_slices.get(k))
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        self.services
            .get(&(namespace.to_string(), name.to_string()))
    }

    pub fn upstream_policy(&self, namespace: &str, name: &str) -> Option<&KongUpstreamPolicy> {
        self.upstream_policies
            .get(&(namespace.to_string(), name.to_string()))
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<&Secret> {
        self.secrets.get(&(namespace.to_string(), name.to_string()))
    }

    /// Total number of objects held, for summaries and metrics.
    pub fn len(&self) -> usize {
        self.services.len()
            + self.endpoint_slices.len()
            + self.ingresses.len()
            + self.ingress_classes.len()
            + self.httproutes.len()
            + self.gateways.len()
            + self.gateway_classes.len()
            + self.upstream_policies.len()
            + self.kong_plugins.len()
            + self.kong_cluster_plugins.len()
            + self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
