//! What a translation leaves out after Kong rejected a configuration: the objects behind the
//! rejected entities, and every object that depends on one of them, as KIC's fallback
//! configuration does (KIC v3.5.13 `internal/dataplane/fallback/fallback.go` lines 31-61:
//! each broken object's subgraph, found by a depth-first walk of "depends on" edges in
//! `graph.go` lines 102-124, is deleted from the cache before translating).
//!
//! The edges are KIC's (`graph_dependencies*.go` at v3.5.13), for the kinds kingress reads;
//! an edge exists only when the object depended on is present:
//! - Service and KongServiceFacade: the KongPlugins (else KongClusterPlugins) its
//!   `konghq.com/plugins` names and the KongUpstreamPolicy its `konghq.com/upstream-policy`
//!   names (`_common.go` 17-51, `_kong.go` 138-144; a facade does not depend on its Service);
//! - Ingress: its IngressClass (`spec.ingressClassName`, else the `kubernetes.io/ingress.class`
//!   annotation), the Services and KongServiceFacades of its rules' paths (not its default
//!   backend), its upstream-policy annotation and its plugins (`_ingress.go` 22-92);
//! - KongConsumer: its plugins and its credential Secrets (`_kong.go` 76-97);
//! - HTTPRoute: the Services its rules' backendRefs name (kind Service, core group; the
//!   namespace of the ref, else the route's) and its plugins (`_gatewayapi.go` 19-24, 77-103);
//! - KongPlugin: the Secrets of its `configFrom` and `configPatches`, in its namespace;
//!   KongClusterPlugin: the same, in the namespaces they name (`_kong.go` 20-74);
//! - nothing depends on anything else (Secrets, classes, Gateways, policies, EndpointSlices).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kube::ResourceExt;

use crate::kinds::{Kind, ObjectKey};
use crate::snapshot::Snapshot;
use crate::translate::backends::upstream_policy;
use crate::translate::plugins;
use crate::translate::routes::gateway_api::backend_refs::{BackendRef, backend_ref};

const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// The objects a translation leaves out, each with the rejected object it is left out for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Excluded(BTreeMap<ObjectKey, ObjectKey>);

impl Excluded {
    /// `rejected` and, transitively, every object of `snapshot` that depends on one of them.
    pub fn new(snapshot: &Snapshot, rejected: &BTreeSet<ObjectKey>) -> Self {
        if rejected.is_empty() {
            return Self::default();
        }
        let dependents = dependents(snapshot);
        let mut out: BTreeMap<ObjectKey, ObjectKey> =
            rejected.iter().map(|k| (k.clone(), k.clone())).collect();
        for root in rejected {
            let mut stack = vec![root];
            while let Some(key) = stack.pop() {
                for dependent in dependents.get(key).into_iter().flatten() {
                    if !out.contains_key(dependent) {
                        out.insert(dependent.clone(), root.clone());
                        stack.push(dependent);
                    }
                }
            }
        }
        Excluded(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, kind: Kind, namespace: &str, name: &str) -> bool {
        self.cause(kind, namespace, name).is_some()
    }

    /// The rejected object this one is left out for (itself, when Kong rejected it).
    pub fn cause(&self, kind: Kind, namespace: &str, name: &str) -> Option<&ObjectKey> {
        if self.0.is_empty() {
            return None;
        }
        self.0.get(&ObjectKey::new(kind, namespace, name))
    }

    /// Why `kind namespace/name` is left out ("left out: ..."), for a problem on it, or on
    /// what refers to it after its name.
    pub fn reason(&self, kind: Kind, namespace: &str, name: &str) -> Option<String> {
        let cause = self.cause(kind, namespace, name)?;
        Some(if *cause == ObjectKey::new(kind, namespace, name) {
            "left out: Kong rejected the configuration built from it".to_string()
        } else {
            format!(
                "left out: it depends on {}, whose configuration Kong rejected",
                describe(cause)
            )
        })
    }

    pub fn keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.0.keys()
    }
}

