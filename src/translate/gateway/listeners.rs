//! Whether each listener of a Gateway is valid, as KIC v3.5.13 decides it for listener status
//! (`internal/controllers/gateway/gateway_utils.go`, `getListenerStatus`, lines 231-525): its
//! route kinds and certificate references resolve, it conflicts with no other listener, and its
//! protocol is served. Status reports each part; translation takes a listener's certificate
//! only from a valid listener, as KIC takes it only from a listener whose status says
//! `Programmed=True` (`translate_certs.go` lines 85-99).

use gateway_api::apis::standard::gateways::{
    GatewayListeners, GatewayStatusListenersSupportedKinds,
};
use kube::ResourceExt;

use crate::api::{GATEWAY_GROUP, Gateway, Secret};
use crate::snapshot::Snapshot;
use crate::translate::certificates;
use crate::translate::gateway::grants;
use crate::translate::gateway::route::RouteKind;

/// A condition that does not hold: its reason, and a message saying why.
pub type Failure = (&'static str, String);

/// One listener, checked.
#[derive(Clone, Debug)]
pub struct Check {
    pub kinds: Vec<GatewayStatusListenersSupportedKinds>,
    /// `Accepted`: the protocol is one kingress serves.
    pub accepted: Result<(), Failure>,
    /// `ResolvedRefs`: route kinds, then certificate references.
    pub resolved: Result<(), Failure>,
    /// `Conflicted`: the reason, when it conflicts.
    pub conflict: Option<&'static str>,
}

impl Check {
    /// Every condition holds: KIC's listener `Programmed=True` (GU 393-417, 461-509).
    pub fn valid(&self) -> bool {
        self.accepted.is_ok() && self.resolved.is_ok() && self.conflict.is_none()
    }

    /// The check as status reports it where the Gateway API spec is stricter than KIC's
    /// controller, whose rules translation keeps (Kong gets the listener certificates KIC gives
    /// it): a listener supports only the kinds its protocol and TLS mode carry (KIC lists every
    /// kind it serves; conformance test TLSRouteListenerPassthroughSupportedKinds), and a TLS
    /// listener that terminates TLS, which takes no route (TLSRoutes attach in Passthrough mode,
    /// KIC's route_utils.go lines 409-418), is not accepted (`UnsupportedValue`; conformance
    /// test TLSRouteListenerTerminateNotSupported).
    pub fn for_status(mut self, l: &GatewayListeners) -> Check {
        let asked = l
            .allowed_routes
            .as_ref()
            .and_then(|a| a.kinds.as_ref())
            .is_some_and(|k| !k.is_empty());
        let (carried, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.kinds)
            .into_iter()
            .partition(|k| RouteKind::by_name(&k.kind).is_some_and(|kind| kind.carried_by(l)));
        self.kinds = carried;
        if asked && !dropped.is_empty() && self.resolved.is_ok() {
            let names: Vec<&str> = dropped.iter().map(|k| k.kind.as_str()).collect();
            self.resolved = Err((
                "InvalidRouteKinds",
                format!(
                    "a {} listener does not carry {}",
                    l.protocol,
                    names.join(", ")
                ),
            ));
        }
        let mode = l.tls.as_ref().and_then(|t| t.mode.as_ref());
        let terminates = mode.is_some_and(|m| format!("{m:?}") == "Terminate");
        if l.protocol == "TLS" && terminates && self.accepted.is_ok() {
            self.accepted = Err((
                "UnsupportedValue",
                "kingress routes TLS listeners in Passthrough mode only (TLSRoutes); tls.mode Terminate is not supported".to_string(),
            ));
        }
        self
    }
}

/// Protocols kingress routes: HTTP and HTTPS (HTTPRoutes, GRPCRoutes), TCP, UDP and TLS
/// (TCPRoutes, UDPRoutes, TLSRoutes).
pub fn served(l: &GatewayListeners) -> bool {
    matches!(
        l.protocol.as_str(),
        "HTTP" | "HTTPS" | "TCP" | "UDP" | "TLS"
    )
}

/// Each listener of `gateway`, in spec order.
pub fn check(snapshot: &Snapshot, gateway: &Gateway) -> Vec<Check> {
    let all = &gateway.spec.listeners;
    conflicts(all)
        .into_iter()
        .zip(all)
        .map(|(conflict, l)| {
            let (kinds, kinds_ok) = supported_kinds(l);
            let accepted = match served(l) {
                true => Ok(()),
                false => Err((
                    "UnsupportedProtocol",
                    format!(
                        "kingress serves HTTP, HTTPS, TCP, UDP and TLS listeners; {} is not supported",
                        l.protocol
                    ),
                )),
            };
            Check {
                resolved: resolved_refs(snapshot, gateway, l, kinds_ok),
                kinds,
                accepted,
                conflict,
            }
        })
        .collect()
}

/// The route kinds a listener takes, and whether every kind it asks for is supported
/// (GU 609-646): without `allowedRoutes.kinds`, HTTPRoute and GRPCRoute for HTTP and HTTPS
/// (kingress serves no L4 kind yet) and none otherwise; with them, those kingress serves.
fn supported_kinds(l: &GatewayListeners) -> (Vec<GatewayStatusListenersSupportedKinds>, bool) {
    let entry = |kind: RouteKind| GatewayStatusListenersSupportedKinds {
        group: Some(GATEWAY_GROUP.to_string()),
        kind: kind.name().to_string(),
    };
    let asked = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.kinds.as_deref())
        .unwrap_or_default();
    if asked.is_empty() {
        let defaults = RouteKind::defaults_for(&l.protocol);
        return (defaults.iter().map(|k| entry(*k)).collect(), true);
    }
    let mut kinds = Vec::new();
    let mut ok = true;
    for k in asked {
        // The CRD defaults the group to gateway.networking.k8s.io.
        let served = (k.group.as_deref().unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP)
            .then(|| RouteKind::by_name(&k.kind))
            .flatten();
        match served {
            Some(kind) => kinds.push(entry(kind)),
            None => ok = false,
        }
    }
    (kinds, ok)
}

