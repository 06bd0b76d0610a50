//! The kinds kingress reads, each declared once.
//!
//! One row of the [`kinds!`] table per kind says its API (group, the versions it is read at,
//! namespaced or not), the snapshot map that holds it, how it is watched (label and field
//! selectors), what a change to it makes the incremental translator redo, and whether
//! kingress writes its status. From that row come [`Kind`] and its metadata, the [`Object`]
//! variant, and the kind's [`KindSpec`] implementation, which watches, the manifest loader,
//! the snapshot, fingerprints, resourceVersions, Events and status writes are generic over
//! (through [`with_kind!`]). What the controller keeps of an object is the kind's
//! [`Trim`](trim::Trim), implemented in [`trim`]: a row without it does not compile.
//!
//! Adding a kind: a row here, its types in `crate::api`, its map in `Snapshot`, its `Trim`.
//! docs/ARCHITECTURE.md has the whole recipe.

#[macro_use]
mod macros;
mod object_key;
mod stored;
pub mod trim;

pub use object_key::ObjectKey;
pub use stored::Stored;

use std::collections::BTreeMap;
use std::fmt::Debug;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::Api;
use kube::core::DeserializeGuard;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::*;
use crate::snapshot::{Key, Snapshot};

/// Marks an object read at a version other than its kind's preferred one (manifests may use
/// any version the kind lists; tags name the version, as KIC's do). Set by the manifest
/// loader after trimming, which drops any value the input carried.
pub const READ_VERSION: &str = "kingress.io/internal-read-version";

/// The version an object of `kind` was read at: its [`READ_VERSION`] mark when it names one of
/// the kind's versions, else the preferred version.
pub fn read_version(kind: Kind, meta: &ObjectMeta) -> &'static str {
    let versions = kind.info().versions;
    let marked = meta.annotations.as_ref().and_then(|a| a.get(READ_VERSION));
    marked
        .and_then(|m| versions.iter().find(|v| **v == m.as_str()))
        .unwrap_or(&versions[0])
}

/// What a change to an object of a kind makes the incremental translator retranslate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Its own namespace.
    Namespace,
    /// Its own namespace, and whatever reads Secrets across namespaces (KongClusterPlugins).
    Secret,
    /// Everything: it is read across namespaces (classes, Gateways, cluster plugins).
    Everything,
}

/// The declaration of one kind (the row of the table, as data).
#[derive(Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// The Kubernetes `kind`.
    pub name: &'static str,
    /// API group; empty for the core group.
    pub group: &'static str,
    /// Versions kingress reads, preferred first.
    pub versions: &'static [&'static str],
    pub namespaced: bool,
    /// Label selector of the watch, if any.
    pub labels: Option<&'static str>,
    /// Field selector of the watch, if any.
    pub fields: Option<&'static str>,
    pub reach: Reach,
    /// kingress writes this kind's status subresource.
    pub status: bool,
}

impl KindInfo {
    /// `apiVersion` at `version`: `v1` for the core group, else `group/version`.
    pub fn api_version(&self, version: &str) -> String {
        match self.group {
            "" => version.to_string(),
            group => format!("{group}/{version}"),
        }
    }

    /// `apiVersion` at the preferred version.
    pub fn preferred_api_version(&self) -> String {
        self.api_version(self.versions[0])
    }
}

/// Everything generic code needs of a kind; implemented by the [`kinds!`] table only.
pub trait KindSpec:
    Resource<DynamicType = ()>
    + trim::Trim
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    const KIND: Kind;
    /// The snapshot's form of one object.
    type Stored: Stored;

    fn map(snapshot: &Snapshot) -> &BTreeMap<Key, Self::Stored>;
    fn map_mut(snapshot: &mut Snapshot) -> &mut BTreeMap<Key, Self::Stored>;
    fn wrap(object: Box<Self>) -> Object;
    /// Stores an object under `key`, keeping any index of the snapshot in step.
    fn store(snapshot: &mut Snapshot, key: Key, object: Box<Self>);
    /// Removes the object under `key` (a no-op if absent).
    fn unstore(snapshot: &mut Snapshot, key: &Key);
    /// The API of this kind in `namespace` (every namespace if None; cluster-scoped kinds
    /// ignore it).
    fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self>;
    /// The same API, decoding each object on its own: one that does not fit the type is
    /// an error for that object, not for the list.
    fn guarded_api(client: kube::Client, namespace: Option<&str>) -> Api<DeserializeGuard<Self>>;
}

