//! The objects translation reads, indexed for the joins it makes.
//!
//! Maps are ordered by (namespace, name), so iteration, and therefore the translated
//! configuration, does not depend on the order objects arrived in.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::api::*;

/// `(namespace, name)`; cluster-scoped objects use an empty namespace.
pub type Key = (String, String);

/// A borrowed view of a [`Key`], so maps keyed by `(String, String)` can be searched with
/// `(&str, &str)` without allocating (translation looks Services up by name many times).
trait KeyRef {
    fn parts(&self) -> (&str, &str);
}

impl KeyRef for Key {
    fn parts(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl KeyRef for (&str, &str) {
    fn parts(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn KeyRef + 'a> for Key {
    fn borrow(&self) -> &(dyn KeyRef + 'a) {
        self
    }
}

// Same order as `(String, String)`'s, which a `Borrow` form must keep.
impl PartialEq for dyn KeyRef + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyRef + '_ {}

impl PartialOrd for dyn KeyRef + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn KeyRef + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

fn get<'m, T>(map: &'m BTreeMap<Key, Box<T>>, namespace: &str, name: &str) -> Option<&'m T> {
    map.get(&(namespace, name) as &dyn KeyRef).map(|b| &**b)
}

/// The namespaces of `keys`; keys come sorted per map, so runs of one namespace are
/// inserted once.
fn namespaces<'a>(keys: impl Iterator<Item = &'a Key>) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    let mut last: Option<&str> = None;
    for (ns, _) in keys {
        if last != Some(ns.as_str()) {
            out.insert(ns.as_str());
            last = Some(ns.as_str());
        }
    }
    out
}

/// The values of `map` in `namespace` (every value if None), in key order.
pub fn in_namespace<'m, 'n, T>(
    map: &'m BTreeMap<Key, Box<T>>,
    namespace: Option<&'n str>,
) -> impl Iterator<Item = &'m T> + use<'m, 'n, T> {
    let start = (namespace.unwrap_or_default(), "");
    map.range::<dyn KeyRef, _>((
        std::ops::Bound::Included(&start as &dyn KeyRef),
        std::ops::Bound::Unbounded,
    ))
    .take_while(move |(k, _)| namespace.is_none_or(|ns| k.0 == ns))
    .map(|(_, v)| &**v)
}

mod slice;

#[cfg(test)]
use slice::SERVICE_NAME_LABEL;
pub use slice::{Slice, SliceEndpoint, SlicePort};