/// A snapshot to translate instead of the cluster's after Kong rejected a configuration, with
/// `--use-last-valid-config-for-fallback`: the rejected objects and their dependents are taken
/// out and each one's subgraph in the last snapshot Kong accepted (the object and what
/// depended on it there) is put back in that version (KIC v3.5.13
/// `internal/dataplane/fallback/fallback.go` lines 64-127, `GenerateBackfillingBrokenObjects`;
/// an object absent from the last valid snapshot has no subgraph, `graph.go` lines 99-110).
pub struct Backfill {
    pub snapshot: Snapshot,
    /// Objects put back from the last valid snapshot.
    pub restored: BTreeSet<ObjectKey>,
    /// Rejected objects and dependents with no version to put back: left out.
    pub left_out: BTreeSet<ObjectKey>,
}

impl Backfill {
    pub fn new(current: &Snapshot, rejected: &BTreeSet<ObjectKey>, last_valid: &Snapshot) -> Self {
        let affected = Excluded::new(current, rejected);
        let mut snapshot = current.clone();
        for key in affected.keys() {
            snapshot.remove(key.kind, &key.namespace, &key.name);
        }
        let dependents = dependents(last_valid);
        let mut restored = BTreeSet::new();
        for root in affected.keys() {
            if !last_valid.contains(root) {
                continue;
            }
            let mut stack = vec![root.clone()];
            while let Some(key) = stack.pop() {
                if restored.insert(key.clone()) {
                    snapshot.restore_from(last_valid, &key);
                    stack.extend(dependents.get(&key).into_iter().flatten().cloned());
                }
            }
        }
        let left_out = affected
            .keys()
            .filter(|k| !restored.contains(*k))
            .cloned()
            .collect();
        Backfill {
            snapshot,
            restored,
            left_out,
        }
    }
}

/// Per object, the objects of `snapshot` that depend on it directly.
fn dependents(snapshot: &Snapshot) -> HashMap<ObjectKey, Vec<ObjectKey>> {
    let mut dependents: HashMap<ObjectKey, Vec<ObjectKey>> = HashMap::new();
    edges(snapshot, &mut |on, dependent| {
        dependents.entry(on).or_default().push(dependent);
    });
    dependents
}

fn describe(key: &ObjectKey) -> String {
    match key.namespace.as_str() {
        "" => format!("{} {}", key.kind, key.name),
        ns => format!("{} {ns}/{}", key.kind, key.name),
    }
}