/// The Secret a listener's `tls.certificateRefs[k]` names, once it resolves: permitted (same
/// namespace, or a ReferenceGrant), a core Secret, present. The Err is the condition reason
/// and message.
pub fn certificate_secret<'s>(
    snapshot: &'s Snapshot,
    gateway: &Gateway,
    l: &GatewayListeners,
    k: usize,
) -> Result<&'s Secret, Failure> {
    let gw_ns = gateway.namespace().unwrap_or_default();
    let field = format!("tls.certificateRefs[{k}]");
    let Some(r) = l
        .tls
        .as_ref()
        .and_then(|t| t.certificate_refs.as_ref())
        .and_then(|refs| refs.get(k))
    else {
        return Err((
            "InvalidCertificateRef",
            format!("{field}: no such reference"),
        ));
    };
    let ns = r.namespace.as_deref().unwrap_or(&gw_ns);
    let from = grants::From {
        group: GATEWAY_GROUP,
        kind: "Gateway",
        namespace: &gw_ns,
    };
    let to = grants::To {
        group: "",
        kind: "Secret",
        namespace: ns,
        name: &r.name,
    };
    if ns != gw_ns && !grants::granted(snapshot, from, to) {
        return Err((
            "RefNotPermitted",
            format!(
                "{field}: Secret {ns}/{} is in another namespace and no ReferenceGrant there permits it",
                r.name
            ),
        ));
    }
    let group = r.group.as_deref().unwrap_or_default();
    let kind = r.kind.as_deref().unwrap_or("Secret");
    if !matches!(group, "" | "core") || kind != "Secret" {
        return Err((
            "InvalidCertificateRef",
            format!("{field}: {kind} (group {group:?}) is not a Secret"),
        ));
    }
    snapshot.secret(ns, &r.name).ok_or_else(|| {
        (
            "InvalidCertificateRef",
            format!("{field}: Secret {ns}/{} not found", r.name),
        )
    })
}

