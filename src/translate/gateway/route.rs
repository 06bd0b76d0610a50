//! What every Gateway API route kind shares for attachment and status: its kind, namespace,
//! name, parentRefs and hostnames. Each kind's generated types repeat the same parentRef
//! fields; [`GatewayRoute`] reads them once, so attachment, hostnames and status are written
//! once for all kinds.

use gateway_api::apis::standard::gateways::GatewayListeners;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{GrpcRoute, HttpRoute, TcpRoute, TlsRoute, UdpRoute};
use crate::kinds::Kind;

/// The route kinds kingress attaches to Gateway listeners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    Http,
    Grpc,
    Tcp,
    Udp,
    Tls,
}

impl RouteKind {
    pub const ALL: [RouteKind; 5] = [
        RouteKind::Http,
        RouteKind::Grpc,
        RouteKind::Tcp,
        RouteKind::Udp,
        RouteKind::Tls,
    ];

    pub fn kind(self) -> Kind {
        match self {
            RouteKind::Http => Kind::HttpRoute,
            RouteKind::Grpc => Kind::GrpcRoute,
            RouteKind::Tcp => Kind::TcpRoute,
            RouteKind::Udp => Kind::UdpRoute,
            RouteKind::Tls => Kind::TlsRoute,
        }
    }

    /// The Kubernetes kind, e.g. `GRPCRoute`.
    pub fn name(self) -> &'static str {
        self.kind().as_str()
    }

    /// Whether a listener's protocol (and TLS mode) can carry this kind, as KIC v3.5.13's
    /// `routeTypeMatchesListenerType` decides (internal/controllers/gateway/route_utils.go
    /// lines 379-427): HTTPRoute on HTTP or HTTPS terminating TLS; GRPCRoute on HTTP or HTTPS
    /// (KIC checks no TLS mode for it); TCPRoute on TCP (terminating TLS, if any); UDPRoute on
    /// UDP without TLS; TLSRoute on TLS in Passthrough mode (or without a mode).
    pub fn carried_by(self, listener: &GatewayListeners) -> bool {
        let protocol = listener.protocol.as_str();
        let tls = listener.tls.as_ref();
        let mode = tls.and_then(|t| t.mode.as_ref()).map(|m| format!("{m:?}"));
        let mode_is = |want: &str| mode.as_deref().is_none_or(|m| m == want);
        match self {
            RouteKind::Http => matches!(protocol, "HTTP" | "HTTPS") && mode_is("Terminate"),
            RouteKind::Grpc => matches!(protocol, "HTTP" | "HTTPS"),
            RouteKind::Tcp => protocol == "TCP" && mode_is("Terminate"),
            RouteKind::Udp => protocol == "UDP" && tls.is_none(),
            RouteKind::Tls => protocol == "TLS" && mode_is("Passthrough"),
        }
    }

    /// The listeners that carry this kind, in words.
    pub fn listeners_text(self) -> &'static str {
        match self {
            RouteKind::Http | RouteKind::Grpc => "an HTTP or HTTPS protocol",
            RouteKind::Tcp => "a TCP protocol",
            RouteKind::Udp => "a UDP protocol without TLS",
            RouteKind::Tls => "a TLS protocol in Passthrough mode",
        }
    }

    /// The kinds a listener of `protocol` takes without `allowedRoutes.kinds` (KIC v3.5.13
    /// internal/controllers/gateway/gateway_utils.go lines 609-624), in KIC's order.
    pub fn defaults_for(protocol: &str) -> &'static [RouteKind] {
        match protocol {
            "HTTP" | "HTTPS" => &[RouteKind::Http, RouteKind::Grpc],
            "TCP" => &[RouteKind::Tcp],
            "UDP" => &[RouteKind::Udp],
            "TLS" => &[RouteKind::Tls],
            _ => &[],
        }
    }

    /// The kind called `name` in the Gateway API group, if kingress serves it.
    pub fn by_name(name: &str) -> Option<RouteKind> {
        RouteKind::ALL.into_iter().find(|k| k.name() == name)
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
    ($($ty:ty => $kind:ident, $hostnames:expr);+) => {$(
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
                    hostnames: $hostnames(route),
                }
            }
        }
    )+};
}

gateway_route_from!(
    HttpRoute => Http, |r: &'a HttpRoute| r.spec.hostnames.as_deref().unwrap_or_default();
    GrpcRoute => Grpc, |r: &'a GrpcRoute| r.spec.hostnames.as_deref().unwrap_or_default();
    TcpRoute => Tcp, |_: &'a TcpRoute| &[][..];
    UdpRoute => Udp, |_: &'a UdpRoute| &[][..];
    TlsRoute => Tls, |r: &'a TlsRoute| r.spec.hostnames.as_slice()
);

impl GatewayRoute<'_> {
    pub fn namespace(&self) -> &str {
        self.meta.namespace.as_deref().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.meta.name.as_deref().unwrap_or_default()
    }
}