kinds! { $
    Service: crate::api::Service {
        name: "Service",
        group: "",
        versions: ["v1"],
        namespaced: true,
        map: services as Box<crate::api::Service>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: false,
    },
    EndpointSlice: crate::api::EndpointSlice {
        name: "EndpointSlice",
        group: "discovery.k8s.io",
        versions: ["v1"],
        namespaced: true,
        map: endpoint_slices as crate::snapshot::Slice, via (store_slice, unstore_slice),
        // Only slices of a Service: others (e.g. hand-made, mirrored) have no backend.
        labels: Some("kubernetes.io/service-name"),
        fields: None,
        reach: Namespace,
        status: false,
    },
    Ingress: crate::api::Ingress {
        name: "Ingress",
        group: "networking.k8s.io",
        versions: ["v1"],
        namespaced: true,
        map: ingresses as Box<crate::api::Ingress>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    IngressClass: crate::api::IngressClass {
        name: "IngressClass",
        group: "networking.k8s.io",
        versions: ["v1"],
        namespaced: false,
        map: ingress_classes as Box<crate::api::IngressClass>, via map,
        labels: None,
        fields: None,
        reach: Everything,
        status: false,
    },
    // The parameters our IngressClass names: they change every upstream and Ingress path.
    IngressClassParameters: crate::api::IngressClassParameters {
        name: "IngressClassParameters",
        group: KONG_GROUP,
        versions: ["v1alpha1"],
        namespaced: true,
        map: ingress_class_parameters as Box<crate::api::IngressClassParameters>, via map,
        labels: None,
        fields: None,
        reach: Everything,
        status: false,
    },
    Namespace: crate::api::Namespace {
        name: "Namespace",
        group: "",
        versions: ["v1"],
        namespaced: false,
        map: namespaces as Box<crate::api::Namespace>, via map,
        labels: None,
        fields: None,
        // Its labels decide which Gateway listeners (allowedRoutes Selector) take its routes.
        reach: Everything,
        status: false,
    },
    HttpRoute: crate::api::HttpRoute {
        name: "HTTPRoute",
        group: GATEWAY_GROUP,
        // v1beta1 is still served (Gateway API v1.6.1) with the same schema; users' manifests
        // and KIC's examples use it. Watched at v1, read from manifests at either.
        versions: ["v1", "v1beta1"],
        namespaced: true,
        map: httproutes as Box<crate::api::HttpRoute>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    GrpcRoute: crate::api::GrpcRoute {
        name: "GRPCRoute",
        group: GATEWAY_GROUP,
        // Gateway API v1.6.1 serves GRPCRoute at v1 only.
        versions: ["v1"],
        namespaced: true,
        map: grpcroutes as Box<crate::api::GrpcRoute>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    TcpRoute: crate::api::TcpRoute {
        name: "TCPRoute",
        group: GATEWAY_GROUP,
        // Standard at v1 in Gateway API v1.6.1; the experimental channel also serves the older
        // versions (KIC v3.5.13 reads v1alpha2), with the same schema. Tags name the version
        // an object was read at.
        versions: ["v1", "v1alpha2"],
        namespaced: true,
        map: tcproutes as Box<crate::api::TcpRoute>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    UdpRoute: crate::api::UdpRoute {
        name: "UDPRoute",
        group: GATEWAY_GROUP,
        // Standard at v1 in Gateway API v1.6.1; the experimental channel also serves the older
        // versions (KIC v3.5.13 reads v1alpha2), with the same schema. Tags name the version
        // an object was read at.
        versions: ["v1", "v1alpha2"],
        namespaced: true,
        map: udproutes as Box<crate::api::UdpRoute>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    TlsRoute: crate::api::TlsRoute {
        name: "TLSRoute",
        group: GATEWAY_GROUP,
        // Standard at v1 in Gateway API v1.6.1; the experimental channel also serves the older
        // versions (KIC v3.5.13 reads v1alpha2), with the same schema. Tags name the version
        // an object was read at.
        versions: ["v1", "v1alpha2", "v1alpha3"],
        namespaced: true,
        map: tlsroutes as Box<crate::api::TlsRoute>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    Gateway: crate::api::Gateway {
        name: "Gateway",
        group: GATEWAY_GROUP,
        // v1beta1 is still served (Gateway API v1.6.1) with the same schema; users' manifests
        // and KIC's examples use it. Watched at v1, read from manifests at either.
        versions: ["v1", "v1beta1"],
        namespaced: true,
        map: gateways as Box<crate::api::Gateway>, via map,
        labels: None,
        fields: None,
        // HTTPRoutes in any namespace attach to it.
        reach: Everything,
        status: true,
    },
    GatewayClass: crate::api::GatewayClass {
        name: "GatewayClass",
        group: GATEWAY_GROUP,
        // v1beta1 is still served (Gateway API v1.6.1) with the same schema; users' manifests
        // and KIC's examples use it. Watched at v1, read from manifests at either.
        versions: ["v1", "v1beta1"],
        namespaced: false,
        map: gateway_classes as Box<crate::api::GatewayClass>, via map,
        labels: None,
        fields: None,
        reach: Everything,
        status: true,
    },
    ReferenceGrant: crate::api::ReferenceGrant {
        name: "ReferenceGrant",
        group: GATEWAY_GROUP,
        // Watched at v1beta1 (see the type); v1 manifests are read too.
        versions: ["v1beta1", "v1"],
        namespaced: true,
        map: reference_grants as Box<crate::api::ReferenceGrant>, via map,
        labels: None,
        fields: None,
        // A grant lets routes of other namespaces reach its own.
        reach: Everything,
        status: false,
    },
    BackendTlsPolicy: crate::api::BackendTlsPolicy {
        name: "BackendTLSPolicy",
        group: GATEWAY_GROUP,
        // Standard at v1 in Gateway API v1.6.1 (v1alpha3, which KIC v3.5.13 reads behind its
        // GatewayAlpha gate, is served by the experimental channel with the same schema).
        versions: ["v1", "v1alpha3"],
        namespaced: true,
        map: backend_tls_policies as Box<crate::api::BackendTlsPolicy>, via map,
        labels: None,
        fields: None,
        // It applies to Services of its namespace; routes elsewhere sending to them are
        // retranslated with it (the incremental translator's foreign namespaces).
        reach: Namespace,
        status: true,
    },
    KongUpstreamPolicy: crate::api::KongUpstreamPolicy {
        name: "KongUpstreamPolicy",
        group: KONG_GROUP,
        versions: ["v1beta1"],
        namespaced: true,
        map: upstream_policies as Box<crate::api::KongUpstreamPolicy>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    // Cluster-scoped; read by ingress class, as KongClusterPlugins are.
    KongVault: crate::api::KongVault {
        name: "KongVault",
        group: KONG_GROUP,
        versions: ["v1alpha1"],
        namespaced: false,
        map: kong_vaults as Box<crate::api::KongVault>, via map,
        labels: None,
        fields: None,
        reach: Everything,
        status: true,
    },
    // Deprecated by KIC; its `upstream` section still applies through `konghq.com/override`.
    KongIngress: crate::api::KongIngress {
        name: "KongIngress",
        group: KONG_GROUP,
        versions: ["v1"],
        namespaced: true,
        map: kong_ingresses as Box<crate::api::KongIngress>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: false,
    },
    // Read only to report that kingress does not configure it; reported by the global scope,
    // which any change retranslates.
    KongCustomEntity: crate::api::KongCustomEntity {
        name: "KongCustomEntity",
        group: KONG_GROUP,
        versions: ["v1alpha1"],
        namespaced: true,
        map: kong_custom_entities as Box<crate::api::KongCustomEntity>, via map,
        labels: None,
        fields: None,
        reach: Everything,
        status: false,
    },
    // Ingress backends (`backend.resource`), translated with KIC's KongServiceFacade gate on;
    // the facade, its Service and the Ingresses naming it share a namespace.
    KongServiceFacade: crate::api::KongServiceFacade {
        name: "KongServiceFacade",
        group: crate::crd::INCUBATOR_GROUP,
        versions: ["v1alpha1"],
        namespaced: true,
        map: kong_service_facades as Box<crate::api::KongServiceFacade>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    KongPlugin: crate::api::KongPlugin {
        name: "KongPlugin",
        group: KONG_GROUP,
        versions: ["v1"],
        namespaced: true,
        map: kong_plugins as Box<crate::api::KongPlugin>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    KongClusterPlugin: crate::api::KongClusterPlugin {
        name: "KongClusterPlugin",
        group: KONG_GROUP,
        versions: ["v1"],
        namespaced: false,
        map: kong_cluster_plugins as Box<crate::api::KongClusterPlugin>, via map,
        labels: None,
        fields: None,
        reach: Everything,
        status: true,
    },
    TcpIngress: crate::api::TcpIngress {
        name: "TCPIngress",
        group: KONG_GROUP,
        // Deprecated by KIC in favour of Gateway API routes, still read by KIC v3.5.13.
        versions: ["v1beta1"],
        namespaced: true,
        map: tcp_ingresses as Box<crate::api::TcpIngress>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    UdpIngress: crate::api::UdpIngress {
        name: "UDPIngress",
        group: KONG_GROUP,
        // Deprecated by KIC in favour of Gateway API routes, still read by KIC v3.5.13.
        versions: ["v1beta1"],
        namespaced: true,
        map: udp_ingresses as Box<crate::api::UdpIngress>, via map,
        labels: None,
        fields: None,
        reach: Namespace,
        status: true,
    },
    KongConsumer: crate::api::KongConsumer {
        name: "KongConsumer",
        group: KONG_GROUP,
        versions: ["v1"],
        namespaced: true,
        map: kong_consumers as Box<crate::api::KongConsumer>, via map,
        labels: None,
        fields: None,
        // Consumers are translated for the whole cluster at once (credential conflicts reach
        // across namespaces): the global scope follows any change.
        reach: Namespace,
        status: true,
    },
    KongConsumerGroup: crate::api::KongConsumerGroup {
        name: "KongConsumerGroup",
        group: KONG_GROUP,
        versions: ["v1beta1"],
        namespaced: true,
        map: kong_consumer_groups as Box<crate::api::KongConsumerGroup>, via map,
        labels: None,
        fields: None,
        // Read only to say it needs Kong Enterprise (the global scope reports it).
        reach: Namespace,
        status: false,
    },
    ConfigMap: crate::api::ConfigMap {
        name: "ConfigMap",
        group: "",
        versions: ["v1"],
        namespaced: true,
        map: config_maps as Box<crate::api::ConfigMap>, via map,
        // Only CA certificates (KIC's label); no other ConfigMap is read.
        labels: Some("konghq.com/ca-cert=true"),
        fields: None,
        reach: Namespace,
        status: false,
    },
    Secret: crate::api::Secret {
        name: "Secret",
        group: "",
        versions: ["v1"],
        namespaced: true,
        map: secrets as Box<crate::api::Secret>, via map,
        labels: None,
        // TLS certificates and plugin configFrom/configPatches (Opaque) both come from
        // Secrets; Helm's release records and service account tokens never do, and are
        // often most of a cluster's Secret bytes.
        fields: Some("type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token"),
        reach: Secret,
        status: false,
    },
}

pub(crate) use {with_kind, with_object};

impl Kind {
    /// The Kubernetes `kind`, e.g. `HTTPRoute`.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// The kind called `name` (as in a manifest's `kind` or a `k8s-kind` tag).
    pub fn by_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

impl PartialOrd for Kind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Object {
    /// Marks the object as read at `version` when that is not its kind's preferred version
    /// ([`READ_VERSION`]; after trimming, which drops the mark).
    pub fn mark_read_version(&mut self, version: &str) {
        if version != self.kind().info().versions[0] {
            let annotations = self.meta_mut().annotations.get_or_insert_default();
            annotations.insert(READ_VERSION.into(), version.to_string());
        }
    }

    /// The object's namespace; empty for cluster-scoped kinds.
    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or_default()
    }

    /// `(namespace, name)`.
    pub fn key(&self) -> Key {
        let meta = self.meta();
        (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests;