/// `ResolvedRefs`: the route kinds, then the TLS certificateRefs in order (GU 251-293): a
/// Secret of another namespace without a ReferenceGrant, a reference that is not a core Secret
/// or a Secret that does not exist, then one whose `tls.crt` and `tls.key` are not a key pair.
/// KIC checks only that both are PEM (`isTLSSecretValid`, GU 648-664) and then drops the
/// listener's certificate from Kong's config when Go's key-pair check fails, or when there is
/// more than one reference (`translate_certs.go` lines 101-108, 162-165), leaving the listener
/// `Programmed`; kingress says so on the listener instead.
fn resolved_refs(
    snapshot: &Snapshot,
    gateway: &Gateway,
    l: &GatewayListeners,
    kinds_ok: bool,
) -> Result<(), Failure> {
    if !kinds_ok {
        return Err((
            "InvalidRouteKinds",
            "allowedRoutes.kinds: kingress serves HTTPRoute, GRPCRoute, TCPRoute, UDPRoute and TLSRoute (group gateway.networking.k8s.io)".to_string(),
        ));
    }
    let refs = l
        .tls
        .as_ref()
        .and_then(|t| t.certificate_refs.as_deref())
        .unwrap_or_default();
    for k in 0..refs.len() {
        let secret = certificate_secret(snapshot, gateway, l, k)?;
        if let Err(why) = certificates::key_pair_of(secret) {
            return Err((
                "InvalidCertificateRef",
                format!(
                    "tls.certificateRefs[{k}]: Secret {}/{}: {why}",
                    secret.namespace().unwrap_or_default(),
                    secret.name_any()
                ),
            ));
        }
    }
    if refs.len() > 1 {
        return Err((
            "InvalidCertificateRef",
            "tls.certificateRefs: kingress (as KIC) serves one certificate per listener"
                .to_string(),
        ));
    }
    Ok(())
}

/// Per listener, KIC's conflict (GU 318-360, 461-518): listeners on a port whose protocols
/// cannot share it are all `ProtocolConflict` (HTTP shares with HTTP, HTTPS with TLS, TCP and
/// UDP with nothing); otherwise listeners with the same port and hostname are all
/// `HostnameConflict`.
fn conflicts(listeners: &[GatewayListeners]) -> Vec<Option<&'static str>> {
    // KIC's canSharePort(requested, existing) (GU 200-228): TCP and UDP never share a port.
    let share = |requested: &str, existing: &str| {
        matches!(
            (requested, existing),
            ("HTTP", "HTTP") | ("HTTPS" | "TLS", "HTTPS" | "TLS")
        )
    };
    listeners
        .iter()
        .map(|l| {
            let same_port = || listeners.iter().filter(|o| o.port == l.port);
            // The first listener on a port sets its protocol; a later one that cannot share it
            // marks the whole port.
            let first = same_port()
                .next()
                .map(|o| o.protocol.as_str())
                .unwrap_or_default();
            if same_port().skip(1).any(|o| !share(&o.protocol, first)) {
                return Some("ProtocolConflict");
            }
            let host = l.hostname.as_deref().unwrap_or_default();
            let twins = same_port()
                .filter(|o| o.hostname.as_deref().unwrap_or_default() == host)
                .count();
            (twins > 1).then_some("HostnameConflict")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listeners(specs: &[(&str, i32)]) -> Vec<GatewayListeners> {
        specs
            .iter()
            .enumerate()
            .map(|(i, (protocol, port))| GatewayListeners {
                name: format!("l{i}"),
                port: *port,
                protocol: protocol.to_string(),
                ..Default::default()
            })
            .collect()
    }

    /// KIC v3.5.13 canSharePort (gateway_utils.go lines 200-228): a lone listener of any
    /// protocol is free; TCP and UDP share a port with nothing; HTTPS shares with TLS.
    #[test]
    fn protocol_conflicts_follow_kics_port_sharing() {
        type Case<'a> = (&'a [(&'a str, i32)], &'a [Option<&'a str>]);
        let cases: &[Case<'_>] = &[
            (&[("TCP", 1), ("UDP", 2)], &[None, None]),
            (&[("TCP", 1), ("TCP", 1)], &[Some("ProtocolConflict"); 2]),
            (&[("UDP", 1), ("TCP", 1)], &[Some("ProtocolConflict"); 2]),
            (&[("HTTP", 1), ("TCP", 1)], &[Some("ProtocolConflict"); 2]),
            (&[("HTTPS", 1), ("TLS", 1)], &[Some("HostnameConflict"); 2]),
            (&[("HTTP", 1), ("HTTP", 2)], &[None, None]),
        ];
        for (specs, want) in cases {
            assert_eq!(conflicts(&listeners(specs)), *want, "{specs:?}");
        }
    }
}