/// Objects are boxed: a B-tree node holds 11 values inline and is about half full after
/// in-order inserts (a list arrives sorted), so inline k8s-openapi objects (several hundred
/// bytes of mostly empty options each) would cost twice their size in nodes.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub services: BTreeMap<Key, Box<Service>>,
    /// EndpointSlices, in the slim form translation reads.
    pub endpoint_slices: BTreeMap<Key, Slice>,
    /// Slice names per owning Service key (a slice is in its Service's namespace), sorted,
    /// from the `kubernetes.io/service-name` label. A Vec: a set would allocate a whole
    /// B-tree node for the one or two slices most Services have.
    slices_by_service: BTreeMap<Key, Vec<Box<str>>>,
    pub ingresses: BTreeMap<Key, Box<Ingress>>,
    /// Cluster-scoped kinds are keyed with an empty namespace.
    pub ingress_classes: BTreeMap<Key, Box<IngressClass>>,
    pub ingress_class_parameters: BTreeMap<Key, Box<IngressClassParameters>>,
    pub namespaces: BTreeMap<Key, Box<Namespace>>,
    pub httproutes: BTreeMap<Key, Box<HttpRoute>>,
    pub grpcroutes: BTreeMap<Key, Box<GrpcRoute>>,
    pub tcproutes: BTreeMap<Key, Box<TcpRoute>>,
    pub udproutes: BTreeMap<Key, Box<UdpRoute>>,
    pub tlsroutes: BTreeMap<Key, Box<TlsRoute>>,
    pub tcp_ingresses: BTreeMap<Key, Box<TcpIngress>>,
    pub udp_ingresses: BTreeMap<Key, Box<UdpIngress>>,
    pub gateways: BTreeMap<Key, Box<Gateway>>,
    pub gateway_classes: BTreeMap<Key, Box<GatewayClass>>,
    pub reference_grants: BTreeMap<Key, Box<ReferenceGrant>>,
    pub backend_tls_policies: BTreeMap<Key, Box<BackendTlsPolicy>>,
    pub upstream_policies: BTreeMap<Key, Box<KongUpstreamPolicy>>,
    pub kong_ingresses: BTreeMap<Key, Box<KongIngress>>,
    pub kong_vaults: BTreeMap<Key, Box<KongVault>>,
    pub kong_service_facades: BTreeMap<Key, Box<KongServiceFacade>>,
    pub kong_custom_entities: BTreeMap<Key, Box<KongCustomEntity>>,
    pub kong_plugins: BTreeMap<Key, Box<KongPlugin>>,
    pub kong_cluster_plugins: BTreeMap<Key, Box<KongClusterPlugin>>,
    pub kong_consumers: BTreeMap<Key, Box<KongConsumer>>,
    pub kong_consumer_groups: BTreeMap<Key, Box<KongConsumerGroup>>,
    pub config_maps: BTreeMap<Key, Box<ConfigMap>>,
    pub secrets: BTreeMap<Key, Box<Secret>>,
    /// Objects the cluster holds but kingress cannot decode: left out of translation,
    /// reported with an Event, a log line and a metric until they decode (or go).
    pub undecodable: BTreeMap<ObjectKey, Undecodable>,
}

/// An object that did not fit kingress's types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecodable {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    /// The decoding error.
    pub error: String,
}

impl Undecodable {
    pub fn new(
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        error: String,
    ) -> Self {
        Undecodable {
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
            error,
        }
    }
}