/// Calls `edge(on, dependent)` for every "depends on" edge between objects of `snapshot`.
fn edges(snapshot: &Snapshot, edge: &mut dyn FnMut(ObjectKey, ObjectKey)) {
    for service in snapshot.services.values() {
        let this = key(Kind::Service, &**service);
        plugin_edges(snapshot, &this, service.annotations(), edge);
        policy_edge(snapshot, &this, service.annotations(), edge);
    }
    for facade in snapshot.kong_service_facades.values() {
        let this = key(Kind::KongServiceFacade, &**facade);
        plugin_edges(snapshot, &this, facade.annotations(), edge);
        policy_edge(snapshot, &this, facade.annotations(), edge);
    }
    for ingress in snapshot.ingresses.values() {
        let this = key(Kind::Ingress, &**ingress);
        let spec = ingress.spec.as_ref();
        let class = spec
            .and_then(|s| s.ingress_class_name.as_deref())
            .filter(|c| !c.is_empty())
            .or_else(|| {
                ingress
                    .annotations()
                    .get(CLASS_ANNOTATION)
                    .map(String::as_str)
                    .filter(|c| !c.is_empty())
            });
        if let Some(class) = class
            && snapshot.ingress_class(class).is_some()
        {
            edge(ObjectKey::new(Kind::IngressClass, "", class), this.clone());
        }
        let paths = spec
            .and_then(|s| s.rules.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|r| r.http.as_ref())
            .flat_map(|h| &h.paths);
        for path in paths {
            if let Some(service) = &path.backend.service {
                service_edge(snapshot, &this.namespace, &service.name, &this, edge);
            }
            if let Some(resource) = &path.backend.resource
                && resource.kind == "KongServiceFacade"
                && resource.api_group.as_deref() == Some(crate::crd::INCUBATOR_GROUP)
                && snapshot
                    .kong_service_facade(&this.namespace, &resource.name)
                    .is_some()
            {
                edge(
                    ObjectKey::new(Kind::KongServiceFacade, &this.namespace, &resource.name),
                    this.clone(),
                );
            }
        }
        policy_edge(snapshot, &this, ingress.annotations(), edge);
        plugin_edges(snapshot, &this, ingress.annotations(), edge);
    }
    // Gateway API routes: their backend Services and plugins (KIC's
    // graph_dependencies_gatewayapi.go lines 19-68).
    for route in snapshot.httproutes.values() {
        let this = key(Kind::HttpRoute, &**route);
        let rules = route.spec.rules.iter().flatten();
        let refs = rules.flat_map(|r| r.backend_refs.iter().flatten().map(|r| backend_ref!(r)));
        route_edges(snapshot, &this, refs, route.annotations(), edge);
    }
    for route in snapshot.grpcroutes.values() {
        let this = key(Kind::GrpcRoute, &**route);
        let rules = route.spec.rules.iter().flatten();
        let refs = rules.flat_map(|r| r.backend_refs.iter().flatten().map(|r| backend_ref!(r)));
        route_edges(snapshot, &this, refs, route.annotations(), edge);
    }
    // TCPRoutes, UDPRoutes and TLSRoutes share their rule type.
    let (tcp, udp, tls) = snapshot.stream_routes_in(None);
    let tcp = tcp.map(|r| (key(Kind::TcpRoute, r), &r.spec.rules, r.annotations()));
    let udp = udp.map(|r| (key(Kind::UdpRoute, r), &r.spec.rules, r.annotations()));
    let tls = tls.map(|r| (key(Kind::TlsRoute, r), &r.spec.rules, r.annotations()));
    for (this, rules, annotations) in tcp.chain(udp).chain(tls) {
        let refs = rules
            .iter()
            .flat_map(|r| r.backend_refs.iter().map(|r| backend_ref!(r)));
        route_edges(snapshot, &this, refs, annotations, edge);
    }
    // TCPIngresses and UDPIngresses: their plugins and rules' Services
    // (graph_dependencies_kong.go lines 110-136).
    let tcp = snapshot.tcp_ingresses.values().map(|i| {
        let backends: Vec<_> = i.backends().collect();
        (key(Kind::TcpIngress, &**i), backends, i.annotations())
    });
    let udp = snapshot.udp_ingresses.values().map(|i| {
        let backends: Vec<_> = i.backends().collect();
        (key(Kind::UdpIngress, &**i), backends, i.annotations())
    });
    for (this, backends, annotations) in tcp.chain(udp) {
        for backend in backends {
            service_edge(
                snapshot,
                &this.namespace,
                &backend.service_name,
                &this,
                edge,
            );
        }
        plugin_edges(snapshot, &this, annotations, edge);
    }
    for consumer in snapshot.kong_consumers.values() {
        let this = key(Kind::KongConsumer, &**consumer);
        plugin_edges(snapshot, &this, consumer.annotations(), edge);
        for name in consumer.credentials.iter().flatten() {
            secret_edge(snapshot, &this.namespace, name, &this, edge);
        }
    }
    for plugin in snapshot.kong_plugins.values() {
        let this = key(Kind::KongPlugin, &**plugin);
        let names = plugin
            .config_from
            .iter()
            .map(|c| &c.secret_key_ref.name)
            .chain(
                plugin
                    .config_patches
                    .iter()
                    .flatten()
                    .map(|p| &p.value_from.secret_key_ref.name),
            );
        for name in names {
            secret_edge(snapshot, &this.namespace, name, &this, edge);
        }
    }
    for plugin in snapshot.kong_cluster_plugins.values() {
        let this = key(Kind::KongClusterPlugin, &**plugin);
        let refs = plugin.config_from.iter().map(|c| &c.secret_key_ref).chain(
            plugin
                .config_patches
                .iter()
                .flatten()
                .map(|p| &p.value_from.secret_key_ref),
        );
        for r in refs {
            secret_edge(snapshot, &r.namespace, &r.name, &this, edge);
        }
    }
}

