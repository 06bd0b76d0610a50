//! The objects translation reads, indexed for the joins it makes.
//!
//! Maps are ordered by (namespace, name), so iteration, and therefore the translated
//! configuration, does not depend on the order objects arrived in.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use kube::ResourceExt;

use crate::api::*;

/// `(namespace, name)`; cluster-scoped objects use an empty namespace.
pub type Key = (String, String);

fn key_of<K: ResourceExt>(obj: &K) -> Key {
    (obj.namespace().unwrap_or_default(), obj.name_any())
}

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
fn in_namespace<'m, 'n, T>(
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
    pub ingress_classes: BTreeMap<String, Box<IngressClass>>,
    pub httproutes: BTreeMap<Key, Box<HttpRoute>>,
    pub gateways: BTreeMap<Key, Box<Gateway>>,
    pub gateway_classes: BTreeMap<String, Box<GatewayClass>>,
    pub upstream_policies: BTreeMap<Key, Box<KongUpstreamPolicy>>,
    pub kong_plugins: BTreeMap<Key, Box<KongPlugin>>,
    pub kong_cluster_plugins: BTreeMap<String, Box<KongClusterPlugin>>,
    pub secrets: BTreeMap<Key, Box<Secret>>,
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

/// The kinds a snapshot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Service,
    EndpointSlice,
    Ingress,
    IngressClass,
    HttpRoute,
    Gateway,
    GatewayClass,
    KongUpstreamPolicy,
    KongPlugin,
    KongClusterPlugin,
    Secret,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Service,
        Kind::EndpointSlice,
        Kind::Ingress,
        Kind::IngressClass,
        Kind::HttpRoute,
        Kind::Gateway,
        Kind::GatewayClass,
        Kind::KongUpstreamPolicy,
        Kind::KongPlugin,
        Kind::KongClusterPlugin,
        Kind::Secret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Service => "Service",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::Ingress => "Ingress",
            Kind::IngressClass => "IngressClass",
            Kind::HttpRoute => "HTTPRoute",
            Kind::Gateway => "Gateway",
            Kind::GatewayClass => "GatewayClass",
            Kind::KongUpstreamPolicy => "KongUpstreamPolicy",
            Kind::KongPlugin => "KongPlugin",
            Kind::KongClusterPlugin => "KongClusterPlugin",
            Kind::Secret => "Secret",
        }
    }
}

impl Object {
    /// The object's namespace; empty for cluster-scoped kinds.
    pub fn namespace(&self) -> &str {
        let meta = match self {
            Object::Service(o) => &o.metadata,
            Object::EndpointSlice(o) => &o.metadata,
            Object::Ingress(o) => &o.metadata,
            Object::IngressClass(o) => &o.metadata,
            Object::HttpRoute(o) => &o.metadata,
            Object::Gateway(o) => &o.metadata,
            Object::GatewayClass(o) => &o.metadata,
            Object::KongUpstreamPolicy(o) => &o.metadata,
            Object::KongPlugin(o) => &o.metadata,
            Object::KongClusterPlugin(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
        };
        meta.namespace.as_deref().unwrap_or_default()
    }

    pub fn kind(&self) -> Kind {
        match self {
            Object::Service(_) => Kind::Service,
            Object::EndpointSlice(_) => Kind::EndpointSlice,
            Object::Ingress(_) => Kind::Ingress,
            Object::IngressClass(_) => Kind::IngressClass,
            Object::HttpRoute(_) => Kind::HttpRoute,
            Object::Gateway(_) => Kind::Gateway,
            Object::GatewayClass(_) => Kind::GatewayClass,
            Object::KongUpstreamPolicy(_) => Kind::KongUpstreamPolicy,
            Object::KongPlugin(_) => Kind::KongPlugin,
            Object::KongClusterPlugin(_) => Kind::KongClusterPlugin,
            Object::Secret(_) => Kind::Secret,
        }
    }
}

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes one object (a no-op if absent).
    pub fn remove(&mut self, kind: Kind, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        match kind {
            Kind::Service => drop(self.services.remove(&key)),
            Kind::EndpointSlice => self.remove_endpoint_slice(namespace, name),
            Kind::Ingress => drop(self.ingresses.remove(&key)),
            Kind::IngressClass => drop(self.ingress_classes.remove(name)),
            Kind::HttpRoute => drop(self.httproutes.remove(&key)),
            Kind::Gateway => drop(self.gateways.remove(&key)),
            Kind::GatewayClass => drop(self.gateway_classes.remove(name)),
            Kind::KongUpstreamPolicy => drop(self.upstream_policies.remove(&key)),
            Kind::KongPlugin => drop(self.kong_plugins.remove(&key)),
            Kind::KongClusterPlugin => drop(self.kong_cluster_plugins.remove(name)),
            Kind::Secret => drop(self.secrets.remove(&key)),
        }
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
        let gone: Vec<Key> = self
            .keys(kind)
            .filter(|(ns, _)| namespace.is_none_or(|scope| *ns == scope))
            .filter(|(ns, name)| !seen.contains(&(ns as &str, name as &str) as &dyn KeyRef))
            .map(|(ns, name)| (ns.to_string(), name.to_string()))
            .collect();
        let mut namespaces = BTreeSet::new();
        for (ns, name) in gone {
            self.remove(kind, &ns, &name);
            namespaces.insert(ns);
        }
        namespaces
    }

