//! Kubernetes Service + port → the endpoints Kong should balance over.
//!
//! KIC rules: the Service port is chosen by number, by name, or implicitly when the
//! Service has exactly one port; a slice port must carry the same name as the Service
//! port (and the same protocol); the target is `addresses[0]:<slice port>`, IPv6
//! bracketed, de-duplicated across slices. Ready (or unset) endpoints serve; terminating
//! ones are kept at weight 0 so Kong drains them (KIC's `--enable-drain-support`, on in
//! kingress; off, as KIC's default, they are left out unless ready, then serve:
//! KIC v3.5.13 `translate_upstreams.go` 341-360); other not-ready endpoints are left out.
//! `ingress.kubernetes.io/service-upstream: "true"` and ExternalName Services give one
//! DNS target instead.

use k8s_openapi::api::core::v1::ServicePort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::Service;
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::fallback::Excluded;

pub const SERVICE_UPSTREAM_ANNOTATION: &str = "ingress.kubernetes.io/service-upstream";

/// How a backend names the Service port it wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(i32),
    Name(String),
    /// No port given: valid only for a single-port Service.
    Implicit,
}

impl PortRef {
    /// The `<port>` part of KIC's names.
    pub fn label(&self) -> String {
        match self {
            PortRef::Number(n) => n.to_string(),
            PortRef::Name(n) => n.clone(),
            PortRef::Implicit => "implicitPort".to_string(),
        }
    }
}

/// Why no port of a Service matches a backend's port.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PortError {
    #[error("no port given and the Service has {0} ports; name one")]
    Ambiguous(usize),
    #[error("Service has no port {wanted}; it has [{have}]")]
    NotFound { wanted: String, have: String },
    /// KIC's message.
    #[error("rules with an ExternalName service must specify numeric ports")]
    ExternalNameNeedsNumber,
}

/// KIC's `findPort` for an ExternalName Service (v3.5.13 `translate_upstreams.go` 152-198): it
/// declares no ports of its own, so a port number is taken as given (the Service's `ports`
/// are not consulted); a name or no port is an error. None for other Services.
pub fn external_name_port(
    service: &Service,
    port: &PortRef,
) -> Option<Result<ServicePort, PortError>> {
    let spec = service.spec.as_ref()?;
    if spec.type_.as_deref() != Some("ExternalName") {
        return None;
    }
    Some(match port {
        PortRef::Number(n) => Ok(ServicePort {
            port: *n,
            target_port: Some(IntOrString::Int(*n)),
            ..ServicePort::default()
        }),
        PortRef::Name(_) | PortRef::Implicit => Err(PortError::ExternalNameNeedsNumber),
    })
}

/// KIC's `findPort` for any Service: [`external_name_port`] for an ExternalName Service (the
/// port made is kept in `made`), else [`resolve_port`].
pub fn find_port<'a>(
    service: &'a Service,
    port: &PortRef,
    made: &'a mut Option<ServicePort>,
) -> Result<&'a ServicePort, PortError> {
    match external_name_port(service, port) {
        Some(Ok(p)) => Ok(made.insert(p)),
        Some(Err(e)) => Err(e),
        None => resolve_port(service, port),
    }
}

/// Finds the Service port a backend refers to, or says why none matches.
pub fn resolve_port<'a>(
    service: &'a Service,
    port: &PortRef,
) -> Result<&'a ServicePort, PortError> {
    let ports: &[ServicePort] = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[]);
    let found = match port {
        PortRef::Number(n) => ports.iter().find(|p| p.port == *n),
        PortRef::Name(name) => ports.iter().find(|p| {
            p.name.as_deref() == Some(name.as_str())
                || matches!(&p.target_port, Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(t)) if t == name)
        }),
        PortRef::Implicit if ports.len() == 1 => ports.first(),
        PortRef::Implicit => {
            return Err(PortError::Ambiguous(ports.len()));
        }
    };
    found.ok_or_else(|| {
        let have: Vec<String> = ports
            .iter()
            .map(|p| match &p.name {
                Some(n) if !n.is_empty() => format!("{}({n})", p.port),
                _ => p.port.to_string(),
            })
            .collect();
        PortError::NotFound {
            wanted: port.label(),
            have: have.join(", "),
        }
    })
}