fn key<K: kube::Resource>(kind: Kind, object: &K) -> ObjectKey {
    let meta = object.meta();
    ObjectKey::new(
        kind,
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default(),
    )
}

fn service_edge(
    snapshot: &Snapshot,
    namespace: &str,
    name: &str,
    this: &ObjectKey,
    edge: &mut dyn FnMut(ObjectKey, ObjectKey),
) {
    if snapshot.service(namespace, name).is_some() {
        edge(ObjectKey::new(Kind::Service, namespace, name), this.clone());
    }
}

fn secret_edge(
    snapshot: &Snapshot,
    namespace: &str,
    name: &str,
    this: &ObjectKey,
    edge: &mut dyn FnMut(ObjectKey, ObjectKey),
) {
    if snapshot.secret(namespace, name).is_some() {
        edge(ObjectKey::new(Kind::Secret, namespace, name), this.clone());
    }
}

/// A Gateway API route's edges: each backendRef to a core Service, and its plugins.
fn route_edges<'r>(
    snapshot: &Snapshot,
    this: &ObjectKey,
    refs: impl Iterator<Item = BackendRef<'r>>,
    annotations: &BTreeMap<String, String>,
    edge: &mut dyn FnMut(ObjectKey, ObjectKey),
) {
    for r in refs {
        // The apiserver defaults kind to Service and group to "" (the core group).
        let service =
            r.kind.unwrap_or("Service") == "Service" && r.group.unwrap_or_default().is_empty();
        if service {
            let ns = r.namespace.unwrap_or(&this.namespace);
            service_edge(snapshot, ns, r.name, this, edge);
        }
    }
    plugin_edges(snapshot, this, annotations, edge);
}

/// The KongPlugin of the object's namespace, else the KongClusterPlugin, per name in its
/// `konghq.com/plugins` (names trimmed, empty ones skipped: kubernetes-configuration v1.5.2
/// `pkg/metadata/plugins.go` lines 80-105).
fn plugin_edges(
    snapshot: &Snapshot,
    this: &ObjectKey,
    annotations: &BTreeMap<String, String>,
    edge: &mut dyn FnMut(ObjectKey, ObjectKey),
) {
    let Some(list) = annotations.get(plugins::ANNOTATION) else {
        return;
    };
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if snapshot.kong_plugin(&this.namespace, name).is_some() {
            edge(
                ObjectKey::new(Kind::KongPlugin, &this.namespace, name),
                this.clone(),
            );
        } else if snapshot.kong_cluster_plugin(name).is_some() {
            edge(
                ObjectKey::new(Kind::KongClusterPlugin, "", name),
                this.clone(),
            );
        }
    }
}

fn policy_edge(
    snapshot: &Snapshot,
    this: &ObjectKey,
    annotations: &BTreeMap<String, String>,
    edge: &mut dyn FnMut(ObjectKey, ObjectKey),
) {
    if let Some(name) = annotations.get(upstream_policy::ANNOTATION)
        && snapshot.upstream_policy(&this.namespace, name).is_some()
    {
        edge(
            ObjectKey::new(Kind::KongUpstreamPolicy, &this.namespace, name),
            this.clone(),
        );
    }
}

#[cfg(test)]
#[path = "fallback_tests.rs"]
mod tests;