    /// The `(namespace, name)` of every object of `kind`, in order.
    fn keys(&self, kind: Kind) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
        fn namespaced<T>(map: &BTreeMap<Key, T>) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
            Box::new(map.keys().map(|(ns, name)| (ns.as_str(), name.as_str())))
        }
        fn cluster<T>(map: &BTreeMap<String, T>) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
            Box::new(map.keys().map(|name| ("", name.as_str())))
        }
        match kind {
            Kind::Service => namespaced(&self.services),
            Kind::EndpointSlice => namespaced(&self.endpoint_slices),
            Kind::Ingress => namespaced(&self.ingresses),
            Kind::IngressClass => cluster(&self.ingress_classes),
            Kind::HttpRoute => namespaced(&self.httproutes),
            Kind::Gateway => namespaced(&self.gateways),
            Kind::GatewayClass => cluster(&self.gateway_classes),
            Kind::KongUpstreamPolicy => namespaced(&self.upstream_policies),
            Kind::KongPlugin => namespaced(&self.kong_plugins),
            Kind::KongClusterPlugin => cluster(&self.kong_cluster_plugins),
            Kind::Secret => namespaced(&self.secrets),
        }
    }

    /// Inserts or replaces an object.
    pub fn apply(&mut self, object: Object) {
        match object {
            Object::Service(o) => {
                self.services.insert(key_of(o.as_ref()), o);
            }
            Object::EndpointSlice(o) => self.apply_slice(*o),
            Object::Ingress(o) => {
                self.ingresses.insert(key_of(o.as_ref()), o);
            }
            Object::IngressClass(o) => {
                self.ingress_classes.insert(o.name_any(), o);
            }
            Object::HttpRoute(o) => {
                self.httproutes.insert(key_of(o.as_ref()), o);
            }
            Object::Gateway(o) => {
                self.gateways.insert(key_of(o.as_ref()), o);
            }
            Object::GatewayClass(o) => {
                self.gateway_classes.insert(o.name_any(), o);
            }
            Object::KongUpstreamPolicy(o) => {
                self.upstream_policies.insert(key_of(o.as_ref()), o);
            }
            Object::KongPlugin(o) => {
                self.kong_plugins.insert(key_of(o.as_ref()), o);
            }
            Object::KongClusterPlugin(o) => {
                self.kong_cluster_plugins.insert(o.name_any(), o);
            }
            Object::Secret(o) => {
                self.secrets.insert(key_of(o.as_ref()), o);
            }
        }
    }

    fn apply_slice(&mut self, slice: EndpointSlice) {
        let key = key_of(&slice);
        self.unindex_slice(&key);
        let slice = Slice::from_endpoint_slice(slice);
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
    pub fn remove_endpoint_slice(&mut self, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        self.unindex_slice(&key);
        self.endpoint_slices.remove(&key);
    }

    /// The EndpointSlices of a Service, ordered by slice name.
    pub fn slices_for_service<'a, 'n>(
        &'a self,
        namespace: &'n str,
        service: &str,
    ) -> impl Iterator<Item = &'a Slice> + use<'a, 'n> {
        self.slices_by_service
            .get(&(namespace, service) as &dyn KeyRef)
            .into_iter()
            .flatten()
            .filter_map(move |name| {
                self.endpoint_slices
                    .get(&(namespace, &**name) as &dyn KeyRef)
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

    /// Namespaces holding objects whose status kingress writes (Ingresses, HTTPRoutes,
    /// KongUpstreamPolicies, KongPlugins).
    pub fn status_namespaces(&self) -> Vec<String> {
        let mut out = self.route_namespaces();
        out.extend(namespaces(
            self.upstream_policies
                .keys()
                .chain(self.kong_plugins.keys()),
        ));
        out.into_iter().map(str::to_string).collect()
    }

    /// Namespaces holding Ingresses or HTTPRoutes: the ones translation produces entities for.
    pub fn route_namespaces(&self) -> BTreeSet<&str> {
        namespaces(self.ingresses.keys().chain(self.httproutes.keys()))
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        get(&self.services, namespace, name)
    }

    pub fn upstream_policy(&self, namespace: &str, name: &str) -> Option<&KongUpstreamPolicy> {
        get(&self.upstream_policies, namespace, name)
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<&Secret> {
        get(&self.secrets, namespace, name)
    }

    pub fn kong_plugin(&self, namespace: &str, name: &str) -> Option<&KongPlugin> {
        get(&self.kong_plugins, namespace, name)
    }

    pub fn gateway(&self, namespace: &str, name: &str) -> Option<&Gateway> {
        get(&self.gateways, namespace, name)
    }

    /// Objects of one kind.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Service => self.services.len(),
            Kind::EndpointSlice => self.endpoint_slices.len(),
            Kind::Ingress => self.ingresses.len(),
            Kind::IngressClass => self.ingress_classes.len(),
            Kind::HttpRoute => self.httproutes.len(),
            Kind::Gateway => self.gateways.len(),
            Kind::GatewayClass => self.gateway_classes.len(),
            Kind::KongUpstreamPolicy => self.upstream_policies.len(),
            Kind::KongPlugin => self.kong_plugins.len(),
            Kind::KongClusterPlugin => self.kong_cluster_plugins.len(),
            Kind::Secret => self.secrets.len(),
        }
    }

    /// Total number of objects held, for summaries and metrics.
    pub fn len(&self) -> usize {
        Kind::ALL.iter().map(|k| self.count(*k)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn slice(name: &str, service: &str) -> Object {
        let mut labels = BTreeMap::new();
        labels.insert(SERVICE_NAME_LABEL.to_string(), service.to_string());
        Object::EndpointSlice(Box::new(EndpointSlice {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                labels: Some(labels),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            endpoints: vec![],
            ports: None,
        }))
    }

    #[test]
    fn slice_index_follows_label_changes_and_removal() {
        let mut s = Snapshot::new();
        s.apply(slice("a", "svc1"));
        s.apply(slice("b", "svc1"));
        assert_eq!(s.slices_for_service("ns", "svc1").count(), 2);
        s.apply(slice("a", "svc2"));
        assert_eq!(s.slices_for_service("ns", "svc1").count(), 1);
        assert_eq!(s.slices_for_service("ns", "svc2").count(), 1);
        s.remove(Kind::EndpointSlice, "ns", "b");
        assert_eq!(s.slices_for_service("ns", "svc1").count(), 0);
        // A relist that delivers only `c`.
        s.apply(slice("c", "svc3"));
        let seen = BTreeSet::from([("ns".to_string(), "c".to_string())]);
        let gone = s.remove_unseen(Kind::EndpointSlice, None, &seen);
        assert_eq!(gone, BTreeSet::from(["ns".to_string()]));
        assert_eq!(s.slices_for_service("ns", "svc2").count(), 0);
        assert_eq!(s.slices_for_service("ns", "svc3").count(), 1);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_namespace_relist_removes_only_that_namespaces_unseen_objects() {
        let service = |ns: &str, name: &str| {
            Object::Service(Box::new(Service {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    namespace: Some(ns.into()),
                    ..Default::default()
                },
                ..Default::default()
            }))
        };
        let mut s = Snapshot::new();
        for (ns, name) in [("a", "kept"), ("a", "gone"), ("b", "other")] {
            s.apply(service(ns, name));
        }
        let seen = BTreeSet::from([("a".to_string(), "kept".to_string())]);
        let gone = s.remove_unseen(Kind::Service, Some("a"), &seen);
        assert_eq!(gone, BTreeSet::from(["a".to_string()]));
        let left: Vec<&Key> = s.services.keys().collect();
        assert_eq!(
            left,
            [
                &("a".to_string(), "kept".to_string()),
                &("b".to_string(), "other".to_string())
            ]
        );
        // Nothing unseen: nothing removed, no namespace reported.
        let seen = BTreeSet::from([("b".to_string(), "other".to_string())]);
        assert!(s.remove_unseen(Kind::Service, Some("b"), &seen).is_empty());
    }
}