pub use crate::kinds::{Kind, Object};
use crate::kinds::{KindSpec, ObjectKey, Stored, with_kind, with_object};
use crate::translate::gateway::route::GatewayRoute;

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes one object (a no-op if absent).
    pub fn remove(&mut self, kind: Kind, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        if !self.undecodable.is_empty() {
            self.undecodable
                .remove(&ObjectKey::new(kind, namespace, name));
        }
        with_kind!(kind, |K| K::unstore(self, &key))
    }

    /// An object of the cluster that does not decode: whatever was stored under its key
    /// (an earlier, decodable version) is removed, since it no longer is what the cluster
    /// holds.
    pub fn set_undecodable(&mut self, key: ObjectKey, why: Undecodable) {
        let (kind, ns, name) = (key.kind, key.namespace.clone(), key.name.clone());
        with_kind!(kind, |K| K::unstore(self, &(ns, name)));
        self.undecodable.insert(key, why);
    }

    /// The end of a relist of `kind` within `namespace` (every namespace if None): removes
    /// the objects the relist did not deliver (`seen` holds `(namespace, name)`; cluster-scoped
    /// kinds use an empty namespace). Returns the namespaces objects were removed from.
    pub fn remove_unseen(
        &mut self,
        kind: Kind,
        namespace: Option<&str>,
        seen: &BTreeSet<Key>,
    ) -> BTreeSet<String> {
        let in_scope = |ns: &str| namespace.is_none_or(|scope| ns == scope);
        let mut gone: Vec<Key> = with_kind!(kind, |K| {
            K::map(self)
                .keys()
                .filter(|(ns, _)| in_scope(ns))
                .filter(|k| !seen.contains(*k))
                .cloned()
                .collect()
        });
        gone.extend(
            self.undecodable
                .keys()
                .filter(|k| k.kind == kind && in_scope(&k.namespace))
                .map(|k| (k.namespace.clone(), k.name.clone()))
                .filter(|k| !seen.contains(k)),
        );
        let mut namespaces = BTreeSet::new();
        for (ns, name) in gone {
            self.remove(kind, &ns, &name);
            namespaces.insert(ns);
        }
        namespaces
    }

    /// Inserts or replaces an object.
    pub fn apply(&mut self, object: Object) {
        let key = object.key();
        if !self.undecodable.is_empty() {
            self.undecodable
                .remove(&ObjectKey::new(object.kind(), &key.0, &key.1));
        }
        with_object!(object, |o| store_as(self, key, o))
    }

    /// `other`'s version of one object in place of this one's (none, if `other` has none):
    /// the fallback's backfill from the last configuration Kong accepted.
    pub fn restore_from(&mut self, other: &Snapshot, key: &ObjectKey) {
        self.remove(key.kind, &key.namespace, &key.name);
        let k = (key.namespace.clone(), key.name.clone());
        if key.kind == Kind::EndpointSlice {
            if let Some(slice) = other.endpoint_slices.get(&k) {
                self.insert_slice(k, slice.clone());
            }
            return;
        }
        with_kind!(key.kind, |K| if let Some(stored) = K::map(other).get(&k) {
            K::map_mut(self).insert(k, stored.clone());
        })
    }

    /// The EndpointSlice under `key` in its slim form, indexed by its Service.
    pub(crate) fn store_slice(&mut self, key: Key, slice: EndpointSlice) {
        self.insert_slice(key, Slice::from_endpoint_slice(slice));
    }

    fn insert_slice(&mut self, key: Key, slice: Slice) {
        self.unindex_slice(&key);
        if let Some(svc) = &slice.service {
            let names = self
                .slices_by_service
                .entry((key.0.clone(), svc.clone()))
                .or_default();
            if let Err(at) = names.binary_search_by(|n| (**n).cmp(key.1.as_str())) {
                names.insert(at, key.1.as_str().into());
            }
        }
        self.endpoint_slices.insert(key, slice);
    }

    fn unindex_slice(&mut self, key: &Key) {
        let Some(old) = self.endpoint_slices.get(key) else {
            return;
        };
        if let Some(svc) = &old.service {
            let svc_key = (key.0.clone(), svc.clone());
            if let Some(names) = self.slices_by_service.get_mut(&svc_key) {
                names.retain(|n| **n != *key.1);
                if names.is_empty() {
                    self.slices_by_service.remove(&svc_key);
                }
            }
        }
    }

    /// Removes an EndpointSlice, keeping the per-Service index in step.
    pub(crate) fn unstore_slice(&mut self, key: &Key) {
        self.unindex_slice(key);
        self.endpoint_slices.remove(key);
    }

    /// The EndpointSlices of a Service, ordered by slice name.
    pub fn slices_for_service<'a, 'n>(
        &'a self,
        namespace: &'n str,
        service: &str,
    ) -> impl Iterator<Item = &'a Slice> + use<'a, 'n> {
        self.named_slices_for_service(namespace, service)
            .map(|(_, slice)| slice)
    }

    /// The EndpointSlices of a Service with their names, ordered by name.
    pub fn named_slices_for_service<'a, 'n>(
        &'a self,
        namespace: &'n str,
        service: &str,
    ) -> impl Iterator<Item = (&'a str, &'a Slice)> + use<'a, 'n> {
        self.slices_by_service
            .get(&(namespace, service) as &dyn KeyRef)
            .into_iter()
            .flatten()
            .filter_map(move |name| {
                let slice = self
                    .endpoint_slices
                    .get(&(namespace, &**name) as &dyn KeyRef)?;
                Some((&**name, slice))
            })
    }

    /// Services in `namespace` (all if None), ordered by namespace and name.
    pub fn services_in<'s, 'n>(
        &'s self,
        namespace: Option<&'n str>,
    ) -> impl Iterator<Item = &'s Service> + use<'s, 'n> {
        in_namespace(&self.services, namespace)
    }

    /// Ingresses in `namespace` (all if None), ordered by namespace and name.
    pub fn ingresses_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = &'s Ingress> + 's {
        in_namespace(&self.ingresses, namespace)
    }

    /// HTTPRoutes in `namespace` (all if None), ordered by namespace and name.
    pub fn httproutes_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = &'s HttpRoute> + 's {
        in_namespace(&self.httproutes, namespace)
    }

    /// GRPCRoutes in `namespace` (all if None), ordered by namespace and name.
    pub fn grpcroutes_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = &'s GrpcRoute> + 's {
        in_namespace(&self.grpcroutes, namespace)
    }

    /// Gateway API routes of every kind in `namespace` (all if None): HTTPRoutes, GRPCRoutes,
    /// TCPRoutes, UDPRoutes, then TLSRoutes, each ordered by namespace and name.
    pub fn gateway_routes_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = GatewayRoute<'s>> + 's {
        let http = self.httproutes_in(namespace).map(GatewayRoute::from);
        let grpc = self.grpcroutes_in(namespace).map(GatewayRoute::from);
        let tcp = in_namespace(&self.tcproutes, namespace).map(GatewayRoute::from);
        let udp = in_namespace(&self.udproutes, namespace).map(GatewayRoute::from);
        let tls = in_namespace(&self.tlsroutes, namespace).map(GatewayRoute::from);
        http.chain(grpc).chain(tcp).chain(udp).chain(tls)
    }

    /// TCPRoutes, UDPRoutes and TLSRoutes in `namespace` (all if None), each kind ordered by
    /// namespace and name.
    pub fn stream_routes_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> (
        impl Iterator<Item = &'s TcpRoute> + 's,
        impl Iterator<Item = &'s UdpRoute> + 's,
        impl Iterator<Item = &'s TlsRoute> + 's,
    ) {
        (
            in_namespace(&self.tcproutes, namespace),
            in_namespace(&self.udproutes, namespace),
            in_namespace(&self.tlsroutes, namespace),
        )
    }

    /// KongUpstreamPolicies in `namespace` (all if None), ordered by namespace and name.
    pub fn upstream_policies_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = &'s KongUpstreamPolicy> + 's {
        in_namespace(&self.upstream_policies, namespace)
    }

    /// KongPlugins in `namespace` (all if None), ordered by namespace and name.
    pub fn kong_plugins_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = &'s KongPlugin> + 's {
        in_namespace(&self.kong_plugins, namespace)
    }

    /// Gateways in `namespace` (all if None), ordered by namespace and name.
    pub fn gateways_in<'s>(
        &'s self,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = &'s Gateway> + 's {
        in_namespace(&self.gateways, namespace)
    }

    /// ReferenceGrants in `namespace`, ordered by name.
    pub fn reference_grants_in<'s>(
        &'s self,
        namespace: &'s str,
    ) -> impl Iterator<Item = &'s ReferenceGrant> + 's {
        in_namespace(&self.reference_grants, Some(namespace))
    }

    /// Namespaces holding objects whose status kingress writes (Ingresses, HTTPRoutes,
    /// KongUpstreamPolicies, KongPlugins, Gateways, BackendTLSPolicies, KongConsumers).
    pub fn status_namespaces(&self) -> Vec<String> {
        let mut out = self.route_namespaces();
        out.extend(namespaces(
            self.upstream_policies
                .keys()
                .chain(self.kong_plugins.keys())
                .chain(self.gateways.keys())
                .chain(self.backend_tls_policies.keys())
                .chain(self.kong_consumers.keys()),
        ));
        out.into_iter().map(str::to_string).collect()
    }

    /// Namespaces holding Ingresses or Gateway API routes: the ones translation produces
    /// entities for.
    pub fn route_namespaces(&self) -> BTreeSet<&str> {
        let routes = self.httproutes.keys().chain(self.grpcroutes.keys());
        let streams = self.tcproutes.keys().chain(self.udproutes.keys());
        let routes = routes.chain(streams).chain(self.tlsroutes.keys());
        let l4 = self.tcp_ingresses.keys().chain(self.udp_ingresses.keys());
        let routes = routes.chain(l4);
        namespaces(self.ingresses.keys().chain(routes))
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        get(&self.services, namespace, name)
    }

    pub fn kong_service_facade(&self, namespace: &str, name: &str) -> Option<&KongServiceFacade> {
        get(&self.kong_service_facades, namespace, name)
    }

    pub fn kong_ingress(&self, namespace: &str, name: &str) -> Option<&KongIngress> {
        get(&self.kong_ingresses, namespace, name)
    }

    pub fn upstream_policy(&self, namespace: &str, name: &str) -> Option<&KongUpstreamPolicy> {
        get(&self.upstream_policies, namespace, name)
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<&Secret> {
        get(&self.secrets, namespace, name)
    }

    pub fn config_map(&self, namespace: &str, name: &str) -> Option<&ConfigMap> {
        get(&self.config_maps, namespace, name)
    }

    /// BackendTLSPolicies in `namespace`, ordered by name.
    pub fn backend_tls_policies_in<'s>(
        &'s self,
        namespace: &'s str,
    ) -> impl Iterator<Item = &'s BackendTlsPolicy> + 's {
        in_namespace(&self.backend_tls_policies, Some(namespace))
    }

    pub fn kong_plugin(&self, namespace: &str, name: &str) -> Option<&KongPlugin> {
        get(&self.kong_plugins, namespace, name)
    }

    pub fn gateway(&self, namespace: &str, name: &str) -> Option<&Gateway> {
        get(&self.gateways, namespace, name)
    }

    pub fn ingress_class(&self, name: &str) -> Option<&IngressClass> {
        get(&self.ingress_classes, "", name)
    }

    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        get(&self.namespaces, "", name)
    }

    pub fn gateway_class(&self, name: &str) -> Option<&GatewayClass> {
        get(&self.gateway_classes, "", name)
    }

    pub fn kong_cluster_plugin(&self, name: &str) -> Option<&KongClusterPlugin> {
        get(&self.kong_cluster_plugins, "", name)
    }

    /// The resourceVersion of an object, when its stored form keeps one.
    pub fn resource_version(&self, key: &ObjectKey) -> Option<&str> {
        with_kind!(key.kind, |K| {
            let stored = self.stored::<K>(&key.namespace, &key.name)?;
            stored.metadata()?.resource_version.as_deref()
        })
    }

    /// The version an object was read at ([`crate::kinds::read_version`]); the preferred one
    /// when it is not held.
    pub fn read_version(&self, key: &ObjectKey) -> &'static str {
        let preferred = key.kind.info().versions[0];
        with_kind!(key.kind, |K| {
            self.stored::<K>(&key.namespace, &key.name)
                .and_then(|s| s.metadata())
                .map_or(preferred, |meta| crate::kinds::read_version(key.kind, meta))
        })
    }

    /// The stored form of an object, by kind and key.
    pub fn stored<K: KindSpec>(&self, namespace: &str, name: &str) -> Option<&K::Stored> {
        K::map(self).get(&(namespace, name) as &dyn KeyRef)
    }

    /// Whether the object under `key` is here (in a form translation reads).
    pub fn contains(&self, key: &ObjectKey) -> bool {
        with_kind!(key.kind, |K| self
            .stored::<K>(&key.namespace, &key.name)
            .is_some())
    }

    /// Objects of one kind.
    pub fn count(&self, kind: Kind) -> usize {
        with_kind!(kind, |K| K::map(self).len())
    }

    /// Total number of objects held, for summaries and metrics.
    pub fn len(&self) -> usize {
        Kind::ALL.iter().map(|k| self.count(*k)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Stores one object of a kind under `key`.
fn store_as<K: KindSpec>(snapshot: &mut Snapshot, key: Key, object: Box<K>) {
    K::store(snapshot, key, object);
}

#[cfg(test)]
mod tests;