/// A Service port outside what Kubernetes allows (1-65535), which offline nothing else
/// refuses: `Err((field of the port in the Service, message))`.
pub fn check_port(service: &Service, port: &ServicePort) -> Result<(), (String, String)> {
    if (1..=65535).contains(&port.port) {
        return Ok(());
    }
    let index = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .and_then(|ports| ports.iter().position(|p| std::ptr::eq(p, port)))
        .unwrap_or_default();
    Err((
        format!("spec.ports[{index}].port"),
        format!("{} is outside 1-65535", port.port),
    ))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Kong target string, `ip:port` or `[ipv6]:port` or `host:port`.
    pub target: String,
    /// Terminating: kept with weight 0 so in-flight traffic drains.
    pub draining: bool,
}

fn is_true(v: Option<bool>) -> bool {
    v == Some(true)
}

/// `address:port`, IPv6 bracketed; `port` is the port's decimal text.
fn format_target(address: &str, port: &str) -> String {
    let v6 = address.contains(':');
    let mut s = String::with_capacity(address.len() + port.len() + 3);
    if v6 {
        s.push('[');
    }
    s.push_str(address);
    if v6 {
        s.push(']');
    }
    s.push(':');
    s.push_str(port);
    s
}

/// The endpoints of `service`'s `port`, sorted by target, serving before draining.
/// Cluster-wide settings that change targets.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    /// `--enable-drain-support`.
    pub drain: bool,
    /// `--cluster-domain`: appended to service-upstream targets when not empty.
    pub cluster_domain: &'a str,
    /// Our IngressClassParameters' `serviceUpstream`: every Service as with
    /// [`SERVICE_UPSTREAM_ANNOTATION`] (KIC v3.5.13 `translate_upstreams.go` 218-225, 285).
    pub service_upstream: bool,
}

pub fn endpoints(
    snapshot: &Snapshot,
    excluded: &Excluded,
    settings: Settings<'_>,
    service: &Service,
    port: &ServicePort,
) -> Vec<Endpoint> {
    let drain = settings.drain;
    let namespace = service.metadata.namespace.as_deref().unwrap_or_default();
    let name = service.metadata.name.as_deref().unwrap_or_default();
    let service_upstream = service
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SERVICE_UPSTREAM_ANNOTATION))
        .is_some_and(|v| v == "true");
    // Before ExternalName, as KIC checks it first (`translate_upstreams.go` 284-296); the
    // cluster domain is appended only when set (lines 287-290).
    if service_upstream || settings.service_upstream {
        let domain = match settings.cluster_domain {
            "" => String::new(),
            d => format!(".{d}"),
        };
        return vec![Endpoint {
            target: format!("{name}.{namespace}.svc{domain}:{}", port.port),
            draining: false,
        }];
    }
    let spec = service.spec.as_ref();
    if spec.and_then(|s| s.type_.as_deref()) == Some("ExternalName") {
        let host = spec
            .and_then(|s| s.external_name.as_deref())
            .unwrap_or_default();
        // KIC's target port is the backend's number (its findPort makes the port of an
        // ExternalName Service from it: [`external_name_port`]).
        return vec![Endpoint {
            target: format!("{host}:{}", port.port),
            draining: false,
        }];
    }
    let want_name = port.name.as_deref().unwrap_or_default();
    let want_protocol = port.protocol.as_deref().unwrap_or("TCP");
    // (target, draining), then sorted by target with one entry per target: a serving copy
    // of a target wins over a draining one.
    let mut found: Vec<(String, bool)> = Vec::new();
    for (slice_name, slice) in snapshot.named_slices_for_service(namespace, name) {
        if slice.fqdn || excluded.contains(Kind::EndpointSlice, namespace, slice_name) {
            continue;
        }
        let Some(slice_port) = slice.ports.iter().find(|p| {
            p.name.as_deref().unwrap_or_default() == want_name
                && p.protocol.as_deref().unwrap_or("TCP") == want_protocol
        }) else {
            continue;
        };
        let Some(number) = slice_port.port else {
            continue;
        };
        let number = number.to_string();
        found.reserve(slice.endpoints.len());
        for ep in &slice.endpoints {
            let terminating = is_true(ep.terminating) && drain;
            let ready = ep.ready.unwrap_or(true);
            if !terminating && !ready {
                continue;
            }
            found.push((format_target(&ep.address, &number), terminating));
        }
    }
    // Stable: equal targets keep slice order; merging with AND makes that order moot.
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        kept.1 = kept.1 && later.1;
        true
    });
    found
        .into_iter()
        .map(|(target, draining)| Endpoint { target, draining })
        .collect()
}
