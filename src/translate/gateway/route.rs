//! What every Gateway API route kind shares for attachment and status: its kind, namespace,
//! name, parentRefs and hostnames. Each kind's generated types repeat the same parentRef
//! fields; [`GatewayRoute`] reads them once, so attachment, hostnames and status are written
//! once for all kinds.

use gateway_api::apis::standard::gateways::GatewayListeners;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{GrpcRoute, HttpRoute};
use crate::kinds::Kind;

/// The route kinds kingress attaches to Gateway listeners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    Http,
    Grpc,
}

impl RouteKind {
    pub fn kind(self) -> Kind {
        match self {
            RouteKind::Http => Kind::HttpRoute,
            RouteKind::Grpc => Kind::GrpcRoute,
        }
    }

    /// The Kubernetes kind, e.g. `GRPCRoute`.
    pub fn name(self) -> &'static str {
        self.kind().as_str()
    }

    /// Whether a listener's protocol (and TLS mode) can carry this kind, as KIC v3.5.13's
    /// `routeTypeMatchesListenerType` decides (internal/controllers/gateway/route_utils.go
    /// lines 379-427): HTTPRoute on HTTP or HTTPS terminating TLS; GRPCRoute on HTTP or HTTPS
    /// (KIC checks no TLS mode for it).
    pub fn carried_by(self, listener: &GatewayListeners) -> bool {
        let http = matches!(listener.protocol.as_str(), "HTTP" | "HTTPS");
        match self {
            RouteKind::Http => {
                let terminate = listener
                    .tls
                    .as_ref()
                    .and_then(|t| t.mode.as_ref())
                    .is_none_or(|m| format!("{m:?}") == "Terminate");
                http && terminate
            }
            RouteKind::Grpc => http,
        }
    }

    /// The kinds a listener of `protocol` takes without `allowedRoutes.kinds` (KIC v3.5.13
    /// internal/controllers/gateway/gateway_utils.go lines 609-624), in KIC's order.
    pub fn defaults_for(protocol: &str) -> &'static [RouteKind] {
        match protocol {
            "HTTP" | "HTTPS" => &[RouteKind::Http, RouteKind::Grpc],
            _ => &[],
        }
    }

    /// The kind called `name` in the Gateway API group, if kingress serves it.
    pub fn by_name(name: &str) -> Option<RouteKind> {
        [RouteKind::Http, RouteKind::Grpc]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// A route's parentRef, the fields every route kind's type has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<i32>,
}

/// One route of any kind, borrowed.
#[derive(Clone, Debug)]
pub struct GatewayRoute<'a> {
    pub kind: RouteKind,
    pub meta: &'a ObjectMeta,
    pub parents: Vec<ParentRef>,
    pub hostnames: &'a [String],
}

/// `From<&Route>` for each route kind: its generated types repeat the same fields.
macro_rules! gateway_route_from {
    ($($ty:ty => $kind:ident),+) => {$(
        impl<'a> From<&'a $ty> for GatewayRoute<'a> {
            fn from(route: &'a $ty) -> Self {
                let parents = route.spec.parent_refs.iter().flatten().map(|p| ParentRef {
                    group: p.group.clone(),
                    kind: p.kind.clone(),
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    section_name: p.section_name.clone(),
                    port: p.port,
                });
                GatewayRoute {
                    kind: RouteKind::$kind,
                    meta: &route.metadata,
                    parents: parents.collect(),
                    hostnames: route.spec.hostnames.as_deref().unwrap_or_default(),
                }
            }
        }
    )+};
}

gateway_route_from!(HttpRoute => Http, GrpcRoute => Grpc);

impl GatewayRoute<'_> {
    pub fn namespace(&self) -> &str {
        self.meta.namespace.as_deref().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.meta.name.as_deref().unwrap_or_default()
    }
}
